"""``keras-wc report``: memory and multiplications of a saved model, per layer.

Example:
    keras-wc report lenet5_swc.h5 --plot lenet5_swc.png
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict

from ..report import compression_report


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser("report", help="print a saved model's memory and multiplications per layer")
    parser.add_argument("model_path", type=Path, metavar="MODEL_PATH",
                        help="a Keras model (.h5/.keras file or SavedModel folder)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the markdown table")
    parser.add_argument("--plot", type=Path, default=None, metavar="PATH",
                        help="also write the per-layer PNG to PATH")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    report = compression_report(load_model(args.model_path))
    print(report.to_json() if args.json else report.to_markdown().rstrip("\n"))
    if args.plot is not None:
        report.plot(str(args.plot))
    return 0


def load_model(path: Path) -> Any:
    """Load a saved Keras/QKeras/keras_wc model without compiling it.

    Args:
        path: an ``.h5``/``.keras`` file or a SavedModel folder.

    Returns:
        The ``tf.keras.Model``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if Keras cannot load it (the reason on one line).

    Example:
        >>> model = load_model(Path("lenet5_swc.h5"))
    """
    import tensorflow as tf

    if not path.exists():
        raise FileNotFoundError(f"no model at {path}")
    try:
        return tf.keras.models.load_model(str(path), custom_objects=_custom_objects(), compile=False)
    except (OSError, ValueError, TypeError, KeyError) as error:
        reason = " ".join(str(error).split())
        raise ValueError(f"cannot load {path} as a Keras model: {reason[:300]}") from error


def _custom_objects() -> Dict[str, Any]:
    """``keras_wc.custom_objects()`` when it exists, else QKeras' objects plus keras_wc's quantizers."""
    import keras_wc

    if hasattr(keras_wc, "custom_objects"):
        return dict(keras_wc.custom_objects())
    from qkeras.utils import _add_supported_quantized_objects

    from .. import quantizers

    objects: Dict[str, Any] = {}
    _add_supported_quantized_objects(objects)
    objects.update({name: value for name, value in vars(quantizers).items()
                    if isinstance(value, type) and issubclass(value, quantizers.CompressionQuantizer)})
    return objects
