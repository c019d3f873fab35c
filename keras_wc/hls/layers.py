"""hls4ml IR layers of the keras_wc compressed layers (``SQNAPDense``, ``SQNAPConv1D``, ...).

The parser creates them without weights; the ``sqnap:assign_types`` pass attaches the layer's
datapath spec (:class:`~keras_wc.datapath.specs.CompressedSpec`, made once per conversion) and
calls :meth:`SQNAPLayer.add_encoding_weights`: the method's weight arguments
(:meth:`keras_wc.methods.Method.arguments`) become integer hls4ml weight variables
``sq_<name><index>`` — the codes, scales and coefficients exactly as ``encode()`` gave them,
written flat in C order — plus the shared ``align`` shifts (``docs/hls_api.md``).
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import Attribute, ConfigurableAttribute, TypeAttribute
from hls4ml.model.layers import Layer, layer_map, register_layer
from hls4ml.model.types import IntegerPrecisionType


def integer_precision(values: np.ndarray) -> IntegerPrecisionType:
    """The narrowest ``ap_int``/``ap_uint`` holding every value of an integer array.

    Example:
        >>> str(integer_precision(np.array([-7, 7])))
        'ap_int<4>'
    """
    values = np.asarray(values)
    low = int(values.min()) if values.size else 0
    high = int(values.max()) if values.size else 0
    signed = low < 0
    magnitude = max(high, -low - 1 if signed else 0, 1)
    return IntegerPrecisionType(width=magnitude.bit_length() + int(signed), signed=signed)


#: the widest weights hls4ml's weight files hold exactly: integers (C++ literals, int64) and fixed-point
#: values (written through float64's 53-bit significand)
INTEGER_WEIGHT_BITS, FIXED_WEIGHT_BITS = 64, 53


def exact_weights(layer: str, cls: str, what: str, values, limit: int) -> np.ndarray:
    """``values`` as int64 when every integer fits ``limit`` bits (signed), else a one-line refusal.

    Args:
        layer: the Keras layer the weights belong to (named in the error).
        cls: its class.
        what: what the weights are ("offsets", ...).
        values: the exact integers (int64 or object arrays of Python ints).
        limit: :data:`INTEGER_WEIGHT_BITS` or :data:`FIXED_WEIGHT_BITS`.

    Returns:
        The integers, int64.

    Raises:
        ValueError: a value needs more than ``limit`` bits, with the layer and the width named.

    Example:
        >>> exact_weights("bn", "BatchNormalization", "offsets", np.array([3, -4]), FIXED_WEIGHT_BITS).tolist()
        [3, -4]
    """
    values = np.asarray(values)
    largest = max((abs(int(v)) for v in values.reshape(-1)), default=0)
    bits = largest.bit_length() + 1
    if bits > limit:
        raise ValueError(f"layer {layer!r} ({cls}): its exact {what} need {bits}-bit integers, more than hls4ml's "
                         f"weight files hold exactly ({limit} bits); quantize its input (a QActivation before it) "
                         "to narrow them")
    return values.astype(np.int64)


def align_shifts(spec) -> np.ndarray:
    """The epilogue's left shifts: one per layer when all outputs agree, else one per output.

    Example:
        >>> align_shifts(spec).tolist()    # a per-layer DFP layer with an on-grid bias
        [0]
    """
    align = np.asarray(spec.align, np.int64).reshape(-1)
    return align[:1] if np.all(align == align[0]) else align


class SQNAPLayer(Layer):
    """Common part of the SQNAP layers: the spec's weight arguments as weight variables."""

    _expected_attributes = [
        ConfigurableAttribute("reuse_factor", default=1),
        TypeAttribute("accum"),
    ]

    def add_encoding_weights(self) -> None:
        """Add ``sq_<name>`` for every non-local method argument, ``sq_align``, and with a folded
        BatchNormalization ``sq_scale``/``sq_offset`` (its multipliers and offsets)."""
        from keras_wc.methods import method_of

        spec = self.get_attr("sqnap_spec")
        arrays = [(arg.name, arg.values) for arg in method_of(spec.encoding).arguments(spec.encoding)
                  if arg.local is None]
        arrays.append(("align", align_shifts(spec)))
        for name, values in arrays:
            self._add_integer_weights(name, np.ascontiguousarray(values).astype(np.int64))
        if spec.scaling is not None:
            for name, values in (("scale", spec.scaling.multiplier), ("offset", spec.scaling.offset)):
                self._add_integer_weights(name, exact_weights(spec.scaling.layer, "BatchNormalization",
                                                              f"folded {name}s", values, INTEGER_WEIGHT_BITS))

    def _add_integer_weights(self, name: str, data: np.ndarray) -> None:
        """``sq_<name>``: integer weights in their narrowest ``ap_int``/``ap_uint``."""
        self.add_weights_variable(name=f"sq_{name}", var_name=f"sq_{name}{{index}}",
                                  type_name=f"sq_{name}{{index}}_t", precision=integer_precision(data), data=data)


class SQNAPDense(SQNAPLayer):
    """A keras_wc-quantized ``QDense``."""

    _expected_attributes = [Attribute("n_in"), Attribute("n_out")]

    def initialize(self) -> None:
        shape = list(self.get_input_variable().shape)
        shape[-1] = self.attributes["n_out"]
        self.add_output_variable(shape)


class SQNAPConv1D(SQNAPLayer):
    """A keras_wc-quantized ``QConv1D`` (channels last)."""

    _expected_attributes = [Attribute("in_width"), Attribute("out_width"), Attribute("n_chan"),
                            Attribute("n_filt"), Attribute("filt_width"), Attribute("stride_width"),
                            Attribute("pad_left"), Attribute("pad_right")]

    def initialize(self) -> None:
        self.add_output_variable([self.attributes["out_width"], self.attributes["n_filt"]])


class SQNAPConv2D(SQNAPLayer):
    """A keras_wc-quantized ``QConv2D`` (channels last)."""

    _expected_attributes = [Attribute("in_height"), Attribute("in_width"), Attribute("out_height"),
                            Attribute("out_width"), Attribute("n_chan"), Attribute("n_filt"),
                            Attribute("filt_height"), Attribute("filt_width"), Attribute("stride_height"),
                            Attribute("stride_width"), Attribute("pad_top"), Attribute("pad_bottom"),
                            Attribute("pad_left"), Attribute("pad_right")]

    def initialize(self) -> None:
        self.add_output_variable([self.attributes["out_height"], self.attributes["out_width"],
                                  self.attributes["n_filt"]])


class SQNAPDepthwiseConv2D(SQNAPConv2D):
    """A keras_wc-quantized ``QDepthwiseConv2D`` (``kernel_layout="depthwise"``)."""


SQNAP_LAYERS = (SQNAPDense, SQNAPConv1D, SQNAPConv2D, SQNAPDepthwiseConv2D)


def register_layers() -> None:
    """Register the SQNAP IR layers with hls4ml (idempotent)."""
    for cls in SQNAP_LAYERS:
        if layer_map.get(cls.__name__) is not cls:
            register_layer(cls.__name__, cls)
