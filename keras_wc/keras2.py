"""The one check that a model belongs to the Keras 2 stack keras_wc runs on.

``keras_wc.hls.convert``, ``keras_wc.emulate.emulate``/``compare`` and
``keras_wc.report.compression_report`` call :func:`check_keras2_model` first, so a Keras 3
model (or any other object) is refused with one line instead of an ``AttributeError`` deep
inside the walk over its layers.

Example:
    >>> check_keras2_model(object())
    Traceback (most recent call last):
    TypeError: expected a tf.keras.Model, got object
"""

from __future__ import annotations

from typing import Any

#: what keras_wc runs on, quoted in the errors
STACK = ("keras_wc supports the hls4ml 1.3.0 Keras 2 stack only (tensorflow 2.14.1 / Keras 2.14, "
         "qkeras 0.9.0)")


def check_keras2_model(model: Any) -> None:
    """Refuse Keras 3 models, Keras 3 installations and non-models with a clear message.

    Args:
        model: the object passed as a model.

    Raises:
        TypeError: ``model`` is not a Keras 2 (``tf.keras``) model, or Keras 3 is installed.

    Example:
        >>> check_keras2_model(tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)]))
    """
    import keras
    import tensorflow as tf

    if str(keras.__version__).startswith("3"):
        raise TypeError(f"Keras {keras.__version__} is installed; {STACK}")
    if not isinstance(model, tf.keras.Model):
        module = type(model).__module__
        if module.startswith("keras") and hasattr(model, "layers"):
            raise TypeError(f"{type(model).__name__} from {module} is a Keras 3 model; {STACK}: build the "
                            "model with tf.keras on that stack")
        raise TypeError(f"expected a tf.keras.Model, got {type(model).__name__}")
