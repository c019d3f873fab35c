"""keras_wc.search: a per-layer search on a real Optuna storage, shared by worker processes.

SQLite always; PostgreSQL where ``KERAS_WC_TEST_POSTGRES`` names a server (``.ci/run`` installs and
starts one: ``apt-get install -y postgresql``), so the multi-machine path runs against a real server.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import yaml

from keras_wc import datasets
from keras_wc.model_file import load_model
from keras_wc.projects import build_model, load_recipe, packaged_recipe
from keras_wc.search import Budget, SearchSettings, search
from keras_wc.search.objective import costs, train_on_validation, trial_recipe
from keras_wc.search.space import layers_of, pruning_targets

optuna = pytest.importorskip("optuna", reason="the [search] extra is missing: pip install -e '.[search]'")

POSTGRES = os.environ.get("KERAS_WC_TEST_POSTGRES")
QKERAS4 = {"class_name": "quantized_bits", "config": {"bits": 4, "integer": 0, "alpha": 1}}


def mlp_recipe():
    """The digits MLP 64-32-10 (quantizers chosen by the search)."""
    return packaged_recipe("swc", {"model": {"architecture": "mlp", "kwargs": {"input_shape": [8, 8, 1],
                                                                                "hidden": [32]}},
                                   "quantizers": {"layers": {}}})


def finished(storage: str, name: str):
    return [t for t in optuna.load_study(study_name=name, storage=storage).get_trials() if t.state.is_finished()]


@pytest.mark.slow
def test_the_search_beats_a_plain_4bit_model_within_its_budget(tmp_path):
    recipe = mlp_recipe()
    baseline = trial_recipe(recipe, {"fc1": QKERAS4, "logits": QKERAS4}, {}, val_fraction=0.2, epochs=10)
    model, baseline_accuracy = train_on_validation(baseline, datasets.load("digits")[0])
    budget = Budget(memory_bits=costs(model, baseline)["memory_bits"])
    result = search(SearchSettings(recipe, tmp_path / "out", trials=24, epochs=10, budget=budget))  # serial: repeatable
    best = max(result.points, key=lambda p: p["accuracy"])
    assert best["memory_bits"] <= budget.memory_bits
    assert best["accuracy"] > baseline_accuracy, (best, baseline_accuracy)
    document = json.loads((tmp_path / "out" / "pareto.json").read_text())
    assert document["points"] == result.points and set(best["layers"]) == {"fc1", "logits"}
    assert (tmp_path / "out" / "pareto.png").read_bytes()[:4] == b"\x89PNG"


def shared_study(tmp_path, storage):
    """Two workers on one study, then a second run on the same storage."""
    out = tmp_path / "out"
    settings = SearchSettings(mlp_recipe(), out, trials=4, workers=2, epochs=1, storage=storage,
                              study=f"shared_{os.getpid()}_{tmp_path.name}", budget=Budget(memory_bits=10**6),
                              methods=("dfp", "po2", "qkeras"))
    first = search(settings)
    trials = finished(settings.storage, settings.study)
    assert first.added == 4 and len(trials) == 4
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both processes took trials
    trained = [t for t in trials if "duplicate_of" not in t.user_attrs]
    assert len({json.dumps(t.params, sort_keys=True) for t in trained}) == len(trained)  # nothing trained twice
    second = search(settings)  # resumes: adds trials, keeps the first ones
    again = finished(settings.storage, settings.study)
    assert second.added == 4 and len(again) == 8 and {t.number for t in trials} <= {t.number for t in again}


@pytest.mark.slow
def test_two_workers_share_a_sqlite_study_and_a_rerun_adds_trials(tmp_path):
    shared_study(tmp_path, f"sqlite:///{tmp_path / 'study.db'}")


@pytest.mark.slow
@pytest.mark.skipif(POSTGRES is None, reason="no PostgreSQL server: set KERAS_WC_TEST_POSTGRES to an SQLAlchemy URL "
                    "(.ci/run installs one: apt-get install -y postgresql)")
def test_two_workers_share_a_postgresql_study(tmp_path):
    shared_study(tmp_path, POSTGRES)


def test_a_crashing_trial_is_recorded_and_the_study_goes_on(tmp_path):
    settings = SearchSettings(mlp_recipe(), tmp_path / "out", trials=3, epochs=1, methods=("dfp", "ternary"),
                              trainer="_search_helpers:fail_on_ternary")
    result = search(settings)
    trials = finished(settings.storage, settings.study)
    ternary_only = [all(v == "ternary" for k, v in t.params.items() if k.endswith(".method")) for t in trials]
    assert ternary_only[1]  # the enqueued all-SparseTernary configuration: the second trial
    assert [t.state == optuna.trial.TrialState.FAIL for t in trials] == ternary_only  # recorded failed ...
    assert len(trials) == 3 and result.failed == sum(ternary_only) and result.points  # ... and the study went on


def test_an_exported_point_rebuilds_the_same_model(tmp_path):
    settings = SearchSettings(mlp_recipe(), tmp_path / "out", trials=2, epochs=1, methods=("swc", "ternary"))
    result = search(settings)
    point = result.points[0]
    folder = tmp_path / "out" / "points" / f"trial_{point['trial']}"
    recipe = load_recipe(folder / "recipe.yaml")
    rebuilt, saved = build_model(recipe), load_model(folder / "model.h5")
    for name, spec in point["layers"].items():
        assert recipe.quantizers["layers"][name] == spec
        assert (rebuilt.get_layer(name).kernel_quantizer_internal.get_config()
                == saved.get_layer(name).kernel_quantizer_internal.get_config())
    # training it again as keras-wc project build does gives the trial's weights and validation accuracy
    model, accuracy = train_on_validation(recipe, datasets.load("digits")[0])
    assert accuracy == pytest.approx(point["accuracy"], abs=1e-6)
    for a, b in zip(model.get_weights(), saved.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert yaml.safe_load((folder / "recipe.yaml").read_text())["name"].endswith(f"_trial{point['trial']}")


def test_a_finished_configuration_is_not_trained_again(tmp_path):
    settings = SearchSettings(mlp_recipe(), tmp_path / "out", trials=3, epochs=1, methods=("qkeras",))
    search(settings)
    trials = finished(settings.storage, settings.study)
    twins = [t for t in trials if "duplicate_of" in t.user_attrs]
    for twin in twins:
        original = next(t for t in trials if t.number == twin.user_attrs["duplicate_of"])
        assert twin.params == original.params and twin.values == original.values
    assert len({json.dumps(t.params, sort_keys=True) for t in trials if t not in twins}) == len(trials) - len(twins)


@pytest.mark.parametrize("kwargs, message", [
    ({"trials": 0}, "trials=0: expected an integer >= 1"),
    ({"workers": -1}, "workers=-1"),
    ({"methods": ("swc", "magic")}, "unknown ['magic']"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path, kwargs, message):
    arguments = {"trials": 1, **kwargs}
    with pytest.raises(ValueError, match=None) as error:
        SearchSettings(mlp_recipe(), tmp_path / "out", **arguments)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_user_folder_is_never_used_as_output(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="did not write"):
        search(SearchSettings(mlp_recipe(), tmp_path, trials=1, epochs=1))
    assert (tmp_path / "mine.txt").read_text() == "keep" and not (tmp_path / "study.db").exists()


def test_a_study_for_another_budget_is_refused(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search(SearchSettings(mlp_recipe(), tmp_path / "a", trials=1, epochs=1, storage=storage, methods=("dfp",)))
    with pytest.raises(ValueError, match="use another --study name or storage"):
        search(SearchSettings(mlp_recipe(), tmp_path / "b", trials=1, epochs=1, storage=storage, methods=("dfp",),
                              budget=Budget(full_mults=10)))


def test_layers_of_rebuilds_the_specs_from_parameters():
    params = {"fc1.method": "swc", "fc1.swc.sw_bits": 3, "fc1.swc.group": 8, "fc1.swc.prune_threshold": 0.1}
    assert layers_of(params, ["fc1"]) == {"fc1": {"class_name": "SWC",
                                                  "config": {"sw_format": "fixed", "sw_bits": 3, "group": 8}}}


def test_searched_ternary_layers_ramp_their_non_zeros_down_to_k():
    """A SparseTernary layer trains as the benchmark's ternary row does: active_k from n down to k."""
    params = {"fc1.method": "ternary", "fc1.ternary.n": 8, "fc1.ternary.k": 2, "fc1.ternary.delta_format": "po2",
              "logits.method": "swc", "logits.swc.sw_bits": 4, "logits.swc.group": 8, "logits.swc.prune_threshold": 0.0}
    layers = layers_of(params, ["fc1", "logits"])
    recipe = trial_recipe(mlp_recipe(), layers, pruning_targets(params), val_fraction=0.2, epochs=4)
    pruning = [c for c in recipe.training["callbacks"] if c["class_name"] == "GradualPruning"]
    assert len(pruning) == 1 and pruning[0]["config"]["target"] == {"fc1": 2}
    assert layers["fc1"]["config"] == {"n": 8, "k": 2, "delta_format": "po2"}
    model = build_model(recipe)
    assert model.get_layer("fc1").kernel_quantizer_internal.delta_format == "po2"


@pytest.mark.slow
def test_the_command_line_searches_a_reference_recipe_and_resumes(tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "-m", "keras_wc.cli", "search", "swc", "--trials", "2", "--workers", "2",
               "--epochs", "1", "--out", str(tmp_path / "out"), "--budget-memory-kib", "64"]
    for run in (1, 2):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "[##############################] 2/2 trials" in done.stdout
        document = json.loads((tmp_path / "out" / "pareto.json").read_text())
        assert document["trials"] == 2 * run and document["budget"] == {"memory_bits": 64 * 1024 * 8}
    point = document["points"][0]
    assert set(point["layers"]) == {"conv1", "conv2", "fc1", "fc2", "logits"}
    assert point["memory_bits"] <= 64 * 1024 * 8 and (tmp_path / "out" / "points" / f"trial_{point['trial']}"
                                                       / "recipe.yaml").is_file()


def test_the_command_line_refuses_an_unknown_recipe_in_one_line(tmp_path, capsys):
    from keras_wc.cli import main

    assert main(["search", "nonesuch", "--trials", "1", "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err.strip()
    assert "RECIPE 'nonesuch': no such file" in error and "\n" not in error
