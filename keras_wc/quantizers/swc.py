"""SWC: scaling-weight-based compression (ISCAS 2022 abstract; METHODS.md section 1).

Per group ``g`` the maximum absolute weight ``M_g`` (MAW) is kept in high precision and
every weight becomes ``M_g * s`` with a low-bit scaling weight ``s`` in ``[-1, 1]``;
scaling weights below ``prune_threshold`` are pruned. Datapath:
``y = sum_g M_g * (sum_{i in g} c_i * x_i)`` — shift-adds inside the group, one full
multiplication per group.

Follows the abstract: per-group MAW times low-bit SWs, pruning of small SWs, one full
multiplication per group. This project's choices (constructor arguments): the MAW is an
*unsigned fixed-point* integer of ``maw_bits`` with one fractional length per layer (chosen
so the layer's largest MAW fits); the grid of ``s`` (``sw_format``); the pruning rule is
applied to the *rounded* scaling weight.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

import tensorflow as tf

from .base import CompressionQuantizer, require_choice, require_int
from .controls import ControlMixin
from .fixedpoint import FixedPoint, pow2, quantize_unsigned, round_log2, unsigned_format_for
from .layout import FanInLayout, GroupSpec, check_group
from .ops import ArrayOps


class SWC(ControlMixin, CompressionQuantizer):
    """Scaling-weight-based weight compression as a QKeras kernel quantizer.

    Args:
        sw_bits: bits of each scaling-weight code (sign included), 2..8.
        maw_bits: bits of each group's MAW (unsigned fixed point), ``sw_bits``..24.
        group: ``"kernel"`` (one ``kh*kw`` slice per input/output channel pair; conv
            only), ``"filter"`` (whole fan-in) or an int group size.
        sw_format: ``"fixed"`` — ``s = c / (2**(sw_bits-1) - 1)``, so the MAW itself is
            exact; ``"po2"`` — ``s`` in ``{0, +-1, +-1/2, ..., +-2**-(2**(sw_bits-1)-2)}``.
        prune_threshold: scaling weights with ``|s| <`` this (after rounding) become 0,
            in ``[0, 1)``. A training control (see :class:`GradualPruning`).
        kernel_layout: ``"auto"`` or ``"depthwise"``.

    Example:
        >>> from qkeras import QConv2D
        >>> layer = QConv2D(16, 5, kernel_quantizer=SWC(sw_bits=4, group="kernel"))
    """

    method = "swc"
    group_choices = ("kernel", "filter")

    def __init__(self, sw_bits: int = 4, maw_bits: int = 16, group: GroupSpec = "kernel",
                 sw_format: str = "fixed", prune_threshold: float = 0.0, kernel_layout: str = "auto"):
        super().__init__(kernel_layout)
        self.sw_bits = require_int("sw_bits", sw_bits, 2, 8)
        self.maw_bits = require_int("maw_bits", maw_bits, self.sw_bits, 24)
        self.group = check_group(group, self.group_choices)
        self.sw_format = require_choice("sw_format", sw_format, ("fixed", "po2"))
        if not 0.0 <= float(prune_threshold) < 1.0:
            raise ValueError(f"prune_threshold={prune_threshold!r}: allowed range is [0, 1)")
        self._add_control("prune_threshold", float(prune_threshold))
        self.bits = self.sw_bits

    # -- grid ------------------------------------------------------------------------
    @property
    def group_spec(self) -> GroupSpec:
        return self.group

    @property
    def denominator(self) -> int:
        """``D = 2**(sw_bits-1) - 1``: fixed-format codes are ``s * D``."""
        return (1 << (self.sw_bits - 1)) - 1

    @property
    def max_shift(self) -> int:
        """Largest right shift of the po2 format: ``2**(sw_bits-1) - 2``."""
        return (1 << (self.sw_bits - 1)) - 2

    def max(self) -> float:
        """Largest scaling weight (relative to the group's MAW)."""
        return 1.0

    def min(self) -> float:
        """Smallest scaling weight (relative to the group's MAW)."""
        return -1.0

    # -- codec -----------------------------------------------------------------------
    def _encode_grouped(self, grouped: tf.Tensor, layout: FanInLayout):
        magnitude = tf.abs(grouped)
        maw = tf.reduce_max(magnitude, axis=2)
        frac = unsigned_format_for(tf.reduce_max(maw), self.maw_bits)
        maw_int = quantize_unsigned(maw, frac, self.maw_bits)
        safe_maw = tf.where(maw > 0, maw, tf.ones_like(maw))[..., None]
        scaling = tf.where(maw[..., None] > 0, grouped / safe_maw, tf.zeros_like(grouped))
        threshold = self.controls["prune_threshold"]
        if self.sw_format == "fixed":
            codes = tf.clip_by_value(tf.round(scaling * self.denominator), -self.denominator, self.denominator)
            codes = tf.where(tf.abs(codes) / self.denominator < threshold, tf.zeros_like(codes), codes)
        else:
            codes = self._po2_codes(scaling, threshold)
        return {"codes": tf.cast(codes, tf.int32), "maw": maw_int}, {"maw_frac": frac}

    def _po2_codes(self, scaling: tf.Tensor, threshold: tf.Tensor) -> tf.Tensor:
        """Codes ``sign * (j + 1)`` for ``s = sign * 2**-j`` (nearest level), 0 for zero."""
        magnitude = tf.abs(scaling)
        safe = tf.where(magnitude > 0, magnitude, tf.ones_like(magnitude))
        shift = tf.clip_by_value(-round_log2(safe), 0, self.max_shift)
        smallest = 2.0 ** -(self.max_shift + 1)
        rounded = pow2(-shift)
        keep = (magnitude >= smallest) & (rounded >= threshold)
        signed = tf.where(scaling < 0, -(shift + 1), shift + 1)
        return tf.where(keep, signed, tf.zeros_like(signed))

    def _decode_grouped(self, arrays: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                        ops: ArrayOps):
        codes = ops.cast(arrays["codes"], "int32")
        maw = ops.cast(arrays["maw"], "int32")[..., None]
        frac = params["maw_frac"]
        if self.sw_format == "fixed":
            numerator = ops.cast(maw * codes, "float32")
            return numerator / (ops.pow2(frac) * float(self.denominator))
        shift = ops.where(codes < 0, -codes, codes) - 1
        signed_maw = ops.where(codes < 0, -maw, maw)
        values = ops.cast(signed_maw, "float32") * ops.pow2(-shift - frac)
        return ops.where(codes == 0, ops.cast(codes, "float32") * 0.0, values)

    def _storage(self, layout: FanInLayout) -> Dict[str, Tuple[int, int]]:
        return {"codes": (layout.n_out * layout.fan_in, self.sw_bits),
                "maw": (layout.n_out * layout.n_groups, self.maw_bits)}

    def _formats(self, params: Mapping[str, Any]) -> Dict[str, FixedPoint]:
        return {"maw": FixedPoint(self.maw_bits, int(params["maw_frac"]), False)}

    def get_config(self) -> Dict[str, Any]:
        return {"sw_bits": self.sw_bits, "maw_bits": self.maw_bits, "group": self.group,
                "sw_format": self.sw_format, "prune_threshold": self.get_control("prune_threshold"),
                **super().get_config()}
