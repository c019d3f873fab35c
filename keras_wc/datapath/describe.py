"""``describe_model``: a Keras/QKeras model -> its integer datapath (a list of layer specs).

Walks the layers in topological order (Sequential and functional graphs), tracks the
fixed-point format and the proven magnitude bound (``peak``) of every tensor, and sizes
each compressed layer's partial-sum and accumulator formats from its codes' ranges, so no
integer can overflow (docs/datapath.md, "Widths").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Dict, FrozenSet, List, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from ..methods import is_compression_quantizer, method_of
from ..methods.base import wide
from ..quantizers.base import Encoding
from ..quantizers.fixedpoint import FixedPoint
from .formats import ActivationQuant, format_for, parse_format
from .geometry import Geometry
from .qkeras_weights import encode_qkeras
from ..walker import slot_of
from .specs import (MERGE_OPS, AffineSpec, CompressedSpec, IdentitySpec, InputSpec, LayerSpec, MergeSpec, PadSpec,
                    PoolSpec, QuantizeSpec, ReluSpec, ReshapeSpec, Scaling)

#: extra fractional bits of a non power-of-two average pooling result (its rounding error is
#: then 2**-(1+12) input LSB, below Keras' own float32 noise on the following layer)
AVG_POOL_EXTRA_BITS = 12

#: at most this many fractional bits are added to a compressed layer's accumulator grid so that
#: its float bias is exact there (a bias a bias_quantizer put on the grid needs none)
BIAS_EXTRA_BITS = 24

#: signed width of a folded BatchNormalization multiplier (float32's 24-bit significand: the
#: rounding of the largest channel's multiplier is as small as Keras' own float32 rounding)
BN_MULTIPLIER_BITS = 25

Specs = Dict[str, LayerSpec]


def _round_half_even(values: np.ndarray, frac: int, scale: int = 1) -> np.ndarray:
    """``round_half_even(values * scale * 2**frac)`` as exact Python ints (float32/64 inputs)."""
    scaled = np.asarray(values, np.float64) * float(scale) * 2.0 ** frac
    return wide(np.round(scaled))


def _inbound(model: tf.keras.Model, layer: tf.keras.layers.Layer) -> Tuple[str, ...]:
    """Names of the layers feeding ``layer`` inside ``model`` (its node of this model)."""
    for index, node in enumerate(layer._inbound_nodes):
        if f"{layer.name}_ib-{index}" in model._network_nodes:
            inbound = node.inbound_layers
            return tuple(item.name for item in (inbound if isinstance(inbound, (list, tuple)) else [inbound]))
    raise ValueError(f"layer {layer.name!r} is not connected in model {model.name!r}")


def _only(layer, inputs: Tuple[str, ...], specs: Specs, integer: bool = True) -> LayerSpec:
    """The single producer of ``layer``'s input (integer-valued unless ``integer=False``)."""
    if len(inputs) != 1:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}): expected one input, got {len(inputs)}")
    source = specs[inputs[0]]
    if integer and source.output_format is None:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) receives float inputs: start the model "
                         "with a QActivation input quantizer or pass input_format='ufixed<8,0>' (say)")
    return source


def _shape(layer) -> Tuple[int, ...]:
    return tuple(int(d) for d in layer.output_shape[1:])


def _activation_name(layer) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation))


# -- compressed layers --------------------------------------------------------------------
_KINDS = {"QDense": "dense", "QConv1D": "conv1d", "QConv2D": "conv2d", "QDepthwiseConv2D": "depthwise2d"}


def _geometry(layer, kind: str, source: LayerSpec) -> Geometry:
    if kind == "dense":
        if len(source.output_shape) != 1:
            raise ValueError(f"layer {layer.name!r}: Dense on a {len(source.output_shape)}-D sample is not "
                             "supported; add a Flatten before it")
        return Geometry.dense(source.output_shape[0], layer.units)
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError(f"layer {layer.name!r}: only data_format='channels_last' is supported")
    if any(int(d) != 1 for d in np.ravel(layer.dilation_rate)) or getattr(layer, "groups", 1) != 1:
        raise ValueError(f"layer {layer.name!r}: dilation_rate and groups must be 1")
    if layer.padding not in ("valid", "same"):
        raise ValueError(f"layer {layer.name!r}: padding={layer.padding!r}; expected 'valid' or 'same'")
    return Geometry.conv(kind, source.output_shape, layer.kernel_size, layer.strides, layer.padding, _shape(layer)[-1])


