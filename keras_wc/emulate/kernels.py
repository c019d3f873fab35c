"""One integer kernel per compression method (docs/datapath.md, "Layer arithmetic").

Each kernel takes the grouped inputs ``X`` — ``(rows, n_out, n_groups, group_size)``
integers, zero at padding — and the layer's :class:`~keras_wc.quantizers.Encoding`, and
returns ``(A, P)``: the accumulator ``(rows, n_out)`` and the per-group partial sums it
formed (``(rows, n_out, n_groups[, terms])``; checked against ``partial_format``). Only
integer operations appear: products by low-bit codes, shifts, and one product per group
(SWC, poly) or per output (ternary ``delta``) by a stored scale.
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np

from ..datapath import methods
from ..quantizers.base import Encoding

Result = Tuple[np.ndarray, np.ndarray]


def _as(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Integer parameters in the dtype of the data (``object`` when the data is wide)."""
    return methods.wide(values) if like.dtype == object else np.asarray(values, np.int64)


def _shift_sums(x: np.ndarray, sign_shift: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``sum_i sign_i * (x_i << shift_i)`` per group (sign 0 drops a term)."""
    sign, shift = sign_shift
    return ((x << _as(shift, x)) * _as(sign, x)).sum(axis=-1)


def _per_group_scale(sums: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``sum_g scale_g * P_g``: one product per group by the stored scale."""
    return (sums * _as(scale, sums)).sum(axis=-1)


def swc_fixed(x: np.ndarray, enc: Encoding) -> Result:
    """``P_g = sum c_i x_i`` (codes of ``sw_bits``), ``A = sum_g M_g P_g``."""
    partial = (x * _as(enc.arrays["codes"], x)).sum(axis=-1)
    return _per_group_scale(partial, enc.arrays["maw"]), partial


def swc_po2(x: np.ndarray, enc: Encoding) -> Result:
    """``P_g = sum sign_i (x_i << (J - j_i))``, ``A = sum_g M_g P_g``."""
    partial = _shift_sums(x, methods.swc_po2_shifts(enc))
    return _per_group_scale(partial, enc.arrays["maw"]), partial


def dfp(x: np.ndarray, enc: Encoding) -> Result:
    """``A = sum c_i x_i`` (the result grid per output is aligned by the caller)."""
    partial = (x * _as(enc.arrays["codes"], x)).sum(axis=-1)
    return partial.sum(axis=-1), partial


def po2(x: np.ndarray, enc: Encoding) -> Result:
    """``A = sum sign_i (x_i << (e_i - e_min))``: shifts only."""
    partial = _shift_sums(x, methods.po2_shifts(enc))
    return partial.sum(axis=-1), partial


def ternary(x: np.ndarray, enc: Encoding) -> Result:
    """``P = sum t_i x_i`` (pattern look-up, add/subtract), ``A = delta P (+ mean * sum x)``."""
    n_out = enc.layout.n_out
    patterns = methods.ternary_patterns(enc)
    partial = (x * _as(patterns, x)).sum(axis=-1)
    acc = partial.sum(axis=-1) * _as(methods.per_output(enc.arrays["delta"], n_out), x)
    if "mean" in enc.arrays:
        acc = acc + x.sum(axis=(-1, -2)) * _as(methods.per_output(enc.arrays["mean"], n_out), x)
    return acc, partial


def poly(x: np.ndarray, enc: Encoding) -> Result:
    """``S_j = sum k_i**j x_i`` per group, ``A = sum_g sum_j coef_gj S_j`` (computation reuse)."""
    powers = methods.poly_powers(enc)                                  # (n_out, n_groups, gs, terms)
    sums = (x[..., None] * _as(powers, x)).sum(axis=-2)                 # (rows, n_out, n_groups, terms)
    coef = np.broadcast_to(enc.arrays["coef"], powers.shape[:2] + powers.shape[3:])
    return (sums * _as(coef, sums)).sum(axis=(-1, -2)), sums


KERNELS: Dict[str, Callable[[np.ndarray, Encoding], Result]] = {
    "swc_fixed": swc_fixed, "swc_po2": swc_po2, "dfp": dfp, "po2": po2, "ternary": ternary, "poly": poly,
}
