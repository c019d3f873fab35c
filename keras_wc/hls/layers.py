"""hls4ml IR layers of the keras_wc compressed layers (``SQNAPDense``, ``SQNAPConv1D``, ...).

Each layer carries the :class:`~keras_wc.quantizers.Encoding` of its kernel (made by the
parser) and turns its integer arrays into hls4ml weight variables of integer types — the
codes, scales and coefficients exactly as ``encode()`` gave them, written flat in C order
(``docs/hls_api.md``). Result, accumulator and bias are set later by the ``sqnap:types``
pass from the keras_wc datapath (:mod:`keras_wc.hls.passes`), which knows the input format.
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np
from hls4ml.model.attributes import Attribute, ConfigurableAttribute, TypeAttribute
from hls4ml.model.layers import Layer, layer_map, register_layer
from hls4ml.model.types import IntegerPrecisionType

#: encoding array name -> C++ variable prefix (the generated name is ``<prefix><index>``)
WEIGHT_PREFIX = {"codes": "sq_c", "maw": "sq_m", "delta": "sq_d", "mean": "sq_mu", "coef": "sq_k",
                 "frac": "sq_f", "table": "sq_t"}


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


class SQNAPLayer(Layer):
    """Common part of the SQNAP layers: the encoding's integer arrays as weight variables."""

    _expected_attributes = [
        Attribute("sqnap_encoding", value_type=object),
        ConfigurableAttribute("reuse_factor", default=1),
        TypeAttribute("accum"),
    ]

    #: per-method array order (the order of the kernel's weight arguments)
    ARRAY_ORDER = ("codes", "maw", "delta", "mean", "coef")

    def encoding_arrays(self) -> Dict[str, np.ndarray]:
        """The encoding's arrays that become weight variables, in argument order."""
        enc = self.get_attr("sqnap_encoding")
        arrays = {name: enc.arrays[name] for name in self.ARRAY_ORDER if name in enc.arrays}
        for name, value in enc.arrays.items():
            arrays.setdefault(name, value)
        return arrays

    def weight_names(self) -> List[str]:
        """Attribute names of the encoding weight variables, in argument order."""
        return [f"sq_{name}" for name in self.encoding_arrays()]

    def add_encoding_weights(self) -> None:
        for name, values in self.encoding_arrays().items():
            prefix = WEIGHT_PREFIX.get(name, f"sq_{name}_")
            data = np.ascontiguousarray(values).astype(np.int64)
            self.add_weights_variable(name=f"sq_{name}", var_name=prefix + "{index}",
                                      type_name=prefix + "{index}_t", precision=integer_precision(data),
                                      data=data)


class SQNAPDense(SQNAPLayer):
    """A keras_wc-quantized ``QDense``."""

    _expected_attributes = [Attribute("n_in"), Attribute("n_out")]

    def initialize(self) -> None:
        shape = list(self.get_input_variable().shape)
        shape[-1] = self.attributes["n_out"]
        self.add_output_variable(shape)
        self.add_encoding_weights()


class SQNAPConv1D(SQNAPLayer):
    """A keras_wc-quantized ``QConv1D`` (channels last)."""

    _expected_attributes = [Attribute("in_width"), Attribute("out_width"), Attribute("n_chan"),
                            Attribute("n_filt"), Attribute("filt_width"), Attribute("stride_width"),
                            Attribute("pad_left"), Attribute("pad_right")]

    def initialize(self) -> None:
        if self.get_attr("data_format", "channels_last") != "channels_last":
            raise ValueError(f"layer {self.name!r} ({self.get_attr('keras_class')}): only channels_last is supported")
        self.add_output_variable([self.attributes["out_width"], self.attributes["n_filt"]])
        self.add_encoding_weights()


class SQNAPConv2D(SQNAPLayer):
    """A keras_wc-quantized ``QConv2D`` (channels last)."""

    _expected_attributes = [Attribute("in_height"), Attribute("in_width"), Attribute("out_height"),
                            Attribute("out_width"), Attribute("n_chan"), Attribute("n_filt"),
                            Attribute("filt_height"), Attribute("filt_width"), Attribute("stride_height"),
                            Attribute("stride_width"), Attribute("pad_top"), Attribute("pad_bottom"),
                            Attribute("pad_left"), Attribute("pad_right")]

    def initialize(self) -> None:
        if self.get_attr("data_format", "channels_last") != "channels_last":
            raise ValueError(f"layer {self.name!r} ({self.get_attr('keras_class')}): only channels_last is supported")
        self.add_output_variable([self.attributes["out_height"], self.attributes["out_width"],
                                  self.attributes["n_filt"]])
        self.add_encoding_weights()


class SQNAPDepthwiseConv2D(SQNAPConv2D):
    """A keras_wc-quantized ``QDepthwiseConv2D`` (``kernel_layout="depthwise"``)."""


SQNAP_LAYERS = (SQNAPDense, SQNAPConv1D, SQNAPConv2D, SQNAPDepthwiseConv2D)


def register_layers() -> None:
    """Register the SQNAP IR layers with hls4ml (idempotent)."""
    for cls in SQNAP_LAYERS:
        if layer_map.get(cls.__name__) is not cls:
            register_layer(cls.__name__, cls)
