"""Fixed-point activation formats: ``"ufixed<8,0>"`` strings and QKeras activation quantizers.

A format is a :class:`~keras_wc.quantizers.FixedPoint` (``bits``, ``frac``, ``signed``):
the integer ``v`` stands for ``v * 2**-frac``. Strings follow hls4ml: ``fixed<W,I>`` /
``ufixed<W,I>`` (also ``ap_fixed``/``ap_ufixed``), ``W`` total bits, ``I`` integer bits
with the sign included, so ``frac = W - I``.

An :class:`ActivationQuant` is what a QKeras ``quantized_relu`` / ``quantized_bits``
activation does in fake-quant (QKeras 0.9.0 source): ``p = x * 2**frac`` in float32,
``tf.round`` (half to even), clip to the integer range, so the result is exactly
``clip(round_half_even(x * 2**frac), min_int, max_int) * 2**-frac``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..quantizers.fixedpoint import FixedPoint
from .arith import round_shift, saturate

_FORMAT = re.compile(r"^\s*(?:ap_)?(u?)fixed\s*<\s*(\d+)\s*,\s*(-?\d+)\s*>\s*$")


def parse_format(text: str) -> FixedPoint:
    """Parse an hls4ml-style fixed-point type.

    Args:
        text: ``"fixed<W,I>"`` or ``"ufixed<W,I>"`` (an ``ap_`` prefix is accepted).

    Returns:
        ``FixedPoint(W, W - I, signed)``.

    Raises:
        ValueError: for anything else.

    Example:
        >>> parse_format("ufixed<8,0>")
        FixedPoint(bits=8, frac=8, signed=False)
    """
    match = _FORMAT.match(str(text))
    if not match:
        raise ValueError(f"input_format={text!r}: expected 'fixed<W,I>' or 'ufixed<W,I>' "
                         "(W total bits, I integer bits incl. sign), e.g. 'ufixed<8,0>'")
    unsigned, width, integer = match.groups()
    width, integer = int(width), int(integer)
    if width < 1:
        raise ValueError(f"input_format={text!r}: the width must be >= 1")
    return FixedPoint(width, width - integer, not unsigned)


def format_text(fmt: FixedPoint) -> str:
    """The hls4ml spelling of ``fmt`` without the ``ap_`` prefix.

    Example:
        >>> format_text(FixedPoint(8, 5, True))
        'fixed<8,3>'
    """
    return f"{'' if fmt.signed else 'u'}fixed<{fmt.bits},{fmt.integer_bits}>"


def format_for(bound: int, frac: int, signed: bool = True) -> FixedPoint:
    """The narrowest format on grid ``2**-frac`` holding every integer of magnitude ``<= bound``.

    Example:
        >>> format_for(255, 8, signed=False), format_for(255, 8).bits
        (FixedPoint(bits=8, frac=8, signed=False), 9)
    """
    magnitude_bits = max(int(bound), 1).bit_length()
    return FixedPoint(magnitude_bits + int(signed), int(frac), signed)


@dataclass(frozen=True)
class ActivationQuant:
    """Round half to even onto ``fmt``'s grid, then saturate to ``[min_int, max_int]``.

    Attributes:
        fmt: the output format.
        min_int: lowest integer (``-(2**(bits-1)) + 1`` for a symmetric ``quantized_bits``).
        max_int: highest integer.
        relu: True for ``quantized_relu`` (negative inputs give 0; same as ``min_int=0``).

    Example:
        >>> q = ActivationQuant.from_qkeras(quantized_relu(4, 0), "act")
        >>> q.quantize_float(np.float32([0.03, 0.5, 2.0])).tolist()    # grid 1/16, max 15/16
        [0, 8, 15]
    """

    fmt: FixedPoint
    min_int: int
    max_int: int
    relu: bool = False

    @classmethod
    def from_format(cls, fmt: FixedPoint) -> "ActivationQuant":
        """The plain saturating quantizer of a declared format."""
        return cls(fmt, fmt.min_int, fmt.max_int, False)

    @classmethod
    def from_qkeras(cls, quantizer: Any, layer: str) -> "ActivationQuant":
        """Derive the exact rounding of a QKeras activation quantizer.

        Args:
            quantizer: a ``quantized_relu`` or ``quantized_bits`` instance (or its string).
            layer: the layer name, for error messages.

        Raises:
            ValueError: for other quantizers, sigmoid/negative-slope relus, a relu upper
                bound, ``alpha`` other than ``None``/1, or 1-bit ``quantized_bits``
                (``use_stochastic_rounding`` is accepted: it acts in training only).
        """
        from qkeras.quantizers import get_quantizer, quantized_bits, quantized_relu

        q = get_quantizer(quantizer) if isinstance(quantizer, (str, dict)) else quantizer
        where = f"layer {layer!r}: activation {q}"
        # use_stochastic_rounding only acts in training (QKeras' _round_through takes tf.round at
        # learning phase 0): at inference the quantizer rounds half to even like any other
        if getattr(q, "qnoise_factor", 1.0) != 1.0:
            raise ValueError(f"{where}: qnoise_factor must be 1.0")
        if isinstance(q, quantized_relu):
            if q.use_sigmoid or q.negative_slope != 0.0:
                raise ValueError(f"{where}: only quantized_relu(bits, integer) without sigmoid or "
                                 "negative_slope is supported")
            if not q.is_quantized_clip:
                raise ValueError(f"{where}: is_quantized_clip=False (relu_upper_bound) is not supported")
            bits, integer = int(q.bits), int(q.integer)
            return cls(FixedPoint(bits, bits - integer, False), 0, (1 << bits) - 1, True)
        if isinstance(q, quantized_bits):
            if not (q.alpha is None or (not isinstance(q.alpha, str) and float(q.alpha) == 1.0)):
                raise ValueError(f"{where}: alpha={q.alpha!r}; only alpha=None or 1 is supported "
                                 "(a learned or per-channel scale is not on a fixed-point grid)")
            bits, integer, signed = int(q.bits), int(q.integer), bool(q.keep_negative)
            magnitude_bits = bits - int(signed)
            if magnitude_bits < 1:
                raise ValueError(f"{where}: 1-bit quantized_bits (binary) is not supported as an activation")
            high = (1 << magnitude_bits) - 1
            low = -((1 << magnitude_bits) - int(bool(q.symmetric))) if signed else 0
            return cls(FixedPoint(bits, magnitude_bits - integer, signed), low, high, False)
        raise ValueError(f"{where}: only quantized_relu and quantized_bits activations are supported")

    def quantize_float(self, x: Any) -> np.ndarray:
        """Quantize float inputs exactly as QKeras fake-quant does (float32 arithmetic).

        Returns:
            ``int64`` integers on ``fmt``'s grid.
        """
        scaled = np.asarray(x, np.float32) * np.float32(2.0 ** self.fmt.frac)
        rounded = np.round(np.nan_to_num(scaled, nan=0.0, posinf=2.0 ** 62, neginf=-2.0 ** 62))
        return saturate(np.clip(rounded, -2.0 ** 62, 2.0 ** 62).astype(np.int64), self.min_int, self.max_int)

    def requantize(self, values: np.ndarray, frac: int) -> np.ndarray:
        """Exact integers on grid ``2**-frac`` -> this format (round half to even, saturate)."""
        out = saturate(round_shift(values, frac - self.fmt.frac), self.min_int, self.max_int)
        return out.astype(np.int64) if out.dtype == object else out

    def to_dict(self) -> dict:
        return {"format": format_text(self.fmt), "min_int": self.min_int, "max_int": self.max_int,
                "relu": self.relu, "rounding": "half_even", "overflow": "saturate"}
