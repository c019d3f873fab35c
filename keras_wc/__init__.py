"""keras_wc: make Keras models small and multiplication-light for FPGAs."""

from ._version import __version__
from .quantizers import SWC

__all__ = ["__version__", "SWC"]
