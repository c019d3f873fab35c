"""Output folders never lose a file: staged beside the target, the marker, what overwrite may replace.

Every ordering is checked with the sha256 of every file before and after (``docs/errors.md``).
"""

from __future__ import annotations

import hashlib
import os
import pkgutil
import shutil
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")

import keras_wc.hls as kh  # noqa: E402
from keras_wc.cli import main  # noqa: E402
from keras_wc.emulate import emulate  # noqa: E402
from keras_wc.output_folder import (MARKER, MARKER_HEADER, check_output_dir, folder_files,  # noqa: E402
                                    replace_file, staged_output_dir)

from _small_hls_model import INPUT_FORMAT, on_grid_inputs, small_model  # noqa: E402
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture(scope="module")
def x():
    return on_grid_inputs()


def hashes(folder: Path) -> dict:
    """``{relative path: sha256}`` of every file under ``folder`` (hidden ones included)."""
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in folder_files(folder)}


def staging_left(parent: Path) -> list:
    """Hidden staging folders or files keras_wc left in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if ".keras_wc-" in p.name)


# -- the marker -------------------------------------------------------------------------------
def test_marker_lists_every_file_and_is_deterministic(tmp_path, model, x):
    for name in ("a", "b"):
        kh.convert(model, tmp_path / name, input_format=INPUT_FORMAT, x_test=x)
    lines = (tmp_path / "a" / MARKER).read_text().splitlines()
    assert lines[0] == MARKER_HEADER
    assert lines[1:] == [name for name in folder_files(tmp_path / "a") if name != MARKER]
    assert {"hls4ml_config.yml", "sqnap_resources.json", "tb_data/tb_input_features.dat"} <= set(lines)
    assert hashes(tmp_path / "a") == hashes(tmp_path / "b")


def test_project_points_at_the_final_folder(tmp_path, model, x):
    target = tmp_path / "prj"
    hls_model = kh.convert(model, target, input_format=INPUT_FORMAT, x_test=x)
    assert hls_model.config.config["OutputDir"] == str(target) == hls_model.config.get_output_dir()
    assert staging_left(tmp_path) == []
    for name in folder_files(target):
        assert b".prj.keras_wc-" not in (target / name).read_bytes(), f"{name} holds the staging folder's name"
    hls_model.compile()
    predicted = np.asarray(hls_model.predict(np.ascontiguousarray(x, np.float64)), np.float64)
    np.testing.assert_array_equal(predicted, emulate(model, x, input_format=INPUT_FORMAT))
    assert sorted(p.name for p in (target / "firmware").glob("*.so")) == [
        f"myproject-{hls_model.config.get_config_value('Stamp')}.so"]
    result = kh.csim(target)
    assert result.project_dir == target and result.all_bit_exact and result.total == len(x)


# -- (a) overwrite of a keras_wc project ------------------------------------------------------------
def test_overwrite_replaces_a_keras_wc_project_with_its_build_outputs(tmp_path, model, x):
    target = tmp_path / "prj"
    kh.convert(small_model(seed=1), target, input_format=INPUT_FORMAT, x_test=x).compile()
    kh.csim(target)  # adds tb_data/csim_results.log; compile added firmware/*.so
    kh.convert(model, tmp_path / "fresh", input_format=INPUT_FORMAT, x_test=x)
    kh.convert(model, target, input_format=INPUT_FORMAT, x_test=x, overwrite=True)
    assert hashes(target) == hashes(tmp_path / "fresh")
    assert staging_left(tmp_path) == []


def test_cli_overwrite_of_its_own_project(tmp_path, model, x, capsys):
    model.save(tmp_path / "model.h5")
    args = ["convert", str(tmp_path / "model.h5"), str(tmp_path / "prj"), "--input-format", INPUT_FORMAT]
    assert main(args) == 0
    first = hashes(tmp_path / "prj")
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        f"keras-wc convert: error: output_dir {tmp_path / 'prj'} is not empty; pass overwrite=True (--overwrite) "
        "to replace a folder keras_wc wrote")
    assert main([*args, "--overwrite"]) == 0
    assert hashes(tmp_path / "prj") == first


# -- (b) a folder holding a user's file --------------------------------------------------------------
def test_overwrite_refuses_a_project_holding_a_user_file(tmp_path, model):
    target = tmp_path / "prj"
    kh.convert(model, target, input_format=INPUT_FORMAT)
    (target / "notes.txt").write_text("mine")
    (target / "firmware" / "tuned.h").write_text("// mine too")
    before = hashes(target)
    with pytest.raises(FileExistsError) as info:
        kh.convert(small_model(seed=1), target, input_format=INPUT_FORMAT, overwrite=True)
    assert str(info.value) == (f"output_dir {target} holds files keras_wc did not write (firmware/tuned.h, "
                               "notes.txt); move them out or choose another folder")
    assert hashes(target) == before and staging_left(tmp_path) == []


def test_overwrite_refuses_a_folder_keras_wc_did_not_write(tmp_path, model):
    target = tmp_path / "prj"
    target.mkdir()
    (target / "user_notes.txt").write_text("mine")
    with pytest.raises(FileExistsError) as info:
        kh.convert(model, target, input_format=INPUT_FORMAT, overwrite=True)
    assert str(info.value) == (f"output_dir {target} is not empty and has no .keras_wc marker, so keras_wc did not "
                               "write it; overwrite replaces only keras_wc's own folders: choose another folder")
    with pytest.raises(FileExistsError, match="is not empty; pass overwrite=True"):
        kh.convert(model, target, input_format=INPUT_FORMAT)
    assert hashes(target) == {"user_notes.txt": hashlib.sha256(b"mine").hexdigest()}
    assert staging_left(tmp_path) == []


def test_a_vendor_tool_run_is_a_users_file(tmp_path, model):
    target = tmp_path / "prj"
    kh.convert(model, target, input_format=INPUT_FORMAT)
    (target / "myproject_prj" / "solution1").mkdir(parents=True)
    (target / "myproject_prj" / "solution1" / "csynth.rpt").write_text("hours of synthesis")
    (target / "vitis_hls.log").write_text("log")
    with pytest.raises(FileExistsError, match=r"\(myproject_prj/solution1/csynth.rpt, vitis_hls.log\)"):
        kh.convert(model, target, input_format=INPUT_FORMAT, overwrite=True)


# -- (c) the target holds the input model --------------------------------------------------------------
def test_cli_refuses_the_current_folder_holding_the_model(tmp_path, model, monkeypatch, capsys):
    model.save(tmp_path / "model.h5")
    (tmp_path / "notes.txt").write_text("mine")
    before = hashes(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["convert", "model.h5", ".", "--input-format", INPUT_FORMAT, "--overwrite"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"keras-wc convert: error: output_dir {tmp_path} is the current folder or holds it; write into a "
        f"sub-folder such as {tmp_path / 'prj'}")
    assert hashes(tmp_path) == before


def test_cli_refuses_a_project_holding_the_input_model(tmp_path, model, capsys):
    target = tmp_path / "prj"
    kh.convert(model, target, input_format=INPUT_FORMAT)
    model.save(target / "model.h5")
    before = hashes(target)
    assert main(["convert", str(target / "model.h5"), str(target), "--input-format", INPUT_FORMAT,
                 "--overwrite"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"keras-wc convert: error: output_dir {target} holds files keras_wc did not write (model.h5); move them "
        "out or choose another folder")
    assert hashes(target) == before


def test_cli_refuses_a_plain_folder_holding_the_input_model(tmp_path, model, capsys):
    model.save(tmp_path / "model.h5")
    before = hashes(tmp_path)
    assert main(["convert", str(tmp_path / "model.h5"), str(tmp_path), "--overwrite"]) == 2
    assert "has no .keras_wc marker, so keras_wc did not write it" in capsys.readouterr().err
    assert hashes(tmp_path) == before


# -- (d) a conversion failing after validation ---------------------------------------------------------
def _fail_after(monkeypatch, target: str, what: str = "disk full") -> None:
    """Make ``target`` (``"module:attribute"``, the attribute may be ``Class.method``) run, then raise."""
    module, _, attribute = target.partition(":")
    owner_name, _, name = attribute.rpartition(".")
    owner = pkgutil.resolve_name(f"{module}:{owner_name}" if owner_name else module)
    real = getattr(owner, name)

    def failing(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError(what)

    monkeypatch.setattr(owner, name, failing)


@pytest.mark.parametrize("stage", ["keras_wc.hls.writer:SQNAPWriter.write_hls",
                                   "keras_wc.hls.resources:write_resources", "keras_wc.hls.convert:write_tb_data"])
def test_failed_conversion_leaves_the_previous_project(tmp_path, model, x, monkeypatch, stage):
    target = tmp_path / "prj"
    kh.convert(model, target, input_format=INPUT_FORMAT, x_test=x)
    before, parent = hashes(target), sorted(os.listdir(tmp_path))
    _fail_after(monkeypatch, stage)
    with pytest.raises(OSError, match="disk full"):
        kh.convert(small_model(seed=1), target, input_format=INPUT_FORMAT, x_test=x, overwrite=True)
    assert hashes(target) == before
    assert sorted(os.listdir(tmp_path)) == parent


def test_failed_conversion_into_new_folders_leaves_nothing(tmp_path, model, monkeypatch):
    _fail_after(monkeypatch, "keras_wc.hls.resources:write_resources")
    with pytest.raises(OSError, match="disk full"):
        kh.convert(model, tmp_path / "new" / "deeper" / "prj", input_format=INPUT_FORMAT)
    assert os.listdir(tmp_path) == []


def test_refused_settings_write_nothing(tmp_path, model):
    with pytest.raises(ValueError, match="reuse_factor=0"):
        kh.convert(model, tmp_path / "new" / "prj", input_format=INPUT_FORMAT, reuse_factor=0)
    x_off = np.full((1, 12), 0.25)
    x_off[0, 3] += 1e-3
    with pytest.raises(ValueError, match="x_test: 1 of 12 values are not on the declared grid"):
        kh.convert(model, tmp_path / "new" / "prj", input_format=INPUT_FORMAT, x_test=x_off)
    assert os.listdir(tmp_path) == []


def test_a_model_computing_nothing_is_refused_and_writes_nothing(tmp_path):
    """Only inference identities: the output would alias the input (no C++ could declare both)."""
    inp = tf.keras.Input((4,), name="inp")
    identities = tf.keras.Model(inp, tf.keras.layers.GaussianNoise(0.1)(tf.keras.layers.Dropout(0.4)(inp)),
                                name="identities")
    with pytest.raises(ValueError, match="model 'identities' computes nothing in hardware: .* its input 'inp'"):
        kh.convert(identities, tmp_path / "prj", input_format="ufixed<8,0>")
    assert os.listdir(tmp_path) == []


# -- project build ---------------------------------------------------------------------------------
@pytest.fixture
def small_recipe(tmp_path):
    """The digits MLP reference recipe with 5 C-simulation samples, beside a copy of its model."""
    import yaml

    source = ROOT / "fpga_projects" / "digits_mlp_ternary"
    folder = tmp_path / "digits_mlp_ternary"
    folder.mkdir()
    shutil.copy(source / "model.h5", folder / "model.h5")
    recipe = yaml.safe_load((source / "recipe.yaml").read_text())
    recipe["hls"]["csim_samples"] = 5
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    return folder / "recipe.yaml"


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["keras_wc.hls:csim", "keras_wc.projects:_readme"])
def test_failed_project_build_leaves_the_previous_project(small_recipe, monkeypatch, stage):
    from keras_wc.projects import build_project

    folder = small_recipe.parent
    result = build_project(small_recipe, echo=lambda line: None)
    assert result.project_dir == folder / "project" and result.all_bit_exact
    assert {"README.md", MARKER, "tb_data/csim_results.log"} <= set(folder_files(folder / "project"))
    before, parent = hashes(folder), sorted(os.listdir(folder))
    _fail_after(monkeypatch, stage, "killed")
    with pytest.raises(OSError, match="killed"):
        build_project(small_recipe, overwrite=True, echo=lambda line: None)
    assert hashes(folder) == before and sorted(os.listdir(folder)) == parent
    monkeypatch.undo()
    assert build_project(small_recipe, overwrite=True, echo=lambda line: None).all_bit_exact
    assert hashes(folder) == before  # the rebuild is byte-identical


def test_project_build_refuses_a_user_file_before_loading(small_recipe, capsys):
    project = small_recipe.parent / "project"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    assert main(["project", "build", str(small_recipe), "--overwrite"]) == 2
    assert "has no .keras_wc marker" in capsys.readouterr().err
    assert hashes(project) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}


def test_committed_reference_projects_carry_the_marker():
    for recipe in sorted((ROOT / "fpga_projects").glob("*/recipe.yaml")):
        project = recipe.parent / "project"
        check_output_dir(project, overwrite=True)  # a fresh checkout's slim folder may be rebuilt
        listed = set((project / MARKER).read_text().splitlines()[1:])
        assert set(folder_files(project)) - {MARKER} <= listed | {"tb_data/csim_results.log"}


# -- the pieces ------------------------------------------------------------------------------------
def test_check_output_dir_refusals(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "file", overwrite=True)
    (tmp_path / "link").symlink_to(tmp_path / "file")
    with pytest.raises(FileExistsError, match="is a symbolic link"):
        check_output_dir(tmp_path / "link", overwrite=True)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(FileExistsError, match="is the current folder or holds it"):
        check_output_dir("..", overwrite=True)
    assert check_output_dir("new", overwrite=False) == tmp_path / "sub" / "new"


def test_staged_folder_is_moved_only_when_complete(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with staged_output_dir(target, overwrite=False) as stage:
            assert stage.parent == tmp_path and stage.name.startswith(".out.keras_wc-")
            (stage / "half.txt").write_text("half")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []
    with staged_output_dir(target, overwrite=False) as stage:
        (stage / "whole.txt").write_text("whole")
        assert not target.exists()
    assert (target / MARKER).read_text() == f"{MARKER_HEADER}\nwhole.txt\n"
    assert os.listdir(tmp_path) == ["out"]


def test_a_folder_changed_during_the_run_is_not_replaced(tmp_path):
    target = tmp_path / "out"
    with staged_output_dir(target, overwrite=False) as stage:
        (stage / "a.txt").write_text("a")
    with pytest.raises(FileExistsError, match=r"holds files keras_wc did not write \(late.txt\)"):
        with staged_output_dir(target, overwrite=True) as stage:
            (stage / "a.txt").write_text("b")
            (target / "late.txt").write_text("written while the run took")
    assert (target / "a.txt").read_text() == "a" and staging_left(tmp_path) == []


def test_replace_file_keeps_the_previous_file_on_failure(tmp_path, monkeypatch):
    path = replace_file(tmp_path / "results" / "quick.json", "{}\n")
    assert path.read_text() == "{}\n"

    def failing(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        replace_file(path, "{\"new\": 1}\n")
    assert path.read_text() == "{}\n" and os.listdir(path.parent) == ["quick.json"]
