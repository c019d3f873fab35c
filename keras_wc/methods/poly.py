"""PolyApprox: weights replaced by per-group polynomial coefficients over ranked buckets.

``S_j = sum_i k_i**j x_i`` per group (``S_0`` is input-only and shared by every output: data
reuse), ``A = sum_g sum_j coef_gj S_j`` (computation reuse): ``degree + 1`` full
multiplications per group (docs/methods.md, "PolyApprox").
"""

from __future__ import annotations

from typing import Callable, List, Tuple

import numpy as np

from ..hls_include import include_dir
from ..quantizers.base import Encoding
from ..quantizers.poly import PolyApprox
from .base import Argument, Cost, Gains, KernelResult, Method, ScaledSums, group_terms, like, wide


def bucket_powers(encoding: Encoding) -> np.ndarray:
    """``k**j`` per weight for ``j = 0..degree``: ``(n_out, n_groups, group_size, degree+1)``,
    zero at padding (so ``S_j`` sums real positions only).

    Example:
        >>> bucket_powers(PolyApprox(levels=4).encode(np.ones((4, 1), np.float32))).shape
        (1, 1, 4, 2)
    """
    degree = encoding.arrays["coef"].shape[-1] - 1
    codes = encoding.arrays["codes"].astype(np.int64)
    valid = np.broadcast_to(encoding.layout.valid(), codes.shape)
    return np.stack([np.where(valid, codes ** j, 0) for j in range(degree + 1)], axis=-1)


class PolyMethod(Method):
    """The polynomial-approximation method."""

    name = "poly"
    quantizer = PolyApprox
    header = include_dir() / "sqnap_poly.h"
    core = "sqnap::poly_core"
    controls = ("frozen",)
    frac_param = "coef_frac"

    def gains(self, encoding: Encoding) -> Gains:
        sums = wide(bucket_powers(encoding).sum(axis=2))          # (n_out, n_groups, degree+1)
        coef = wide(np.abs(np.broadcast_to(encoding.arrays["coef"], sums.shape)))
        return (coef * sums).sum(axis=(1, 2)), int(sums.max(initial=0))

    def kernel(self, x: np.ndarray, encoding: Encoding) -> KernelResult:
        """``S_j = sum k_i**j x_i`` per group, ``A = sum_g sum_j coef_gj S_j``."""
        powers = bucket_powers(encoding)
        sums = (x[..., None] * like(powers, x)).sum(axis=-2)       # (rows, n_out, n_groups, terms)
        coef = np.broadcast_to(encoding.arrays["coef"], powers.shape[:2] + powers.shape[3:])
        return (sums * like(coef, sums)).sum(axis=(-1, -2)), sums

    def scaled_sums(self, encoding: Encoding) -> ScaledSums:
        """One term per group and power ``j``: the bucket indices ``k**j`` scaled by ``coef_gj``
        (``S_0``'s weights are all 1: identical sums of different outputs are shared, data reuse)."""
        powers = bucket_powers(encoding)                              # (n_out, n_groups, size, terms)
        n_out, n_groups, _, terms = powers.shape
        coef = np.broadcast_to(encoding.arrays["coef"], (n_out, n_groups, terms))
        return ScaledSums(group_terms(powers.transpose(0, 1, 3, 2)), wide(coef).reshape(n_out, n_groups * terms))

    def cost(self, encoding: Encoding) -> Cost:
        """``y = sum_g a*S0 + b*S1 (+ c*S2)`` per output unit.

        Full multiplications: one per non-zero coefficient of each group and output unit
        whose sum can be non-zero. Shift-adds: ``S0`` costs one add per input of the group
        (shared by all output units when the coefficients are per layer: data reuse); each
        ``S_j`` (j >= 1) one shift-add per non-zero bucket index. Parameters: coefficients only.
        """
        buckets, coef = encoding.arrays["codes"], encoding.arrays["coef"]
        degree = coef.shape[-1] - 1
        group_shape = buckets.shape[:2]
        inputs_per_group = encoding.layout.valid().sum(axis=1)
        sum_is_live = [np.broadcast_to(inputs_per_group > 0, group_shape)] + [(buckets != 0).any(axis=2)] * degree
        full = sum(int(np.count_nonzero(np.broadcast_to(coef[..., j] != 0, group_shape) & sum_is_live[j]))
                   for j in range(degree + 1))
        s0_copies = 1 if coef.shape[0] == 1 else encoding.layout.n_out
        shift_adds = s0_copies * int(inputs_per_group.sum()) + degree * int(np.count_nonzero(buckets))
        return Cost(full_mults=full, shift_adds=shift_adds, parameters=int(coef.size),
                    kernel_bits=encoding.memory_bits)

    def processor_multipliers(self, encoding: Encoding) -> Tuple[int, int]:
        """Per output: a coefficient per group and degree ``j >= 1``; ``a * S0`` per output with
        per-output coefficients, else once per round per group and input vector (data reuse)."""
        layout = encoding.layout
        degree = encoding.arrays["coef"].shape[-1] - 1
        if encoding.arrays["coef"].shape[0] != 1:
            return layout.n_groups * (degree + 1), 0
        vectors = layout.shape[2] if layout.kernel_layout == "depthwise" else 1
        return layout.n_groups * degree, vectors * layout.n_groups

    def arguments(self, encoding: Encoding) -> List[Argument]:
        return [Argument("codes", encoding.arrays["codes"]), Argument("coef", encoding.arrays["coef"])]

    def config_lines(self, encoding: Encoding, type_of: Callable[[str], str]) -> List[str]:
        coef = encoding.arrays["coef"]
        return [f"typedef {type_of('codes')} code_t;", f"typedef {type_of('coef')} coef_t;",
                f"static const unsigned degree = {int(coef.shape[-1]) - 1};",
                f"static const unsigned n_coef_out = {int(coef.shape[0])};"]

    def quantization_step(self, quantizer, quantized):
        """``(max Q - min Q) / (levels - 1)``: the spacing of the bucket values."""
        import tensorflow as tf

        step = (tf.reduce_max(quantized) - tf.reduce_min(quantized)) / float(quantizer.levels - 1)
        return tf.where(step > 0, step, tf.ones_like(step))
