"""One report row per kernel layer: storage and arithmetic of that layer per inference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple

import numpy as np
import tensorflow as tf
from qkeras.quantizers import quantized_po2

from ..methods import is_compression_quantizer, method_of
from .costs import FLOAT32_BITS, SHIFT_ADD_MAX_BITS, Cost, bias_bits, declared_bits, per_weight_cost
from .layers import KernelLayer


@dataclass(frozen=True)
class LayerRow:
    """Storage and arithmetic of one kernel layer (all counts per inference).

    Attributes:
        name: layer name.
        layer_class: layer class name.
        method: ``swc``/``poly``/``dfp``/``po2``/``ternary``, a QKeras quantizer class
            name, or ``float32``.
        settings: ``str(quantizer)`` (``float32`` without one).
        weights: kernel weights.
        biases: bias values.
        zero_fraction: fraction of exact zeros in the fake-quantized kernel.
        kernel_bits: stored kernel bits (codes + scales + coefficients).
        bias_bits: stored bias bits (32 per value unless a bias quantizer declares ``bits``).
        weight_bits: ``kernel_bits + bias_bits``.
        table_bits: per-layer code table ROM (SparseTernary), reported apart.
        float32_bits: ``32 * (weights + biases)``.
        parameters: stored parameters (see :class:`~keras_wc.report.costs.Cost`).
        positions: output positions.
        macs: multiply-accumulates of the dense equivalent (``weights * positions``).
        full_mults: full multiplications.
        shift_adds: shift-add operations.
    """

    name: str
    layer_class: str
    method: str
    settings: str
    weights: int
    biases: int
    zero_fraction: float
    kernel_bits: int
    bias_bits: int
    weight_bits: int
    table_bits: int
    float32_bits: int
    parameters: int
    positions: int
    macs: int
    full_mults: int
    shift_adds: int

    @property
    def compression(self) -> float:
        """``float32_bits / weight_bits``."""
        return self.float32_bits / self.weight_bits


def layer_row(layer: KernelLayer) -> LayerRow:
    """Count one kernel layer.

    Args:
        layer: a kernel layer from :func:`~keras_wc.report.layers.kernel_layers`.

    Returns:
        Its :class:`LayerRow`.

    Raises:
        ValueError: for a QKeras quantizer without a ``bits`` attribute.

    Example:
        >>> row = layer_row(KernelLayer("d", "Dense", np.ones((4, 3), np.float32), None, None, None, 1))
        >>> (row.macs, row.full_mults, row.weight_bits)
        (12, 12, 384)
    """
    method, quantized, cost, table_bits = _kernel_cost(layer)
    biases = 0 if layer.bias is None else int(layer.bias.size)
    stored_bias_bits = bias_bits(layer.bias_quantizer, biases)
    weights = int(layer.kernel.size)
    return LayerRow(
        name=layer.name, layer_class=layer.layer_class, method=method,
        settings="float32" if layer.quantizer is None else str(layer.quantizer),
        weights=weights, biases=biases, zero_fraction=float(np.count_nonzero(quantized == 0) / weights),
        kernel_bits=cost.kernel_bits, bias_bits=stored_bias_bits, weight_bits=cost.kernel_bits + stored_bias_bits,
        table_bits=table_bits, float32_bits=FLOAT32_BITS * (weights + biases), parameters=cost.parameters,
        positions=layer.positions, macs=weights * layer.positions,
        full_mults=cost.full_mults * layer.positions, shift_adds=cost.shift_adds * layer.positions)


def _kernel_cost(layer: KernelLayer) -> Tuple[str, np.ndarray, Cost, int]:
    """``(method, fake-quantized kernel, cost per position, table bits)`` of one kernel."""
    quantizer: Any = layer.quantizer
    if quantizer is None:
        return "float32", layer.kernel, per_weight_cost(layer.kernel, True, FLOAT32_BITS), 0
    if is_compression_quantizer(quantizer):
        encoding = quantizer.encode(layer.kernel)
        method = method_of(encoding)
        return method.name, quantizer.decode(encoding), method.cost(encoding), method.table_bits(encoding)
    try:
        bits = declared_bits(quantizer)
    except ValueError as error:
        raise ValueError(f"layer {layer.name!r}: {error}") from None
    quantized = np.asarray(quantizer(tf.constant(layer.kernel)))
    high_precision = int(bits) > SHIFT_ADD_MAX_BITS and not isinstance(quantizer, quantized_po2)
    return type(quantizer).__name__, quantized, per_weight_cost(quantized, high_precision, int(bits)), 0
