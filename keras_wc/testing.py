"""Helpers for users' own HLS validation tests (pytest).

``assert_csim_bit_exact(model, x, **convert_kwargs)`` converts into a temporary project,
runs C simulation and raises an ``AssertionError`` naming the first diverging layer and
sample. The fixture ``hls_project_dir`` gives a fresh temporary project folder; use it with
``from keras_wc.testing import hls_project_dir`` in a test module or ``conftest.py``
(or ``pytest_plugins = ["keras_wc.testing"]``).

Example:
    >>> from keras_wc.testing import assert_csim_bit_exact
    >>> assert_csim_bit_exact(model, x_test[:200], input_format="ufixed<8,0>")
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional, Tuple

import numpy as np

try:
    import pytest
except ImportError:  # pragma: no cover - pytest is a test extra
    pytest = None


def first_divergence(hls_model: Any, model: Any, x: np.ndarray, input_format: Optional[str],
                     sample: int) -> Tuple[str, int]:
    """The first layer whose HLS output differs from the emulator's on ``sample``.

    Uses ``hls_model.trace`` (compiled library) against ``emulate(trace=True)``.

    Returns:
        ``(layer name, sample)``; the layer is ``"<output>"`` when no traced layer differs.
    """
    from keras_wc.emulate.run import emulate

    xs = np.ascontiguousarray(x[sample:sample + 1])
    reference = emulate(model, xs, input_format=input_format, trace=True)
    try:
        _, traces = hls_model.trace(xs)
    except Exception:
        return "<output>", sample
    for name, want in reference.items():
        got = traces.get(name)
        # hls4ml traces are float32: compare the emulator's exact values rounded the same way
        if got is not None and not np.array_equal(np.asarray(got, np.float32).reshape(-1),
                                                  np.asarray(want, np.float32).reshape(-1)):
            return name, sample
    return "<output>", sample


def assert_csim_bit_exact(model: Any, x: np.ndarray, keep: Optional[Path] = None, **convert_kwargs) -> Any:
    """Convert ``model``, C-simulate on ``x`` and require bit-exact agreement with the emulator.

    Args:
        model: the Keras model.
        x: test inputs (batch first; on the input grid, or pass ``quantize_inputs=True``).
        keep: a folder to write the project into (default: a temporary folder, removed).
        **convert_kwargs: passed to :func:`keras_wc.hls.convert` (``input_format``, ``flavor``...).

    Returns:
        The :class:`~keras_wc.hls.csim.CSimResult`.

    Raises:
        AssertionError: naming the first diverging layer and sample, and the counts.
    """
    from keras_wc.emulate.inputs import grid_values
    from keras_wc.hls import convert, csim
    from keras_wc.hls.passes import datapath_of

    workdir = Path(keep) if keep is not None else Path(tempfile.mkdtemp(prefix="sqnap_test_"))
    try:
        convert_kwargs.setdefault("overwrite", keep is not None)
        hls_model = convert(model, workdir / "prj", x_test=x, **convert_kwargs)
        result = csim(workdir / "prj")
        if result.bit_exact != result.total:
            input_format = convert_kwargs.get("input_format")
            sample = int(result.first_mismatch or 0)
            for layer in hls_model.get_layers():
                layer.set_attr("trace", True)
            hls_model.config.trace_output = True
            layer, sample = "<output>", sample
            try:
                hls_model.compile()
                xq = grid_values(list(datapath_of(hls_model).values()), x, convert_kwargs.get("quantize_inputs", False))
                layer, sample = first_divergence(hls_model, model, xq.astype(np.float32), input_format, sample)
            except Exception:
                pass
            raise AssertionError(f"C simulation is not bit-exact with the emulator: {result.bit_exact}/"
                                 f"{result.total} samples agree; first diverging sample {sample}, layer {layer!r}")
        return result
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if pytest is not None:

    @pytest.fixture
    def hls_project_dir(tmp_path):
        """A fresh, not yet existing project folder under pytest's ``tmp_path``."""
        return tmp_path / "hls_prj"
