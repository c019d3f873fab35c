"""The SQNAP backend itself: registration, flavours, determinism, safety, errors, resources."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
hls4ml = pytest.importorskip("hls4ml")

import keras_wc.hls as kh  # noqa: E402

from _small_hls_model import INPUT_FORMAT, on_grid_inputs, small_model  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture(scope="module")
def x():
    return on_grid_inputs()


def tree(root: Path):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_entry_point_declares_plugin():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points().select(group="hls4ml.backends")}
    assert names.get("SQNAP") == "keras_wc.hls.plugin:register"


def test_backend_registered_and_idempotent():
    from keras_wc.hls.plugin import register

    register()
    register()  # a second registration must not raise
    kh.ensure_registered()
    assert "sqnap" in hls4ml.backends.get_available_backends()
    backend = hls4ml.backends.get_backend("SQNAP")
    assert backend.get_default_flow() == "sqnap:ip"
    assert "sqnap:types" in hls4ml.model.flow.get_flow("sqnap:ip").requires


@pytest.mark.parametrize("flavor", ["Vitis", "Vivado"])
def test_flavour_tcl_files(tmp_path, model, flavor):
    kh.convert(model, tmp_path / "prj", flavor=flavor, input_format=INPUT_FORMAT)
    prj = tmp_path / "prj"
    templates = Path(hls4ml.__file__).parent / "templates"
    for name in ("build_prj.tcl", "project.tcl", "vivado_synth.tcl"):
        assert (prj / name).is_file()
    project_tcl = (prj / "project.tcl").read_text()
    if flavor == "Vitis":
        assert (prj / "build_prj.tcl").read_text() == (templates / "vitis" / "build_prj.tcl").read_text()
        assert (prj / "build_opt.tcl").is_file()
        assert 'set backend "vitis"' in project_tcl
    else:
        assert (prj / "build_prj.tcl").read_text() == (templates / "vivado" / "build_prj.tcl").read_text()
        assert not (prj / "build_opt.tcl").exists()
        assert 'set backend "vivado"' in project_tcl
    assert (prj / "vivado_synth.tcl").read_text() == (templates / "vivado" / "vivado_synth.tcl").read_text()
    headers = {p.name for p in (prj / "firmware" / "nnet_utils").glob("sqnap_*.h")}
    assert {"sqnap_common.h", "sqnap_swc.h", "sqnap_ternary.h"} <= headers


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_deterministic_byte_identical(tmp_path, model, x, io_type):
    for name in ("a", "b"):
        kh.convert(model, tmp_path / name, input_format=INPUT_FORMAT, x_test=x, io_type=io_type)
    a, b = tmp_path / "a", tmp_path / "b"
    assert tree(a) == tree(b)
    for rel in tree(a):
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    for rel in tree(a):
        text = (a / rel).read_bytes()
        assert str(tmp_path).encode() not in text, f"{rel} holds the absolute output path"


def test_weights_are_integer_codes(tmp_path, model):
    kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT)
    weights = tmp_path / "prj" / "firmware" / "weights"
    sqnap = sorted(weights.glob("sq_*.txt")) + sorted(weights.glob("b*.txt"))
    assert sqnap
    for path in sqnap:
        if path.name.startswith(("sq_", "b2", "b4")):
            for token in path.read_text().replace(",", " ").split():
                assert float(token) == int(float(token)) and "." not in token, (path.name, token)


def test_no_default_precision(tmp_path, model):
    kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT)
    defines = (tmp_path / "prj" / "firmware" / "defines.h").read_text()
    assert "ap_fixed<16,6>" not in defines
    assert "typedef ap_ufixed<8,0,AP_RND_CONV,AP_SAT" in defines  # the declared input format


def test_overwrite_refused_and_allowed(tmp_path, model):
    target = tmp_path / "prj"
    target.mkdir()
    keep = target / "user_notes.txt"
    keep.write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite"):
        kh.convert(model, target, input_format=INPUT_FORMAT)
    with pytest.raises(FileExistsError, match="no .keras_wc marker"):  # overwrite never deletes a user's file
        kh.convert(model, target, input_format=INPUT_FORMAT, overwrite=True)
    assert keep.read_text() == "mine" and len(list(target.iterdir())) == 1
    keep.unlink()
    kh.convert(model, target, input_format=INPUT_FORMAT)
    kh.convert(model, target, input_format=INPUT_FORMAT, overwrite=True)  # a folder keras_wc wrote
    assert (target / "hls4ml_config.yml").exists() and (target / ".keras_wc").exists()


def test_direct_hls4ml_entry(tmp_path, model, x):
    from keras_wc.emulate.run import emulate
    from keras_wc.hls.convert import quantized_inputs

    hls_model = hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), backend="SQNAP",
                                                           input_format=INPUT_FORMAT, flavor="Vivado")
    hls_model.compile()
    xq = quantized_inputs(model, x, INPUT_FORMAT).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(hls_model.predict(xq.astype(np.float64)), np.float64).reshape(len(x), -1),
                                  emulate(model, xq, input_format=INPUT_FORMAT))


def test_unsupported_io_type_names_layer(tmp_path, model):
    """io_parallel and io_stream are implemented; anything else is refused naming the SQNAP layer."""
    with pytest.raises(Exception, match=r"fc1.*SQNAPDense.*io_parallel and io_stream only.*io_serial"):
        hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), backend="SQNAP",
                                                   input_format=INPUT_FORMAT, io_type="io_serial")


def test_unmappable_layer_named(tmp_path):
    class Weird(tf.keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    inp = tf.keras.Input((4,), name="x")
    out = Weird(name="weird_one")(inp)
    with pytest.raises(ValueError, match="weird_one.*Weird"):
        kh.convert(tf.keras.Model(inp, out), tmp_path / "prj", input_format=INPUT_FORMAT)


def test_bad_flavor_and_non_model(tmp_path, model):
    with pytest.raises(ValueError, match="flavor"):
        kh.convert(model, tmp_path / "prj", flavor="Quartus")
    with pytest.raises(TypeError, match="tf.keras.Model"):
        kh.convert(object(), tmp_path / "prj2")


def test_compiler_error_surfaces_first_lines(tmp_path, model, x):
    from keras_wc.hls.backend import CompileError

    kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT, x_test=x)
    cpp = tmp_path / "prj" / "firmware" / "myproject.cpp"
    cpp.write_text(cpp.read_text() + "\nthis is not C++;\n")
    with pytest.raises(CompileError) as info:
        kh.csim(tmp_path / "prj")
    assert "error" in str(info.value) and str(tmp_path / "prj") in str(info.value)


def test_missing_gpp(tmp_path, model, x, monkeypatch):
    from keras_wc.hls.backend import CompileError

    kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT, x_test=x)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CompileError, match="g\\+\\+"):
        kh.csim(tmp_path / "prj")


def test_resources_fewer_multipliers(tmp_path, model):
    report = kh.resources(model, input_format=INPUT_FORMAT)
    by_name = {row.name: row for row in report.layers}
    # stock Latency: one product per weight, zero and power-of-two weights folded
    weights = model.get_layer("fc1").kernel_quantizer_internal(model.get_layer("fc1").kernel).numpy()
    folded = (weights == 0) | (np.frexp(np.abs(weights))[0] == 0.5)
    assert 0 < np.count_nonzero(folded) < weights.size
    assert by_name["fc1"].stock_multipliers == weights.size - np.count_nonzero(folded)
    assert kh.resources(model, input_format=INPUT_FORMAT, strategy="Resource", reuse_factor=4).layers[0] \
        .stock_multipliers == 12 * 6 // 4  # stock Resource: every weight, shared by the reuse factor
    # SWC group 5 over a fan-in of 12: 3 groups per output -> 3 MAW products + the reciprocal of D per output
    assert by_name["fc1"].sqnap_multipliers == 6 * (3 + 1)
    assert by_name["logits"].sqnap_multipliers <= 3 * 2  # delta (and mean) per output only
    assert report.totals["sqnap_multipliers"] < report.totals["stock_multipliers"]
    assert report.totals["sqnap_weight_bits"] < report.totals["stock_weight_bits"]
    kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT)
    assert kh.resources(tmp_path / "prj").to_dict() == report.to_dict()
    assert "| fc1 | swc |" in report.to_markdown()


def test_demo_pipeline(tmp_path, model, x):
    summary = kh.demo_pipeline(model, x, tmp_path / "demo", input_format=INPUT_FORMAT)
    assert summary.total == len(x) and summary.bit_exact == summary.total
    assert summary.line().startswith(f"C simulation: {len(x)}/{len(x)} outputs bit-exact with the emulator")
    assert (tmp_path / "demo" / "build_opt.tcl").exists()  # a Vitis project


def test_cli_convert_and_csim(tmp_path, model, x, capsys):
    from keras_wc.cli import hls_commands
    import argparse

    parser = argparse.ArgumentParser()
    hls_commands.register(parser.add_subparsers(dest="command"))
    model.save(tmp_path / "model.h5")
    np.save(tmp_path / "x.npy", x)
    args = parser.parse_args(["convert", str(tmp_path / "model.h5"), str(tmp_path / "prj"), "--input-format",
                              INPUT_FORMAT, "--x-test", str(tmp_path / "x.npy"), "--flavor", "Vivado"])
    assert args.func(args) == 0
    args = parser.parse_args(["csim", str(tmp_path / "prj")])
    assert args.func(args) == 0
    assert f"{len(x)}/{len(x)} outputs bit-exact" in capsys.readouterr().out
