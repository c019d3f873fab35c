"""QKeras weight quantizers as integer encodings (the same records keras_wc quantizers give).

* ``quantized_bits(bits, integer, ..., alpha=1)`` (QKeras layers turn ``alpha=None`` into
  ``"auto_po2"``, a data-dependent scale, so ``alpha=1`` must be given) -> a ``"dfp"`` encoding with
  ``frac = bits - keep_negative - integer`` (codes ``round(w_q * 2**frac)``);
* ``quantized_po2(bits)`` -> a ``"po2"`` encoding (QKeras has no zero level: every code
  is non-zero), ``e_min`` the smallest exponent present;
* ``ternary``/``binary`` (and anything else) -> a ``"dfp"`` encoding when their output lies on
  a power-of-two grid with codes of at most 16 bits (``alpha=1``); otherwise a clear error.

Codes are read from the quantizer's own forward output (what Keras multiplies by), so the
integers describe exactly the kernel Keras uses, up to QKeras' straight-through float
noise (``x + (q - x)``, below 1e-3 of a step), which is checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..quantizers.base import Encoding
from ..quantizers.layout import FanInLayout
from ..quantizers.ops import NP

_MAX_CODE_BITS = 16
_TOLERANCE = 1e-3


def _codes_on_grid(values: np.ndarray, frac: int, where: str) -> np.ndarray:
    scaled = values.astype(np.float64) * 2.0 ** frac
    codes = np.round(scaled)
    distance = float(np.max(np.abs(scaled - codes), initial=0.0))
    if distance > _TOLERANCE:
        raise ValueError(f"{where}: its output is not on the grid 2**-{frac} (off by {distance:.3g} steps)")
    return codes.astype(np.int64)


def _dyadic_frac(values: np.ndarray) -> int:
    """The smallest ``f`` with ``values * 2**f`` integer (values are float32, so ``f <= 149``)."""
    for frac in range(-32, 150):
        scaled = values.astype(np.float64) * 2.0 ** frac
        if np.all(np.abs(scaled - np.round(scaled)) <= _TOLERANCE):
            return frac
    return 150


def _encoding(method: str, layout: FanInLayout, codes: np.ndarray, params: dict, source: str) -> Encoding:
    grouped = layout.to_groups(codes, NP)
    return Encoding(method=method, layout=layout, config={"qkeras": source}, arrays={"codes": grouped},
                    params=params)


def encode_qkeras(quantizer: Any, kernel: np.ndarray, kernel_layout: str, layer: str) -> Encoding:
    """The integer encoding of ``kernel`` under a QKeras weight quantizer.

    Args:
        quantizer: the layer's QKeras kernel quantizer object.
        kernel: the float kernel.
        kernel_layout: ``"auto"`` or ``"depthwise"``.
        layer: the layer name, for messages.

    Returns:
        A ``"dfp"`` or ``"po2"`` :class:`Encoding` grouped by ``"filter"``.

    Raises:
        ValueError: stochastic rounding, ``alpha`` not ``None``/1, or an output off any
            power-of-two grid of at most 16-bit codes.

    Example:
        >>> enc = encode_qkeras(quantized_bits(4, 0, 1, alpha=1), np.full((3, 2), 0.3), "auto", "fc")
        >>> enc.method, enc.params["frac"], enc.arrays["codes"].ravel().tolist()
        ('dfp', 3, [2, 2, 2, 2, 2, 2])
    """
    from qkeras.quantizers import quantized_bits, quantized_po2

    where = f"layer {layer!r}: weight quantizer {quantizer}"
    if getattr(quantizer, "use_stochastic_rounding", False):
        raise ValueError(f"{where}: stochastic rounding cannot be emulated")
    alpha = getattr(quantizer, "alpha", None)
    if alpha is not None and (isinstance(alpha, str) or float(alpha) != 1.0):
        raise ValueError(f"{where}: alpha={alpha!r}; only alpha=1 is supported (a learned or "
                         "per-channel scale is not on a fixed-point grid; QKeras layers turn alpha=None into "
                         "'auto_po2', so pass alpha=1 explicitly)")
    layout = FanInLayout(tuple(kernel.shape), "filter", kernel_layout)
    values = np.asarray(quantizer(np.asarray(kernel, np.float32)), np.float32)
    if isinstance(quantizer, quantized_po2):
        magnitude = np.abs(values.astype(np.float64))
        exponent = np.round(np.log2(np.where(magnitude > 0, magnitude, 1.0))).astype(np.int64)
        e_min = int(exponent.min(initial=0))
        _codes_on_grid(values, -e_min, where)
        codes = np.where(values < 0, -1, 1) * (exponent - e_min + 1)
        return _encoding("po2", layout, codes, {"e_min": e_min}, str(quantizer))
    if isinstance(quantizer, quantized_bits):
        frac = int(quantizer.bits) - int(bool(quantizer.keep_negative)) - int(quantizer.integer)
    else:
        frac = _dyadic_frac(values)
    codes = _codes_on_grid(values, frac, where)
    if int(np.max(np.abs(codes), initial=0)) >= 1 << (_MAX_CODE_BITS - 1):
        raise ValueError(f"{where}: its output needs more than {_MAX_CODE_BITS}-bit codes on a "
                         "power-of-two grid; use quantized_bits/quantized_po2 or a keras_wc quantizer")
    return _encoding("dfp", layout, codes, {"frac": frac}, str(quantizer))
