"""Config and function-call templates of the SQNAP layers (``hls/README.md`` contract).

A config template writes ``struct config<N>`` with the geometry, the grouping, the types
(``accum_t``, ``psum_t``, ``bias_t``, ``code_t`` and the method's scale types) and the
method's constants; the function template calls ``sqnap::<dense|conv1d|conv2d>_<method>``
(``io_parallel``) or the shared stream wrapper
``sqnap::<dense|conv1d|conv2d>_stream<sqnap::<method>_core, ...>`` (``io_stream``: the types are
hls4ml's ``nnet::array`` pixel packs, the variables ``hls::stream`` objects) with the layer's
integer weight arrays in the method's argument order (``docs/hls_api.md``).
Small constant tables the kernels take as 2-D arrays (the ternary pattern ROM) or optional
arrays a model does not have (the ternary ``mean``) are emitted as ``static const`` locals.
"""

from __future__ import annotations

from typing import List

import numpy as np
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate

from .layers import SQNAPConv1D, SQNAPConv2D, SQNAPDense, SQNAPDepthwiseConv2D

HEADERS = {"swc": "nnet_utils/sqnap_swc.h", "dfp": "nnet_utils/sqnap_dfp.h", "po2": "nnet_utils/sqnap_po2.h",
           "ternary": "nnet_utils/sqnap_ternary.h", "poly": "nnet_utils/sqnap_poly.h"}
INCLUDES = sorted(set(HEADERS.values()) | {"nnet_utils/sqnap_common.h"})


def header_method(node) -> str:
    """The kernel family of a node: ``swc``, ``dfp``, ``po2``, ``ternary`` or ``poly``."""
    return node.get_attr("sqnap_encoding").method


def kernel_frac(node) -> int:
    """The fractional length the header adds to ``fx`` (``F = kernel_frac + fx``)."""
    enc = node.get_attr("sqnap_encoding")
    spec = node.get_attr("sqnap_spec")
    method = enc.method
    if method == "swc":
        extra = ((1 << (int(enc.config["sw_bits"]) - 1)) - 2) if enc.config.get("sw_format") == "po2" else 0
        return int(enc.params["maw_frac"]) + extra
    if method == "dfp":
        return int(spec.output_format.frac - spec.input_format.frac)
    if method == "po2":
        return -int(enc.params["e_min"])
    if method == "ternary":
        return int(enc.params["delta_frac"])
    if method == "poly":
        return int(enc.params["coef_frac"])
    raise ValueError(f"layer {node.name!r}: unknown method {method!r}")


def _type_name(node, weight: str) -> str:
    return node.get_weights(weight).type.name


def geometry_lines(node) -> List[str]:
    """``static const`` geometry members of the node's config struct."""
    enc = node.get_attr("sqnap_encoding")
    layout = enc.layout
    lines = []
    if node.class_name == "SQNAPDense":
        lines += [f"static const unsigned n_in = {node.get_attr('n_in')};",
                  f"static const unsigned n_out = {node.get_attr('n_out')};"]
    else:
        keys = ["in_width", "out_width", "n_chan", "n_filt", "filt_width", "stride_width", "pad_left", "pad_right"]
        if node.class_name != "SQNAPConv1D":
            keys += ["in_height", "out_height", "filt_height", "stride_height", "pad_top", "pad_bottom"]
        lines += [f"static const unsigned {key} = {int(node.get_attr(key))};" for key in keys]
        lines.append(f"static const unsigned n_out = {int(node.get_attr('n_filt'))};")
    kernel_major = enc.method in ("swc", "poly") and layout.group == "kernel" and layout.kernel_layout == "auto"
    lines += [f"static const unsigned n_groups = {layout.n_groups};",
              f"static const unsigned group_size = {layout.group_size};",
              f"static const bool kernel_major = {str(bool(kernel_major)).lower()};",
              f"static const bool depthwise = {str(layout.kernel_layout == 'depthwise').lower()};",
              f"static const unsigned reuse_factor = {int(node.get_attr('reuse_factor', 1))};"]
    return lines


