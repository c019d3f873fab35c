"""QKeras weight quantizers as integer encodings (the same records keras_wc quantizers give).

* ``quantized_bits(bits, integer, ..., alpha=1)`` (or ``alpha=None`` outside a layer) -> a
  ``"dfp"`` encoding with ``frac = bits - keep_negative - integer`` (codes ``round(w_q * 2**frac)``);
* ``quantized_po2(bits)`` -> a ``"po2"`` encoding (QKeras has no zero level: every code
  is non-zero), ``e_min`` the smallest exponent present;
* anything else — ``quantized_bits`` with ``alpha="auto_po2"`` (what QKeras layers make of
  ``alpha=None``: a power-of-two scale per output channel), a power-of-two ``alpha``,
  ``binary``/``ternary`` (any ``alpha`` that is a power of two, ``"auto_po2"`` included) and
  their ``stochastic_*`` forms -> a ``"dfp"`` encoding read *exactly* from the quantizer's
  output: every output channel gets the smallest fractional length that makes its values
  integers (one ``frac`` for the layer when the channels agree, else one per output channel,
  aligned by the shared epilogue like DFP's ``per_channel``); codes of more than 16 bits
  (a float scale such as ``alpha="auto"``) are refused.

Codes are read from the quantizer's own forward output at inference (learning phase 0, so
stochastic rounding and the ``stochastic_*`` quantizers give their deterministic inference
values, what ``predict`` multiplies by). For ``quantized_bits`` with ``alpha`` 1 the output
is checked against the declared grid up to QKeras' straight-through float noise
(``x + (q - x)``, below 1e-3 of a step); the other quantizers' values are used as the exact
float32 numbers they are.
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


def exact_fracs(values: np.ndarray) -> np.ndarray:
    """Per value: the smallest ``f`` with ``value * 2**f`` an integer (exact, no tolerance).

    Zeros get the lowest ``int64`` (any grid holds them).

    Example:
        >>> exact_fracs(np.float32([0.75, 4.0, -0.5, 3.0])).tolist()
        [2, -2, 1, 0]
    """
    v = np.asarray(values, np.float64)
    mantissa, exponent = np.frexp(v)  # v = mantissa * 2**exponent, 0.5 <= |mantissa| < 1
    integer = np.abs(mantissa * 2.0 ** 53).astype(np.int64)  # exact: float64 has a 53-bit significand
    lowest = integer & -integer
    trailing = np.log2(np.where(integer > 0, lowest, 1).astype(np.float64)).astype(np.int64)
    return np.where(integer > 0, 53 - trailing - exponent.astype(np.int64), np.iinfo(np.int64).min)


def _exact_per_channel(values: np.ndarray, layout: FanInLayout, where: str):
    """Grouped codes and the per-output (or one) fractional length of exactly dyadic values."""
    grouped = np.asarray(layout.to_groups(np.asarray(values, np.float32), NP), np.float64)
    per_value = exact_fracs(grouped).reshape(layout.n_out, -1)
    frac = per_value.max(axis=1)
    present = frac > np.iinfo(np.int64).min
    if not present.any():
        return grouped.astype(np.int64), 0
    frac = np.where(present, frac, frac[present].max())  # an all-zero channel: no alignment shift
    if frac.max() - frac.min() > 62 or frac.max() > 1000:
        raise ValueError(f"{where}: its output channels lie on power-of-two grids too far apart to align")
    codes = grouped * np.exp2(frac.astype(np.float64))[:, None, None]
    if float(np.max(np.abs(codes), initial=0.0)) >= 2.0 ** (_MAX_CODE_BITS - 1):
        raise ValueError(f"{where}: its output needs more than {_MAX_CODE_BITS}-bit codes on a power-of-two "
                         "grid per output channel (a float scale such as alpha='auto' is not exact in "
                         "fixed point; use alpha=1 or 'auto_po2', quantized_po2 or a keras_wc quantizer)")
    uniform = np.all(frac == frac[0])
    return codes.astype(np.int64), int(frac[0]) if uniform else frac.astype(np.int64)


#: ``Encoding.config[GRID_KEY]`` of a kernel read exactly from its quantizer's output (not its declared grid)
GRID_KEY = "grid"
EXACT_GRID = "exact"


def _encoding(method: str, layout: FanInLayout, codes: np.ndarray, params: dict, source: str,
              grouped: bool = False, exact: bool = False) -> Encoding:
    arrays = {"codes": codes if grouped else layout.to_groups(codes, NP)}
    config = {"qkeras": source, GRID_KEY: EXACT_GRID} if grouped or exact else {"qkeras": source}
    return Encoding(method=method, layout=layout, config=config, arrays=arrays, params=params)


def read_exactly(encoding: Encoding) -> bool:
    """Whether a QKeras kernel's encoding was read exactly from the quantizer's output (per-channel grids).

    hls4ml's own Dense/Conv then need the kernel's exact values (its ``qkeras_factorize_alpha`` pass
    would otherwise move the scale into an ``ApplyAlpha`` layer the datapath does not describe).
    """
    return encoding.config.get(GRID_KEY) == EXACT_GRID


def _declared_grid(quantizer) -> bool:
    """A ``quantized_bits`` whose output lies on its declared grid (``alpha`` None or 1)."""
    from qkeras.quantizers import quantized_bits

    alpha = getattr(quantizer, "alpha", None)
    unit = alpha is None or (not isinstance(alpha, str) and np.size(alpha) == 1 and float(np.ravel(alpha)[0]) == 1.0)
    return isinstance(quantizer, quantized_bits) and unit


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
        ValueError: an output off its declared grid, or off any power-of-two grid per output
            channel with codes of at most 16 bits (a float scale: ``alpha="auto"``).

    Example:
        >>> enc = encode_qkeras(quantized_bits(4, 0, 1, alpha=1), np.full((3, 2), 0.3), "auto", "fc")
        >>> enc.method, enc.params["frac"], enc.arrays["codes"].ravel().tolist()
        ('dfp', 3, [2, 2, 2, 2, 2, 2])
    """
    from qkeras.quantizers import quantized_po2

    where = f"layer {layer!r}: weight quantizer {quantizer}"
    layout = FanInLayout(tuple(kernel.shape), "filter", kernel_layout)
    values = np.asarray(quantizer(np.asarray(kernel, np.float32)), np.float32)
    if isinstance(quantizer, quantized_po2):
        magnitude = np.abs(values.astype(np.float64))
        exponent = np.round(np.log2(np.where(magnitude > 0, magnitude, 1.0))).astype(np.int64)
        e_min = int(exponent.min(initial=0))
        _codes_on_grid(values, -e_min, where)
        codes = np.where(values < 0, -1, 1) * (exponent - e_min + 1)
        # exact: hls4ml's exponent-weight product is not the datapath's on wide inputs
        return _encoding("po2", layout, codes, {"e_min": e_min}, str(quantizer), exact=True)
    if not _declared_grid(quantizer):
        codes, frac = _exact_per_channel(values, layout, where)
        return _encoding("dfp", layout, codes, {"frac": frac}, str(quantizer), grouped=True)
    frac = int(quantizer.bits) - int(bool(quantizer.keep_negative)) - int(quantizer.integer)
    codes = _codes_on_grid(values, frac, where)
    if int(np.max(np.abs(codes), initial=0)) >= 1 << (_MAX_CODE_BITS - 1):
        raise ValueError(f"{where}: its output needs more than {_MAX_CODE_BITS}-bit codes on a "
                         "power-of-two grid; use quantized_bits/quantized_po2 or a keras_wc quantizer")
    return _encoding("dfp", layout, codes, {"frac": frac}, str(quantizer))
