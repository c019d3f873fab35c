"""Config and function-call templates of the SQNAP layers (``docs/hls_api.md`` contract).

Both templates read the layer's datapath spec (``sqnap_spec``, made once per conversion) and
ask its method (:mod:`keras_wc.methods`) for the method-specific pieces; nothing here knows a
method by name.

* The config template writes ``struct config<N>`` with the shared members — ``accum_t``,
  ``psum_t``, ``bias_t``, ``align_t``, ``frac`` (the grid the weights add to the input's),
  ``denominator``, ``n_align`` —, the method's own members
  (:meth:`~keras_wc.methods.Method.config_lines`), ``scaling`` (a folded BatchNormalization,
  :func:`scaling_lines`) and the geometry.
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
from hls4ml.model.layers import GlobalPooling1D, GlobalPooling2D, Pooling1D, Pooling2D

from keras_wc.datapath.arith import reciprocal
from keras_wc.methods import method_of

from .layers import SQNAP_LAYERS, align_shifts
from .resources import multiplier_limit

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


def architecture_lines(node, spec) -> List[str]:
    """``strategy``, ``outputs_per_round`` and ``multiplier_limit`` of the node's architecture.

    ``multiplier_limit`` (:func:`~keras_wc.hls.resources.multiplier_limit`, at least 1: a limit of
    0 would forbid the index arithmetic's products) caps the ``mul`` operations of a Latency layer.
    """
    arch = node.get_attr("sqnap_architecture")
    if arch is None:
        raise ValueError(f"layer {node.name!r} ({node.class_name}) reached the templates without an architecture")
    return [f"static const unsigned strategy = sqnap::{arch.strategy};",
            f"static const unsigned outputs_per_round = {arch.outputs_per_round};",
            f"static const unsigned multiplier_limit = {max(1, multiplier_limit(spec, arch.reuse_factor))};"]


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
        members += reciprocal_lines(int(spec.denominator), int(spec.acc_format.bits))
        members += method_of(encoding).config_lines(encoding, lambda name: node.get_weights(f"sq_{name}").type.name)
        members += scaling_lines(node, spec)
        members += geometry_lines(node, encoding.layout)
        members += architecture_lines(node, spec)
        body = "\n".join("    " + line for line in members)
        return f"struct config{node.index} {{\n{body}\n}};\n"


def reciprocal_lines(divisor: int, accum_bits: int) -> List[str]:
    """The ``reciprocal`` member of an SQNAP config whose denominator ``D`` is above 1 (SWC fixed).

    ``sqnap::div_round_odd`` divides the accumulator by ``D`` as one constant multiplication by the
    reciprocal :func:`keras_wc.datapath.arith.reciprocal` makes for dividends of the accumulator's width.

    Args:
        divisor: the layer's denominator ``D`` (odd).
        accum_bits: the width of its ``accum_t``.

    Returns:
        ``["typedef sqnap::reciprocal<D, bits, hi, lo, shift> reciprocal;"]``, or ``[]`` when ``D == 1``.

    Example:
        >>> reciprocal_lines(7, 24)
        ['typedef sqnap::reciprocal<7, 25, 0ULL, 19173962ULL, 27> reciprocal;']
    """
    if divisor == 1:
        return []
    multiplier, shift = reciprocal(divisor, accum_bits)
    high, low = multiplier >> 62, multiplier & ((1 << 62) - 1)
    return [f"typedef sqnap::reciprocal<{divisor}, {multiplier.bit_length()}, {high}ULL, {low}ULL, {shift}> "
            "reciprocal;"]


def scaling_lines(node, spec) -> List[str]:
    """The ``scaling`` member of an SQNAP config: ``sqnap::unscaled``, or the folded BatchNormalization.

    A folded BatchNormalization (:class:`~keras_wc.datapath.specs.Scaling`) becomes a struct whose
    ``apply(R, o)`` returns ``R * sq_scale<N>[o] + sq_offset<N>[o]`` exactly in ``result_t`` (the
    layer's output width); the multipliers and offsets are the layer's weight arrays.

    Args:
        node: the SQNAP IR node (its ``sq_scale``/``sq_offset`` weights).
        spec: its :class:`~keras_wc.datapath.specs.CompressedSpec`.

    Returns:
        C++ member lines of ``struct config<N>``.
    """
    if spec.scaling is None:
        return ["typedef sqnap::unscaled scaling;"]
    scale, offset = node.get_weights("sq_scale").name, node.get_weights("sq_offset").name
    arch = node.get_attr("sqnap_architecture")
    roms = []
    if arch is not None and arch.strategy == "resource":  # per-output arrays read a round's outputs per cycle
        roms = [f"        SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable={name} cyclic factor={arch.outputs_per_round})"
                for name in (scale, offset)]
    return [f"struct scaling {{  // BatchNormalization '{spec.scaling.layer}' folded in",
            f"    typedef ap_int<{int(spec.output_format.bits)}> result_t;",
            "    template <class R> static result_t apply(const R &r, unsigned o) {",
            *roms,
            f"        result_t y = r * {scale}[o] + {offset}[o];",
            "        return y;",
            "    }",
            "};"]


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
        # one string, so that hls4ml's writer ends the call with `// <layer name>` (read by the synthesis lint)
        return "\n    ".join(lines)


POOL_HEADER = "sqnap_pool.h"
#: headers of the datapath kinds SQNAP implements itself (besides the compressed layers)
KIND_HEADERS = {"pool": POOL_HEADER}
#: hls4ml IR classes of the pooling layers (computed by ``sqnap::pool2d[_stream]``)
POOL_CLASSES = (Pooling1D, Pooling2D, GlobalPooling1D, GlobalPooling2D)


def datapath_spec(node):
    """The datapath spec of an hls4ml node (the Keras layer of the same name) and its input's spec."""
    from .passes import datapath_of

    specs = datapath_of(node.model)
    spec = specs.get(node.name)
    if spec is None:
        raise ValueError(f"layer {node.name!r} ({node.class_name}) has no keras_wc datapath spec")
    return spec, specs[spec.inputs[0]]


def pool_config_lines(spec, source) -> List[str]:
    """``struct config<N>`` members of a pooling layer (:class:`~keras_wc.datapath.specs.PoolSpec`).

    Args:
        spec: the pooling layer's spec.
        source: the spec of its input (for the input grid).

    Returns:
        C++ member lines: ``accum_t``, the window geometry, ``frac`` (output minus input
        fractional length), ``shift``, ``is_max``, ``divide``.
    """
    g = spec.geometry
    (in_h, in_w), (out_h, out_w) = g.in_hw, g.out_hw
    values = {"in_height": in_h, "in_width": in_w, "n_chan": g.channels_in, "out_height": out_h,
              "out_width": out_w, "pool_height": g.kernel_size[0], "pool_width": g.kernel_size[1],
              "stride_height": g.strides[0], "stride_width": g.strides[1], "pad_top": g.pad[0],
              "pad_left": g.pad[1], "shift": spec.shift}
    lines = [f"typedef ap_int<{int(spec.acc_bound).bit_length() + 1}> accum_t;"]
    lines += [f"static const unsigned {key} = {int(value)};" for key, value in values.items()]
    return lines + [f"static const int frac = {int(spec.output_format.frac - source.output_format.frac)};",
                    f"static const bool is_max = {str(spec.op == 'max').lower()};",
                    f"static const bool divide = {str(bool(spec.divide)).lower()};"]


class SQNAPPoolConfigTemplate(LayerConfigTemplate):
    """``struct config<N>`` of a pooling layer (replaces hls4ml's: see ``hls/sqnap_pool.h``)."""

    def __init__(self):
        super().__init__(POOL_CLASSES)
        self.name = "sqnap_pool_config_template"  # hls4ml's own pooling template holds the default name

    def format(self, node) -> str:
        spec, source = datapath_spec(node)
        lines = pool_config_lines(spec, source) + [f"static const unsigned reuse_factor = "
                                                   f"{int(node.get_attr('reuse_factor', 1))};"]
        body = "\n".join("    " + line for line in lines)
        return f"struct config{node.index} {{\n{body}\n}};\n"


class SQNAPPoolFunctionTemplate(FunctionCallTemplate):
    """The ``sqnap::pool2d[_stream]`` call of a pooling layer."""

    def __init__(self):
        super().__init__(POOL_CLASSES, include_header=[COMMON_HEADER, f"nnet_utils/{POOL_HEADER}"])
        self.name = "sqnap_pool_function_template"

    def format(self, node) -> str:
        params = self._default_function_params(node)
        stream = node.model.config.get_config_value("IOType") == "io_stream"
        return (f"sqnap::pool2d{'_stream' if stream else ''}<{params['input_t']}, {params['output_t']}, "
                f"config{node.index}>({params['input']}, {params['output']});")


TEMPLATES = (SQNAPConfigTemplate, SQNAPFunctionTemplate, SQNAPPoolConfigTemplate, SQNAPPoolFunctionTemplate)
