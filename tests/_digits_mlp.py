"""A tiny QKeras MLP trained on sklearn digits, shared by the per-method accuracy tests."""

from __future__ import annotations

from typing import Tuple

import numpy as np
import tensorflow as tf
from qkeras import QActivation, QDense


def train_digits_mlp(quantizer_factory, digits: Tuple[np.ndarray, ...], epochs: int = 20,
                     hidden: int = 64, seed: int = 0) -> Tuple[tf.keras.Model, float]:
    """Train ``64 -> hidden -> 10`` with ``quantizer_factory()`` on both kernels.

    Args:
        quantizer_factory: returns a fresh kernel quantizer (one instance per layer).
        digits: ``(x_train, y_train, x_test, y_test)`` from the ``digits`` fixture.
        epochs: training epochs (Adam, batch 32).
        hidden: hidden units.
        seed: Keras seed.

    Returns:
        ``(model, test accuracy)``.
    """
    x_train, y_train, x_test, y_test = digits
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([
        tf.keras.Input((64,)),
        QDense(hidden, kernel_quantizer=quantizer_factory()),
        QActivation("quantized_relu(8,3)"),
        QDense(10, kernel_quantizer=quantizer_factory()),
        tf.keras.layers.Activation("softmax"),
    ])
    model.compile(tf.keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    return model, float(model.evaluate(x_test, y_test, verbose=0)[1])
