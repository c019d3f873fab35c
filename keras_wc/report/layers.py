"""Find the layers of a Keras model that hold a kernel, with what the report needs of them.

The kernels are the weight slots of :func:`keras_wc.walker.weight_slots` (the one model
walker: ``kernel``, ``depthwise_kernel``, ``pointwise_kernel`` and their quantizers). Other
layers with weights (BatchNormalization, ...) are listed as skipped: the SQNAP flow folds
BatchNormalization into the preceding layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..walker import weight_slots

@dataclass(frozen=True)
class KernelLayer:
    """One layer's kernel, bias and geometry.

    Attributes:
        name: the Keras layer name (nested models prefix theirs: ``outer/inner``).
        layer_class: the layer's class name.
        kernel: the latent float kernel.
        quantizer: its weight quantizer, ``None`` for a float32 kernel.
        bias: the bias values, ``None`` without a bias.
        bias_quantizer: the bias quantizer, ``None`` for a float32 bias.
        positions: output positions per inference (1 for Dense on a vector input).
    """

    name: str
    layer_class: str
    kernel: np.ndarray
    quantizer: Any
    bias: Optional[np.ndarray]
    bias_quantizer: Any
    positions: int


def kernel_layers(model: tf.keras.Model, input_shape: Optional[Sequence[int]] = None
                  ) -> Tuple[List[KernelLayer], List[str]]:
    """The kernel layers of ``model`` in layer order, and the weighted layers skipped.

    Args:
        model: a Keras model (Sequential, functional; nested models are walked).
        input_shape: the input shape without the batch axis, used to build a model that
            has not been built yet.

    Returns:
        ``(kernel_layers, skipped)`` where ``skipped`` holds one line per layer that has
        weights but no kernel.

    Raises:
        ValueError: if the model is not built and ``input_shape`` is not given, or a
            layer's output shape is ambiguous.

    Example:
        >>> model = tf.keras.Sequential([tf.keras.layers.Dense(3)])
        >>> [k.positions for k in kernel_layers(model, input_shape=(4,))[0]]
        [1]
    """
    _ensure_built(model, input_shape)
    found: List[KernelLayer] = []
    skipped: List[str] = []
    _walk(model, "", found, skipped)
    return found, skipped


def _ensure_built(model: tf.keras.Model, input_shape: Optional[Sequence[int]]) -> None:
    if model.built and getattr(model, "inputs", None) is not None:
        return
    if input_shape is None:
        raise ValueError(f"model {model.name!r} is not built: pass input_shape (without the batch axis)")
    model.build((None, *(int(d) for d in input_shape)))


def _walk(model: tf.keras.Model, prefix: str, found: List[KernelLayer], skipped: List[str]) -> None:
    slots = weight_slots(model, prefix)
    with_slots = {id(weight.layer) for weight in slots}
    for weight in slots:
        layer = weight.layer
        bias = getattr(layer, "bias", None)
        found.append(KernelLayer(
            name=weight.name, layer_class=type(layer).__name__, kernel=np.asarray(weight.kernel.numpy()),
            quantizer=weight.quantizer, bias=None if bias is None else np.asarray(bias.numpy()),
            bias_quantizer=getattr(layer, "bias_quantizer_internal", None), positions=_positions(layer, weight.name)))
    for layer, name in _leaf_layers(model, prefix):
        if id(layer) not in with_slots and layer.weights:
            skipped.append(f"{name} ({type(layer).__name__}): no kernel, not counted")


def _leaf_layers(model: tf.keras.Model, prefix: str):
    """``(layer, prefixed name)`` of every non-model layer, nested models walked."""
    for layer in model.layers:
        if isinstance(layer, tf.keras.Model):
            yield from _leaf_layers(layer, prefix + layer.name + "/")
        else:
            yield layer, prefix + layer.name


def _positions(layer: tf.keras.layers.Layer, name: str) -> int:
    """Output positions: the product of the output shape's spatial axes."""
    try:
        shape = layer.output_shape
    except (AttributeError, RuntimeError) as error:
        raise ValueError(f"layer {name!r}: cannot read its output shape ({error}); "
                         "pass input_shape or report a model whose layers are used once") from error
    if isinstance(shape, list):
        raise ValueError(f"layer {name!r} has several outputs {shape}; cannot count its positions")
    spatial = shape[2:] if getattr(layer, "data_format", "channels_last") == "channels_first" else shape[1:-1]
    return int(np.prod([int(d) for d in spatial], dtype=np.int64))
