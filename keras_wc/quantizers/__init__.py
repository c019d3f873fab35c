"""keras_wc quantizers: QKeras-compatible kernel quantizers with exact integer codecs."""

from .base import CompressionQuantizer, Encoding, straight_through
from .fixedpoint import FixedPoint
from .layout import FanInLayout
from .swc import SWC

__all__ = ["CompressionQuantizer", "Encoding", "FanInLayout", "FixedPoint", "SWC", "straight_through"]
