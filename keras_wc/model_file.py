"""Loading a saved model: quietly, with one-line errors (the ``keras-wc`` commands, ``project build``).

TensorFlow, Keras and QKeras print start-up and deserialization chatter on every load that
says nothing about the user's model: TF C++ log lines, absl INFO/WARNING lines, and the
QKeras ``QInitializer`` warning "The initializer HeNormal is unseeded and being called
multiple times" (QKeras calls the wrapped initializer twice while rebuilding a layer). The
models are loaded with ``compile=False``, so Keras' "No training configuration found" and
"compiled metrics have yet to be built" warnings never arise.

Example:
    >>> model = load_model("fpga_projects/digits_mlp_ternary/model.h5")
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Iterator, Union

#: (message regex, category, module regex) of third-party warnings that a model load prints
LOAD_WARNINGS = [
    # QKeras' QInitializer calls the wrapped Keras initializer a second time after rescaling it
    (r"The initializer \w+ is unseeded", UserWarning, r"keras\."),
    # QKeras serializes quantizers through keras.constraints, which warns for every non-constraint
    (r"The `keras\.constraints\.serialize\(\)` API", UserWarning, r"keras\."),
]


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++, absl and Python log lines below ERROR off the terminal.

    ``TF_CPP_MIN_LOG_LEVEL`` only takes effect if set before TensorFlow is first imported;
    :mod:`keras_wc.cli` sets it at import, this repeats it for direct callers. A value the
    user exported is kept.

    Example:
        >>> quiet_tensorflow()
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover - absl comes with TensorFlow
        pass
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """Within the block, ignore the third-party warnings in :data:`LOAD_WARNINGS` (restored afterwards).

    Example:
        >>> with quiet_warnings():
        ...     model = tf.keras.models.load_model("model.h5", compile=False)
    """
    with warnings.catch_warnings():
        for message, category, module in LOAD_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category, module=module)
        yield


def load_model(path: Union[str, Path]) -> Any:
    """Load a saved Keras/QKeras/keras_wc model without compiling it, quietly.

    Args:
        path: an ``.h5``/``.keras`` file or a SavedModel folder.

    Returns:
        The ``tf.keras.Model``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if Keras cannot load it (a corrupt or truncated file, another format):
            the path and the reason on one line.

    Example:
        >>> load_model("notes.txt")
        Traceback (most recent call last):
        ValueError: cannot load notes.txt as a Keras model: Unable to synchronously open file (file signature not found)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model at {path}")
    quiet_tensorflow()
    import tensorflow as tf

    from .quantizers.registry import custom_objects

    try:
        with quiet_warnings():
            model = tf.keras.models.load_model(str(path), custom_objects=dict(custom_objects()), compile=False)
    except Exception as error:  # any deserialization failure of a user's file is reported, not a traceback
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ValueError(f"cannot load {path} as a Keras model: {reason[:300]}") from error
    if not isinstance(model, tf.keras.Model):
        raise ValueError(f"cannot load {path} as a Keras model: it holds a {type(model).__name__}")
    return model