def _encode(layer) -> Tuple[Encoding, str]:
    """The integer encoding of the layer's kernel and the quantizer's text."""
    weight = slot_of(layer)
    quantizer, expected = weight.quantizer, weight.slot.kernel_layout
    kernel = _finite(layer, "kernel", weight.kernel.numpy())
    if quantizer is None:
        raise ValueError(f"layer {layer.name!r}: a float kernel is not HLS-exact; give it a keras_wc quantizer "
                         "(SWC, DFP, Po2, SparseTernary, PolyApprox) or QKeras quantized_bits/quantized_po2")
    if is_compression_quantizer(quantizer):
        if quantizer.kernel_layout != expected:
            raise ValueError(f"layer {layer.name!r}: {quantizer} has kernel_layout={quantizer.kernel_layout!r}; "
                             f"this layer needs kernel_layout={expected!r}")
        return quantizer.encode(kernel), str(quantizer)
    return encode_qkeras(quantizer, kernel, expected, layer.name), str(quantizer)


def _bias(layer, n_out: int) -> np.ndarray:
    """The float bias Keras adds (after its bias quantizer), zeros without one."""
    if not getattr(layer, "use_bias", False):
        return np.zeros(n_out)
    bias = _finite(layer, "bias", layer.bias.numpy())
    quantizer = getattr(layer, "bias_quantizer_internal", None)
    return np.asarray(quantizer(bias) if quantizer is not None else bias, np.float32)


def _bias_extra_bits(bias: np.ndarray, frac: int) -> int:
    """Fewest extra fractional bits (<= BIAS_EXTRA_BITS) that put ``bias`` exactly on the grid."""
    for extra in range(BIAS_EXTRA_BITS + 1):
        scaled = np.asarray(bias, np.float64) * 2.0 ** (frac + extra)
        if np.array_equal(scaled, np.round(scaled)):
            return extra
    return BIAS_EXTRA_BITS


