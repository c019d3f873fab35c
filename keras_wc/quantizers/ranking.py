"""Deterministic in-group ranking in TensorFlow (shared by PolyApprox and SparseTernary).

Both methods need "the position of each weight in its group when sorted": PolyApprox
buckets weights by the rank of their value, SparseTernary keeps the top-k weights by
magnitude. Ties are broken by position (lower index first), so the forward pass and
``encode()`` always agree, and padding (``valid == False``) always ranks last.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def ascending_ranks(values: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
    """Rank of every entry along the last axis, smallest value first.

    Args:
        values: float tensor ``(..., m)``.
        valid: bool tensor broadcastable to ``values``; ``False`` entries (padding) are
            ranked after every valid entry, so valid entries get ranks ``0..n_valid-1``.

    Returns:
        int32 tensor of the same shape: a permutation of ``0..m-1`` along the last axis.
        Equal values are ranked by position (stable).

    Example:
        >>> ascending_ranks(tf.constant([[0.5, -1.0, 0.5, 0.0]]), tf.constant([True, True, True, False])).numpy()
        array([[1, 0, 2, 3]], dtype=int32)
    """
    values = tf.convert_to_tensor(values, tf.float32)
    valid = tf.broadcast_to(tf.convert_to_tensor(valid, tf.bool), tf.shape(values))
    keyed = tf.where(valid, values, tf.fill(tf.shape(values), np.float32(np.inf)))
    width = values.shape[-1]
    if width is not None and width <= PAIRWISE_MAX:
        return _pairwise_ranks(keyed)
    order = tf.argsort(keyed, axis=-1, stable=True)
    # an entry's rank is where it sits in ``order``: invert the permutation
    return tf.argsort(order, axis=-1, stable=True)


#: rows up to this length are ranked by pairwise comparison (``m**2`` elementwise work,
#: a few fused ops) instead of two stable sorts: much faster for SparseTernary's small groups
PAIRWISE_MAX = 32


def _pairwise_ranks(keyed: tf.Tensor) -> tf.Tensor:
    """Stable ascending ranks by counting: ``#{j: v_j < v_i or (v_j == v_i and j < i)}``.

    The same permutation as the double stable argsort for NaN-free input (padding is +inf,
    and ties between infinities go by position as well).
    """
    width = keyed.shape[-1]
    mine, other = keyed[..., :, None], keyed[..., None, :]
    before = np.tril(np.ones((width, width), bool), k=-1)  # [i, j]: j < i
    ahead = (other < mine) | ((other == mine) & before)
    return tf.reduce_sum(tf.cast(ahead, tf.int32), axis=-1)
