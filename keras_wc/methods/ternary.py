"""SparseTernary: at most ``k`` of every ``n`` weights are +/-1, one pattern index per group.

``P_o = sum_g sum_i table[code_og][i] x_i`` (ROM look-up, add/subtract), ``A_o = delta_o P_o``
(``+ mean_o * sum x`` with weight normalization): one full multiplication per output
(docs/methods.md, "SparseTernary").
"""

from __future__ import annotations

from typing import Callable, List, Tuple

import numpy as np

from ..hls_include import include_dir
from ..quantizers.base import Encoding
from ..quantizers.ternary import SparseTernary
from .base import Argument, Cost, Gains, KernelResult, Method, ScaledSums, like, per_output, stored_values, wide

#: bits per pattern-table entry (-1, 0, +1)
TABLE_ENTRY_BITS = 2
#: width of the one-entry ``{0}`` ``mean`` array passed to the core of an unnormalized layer
PLACEHOLDER_BITS = 2


def stored_table(encoding: Encoding) -> np.ndarray:
    """The pattern ROM as stored: ``(n_patterns, group_size)`` entries of -1, 0, +1.

    The codebook has ``n`` columns; a layer whose fan-in is shorter than ``n`` has groups of
    ``fan_in`` weights (the quantizer pads its patterns with zeros there), so only the first
    ``group_size`` columns are ever read and only those are stored.

    Args:
        encoding: a SparseTernary encoding.

    Returns:
        The table, int64.

    Example:
        >>> stored_table(SparseTernary(n=8, k=1).encode(np.eye(4, dtype=np.float32))).shape
        (9, 4)
    """
    return np.asarray(encoding.table, dtype=np.int64)[:, :encoding.layout.group_size]


def patterns(encoding: Encoding) -> np.ndarray:
    """``t`` per weight, grouped shape ``(n_out, n_groups, group_size)``: ``table[codes]``.

    Example:
        >>> patterns(SparseTernary(n=4, k=1).encode(np.eye(4, dtype=np.float32))).shape
        (4, 1, 4)
    """
    return stored_table(encoding)[encoding.arrays["codes"].astype(np.int64)]


class TernaryMethod(Method):
    """The structured sparse ternary method."""

    name = "ternary"
    quantizer = SparseTernary
    header = include_dir() / "sqnap_ternary.h"
    core = "sqnap::ternary_core"
    controls = ("active_k",)
    frac_param = "delta_frac"

    def gains(self, encoding: Encoding) -> Gains:
        n_out, fan_in = encoding.layout.n_out, encoding.layout.fan_in
        pattern_sum = wide(np.abs(patterns(encoding)).sum(axis=(1, 2)))
        total = pattern_sum * wide(np.abs(per_output(encoding.arrays["delta"], n_out)))
        normalized = "mean" in encoding.arrays
        if normalized:
            total = total + wide(np.abs(per_output(encoding.arrays["mean"], n_out))) * fan_in
        return total, max(int(pattern_sum.max(initial=0)), fan_in if normalized else 0)

    def kernel(self, x: np.ndarray, encoding: Encoding) -> KernelResult:
        """``P = sum t_i x_i`` (add/subtract), ``A = delta P (+ mean * sum x)``."""
        n_out = encoding.layout.n_out
        partial = (x * like(patterns(encoding), x)).sum(axis=-1)
        acc = partial.sum(axis=-1) * like(per_output(encoding.arrays["delta"], n_out), x)
        if "mean" in encoding.arrays:
            acc = acc + x.sum(axis=(-1, -2)) * like(per_output(encoding.arrays["mean"], n_out), x)
        return acc, partial

    def scaled_sums(self, encoding: Encoding) -> ScaledSums:
        """Per output: the ±1 pattern entries scaled by ``delta``; with weight normalization a second
        term, every input scaled by ``mean``."""
        n_out = encoding.layout.n_out
        signs = wide(patterns(encoding)).reshape(n_out, 1, -1)
        scales = [wide(per_output(encoding.arrays["delta"], n_out))]
        if "mean" in encoding.arrays:
            signs = np.concatenate([signs, wide(np.ones_like(signs, dtype=np.int64))], axis=1)
            scales.append(wide(per_output(encoding.arrays["mean"], n_out)))
        return ScaledSums(signs, np.stack(scales, axis=1))

    def cost(self, encoding: Encoding) -> Cost:
        """One add/subtract per non-zero pattern entry, ``delta`` once per output unit.

        The pattern look-up is a ROM read (not an operation). With weight normalization each
        non-zero mean adds one full multiplication by ``sum x``, and ``sum x`` (shared by every
        output unit) ``fan_in`` adds per position.
        """
        used = patterns(encoding)
        signs_per_output = np.count_nonzero(used.reshape(used.shape[0], -1), axis=1)
        delta = np.broadcast_to(encoding.arrays["delta"].reshape(-1), signs_per_output.shape)
        full = int(np.count_nonzero((signs_per_output > 0) & (delta != 0)))
        shift_adds = int(signs_per_output.sum())
        if "mean" in encoding.arrays:
            full += int(np.count_nonzero(encoding.arrays["mean"]))
            shift_adds += encoding.layout.fan_in
        return Cost(full_mults=full, shift_adds=shift_adds, parameters=stored_values(encoding),
                    kernel_bits=encoding.memory_bits)

    def table_bits(self, encoding: Encoding) -> int:
        """The pattern ROM as stored (:func:`stored_table`): 2 bits per entry, once per layer."""
        return int(stored_table(encoding).size) * TABLE_ENTRY_BITS

    def processor_multipliers(self, encoding: Encoding) -> Tuple[int, int]:
        """Per output: ``delta``, and the mean times ``sum x`` with weight normalization."""
        return 1 + ("mean" in encoding.arrays), 0

    def arguments(self, encoding: Encoding) -> List[Argument]:
        """codes, the pattern ROM (a local table), delta, mean (``{0}`` without normalization)."""
        mean = encoding.arrays.get("mean")
        return [Argument("codes", encoding.arrays["codes"]),
                Argument("table", stored_table(encoding), local="table_t", bits=TABLE_ENTRY_BITS),
                Argument("delta", encoding.arrays["delta"]),
                Argument("mean", mean) if mean is not None
                else Argument("mean", np.zeros(1, np.int64), local="mean_t", bits=PLACEHOLDER_BITS)]

    def config_lines(self, encoding: Encoding, type_of: Callable[[str], str]) -> List[str]:
        normalized = "mean" in encoding.arrays
        return [f"typedef {type_of('codes')} code_t;", f"typedef {type_of('delta')} delta_t;",
                f"typedef {type_of('mean') if normalized else f'ap_int<{PLACEHOLDER_BITS}>'} mean_t;",
                f"typedef ap_int<{TABLE_ENTRY_BITS}> table_t;",
                f"static const unsigned n_patterns = {int(stored_table(encoding).shape[0])};",
                f"static const unsigned n_delta = {int(np.asarray(encoding.arrays['delta']).size)};",
                f"static const unsigned n_mean = {int(np.asarray(encoding.arrays['mean']).size) if normalized else 1};",
                f"static const bool normalize = {str(normalized).lower()};"]
