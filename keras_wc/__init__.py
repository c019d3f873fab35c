"""keras_wc: make Keras models small and multiplication-light for FPGAs.

The quantizers are imported eagerly (``from keras_wc import SWC``); the sub-packages
(``keras_wc.datasets``, ``models``, ``callbacks``, ``regularizers``, ``report``, ``emulate``,
``hls``, ``testing``, ``projects``) load on first use, so ``import keras_wc`` stays light.
"""

import importlib
from typing import Any

from ._version import __version__
from .quantizers import DFP, QUANTIZERS, SWC, Po2, PolyApprox, SparseTernary, custom_objects

_SUBMODULES = ("callbacks", "datapath", "datasets", "emulate", "hls", "models", "pipeline", "projects",
               "regularizers", "report", "testing")

__all__ = ["__version__", "DFP", "Po2", "PolyApprox", "QUANTIZERS", "SWC", "SparseTernary", "custom_objects",
           *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'keras_wc' has no attribute {name!r}")
