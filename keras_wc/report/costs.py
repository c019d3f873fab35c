"""Counting rules: what one kernel stores and computes, one function per method.

The rule (``shared/design/METHODS.md``): a **full multiplication** is a product whose
weight-side operand is a stored high-precision value (a scale, a MAW, a polynomial
coefficient, a DFP or QKeras weight of more than 4 bits, a float32 weight). A product by a
power of two, by +/-1 or 0, or by a code of at most 4 bits is a **shift-add**.

Conventions shared by every method (``docs/report.md``):

* counts are per output *position* (multiply by the layer's output positions);
* a product whose weight-side operand is exactly zero is not performed and not counted
  (pruned weights are skipped; the structural count is the layer's MACs);
* accumulation additions are not counted (the dense layer has them too);
* power-of-two rescales (fractional lengths) are wiring and not counted.

Each ``*_cost`` function is the single place where its method's rule lives; ``ENCODED_COSTS``
maps a keras_wc ``Encoding.method`` to its function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

import numpy as np

from ..quantizers.base import Encoding

#: widest weight code whose product is still a shift-add (METHODS.md)
SHIFT_ADD_MAX_BITS = 4
FLOAT32_BITS = 32


@dataclass(frozen=True)
class Cost:
    """What one kernel costs per output position, and what it stores.

    Attributes:
        full_mults: full multiplications per output position.
        shift_adds: shift-add operations per output position.
        parameters: stored parameters: coefficients for PolyApprox, codes + scales
            (the ``count`` fields of ``Encoding.storage``) otherwise, one per weight for
            float32 and QKeras kernels.
        kernel_bits: stored bits of the kernel (codes + scales + coefficients, no table).

    Example:
        >>> per_weight_cost(np.array([[0.5, 0.0]]), high_precision=True, bits=32)
        Cost(full_mults=1, shift_adds=0, parameters=2, kernel_bits=64)
    """

    full_mults: int
    shift_adds: int
    parameters: int
    kernel_bits: int


def per_weight_cost(quantized: np.ndarray, high_precision: bool, bits: int) -> Cost:
    """Cost of a kernel whose every weight is its own operand (float32, DFP, Po2, QKeras).

    Args:
        quantized: the fake-quantized kernel (its exact zeros are skipped).
        high_precision: True when each non-zero product is a full multiplication.
        bits: stored bits per weight.

    Returns:
        One product per non-zero weight, full or shift-add; one parameter per weight.

    Example:
        >>> per_weight_cost(np.ones((4, 2)), high_precision=False, bits=4).shift_adds
        8
    """
    nonzero = int(np.count_nonzero(quantized))
    return Cost(full_mults=nonzero if high_precision else 0, shift_adds=0 if high_precision else nonzero,
                parameters=int(quantized.size), kernel_bits=int(quantized.size) * int(bits))


def _stored_values(encoding: Encoding) -> int:
    """Codes + scales: the number of values in ``encoding.storage``."""
    return int(sum(count for count, _ in encoding.storage.values()))


def swc_cost(encoding: Encoding) -> Cost:
    """SWC: one full multiplication per live group (by its MAW), one shift-add per non-zero code.

    ``sw_format="fixed"`` adds one constant division by ``D = 2**(sw_bits-1) - 1`` per output
    unit (docs/datapath.md): a constant-coefficient operation, counted as one shift-add
    (none when ``D == 1``). A group whose codes are all zero (or whose MAW is zero) costs
    nothing.

    Example:
        >>> swc_cost(SWC(group="kernel").encode(np.ones((5, 5, 1, 1), np.float32))).full_mults
        1
    """
    codes, maw = encoding.arrays["codes"], encoding.arrays["maw"]
    live = codes != 0
    scaled_groups = int(np.count_nonzero(live.any(axis=2) & (maw != 0)))
    denominator = (1 << (int(encoding.config["sw_bits"]) - 1)) - 1
    divides = encoding.config["sw_format"] == "fixed" and denominator > 1
    divisions = encoding.layout.n_out if divides else 0
    return Cost(full_mults=scaled_groups, shift_adds=int(np.count_nonzero(live)) + divisions,
                parameters=_stored_values(encoding), kernel_bits=encoding.memory_bits)


def poly_cost(encoding: Encoding) -> Cost:
    """PolyApprox: ``y = sum_g a*S0 + b*S1 (+ c*S2)`` per output unit.

    Full multiplications: one per non-zero coefficient of each group and output unit
    whose sum can be non-zero (``degree + 1`` per group per output unit in general).
    Shift-adds: ``S0 = sum x_i`` costs one add per input of the group (shared by all output
    units when the coefficients are per layer, METHODS.md "data reuse"); each
    ``S_j = sum k_i**j x_i`` (j >= 1) costs one shift-add per non-zero bucket index.
    Parameters: the coefficients only (what the paper's parameter reduction counts).

    Example:
        >>> enc = PolyApprox(levels=4, degree=1).encode(np.ones((8, 2), np.float32))
        >>> poly_cost(enc).parameters
        4
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


def ternary_cost(encoding: Encoding) -> Cost:
    """SparseTernary: one add/subtract per non-zero pattern entry, ``delta`` once per output unit.

    The pattern look-up is a ROM read (not an operation). With weight normalization
    (a ``mean`` array) each non-zero mean adds one full multiplication by ``sum x``, and
    ``sum x`` (shared by every output unit) adds ``fan_in`` adds per position.

    Example:
        >>> enc = SparseTernary(n=8, k=2).encode(np.eye(8, dtype=np.float32))
        >>> ternary_cost(enc).full_mults
        8
    """
    patterns = np.asarray(encoding.table)[encoding.arrays["codes"]]
    signs_per_output = np.count_nonzero(patterns.reshape(patterns.shape[0], -1), axis=1)
    delta = np.broadcast_to(encoding.arrays["delta"].reshape(-1), signs_per_output.shape)
    full = int(np.count_nonzero((signs_per_output > 0) & (delta != 0)))
    shift_adds = int(signs_per_output.sum())
    if "mean" in encoding.arrays:
        full += int(np.count_nonzero(encoding.arrays["mean"]))
        shift_adds += encoding.layout.fan_in
    return Cost(full_mults=full, shift_adds=shift_adds, parameters=_stored_values(encoding),
                kernel_bits=encoding.memory_bits)


def dfp_cost(encoding: Encoding) -> Cost:
    """DFP: one product per non-zero code, a full multiplication when codes have > 4 bits.

    Example:
        >>> dfp_cost(DFP(bits=4).encode(np.ones((3, 2), np.float32))).shift_adds
        6
    """
    codes = encoding.arrays["codes"]
    high_precision = encoding.storage["codes"][1] > SHIFT_ADD_MAX_BITS
    nonzero = int(np.count_nonzero(codes))
    return Cost(full_mults=nonzero if high_precision else 0, shift_adds=0 if high_precision else nonzero,
                parameters=_stored_values(encoding), kernel_bits=encoding.memory_bits)


def po2_cost(encoding: Encoding) -> Cost:
    """Po2: every non-zero weight is a signed shift (shift-add); no full multiplication.

    Example:
        >>> po2_cost(Po2(bits=4).encode(np.ones((3, 2), np.float32))).full_mults
        0
    """
    return Cost(full_mults=0, shift_adds=int(np.count_nonzero(encoding.arrays["codes"])),
                parameters=_stored_values(encoding), kernel_bits=encoding.memory_bits)


#: keras_wc ``Encoding.method`` -> its counting rule
ENCODED_COSTS: Dict[str, Callable[[Encoding], Cost]] = {
    "swc": swc_cost, "poly": poly_cost, "ternary": ternary_cost, "dfp": dfp_cost, "po2": po2_cost,
}
