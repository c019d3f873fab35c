"""The canonical (n, k) structured sparse ternary codebook and its vectorized index.

A pattern is a vector of ``n`` entries in {-1, 0, +1} with at most ``k`` non-zeros. The
codebook lists all of them in one fixed order (the contract with the HLS ROM):

1. by number of non-zeros ``j = 0, 1, ..., k``;
2. within ``j``, by non-zero positions in the lexicographic order of
   ``itertools.combinations(range(n), j)``;
3. within positions, by sign mask in binary counting order, the first (lowest) position
   being the most significant bit and a set bit meaning ``-1``: for ``j = 2`` the order is
   ``(+,+), (+,-), (-,+), (-,-)``.

There are ``sum_j C(n,j) * 2**j`` patterns; (8,2) has 129. Because the order is by ``j``
first, the (n,k) codebook is a prefix of the (n,k+1) one.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from math import comb

import numpy as np
import tensorflow as tf

#: largest group size: the combination-rank lookup has ``2**n`` entries
MAX_N = 16
#: largest codebook: codes are at most 16 bits
MAX_PATTERNS = 1 << 16


def pattern_count(n: int, k: int) -> int:
    """Number of (n, k) patterns, ``sum_{j<=k} C(n,j) * 2**j``.

    Example:
        >>> pattern_count(8, 2)
        129
    """
    return sum(comb(n, j) << j for j in range(k + 1))


def code_bits(n: int, k: int) -> int:
    """Bits of one pattern index, ``ceil(log2(pattern_count))`` (8 for (8,2))."""
    return max(1, (pattern_count(n, k) - 1).bit_length())


@lru_cache(maxsize=None)
def pattern_table(n: int, k: int) -> np.ndarray:
    """The canonical codebook, ``(pattern_count(n,k), n)`` int8 in {-1, 0, 1} (read-only).

    Example:
        >>> pattern_table(4, 1)[:4].tolist()
        [[0, 0, 0, 0], [1, 0, 0, 0], [-1, 0, 0, 0], [0, 1, 0, 0]]
    """
    rows = []
    for j in range(k + 1):
        for positions in itertools.combinations(range(n), j):
            for signs in range(1 << j):
                row = np.zeros(n, np.int8)
                for order, position in enumerate(positions):
                    row[position] = -1 if (signs >> (j - 1 - order)) & 1 else 1
                rows.append(row)
    table = np.stack(rows)
    table.setflags(write=False)
    return table


@lru_cache(maxsize=None)
def _index_constants(n: int) -> tuple:
    """``(offset per j, lexicographic rank per position mask)`` for any k <= n."""
    offsets = np.cumsum([0] + [comb(n, j) << j for j in range(n)]).astype(np.int32)
    rank_of_mask = np.zeros(1 << n, np.int32)
    for j in range(n + 1):
        for rank, positions in enumerate(itertools.combinations(range(n), j)):
            rank_of_mask[sum(1 << p for p in positions)] = rank
    return offsets, rank_of_mask


def pattern_index(ternary: tf.Tensor) -> tf.Tensor:
    """Codebook index of each pattern along the last axis (TensorFlow, vectorized).

    ``index = offset[j] + comb_rank(positions) * 2**j + sign_mask`` with ``j`` the number
    of non-zeros; valid for any (n, k) codebook that contains the pattern.

    Args:
        ternary: int tensor ``(..., n)`` with entries in {-1, 0, 1}.

    Returns:
        int32 tensor ``(...)``: rows of :func:`pattern_table` such that
        ``pattern_table(n, k)[index] == ternary``.

    Example:
        >>> pattern_index(tf.constant([[0, 0, -1, 1]])).numpy()
        array([[31]], dtype=int32)
    """
    ternary = tf.cast(ternary, tf.int32)
    n = int(ternary.shape[-1])
    offsets, rank_of_mask = _index_constants(n)
    nonzero = tf.cast(ternary != 0, tf.int32)
    count = tf.reduce_sum(nonzero, axis=-1)
    position_mask = tf.reduce_sum(nonzero * (1 << np.arange(n, dtype=np.int32)), axis=-1)
    order = tf.cumsum(nonzero, axis=-1, exclusive=True)
    sign_weight = tf.bitwise.left_shift(1, tf.maximum(count[..., None] - 1 - order, 0))
    sign_mask = tf.reduce_sum(tf.where(ternary < 0, sign_weight, 0), axis=-1)
    combination = tf.gather(rank_of_mask, position_mask)
    return tf.gather(offsets, count) + tf.bitwise.left_shift(combination, count) + sign_mask
