"""PolyApprox: polynomial weight approximation (IEEE Access 2022 abstract; docs/methods.md).

Inside a group the weights are ranked by value and the rank is cut into ``levels`` (L)
buckets, ``k = floor(rank * L / n_g)`` with ``n_g`` the group's real size (padding is not
ranked). Every weight of bucket ``k`` takes the value of a polynomial of the bucket index,
``p(k) = a + b*k`` (``degree=1``) or ``a + b*k + c*k**2`` (``degree=2``), fitted by least
squares to the group's latent weights at every training step (straight-through gradient).

Datapath (computation reuse): per group ``S0 = sum x_i``, ``S1 = sum k_i*x_i``,
``S2 = sum k_i**2*x_i`` are shift-adds (``k_i`` is a small integer) and
``y = sum_g a_g*S0 + b_g*S1 (+ c_g*S2)`` costs ``degree+1`` full multiplications per group.

Follows the abstract: linear / quadratic approximation of the weights during retraining,
inference from the coefficients, so equal weights share sub-computations. This project's
choices (constructor arguments or documented here): equal-population buckets of the rank,
the least-squares fit (solved in float64 through the normal equations, with a
pseudo-inverse so groups with fewer distinct buckets than coefficients stay well defined),
coefficients stored as *signed fixed point* of ``coef_bits`` bits with one fractional
length per layer, and the bucket-freezing mechanism (:meth:`PolyApprox.freeze`).

Storage is reported two ways, as the paper's 1211.3x (LeNet-5, MNIST) counts coefficients
only: :meth:`PolyApprox.parameter_count` (coefficients) and ``memory_bits`` (bucket indices
*and* coefficients).
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from .base import CompressionQuantizer, require_int
from .controls import ControlMixin, require_bool
from .fixedpoint import FixedPoint, pow2, signed_format_for
from .layout import FanInLayout, GroupSpec, check_group
from .ops import TF, ArrayOps
from .ranking import ascending_ranks

_MAX_LEVELS = 4096
_MAX_COEF_BITS = 24
_INT32_MAX = (1 << 31) - 1


class PolyApprox(ControlMixin, CompressionQuantizer):
    """Polynomial weight approximation as a QKeras kernel quantizer.

    Args:
        degree: 1 (``a + b*k``) or 2 (``a + b*k + c*k**2``).
        levels: number of buckets L per group, 2..4096; each weight stores its bucket
            index in ``ceil(log2 L)`` bits.
        group: ``"filter"`` (one coefficient set per fan-in), ``"layer"`` (one set for the
            whole kernel, ranked over the whole kernel) or an int group size (consecutive
            chunks of the fan-in, last chunk padded).
        coef_bits: width of each signed fixed-point coefficient, 2..24. The integer
            numerator ``a + b*k + c*k**2`` must fit int32, which caps ``coef_bits`` for
            large ``levels`` with ``degree=2`` (the error names the cap).
        kernel_layout: ``"auto"`` or ``"depthwise"``.
        frozen_assignment: start frozen with these bucket indices (flattened grouped
            order, as ``get_config`` reports them); ``None`` (default) starts unfrozen.

    Bucket freezing: :meth:`freeze` stores the bucket assignment of a kernel and from then
    on the forward pass (and ``encode``) reuse it while the coefficients are still refitted
    to the moving latent weights; :meth:`unfreeze` returns to re-ranking at every step.
    The flag is a ``tf.Variable`` control (``"frozen"``) read with ``tf.cond``, so a
    callback can flip it during ``fit`` without retracing. While frozen, ``get_config``
    carries the assignment (``frozen_assignment``, one int per weight incl. padding), so a
    saved model reloads with the same buckets; ``str()`` shows only ``frozen=True``. Use
    one quantizer instance per layer (the stored assignment belongs to one kernel).

    QKeras niceties: ``bits = ceil(log2 levels)`` (the stored code per weight); ``max()``
    and ``min()`` give the range of that code, ``levels - 1`` and ``0``. The weight values
    themselves are ``p(k)`` and depend on the fitted coefficients (see :meth:`encode`).

    Example:
        >>> from qkeras import QDense
        >>> layer = QDense(10, kernel_quantizer=PolyApprox(degree=1, levels=16))
    """

    method = "poly"
    group_choices = ("filter", "layer")

    def __init__(self, degree: int = 1, levels: int = 16, group: GroupSpec = "filter", coef_bits: int = 16,
                 kernel_layout: str = "auto", frozen_assignment: Optional[Sequence[int]] = None):
        super().__init__(kernel_layout)
        self.degree = require_int("degree", degree, 1, 2)
        self.levels = require_int("levels", levels, 2, _MAX_LEVELS)
        self.group = check_group(group, self.group_choices)
        self.coef_bits = require_int("coef_bits", coef_bits, 2, self._max_coef_bits())
        self.bits = int(np.ceil(np.log2(self.levels)))
        self._add_control("frozen", False, functools.partial(require_bool, "frozen"), tf.bool)
        self._assignment = tf.Variable(tf.zeros([0], tf.int32), shape=tf.TensorShape(None), trainable=False,
                                       name="kwc_poly_assignment")
        if frozen_assignment is not None:
            self._freeze_to(frozen_assignment)

    def _max_coef_bits(self) -> int:
        """Widest ``coef_bits`` whose numerator ``a + b*k + c*k**2`` cannot overflow int32."""
        top = self.levels - 1
        terms = sum(top ** j for j in range(self.degree + 1))
        widest = 1
        while widest < _MAX_COEF_BITS and (1 << widest) * terms <= _INT32_MAX:
            widest += 1
        return widest

    # -- QKeras niceties ---------------------------------------------------------------
    @property
    def group_spec(self) -> GroupSpec:
        return self.group

    def max(self) -> float:
        """Largest stored code (bucket index ``levels - 1``); weights are ``p(k)``."""
        return float(self.levels - 1)

    def min(self) -> float:
        """Smallest stored code (bucket index 0)."""
        return 0.0

    def parameter_count(self, shape) -> int:
        """Number of polynomial coefficients stored for a kernel of ``shape``.

        This is the figure behind the paper's parameter reduction (weights / coefficients);
        ``memory_bits`` additionally counts the per-weight bucket indices.

        Example:
            >>> PolyApprox(degree=1, group="layer").parameter_count((400, 120))
            2
        """
        return self._coef_groups(self.layout_for(shape)) * (self.degree + 1)

    # -- bucket freezing ---------------------------------------------------------------
    def freeze(self, kernel) -> None:
        """Freeze the bucket assignment to the one ``kernel`` has now.

        Args:
            kernel: the layer's kernel (``tf.Variable``, tensor or numpy array).

        Example:
            >>> q = PolyApprox(); q.freeze(layer.kernel)   # e.g. from a callback
        """
        kernel = tf.convert_to_tensor(kernel, tf.float32)
        layout = self.layout_for(kernel.shape)
        self._freeze_to(tf.reshape(self._rank_buckets(layout.to_groups(kernel, TF), layout), [-1]))

    def _freeze_to(self, assignment) -> None:
        """Store a flat bucket assignment and set the ``frozen`` control."""
        codes = np.asarray(assignment)
        if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer) or codes.size == 0 \
                or codes.min() < 0 or codes.max() >= self.levels:
            raise ValueError(f"frozen_assignment=<{codes.size} values, shape {codes.shape}>: expected a non-empty "
                             f"flat sequence of ints in [0, {self.levels - 1}] (levels={self.levels})")
        self._assignment.assign(codes.astype(np.int32))
        self.set_control("frozen", True)

    def unfreeze(self) -> None:
        """Return to re-ranking the weights at every step."""
        self.set_control("frozen", False)
        self._assignment.assign(tf.zeros([0], tf.int32))

    @property
    def frozen(self) -> bool:
        """Whether the bucket assignment is frozen."""
        return bool(self.get_control("frozen"))

    # -- codec -------------------------------------------------------------------------
    def _view_shape(self, layout: FanInLayout) -> Tuple[int, int, int]:
        """Shape in which each row of the last axis is one coefficient group."""
        if self.group == "layer":
            return (1, 1, layout.n_out * layout.padded_fan_in)
        return layout.grouped_shape

    def _coef_groups(self, layout: FanInLayout) -> int:
        view = self._view_shape(layout)
        return view[0] * view[1]

    def _view_valid(self, layout: FanInLayout) -> np.ndarray:
        """Bool mask of real weights in the view (broadcastable to ``_view_shape``)."""
        valid = np.broadcast_to(layout.valid(), layout.grouped_shape)
        return valid.reshape(self._view_shape(layout))

    def _rank_buckets(self, grouped: tf.Tensor, layout: FanInLayout) -> tf.Tensor:
        """Bucket ``k = floor(rank * L / n_g)`` per weight (grouped shape, 0 at padding)."""
        view = tf.reshape(grouped, self._view_shape(layout))
        valid = self._view_valid(layout)
        sizes = valid.sum(axis=-1, keepdims=True).astype(np.int64)
        ranks = tf.cast(ascending_ranks(view, valid), tf.int64)
        buckets = tf.where(valid, (ranks * self.levels) // sizes, tf.zeros_like(ranks))
        return tf.reshape(tf.cast(buckets, tf.int32), layout.grouped_shape)

    def _buckets(self, grouped: tf.Tensor, layout: FanInLayout) -> tf.Tensor:
        """The frozen assignment when frozen, else the ranking of ``grouped``."""
        return tf.cond(self._control("frozen"),
                       lambda: tf.reshape(self._assignment.value(), layout.grouped_shape),
                       lambda: self._rank_buckets(grouped, layout))

    def _fit(self, grouped: tf.Tensor, buckets: tf.Tensor, layout: FanInLayout) -> tf.Tensor:
        """Least-squares coefficients ``(groups..., degree+1)`` in the bucket index ``k`` (float64).

        Solved in the scaled variable ``u = k / (L-1)`` (well conditioned), then rescaled.
        """
        shape = self._view_shape(layout)
        mask = tf.constant(self._view_valid(layout), tf.float64)
        weights = tf.reshape(tf.cast(grouped, tf.float64), shape)
        u = tf.reshape(tf.cast(buckets, tf.float64), shape) / float(self.levels - 1)
        basis = tf.stack([u ** j for j in range(self.degree + 1)], axis=-1) * mask[..., None]
        gram = tf.einsum("rgmi,rgmj->rgij", basis, basis)
        rhs = tf.einsum("rgmi,rgm->rgi", basis, weights)
        coef_u = tf.linalg.matvec(tf.linalg.pinv(gram), rhs)
        return coef_u / tf.constant([float(self.levels - 1) ** j for j in range(self.degree + 1)], tf.float64)

    def _encode_grouped(self, grouped: tf.Tensor, layout: FanInLayout):
        buckets = self._buckets(grouped, layout)
        coef = self._fit(grouped, buckets, layout)
        largest = tf.cast(tf.reduce_max(tf.abs(coef)), tf.float32)
        frac = signed_format_for(largest, self.coef_bits)
        bound = float(1 << (self.coef_bits - 1))
        scaled = tf.round(coef * tf.cast(pow2(frac), tf.float64))
        coef_int = tf.cast(tf.clip_by_value(scaled, -bound, bound - 1.0), tf.int32)
        return {"codes": buckets, "coef": coef_int}, {"coef_frac": frac}

    def _decode_grouped(self, arrays: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                        ops: ArrayOps):
        codes = ops.cast(arrays["codes"], "int32")
        coef = ops.cast(arrays["coef"], "int32")
        numerator = coef[..., self.degree:]
        for power in range(self.degree - 1, -1, -1):  # Horner: a + k*(b + k*c), exact in int32
            numerator = coef[..., power:power + 1] + codes * numerator
        return ops.cast(numerator, "float32") * ops.pow2(-params["coef_frac"])

    def _storage(self, layout: FanInLayout) -> Dict[str, Tuple[int, int]]:
        return {"codes": (layout.n_out * layout.fan_in, self.bits),
                "coef": (self._coef_groups(layout) * (self.degree + 1), self.coef_bits)}

    def _formats(self, params: Mapping[str, Any]) -> Dict[str, FixedPoint]:
        return {"coef": FixedPoint(self.coef_bits, int(params["coef_frac"]), True)}

    def get_config(self) -> Dict[str, Any]:
        assignment = self._assignment.numpy().tolist() if self.frozen else None
        return {"degree": self.degree, "levels": self.levels, "group": self.group, "coef_bits": self.coef_bits,
                **super().get_config(), "frozen_assignment": assignment}

    def __str__(self) -> str:
        frozen = ",frozen=True" if self.frozen else ""
        return (f"PolyApprox(degree={self.degree},levels={self.levels},group={self.group!r},"
                f"coef_bits={self.coef_bits}{frozen})")

    __repr__ = __str__
