"""Benchmark-only model functions, named in recipes as ``architecture: benchmarks.models:NAME``."""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Tuple

import tensorflow as tf
from qkeras import QConv2D, QDense

Factory = Optional[Callable[[str, Tuple[int, ...]], Any]]


def _quantizer(factory: Factory, name: str, shape: Tuple[int, ...]) -> Any:
    return factory(name, shape) if factory is not None else None


def step_cnn(input_shape: Sequence[int] = (8, 8, 1), num_classes: int = 10, filters: int = 16,
             quantizer: Factory = None, bias_quantizer: Factory = None, activation_quantizer: Any = None,
             input_quantizer: Any = None) -> tf.keras.Model:
    """The training-step benchmark's CNN: QConv2D ``conv`` (3x3, ReLU) -> Flatten -> QDense ``dense`` -> softmax.

    Args:
        input_shape: ``(H, W, C)``.
        num_classes: units of ``dense``.
        filters: output channels of ``conv``.
        quantizer: ``factory(layer_name, kernel_shape)`` of the kernel quantizers (``None``: float).
        bias_quantizer: the same for biases.
        activation_quantizer: must be ``None`` (the ReLU is part of ``conv``).
        input_quantizer: must be ``None`` (float input).

    Returns:
        The uncompiled model.

    Example:
        >>> step_cnn().get_layer("dense").output_shape
        (None, 10)
    """
    for argument, value in (("activation_quantizer", activation_quantizer), ("input_quantizer", input_quantizer)):
        if value is not None:
            raise ValueError(f"{argument}={value!r}: step_cnn takes none (plain ReLU, float input)")
    channels = int(input_shape[-1])
    inputs = tf.keras.Input(tuple(int(d) for d in input_shape))
    x = QConv2D(filters, 3, activation="relu", name="conv",
                kernel_quantizer=_quantizer(quantizer, "conv", (3, 3, channels, filters)),
                bias_quantizer=_quantizer(bias_quantizer, "conv", (filters,)))(inputs)
    x = tf.keras.layers.Flatten()(x)
    flat = int(x.shape[-1])
    x = QDense(num_classes, name="dense", kernel_quantizer=_quantizer(quantizer, "dense", (flat, num_classes)),
               bias_quantizer=_quantizer(bias_quantizer, "dense", (num_classes,)))(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="step_cnn")
