"""Counting rules and bit counts: what one kernel stores and computes.

The rule (docs/methods.md, "Counting"): a **full multiplication** is a product whose
weight-side operand is a stored high-precision value (a scale, a MAW, a polynomial
coefficient, a DFP or QKeras weight of more than 4 bits, a float32 weight). A product by a
power of two, by +/-1 or 0, or by a code of at most 4 bits is a **shift-add**.

Conventions shared by every method (``docs/report.md``):

* counts are per output *position* (multiply by the layer's output positions);
* a product whose weight-side operand is exactly zero is not performed and not counted
  (pruned weights are skipped; the structural count is the layer's MACs);
* accumulation additions are not counted (the dense layer has them too);
* power-of-two rescales (fractional lengths) are wiring and not counted.

A registered method's rule is its :meth:`~keras_wc.methods.Method.cost` (:func:`encoded_cost`);
kernels without a keras_wc quantizer (float32, QKeras) follow :func:`per_weight_cost`.
:func:`kernel_bits` and :func:`bias_bits` are the one bit count of the report, of
:func:`keras_wc.hls.resources` and of :class:`~keras_wc.callbacks.PrecisionScaling`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..methods import is_compression_quantizer, method_of
from ..methods.base import Cost
from ..methods.dfp import SHIFT_ADD_MAX_BITS
from ..quantizers.base import Encoding

FLOAT32_BITS = 32

__all__ = ["Cost", "FLOAT32_BITS", "SHIFT_ADD_MAX_BITS", "bias_bits", "encoded_cost", "kernel_bits",
           "per_weight_cost"]


def encoded_cost(encoding: Encoding) -> Cost:
    """The cost of an encoded kernel under its method's rule.

    Example:
        >>> encoded_cost(SWC(group="kernel").encode(np.ones((5, 5, 1, 1), np.float32))).full_mults
        1
    """
    return method_of(encoding).cost(encoding)


def per_weight_cost(quantized: np.ndarray, high_precision: bool, bits: int) -> Cost:
    """Cost of a kernel whose every weight is its own operand (float32, QKeras).

    Args:
        quantized: the fake-quantized kernel (its exact zeros are skipped).
        high_precision: True when each non-zero product is a full multiplication (but by ± a
            power of two: a shift).
        bits: stored bits per weight.

    Returns:
        One product per non-zero weight, full or shift-add; one parameter per weight.

    Example:
        >>> per_weight_cost(np.array([[0.3, 0.5, 0.0]]), high_precision=True, bits=32)
        Cost(full_mults=1, shift_adds=1, parameters=3, kernel_bits=96)
    """
    quantized = np.asarray(quantized)
    nonzero = int(np.count_nonzero(quantized))
    full = int(np.count_nonzero((quantized != 0) & (np.frexp(np.abs(quantized))[0] != 0.5))) if high_precision else 0
    return Cost(full_mults=full, shift_adds=nonzero - full,
                parameters=int(quantized.size), kernel_bits=int(quantized.size) * int(bits))


def declared_bits(quantizer: Any) -> int:
    """Bits per value of a QKeras quantizer (its ``bits``), 32 for ``None`` (float32).

    Raises:
        ValueError: a quantizer that declares no ``bits``.

    Example:
        >>> declared_bits(None)
        32
    """
    if quantizer is None:
        return FLOAT32_BITS
    bits = getattr(quantizer, "bits", None)
    if bits is None:
        raise ValueError(f"quantizer {quantizer} declares no bits; cannot count its storage")
    return int(bits)


def kernel_bits(quantizer: Any, shape: Sequence[int]) -> int:
    """Stored bits of a kernel of ``shape``: a keras_wc quantizer's exact ``memory_bits``,
    else ``bits`` (or 32 for float32) per weight.

    Example:
        >>> kernel_bits(None, (4, 3)), kernel_bits(DFP(bits=4), (4, 3))
        (384, 56)
    """
    if is_compression_quantizer(quantizer):
        return int(quantizer.memory_bits(tuple(shape)))
    return int(np.prod(shape, dtype=np.int64)) * declared_bits(quantizer)


def bias_bits(bias_quantizer: Any, count: int) -> int:
    """Stored bits of ``count`` biases: the bias quantizer's ``bits`` each, 32 for float32.

    Example:
        >>> bias_bits(None, 10)
        320
    """
    return int(count) * declared_bits(bias_quantizer)
