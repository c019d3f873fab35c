"""The ``keras-wc`` command line: help, version, one-line errors and the end-to-end demo."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from keras_wc import __version__
from keras_wc.cli import main


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed console script's module in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "keras_wc.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_help_lists_every_command():
    result = run_cli("--help", timeout=120)
    assert result.returncode == 0
    for command in ("demo", "report", "convert", "csim", "project"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"keras-wc {__version__}"


def test_bad_argument_is_one_line_error(capsys):
    assert main(["demo", "--epochs", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "keras-wc demo: error: epochs=0: must be >= 1"


def test_unknown_demo_method_lists_the_packaged_recipes(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["demo", "--method", "swc-fixed"])
    assert stop.value.code == 2
    assert "choose from 'dfp', 'po2', 'poly', 'swc', 'swc-po2', 'ternary'" in capsys.readouterr().err


def test_project_build_of_a_missing_recipe_is_one_line_error(tmp_path, capsys):
    missing = tmp_path / "recipe.yaml"
    assert main(["project", "build", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"keras-wc project: error: recipe {missing} does not exist"


def test_existing_output_dir_is_not_clobbered(tmp_path, capsys):
    keep = tmp_path / "mine.txt"
    keep.write_text("user data")
    assert main(["demo", "--quick", "--epochs", "1", "--output-dir", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert keep.read_text() == "user data"


@pytest.mark.slow
def test_demo_quick_end_to_end():
    result = run_cli("demo", "--quick")
    assert result.returncode == 0, result.stderr[-2000:]
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", result.stdout).group(1))
    assert accuracy > 0.9
    match = re.search(r"C simulation: (\d+)/(\d+) outputs bit-exact with the emulator; "
                      r"Keras argmax agreement ([0-9.]+)%", result.stdout)
    assert match, result.stdout[-2000:]
    exact, total, agreement = int(match.group(1)), int(match.group(2)), float(match.group(3))
    assert total == 200 and exact == total
    assert agreement >= 99.5
    assert "mults eliminated" in result.stdout or "full_mults" in result.stdout or "full mults" in result.stdout
