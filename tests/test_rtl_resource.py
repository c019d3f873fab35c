"""keras_wc.rtl's Resource architecture: Dense weights in a ROM, a few inputs per clock.

The plan (what the ROM stores, when each scaled sum closes) is checked against the method's own
arithmetic for every method without any tool; the Verilog is checked bit-exact under Verilator and
measured by yosys (the tests that need a tool skip without it, naming its install command).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from _rtl_models import METHODS, conv_model, mixed_model
from _rtl_models import single_layer as dense_layer

import keras_wc.rtl
from keras_wc.datapath import describe_model
from keras_wc.emulate import emulate
from keras_wc.methods import method_of
from keras_wc.methods.base import wide
from keras_wc.rtl.resource_plan import ResourcePlan, clocks_per_sample, plan_resource
from keras_wc.rtl.simulate import INSTALL_HINT as VERILATOR_HINT
from keras_wc.rtl.synthesis import INSTALL_HINT as YOSYS_HINT
from keras_wc.rtl.synthesis import synthesize_module

needs_verilator = pytest.mark.skipif(not (shutil.which("verilator-cli") or shutil.which("verilator")),
                                     reason=f"Verilator is missing: {VERILATOR_HINT}")
needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason=f"yosys is missing: {YOSYS_HINT}")


def run_plan(plan: ResourcePlan, x: np.ndarray) -> np.ndarray:
    """``A`` per output by walking the plan clock by clock, as the module does (Python ints)."""
    n_out = plan.codes.shape[1]
    padded = np.zeros(plan.clocks * plan.lanes, dtype=object)
    padded[:len(x)] = wide(x)
    lanes = padded.reshape(plan.clocks, plan.lanes)
    acc = np.zeros(n_out, dtype=object)
    raw = np.zeros((n_out, plan.slots), dtype=object)
    closed = 0
    for c in range(plan.clocks):
        part = (plan.codebook[plan.codes[c]] * lanes[c][None, :, None]).sum(axis=1)   # (n_out, E)
        if plan.scales is None:
            acc += part[:, 0]
            continue
        total = raw + part
        for s in range(plan.slots):
            if plan.closes[c, s]:
                acc += plan.scales[closed, :, s] * total[:, s]
                total[:, s] = 0
        raw = total
        closed += int(plan.closes[c].any())
    assert not raw.any()  # every running sum was closed
    return acc


def dense_specs(model, input_format=None):
    return [s for s in describe_model(model, input_format) if s.kind == "compressed"]


@pytest.mark.parametrize("reuse_factor", [None, 4, 3, 1])
@pytest.mark.parametrize("key", sorted(METHODS))
def test_the_plan_computes_the_method_kernel_exactly(key, reuse_factor):
    """Every method, one input per clock, groups of lanes aligned with its groups (4), straddling them (3)
    and all at once (1): the plan's schedule gives the method's ``A`` for every output."""
    spec = dense_specs(dense_layer(METHODS[key](), 24, 6))[0]
    plan = plan_resource(spec, 24, reuse_factor)
    assert (plan.lanes, plan.clocks) == clocks_per_sample(24, reuse_factor)
    assert np.array_equal(plan.codebook[plan.codes], plan.entries)  # the stored indices decode to the entries
    sums = method_of(spec.encoding).scaled_sums(spec.encoding)
    index = np.asarray(spec.patch_index)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.integers(0, 256, 24)
        grouped = np.where(index >= 0, x[np.maximum(index, 0)], 0)
        assert np.array_equal(run_plan(plan, x), sums.evaluate(grouped[None])[0]), key


def test_what_the_rom_stores_follows_the_method():
    """One input per clock: SWC stores its 4-bit codes (15 values and 0) with one running sum per output
    closed once per group of 8; SparseTernary 2-bit entries of {-1, 0, 1}; the 8-bit baseline its
    integers themselves (256 values: multiplied, not selected)."""
    plans = {key: plan_resource(dense_specs(dense_layer(METHODS[key](), 32, 5))[0], 32)
             for key in ("swc", "ternary", "baseline8", "dfp4")}
    swc = plans["swc"]
    assert swc.indexed and swc.field_bits == [4] and swc.slots == 1 and swc.terms == 4
    assert np.array_equal(np.nonzero(swc.closes[:, 0])[0], [7, 15, 23, 31]) and swc.scales.shape[:2] == (4, 5)
    ternary = plans["ternary"]
    assert ternary.indexed and set(ternary.codebook[:, 0]) <= {-1, 0, 1} and ternary.field_bits == [2]
    assert ternary.closes[:, 0].tolist() == [False] * 31 + [True]  # one delta per output, at the end
    base = plans["baseline8"]
    assert not base.indexed and base.scales is None and base.field_bits == [8]
    assert base.rom_bits == 32 * 5 * 8  # the 8-bit weights, nothing else
    assert plans["dfp4"].indexed and plans["dfp4"].field_bits[0] <= 4
    assert swc.rom_bits < ternary.rom_bits * 4 < base.rom_bits * 4


def test_reuse_factors_outside_the_fan_in_are_refused():
    with pytest.raises(ValueError, match=r"reuse_factor=0: a Resource layer of 24 inputs takes 1\.\.24 clocks"):
        clocks_per_sample(24, 0)
    assert clocks_per_sample(400, 50) == (8, 50) and clocks_per_sample(10, 3) == (4, 3)


@needs_verilator
@pytest.mark.slow
@pytest.mark.parametrize("reuse_factor", [None, 3, {"swc": 1, "poly": 4, "ternary": 10, "po2": 2, "qkeras": 8,
                                                    "dfp": 5}])
def test_every_method_in_the_resource_architecture_is_bit_exact(tmp_path, reuse_factor):
    """The mixed MLP (every method, folded and standalone BatchNormalization, normalized ternary) with every
    Dense layer looping over its inputs: Verilator equals the emulator."""
    model = mixed_model()
    x = np.random.default_rng(2).uniform(0, 1, (40, 4, 4)).astype(np.float32)
    design = keras_wc.rtl.convert(model, tmp_path / "design", strategy="Resource", reuse_factor=reuse_factor)
    looping = [m for m in design.modules if m.looping]
    assert [m.layer for m in looping] == ["swc", "poly", "ternary", "po2", "qkeras", "dfp"]
    assert all(m.rom_bits > 0 and m.clocks > len(m.outputs.elements) for m in looping)
    described = json.loads((tmp_path / "design" / "design.json").read_text())["layers"]
    assert {d["layer"]: d["architecture"] for d in described}["swc"] == "Resource"
    outputs, expected = design.simulate(x), emulate(model, x)
    assert np.array_equal(outputs, expected)
    assert len(np.unique(outputs[:, 0])) > 4


@needs_verilator
@pytest.mark.slow
def test_a_resource_dense_layer_after_streamed_convolutions_is_bit_exact(tmp_path):
    model = conv_model()
    x = np.random.default_rng(3).uniform(0, 1, (12, 7, 6, 2)).astype(np.float32)
    design = keras_wc.rtl.convert(model, tmp_path / "design", strategy={"fc": "Resource"}, reuse_factor=7)
    assert [(m.layer, m.architecture) for m in design.modules if m.layer in ("conv1", "fc")] == [
        ("conv1", "Latency"), ("fc", "Resource")]
    assert np.array_equal(design.simulate(x), emulate(model, x))


@pytest.mark.parametrize("strategy, reuse_factor, message", [
    ("Pipelined", None, r"strategy='Pipelined': keras_wc.rtl emits Latency or Resource"),
    ({"conv1": "Resource"}, None, r"strategy\['conv1'\]: keras_wc.rtl chooses the architecture of the model's "
                                  r"Dense layers only \(fc\)"),
    ({"fc": "Fast"}, None, r"strategy\['fc'\]='Fast'"),
    ({"fc": "Latency"}, {"fc": 2}, r"reuse_factor\['fc'\]: only Resource layers take a reuse factor"),
    ("Resource", 1000, r"layer 'fc': reuse_factor=1000: a Resource layer of 12 inputs takes 1\.\.12 clocks"),
])
def test_bad_strategies_are_refused_by_name_before_writing(tmp_path, strategy, reuse_factor, message):
    with pytest.raises(ValueError, match=message):
        keras_wc.rtl.convert(conv_model(), tmp_path / "design", strategy=strategy, reuse_factor=reuse_factor)
    assert not (tmp_path / "design").exists()


def test_resource_designs_are_deterministic(tmp_path):
    model = mixed_model()
    for name in ("a", "b"):
        keras_wc.rtl.convert(model, tmp_path / name, strategy="Resource", reuse_factor=3)
    for path in sorted((tmp_path / "a").rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes(), path


@pytest.fixture(scope="module")
def synthesized_resource(tmp_path_factory):
    """Every method as one ``96 -> 10`` Resource Dense layer module (one input per clock), synthesized."""
    if shutil.which("yosys") is None:
        pytest.skip(f"yosys is missing: {YOSYS_HINT}")
    folder = tmp_path_factory.mktemp("resource")
    results = {}
    for key, factory in METHODS.items():
        design = keras_wc.rtl.convert(dense_layer(factory(), 96, 10), folder / key, strategy="Resource")
        module = design.modules[0]
        results[key] = (module, synthesize_module([design.verilog_files()[0]], module.module))
    return results


@pytest.mark.slow
def test_yosys_figures_of_resource_layers_follow_the_method(synthesized_resource):
    """What each method's loop instantiates: the 8-bit baseline multiplies its stored weights (one DSP per
    output, its accumulator in the DSP); DFP and Po2 select shared shifted inputs (no DSP); SWC po2 one MAW
    multiplier per output; SWC fixed that plus the reciprocal of ``D`` in the one shared epilogue;
    SparseTernary and PolyApprox scale their sums once per output in the drain (one multiplier each).
    Every compressed layer stores fewer ROM bits than the 8-bit one; SparseTernary also costs fewer
    LUT + DSP (the others pay LUTs for the DSPs they save: docs/rtl.md)."""
    figures = {key: result for key, (_, result) in synthesized_resource.items()}
    modules = {key: module for key, (module, _) in synthesized_resource.items()}
    assert figures["baseline8"]["DSP"] == 10
    assert figures["dfp4"]["DSP"] == figures["po2"]["DSP"] == 0
    assert figures["ternary"]["DSP"] == 1 and figures["poly"]["DSP"] <= 2
    assert figures["swc_po2"]["DSP"] == 10 and 10 < figures["swc"]["DSP"] <= 10 + 6
    for key in METHODS:
        if key != "baseline8":
            assert modules[key].rom_bits < modules["baseline8"].rom_bits, key
    assert modules["ternary"].rom_bits * 3 < modules["baseline8"].rom_bits
    cost = {key: result["LUT"] + result["DSP"] for key, result in figures.items()}
    assert cost["ternary"] < cost["baseline8"], cost
    assert all(result["FF"] > 0 for result in figures.values())


@needs_verilator
@pytest.mark.slow
def test_cli_writes_and_simulates_a_resource_design(tmp_path):
    model = dense_layer(METHODS["swc"](), 16, 6)
    model.save(tmp_path / "model.h5")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).uniform(0, 1, (10, 16)).astype(np.float32))
    command = [sys.executable, "-m", "keras_wc.cli", "rtl", str(tmp_path / "model.h5"), str(tmp_path / "design"),
               "--x-test", str(tmp_path / "x.npy"), "--simulate", "--strategy", "Resource", "--reuse-factor", "8"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "10/10 samples bit-exact with the emulator" in done.stdout
    layer = json.loads((tmp_path / "design" / "design.json").read_text())["layers"][0]
    assert (layer["architecture"], layer["clocks_per_sample"]) == ("Resource", 8 + 1 + 6)
    refused = subprocess.run(command[:6] + ["--reuse-factor", "8"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--reuse-factor applies to --strategy Resource" in refused.stderr
