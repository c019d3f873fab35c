"""The notebooks in ``notebooks/`` run top to bottom, and are committed without outputs.

Each notebook is executed with nbclient in quick mode (``KERAS_WC_NOTEBOOK_QUICK=1``), in a
temporary working directory, with ``TMPDIR`` pointing into pytest's ``tmp_path`` so that the
projects and plots the notebooks write never land in the repository. The notebooks end in
cells of ``assert`` statements (accuracy floors, compression and multiplication counts, C
simulation bit-exact with the emulator), so a passing run is a functional test of the flow.

The kernel is this interpreter: a ``python3`` kernelspec whose ``argv`` starts with
``sys.executable`` is written into a temporary ``JUPYTER_PATH`` (which Jupyter searches before
the user's and the environment's kernelspecs), and a test checks which Python actually runs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = ("01_quickstart.ipynb", "02_methods.ipynb", "03_fpga_project.ipynb")
CELL_TIMEOUT = 300
#: folders of the checkout whose contents a notebook run must not change
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".mypy_cache",
             "keras_wc.egg-info", "build", "dist"}


#: what the notebooks write (inside their temporary folders): top-level folders and file names
NOTEBOOK_FOLDERS = {"quickstart_prj", "vitis", "vivado", "vitis_again"}
NOTEBOOK_FILES = {"accuracy_vs_memory.png", "swc_report.png", "sparseternary_report.png", "polyapprox_report.png"}


def is_notebook_output(relative: str) -> bool:
    """Whether a new file of the checkout looks like something a notebook wrote."""
    parts = Path(relative).parts
    return (parts[0] == "notebooks" and not relative.endswith((".ipynb", ".md"))) \
        or parts[0] in NOTEBOOK_FOLDERS or parts[-1] in NOTEBOOK_FILES \
        or any(part.startswith("keras_wc_0") for part in parts)


def repo_snapshot() -> dict:
    """``{relative path: (size, mtime)}`` of the checkout's files outside caches and the venv."""
    snapshot = {}
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        for name in files:
            path = Path(directory) / name
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed by a concurrent process
                continue
            snapshot[str(path.relative_to(ROOT))] = (stat.st_size, stat.st_mtime_ns)
    return snapshot


@pytest.fixture
def kernel_env(tmp_path, monkeypatch) -> Path:
    """A kernel environment: this interpreter's python3 kernelspec, quick mode, temp dirs.

    Returns the working directory for the notebook.
    """
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (keras_wc test)", "language": "python"}))
    temp = tmp_path / "tmp"
    temp.mkdir()
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("KERAS_WC_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return work


def execute(nb, cwd: Path):
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(cwd)}})
    return client.execute()


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(str(p) for p in parts)


def test_all_notebooks_present():
    found = sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb"))
    assert set(NOTEBOOKS) <= set(found), found
    assert (NOTEBOOK_DIR / "README.md").exists()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stripped_and_valid(name):
    """Committed notebooks carry no outputs, no execution counts and a python3 kernelspec."""
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code cells"
    for index, cell in enumerate(code):
        assert cell.get("outputs") == [], f"{name}: code cell {index} has outputs (strip them)"
        assert cell.get("execution_count") is None, f"{name}: code cell {index} has an execution count"
        assert "execution" not in cell.get("metadata", {}), f"{name}: code cell {index} has timing metadata"
    for cell in nb.cells:
        assert "attachments" not in cell or not cell["attachments"], f"{name}: a cell has attachments"
    # the notebook is a test: its last code cell asserts, and it honours the quick mode
    assert "assert " in code[-1].source, f"{name}: the last code cell has no assertions"
    assert any("KERAS_WC_NOTEBOOK_QUICK" in cell.source for cell in code)
    # it writes into temporary folders, never next to itself
    assert any("tempfile.mkdtemp" in cell.source for cell in code)


def test_kernel_is_this_python(kernel_env):
    """The kernel nbclient starts is this interpreter (the venv's), with the quick-mode variable."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys, keras_wc\n"
        "print(sys.executable)\nprint(sys.prefix)\nprint(os.environ['KERAS_WC_NOTEBOOK_QUICK'])\n"
        "print(os.getcwd())\nprint(keras_wc.__file__)")])
    execute(nb, kernel_env)
    lines = outputs_text(nb).split()
    assert Path(lines[0]).resolve() == Path(sys.executable).resolve()
    assert Path(lines[1]).resolve() == Path(sys.prefix).resolve()
    assert lines[2] == "1"
    assert Path(lines[3]).resolve() == kernel_env.resolve()
    assert Path(lines[4]).resolve().is_relative_to(ROOT)       # the checkout's keras_wc (editable install)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, kernel_env, tmp_path):
    """Execute the notebook in quick mode; its own assertion cells must pass."""
    source = NOTEBOOK_DIR / name
    original = source.read_bytes()
    nb = nbformat.read(source, as_version=4)
    before = repo_snapshot()
    start = time.time()
    try:
        execute(nb, kernel_env)
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{name} failed in quick mode:\n{error}")
    elapsed = time.time() - start
    text = outputs_text(nb)
    assert "all checks passed" in text, text[-2000:]
    # nothing written into the checkout, and the notebook file itself is untouched
    assert source.read_bytes() == original
    after = repo_snapshot()
    added = sorted(set(after) - set(before))      # colleagues' processes may add files too: look for ours
    assert not [p for p in added if is_notebook_output(p)], added
    # the notebook's temporary folders went to TMPDIR (under tmp_path)
    assert any((tmp_path / "tmp").glob("keras_wc_*")), "the notebook wrote no temporary folder under TMPDIR"
    print(f"{name}: {elapsed:.0f} s in quick mode")
