"""The one recipe schema: every shipped recipe loads, errors name the key, overrides merge, rows train."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from keras_wc import datasets
from keras_wc.pipeline import DemoSettings
from keras_wc.projects import (build_model, load_recipe, make_quantizer, merge, packaged_recipe, packaged_recipes,
                               recipe_from_dict, resolve_steps, training_callbacks)

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = {"name": "x", "dataset": "digits", "model": {"architecture": "mlp", "kwargs": {"hidden": [8]}},
           "quantizers": {"default": {"class_name": "DFP", "config": {"bits": 8}}}}


@pytest.fixture
def benchmarks(monkeypatch):
    """The ``benchmarks`` package of the repository root (not installed)."""
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks")


def recipe(**sections):
    """:data:`MINIMAL` with ``sections`` merged in, validated."""
    return recipe_from_dict(merge(MINIMAL, sections))


def test_demo_presets_are_the_packaged_recipes():
    assert packaged_recipes() == ("dfp", "po2", "poly", "swc", "swc-po2", "ternary")
    assert DemoSettings.METHODS == packaged_recipes()
    for name in packaged_recipes():
        loaded = packaged_recipe(name)
        assert loaded.name == name and loaded.dataset == "digits" and loaded.model["architecture"] == "lenet5"
    with pytest.raises(ValueError, match=r"recipe='nope': expected one of \['dfp'"):
        packaged_recipe("nope")


def test_demo_settings_merge_into_the_recipe():
    assert DemoSettings(method="po2").recipe().training["epochs"] == 8
    quick = DemoSettings(method="po2", quick=True, seed=3).recipe()
    assert (quick.training["epochs"], quick.training["seed"], quick.hls["csim_samples"]) == (4, 3, 200)
    assert DemoSettings(quick=True, epochs=2).recipe().training["epochs"] == 2


def test_demo_recipe_builds_the_preset_quantizers():
    swc = build_model(packaged_recipe("swc-po2"))
    conv, dense = swc.get_layer("conv1").kernel_quantizer_internal, swc.get_layer("fc1").kernel_quantizer_internal
    assert (conv.group, conv.sw_format, dense.group, dense.sw_bits) == ("kernel", "po2", 16, 4)
    assert conv is not swc.get_layer("conv2").kernel_quantizer_internal  # one instance per layer
    ternary = build_model(packaged_recipe("ternary"))
    assert type(ternary.get_layer("logits").kernel_quantizer_internal).__name__ == "DFP"
    assert type(ternary.get_layer("fc2").kernel_quantizer_internal).__name__ == "SparseTernary"


def test_every_repository_recipe_loads(benchmarks):
    rows = importlib.import_module("benchmarks.rows")
    bench_training = importlib.import_module("benchmarks.bench_training")
    for path in sorted((ROOT / "fpga_projects").glob("*/recipe.yaml")):
        assert load_recipe(path).name == path.parent.name
    assert [r.name for r in rows.MAIN_ROWS] == list(rows.MAIN)
    assert sorted(p.stem for p in (rows.RECIPES / "rows").glob("*.yaml")) == sorted(rows.MAIN)
    ablation = rows.ablation_rows()
    assert len(ablation) == 12 and {r.benchmark["family"] for r in ablation} == {"ablation"}
    assert ablation[0].path is None and ablation[0].training["qr"] is None
    for name in bench_training.METHODS:
        method = bench_training.method_recipe(name, 2)
        assert method.training["epochs"] == 2 and method.benchmark["max_step_ratio"] in (1.3, 2.0)
    assert bench_training.method_recipe(bench_training.BASELINE, 2).benchmark["family"] == "baseline"


@pytest.mark.parametrize("sections, message", [
    ({"training": {"epochs": "8"}}, r"training.epochs must be int, got '8'"),
    ({"training": {"epochs": True}}, r"training.epochs must be int, got True"),
    ({"training": {"epochs": 0}}, r"training.epochs=0: must be >= 1"),
    ({"training": {"qr": {"strenght": 1.0}}}, r"unknown training.qr key\(s\) \['strenght'\]"),
    ({"training": {"callbacks": [{"class_name": "EarlyStopping"}]}}, r"training.callbacks\[0\]: .* is not one of"),
    ({"training": {"callbacks": [{"class_name": "QRSchedule", "config": {"strength": 0.1,
                                  "end_step": {"of_training": 1.5}}}]}}, r"of_training=1.5: must be in \[0, 1\]"),
    ({"training": {"precision_scaling": {}, "qr": {"strength": 0.001}}}, r"needs training.val_fraction > 0"),
    ({"training": {"tfmot_pruning": {"schedule": {"class_name": "PolynomialDecay"}}, "qr": {"strength": 0.1}}},
     r"tfmot_pruning trains with TF-MOT alone"),
    ({"quantizers": {"layers": {"fc1": {"class_name": "DFP", "bits": 4}}}},
     r"unknown quantizers.layers.fc1 key\(s\) \['bits'\]"),
    ({"training": {"fine_tune": {"epochs": -1}}}, r"training.fine_tune=.*epochs must be >= 0"),
    ({"training": {"fine_tune": {"epochs": 2, "learning_rate_factor": 2.0}}}, r"learning_rate_factor in \(0, 1\]"),
    ({"model": {"architectur": "mlp"}}, r"unknown model key\(s\) \['architectur'\]"),
    ({"benchmark": {"hardware": "yes"}}, r"benchmark.hardware must be bool"),
])
def test_errors_name_the_key(sections, message):
    with pytest.raises(ValueError, match=rf"^recipe x: .*{message}"):
        recipe(**sections)


def test_build_errors_name_the_key():
    with pytest.raises(ValueError, match=r"quantizers.default: unknown quantizer class 'SCW'; known: \[.*'SWC'"):
        build_model(recipe(quantizers={"default": {"class_name": "SCW"}}))
    with pytest.raises(ValueError, match=r"quantizers.layers: no weight layer named \['fc9'\]"):
        build_model(recipe(quantizers={"default": None, "layers": {"fc9": None}}))
    with pytest.raises(ValueError, match=r"quantizers.default: DFP config \{'bitz': 4\}"):
        build_model(recipe(quantizers={"default": {"class_name": "DFP", "config": {"bitz": 4}}}))


def test_qkeras_quantizers_and_strings_resolve():
    assert type(make_quantizer({"class_name": "quantized_bits", "config": {"bits": 4, "integer": 0}})).__name__ \
        == "quantized_bits"
    model = build_model(recipe(quantizers={"default": "quantized_bits(4,0,1)",
                                           "bias": {"class_name": "quantized_bits", "config": {"bits": 8}}}))
    assert model.get_layer("fc1").bias_quantizer_internal.bits == 8


def test_overrides_merge_per_section_and_replace_values():
    base = recipe(training={"qr": {"strength": 0.001, "weighting": "step"}})
    changed = base.with_overrides({"training": {"qr": {"strength": 0.5}}, "hls": {"csim_samples": 3}})
    assert changed.training["qr"] == {"strength": 0.5, "p": 2, "weighting": None}  # values are replaced whole
    assert changed.training["epochs"] == base.training["epochs"] and changed.hls["csim_samples"] == 3
    assert base.training["qr"]["weighting"] == "step"  # the original is untouched
    assert changed.label == "x"


def test_step_fractions_resolve_against_the_training_length():
    assert resolve_steps({"a": [{"of_training": 0.25}], "b": {"of_training": 0.02, "at_least": 1}, "c": 7}, 40) \
        == {"a": [10], "b": 1, "c": 7}
    pruning = {"class_name": "GradualPruning", "config": {"target": 0.2, "schedule": {
        "class_name": "PolynomialDecay", "config": {"initial_sparsity": 0.0, "final_sparsity": 0.5,
                                                    "begin_step": {"of_training": 0.2},
                                                    "end_step": {"of_training": 0.8}}}}}
    callback, = training_callbacks(recipe(training={"callbacks": [pruning]}), 100)
    assert (callback.schedule.begin_step, callback.schedule.end_step) == (20, 80)


def test_fine_tune_epochs_follow_the_schedules_at_a_lower_rate():
    """training.fine_tune: more epochs in the same fit, the learning rate times the factor, the
    callbacks' schedules spanning training.epochs only (the pruning ramp is over before they start)."""
    import numpy as np
    import tensorflow as tf

    from keras_wc.pipeline import fit, total_epochs, training_steps

    pruning = {"class_name": "GradualPruning", "config": {"target": 0.2, "schedule": {
        "class_name": "PolynomialDecay", "config": {"initial_sparsity": 0.0, "final_sparsity": 0.5,
                                                    "begin_step": 0, "end_step": {"of_training": 1.0}}}}}
    r = recipe(training={"epochs": 2, "batch_size": 64, "learning_rate": 0.01, "callbacks": [pruning],
                         "fine_tune": {"epochs": 3, "learning_rate_factor": 0.1}})
    (x, y), _ = datasets.load("digits")
    rates = []
    model = build_model(r)

    class Record(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            rates.append(float(self.model.optimizer.learning_rate.numpy()))

    history, _ = fit(model, r, x, y, extra_callbacks=[Record()])
    assert total_epochs(r) == 5 and len(history.history["loss"]) == 5
    np.testing.assert_allclose(rates, [0.01, 0.01, 0.001, 0.001, 0.001], rtol=1e-6)
    callback, = training_callbacks(r, training_steps(r, len(x)))
    assert callback.schedule.end_step == 2 * -(-len(x) // 64)  # the ramp ends with training.epochs


@pytest.mark.parametrize("name", ["swc_fixed", "tfmot90"])
def test_benchmark_row_trains_one_epoch(benchmarks, name):
    harness = importlib.import_module("benchmarks.harness")
    run = importlib.import_module("benchmarks.run")
    rows = importlib.import_module("benchmarks.rows")
    workload = run.make_workload("lenet5_digits", "digits", "lenet5", (8, 8, 1), epochs=1, batch_size=32)
    result = harness.run_row(rows.row(name), workload, datasets.load("digits"), seed=0)
    fine_tune = rows.row(name).training["fine_tune"]
    assert result["epochs"] == 1 + (fine_tune["epochs"] if fine_tune else 0)
    assert result["row"] == name and 0.0 <= result["accuracy"] <= 1.0
    assert result["totals"]["compression_vs_float32"] > 0


def test_rerunning_some_rows_keeps_the_others_in_table_order(benchmarks, tmp_path):
    run = importlib.import_module("benchmarks.run")

    def result(row, workload, accuracy):
        return {"row": row, "workload": workload, "accuracy": accuracy}

    previous = tmp_path / "full.json"
    previous.write_text(json.dumps({"seconds": 100.0, "results": [
        result("float32", "a", 0.9), result("ternary82", "a", 0.8), result("float32", "b", 0.7),
        result("ternary82", "b", 0.6)]}))
    merged = run.keep_other_rows(previous, {"seconds": 5.0, "suite": "full", "results": [
        result("swc_fixed", "a", 0.5), result("ternary82", "a", 0.4)]})
    assert [(r["workload"], r["row"], r["accuracy"]) for r in merged["results"]] == [
        ("a", "float32", 0.9), ("a", "swc_fixed", 0.5), ("a", "ternary82", 0.4), ("b", "float32", 0.7),
        ("b", "ternary82", 0.6)]
    assert merged["seconds"] == 105.0 and merged["suite"] == "full"
    assert run.keep_other_rows(tmp_path / "absent.json", {"results": []}) == {"results": []}


def test_gate_level_rows_sum_layer_modules_and_compare_each_with_the_baseline(benchmarks):
    rtl = importlib.import_module("benchmarks.rtl_hardware")
    markdown = importlib.import_module("benchmarks.markdown")

    def synthesized(*costs):  # (layer module job, yosys' figures) for fc1 and logits
        return [(rtl.Job(0, name, [], name, 0), {"LUT": lut, "FF": 1, "CARRY": 0, "DSP": dsp, "BRAM": 0,
                                                 "seconds": 2.0})
                for name, (lut, dsp) in zip(("fc1", "logits"), costs)]

    estimate = {"estimate_layers_LUT": {"fc1": 60, "logits": 10}}
    base = rtl.finish({"row": rtl.BASELINE, "accuracy": 0.9, **estimate}, synthesized((100, 0), (40, 0)))
    dfp = rtl.finish({"row": "DFP 4-bit", "accuracy": 0.8, **estimate}, synthesized((30, 2), (20, 0)))
    killed = rtl.finish({"row": "Po2 4-bit", "accuracy": 0.7}, synthesized((1, 1), (10, 0))[1:] + [
        (rtl.Job(0, "fc1", [], "fc1", 0), {"error": "yosys did not finish module fc1 within 5 s (killed)"})])
    assert dfp["totals"] == {"LUT": 50, "FF": 2, "CARRY": 0, "DSP": 2, "BRAM": 0} and dfp["yosys_seconds"] == 4.0
    assert "totals" not in killed and killed["error"] == "yosys: yosys did not finish module fc1 within 5 s (killed)"
    table = "\n".join(markdown._gate_level_workload_table({
        "workload": "w", "epochs": 1, "baseline": rtl.BASELINE, "scope": "layer modules",
        "rows": [base, dfp, killed]}))
    assert "| DFP 4-bit | 80.00 | 50 | 2 | 0 | 2 | 0 | 0.37 |" in table  # (50 + 2) / 140
    assert "| DFP 4-bit | 0.32 | 0.50 | 0.50–2.00 |" in table  # per module: (30 + 2) / 100, 20 / 40; 10/20, 60/30
    assert f"| {rtl.BASELINE} | 100 | 40 | 0.25–0.60 |" in table
    assert "| Po2 4-bit | — | 0.25 | — |" in table  # the module that finished, without an estimate
    assert "- Po2 4-bit: yosys: yosys did not finish" in table
    base_killed = {**base, "layers": {"logits": base["layers"]["logits"]}}
    del base_killed["totals"]
    table = "\n".join(markdown._gate_level_workload_table({
        "workload": "w", "epochs": 1, "baseline": rtl.BASELINE, "scope": "layer modules",
        "rows": [base_killed, dfp]}))
    assert "| DFP 4-bit | *32* | 0.50 |" in table  # fc1 without a baseline: its own LUT + DSP
    resource = "\n".join(markdown._gate_level_workload_table({
        "workload": "w", "epochs": 1, "baseline": rtl.BASELINE, "scope": "layer modules",
        "strategy": {"fc1": "Resource"}, "rows": [base, dfp, killed]}))
    assert "fc1 in the Resource architecture" in resource and "| row | fc1 |" in resource
    assert "| DFP 4-bit | 30 / 2 / 0 |" in resource and "| Po2 4-bit | — |" in resource  # LUT / DSP / BRAM
