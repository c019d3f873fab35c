"""The package as users install it: pinned stack, header library inside the wheel, entry points."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_pinned_stack_is_installed():
    import hls4ml
    import numpy
    import qkeras  # noqa: F401
    import tensorflow as tf
    import tensorflow_model_optimization  # noqa: F401

    assert tf.__version__ == "2.14.1"
    assert hls4ml.__version__ == "1.3.0"
    assert int(numpy.__version__.split(".")[0]) < 2


def test_installed_package_ships_the_hls_headers():
    from keras_wc.hls_include import include_dir

    headers = {p.name for p in include_dir().glob("*.h")}
    assert {"sqnap.h", "sqnap_common.h", "sqnap_swc.h", "sqnap_dfp.h", "sqnap_po2.h", "sqnap_ternary.h",
            "sqnap_poly.h"} <= headers


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    return next(out.glob("keras_wc-*.whl"))


def test_wheel_contains_headers_and_entry_points(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    for header in ("sqnap_common.h", "sqnap_swc.h", "sqnap_ternary.h", "sqnap_poly.h"):
        assert f"keras_wc/hls_include/{header}" in names
    assert "keras_wc/hls_include/tests/test_sqnap.cpp" in names
    assert "keras-wc = keras_wc.cli:main" in entry_points
    assert "SQNAP = keras_wc.hls.plugin:register" in entry_points
    assert not any(name.startswith(("tests/", "benchmarks/", "notebooks/")) for name in names)