def _compressed(layer, inputs, specs: Specs) -> CompressedSpec:
    kind = _KINDS[type(layer).__name__]
    if _activation_name(layer) != "linear":
        raise ValueError(f"layer {layer.name!r}: activation={_activation_name(layer)!r} inside the layer is not "
                         "supported; use activation=None and a separate QActivation")
    source = _only(layer, inputs, specs)
    geometry = _geometry(layer, kind, source)
    encoding, text = _encode(layer)
    method = method_of(encoding)
    weight_frac = method.frac(encoding)
    denominator = method.denominator(encoding)
    float_bias = _bias(layer, encoding.layout.n_out)
    extra = _bias_extra_bits(float_bias, int(weight_frac.max()) + source.output_format.frac)
    align = weight_frac.max() - weight_frac + extra
    frac = int(weight_frac.max()) + source.output_format.frac + extra
    gains, partial_gain = method.gains(encoding)
    bias = _round_half_even(float_bias, frac, denominator)
    acc_peak = int(max((source.peak * g << int(a)) + abs(b) for g, a, b in zip(gains, align, bias)))
    result_peak = -(-acc_peak // denominator)
    return CompressedSpec(
        name=layer.name, inputs=inputs, output_shape=geometry.output_shape,
        output_format=format_for(result_peak, frac), peak=result_peak, method=method.name, source=text,
        encoding=encoding, geometry=geometry, patch_index=geometry.patch_index(encoding.layout),
        input_format=source.output_format,
        partial_format=format_for(source.peak * partial_gain, source.output_format.frac),
        acc_format=format_for(acc_peak, frac), denominator=denominator, align=align.astype(np.int64),
        bias=bias, weight_quantizer_bits=_qkeras_bits(slot_of(layer).quantizer),
        bias_quantizer_bits=_declared_bits(getattr(layer, "bias_quantizer_internal", None)))


def _qkeras_bits(quantizer) -> Optional[int]:
    """``bits`` of a QKeras weight quantizer (32 when it declares none); ``None`` for a keras_wc quantizer."""
    return None if is_compression_quantizer(quantizer) else (_declared_bits(quantizer) or 32)


def _declared_bits(quantizer) -> Optional[int]:
    """The ``bits`` a quantizer declares, ``None`` without a quantizer or ``bits``."""
    bits = getattr(quantizer, "bits", None)
    return None if bits is None else int(bits)


# -- other layers ---------------------------------------------------------------------------
def _quantize(layer, inputs, specs: Specs) -> QuantizeSpec:
    source = _only(layer, inputs, specs, integer=False)
    quant = ActivationQuant.from_qkeras(layer.quantizer, layer.name)
    frac = None if source.output_format is None else source.output_format.frac
    return QuantizeSpec(layer.name, inputs, _shape(layer), quant.fmt, max(-quant.min_int, quant.max_int),
                        quant, frac)


def _relu(layer, inputs, specs: Specs) -> ReluSpec:
    source = _only(layer, inputs, specs)
    return ReluSpec(layer.name, inputs, _shape(layer), format_for(source.peak, source.output_format.frac, False),
                    source.peak)


def _activation(layer, inputs, specs: Specs, readers: "Readers") -> LayerSpec:
    name = _activation_name(layer)
    is_last = readers.is_last(layer.name)
    if name == "relu":
        return _relu(layer, inputs, specs)
    source = _only(layer, inputs, specs, integer=False)
    if name == "linear":
        return IdentitySpec(layer.name, inputs, _shape(layer), source.output_format, source.peak, "linear")
    if name == "softmax" and is_last:
        return IdentitySpec(layer.name, inputs, _shape(layer), source.output_format, source.peak,
                            "softmax excluded: outputs are logits")
    raise ValueError(f"layer {layer.name!r}: Activation({name!r}) is not supported; allowed: 'relu', "
                     "'linear', and 'softmax' as the last layer (excluded: the emulator returns logits)")


def _keras_relu(layer, inputs, specs: Specs) -> ReluSpec:
    if layer.max_value is not None or float(layer.negative_slope) != 0.0 or float(layer.threshold) != 0.0:
        raise ValueError(f"layer {layer.name!r}: only ReLU() without max_value/negative_slope/threshold is "
                         "supported; use QActivation(quantized_relu(...)) for a clipped relu")
    return _relu(layer, inputs, specs)


def _reshape(layer, inputs, specs: Specs) -> ReshapeSpec:
    source = _only(layer, inputs, specs, integer=False)
    return ReshapeSpec(layer.name, inputs, _shape(layer), source.output_format, source.peak)


def _identity(layer, inputs, specs: Specs) -> IdentitySpec:
    """A layer that does nothing at inference (dropout, noise, activity regularization)."""
    source = _only(layer, inputs, specs, integer=False)
    return IdentitySpec(layer.name, inputs, _shape(layer), source.output_format, source.peak,
                        f"{type(layer).__name__} (identity at inference)")


def _softmax(layer, inputs, specs: Specs, readers: "Readers") -> IdentitySpec:
    """A final ``Softmax`` layer: excluded (the outputs are logits); refused elsewhere."""
    if not readers.is_last(layer.name):
        raise ValueError(f"layer {layer.name!r}: Softmax is supported as the last layer only (excluded: the "
                         "outputs are logits)")
    source = _only(layer, inputs, specs, integer=False)
    return IdentitySpec(layer.name, inputs, _shape(layer), source.output_format, source.peak,
                        "softmax excluded: outputs are logits")


def _channels_last(layer) -> None:
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}): only data_format='channels_last' is "
                         "supported")


def _pool_spec(layer, inputs, specs: Specs, op: str, geometry: Geometry) -> PoolSpec:
    """Max/average pooling over ``geometry``'s windows (see :class:`PoolSpec`)."""
    source = _only(layer, inputs, specs)
    fmt, peak = source.output_format, source.peak
    if op == "max":
        return PoolSpec(layer.name, inputs, _shape(layer), fmt, peak, op, geometry, False, 0, peak)
    counts = geometry.real_pixel_counts()
    largest = int(counts.max())
    if np.all(counts == largest) and largest & (largest - 1) == 0:
        extra = largest.bit_length() - 1
        return PoolSpec(layer.name, inputs, _shape(layer), format_for(peak << extra, fmt.frac + extra, fmt.signed),
                        peak << extra, op, geometry, False, 0, peak << extra)
    extra = AVG_POOL_EXTRA_BITS
    result_peak = peak << extra
    return PoolSpec(layer.name, inputs, _shape(layer), format_for(result_peak, fmt.frac + extra, fmt.signed),
                    result_peak, op, geometry, True, extra, (largest * peak) << extra)


def _pool(layer, inputs, specs: Specs) -> PoolSpec:
    _channels_last(layer)
    source = _only(layer, inputs, specs)
    geometry = Geometry.conv("pool", source.output_shape, layer.pool_size, layer.strides, layer.padding,
                             source.output_shape[-1])
    return _pool_spec(layer, inputs, specs, "max" if "Max" in type(layer).__name__ else "average", geometry)


