"""``keras_wc.methods``: one object per compression method, in one registry.

Each :class:`Method` owns its quantizer class, the integer facts of its encodings, its
emulator kernel, its cost rule, its HLS header and template pieces, and the training controls
it exposes. The built-in methods are registered on import: ``swc``, ``poly``, ``dfp``,
``po2`` and ``ternary``. ``docs/extending.md`` shows how to add one from outside the package.

Example:
    >>> from keras_wc.methods import get_method, method_of
    >>> get_method("swc").core
    'sqnap::swc_core'
"""

from __future__ import annotations

from .base import Argument, Cost, Gains, KernelResult, Method
from .dfp import DFPMethod
from .po2 import Po2Method
from .poly import PolyMethod
from .registry import (get_method, is_compression_quantizer, method_of, method_of_quantizer, quantizer_classes,
                       register_method, registered_methods)
from .swc import SWCMethod
from .ternary import TernaryMethod

for _method in (SWCMethod(), PolyMethod(), DFPMethod(), Po2Method(), TernaryMethod()):
    register_method(_method)

__all__ = ["Argument", "Cost", "Gains", "KernelResult", "Method", "get_method", "is_compression_quantizer",
           "method_of", "method_of_quantizer", "quantizer_classes", "register_method", "registered_methods"]
