"""SWC: scaling-weight-based compression (ISCAS 2022 abstract; docs/methods.md).

Per group ``g`` the maximum absolute weight ``M_g`` (MAW) is kept in high precision and
every weight becomes ``M_g * s`` with a low-bit scaling weight ``s`` in ``[-1, 1]``;
scaling weights below ``prune_threshold`` are pruned. Datapath:
``y = sum_g M_g * (sum_{i in g} c_i * x_i)`` — shift-adds inside the group, one full
multiplication per group.

Follows the abstract: per-group MAW times low-bit SWs, pruning of small SWs, one full
multiplication per group. This project's choices (constructor arguments): the MAW is an
*unsigned fixed-point* integer of ``maw_bits`` with one fractional length per layer (chosen
so the layer's largest MAW fits); the grid of ``s`` (``sw_format``); the pruning rule is
applied to the *rounded* scaling weight; with ``fold_denominator=True`` the fixed format's
``1 / D`` is folded into the stored MAW (``M_g' = M_g / D`` on the MAW grid, the ``M_g'`` of
the datapath above), so the layer needs no division by ``D`` — one full multiplication per
group and nothing else.

Training controls (``tf.Variable``s, changed by callbacks without retracing):

* ``bits`` (== ``sw_bits``, :class:`~keras_wc.quantizers.base.BitWidthControl`): precision
  scaling lowers it; the forward pass reads ``D`` and the po2 ``max_shift`` from it;
* ``prune_threshold`` (:class:`~keras_wc.callbacks.GradualPruning`);
* ``frozen`` (:class:`~keras_wc.callbacks.FreezeAssignments`): :meth:`SWC.freeze` stores each
  group's MAW ``M_g`` and from then on the forward pass and ``encode`` use the stored
  ``M_g`` (only the scaling weights move; a weight above its stored ``M_g`` saturates at
  ``s = +-1``). This project's choice: the frozen MAW is the latent float ``max |w|`` at
  freezing time; the stored integer and ``maw_frac`` are still derived from it as usual.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from .base import BitWidthControl, CompressionQuantizer, Encoding, require_choice, require_int
from .controls import require_bool
from .fixedpoint import FixedPoint, pow2, quantize_unsigned, round_log2, unsigned_format_for
from .layout import FanInLayout, GroupSpec, check_group
from .ops import NP, TF, ArrayOps

_SW_BITS = (2, 8)


def denominator_for(bits):
    """``D = 2**(bits-1) - 1``: fixed-format scaling-weight codes are ``s * D`` (Python int or int32 tensor).

    Example:
        >>> denominator_for(4)
        7
    """
    return (1 << (bits - 1)) - 1 if isinstance(bits, int) else tf.bitwise.left_shift(1, bits - 1) - 1


def max_shift_for(bits):
    """``J = 2**(bits-1) - 2``: the largest po2 right shift (Python int or int32 tensor).

    Example:
        >>> max_shift_for(4)
        6
    """
    return denominator_for(bits) - 1


#: ``2**-(max_shift+1)``, the smallest magnitude that rounds to a non-zero po2 scaling weight,
#: indexed by ``sw_bits``, as the IEEE-754 bit patterns (int32) of the float32 constants Python
#: gives. For ``sw_bits=8`` it is subnormal (``2**-127``) and TensorFlow's CPU kernels run with
#: denormals-are-zero: a float comparison would read it as 0 and keep zero weights (and padding)
#: as ``+MAW``. Non-negative floats compare exactly like their bit patterns, so the keep test
#: compares integers (:func:`_magnitude_bits`).
_PO2_SMALLEST_BITS = np.array([2.0 ** -(max_shift_for(b) + 1) if b >= _SW_BITS[0] else 1.0
                               for b in range(_SW_BITS[1] + 1)], np.float32).view(np.int32)


def _magnitude_bits(magnitude: tf.Tensor) -> tf.Tensor:
    """The int32 bit patterns of non-negative float32 values: ordered like the values, subnormals included.

    Example:
        >>> int(_magnitude_bits(tf.constant(2.0 ** -127)) > 0)   # a float test ``> 0`` may flush it to 0
        1
    """
    return tf.bitcast(tf.cast(magnitude, tf.float32), tf.int32)


def _check_threshold(value: Any) -> float:
    """The ``prune_threshold`` control: a number in ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"prune_threshold={value!r}: allowed range is [0, 1)")
    return float(value)