def _global_pool(layer, inputs, specs: Specs) -> PoolSpec:
    _channels_last(layer)
    source = _only(layer, inputs, specs)
    spatial = source.output_shape[:-1]
    geometry = Geometry.conv("pool", source.output_shape, spatial, spatial, "valid", source.output_shape[-1])
    return _pool_spec(layer, inputs, specs, "max" if "Max" in type(layer).__name__ else "average", geometry)


def _zero_padding(layer, inputs, specs: Specs) -> PadSpec:
    _channels_last(layer)
    source = _only(layer, inputs, specs)
    padding = np.asarray(layer.padding, dtype=np.int64).reshape(-1, 2)
    pads = ((0, 0), tuple(int(p) for p in padding[0])) if len(padding) == 1 else \
        tuple(tuple(int(p) for p in row) for row in padding)
    return PadSpec(layer.name, inputs, _shape(layer), source.output_format, source.peak, pads)


def _finite(layer, what: str, values: np.ndarray) -> np.ndarray:
    """``values``, or a ValueError naming the layer and how many entries are NaN/Inf."""
    values = np.asarray(values)
    bad = ~np.isfinite(values)
    if np.any(bad):
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}): {int(bad.sum())} of {bad.size} {what} "
                         "values are NaN or Inf")
    return values


def fold_batchnorm(layer, input_format: FixedPoint, input_peak: int) -> Scaling:
    """A BatchNormalization's integer scaling of inputs on ``input_format`` bounded by ``input_peak``.

    ``multiplier = round_half_even(gamma / sqrt(var + eps) * 2**m)`` with ``m`` chosen so the
    largest channel's multiplier uses ``BN_MULTIPLIER_BITS`` signed bits; ``offset =
    round_half_even((beta - mean * scale) * 2**(input_format.frac + m))`` (docs/datapath.md).

    Args:
        layer: the Keras ``BatchNormalization`` (channel axis last).
        input_format: the grid of the integers it scales.
        input_peak: their proven magnitude bound.

    Returns:
        The :class:`~keras_wc.datapath.specs.Scaling`; its output grid is
        ``input_format.frac + multiplier_format.frac``.

    Raises:
        ValueError: NaN/Inf in gamma, beta or the moving statistics, naming the layer.

    Example:
        >>> fold_batchnorm(model.get_layer("bn"), FixedPoint(8, 4, True), 128).multiplier_format.bits
        25
    """
    channels = int(layer.moving_mean.shape[0])
    gamma = _finite(layer, "gamma", layer.gamma.numpy()) if layer.scale else np.ones(channels, np.float32)
    beta = _finite(layer, "beta", layer.beta.numpy()) if layer.center else np.zeros(channels, np.float32)
    mean = _finite(layer, "moving_mean", layer.moving_mean.numpy()).astype(np.float64)
    variance = _finite(layer, "moving_variance", layer.moving_variance.numpy()).astype(np.float64)
    scale = gamma.astype(np.float64) / np.sqrt(variance + layer.epsilon)
    shift = beta.astype(np.float64) - mean * scale
    _finite(layer, "folded scale/offset", np.concatenate([scale, shift]))
    largest = float(np.max(np.abs(scale), initial=0.0))
    mult_frac = BN_MULTIPLIER_BITS - 2 - (int(np.floor(np.log2(largest))) if largest > 0 else 0)
    multiplier = _round_half_even(scale, mult_frac)
    offset = _round_half_even(shift, input_format.frac + mult_frac)
    peak = int(max(input_peak * abs(m) + abs(o) for m, o in zip(multiplier, offset)))
    return Scaling(layer.name, multiplier, FixedPoint(BN_MULTIPLIER_BITS, mult_frac, True), offset, int(input_peak),
                   peak)


def _batchnorm_axis(layer, source: LayerSpec) -> None:
    axis = np.ravel(layer.axis).tolist()
    if axis not in ([-1], [len(source.output_shape)]):
        raise ValueError(f"layer {layer.name!r}: BatchNormalization over axis {axis}; only the channel (last) "
                         "axis is supported")


def _foldable(source: LayerSpec, readers: "Readers") -> bool:
    """Whether a BatchNormalization after ``source`` folds into its epilogue (docs/datapath.md)."""
    return (isinstance(source, CompressedSpec) and source.sqnap and source.scaling is None
            and readers.only_reader(source.name))


