"""The list of keras_wc quantizer classes and their registration with Keras and QKeras.

:data:`QUANTIZERS` lists the built-in quantizer classes; the methods themselves (and any
registered from outside the package) live in :mod:`keras_wc.methods`, whose
:func:`~keras_wc.methods.register_method` calls :func:`register`. Each class is registered
with Keras twice: as
``"keras_wc>Name"`` (:func:`tf.keras.utils.register_keras_serializable`, which Keras uses
when it serializes the class) and under the plain ``"Name"``, so that
``qkeras.get_quantizer({"class_name": "SWC", "config": {...}})`` — what hls4ml's QKeras
path calls on each layer's quantizer config — rebuilds it too. Registration is idempotent
(re-importing or reloading a module re-points the names at the current class).
"""

from __future__ import annotations

from typing import Dict, Tuple, Type

import tensorflow as tf
from qkeras.utils import _add_supported_quantized_objects

from .base import CompressionQuantizer
from .dfp import DFP
from .po2 import Po2
from .poly import PolyApprox
from .swc import SWC
from .ternary import SparseTernary

PACKAGE = "keras_wc"

#: the built-in quantizer classes, in documentation order
QUANTIZERS: Tuple[Type[CompressionQuantizer], ...] = (SWC, PolyApprox, DFP, Po2, SparseTernary)


def register(cls: Type[CompressionQuantizer]) -> Type[CompressionQuantizer]:
    """Register ``cls`` with Keras as ``"keras_wc>Name"`` and as ``"Name"`` (idempotent).

    Args:
        cls: a quantizer class with ``get_config``/``from_config``.

    Returns:
        ``cls`` (so this can be used as a decorator).

    Example:
        >>> register(SWC) is SWC
        True
    """
    objects = tf.keras.utils.get_custom_objects()
    registered_name = f"{PACKAGE}>{cls.__name__}"
    if objects.get(registered_name) is not cls:
        objects.pop(registered_name, None)  # a stale class from a reloaded module
        tf.keras.utils.register_keras_serializable(package=PACKAGE)(cls)
    objects[cls.__name__] = cls
    return cls


def custom_objects() -> Dict[str, object]:
    """Everything ``load_model`` needs for a keras_wc model: our classes and QKeras' objects.

    Returns:
        A new dict mapping names (plain and ``"keras_wc>Name"``) to classes, plus QKeras'
        layers and quantizers.

    Example:
        >>> model = tf.keras.models.load_model("model.h5", custom_objects=custom_objects())
    """
    from ..methods import quantizer_classes  # every registered method, extensions included

    objects: Dict[str, object] = {}
    _add_supported_quantized_objects(objects)
    for cls in quantizer_classes():
        objects[cls.__name__] = cls
        objects[f"{PACKAGE}>{cls.__name__}"] = cls
    return objects


for _cls in QUANTIZERS:
    register(_cls)
