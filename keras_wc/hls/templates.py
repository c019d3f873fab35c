"""Config and function-call templates of the SQNAP layers (``docs/hls_api.md`` contract).

Both templates read the layer's datapath spec (``sqnap_spec``, made once per conversion) and
ask its method (:mod:`keras_wc.methods`) for the method-specific pieces; nothing here knows a
method by name.

* The config template writes ``struct config<N>`` with the shared members — ``accum_t``,
  ``psum_t``, ``bias_t``, ``align_t``, ``frac`` (the grid the weights add to the input's),
  ``denominator``, ``n_align`` —, the method's own members
  (:meth:`~keras_wc.methods.Method.config_lines`) and the geometry.
* The function template calls the generic entry point of the layer kind with the method's
  core: ``sqnap::<dense|conv1d|conv2d><Core, ...>`` (``io_parallel``) or
  ``sqnap::<dense|conv1d|conv2d>_stream<Core, ...>`` (``io_stream``: hls4ml's ``nnet::array``
  pixel packs in ``hls::stream`` objects), passing the method's weight arguments in order,
  then ``align`` and ``bias``. Small constant tables a method passes as 2-D arrays (the
  ternary pattern ROM) are emitted as ``static const`` locals of the call.
"""

from __future__ import annotations

from typing import List

import numpy as np
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate

from keras_wc.methods import method_of

from .layers import SQNAP_LAYERS, align_shifts

COMMON_HEADER = "nnet_utils/sqnap_common.h"
#: the entry point of each IR class (``sqnap::<kind>`` / ``sqnap::<kind>_stream``)
KINDS = {"SQNAPDense": "dense", "SQNAPConv1D": "conv1d", "SQNAPConv2D": "conv2d", "SQNAPDepthwiseConv2D": "conv2d"}


def spec_of(node):
    """The node's datapath spec; a clear error when the types pass did not attach one."""
    spec = node.get_attr("sqnap_spec")
    if spec is None:
        raise ValueError(f"layer {node.name!r} ({node.class_name}) reached the templates without a datapath spec")
    return spec


def geometry_lines(node, layout) -> List[str]:
    """``static const`` geometry members of the node's config struct."""
    if node.class_name == "SQNAPDense":
        lines = [f"static const unsigned n_in = {node.get_attr('n_in')};",
                 f"static const unsigned n_out = {node.get_attr('n_out')};"]
    else:
        keys = ["in_width", "out_width", "n_chan", "n_filt", "filt_width", "stride_width", "pad_left", "pad_right"]
        if node.class_name != "SQNAPConv1D":
            keys += ["in_height", "out_height", "filt_height", "stride_height", "pad_top", "pad_bottom"]
        lines = [f"static const unsigned {key} = {int(node.get_attr(key))};" for key in keys]
        lines.append(f"static const unsigned n_out = {int(node.get_attr('n_filt'))};")
    kernel_major = layout.group == "kernel" and layout.kernel_layout == "auto"
    return lines + [f"static const unsigned n_groups = {layout.n_groups};",
                    f"static const unsigned group_size = {layout.group_size};",
                    f"static const bool kernel_major = {str(bool(kernel_major)).lower()};",
                    f"static const bool depthwise = {str(layout.kernel_layout == 'depthwise').lower()};",
                    f"static const unsigned reuse_factor = {int(node.get_attr('reuse_factor', 1))};"]


class SQNAPConfigTemplate(LayerConfigTemplate):
    """``struct config<N>`` of an SQNAP layer."""

    def __init__(self):
        super().__init__(SQNAP_LAYERS)

    def format(self, node) -> str:
        spec = spec_of(node)
        encoding = spec.encoding
        members = [f"typedef {node.get_attr('accum_t').name} accum_t;",
                   f"typedef ap_int<{int(spec.partial_format.bits)}> psum_t;",
                   f"typedef {node.get_weights('bias').type.name} bias_t;",
                   f"typedef {node.get_weights('sq_align').type.name} align_t;",
                   f"static const int frac = {int(spec.output_format.frac - spec.input_format.frac)};",
                   f"static const int denominator = {int(spec.denominator)};",
                   f"static const unsigned n_align = {int(align_shifts(spec).size)};"]
        members += method_of(encoding).config_lines(encoding, lambda name: node.get_weights(f"sq_{name}").type.name)
        members += geometry_lines(node, encoding.layout)
        body = "\n".join("    " + line for line in members)
        return f"struct config{node.index} {{\n{body}\n}};\n"


def _c_array(values: np.ndarray) -> str:
    """A C initializer of an integer array (nested braces for 2-D)."""
    values = np.asarray(values, np.int64)
    if values.ndim == 1:
        return "{" + ", ".join(str(int(v)) for v in values) + "}"
    return "{" + ", ".join(_c_array(row) for row in values) + "}"


class SQNAPFunctionTemplate(FunctionCallTemplate):
    """The ``sqnap::<kind><Core, ...>`` call of an SQNAP layer."""

    def __init__(self):
        super().__init__(SQNAP_LAYERS, include_header=[COMMON_HEADER])

    def transform(self, model, node):
        """Include the common header and the node's method header."""
        header = method_of(spec_of(node).encoding).header
        node.set_attr("include_header", [COMMON_HEADER, f"nnet_utils/{header.name}"])
        return super(FunctionCallTemplate, self).transform(model, node)

    def format(self, node):
        params = self._default_function_params(node)
        spec = spec_of(node)
        method = method_of(spec.encoding)
        config = f"config{node.index}"
        lines: List[str] = []
        weights = []
        for argument in method.arguments(spec.encoding):
            if argument.local is None:
                weights.append(node.get_weights(f"sq_{argument.name}").name)
                continue
            name = f"sq_{argument.name}{node.index}"
            shape = "".join(f"[{d}]" for d in np.shape(argument.values))
            lines.append(f"static const {config}::{argument.local} {name}{shape} = {_c_array(argument.values)};")
            weights.append(name)
        weights += [node.get_weights("sq_align").name, node.get_weights("bias").name]
        stream = node.model.config.get_config_value("IOType") == "io_stream"
        function = f"sqnap::{KINDS[node.class_name]}{'_stream' if stream else ''}<{method.core}, "
        lines.append(f"{function}{params['input_t']}, {params['output_t']}, {config}>"
                     f"({params['input']}, {params['output']}, {', '.join(weights)});")
        return lines if len(lines) > 1 else lines[0]


TEMPLATES = (SQNAPConfigTemplate, SQNAPFunctionTemplate)