def _batchnorm(layer, inputs, specs: Specs, readers: "Readers") -> LayerSpec:
    """A standalone :class:`AffineSpec`, or the producing keras_wc layer's spec with the BN folded in."""
    source = _only(layer, inputs, specs)
    _batchnorm_axis(layer, source)
    scaling = fold_batchnorm(layer, source.output_format, source.peak)
    frac = source.output_format.frac + scaling.multiplier_format.frac
    output_format = format_for(scaling.peak, frac)
    if _foldable(source, readers):
        return replace(source, output_format=output_format, peak=scaling.peak, scaling=scaling)
    return AffineSpec(layer.name, inputs, _shape(layer), output_format, scaling.peak, source.output_format,
                      scaling)


def _merge(layer, inputs, specs: Specs) -> MergeSpec:
    cls = type(layer).__name__
    sources = [specs[name] for name in inputs]
    if any(s.output_format is None for s in sources):
        raise ValueError(f"layer {layer.name!r} ({cls}) of float inputs; quantize the model input first")
    op = MERGE_OPS[cls]
    if op != "concatenate" and len({s.output_shape for s in sources}) != 1:
        raise ValueError(f"layer {layer.name!r} ({cls}): inputs of shapes {[s.output_shape for s in sources]}; "
                         "only equal shapes are supported (no broadcasting)")
    if op in ("subtract", "multiply", "average") and len(sources) != 2 or len(sources) < 2:
        raise ValueError(f"layer {layer.name!r} ({cls}): {len(sources)} inputs; hls4ml merges two at a time "
                         "(Subtract/Multiply/Average exactly two)")
    signed = any(s.output_format.signed for s in sources) or op == "subtract"
    if op == "multiply":
        frac = sum(s.output_format.frac for s in sources)
        peak = int(np.prod([s.peak for s in sources], dtype=object))
        return MergeSpec(layer.name, inputs, _shape(layer), format_for(peak, frac, signed), peak, op, (0, 0))
    frac = max(s.output_format.frac for s in sources)
    shifts = tuple(frac - s.output_format.frac for s in sources)
    aligned = [s.peak << shift for s, shift in zip(sources, shifts)]
    peak = max(aligned) if op in ("maximum", "minimum", "concatenate") else sum(aligned)
    axis = -1
    if op == "concatenate":
        axis = int(layer.axis) % (len(sources[0].output_shape) + 1) - 1
        if axis < 0:
            raise ValueError(f"layer {layer.name!r} ({cls}): concatenation along the batch axis")
    if op == "average":
        frac += 1
    return MergeSpec(layer.name, inputs, _shape(layer), format_for(peak, frac, signed), peak, op, shifts, axis)


Builder = Callable[..., LayerSpec]
#: Keras classes that are identities at inference
IDENTITY_CLASSES = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                    "GaussianDropout", "AlphaDropout", "ActivityRegularization")
_BUILDERS: Dict[str, Builder] = {
    "QDense": _compressed, "QConv1D": _compressed, "QConv2D": _compressed, "QDepthwiseConv2D": _compressed,
    "QActivation": _quantize, "ReLU": _keras_relu, "Flatten": _reshape, "Reshape": _reshape,
    "MaxPooling1D": _pool, "MaxPooling2D": _pool, "AveragePooling1D": _pool, "AveragePooling2D": _pool,
    "GlobalMaxPooling1D": _global_pool, "GlobalMaxPooling2D": _global_pool,
    "GlobalAveragePooling1D": _global_pool, "GlobalAveragePooling2D": _global_pool,
    "ZeroPadding1D": _zero_padding, "ZeroPadding2D": _zero_padding,
    **{cls: _merge for cls in MERGE_OPS}, **{cls: _identity for cls in IDENTITY_CLASSES},
}
@dataclass(frozen=True)
class Readers:
    """Who reads each layer's output: how many layers, and whether the model outputs it.

    Attributes:
        layers: Keras layer name -> number of layers that take its output.
        outputs: names of the model's output layers.
    """

    layers: Dict[str, int]
    outputs: FrozenSet[str]

    @classmethod
    def of(cls, model: tf.keras.Model, layers: List[tf.keras.layers.Layer]) -> "Readers":
        counts: Dict[str, int] = {}
        for name in (n for layer in layers for n in _inbound(model, layer)):
            counts[name] = counts.get(name, 0) + 1
        return cls(counts, frozenset(model.output_names))

    def is_last(self, name: str) -> bool:
        """No layer reads ``name``'s output."""
        return self.layers.get(name, 0) == 0

    def only_reader(self, name: str) -> bool:
        """Exactly one layer, and not the model's outputs, reads ``name``'s output."""
        return self.layers.get(name, 0) == 1 and name not in self.outputs


