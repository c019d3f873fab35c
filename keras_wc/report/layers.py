"""Find the layers of a Keras model that hold a kernel, with what the report needs of them.

A *kernel layer* is one with a ``kernel`` (Dense, Conv1D/2D/3D and their QKeras versions)
or a ``depthwise_kernel`` (DepthwiseConv2D); the matching QKeras quantizer attribute tells
how its weights are stored. Other layers with weights (BatchNormalization, ...) are listed
as skipped: the SQNAP flow folds BatchNormalization into the preceding layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

#: (weight attribute, QKeras quantizer attribute) pairs, tried in order
KERNEL_SLOTS = (("kernel", "kernel_quantizer_internal"), ("depthwise_kernel", "depthwise_quantizer_internal"))


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
    for layer in model.layers:
        name = prefix + layer.name
        if isinstance(layer, tf.keras.Model):
            _walk(layer, name + "/", found, skipped)
            continue
        slot = next(((w, q) for w, q in KERNEL_SLOTS if getattr(layer, w, None) is not None), None)
        if slot is None:
            if layer.weights:
                skipped.append(f"{name} ({type(layer).__name__}): no kernel, not counted")
            continue
        bias = getattr(layer, "bias", None)
        found.append(KernelLayer(
            name=name, layer_class=type(layer).__name__, kernel=np.asarray(getattr(layer, slot[0]).numpy()),
            quantizer=getattr(layer, slot[1], None), bias=None if bias is None else np.asarray(bias.numpy()),
            bias_quantizer=getattr(layer, "bias_quantizer_internal", None), positions=_positions(layer, name)))


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