class SWC(BitWidthControl, CompressionQuantizer):
    """Scaling-weight-based weight compression as a QKeras kernel quantizer.

    Args:
        sw_bits: bits of each scaling-weight code (sign included), 2..8. A training
            control (the ``"bits"`` control, :attr:`bits` == :attr:`sw_bits`): precision
            scaling lowers it without retracing; it never exceeds ``maw_bits``.
        maw_bits: bits of each group's MAW (unsigned fixed point), ``sw_bits``..24.
        group: ``"kernel"`` (one ``kh*kw`` slice per input/output channel pair; conv
            only), ``"filter"`` (whole fan-in) or an int group size.
        sw_format: ``"fixed"`` — ``s = c / (2**(sw_bits-1) - 1)``, so the MAW itself is
            exact; ``"po2"`` — ``s`` in ``{0, +-1, +-1/2, ..., +-2**-(2**(sw_bits-1)-2)}``.
        fold_denominator: fixed format only: store ``M_g / D`` (rounded to ``maw_bits`` with its
            own fractional length) instead of ``M_g``, so ``w = M_g' * c`` and the datapath
            divides by nothing (this project's choice; ``False`` keeps ``M_g`` exact and divides
            each output by ``D`` with one reciprocal multiplication).
        prune_threshold: scaling weights with ``|s| <`` this (after rounding) become 0,
            in ``[0, 1)``. A training control (see :class:`GradualPruning`).
        kernel_layout: ``"auto"`` or ``"depthwise"``.
        frozen_maw: start frozen with these per-group MAWs (flattened ``(n_out, n_groups)``
            order, as ``get_config`` reports them); ``None`` (default) starts unfrozen.

    MAW freezing: :meth:`freeze` stores the MAW of every group of a kernel; from then on
    the forward pass and ``encode`` keep those ``M_g`` and only the scaling weights follow
    the latent weights; :meth:`unfreeze` returns to ``M_g = max |w|`` at every step. The
    flag is the ``"frozen"`` control read with ``tf.cond`` (no retrace). While frozen,
    ``get_config`` carries ``frozen_maw`` so a saved model reloads frozen. Use one
    quantizer instance per layer (the stored MAWs belong to one kernel).

    Example:
        >>> from qkeras import QConv2D
        >>> layer = QConv2D(16, 5, kernel_quantizer=SWC(sw_bits=4, group="kernel"))
        >>> q = SWC(sw_bits=6, maw_bits=12, group=4); q.sw_bits = 4; q.get_config()["sw_bits"]
        4
        >>> SWC(sw_bits=4, group="filter", fold_denominator=True)   # no division by D = 7
    """

    method = "swc"
    group_choices = ("kernel", "filter")
    bits_range = _SW_BITS

    def __init__(self, sw_bits: int = 4, maw_bits: int = 16, group: GroupSpec = "kernel",
                 sw_format: str = "fixed", prune_threshold: float = 0.0, kernel_layout: str = "auto",
                 frozen_maw: Optional[Sequence[float]] = None, fold_denominator: bool = False):
        super().__init__(kernel_layout)
        sw_bits = require_int("sw_bits", sw_bits, *self.bits_range)
        self.maw_bits = require_int("maw_bits", maw_bits, sw_bits, 24)
        self._init_bits(sw_bits)
        self.group = check_group(group, self.group_choices)
        self.sw_format = require_choice("sw_format", sw_format, ("fixed", "po2"))
        self.fold_denominator = require_bool("fold_denominator", fold_denominator)
        if self.fold_denominator and self.sw_format != "fixed":
            raise ValueError("fold_denominator=True: allowed only with sw_format='fixed' (po2 divides by nothing)")
        self._add_control("prune_threshold", prune_threshold, _check_threshold)
        self._add_control("frozen", False, functools.partial(require_bool, "frozen"), tf.bool)
        self._maw = tf.Variable(tf.zeros([0], tf.float32), shape=tf.TensorShape(None), trainable=False,
                                name="kwc_swc_maw")
        if frozen_maw is not None:
            self._freeze_to(frozen_maw)

    # -- bit-width control ------------------------------------------------------------
    @property
    def sw_bits(self) -> int:
        """Current bits of each scaling-weight code (the ``"bits"`` control)."""
        return self.bits

    @sw_bits.setter
    def sw_bits(self, value: int) -> None:
        self.bits = value

    def _check_bits(self, value: Any) -> int:
        """``sw_bits`` (the ``bits`` control) must stay in 2..8 and ``<= maw_bits``."""
        return require_int("sw_bits", value, self.bits_range[0], min(self.bits_range[1], self.maw_bits))

    # -- grid ------------------------------------------------------------------------
    @property
    def group_spec(self) -> GroupSpec:
        return self.group

    @property
    def denominator(self) -> int:
        """``D = 2**(sw_bits-1) - 1``: fixed-format codes are ``s * D``."""
        return denominator_for(self.sw_bits)

    @property
    def max_shift(self) -> int:
        """Largest right shift of the po2 format: ``2**(sw_bits-1) - 2``."""
        return max_shift_for(self.sw_bits)

    def max(self) -> float:
        """Largest scaling weight (relative to the group's MAW)."""
        return 1.0

    def min(self) -> float:
        """Smallest scaling weight (relative to the group's MAW)."""
        return -1.0

    # -- MAW freezing --------------------------------------------------------------------
    def freeze(self, kernel) -> None:
        """Freeze every group's MAW to the one ``kernel`` has now.

        Args:
            kernel: the layer's kernel (``tf.Variable``, tensor or numpy array).

        Example:
            >>> q = SWC(group=8); q.freeze(layer.kernel)   # e.g. from FreezeAssignments
        """
        kernel = tf.convert_to_tensor(kernel, tf.float32)
        grouped = self.layout_for(kernel.shape).to_groups(kernel, TF)
        self._freeze_to(tf.reshape(tf.reduce_max(tf.abs(grouped), axis=2), [-1]).numpy())

    def _freeze_to(self, maw) -> None:
        """Store flat per-group MAWs and set the ``frozen`` control."""
        values = np.asarray(maw, np.float32)
        if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"frozen_maw=<{values.size} values, shape {values.shape}>: expected a non-empty flat "
                             "sequence of finite MAWs >= 0 (one per group)")
        self._maw.assign(values)
        self.set_control("frozen", True)

    def unfreeze(self) -> None:
        """Return to ``M_g = max |w|`` at every step."""
        self.set_control("frozen", False)
        self._maw.assign(tf.zeros([0], tf.float32))

    @property
    def frozen(self) -> bool:
        """Whether the per-group MAWs are frozen."""
        return bool(self.get_control("frozen"))

    def _group_maw(self, magnitude: tf.Tensor, layout: FanInLayout) -> tf.Tensor:
        """``(n_out, n_groups)`` MAWs: the frozen ones when frozen, else ``max |w|``."""
        return tf.cond(self._control("frozen"),
                       lambda: tf.reshape(self._maw.value(), layout.grouped_shape[:2]),
                       lambda: tf.reduce_max(magnitude, axis=2))

    # -- codec -----------------------------------------------------------------------
    def _encode_grouped(self, grouped: tf.Tensor, layout: FanInLayout):
        magnitude = tf.abs(grouped)
        maw = self._group_maw(magnitude, layout)
        bits = self._control("bits")
        stored = maw / tf.cast(denominator_for(bits), tf.float32) if self.fold_denominator else maw
        frac = unsigned_format_for(tf.reduce_max(stored), self.maw_bits)
        maw_int = quantize_unsigned(stored, frac, self.maw_bits)
        safe_maw = tf.where(maw > 0, maw, tf.ones_like(maw))[..., None]
        scaling = tf.where(maw[..., None] > 0, grouped / safe_maw, tf.zeros_like(grouped))
        threshold = self._control("prune_threshold")
        if self.sw_format == "fixed":
            denominator = tf.cast(denominator_for(bits), tf.float32)
            codes = tf.clip_by_value(tf.round(scaling * denominator), -denominator, denominator)
            codes = tf.where(tf.abs(codes) / denominator < threshold, tf.zeros_like(codes), codes)
        else:
            codes = self._po2_codes(scaling, threshold, bits)
        params = {"maw_frac": frac, "sw_bits": bits, "sw_po2": self.sw_format == "po2"}
        if self.fold_denominator:  # only then, so unfolded encodings keep their keys
            params["sw_folded"] = True
        return {"codes": tf.cast(codes, tf.int32), "maw": maw_int}, params

    @staticmethod
    def _po2_codes(scaling: tf.Tensor, threshold: tf.Tensor, bits: tf.Tensor) -> tf.Tensor:
        """Codes ``sign * (j + 1)`` for ``s = sign * 2**-j`` (nearest level), 0 for zero."""
        magnitude = tf.abs(scaling)
        magnitude_bits = _magnitude_bits(magnitude)  # integer tests: immune to denormals-are-zero
        safe = tf.where(magnitude_bits > 0, magnitude, tf.ones_like(magnitude))
        shift = tf.clip_by_value(-round_log2(safe), 0, max_shift_for(bits))
        smallest_bits = tf.gather(tf.constant(_PO2_SMALLEST_BITS), bits)
        rounded = pow2(-shift)
        keep = (magnitude_bits >= smallest_bits) & (rounded >= threshold)
        negative = tf.bitcast(tf.cast(scaling, tf.float32), tf.int32) < 0  # the sign bit
        signed = tf.where(negative, -(shift + 1), shift + 1)
        return tf.where(keep, signed, tf.zeros_like(signed))

    def _decode_grouped(self, arrays: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                        ops: ArrayOps, sw_bits: Optional[int] = None):
        """Integers -> float32 groups; ``D`` from ``sw_bits``, else the current control."""
        codes = ops.cast(arrays["codes"], "int32")
        maw = ops.cast(arrays["maw"], "int32")[..., None]
        frac = params["maw_frac"]
        if self.sw_format == "fixed":
            numerator = ops.cast(maw * codes, "float32")
            if params.get("sw_folded", False):
                return numerator / ops.pow2(frac)
            if sw_bits is None:
                sw_bits = self._control("bits") if ops is TF else self.sw_bits
            return numerator / (ops.pow2(frac) * ops.cast(denominator_for(sw_bits), "float32"))
        shift = ops.where(codes < 0, -codes, codes) - 1
        signed_maw = ops.where(codes < 0, -maw, maw)
        values = ops.cast(signed_maw, "float32") * ops.pow2(-shift - frac)
        return ops.where(codes == 0, ops.cast(codes, "float32") * 0.0, values)

    def decode(self, encoding: Encoding) -> np.ndarray:
        """Float32 weights rebuilt from ``encoding`` (with the ``sw_bits`` it was encoded with)."""
        grouped = self._decode_grouped(encoding.arrays, encoding.params, encoding.layout, NP,
                                       sw_bits=int(encoding.params["sw_bits"]))
        return np.asarray(encoding.layout.from_groups(grouped, NP), dtype=np.float32)

    def _storage(self, layout: FanInLayout) -> Dict[str, Tuple[int, int]]:
        return {"codes": (layout.n_out * layout.fan_in, self.sw_bits),
                "maw": (layout.n_out * layout.n_groups, self.maw_bits)}

    def _formats(self, params: Mapping[str, Any]) -> Dict[str, FixedPoint]:
        return {"maw": FixedPoint(self.maw_bits, int(params["maw_frac"]), False)}

    def get_config(self) -> Dict[str, Any]:
        config = {"sw_bits": self.sw_bits, "maw_bits": self.maw_bits, "group": self.group,
                  "sw_format": self.sw_format, "prune_threshold": self.get_control("prune_threshold"),
                  **super().get_config()}
        if self.fold_denominator:  # only when set, so existing configs keep their keys
            config["fold_denominator"] = True
        if self.frozen:  # only while frozen, so unfrozen configs (and encodings) keep their keys
            config["frozen_maw"] = self._maw.numpy().tolist()
        return config

    def __str__(self) -> str:
        frozen = ",frozen=True" if self.frozen else ""
        return (f"SWC(sw_bits={self.sw_bits},maw_bits={self.maw_bits},group={self.group!r},"
                f"sw_format={self.sw_format!r},prune_threshold={self.get_control('prune_threshold')!r}"
                f"{',fold_denominator=True' if self.fold_denominator else ''}{frozen})")

    __repr__ = __str__