def method_lines(node) -> List[str]:
    """Method-specific typedefs and constants of the config struct."""
    enc = node.get_attr("sqnap_encoding")
    method = enc.method
    lines = [f"typedef {_type_name(node, 'sq_codes')} code_t;"]
    if method == "swc":
        lines += [f"typedef {_type_name(node, 'sq_maw')} maw_t;",
                  f"static const unsigned sw_bits = {int(enc.config['sw_bits'])};",
                  f"static const bool sw_po2 = {str(enc.config.get('sw_format') == 'po2').lower()};",
                  f"static const int maw_frac = {int(enc.params['maw_frac'])};"]
    elif method == "dfp":
        shift = node.get_weights("sq_shift")
        lines += [f"typedef {shift.type.name} shift_t;",
                  f"static const unsigned n_shift = {shift.data_length};",
                  f"static const int frac = {kernel_frac(node)};"]
    elif method == "po2":
        lines += [f"static const int e_min = {int(enc.params['e_min'])};"]
    elif method == "ternary":
        delta = node.get_weights("sq_delta")
        has_mean = "sq_mean" in node.weights
        lines += [f"typedef {delta.type.name} delta_t;",
                  f"typedef {node.get_weights('sq_mean').type.name if has_mean else 'ap_int<2>'} mean_t;",
                  "typedef ap_int<2> table_t;",
                  f"static const unsigned n_patterns = {int(np.asarray(enc.table).shape[0])};",
                  f"static const unsigned n_delta = {delta.data_length};",
                  f"static const unsigned n_mean = {node.get_weights('sq_mean').data_length if has_mean else 1};",
                  f"static const bool normalize = {str(has_mean).lower()};",
                  f"static const int delta_frac = {int(enc.params['delta_frac'])};"]
    elif method == "poly":
        coef = enc.arrays["coef"]
        lines += [f"typedef {_type_name(node, 'sq_coef')} coef_t;",
                  f"static const unsigned degree = {int(coef.shape[-1]) - 1};",
                  f"static const unsigned n_coef_out = {int(coef.shape[0])};",
                  f"static const int coef_frac = {int(enc.params['coef_frac'])};"]
    return lines


class SQNAPConfigTemplate(LayerConfigTemplate):
    """``struct config<N>`` of an SQNAP layer."""

    def __init__(self):
        super().__init__((SQNAPDense, SQNAPConv1D, SQNAPConv2D, SQNAPDepthwiseConv2D))

    def format(self, node) -> str:
        spec = node.get_attr("sqnap_spec")
        if spec is None:
            raise ValueError(f"layer {node.name!r} ({node.class_name}) reached the templates without a datapath spec")
        expected = kernel_frac(node) + int(spec.input_format.frac)
        if expected != int(spec.output_format.frac):
            raise ValueError(f"layer {node.name!r}: kernel grid 2**-{expected} differs from the datapath's "
                             f"output grid 2**-{spec.output_format.frac}")
        members = [f"typedef {node.get_attr('accum_t').name} accum_t;",
                   f"typedef ap_int<{int(spec.partial_format.bits)}> psum_t;",
                   f"typedef {node.get_weights('bias').type.name} bias_t;"]
        members += method_lines(node) + geometry_lines(node)
        body = "\n".join("    " + line for line in members)
        return f"struct config{node.index} {{\n{body}\n}};\n"


def _table_rows(table: np.ndarray) -> str:
    return "{" + ", ".join("{" + ", ".join(str(int(v)) for v in row) + "}" for row in table) + "}"


class SQNAPFunctionTemplate(FunctionCallTemplate):
    """The ``sqnap::<kind>_<method>`` call of an SQNAP layer."""

    def __init__(self):
        super().__init__((SQNAPDense, SQNAPConv1D, SQNAPConv2D, SQNAPDepthwiseConv2D), include_header=INCLUDES)

    def format(self, node):
        params = self._default_function_params(node)
        enc = node.get_attr("sqnap_encoding")
        method = enc.method
        kind = {"SQNAPDense": "dense", "SQNAPConv1D": "conv1d"}.get(node.class_name, "conv2d")
        config = f"config{node.index}"
        lines: List[str] = []
        weights = [node.get_weights("sq_codes").name]
        if method == "swc":
            weights.append(node.get_weights("sq_maw").name)
        elif method == "dfp":
            weights.append(node.get_weights("sq_shift").name)
        elif method == "ternary":
            table = np.asarray(enc.table).astype(np.int64)
            table_name = f"sq_t{node.index}"
            lines.append(f"static const {config}::table_t {table_name}[{table.shape[0]}][{table.shape[1]}] = "
                         f"{_table_rows(table)};")
            weights += [table_name, node.get_weights("sq_delta").name]
            if "sq_mean" in node.weights:
                weights.append(node.get_weights("sq_mean").name)
            else:
                lines.append(f"static const {config}::mean_t sq_mu{node.index}[1] = {{0}};")
                weights.append(f"sq_mu{node.index}")
        elif method == "poly":
            weights.append(node.get_weights("sq_coef").name)
        weights.append(node.get_weights("bias").name)
        if node.model.config.get_config_value("IOType") == "io_stream":
            # streams of nnet::array pixel packs: the shared wrapper around the method's core
            function = f"sqnap::{kind}_stream<sqnap::{method}_core, "
        else:
            function = f"sqnap::{kind}_{method}<"
        lines.append(f"{function}{params['input_t']}, {params['output_t']}, {config}>"
                     f"({params['input']}, {params['output']}, {', '.join(weights)});")
        return lines if len(lines) > 1 else lines[0]


TEMPLATES = (SQNAPConfigTemplate, SQNAPFunctionTemplate)
