"""FPGA project recipes: validation errors and byte-identical regeneration of the references.

Only each reference project's own files are committed (``.gitignore``, ``fpga_projects/README.md``);
a fresh build must reproduce exactly those files, byte for byte, and nothing else that git would track.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from keras_wc.projects import PROJECT_DIR, build_project, load_recipe

ROOT = Path(__file__).resolve().parent.parent
REFERENCES = sorted((ROOT / "fpga_projects").glob("*/recipe.yaml"))


def tracked_files(folder: Path) -> dict:
    """``{relative path: bytes}`` of the files git tracks under ``folder``."""
    listed = subprocess.run(["git", "ls-files", "-z", str(folder)], cwd=ROOT, capture_output=True, check=True)
    paths = [ROOT / p for p in listed.stdout.decode().split("\0") if p]
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in paths}


def generated_files(folder: Path, committed_folder: Path) -> dict:
    """``{relative path: bytes}`` of a rebuild in ``folder``, minus what git would ignore in
    ``committed_folder`` (build outputs such as shared libraries and the csim binary)."""
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    check = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT, capture_output=True,
                           text=True, input="\n".join(str(committed_folder / name) for name in names))
    ignored = {Path(line).relative_to(committed_folder).as_posix() for line in check.stdout.splitlines()}
    return {name: (folder / name).read_bytes() for name in names if name not in ignored}


def test_two_reference_projects_are_committed():
    assert {p.parent.name for p in REFERENCES} >= {"digits_mlp_ternary", "digits_lenet5_swc"}
    for recipe in REFERENCES:
        assert (recipe.parent / "model.h5").is_file()
        assert tracked_files(recipe.parent / PROJECT_DIR), f"{recipe.parent.name}: no committed project files"


@pytest.mark.parametrize("recipe", REFERENCES, ids=lambda p: p.parent.name)
def test_only_project_specific_files_are_committed(recipe):
    name = load_recipe(recipe).hls["project_name"]
    committed = set(tracked_files(recipe.parent))
    assert {"recipe.yaml", "model.h5", "project/README.md", "project/sqnap_resources.json",
            f"project/firmware/{name}.cpp", f"project/firmware/{name}.h", "project/firmware/parameters.h",
            "project/firmware/defines.h"} <= committed
    assert any(path.startswith("project/firmware/weights/") for path in committed)
    vendored = sorted(path for path in committed if "/nnet_utils/" in path or "/ap_types/" in path
                      or path.endswith((".tcl", ".sh", "_test.cpp", "_bridge.cpp", "csim_results.log")))
    assert vendored == []


@pytest.mark.slow
@pytest.mark.parametrize("recipe", REFERENCES, ids=lambda p: p.parent.name)
def test_reference_project_regenerates_byte_identically(recipe, tmp_path):
    result = build_project(recipe, output_dir=tmp_path / "project", echo=lambda line: None)
    assert result.all_bit_exact and result.total == load_recipe(recipe).hls["csim_samples"]
    assert (tmp_path / "project" / "build_prj.tcl").is_file()  # the build is the full project
    committed = tracked_files(recipe.parent / PROJECT_DIR)
    regenerated = generated_files(tmp_path / "project", recipe.parent / PROJECT_DIR)
    missing = sorted(set(committed) - set(regenerated))
    assert missing == [], "committed files the build no longer writes"
    uncommitted = sorted(set(regenerated) - set(committed))
    assert uncommitted == [], "generated files neither committed nor ignored by .gitignore"
    different = sorted(name for name in committed if committed[name] != regenerated[name])
    assert different == [], "committed files that differ from a fresh build"


def test_recipe_errors_name_the_key(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("name: x\ndataset: digits\nmodel: {architecture: mlp}\nquantizers: {default: {class_name: DFP}}\n"
                    "trainin: {}\n")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['trainin'\]"):
        load_recipe(path)
    path.write_text("name: x\ndataset: digits\nmodel: {architecture: mlp}\n")
    with pytest.raises(ValueError, match="missing key 'quantizers'"):
        load_recipe(path)
    path.write_text("name: x\ndataset: digits\nmodel: {architecture: mlp}\nquantizers: {default: {class_name: DFP}}\n"
                    "hls: {flavour: Vitis}\n")
    with pytest.raises(ValueError, match=r"unknown hls key\(s\) \['flavour'\]"):
        load_recipe(path)
    with pytest.raises(FileNotFoundError):
        load_recipe(tmp_path / "missing.yaml")


def test_existing_project_folder_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        build_project(REFERENCES[0], output_dir=tmp_path, echo=lambda line: None)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_the_sqnap_processor_reference_stores_its_codes_in_rom():
    """mnist5k_lenet5_swc_resource: every layer Resource, its ROMs hold exactly the report's weight bits,
    the convolutions stream through line buffers of filt_height rows (5 x 28 x 1 for conv1)."""
    from keras_wc.hls import lint, resources

    project = ROOT / "fpga_projects/mnist5k_lenet5_swc_resource" / PROJECT_DIR
    figures = lint(project, pragmas=False)
    counted = {row.name: row for row in resources(project).layers}
    assert set(figures.layers) == set(counted) == {"conv1", "conv2", "fc1", "fc2", "logits"}
    for name, row in counted.items():
        assert figures.layers[name]["strategy"] == "resource"
        assert figures.layers[name]["rom_bits"] == row.sqnap_weight_bits
        assert figures.layers[name]["multipliers"] == row.sqnap_multipliers < row.stock_multipliers
    assert figures.layers["conv1"]["buffer_elements"] == 5 * 28 * 1
    assert figures.problems == []
