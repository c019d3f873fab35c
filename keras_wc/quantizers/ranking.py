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
    order = tf.argsort(keyed, axis=-1, stable=True)
    # an entry's rank is where it sits in ``order``: invert the permutation
    return tf.argsort(order, axis=-1, stable=True)
