"""Per-method integer facts of an :class:`~keras_wc.quantizers.Encoding` (docs/datapath.md).

For each compression method this module states, from the encoded integers alone:

* ``frac(enc)`` — the fractional length the method adds to the input's ``fx``: the
  accumulator ``A`` stands for ``A * 2**-(frac + fx)`` (divided by ``denominator`` for SWC
  fixed). Per output unit, as an ``(n_out,)`` int array (DFP per-channel differs per unit).
* ``denominator(enc)`` — the odd constant ``D`` of SWC fixed, 1 elsewhere.
* ``gains(enc)`` — per output unit, an integer ``G`` with ``|A| <= G * max|x|`` for every
  intermediate sum of the method's kernel (so partial sums are covered too), and the
  bound ``g`` with ``|partial sum| <= g * max|x|`` of the per-group sums (``P_g``, ``S_k``).

The emulator's kernels (``keras_wc/emulate/kernels.py``) and the HLS headers implement the
arithmetic; these facts size their types. Keys: :func:`method_key`.
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np

from ..quantizers.base import Encoding

Gains = Tuple[np.ndarray, int]


def method_key(enc: Encoding) -> str:
    """The datapath name of an encoding: ``swc_fixed``, ``swc_po2``, ``dfp``, ``po2``, ``ternary``, ``poly``.

    Raises:
        ValueError: for an unknown method.

    Example:
        >>> method_key(SWC(group=4).encode(np.ones((8, 2), np.float32)))
        'swc_fixed'
    """
    if enc.method == "swc":
        return f"swc_{enc.config.get('sw_format', 'fixed')}"
    if enc.method in ("dfp", "po2", "ternary", "poly"):
        return enc.method
    raise ValueError(f"encoding method {enc.method!r} has no integer datapath; "
                     "expected swc, dfp, po2, ternary or poly")


def wide(values) -> np.ndarray:
    """``values`` as an object array of Python ints (bounds never overflow)."""
    return np.vectorize(int, otypes=[object])(np.asarray(values))


def per_output(value, n_out: int) -> np.ndarray:
    """A scalar, ``(1,)`` or ``(n_out,)`` integer parameter as ``(n_out,)`` int64."""
    return np.broadcast_to(np.asarray(value, dtype=np.int64).reshape(-1), (n_out,)).copy()


def swc_denominator(enc: Encoding) -> int:
    """``D = 2**(sw_bits-1) - 1`` of an SWC encoding."""
    return (1 << (int(enc.config["sw_bits"]) - 1)) - 1


def swc_max_shift(enc: Encoding) -> int:
    """``J = 2**(sw_bits-1) - 2``: the po2 scaling weights are ``2**(J-j) / 2**J``."""
    return (1 << (int(enc.config["sw_bits"]) - 1)) - 2


def swc_po2_shifts(enc: Encoding) -> Tuple[np.ndarray, np.ndarray]:
    """Per weight ``(sign, shift)`` with the po2 scaling weight ``= sign * 2**shift / 2**J``,
    ``shift = J - j`` (sign 0 for code 0)."""
    codes = enc.arrays["codes"].astype(np.int64)
    return np.sign(codes), np.where(codes == 0, 0, swc_max_shift(enc) - (np.abs(codes) - 1))


def po2_shifts(enc: Encoding) -> Tuple[np.ndarray, np.ndarray]:
    """Per weight ``(sign, shift)`` with the weight ``= sign * 2**(shift + e_min)`` (sign 0 for code 0)."""
    codes = enc.arrays["codes"].astype(np.int64)
    return np.sign(codes), np.maximum(np.abs(codes) - 1, 0)


def _multipliers(sign_shift: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    sign, shift = sign_shift
    return sign * (np.int64(1) << shift)


def ternary_patterns(enc: Encoding) -> np.ndarray:
    """``t`` per weight, grouped shape ``(n_out, n_groups, n)``: ``table[codes]``."""
    return np.asarray(enc.table, dtype=np.int64)[enc.arrays["codes"].astype(np.int64)]


def poly_powers(enc: Encoding) -> np.ndarray:
    """``k**j`` per weight for ``j = 0..degree``: shape ``(n_out, n_groups, group_size, degree+1)``,
    zero at padding (so ``S_j = sum k**j x`` over real positions only)."""
    degree = enc.arrays["coef"].shape[-1] - 1
    codes = enc.arrays["codes"].astype(np.int64)
    valid = np.broadcast_to(enc.layout.valid(), codes.shape)
    return np.stack([np.where(valid, codes ** j, 0) for j in range(degree + 1)], axis=-1)


def _group_gain(multipliers: np.ndarray, scales) -> Gains:
    """Gains of ``A = sum_g scale_g * sum_i m_i x_i`` (per-weight multipliers, per-group scales)."""
    partial = wide(np.abs(multipliers).sum(axis=-1))
    total = (partial * wide(np.abs(scales))).sum(axis=-1)
    return total, int(partial.max(initial=0))


def _swc_fixed(enc: Encoding) -> Gains:
    return _group_gain(enc.arrays["codes"].astype(np.int64), enc.arrays["maw"])


def _swc_po2(enc: Encoding) -> Gains:
    return _group_gain(_multipliers(swc_po2_shifts(enc)), enc.arrays["maw"])


def _dfp(enc: Encoding) -> Gains:
    return _group_gain(enc.arrays["codes"].astype(np.int64), 1)


def _po2(enc: Encoding) -> Gains:
    return _group_gain(_multipliers(po2_shifts(enc)), 1)


def _ternary(enc: Encoding) -> Gains:
    n_out = enc.layout.n_out
    pattern_sum = wide(np.abs(ternary_patterns(enc)).sum(axis=(1, 2)))
    total = pattern_sum * wide(np.abs(per_output(enc.arrays["delta"], n_out)))
    if "mean" in enc.arrays:
        total = total + wide(np.abs(per_output(enc.arrays["mean"], n_out))) * enc.layout.fan_in
    return total, max(int(pattern_sum.max(initial=0)), enc.layout.fan_in if "mean" in enc.arrays else 0)


def _poly(enc: Encoding) -> Gains:
    sums = wide(poly_powers(enc).sum(axis=2))          # (n_out, n_groups, degree+1): sum k**j
    coef = wide(np.abs(np.broadcast_to(enc.arrays["coef"], sums.shape)))
    return (coef * sums).sum(axis=(1, 2)), int(sums.max(initial=0))


GAINS: Dict[str, Callable[[Encoding], Gains]] = {
    "swc_fixed": _swc_fixed, "swc_po2": _swc_po2, "dfp": _dfp, "po2": _po2,
    "ternary": _ternary, "poly": _poly,
}


def frac(enc: Encoding) -> np.ndarray:
    """Per-output fractional length added by the weights (see module docstring).

    Example:
        >>> frac(Po2(bits=4).encode(np.full((4, 2), 0.5, np.float32))).tolist()   # e_min = -7
        [7, 7]
    """
    key, n_out = method_key(enc), enc.layout.n_out
    if key == "swc_fixed":
        return per_output(enc.params["maw_frac"], n_out)
    if key == "swc_po2":
        return per_output(int(enc.params["maw_frac"]) + swc_max_shift(enc), n_out)
    if key == "dfp":
        return per_output(enc.params["frac"], n_out)
    if key == "po2":
        return per_output(-int(enc.params["e_min"]), n_out)
    if key == "ternary":
        return per_output(enc.params["delta_frac"], n_out)
    return per_output(enc.params["coef_frac"], n_out)


def denominator(enc: Encoding) -> int:
    """``D`` for SWC fixed (odd), else 1.

    Example:
        >>> denominator(SWC(sw_bits=4, group=4).encode(np.ones((8, 2), np.float32)))
        7
    """
    return swc_denominator(enc) if method_key(enc) == "swc_fixed" else 1


def gains(enc: Encoding) -> Gains:
    """``(G (n_out,) object ints, g int)``: ``|A| <= G*max|x|``, ``|partial| <= g*max|x|``.

    Example:
        >>> G, g = gains(DFP(bits=8).encode(np.full((4, 2), 0.5, np.float32)))
        >>> G.tolist(), g      # 0.5 * 2**8 = 128 saturates to code 127; four per output
        ([508, 508], 508)
    """
    return GAINS[method_key(enc)](enc)
