"""Po2: power-of-two weights with an exact zero (TCAD 2018 abstract; docs/methods.md).

Every weight is ``0`` or ``sign(w) * 2**e`` with ``e`` in ``[e_min, e_max]``::

    e_max = floor(log2(4 * max|w| / 3))        # max|w| rounded to the nearest power of two
    e_min = e_max - 2**(bits-1) + 2            # 2**(bits-1) - 1 magnitudes + the zero code

Codes (``docs/datapath.md``): ``0`` = exact zero, ``sign * (e - e_min + 1)`` otherwise, so a
code fits ``bits`` signed bits. A multiplication by a weight is a shift.

Follows the abstract: power-of-two quantization with a per-layer bit-width (``bits`` is a
training control, see :class:`~keras_wc.quantizers.base.BitWidthControl`). This project's
choices: ``e_max`` from the layer's max|w| (docs/methods.md), rounding to the nearest level in
linear distance (``|w|`` in ``[0.75, 1.5) * 2**e`` gives ``2**e``; weights below
``2**(e_min-1)`` become 0; midpoints go up), one code reserved for zero (hls4ml's exponent
type has none), and ``e_min >= -126``, ``e_max`` in ``[-126, 127]`` so every level is a
normal float32.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

import tensorflow as tf

from .base import BitWidthControl, CompressionQuantizer
from .fixedpoint import FRAC_RANGE, floor_log2, round_log2
from .layout import FanInLayout, GroupSpec
from .ops import TF, ArrayOps

_LOWEST_EXPONENT = FRAC_RANGE[0]  # -126: the smallest normal float32 power of two
_HIGHEST_EXPONENT = 127


class Po2(BitWidthControl, CompressionQuantizer):
    """Power-of-two weights (with an exact zero) as a QKeras kernel or bias quantizer.

    Args:
        bits: bits of each code (sign included), 2..8: ``2**(bits-1) - 1`` exponents plus
            zero. A training control: ``q.bits = 3`` takes effect at the next step without
            retracing.
        kernel_layout: ``"auto"`` or ``"depthwise"``.

    Example:
        >>> from qkeras import QConv2D
        >>> layer = QConv2D(8, 3, kernel_quantizer=Po2(bits=4))
        >>> enc = Po2(bits=3).encode(np.array([[1.0], [-0.5], [0.1]], np.float32))
        >>> enc.arrays["codes"].ravel().tolist(), enc.params["e_min"]
        ([3, -2, 0], -2)
    """

    method = "po2"
    bits_range = (2, 8)

    def __init__(self, bits: int = 4, kernel_layout: str = "auto"):
        super().__init__(kernel_layout)
        self._init_bits(bits)

    @property
    def group_spec(self) -> GroupSpec:
        return "filter"

    @property
    def levels(self) -> int:
        """Number of non-zero magnitudes: ``2**(bits-1) - 1``."""
        return (1 << (self.bits - 1)) - 1

    def max(self) -> float:
        """Largest value relative to the layer's top level ``2**e_max`` (i.e. 1).

        The absolute range is data dependent: ``2**e_max`` with ``e_max = e_min + levels - 1``.
        """
        return 1.0

    def min(self) -> float:
        """Smallest value relative to the layer's top level ``2**e_max`` (i.e. -1)."""
        return -1.0

    # -- codec -----------------------------------------------------------------------
    def _encode_grouped(self, grouped: tf.Tensor, layout: FanInLayout):
        levels = tf.bitwise.left_shift(1, self.controls["bits"] - 1) - 1
        magnitude = tf.abs(grouped)
        peak = tf.reduce_max(magnitude)
        e_max = round_log2(tf.where(peak > 0, peak, 1.0))
        e_max = tf.clip_by_value(e_max, _LOWEST_EXPONENT, _HIGHEST_EXPONENT)
        e_min = tf.maximum(e_max - levels + 1, _LOWEST_EXPONENT)
        safe = tf.where(magnitude > 0, magnitude, tf.ones_like(magnitude))
        exponent = tf.clip_by_value(round_log2(safe), e_min, e_max)
        nonzero = (magnitude > 0) & (floor_log2(safe) >= e_min - 1)  # |w| >= 2**(e_min-1)
        codes = tf.where(grouped < 0, -(exponent - e_min + 1), exponent - e_min + 1)
        return {"codes": tf.where(nonzero, codes, tf.zeros_like(codes))}, {"e_min": e_min}

    def _fake_quant(self, w: tf.Tensor) -> tf.Tensor:
        # Po2 is elementwise with one per-layer maximum, so the grouped arrangement (a pure
        # permutation plus padding, here always empty) cannot change a value: code and
        # decode the kernel as it is and skip the two transposes of the layout.
        arrays, params = self._encode_grouped(w, self.layout_for(w.shape))
        return self._decode_grouped(arrays, params, self.layout_for(w.shape), TF)

    def _decode_grouped(self, arrays: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                        ops: ArrayOps):
        codes = ops.cast(arrays["codes"], "int32")
        magnitude = ops.where(codes < 0, -codes, codes)
        power = ops.pow2(magnitude - 1 + params["e_min"])  # 2**(e_min-1) or 0 where code = 0
        values = ops.where(codes < 0, -power, power)
        return ops.where(codes == 0, power * 0.0, values)

    def _storage(self, layout: FanInLayout) -> Dict[str, Tuple[int, int]]:
        return {"codes": (layout.n_out * layout.fan_in, self.bits)}

    def get_config(self) -> Dict[str, Any]:
        return {"bits": self.bits, **super().get_config()}
