"""keras_wc: make Keras models small and multiplication-light for FPGAs.

Everything loads on first use, so ``import keras_wc`` is light and a command-line tool can
configure TensorFlow's logging before TensorFlow is imported: the quantizers
(``keras_wc.SWC``, ``PolyApprox``, ``DFP``, ``Po2``, ``SparseTernary``, ``QUANTIZERS``,
``custom_objects``) and the sub-packages (``keras_wc.datasets``, ``models``, ``callbacks``,
``regularizers``, ``report``, ``emulate``, ``hls``, ``testing``, ``projects``).

Example:
    >>> import keras_wc
    >>> keras_wc.SWC(sw_bits=4).bits
    4
"""

import importlib
from typing import Any

from ._version import __version__

_FROM_QUANTIZERS = ("DFP", "Po2", "PolyApprox", "QUANTIZERS", "SWC", "SparseTernary", "custom_objects")
_SUBMODULES = ("callbacks", "datapath", "datasets", "emulate", "hls", "models", "pipeline", "projects",
               "quantizers", "regularizers", "report", "testing")

__all__ = ["__version__", *_FROM_QUANTIZERS, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _FROM_QUANTIZERS:
        return getattr(importlib.import_module(".quantizers", __name__), name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'keras_wc' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
