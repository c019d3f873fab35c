"""``sqnap:*`` optimizer passes: explicit types for every layer from the keras_wc datapath.

hls4ml falls back to ``fixed<16,6>`` wherever it cannot infer a type. The ``assign_types`` pass
replaces every layer's result (and accumulator, bias) type with the format the keras_wc
datapath (:func:`keras_wc.datapath.describe_model`) derives from the codes' ranges, so the
generated C++ computes the same integers as :func:`keras_wc.emulate.emulate`:

* the input gets the declared ``input_format`` (or the first QActivation's format) with
  ``AP_RND_CONV``/``AP_SAT`` so that casting a float input rounds like QKeras;
* QActivations get their quantizer's format with ``AP_RND_CONV`` and ``AP_SAT``
  (``AP_SAT_SYM`` for symmetric ``quantized_bits``);
* compressed layers (SQNAP and hls4ml's own Dense/Conv with ``quantized_bits``) get
  ``acc_format`` as accumulator, ``output_format`` as result and the spec's bias integers;
* a layer without a spec, or of a class the backend cannot map, is an error naming it.

Before that, ``fold_batchnorm`` removes the BatchNormalization nodes the datapath folded into the
keras_wc layer before them (:class:`FoldBatchNorm`); after it, ``pipeline_style`` gives models with
SQNAP convolutions or pooling a ``DATAFLOW`` top (:class:`DataflowForPixelLoops`).

**Stock mode.** A conversion through hls4ml's own ``convert_from_keras_model(..., backend="SQNAP")``
of a model that holds no keras_wc compression quantizer (and is given no ``input_format`` and
no datapath) is not described: ``sqnap:describe`` marks it stock (:func:`is_stock`), these passes
and the SQNAP templates leave it alone, and hls4ml's own Vivado/Vitis type inference, the
user's ``hls_config`` precisions and hls4ml's kernels give it exactly stock hls4ml's arithmetic
(``docs/hls.md``, "Pure QKeras models").
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np
from hls4ml.model.optimizer import ModelOptimizerPass
from hls4ml.model.types import (FixedPrecisionType, IntegerPrecisionType, NamedType, RoundingMode,
                                SaturationMode)

from .layers import FIXED_WEIGHT_BITS, exact_weights
from .strategy import ChooseStrategy

#: hls4ml classes that pass integers through unchanged (their result type = the input's)
PASS_THROUGH = {"Reshape", "Dropout", "Transpose"}
#: io types the SQNAP kernels implement (io_stream: ``sqnap::*_stream`` wrappers, hls/README.md)
SQNAP_IO_TYPES = ("io_parallel", "io_stream")
#: hls4ml layer classes this backend maps (anything else is reported)
SUPPORTED_CLASSES = {"Input", "InputLayer", "Dense", "Conv1D", "Conv2D", "DepthwiseConv2D", "Activation",
                     "Pooling1D", "Pooling2D", "GlobalPooling1D", "GlobalPooling2D", "ZeroPadding1D",
                     "ZeroPadding2D", "Reshape", "Dropout", "SQNAPDense", "SQNAPConv1D", "SQNAPConv2D",
                     "SQNAPDepthwiseConv2D", "BatchNormalization", "Merge", "Concatenate"}


def fixed_precision(fmt, rounding: Optional[RoundingMode] = None,
                    saturation: Optional[SaturationMode] = None) -> FixedPrecisionType:
    """A keras_wc :class:`~keras_wc.quantizers.FixedPoint` as an hls4ml precision.

    A format whose most significant bit lies below the binary point (negative integer bits,
    e.g. the output of an all-zero kernel) is widened to 0 integer bits: the same values,
    zero- or sign-extended. ap_types reads a conversion's rounding bit by its index, and
    asserts ("Attempting to read bit beyond MSB") when converting such a type to one with
    fewer fraction bits.

    Example:
        >>> from keras_wc.quantizers import FixedPoint
        >>> str(fixed_precision(FixedPoint(8, 4, True))), str(fixed_precision(FixedPoint(2, 10, True)))
        ('fixed<8,4>', 'fixed<10,0>')
    """
    integer = int(fmt.bits - fmt.frac)
    return FixedPrecisionType(width=int(fmt.bits) - min(integer, 0), integer=max(integer, 0), signed=bool(fmt.signed),
                              rounding_mode=rounding, saturation_mode=saturation)


#: key of the datapath (``{layer name: spec}``) in an hls4ml model config (not written to the yml)
DATAPATH_KEY = "_SQNAPDatapath"


def datapath_of(model) -> Dict[str, Any]:
    """``{layer name: spec}``: the conversion's one description of the model.

    :func:`keras_wc.hls.convert` describes the model before hls4ml parses it and hands the
    specs over in the config; the ``sqnap:describe`` pass makes the same description when
    hls4ml's own ``convert_from_keras_model(..., backend="SQNAP")`` is the entry point.

    Raises:
        ValueError: the conversion has no description (the describe pass did not run).
    """
    datapath = model.config.config.get(DATAPATH_KEY)
    if datapath is None:
        raise ValueError("the SQNAP conversion has no datapath description; convert with keras_wc.hls.convert")
    return datapath


#: key of the stock-mode flag in an hls4ml model config (see the module docstring)
STOCK_KEY = "_SQNAPStock"


def is_stock(model) -> bool:
    """Whether an hls4ml ``ModelGraph`` is converted in stock mode (hls4ml's own arithmetic)."""
    return bool(model.config.config.get(STOCK_KEY, False))


def _layers(keras_model):
    """Every layer of a Keras model, nested models walked."""
    import tensorflow as tf

    for layer in keras_model.layers:
        yield layer
        if isinstance(layer, tf.keras.Model):
            yield from _layers(layer)


def compression_quantizer_layers(keras_model) -> List[str]:
    """Names of the layers holding a keras_wc compression quantizer (kernel, bias or activation).

    Looks at every quantizer slot of :func:`keras_wc.walker.weight_slots` and at every attribute
    of every layer (a ``bias_quantizer`` or a ``QActivation``'s quantizer, lists included), so a
    keras_wc quantizer anywhere in the model keeps the conversion on the exact datapath.

    Example:
        >>> compression_quantizer_layers(pure_qkeras_model)
        []
    """
    from keras_wc.methods import is_compression_quantizer
    from keras_wc.walker import weight_slots

    found = [slot.layer.name for slot in weight_slots(keras_model) if is_compression_quantizer(slot.quantizer)]
    for layer in _layers(keras_model):
        for value in vars(layer).values():
            items = value if isinstance(value, (list, tuple)) else (value,)
            if any(is_compression_quantizer(item) for item in items) and layer.name not in found:
                found.append(layer.name)
    return found


#: hls4ml classes whose kernels compute ``depth_multiplier=1`` only (``nnet_sepconv*``): the
#: io_parallel kernel asserts, the io_stream one writes wrong values without a word
DEPTHWISE_CLASSES = {"DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"}


class RefuseKernelLimits(ModelOptimizerPass):
    """Refuse, by layer name, what hls4ml's own kernels would compute wrongly (both modes).

    A plain-QKeras ``QDepthwiseConv2D``/``SeparableConv2D`` goes through hls4ml's depthwise
    kernels, which handle a depth multiplier of 1 only; a keras_wc-quantized depthwise layer is an
    ``SQNAPDepthwiseConv2D`` and computes any multiplier.

    Example:
        >>> hls4ml.converters.convert_from_keras_model(multiplier_2_model, backend="SQNAP")
        Traceback (most recent call last):
        ValueError: layer 'dw' (DepthwiseConv2D): hls4ml's depthwise kernels compute depth_multiplier=1 only ...
    """

    def __init__(self):
        self.name = "kernel_limits"

    def transform(self, model) -> bool:
        for node in model.get_layers():
            multiplier = node.get_attr("depth_multiplier", 1)
            if node.class_name in DEPTHWISE_CLASSES and multiplier != 1:
                raise ValueError(f"layer {node.name!r} ({node.class_name}): hls4ml's depthwise kernels compute "
                                 f"depth_multiplier=1 only, this layer has {multiplier}; use depth_multiplier=1 "
                                 "or a keras_wc quantizer (computed by the SQNAP kernels)")
        return False


class DescribeModel(ModelOptimizerPass):
    """Describe the Keras model once, unless the conversion already brought its description.

    A model without any keras_wc compression quantizer, converted without ``input_format``,
    is marked stock instead (:data:`STOCK_KEY`, an empty datapath): hls4ml's own flow then
    gives it stock Vivado/Vitis arithmetic (module docstring).
    """

    def __init__(self):
        self.name = "describe"

    def transform(self, model) -> bool:
        config = model.config.config
        if config.get(DATAPATH_KEY) is not None:
            return False
        from keras_wc.datapath.describe import describe_model

        from .backend import INPUT_FORMAT_KEY

        keras_model = config.get("KerasModel")
        if keras_model is None:
            raise ValueError("the SQNAP backend converts Keras models only (config['KerasModel'] is missing)")
        input_format = model.config.get_config_value(INPUT_FORMAT_KEY)
        if input_format is None and not compression_quantizer_layers(keras_model):
            config[STOCK_KEY] = True
            config[DATAPATH_KEY] = {}
            return False
        specs = describe_model(keras_model, input_format)
        config[DATAPATH_KEY] = {spec.name: spec for spec in specs}
        return False


def input_format_of(specs: Dict[str, Any], input_spec) -> Any:
    """The input layer's format: declared, or the first QActivation's (float input)."""
    if input_spec.output_format is not None:
        return input_spec.output_format
    for spec in specs.values():
        if input_spec.name in getattr(spec, "inputs", ()) and getattr(spec, "kind", "") == "quantize":
            return spec.quant.fmt
    raise ValueError(f"input {input_spec.name!r}: no input_format given and the first layer is not a QActivation; "
                     "pass input_format='ufixed<8,0>' (or another fixed<W,I>)")


def _set_result(node, precision) -> None:
    var = node.get_output_variable()
    var.type.precision = precision
    node.set_attr("result_t", var.type)


def _set_type(node, name: str, precision) -> None:
    """A fresh per-layer type: hls4ml's defaults share one ``model_default_t`` object."""
    node.set_attr(f"{name}_t", NamedType(f"layer{node.index}_{name}_t", precision))


def _activation_precision(spec) -> FixedPrecisionType:
    quant = spec.quant
    symmetric = quant.fmt.signed and quant.min_int == -quant.max_int
    saturation = SaturationMode.SAT_SYM if symmetric else SaturationMode.SAT
    return fixed_precision(quant.fmt, RoundingMode.RND_CONV, saturation)


def _set_bias(node, spec) -> None:
    """Replace the bias by the spec's integers on the accumulator grid (exact)."""
    bias = np.asarray(spec.bias).astype(np.int64)
    frac = int(spec.acc_format.frac)
    if node.class_name.startswith("SQNAP"):
        node.add_weights_variable(name="bias", var_name="b{index}", type_name="bias{index}_t",
                                  precision=IntegerPrecisionType(width=int(spec.acc_format.bits), signed=True),
                                  data=bias)
        return
    bits = max(int(np.max(np.abs(bias), initial=0)).bit_length() + 1, 2)
    precision = FixedPrecisionType(width=bits, integer=bits - frac, signed=True)
    data = bias.astype(np.float64) * 2.0 ** -frac  # exact (bits <= 53 checked by the spec's bounds)
    node.add_weights_variable(name="bias", var_name="b{index}", type_name="bias{index}_t", precision=precision,
                              data=data.reshape(np.shape(node.get_attr("bias_data"))
                                                if node.get_attr("bias_data") is not None else -1))


def _set_affine_weights(node, spec) -> None:
    """A standalone BatchNormalization's scale and bias: the folded integers, exactly (``nnet::normalize``).

    ``res = data * scale + bias`` is then exact in ap_fixed arithmetic and lands on the
    result format without rounding (:class:`~keras_wc.datapath.specs.AffineSpec`).
    """
    fmt = spec.scaling.multiplier_format
    multiplier, offset = (exact_weights(node.name, node.class_name, what, values, FIXED_WEIGHT_BITS)
                          for what, values in (("scales", spec.scaling.multiplier), ("offsets", spec.scaling.offset)))
    node.add_weights_variable(name="scale", var_name="s{index}", type_name="scale{index}_t",
                              precision=fixed_precision(fmt), data=multiplier * 2.0 ** -fmt.frac)
    frac = int(spec.output_format.frac)
    bits = max(int(np.max(np.abs(offset), initial=0)).bit_length() + 1, 2)
    node.add_weights_variable(name="bias", var_name="b{index}", type_name="bias{index}_t",
                              precision=FixedPrecisionType(width=bits, integer=bits - frac, signed=True),
                              data=offset * 2.0 ** -frac)


def _set_exact_weights(node, spec) -> None:
    """hls4ml's own Dense/Conv with a QKeras kernel read exactly (``auto_po2``, binary, ternary, po2...).

    The kernel becomes its exact values on the finest output channel's grid (one fixed-point
    type, no quantizer), so hls4ml's products are the datapath's ``codes << align`` and neither
    ``qkeras_factorize_alpha`` nor the binary/ternary passes rewrite it.
    """
    from keras_wc.methods import method_of
    from keras_wc.quantizers.ops import NP

    encoding = spec.encoding
    method = method_of(encoding)
    frac = method.frac(encoding).astype(np.int64)
    top = int(frac.max())
    codes = method.weight_integers(encoding) * (2 ** (top - frac))[:, None, None]
    bits = max(int(np.max(np.abs(codes), initial=0)).bit_length() + 1, 2)
    if bits > 53:
        raise ValueError(f"layer {node.name!r} ({node.class_name}): its kernel's channels need {bits}-bit codes "
                         "on one grid, more than hls4ml's float weight files hold exactly")
    values = encoding.layout.from_groups(codes.astype(np.float64) * 2.0 ** -top, NP)
    for attr in ("weight_quantizer", "depthwise_quantizer"):
        if node.get_attr(attr) is not None:
            node.set_attr(attr, None)
    node.add_weights_variable(name="weight", var_name="w{index}", type_name="weight{index}_t",
                              precision=FixedPrecisionType(width=bits, integer=bits - top, signed=True),
                              data=np.asarray(values))


def _read_exactly(encoding) -> bool:
    from keras_wc.datapath.qkeras_weights import read_exactly

    return read_exactly(encoding)


def _unit_alpha(quantizer) -> bool:
    alpha = getattr(quantizer, "alpha", None)
    return alpha is None or (not isinstance(alpha, str) and np.size(alpha) == 1 and float(np.ravel(alpha)[0]) == 1)


class FoldBatchNorm(ModelOptimizerPass):
    """Remove the BatchNormalization nodes the datapath folded into the keras_wc layer before them.

    The datapath folds a BatchNormalization into the epilogue of a keras_wc compressed layer it
    alone consumes (:attr:`keras_wc.datapath.specs.CompressedSpec.scaling`); that layer's node
    then computes the BatchNormalization's output (``sq_scale``/``sq_offset``), so the
    BatchNormalization node is removed and its consumers read the compressed layer.
    """

    def __init__(self):
        self.name = "fold_batchnorm"

    def transform(self, model) -> bool:
        if is_stock(model):
            return False
        folded = {spec.scaling.layer for spec in datapath_of(model).values()
                  if spec.kind == "compressed" and spec.scaling is not None}
        for name in sorted(folded & set(model.graph)):
            model.remove_node(model.graph[name])
        return False


class AssignTypes(ModelOptimizerPass):
    """Give every layer the datapath's explicit types (see the module docstring)."""

    def __init__(self):
        self.name = "assign_types"

    def transform(self, model) -> bool:
        if is_stock(model):
            return False
        specs = datapath_of(model)
        for node in list(model.get_layers()):
            self._assign(model, node, specs)
        return False

    def _assign(self, model, node, specs: Dict[str, Any]) -> None:
        cls = node.class_name
        if cls not in SUPPORTED_CLASSES:
            raise ValueError(f"layer {node.name!r} ({cls}) cannot be mapped by the SQNAP backend")
        spec = specs.get(node.name)
        if spec is None:
            if cls in PASS_THROUGH or (cls == "Activation" and node.get_attr("activation") == "linear"):
                _set_result(node, node.get_input_variable().type.precision)
                return
            raise ValueError(f"layer {node.name!r} ({cls}) has no keras_wc datapath spec; the SQNAP backend "
                             "cannot give it exact types")
        kind = spec.kind
        if kind == "input":
            _set_result(node, fixed_precision(input_format_of(specs, spec), RoundingMode.RND_CONV,
                                              SaturationMode.SAT))
        elif kind == "quantize":
            _set_result(node, _activation_precision(spec))
        elif kind == "compressed":
            io_type = model.config.get_config_value("IOType")
            if cls.startswith("SQNAP") and io_type not in SQNAP_IO_TYPES:
                raise ValueError(f"layer {node.name!r} ({cls}): the SQNAP kernels support "
                                 f"{' and '.join(SQNAP_IO_TYPES)} only, not {io_type!r}")
            _set_result(node, fixed_precision(spec.output_format))
            _set_type(node, "accum", fixed_precision(spec.acc_format) if not cls.startswith("SQNAP")
                      else IntegerPrecisionType(width=int(spec.acc_format.bits), signed=True))
            node.set_attr("sqnap_spec", spec)
            if cls.startswith("SQNAP"):
                node.add_encoding_weights()
            elif _read_exactly(spec.encoding):
                _set_exact_weights(node, spec)
            if not cls.startswith("SQNAP") and not _unit_alpha(node.get_attr("bias_quantizer")):
                node.set_attr("bias_quantizer", None)  # the bias is the spec's exact integers (no ApplyAlpha)
            _set_bias(node, spec)
        elif kind == "pool":  # sqnap::pool2d sizes its own accumulator (templates.pool_config_lines)
            _set_result(node, fixed_precision(spec.output_format))
        elif kind == "affine":
            _set_result(node, fixed_precision(spec.output_format))
            _set_affine_weights(node, spec)
        elif spec.output_format is not None:
            _set_result(node, fixed_precision(spec.output_format))
            if node.get_attr("accum_t") is not None:
                _set_type(node, "accum", fixed_precision(spec.output_format))
        else:
            raise ValueError(f"layer {node.name!r} ({cls}): the datapath gives it no fixed-point format")


#: IR classes that loop over output pixels (SQNAP convolutions, SQNAP-computed pooling, global pooling included)
PIXEL_LOOP_CLASSES = {"SQNAPConv1D", "SQNAPConv2D", "SQNAPDepthwiseConv2D", "Pooling1D", "Pooling2D",
                      "GlobalPooling1D", "GlobalPooling2D"}


class DataflowForPixelLoops(ModelOptimizerPass):
    """A ``DATAFLOW`` top for io_parallel models with SQNAP convolutions or pooling (pipeline style ``auto``).

    hls4ml's ``set_pipeline_style`` switches the top to ``DATAFLOW`` for its own ``Conv1D``/``Conv2D``
    only; the SQNAP layers are other IR classes, and under a top ``PIPELINE`` their output-pixel
    loops would be unrolled (one datapath per pixel). A user's explicit ``PipelineStyle`` is kept.
    """

    def __init__(self):
        self.name = "pipeline_style"

    def transform(self, model) -> bool:
        style = model.config.pipeline_style
        if is_stock(model) or (style not in (None, "auto")):
            return False
        if any(node.class_name in PIXEL_LOOP_CLASSES for node in model.get_layers()):
            model.config.pipeline_style = "dataflow"
        return False


#: IR classes that read a flattened io_stream input whole, whatever its packing
FLAT_STREAM_READERS = {"Dense", "SQNAPDense"}


class RepackStreamFlatten(ModelOptimizerPass):
    """io_stream: a Flatten read by anything but a Dense is repacked, not made in place.

    hls4ml's ``inplace_stream_flatten`` makes every inner Flatten an alias of its input stream,
    right for a Dense (which gathers the whole input from any packing) but wrong for an
    activation, a BatchNormalization or a merge, which then read one pixel's pack as the whole
    vector. Such a Flatten becomes hls4ml's ``Repack`` (``nnet::repack_stream``) here, as
    hls4ml's ``reshape_stream`` does for a Flatten that is a model output.
    """

    def __init__(self):
        self.name = "repack_stream_flatten"

    def transform(self, model) -> bool:
        from hls4ml.backends.fpga.passes.repack_stream import Repack

        if model.config.get_config_value("IOType") != "io_stream":
            return False
        for node in list(model.get_layers()):
            if node.class_name != "Reshape" or len(node.get_output_variable().shape) != 1:
                continue
            readers = [other for other in model.get_layers() if node.outputs[0] in other.inputs]
            if all(reader.class_name in FLAT_STREAM_READERS for reader in readers):
                continue  # read by Dense layers only, or the model's output (hls4ml's reshape_stream)
            repack = model.make_node(Repack, f"repack_{node.name}", {"target_shape": node.get_attr("target_shape")},
                                     node.inputs.copy())
            repack.get_output_variable().type.precision = node.get_output_variable().type.precision
            model.replace_node(node, repack)
        return False


#: the ``sqnap:types`` flow, in order
PASSES = {"kernel_limits": RefuseKernelLimits, "describe": DescribeModel, "fold_batchnorm": FoldBatchNorm,
          "assign_types": AssignTypes, "strategy": ChooseStrategy, "pipeline_style": DataflowForPixelLoops,
          "repack_stream_flatten": RepackStreamFlatten}
