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
        if spec.scaling is not None:
            arrays += [("scale", spec.scaling.multiplier), ("offset", spec.scaling.offset)]
        for name, values in arrays:
            data = np.ascontiguousarray(values).astype(np.int64)
            self.add_weights_variable(name=f"sq_{name}", var_name=f"sq_{name}{{index}}",
                                      type_name=f"sq_{name}{{index}}_t", precision=integer_precision(data),
                                      data=data)


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
