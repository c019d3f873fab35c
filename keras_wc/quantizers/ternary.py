"""SparseTernary: structured sparse ternary weight coding (SiPS 2017 abstract; docs/methods.md).

Each fan-in is cut into groups of ``n`` consecutive weights (the last group zero-padded).
A group holds at most ``k`` non-zeros, each ``+1`` or ``-1``, times a scale ``delta`` (one
per output unit, or one per layer). The group stores the index of its pattern in the
canonical codebook (:mod:`~keras_wc.quantizers.ternary_codebook`): (8,2) has 129
patterns, so 8 bits per 8 weights. Datapath: per group one table look-up and at most ``k``
add/subtracts; one full multiplication by ``delta`` per output unit: the dot product itself
is multiplication-free.

Follows the abstract: +-1 only at positions allowed by an (n,k) table, decoding by table
look-up, weight distribution normalization and gradual pruning as options. This project's
choices (constructor arguments or documented here):

* encoder: for a given ``delta`` the L2-optimal pattern keeps the top-k weights by ``|w|``
  among those with ``|w| > delta/2`` (a non-zero lowers the squared error iff
  ``|w| > delta/2``), with their signs; ``delta`` comes from ``iterations`` rounds of
  alternating least squares (``delta = mean |w|`` over the kept weights, then re-select),
  started from the top-k by magnitude. The stored ``delta`` is then rounded to fixed point
  and the patterns are re-selected for that stored value, so they are optimal for the
  ``delta`` actually used. Ties in ``|w|`` go to the lower position.
* ``delta`` is an unsigned fixed-point integer of ``scale_bits`` bits with one fractional
  length per layer (``delta_format="fixed"``), or a power of two ``2**-f`` stored as its
  8-bit exponent ``f`` (``delta_format="po2"``): ``delta`` rounds to the power of two
  nearest in squared error (for fixed patterns the error of ``d`` is convex, so the better
  neighbour is ``2**(e+1)`` exactly when the least-squares ``delta > 1.5 * 2**e``). The
  scale then needs no multiplication: it is the per-output alignment shift the datapath
  already does, so the layer is multiplication-free end to end (without ``normalize``,
  whose mean would be a multiplication again).
* ``normalize=True`` ("weight distribution normalization"): each fan-in's mean is
  subtracted before coding and stored per output unit as ``mean`` (signed,
  ``scale_bits + 1`` bits, same fractional length as ``delta``): ``w = delta*t + mean``.
  Dividing by the fan-in's standard deviation as well would be absorbed by a per-channel
  ``delta``, so only the mean is removed.
* gradual pruning: the control ``active_k`` (a ``tf.Variable``) caps the non-zeros per group
  in the forward pass; a callback ramps it from ``n`` down to ``k`` without retracing.
  ``encode`` needs ``active_k <= k`` (the codebook is for ``k``).
* the pattern table is a per-layer constant ROM: reported by :meth:`SparseTernary.table_bits`
  and ``Encoding.table``, not counted in ``memory_bits``.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np
import tensorflow as tf

from .base import CompressionQuantizer, require_choice, require_int
from .controls import ControlMixin
from .fixedpoint import FRAC_BITS, FRAC_RANGE, FixedPoint, pow2, quantize_unsigned, round_log2, unsigned_format_for
from .layout import FanInLayout, GroupSpec
from .ops import TF, ArrayOps
from .ranking import ascending_ranks
from .ternary_codebook import MAX_N, MAX_PATTERNS, code_bits, pattern_count, pattern_index, pattern_table


class SparseTernary(ControlMixin, CompressionQuantizer):
    """Structured sparse ternary (n, k) coding as a QKeras kernel quantizer.

    Args:
        n: weights per group, 2..16 (consecutive along the fan-in).
        k: at most this many non-zeros per group, 1..n (and at most 65536 patterns).
        scale: ``"channel"`` (one ``delta`` per output unit) or ``"layer"``.
        normalize: subtract and store each fan-in's mean before coding.
        scale_bits: bits of ``delta`` (unsigned fixed point), 2..24 (``delta_format="fixed"``).
        delta_format: ``"fixed"`` (``scale_bits``-bit fixed point, one full multiplication per
            output) or ``"po2"`` (a power of two stored as an 8-bit exponent: a shift, no
            multiplication; not with ``normalize``).
        iterations: alternating least-squares rounds for ``delta``, 1..32.
        active_k: non-zeros admitted per group in the forward pass, 1..n (default ``k``);
            a training control for gradual pruning.
        kernel_layout: ``"auto"`` or ``"depthwise"``.

    QKeras niceties: ``bits = 2`` (every weight is ternary times ``delta``; the stored
    code is ``code_bits / n`` bits per weight); ``max()``/``min()`` are ``+-1`` relative
    to ``delta`` (plus ``mean`` when ``normalize``).

    Example:
        >>> from qkeras import QDense
        >>> layer = QDense(10, kernel_quantizer=SparseTernary(n=8, k=2))
        >>> SparseTernary(8, 2).memory_bits((64, 10))   # 80 codes * 8 bits + 10 deltas * 16
        800
        >>> SparseTernary(8, 2, delta_format="po2").memory_bits((64, 10))   # 10 exponents * 8
        720
    """

    #: stored width of one power-of-two ``delta``'s exponent (``delta_format="po2"``)
    EXPONENT_BITS = FRAC_BITS

    method = "ternary"

    def __init__(self, n: int = 8, k: int = 2, scale: str = "channel", normalize: bool = False,
                 scale_bits: int = 16, iterations: int = 4, active_k: Optional[int] = None,
                 kernel_layout: str = "auto", delta_format: str = "fixed"):
        super().__init__(kernel_layout)
        self.n = require_int("n", n, 2, MAX_N)
        self.k = require_int("k", k, 1, self.n)
        if pattern_count(self.n, self.k) > MAX_PATTERNS:
            raise ValueError(f"k={k!r}: the ({self.n},{k}) codebook has {pattern_count(self.n, self.k)} patterns, "
                             f"more than {MAX_PATTERNS}; use a smaller k or n")
        self.scale = require_choice("scale", scale, ("channel", "layer"))
        if not isinstance(normalize, (bool, np.bool_)):
            raise ValueError(f"normalize={normalize!r}: expected a bool")
        self.normalize = bool(normalize)
        self.delta_format = require_choice("delta_format", delta_format, ("fixed", "po2"))
        if self.normalize and self.delta_format == "po2":
            raise ValueError("delta_format='po2': not with normalize=True (the stored mean is a full "
                             "multiplication per output again); use delta_format='fixed'")
        self.scale_bits = require_int("scale_bits", scale_bits, 2, 24)
        self.iterations = require_int("iterations", iterations, 1, 32)
        self._add_control("active_k", self.k if active_k is None else active_k,
                          functools.partial(require_int, "active_k", low=1, high=self.n), tf.int32)
        self.bits = 2

    # -- geometry and QKeras niceties --------------------------------------------------
    @property
    def group_spec(self) -> GroupSpec:
        return self.n

    @property
    def code_bits(self) -> int:
        """Bits of one group's pattern index (8 for (8,2))."""
        return code_bits(self.n, self.k)

    @property
    def table(self) -> np.ndarray:
        """The canonical (n, k) pattern table, ``(n_patterns, n)`` int8."""
        return pattern_table(self.n, self.k)

    def table_bits(self, shape=None) -> int:
        """Bits of the pattern ROM (2 bits per entry), once per layer.

        Args:
            shape: the kernel's shape; a fan-in shorter than ``n`` stores only its ``fan_in``
                columns of the table. ``None``: the full ``n`` columns.

        Returns:
            The ROM's bits.

        Example:
            >>> SparseTernary(8, 2).table_bits((64, 10)), SparseTernary(8, 2).table_bits((4, 10))
            (2064, 1032)
        """
        columns = self.n if shape is None else self.layout_for(tuple(shape)).group_size
        return int(self.table.shape[0]) * columns * 2

    def max(self) -> float:
        """Largest ternary value, relative to ``delta``."""
        return 1.0

    def min(self) -> float:
        """Smallest ternary value, relative to ``delta``."""
        return -1.0

    # -- the coding, shared by the forward pass and encode() -----------------------------
    def _reduce(self, values: tf.Tensor) -> tf.Tensor:
        """Sum over each ``delta``'s weights: keeps ``(n_out or 1, 1, 1)``."""
        axes = [0, 1, 2] if self.scale == "layer" else [1, 2]
        return tf.reduce_sum(values, axis=axes, keepdims=True)

    def _admitted(self, residual: tf.Tensor, valid: np.ndarray) -> tf.Tensor:
        """The top-``active_k`` real weights of each group by ``|w|`` (ties: lower position)."""
        return (ascending_ranks(-tf.abs(residual), valid) < self._control("active_k")) & valid

    @staticmethod
    def _select(residual: tf.Tensor, admitted: tf.Tensor, delta: tf.Tensor) -> tf.Tensor:
        """L2-optimal ternary patterns for ``delta``: the admitted weights with |w| > delta/2."""
        keep = admitted & (tf.abs(residual) > delta * 0.5)
        return tf.where(keep, tf.where(residual < 0, -1, 1), 0)

    def _alternate(self, residual: tf.Tensor, admitted: tf.Tensor) -> tf.Tensor:
        """``delta`` after ``iterations`` rounds of alternating least squares, ``(n_out or 1, 1, 1)``.

        Started from every admitted non-zero weight. Works on ``|w|`` of the admitted
        weights (-1 elsewhere, never above ``delta/2 >= 0``): for ternary ``t``,
        ``sum(w*t) = sum over kept |w|`` and ``sum(t*t)`` is the kept count, exactly, so
        this equals ``delta = sum(w*t) / sum(t*t)`` of :meth:`_select`'s patterns, with
        fewer operations per round.
        """
        candidates = tf.where(admitted, tf.abs(residual), -1.0)
        delta = tf.zeros([1, 1, 1])
        for _ in range(self.iterations + 1):
            keep = candidates > delta * 0.5
            count = self._reduce(tf.cast(keep, tf.float32))
            delta = self._reduce(tf.where(keep, candidates, 0.0)) / tf.maximum(count, 1.0)
        return delta

    def _code(self, grouped: tf.Tensor, layout: FanInLayout) -> Tuple[tf.Tensor, Dict[str, tf.Tensor], Dict[str, Any]]:
        """Ternary patterns ``(n_out, n_groups, n)``, integer scales and params.

        A fan-in shorter than ``n`` makes the layout's groups shorter than ``n``; they are
        padded here to full ``n``-wide patterns (the codebook is for ``n``).
        """
        short = self.n - layout.group_size
        valid = np.pad(layout.valid(), ((0, 0), (0, short)))
        grouped = tf.pad(grouped, ((0, 0), (0, 0), (0, short)))
        mean = tf.reduce_sum(grouped, axis=[1, 2]) / float(layout.fan_in) if self.normalize else None
        residual = grouped - mean[:, None, None] if self.normalize else grouped
        admitted = self._admitted(residual, valid)
        delta = tf.reshape(self._alternate(residual, admitted), [-1])
        if self.delta_format == "po2":
            frac = tf.clip_by_value(-round_log2(tf.where(delta > 0, delta, 1.0)), *FRAC_RANGE)
            scales, stored_delta = {}, pow2(-frac)
        else:
            largest = tf.reduce_max(delta)
            if mean is not None:
                largest = tf.maximum(largest, tf.reduce_max(tf.abs(mean)))
            frac = tf.clip_by_value(unsigned_format_for(largest, self.scale_bits), *FRAC_RANGE)
            scales = {"delta": quantize_unsigned(delta, frac, self.scale_bits)}
            if mean is not None:
                top = float((1 << self.scale_bits) - 1)
                scales["mean"] = tf.cast(tf.clip_by_value(tf.round(mean * pow2(frac)), -top, top), tf.int32)
                residual = grouped - (tf.cast(scales["mean"], tf.float32) * pow2(-frac))[:, None, None]
                admitted = self._admitted(residual, valid)
            stored_delta = tf.cast(scales["delta"], tf.float32) * pow2(-frac)
        ternary = self._select(residual, admitted, stored_delta[:, None, None])
        return ternary, scales, {"delta_frac": frac}

    def _values(self, ternary: Any, scales: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                ops: ArrayOps) -> Any:
        """``(delta*t (+ mean)) * 2**-delta_frac`` in the layout's grouped shape (``delta = 1``
        and one ``delta_frac`` per scale with ``delta_format="po2"``).

        Exact in int32, then one rounding to float32.
        """
        numerator = ops.cast(ternary[..., :layout.group_size], "int32")
        if self.delta_format == "po2":
            steps = ops.pow2(-ops.cast(params["delta_frac"], "int32"))
            return ops.cast(numerator, "float32") * ops.reshape(steps, (-1, 1, 1))
        numerator = ops.reshape(ops.cast(scales["delta"], "int32"), (-1, 1, 1)) * numerator
        if self.normalize:
            numerator = numerator + ops.reshape(ops.cast(scales["mean"], "int32"), (-1, 1, 1))
        return ops.cast(numerator, "float32") * ops.pow2(-params["delta_frac"])

    def _fake_quant(self, w: tf.Tensor) -> tf.Tensor:
        # The forward pass skips the codebook index (and so also works while active_k > k,
        # whose patterns are not in the codebook); encode() -> decode() goes through the
        # table and gives the same bits whenever active_k <= k.
        layout = self.layout_for(w.shape)
        ternary, scales, params = self._code(layout.to_groups(w, TF), layout)
        return layout.from_groups(self._values(ternary, scales, params, layout, TF), TF)

    # -- codec -------------------------------------------------------------------------
    def _encode_grouped(self, grouped: tf.Tensor, layout: FanInLayout):
        active = self.get_control("active_k")
        if active > self.k:
            raise ValueError(f"SparseTernary.encode: active_k={active} exceeds k={self.k}; the ({self.n},{self.k}) "
                             f"codebook only holds patterns with at most k non-zeros. Finish the pruning "
                             f"schedule (set_control('active_k', {self.k})) before encoding.")
        ternary, scales, params = self._code(grouped, layout)
        return {"codes": pattern_index(ternary), **scales}, params

    def _decode_grouped(self, arrays: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                        ops: ArrayOps):
        ternary = ops.take(self.table, ops.cast(arrays["codes"], "int32"))
        return self._values(ternary, arrays, params, layout, ops)

    def _storage(self, layout: FanInLayout) -> Dict[str, Tuple[int, int]]:
        n_delta = layout.n_out if self.scale == "channel" else 1
        storage = {"codes": (layout.n_out * layout.n_groups, self.code_bits)}
        if self.delta_format == "po2":
            storage["delta_frac"] = (n_delta, self.EXPONENT_BITS)
        else:
            storage["delta"] = (n_delta, self.scale_bits)
        if self.normalize:
            storage["mean"] = (layout.n_out, self.scale_bits + 1)
        return storage

    def _formats(self, params: Mapping[str, Any]) -> Dict[str, FixedPoint]:
        if self.delta_format == "po2":
            return {}
        frac = int(params["delta_frac"])
        formats = {"delta": FixedPoint(self.scale_bits, frac, False)}
        if self.normalize:
            formats["mean"] = FixedPoint(self.scale_bits + 1, frac, True)
        return formats

    def _table(self) -> np.ndarray:
        return self.table

    def get_config(self) -> Dict[str, Any]:
        return {"n": self.n, "k": self.k, "scale": self.scale, "normalize": self.normalize,
                "scale_bits": self.scale_bits, "iterations": self.iterations,
                "active_k": int(self.get_control("active_k")),
                **({"delta_format": self.delta_format} if self.delta_format != "fixed" else {}),
                **super().get_config()}
