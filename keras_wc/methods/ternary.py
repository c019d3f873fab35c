"""SparseTernary: at most ``k`` of every ``n`` weights are +/-1, one pattern index per group.

``P_o = sum_g sum_i table[code_og][i] x_i`` (ROM look-up, add/subtract), ``A_o = delta_o P_o``
(``+ mean_o * sum x`` with weight normalization): one full multiplication per output
(docs/methods.md, "SparseTernary"). A power-of-two ``delta`` (``delta_format="po2"``) is no
array at all: it is the per-output fractional length, so ``A_o = P_o`` and the shared
alignment shift applies it: no multiplication.
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
#: width of the one-entry ``{0}`` ``delta``/``mean`` array passed to the core of a layer without one
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


def deltas(encoding: Encoding) -> np.ndarray:
    """Per output, the integer ``delta`` the pattern sum is multiplied by: ones when ``delta``
    is a power of two (its exponent is the output's fractional length, :meth:`TernaryMethod.frac`).

    Example:
        >>> deltas(SparseTernary(n=4, k=1, delta_format="po2").encode(np.eye(4, dtype=np.float32))).tolist()
        [1, 1, 1, 1]
    """
    n_out = encoding.layout.n_out
    return per_output(encoding.arrays["delta"], n_out) if "delta" in encoding.arrays else np.ones(n_out, np.int64)


def patterns(encoding: Encoding) -> np.ndarray:
    """``t`` per weight, grouped shape ``(n_out, n_groups, group_size)``: ``table[codes]``.

    Example:
        >>> patterns(SparseTernary(n=4, k=1).encode(np.eye(4, dtype=np.float32))).shape
        (4, 1, 4)
    """
    return stored_table(encoding)[encoding.arrays["codes"].astype(np.int64)]


def _stored_or_placeholder(encoding: Encoding, name: str) -> Argument:
    """The weight argument ``name``, or a one-entry ``{0}`` local when the encoding has no such array."""
    if name in encoding.arrays:
        return Argument(name, encoding.arrays[name])
    return Argument(name, np.zeros(1, np.int64), local=f"{name}_t", bits=PLACEHOLDER_BITS)


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
        total = pattern_sum * wide(np.abs(deltas(encoding)))
        normalized = "mean" in encoding.arrays
        if normalized:
            total = total + wide(np.abs(per_output(encoding.arrays["mean"], n_out))) * fan_in
        return total, max(int(pattern_sum.max(initial=0)), fan_in if normalized else 0)

    def kernel(self, x: np.ndarray, encoding: Encoding) -> KernelResult:
        """``P = sum t_i x_i`` (add/subtract), ``A = delta P (+ mean * sum x)``."""
        n_out = encoding.layout.n_out
        partial = (x * like(patterns(encoding), x)).sum(axis=-1)
        acc = partial.sum(axis=-1) * like(deltas(encoding), x)
        if "mean" in encoding.arrays:
            acc = acc + x.sum(axis=(-1, -2)) * like(per_output(encoding.arrays["mean"], n_out), x)
        return acc, partial

    def scaled_sums(self, encoding: Encoding) -> ScaledSums:
        """Per output: the ±1 pattern entries scaled by ``delta``; with weight normalization a second
        term, every input scaled by ``mean``."""
        n_out = encoding.layout.n_out
        signs = wide(patterns(encoding)).reshape(n_out, 1, -1)
        scales = [wide(deltas(encoding))]
        if "mean" in encoding.arrays:
            signs = np.concatenate([signs, wide(np.ones_like(signs, dtype=np.int64))], axis=1)
            scales.append(wide(per_output(encoding.arrays["mean"], n_out)))
        return ScaledSums(signs, np.stack(scales, axis=1))

    def cost(self, encoding: Encoding) -> Cost:
        """One add/subtract per non-zero pattern entry, ``delta`` once per output unit (none when
        it is a power of two: the output's alignment shift).

        The pattern look-up is a ROM read (not an operation). With weight normalization each
        non-zero mean adds one full multiplication by ``sum x``, and ``sum x`` (shared by every
        output unit) ``fan_in`` adds per position.
        """
        used = patterns(encoding)
        signs_per_output = np.count_nonzero(used.reshape(used.shape[0], -1), axis=1)
        scaled = "delta" in encoding.arrays
        full = int(np.count_nonzero((signs_per_output > 0) & (deltas(encoding) != 0))) if scaled else 0
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
        """Per output: ``delta`` (unless a power of two), and the mean times ``sum x`` with weight
        normalization."""
        return ("delta" in encoding.arrays) + ("mean" in encoding.arrays), 0

    def arguments(self, encoding: Encoding) -> List[Argument]:
        """codes, the pattern ROM (a local table), delta and mean (one-entry ``{0}`` placeholders,
        never read, for a power-of-two ``delta`` and without normalization)."""
        return [Argument("codes", encoding.arrays["codes"]),
                Argument("table", stored_table(encoding), local="table_t", bits=TABLE_ENTRY_BITS),
                _stored_or_placeholder(encoding, "delta"), _stored_or_placeholder(encoding, "mean")]

    def config_lines(self, encoding: Encoding, type_of: Callable[[str], str]) -> List[str]:
        normalized, scaled = "mean" in encoding.arrays, "delta" in encoding.arrays
        lines = [f"typedef {type_of('codes')} code_t;", f"typedef ap_int<{TABLE_ENTRY_BITS}> table_t;",
                 f"static const unsigned n_patterns = {int(stored_table(encoding).shape[0])};"]
        for name in ("delta", "mean"):
            stored = name in encoding.arrays
            count = int(np.asarray(encoding.arrays[name]).size) if stored else 1
            lines += [f"typedef {type_of(name) if stored else f'ap_int<{PLACEHOLDER_BITS}>'} {name}_t;",
                      f"static const unsigned n_{name} = {count};"]
        return lines + [f"static const bool normalize = {str(normalized).lower()};",
                        f"static const bool unit_delta = {str(not scaled).lower()};"]
