"""DFP: dynamic fixed point (TCAD 2018 abstract; docs/methods.md).

Every weight is a signed ``bits``-wide integer ``c`` times ``2**-fl``, with one fractional
length ``fl`` per layer (or per output unit)::

    fl = bits - 1 - ceil(log2(max|w|))
    w_hat = clip(round(w * 2**fl), -2**(bits-1), 2**(bits-1) - 1) * 2**-fl

Follows the abstract: dynamic fixed point whose bit-width is lowered layer by layer
(``bits`` is a training control, see :class:`~keras_wc.quantizers.base.BitWidthControl`).
This project's choices: the ``fl`` formula above (docs/methods.md), round half to even
(``tf.round``), the ``per_channel`` option, and ``fl`` clamped to ``[-126, 126]`` so that
every level is a normal float32 (only reached by kernels whose max|w| is below
``2**(bits-127)`` or above ``2**126``).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

import tensorflow as tf

from .base import BitWidthControl, CompressionQuantizer
from .fixedpoint import FRAC_BITS, FixedPoint, pow2, signed_format_for
from .layout import FanInLayout, GroupSpec
from .ops import ArrayOps


class DFP(BitWidthControl, CompressionQuantizer):
    """Dynamic fixed-point weights as a QKeras kernel or bias quantizer.

    Args:
        bits: bits of each weight code (sign included), 2..24 (24 keeps every code exact
            in float32). A training control: ``q.bits = 6`` takes effect at the next
            step without retracing.
        per_channel: one fractional length per output unit (the kernel's last axis; per
            ``(c_in, mult)`` for depthwise) instead of one per layer.
        kernel_layout: ``"auto"`` or ``"depthwise"``.

    Example:
        >>> from qkeras import QDense
        >>> layer = QDense(10, kernel_quantizer=DFP(bits=6), bias_quantizer=DFP(bits=8))
        >>> enc = DFP(bits=4).encode(np.array([[0.3], [-0.1]], np.float32))
        >>> enc.arrays["codes"].ravel().tolist(), enc.params["frac"]
        ([5, -2], 4)
    """

    method = "dfp"
    bits_range = (2, 24)
    #: stored width of one per-channel fractional length (per-layer ones are part of the type)
    FRAC_BITS = FRAC_BITS

    def __init__(self, bits: int = 8, per_channel: bool = False, kernel_layout: str = "auto"):
        super().__init__(kernel_layout)
        self._init_bits(bits)
        if not isinstance(per_channel, bool):
            raise ValueError(f"per_channel={per_channel!r}: expected True or False")
        self.per_channel = per_channel

    @property
    def group_spec(self) -> GroupSpec:
        return "filter"

    def max(self) -> float:
        """Largest value relative to the layer's bound ``2**ceil(log2(max|w|))``.

        The absolute range is data dependent: multiply by ``2**(bits-1-fl)`` of an encoding.
        """
        return 1.0 - 2.0 ** -(self.bits - 1)

    def min(self) -> float:
        """Smallest value relative to the layer's bound ``2**ceil(log2(max|w|))`` (i.e. -1)."""
        return -1.0

    # -- codec -----------------------------------------------------------------------
    def _encode_grouped(self, grouped: tf.Tensor, layout: FanInLayout):
        bits = self.controls["bits"]
        magnitude = tf.abs(grouped)
        peak = tf.reduce_max(magnitude, axis=(1, 2)) if self.per_channel else tf.reduce_max(magnitude)
        frac = signed_format_for(peak, bits)
        scale = pow2(frac)[:, None, None] if self.per_channel else pow2(frac)
        limit = pow2(bits - 1)
        codes = tf.clip_by_value(tf.round(grouped * scale), -limit, limit - 1.0)
        return {"codes": tf.cast(codes, tf.int32)}, {"frac": frac}

    def _decode_grouped(self, arrays: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                        ops: ArrayOps):
        step = ops.pow2(-ops.cast(params["frac"], "int32"))
        if self.per_channel:
            step = step[:, None, None]
        return ops.cast(arrays["codes"], "float32") * step

    def _storage(self, layout: FanInLayout) -> Dict[str, Tuple[int, int]]:
        storage = {"codes": (layout.n_out * layout.fan_in, self.bits)}
        if self.per_channel:
            storage["frac"] = (layout.n_out, self.FRAC_BITS)
        return storage

    def _formats(self, params: Mapping[str, Any]) -> Dict[str, FixedPoint]:
        if self.per_channel:
            return {}
        return {"codes": FixedPoint(self.bits, int(params["frac"]), True)}

    def get_config(self) -> Dict[str, Any]:
        return {"bits": self.bits, "per_channel": self.per_channel, **super().get_config()}
