"""keras_wc quantizers: QKeras-compatible kernel quantizers with exact integer codecs."""

from .base import BitWidthControl, CompressionQuantizer, Encoding, straight_through
from .dfp import DFP
from .fixedpoint import FixedPoint
from .layout import FanInLayout
from .po2 import Po2
from .poly import PolyApprox
from .registry import QUANTIZERS, custom_objects, register
from .swc import SWC
from .ternary import SparseTernary

__all__ = ["BitWidthControl", "CompressionQuantizer", "DFP", "Po2", "QUANTIZERS", "custom_objects", "register",
           "Encoding", "FanInLayout", "FixedPoint", "PolyApprox", "SWC", "SparseTernary", "straight_through"]
