"""The exact integer primitives of the datapath (rounding, saturation, wide arrays).

Every operation here is exact integer arithmetic; it is written for numpy ``int64`` arrays
and for ``object`` arrays of Python ints (used when a bound says ``int64`` could overflow),
with the same code. These are the operations ``docs/datapath.md`` names: ``AP_RND_CONV``
(round half to even) by a right shift, ``AP_SAT`` saturation, and round-to-nearest
division by a constant (the odd SWC denominator ``D``; non power-of-two pooling areas).
"""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np

#: integers with a magnitude below this bound are held in ``int64`` arrays
INT64_SAFE = 1 << 62


def int_array(values: Any, bound: int) -> np.ndarray:
    """An integer array able to hold magnitudes up to ``bound`` exactly.

    Args:
        values: integers (array-like).
        bound: an upper bound of the magnitudes that later arithmetic on the array reaches.

    Returns:
        ``int64`` when ``bound < 2**62``, else an ``object`` array of Python ints.

    Example:
        >>> int_array([1, 2], 10).dtype, int_array([1, 2], 1 << 70).dtype
        (dtype('int64'), dtype('O'))
    """
    if bound < INT64_SAFE:
        return np.asarray(values).astype(np.int64)
    return np.vectorize(int, otypes=[object])(np.asarray(values))


def round_shift(values: np.ndarray, shift: int) -> np.ndarray:
    """``values * 2**-shift`` rounded half to even (``shift > 0``) or exactly scaled (``<= 0``).

    Args:
        values: integer array.
        shift: right shift; a negative shift is an exact left shift.

    Returns:
        The rounded integers (same dtype).

    Example:
        >>> round_shift(np.array([1, 3, 5, -3, 6]), 1).tolist()   # 0.5, 1.5, 2.5, -1.5, 3
        [0, 2, 2, -2, 3]
    """
    if shift <= 0:
        return values * (1 << -shift)
    floor = values >> shift
    rest = values - (floor << shift)
    half = 1 << (shift - 1)
    up = (rest > half) | ((rest == half) & ((floor & 1) == 1))
    return floor + np.where(up, 1, 0).astype(floor.dtype)


def round_div(values: np.ndarray, divisor: Any) -> np.ndarray:
    """``values / divisor`` rounded to the nearest integer, ties to even.

    Used for the SWC denominator ``D`` (odd, so ties cannot happen) and for average
    pooling over a window whose area is not a power of two.

    Args:
        values: integer array.
        divisor: positive integer, or an integer array broadcasting against ``values`` (one
            divisor per pooling window).

    Returns:
        The rounded quotients (same dtype).

    Raises:
        ValueError: for a divisor below 1.

    Example:
        >>> round_div(np.array([10, -10, 3, 9, 15]), 6).tolist()   # 1.67, -1.67, 0.5, 1.5, 2.5
        [2, -2, 0, 2, 2]
    """
    if np.any(np.asarray(divisor) < 1):
        raise ValueError(f"round_div: divisor={divisor}; expected positive integers")
    if np.all(np.asarray(divisor) == 1):
        return values
    floor = values // divisor
    twice_rest = 2 * (values - floor * divisor)
    up = (twice_rest > divisor) | ((twice_rest == divisor) & ((floor & 1) == 1))
    return floor + np.where(up, 1, 0).astype(floor.dtype)


def reciprocal(divisor: int, bits: int) -> Tuple[int, int]:
    """The multiplier and shift that divide by a constant: ``n // divisor == (n * m) >> s``.

    Exact for every ``0 <= n < 2**bits`` (Granlund and Montgomery, "Division by invariant
    integers using multiplication", 1994): with ``l = ceil(log2(divisor))``, ``s = bits + l``
    and ``m = ceil(2**s / divisor)``, ``0 <= m * divisor - 2**s < 2**l``, so the error
    ``n * (m * divisor - 2**s) / (divisor * 2**s)`` stays below ``1 / divisor`` and cannot
    carry the quotient past an integer. The HLS divides SWC's accumulator by its odd
    denominator this way (one constant multiplication, ``hls/sqnap_common.h``
    ``div_round_odd``); ``m <= 2**(bits + 1)``.

    Args:
        divisor: positive integer.
        bits: the dividend's width (unsigned).

    Returns:
        ``(m, s)``.

    Example:
        >>> m, s = reciprocal(7, 8)
        >>> all((n * m) >> s == n // 7 for n in range(256))
        True
    """
    if divisor < 1 or bits < 1:
        raise ValueError(f"reciprocal: divisor={divisor}, bits={bits}; expected positive integers")
    shift = bits + (divisor - 1).bit_length()
    return -(-(1 << shift) // divisor), shift


def saturate(values: np.ndarray, low: int, high: int) -> np.ndarray:
    """Clip integers to ``[low, high]`` (``AP_SAT``).

    Example:
        >>> saturate(np.array([-3, 2, 9]), 0, 7).tolist()
        [0, 2, 7]
    """
    return np.minimum(np.maximum(values, low), high)


def max_abs(values: np.ndarray) -> int:
    """The largest magnitude in an integer array as a Python int (0 when empty).

    Example:
        >>> max_abs(np.array([-5, 3]))
        5
    """
    if np.size(values) == 0:
        return 0
    return int(max(abs(int(np.max(values))), abs(int(np.min(values)))))