#: classes whose builder also reads the graph (:class:`Readers`): a final softmax is excluded,
#: a BatchNormalization folds into the keras_wc layer whose output only it reads
_GRAPH_AWARE = {"Activation": _activation, "Softmax": _softmax, "BatchNormalization": _batchnorm}
#: refusals with a specific way out
_REFUSALS = {
    "PruneLowMagnitude": "a pruning wrapper; call tfmot.sparsity.keras.strip_pruning(model) first",
    "Dense": "a float kernel is not HLS-exact; use QDense with a keras_wc quantizer (SWC, DFP, Po2, SparseTernary, "
             "PolyApprox) or QKeras quantized_bits/quantized_po2",
    "Conv1D": "a float kernel is not HLS-exact; use QConv1D with a keras_wc or QKeras quantizer",
    "Conv2D": "a float kernel is not HLS-exact; use QConv2D with a keras_wc or QKeras quantizer",
    "DepthwiseConv2D": "a float kernel is not HLS-exact; use QDepthwiseConv2D with a keras_wc or QKeras quantizer",
}


def _input_spec(model: tf.keras.Model, input_format: Union[None, str, FixedPoint]) -> InputSpec:
    if len(model.inputs) != 1:
        raise ValueError(f"model {model.name!r} has {len(model.inputs)} inputs; only single-input models are supported")
    name = model._input_layers[0].name
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    if input_format is None:
        return InputSpec(name, (), shape, None, 0)
    fmt = parse_format(input_format) if isinstance(input_format, str) else input_format
    return InputSpec(name, (), shape, fmt, max(-fmt.min_int, fmt.max_int))


def supported_classes() -> List[str]:
    """The Keras layer classes :func:`describe_model` accepts, sorted.

    Example:
        >>> "GlobalAveragePooling2D" in supported_classes()
        True
    """
    return sorted(set(_BUILDERS) | set(_GRAPH_AWARE))


def describe_model(model: tf.keras.Model, input_format: Union[None, str, FixedPoint] = None) -> List[LayerSpec]:
    """The integer datapath of ``model``, one spec per layer in topological order.

    Args:
        model: a built Sequential or functional Keras model of the supported layers.
        input_format: the declared input grid (``"ufixed<8,0>"``, or a ``FixedPoint``). Needed
            unless the first layer is a QActivation, which then quantizes float inputs.

    Returns:
        ``[InputSpec, ...]``: the input, then every layer (InputLayers excluded), except a
        BatchNormalization folded into the keras_wc layer before it: that layer's spec then
        computes the BatchNormalization's output (:attr:`CompressedSpec.scaling`), and the
        consumers' ``inputs`` name it.

    Raises:
        ValueError: an unsupported layer or setting, naming the layer and what is allowed.

    Example:
        >>> specs = describe_model(model, input_format="ufixed<8,0>")
        >>> [(s.name, s.kind) for s in specs][:3]
        [('input', 'input'), ('flatten', 'reshape'), ('fc1', 'compressed')]
    """
    first = _input_spec(model, input_format)
    specs: Specs = {first.name: first}  # by spec name, in order
    spec_of_layer: Dict[str, str] = {first.name: first.name}  # Keras layer name -> spec name
    layers = [layer for layer in model.layers if not isinstance(layer, tf.keras.layers.InputLayer)]
    readers = Readers.of(model, layers)
    for layer in layers:
        inputs = tuple(spec_of_layer[name] for name in _inbound(model, layer))
        kind = type(layer).__name__
        if kind in _GRAPH_AWARE:
            spec = _GRAPH_AWARE[kind](layer, inputs, specs, readers)
        elif kind in _BUILDERS:
            spec = _BUILDERS[kind](layer, inputs, specs)
        elif kind in _REFUSALS:
            raise ValueError(f"layer {layer.name!r} ({kind}): {_REFUSALS[kind]}")
        else:
            raise ValueError(f"layer {layer.name!r} ({kind}) is not supported by the integer datapath; allowed: "
                             f"{', '.join(supported_classes())}")
        specs[spec.name] = spec
        spec_of_layer[layer.name] = spec.name
    return list(specs.values())
