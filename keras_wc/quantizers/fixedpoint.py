"""Exact power-of-two helpers for float32 tensors and fixed-point formats.

``log2`` computed by ``tf.math.log`` differs between libraries in the last bit; these
helpers read the IEEE-754 exponent field instead, so every fractional length and every
power-of-two level is an exact integer computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from .ops import TF

_MANTISSA_BITS = 23
_EXPONENT_BIAS = 127


@dataclass(frozen=True)
class FixedPoint:
    """A fixed-point format: an integer ``v`` stands for ``v * 2**-frac``.

    Args:
        bits: total width, sign included when ``signed``.
        frac: fractional bits (may be negative or exceed ``bits``).
        signed: two's complement when True, unsigned otherwise.

    Example:
        >>> FixedPoint(8, 4, True).max_int
        127
    """

    bits: int
    frac: int
    signed: bool

    @property
    def max_int(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def min_int(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def integer_bits(self) -> int:
        """Integer bits in hls4ml's ``ap_fixed<W, I>`` convention (sign included)."""
        return self.bits - self.frac

    def hls_type(self) -> str:
        """The ``ap_fixed``/``ap_ufixed`` spelling of this format."""
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{kind}<{self.bits},{self.integer_bits}>"

    def to_dict(self) -> dict:
        return {"bits": self.bits, "frac": self.frac, "signed": self.signed}


def floor_log2(x: tf.Tensor) -> tf.Tensor:
    """``floor(log2(x))`` as int32 for positive normal float32 ``x`` (exact).

    Zeros and subnormals give -127; callers mask them.
    """
    bits = tf.bitcast(tf.cast(x, tf.float32), tf.int32)
    return tf.bitwise.right_shift(bits, _MANTISSA_BITS) % 256 - _EXPONENT_BIAS


def ceil_log2(x: tf.Tensor) -> tf.Tensor:
    """``ceil(log2(x))`` as int32 for positive normal float32 ``x`` (exact)."""
    bits = tf.bitcast(tf.cast(x, tf.float32), tf.int32)
    has_fraction = tf.cast(tf.bitwise.bitwise_and(bits, (1 << _MANTISSA_BITS) - 1) != 0, tf.int32)
    return floor_log2(x) + has_fraction


def round_log2(x: tf.Tensor) -> tf.Tensor:
    """Exponent of the power of two nearest to positive normal float32 ``x`` (int32, exact).

    Equals ``floor(log2(4*x/3))``: ``x`` in ``[0.75 * 2**e, 1.5 * 2**e)`` gives ``e``; the
    midpoint ``1.5 * 2**e`` goes up. Read from the top mantissa bit, so it is exact.

    Example:
        >>> int(round_log2(tf.constant(0.74)))  # nearer to 0.5 than to 1
        -1
    """
    bits = tf.bitcast(tf.cast(x, tf.float32), tf.int32)
    upper_half = tf.bitwise.bitwise_and(tf.bitwise.right_shift(bits, _MANTISSA_BITS - 1), 1)
    return floor_log2(x) + upper_half


pow2 = TF.pow2

#: fractional lengths are clamped to this range so that every level ``2**-frac`` and every
#: scale ``2**frac`` is a normal float32 (exact in :func:`pow2`)
FRAC_RANGE = (-126, 126)
#: stored width of one fractional length kept per output unit (it spans :data:`FRAC_RANGE`)
FRAC_BITS = 8


def signed_format_for(max_value: tf.Tensor, bits: tf.Tensor) -> tf.Tensor:
    """Fractional length of a signed ``bits``-wide fixed point covering ``max_value``.

    Returns ``frac = bits - 1 - ceil(log2(max_value))`` (int32; elementwise), so that
    ``max_value * 2**frac <= 2**(bits-1)``; a zero maximum gives ``bits - 1``. The result is
    clamped to :data:`FRAC_RANGE`. ``bits`` may be a Python int or an int32 tensor.

    Example:
        >>> int(signed_format_for(tf.constant(0.3), 8))  # 0.3 < 2**-1
        8
    """
    safe = tf.where(max_value > 0, max_value, tf.ones_like(max_value))
    frac = tf.cast(bits, tf.int32) - 1 - ceil_log2(safe)
    return tf.clip_by_value(frac, *FRAC_RANGE)


def unsigned_format_for(max_value: tf.Tensor, bits: int) -> tf.Tensor:
    """Fractional length so that ``max_value`` fits an unsigned ``bits``-wide integer.

    Returns ``frac = bits - 1 - floor(log2(max_value))`` (int32), so that
    ``max_value * 2**frac < 2**bits``; a zero maximum gives ``frac = bits`` so that
    all-zero kernels encode to zeros.
    """
    safe = tf.where(max_value > 0, max_value, tf.ones_like(max_value))
    frac = bits - 1 - floor_log2(safe)
    return tf.where(max_value > 0, frac, tf.fill(tf.shape(frac), bits))


def quantize_unsigned(value: tf.Tensor, frac: tf.Tensor, bits: int) -> tf.Tensor:
    """Round ``value * 2**frac`` to the nearest integer in ``[0, 2**bits - 1]`` (int32)."""
    scaled = tf.round(value * pow2(frac))
    return tf.cast(tf.clip_by_value(scaled, 0.0, float((1 << bits) - 1)), tf.int32)
