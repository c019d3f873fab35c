"""Generated models for the fuzz tests: JSON-friendly model descriptions and their Keras builder.

A *description* is plain data (``json.dumps`` round-trips it unchanged)::

    {"seed": 17,                               # weights, BatchNormalization statistics, inputs
     "input_shape": [8, 8, 2],                 # one sample, channel last
     "input_format": None,                     # or "ufixed<8,0>" ...: on-grid inputs, no input QActivation
     "input_scale": 1.5,                       # float inputs are uniform in [-scale, scale]
     "nodes": [{"name": "n0_qactivation", "layer": "QActivation", "inputs": ["inp"],
                "args": {"activation": {"class": "quantized_bits", "args": {"bits": 8, "integer": 0, "alpha": 1}}}},
               ...]}                           # topological order; the last node is the output

``layer`` is a Keras/QKeras class name, ``args`` its constructor keywords (quantizers as
``{"class", "args"}``), ``init`` (compressed layers) the seeded weight distribution.
:func:`model_descriptions` draws descriptions of the supported layer set only
(``keras_wc.datapath.describe._BUILDERS``) with shapes that work out; :func:`unsupported_descriptions`
inserts one layer outside it; :func:`build_model` and :func:`sample_inputs` turn a description
into a Keras model with seeded weights and a batch of inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
from hypothesis import strategies as st

Description = Dict[str, Any]
Node = Dict[str, Any]
Shape = Tuple[int, ...]
Draw = Callable[[st.SearchStrategy], Any]

#: the model input's layer name
INPUT_NAME = "inp"
#: at most this many values in one tensor of one sample (keeps Dense fan-ins and C builds small)
MAX_ELEMENTS = 512
#: at most this many channels (filters, units, depthwise outputs)
MAX_CHANNELS = 6
#: declared input grids (models without an input QActivation)
INPUT_FORMATS = ("ufixed<8,0>", "fixed<8,3>", "ufixed<6,2>", "fixed<10,1>", "ufixed<4,4>")
#: Layer combinations left out of the fuzz runs while the bug each one hits is open; each has a
#: regression file in tests/fuzz_regressions/ (failing until the fix). Set an entry to True to
#: generate the combination again (docs/fuzzing.md).
KNOWN_BUGS = {  # all fixed (docs/fuzzing.md, "Bugs the fuzzer found"); each keeps its regression file
    "ternary_n_above_fan_in": True,  # SparseTernary(n) with n > fan-in: the ROM stores fan-in columns
    "swc_po2_7_8_bits": True,  # SWC po2 at 7/8 bits: shifts up to 126 bits, gains in Python ints
    "io_stream_after_flatten": True,  # io_stream Flatten read by a non-Dense: repacked (sqnap:repack_stream_flatten)
    "output_aliases_input": True,  # a model computing nothing in hardware: refused by name
    "all_zero_kernel": True,  # a format below the binary point: widened to 0 integer bits in HLS
    "wide_values": True,  # > 62-bit tensors emulated in Python ints; > 53/64-bit weights refused by name
}
#: layers that surely compute something in HLS (a model of only reshapes, identities and activations
#: may have its output aliased to its input: known bug "output_aliases_input")
COMPUTING = ("QConv2D", "QConv1D", "QDepthwiseConv2D", "QDense", "BatchNormalization", "MaxPooling1D",
             "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
             "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "ZeroPadding1D", "ZeroPadding2D",
             "Add", "Subtract", "Average", "Multiply", "Maximum", "Minimum", "Concatenate")
#: layer classes outside the supported set, with the rank of input each one takes
UNSUPPORTED = {"Conv2DTranspose": 3, "UpSampling2D": 3, "Conv2D": 3, "SeparableConv2D": 3, "Cropping2D": 3,
               "LSTM": 2, "UpSampling1D": 2, "Conv1D": 2, "Lambda": 0, "LayerNormalization": 0, "Dense": 1,
               "Permute": 2}
#: functions a ``Lambda`` node may name
LAMBDA_FUNCTIONS: Dict[str, Callable] = {"double": lambda t: 2.0 * t, "square": lambda t: t * t}


# -- shape arithmetic ------------------------------------------------------------------------
def window_output(size: int, kernel: int, stride: int, padding: str) -> int:
    """Keras' output length of a convolution or pooling window along one axis."""
    return -(-size // stride) if padding == "same" else (size - kernel) // stride + 1


def elements(shape: Shape) -> int:
    return int(np.prod(shape))


@dataclass
class _Graph:
    """The description under construction: nodes so far, the shape of every integer tensor and
    whether the model is drawn for an ``io_stream`` conversion."""

    shapes: Dict[str, Shape]
    nodes: List[Node] = field(default_factory=list)
    io_stream: bool = False

    def layer_of(self, name: str) -> str:
        """The class of the node ``name`` (``"Input"`` for the model input)."""
        return next((node["layer"] for node in self.nodes if node["name"] == name), "Input")

    def stream_flatten(self, name: str) -> bool:
        """Whether ``name`` is a Flatten whose consumers must be QDense (known bug ``io_stream_after_flatten``)."""
        return self.io_stream and not KNOWN_BUGS["io_stream_after_flatten"] and self.layer_of(name) == "Flatten"

    def add(self, layer: str, inputs: List[str], args: Dict[str, Any], shape: Shape,
            init: Optional[Dict[str, Any]] = None) -> str:
        """Append a node producing ``shape``; return its name."""
        name = f"n{len(self.nodes)}_{layer.lower()}"
        node = {"name": name, "layer": layer, "inputs": list(inputs), "args": args}
        if init is not None:
            node["init"] = init
        self.nodes.append(node)
        self.shapes[name] = tuple(shape)
        return name


# -- quantizers ------------------------------------------------------------------------------
def _quantizer(cls: str, **args: Any) -> Dict[str, Any]:
    return {"class": cls, "args": args}


@st.composite
def activation_quantizers(draw: Draw) -> Dict[str, Any]:
    """``quantized_relu(bits, integer)`` or ``quantized_bits(bits, integer, symmetric, keep_negative, alpha)``."""
    bits = draw(st.integers(2, 10))
    if draw(st.booleans()):
        return _quantizer("quantized_relu", bits=bits, integer=draw(st.integers(0, min(bits, 4))))
    keep_negative = draw(st.sampled_from([True, False]))
    integer = draw(st.integers(0, min(bits - int(keep_negative), 4)))
    return _quantizer("quantized_bits", bits=bits, integer=integer, symmetric=draw(st.sampled_from([0, 1])),
                      keep_negative=keep_negative, alpha=draw(st.sampled_from([1, None])))


def _group(draw: Draw, named: List[str]) -> Any:
    return draw(st.sampled_from(named) | st.integers(1, 9))


@st.composite
def kernel_quantizers(draw: Draw, kind: str, fan_in: int) -> Dict[str, Any]:
    """A keras_wc or QKeras kernel quantizer that fits a ``dense``/``conv``/``depthwise`` kernel of ``fan_in``."""
    layout = {"kernel_layout": "depthwise"} if kind == "depthwise" else {}
    ternary = fan_in >= 2 or KNOWN_BUGS["ternary_n_above_fan_in"]
    keras_wc = ["DFP", "SWC", "Po2", "PolyApprox", *(["SparseTernary"] if ternary else [])]
    qkeras = ["quantized_bits", "quantized_po2", "binary", "ternary"]
    method = draw(st.sampled_from(keras_wc if draw(st.booleans()) else qkeras))
    if method == "DFP":
        return _quantizer("DFP", bits=draw(st.integers(2, 12)), per_channel=draw(st.booleans()), **layout)
    if method == "Po2":
        return _quantizer("Po2", bits=draw(st.integers(2, 6)), **layout)
    if method == "SWC":
        sw_format = draw(st.sampled_from(["fixed", "po2"]))
        sw_bits = draw(st.integers(2, 8 if sw_format == "fixed" or KNOWN_BUGS["swc_po2_7_8_bits"] else 6))
        return _quantizer("SWC", sw_bits=sw_bits, maw_bits=draw(st.integers(max(sw_bits, 6), 16)),
                          group=_group(draw, ["filter"] if kind == "dense" else ["kernel", "filter"]),
                          sw_format=sw_format,
                          prune_threshold=draw(st.sampled_from([0.0, 0.2])), **layout)
    if method == "PolyApprox":
        return _quantizer("PolyApprox", degree=draw(st.integers(1, 2)), levels=draw(st.integers(2, 16)),
                          group=_group(draw, ["filter", "layer"]), coef_bits=draw(st.integers(4, 16)), **layout)
    if method == "SparseTernary":
        n = draw(st.integers(2, 8 if KNOWN_BUGS["ternary_n_above_fan_in"] else max(2, min(8, fan_in))))
        delta_format = draw(st.sampled_from(["fixed", "po2"]))
        return _quantizer("SparseTernary", n=n, k=draw(st.integers(1, min(n, 3))),
                          scale=draw(st.sampled_from(["channel", "layer"])), delta_format=delta_format,
                          normalize=delta_format == "fixed" and draw(st.booleans()), **layout)
    if method == "quantized_bits":
        bits = draw(st.integers(2, 8))
        return _quantizer("quantized_bits", bits=bits, integer=draw(st.integers(0, 2)),
                          alpha=draw(st.sampled_from([1, None, "auto_po2"])))
    if method == "quantized_po2":
        return _quantizer("quantized_po2", bits=draw(st.integers(2, 6)), max_value=draw(st.sampled_from([None, 1])))
    return _quantizer(method, alpha=draw(st.sampled_from([None, 1, "auto_po2"])))


@st.composite
def bias_quantizers(draw: Draw) -> Optional[Dict[str, Any]]:
    """No bias quantizer (a float bias), or a DFP/Po2/QKeras one."""
    choice = draw(st.sampled_from(["none", "quantized_bits", "DFP", "Po2"]))
    if choice == "quantized_bits":
        return _quantizer("quantized_bits", bits=draw(st.integers(4, 10)), integer=draw(st.integers(0, 3)), alpha=1)
    if choice == "DFP":
        return _quantizer("DFP", bits=draw(st.integers(4, 10)))
    if choice == "Po2":
        return _quantizer("Po2", bits=draw(st.integers(3, 6)))
    return None


@st.composite
def weight_inits(draw: Draw) -> Dict[str, Any]:
    """How a compressed layer's seeded weights are drawn: ``N(0, 2**log2_scale)``, a fraction set to 0."""
    sparsity = draw(st.integers(0, 9 if KNOWN_BUGS["all_zero_kernel"] else 8))  # 3 in 10 half zero, 1 in 10 all zero
    return {"log2_scale": draw(st.integers(-4, 1)), "zeros": 1.0 if sparsity == 9 else 0.5 if sparsity >= 6 else 0.0,
            "bias_scale": draw(st.sampled_from([0.5, 0.0, 2.0]))}


def _compressed_args(draw: Draw, kind: str, fan_in: int, quantizer_key: str = "kernel_quantizer") -> Dict[str, Any]:
    use_bias = draw(st.booleans())
    args = {quantizer_key: draw(kernel_quantizers(kind, fan_in)), "use_bias": use_bias}
    bias = draw(bias_quantizers()) if use_bias else None
    if bias is not None:
        args["bias_quantizer"] = bias
    return args


# -- layers: each adds its node(s) to the graph and returns the output tensor's name -----------
def _windows(draw: Draw, spatial: Shape, max_stride: int) -> Tuple[List[int], List[int], str, List[int]]:
    """Window sizes (1..3), strides, one padding and the output size of every spatial axis.

    ``valid`` windows never exceed their axis, so no output is empty.
    """
    padding = draw(st.sampled_from(["valid", "same"]))
    sizes = [draw(st.integers(1, 3 if padding == "same" else min(3, n))) for n in spatial]
    strides = [draw(st.integers(1, max_stride)) for _ in spatial]
    return sizes, strides, padding, [window_output(n, k, s, padding) for n, k, s in zip(spatial, sizes, strides)]


def _same_windows(draw: Draw, spatial: Shape) -> Tuple[List[int], List[int], str, List[int]]:
    """Like :func:`_windows`, but ``same`` padding and stride 1: the output keeps the input's size."""
    return [draw(st.integers(1, 3)) for _ in spatial], [1] * len(spatial), "same", list(spatial)


def _channels(draw: Draw, spatial: Shape) -> int:
    room = max(1, MAX_ELEMENTS // max(1, elements(spatial)))
    return draw(st.integers(1, min(MAX_CHANNELS, room)))


def add_conv(draw: Draw, g: _Graph, src: str, same_shape: bool = False, same_size: bool = False) -> str:
    """``QConv2D`` on a 3-D tensor or ``QConv1D`` on a 2-D one.

    ``same_shape``: 'same' padding, stride 1 and as many filters as input channels;
    ``same_size``: 'same' padding and stride 1, any number of filters.
    """
    shape = g.shapes[src]
    spatial = shape[:-1]
    layer = "QConv2D" if len(shape) == 3 else "QConv1D"
    windows = _same_windows(draw, spatial) if same_shape or same_size else _windows(draw, spatial, 2)
    kernels, strides, padding, out = windows
    filters = shape[-1] if same_shape else _channels(draw, tuple(out))
    args = {"filters": filters, "kernel_size": kernels, "strides": strides, "padding": padding,
            **_compressed_args(draw, "conv", elements(tuple(kernels)) * shape[-1])}
    return g.add(layer, [src], args, (*out, filters), draw(weight_inits()))


def add_depthwise(draw: Draw, g: _Graph, src: str, same_shape: bool = False) -> str:
    """``QDepthwiseConv2D`` with a keras_wc (``kernel_layout="depthwise"``) or QKeras quantizer."""
    shape = g.shapes[src]
    kernels, strides, padding, out = _same_windows(draw, shape[:2]) if same_shape else _windows(draw, shape[:2], 2)
    if strides[0] != strides[1]:  # TensorFlow's depthwise convolution takes equal strides only
        strides = [strides[0]] * 2
        out = [window_output(n, k, strides[0], padding) for n, k in zip(shape[:2], kernels)]
    room = max(1, MAX_ELEMENTS // max(1, elements(tuple(out)) * shape[2]))
    multiplier = 1 if same_shape else draw(st.integers(1, min(2, room)))
    args = {"kernel_size": kernels, "strides": strides, "padding": padding, "depth_multiplier": multiplier,
            **_compressed_args(draw, "depthwise", elements(tuple(kernels)), "depthwise_quantizer")}
    return g.add("QDepthwiseConv2D", [src], args, (*out, shape[2] * multiplier), draw(weight_inits()))


def add_dense(draw: Draw, g: _Graph, src: str, same_shape: bool = False) -> str:
    units = g.shapes[src][0] if same_shape else draw(st.integers(1, 8))
    args = {"units": units, **_compressed_args(draw, "dense", g.shapes[src][0])}
    return g.add("QDense", [src], args, (units,), draw(weight_inits()))


def add_activation(draw: Draw, g: _Graph, src: str, same_shape: bool = True) -> str:
    return g.add("QActivation", [src], {"activation": draw(activation_quantizers())}, g.shapes[src])


def add_batchnorm(draw: Draw, g: _Graph, src: str, same_shape: bool = True) -> str:
    """BatchNormalization; its statistics (far from identity) come from the seed in :func:`build_model`."""
    return g.add("BatchNormalization", [src], {"epsilon": draw(st.sampled_from([0.001, 1e-5]))}, g.shapes[src])


def add_relu(draw: Draw, g: _Graph, src: str, same_shape: bool = True) -> str:
    if draw(st.booleans()):
        return g.add("ReLU", [src], {}, g.shapes[src])
    return g.add("Activation", [src], {"activation": draw(st.sampled_from(["relu", "linear"]))}, g.shapes[src])


def add_identity(draw: Draw, g: _Graph, src: str, same_shape: bool = True) -> str:
    """Dropout, SpatialDropout1D/2D or GaussianNoise: identities at inference."""
    shape = g.shapes[src]
    spatial = {2: ["SpatialDropout1D"], 3: ["SpatialDropout2D"]}.get(len(shape), [])
    layer = draw(st.sampled_from(["Dropout", "GaussianNoise", *spatial]))
    args = {"stddev": 0.3} if layer == "GaussianNoise" else {"rate": 0.4}
    return g.add(layer, [src], args, shape)


def add_pool(draw: Draw, g: _Graph, src: str, same_shape: bool = False) -> str:
    """Max/AveragePooling1D/2D, any pool size (1..3), stride (1..3) and padding."""
    shape = g.shapes[src]
    spatial = shape[:-1]
    op = draw(st.sampled_from(["MaxPooling", "AveragePooling"]))
    sizes, strides, padding, out = _same_windows(draw, spatial) if same_shape else _windows(draw, spatial, 3)
    return g.add(f"{op}{len(spatial)}D", [src], {"pool_size": sizes, "strides": strides, "padding": padding},
                 (*out, shape[-1]))


def add_global_pool(draw: Draw, g: _Graph, src: str, same_shape: bool = False) -> str:
    shape = g.shapes[src]
    op = draw(st.sampled_from(["GlobalAveragePooling", "GlobalMaxPooling"]))
    return g.add(f"{op}{len(shape) - 1}D", [src], {}, (shape[-1],))


def add_zero_padding(draw: Draw, g: _Graph, src: str, same_shape: bool = False) -> str:
    shape = g.shapes[src]
    pads = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in shape[:-1]]
    out = [n + a + b for n, (a, b) in zip(shape[:-1], pads)]
    if elements((*out, shape[-1])) > MAX_ELEMENTS:
        pads, out = [[0, 1] for _ in shape[:-1]], [n + 1 for n in shape[:-1]]
    padding = pads if len(shape) == 3 else pads[0]
    return g.add(f"ZeroPadding{len(shape) - 1}D", [src], {"padding": padding}, (*out, shape[-1]))


def add_flatten(draw: Draw, g: _Graph, src: str, same_shape: bool = False) -> str:
    return g.add("Flatten", [src], {}, (elements(g.shapes[src]),))


def add_reshape(draw: Draw, g: _Graph, src: str, same_shape: bool = False) -> str:
    """A C-order reshape between ranks 1, 2 and 3 (``(H, W*C)``, ``(L, 1, C)``, ``(N/2, 2)``...)."""
    shape = list(g.shapes[src])
    if len(shape) == 3:
        options = [[shape[0], shape[1] * shape[2]], [shape[0] * shape[1], shape[2]]]
    elif len(shape) == 2:
        options = [[shape[0], 1, shape[1]], [1, shape[0], shape[1]], [shape[0], shape[1], 1]]
    else:
        options = [[shape[0], 1]] + ([[shape[0] // 2, 2]] if shape[0] % 2 == 0 else [])
    target = draw(st.sampled_from(options))
    return g.add("Reshape", [src], {"target_shape": target}, tuple(target))


#: layers that keep the shape (the second operand of a merge is one of these applied to the first)
SAME_SHAPE = {3: [add_activation, add_batchnorm, add_relu, add_conv, add_depthwise, add_pool, add_identity],
              2: [add_activation, add_batchnorm, add_relu, add_conv, add_pool, add_identity],
              1: [add_activation, add_batchnorm, add_relu, add_dense, add_identity]}


def add_merge(draw: Draw, g: _Graph, src: str, same_shape: bool = False) -> str:
    """Add/Subtract/Average/Multiply/Maximum/Minimum/Concatenate of ``src`` and a second operand.

    The second operand is an earlier integer tensor of the same shape (a residual) or a new side
    branch from ``src``; Concatenate may also join a branch with another channel count.
    """
    shape = g.shapes[src]
    layer = draw(st.sampled_from(["Add", "Concatenate", "Subtract", "Average", "Multiply", "Maximum", "Minimum"]))
    earlier = [name for name, s in g.shapes.items() if s == shape and name != src and not g.stream_flatten(name)]
    if earlier and draw(st.booleans()):
        other = draw(st.sampled_from(earlier))
    elif layer == "Concatenate" and draw(st.booleans()):
        other = add_dense(draw, g, src) if len(shape) == 1 else add_conv(draw, g, src, same_size=True)
    else:
        other = draw(st.sampled_from(SAME_SHAPE[len(shape)]))(draw, g, src, True)
    operands = draw(st.sampled_from([[src, other], [other, src]]))
    if layer != "Concatenate":
        return g.add(layer, operands, {}, shape)
    second = g.shapes[other]
    axis = draw(st.sampled_from([-1] if second != shape else [-1, *range(1, len(shape) + 1)]))
    index = axis - 1 if axis > 0 else len(shape) - 1
    out = list(shape)
    out[index] += second[index]
    return g.add("Concatenate", operands, {"axis": axis}, tuple(out))


#: the layers that can follow a tensor of each rank (simplest first: hypothesis shrinks towards them)
STEPS = {3: [add_activation, add_conv, add_batchnorm, add_relu, add_pool, add_depthwise, add_global_pool,
             add_flatten, add_zero_padding, add_identity, add_reshape, add_merge],
         2: [add_activation, add_conv, add_batchnorm, add_relu, add_pool, add_global_pool, add_flatten,
             add_zero_padding, add_identity, add_reshape, add_merge],
         1: [add_activation, add_dense, add_batchnorm, add_relu, add_identity, add_reshape, add_merge]}


def _fits(g: _Graph, src: str, step: Callable) -> bool:
    """Whether ``step`` can follow ``src`` without an oversized tensor."""
    shape = g.shapes[src]
    if step is add_reshape and len(shape) == 1:
        return shape[0] > 1
    if step is add_zero_padding:
        return elements(tuple(n + 1 for n in shape[:-1]) + shape[-1:]) <= MAX_ELEMENTS
    return True


# -- whole models ----------------------------------------------------------------------------
@st.composite
def input_specs(draw: Draw) -> Dict[str, Any]:
    """Input shape (3-D images, 2-D sequences, 1-D vectors) and a float or declared input grid."""
    rank = draw(st.sampled_from([3, 2, 1]))
    if rank == 3:
        shape = [draw(st.integers(6, 10)), draw(st.integers(6, 10)), draw(st.integers(1, 3))]
    elif rank == 2:
        shape = [draw(st.integers(6, 16)), draw(st.integers(1, 3))]
    else:
        shape = [draw(st.integers(4, 24))]
    fmt = draw(st.sampled_from([None, *INPUT_FORMATS]))
    return {"input_shape": shape, "input_format": fmt, "input_scale": draw(st.sampled_from([1.0, 0.3, 4.0]))}


def _start(draw: Draw, spec: Dict[str, Any], io_stream: bool) -> Tuple[_Graph, str]:
    """The graph with its first node: the input QActivation of a float model (else nothing yet)."""
    if spec["input_format"] is not None:
        return _Graph({INPUT_NAME: tuple(spec["input_shape"])}, io_stream=io_stream), INPUT_NAME
    g = _Graph({}, io_stream=io_stream)
    quantizer = draw(st.sampled_from([_quantizer("quantized_bits", bits=8, integer=0, alpha=1)])
                     | activation_quantizers())
    node = g.add("QActivation", [INPUT_NAME], {"activation": quantizer}, tuple(spec["input_shape"]))
    return g, node


@st.composite
def _graphs(draw: Draw, max_layers: int, io_stream: bool = False) -> Tuple[Dict[str, Any], _Graph]:
    """The input spec and the graph of a valid model: at most ``max_layers`` steps (a merge may add a branch)."""
    spec = draw(input_specs())
    g, current = _start(draw, spec, io_stream)
    for _ in range(draw(st.integers(1, max_layers))):
        steps = [add_dense] if g.stream_flatten(current) else \
            [step for step in STEPS[len(g.shapes[current])] if _fits(g, current, step)]
        current = draw(st.sampled_from(steps))(draw, g, current)
    if g.stream_flatten(current):
        current = add_dense(draw, g, current)
    if not (KNOWN_BUGS["output_aliases_input"] or _computes(g)):
        current = add_batchnorm(draw, g, current)
    if draw(st.integers(0, 3)) == 0:
        g.add("Activation", [current], {"activation": "softmax"}, g.shapes[current])
    return spec, g


def _computes(g: _Graph) -> bool:
    """Whether some node surely computes in HLS (see :data:`COMPUTING`)."""
    return any(node["layer"] in COMPUTING for node in g.nodes)


@st.composite
def model_descriptions(draw: Draw, max_layers: int = 6, io_stream: bool = False) -> Description:
    """A valid model of the supported layer set: at most ``max_layers`` steps (a merge may add a branch).

    ``io_stream``: drawn for an ``io_stream`` conversion (see :data:`KNOWN_BUGS`).

    Example:
        >>> description = model_descriptions().example()
        >>> model = build_model(description)
    """
    spec, g = draw(_graphs(max_layers, io_stream))
    return {"seed": draw(st.integers(0, 2 ** 16)), **spec, "nodes": g.nodes}


@st.composite
def unsupported_descriptions(draw: Draw) -> Tuple[Description, str]:
    """A valid supported model whose output is one layer outside the supported set.

    The unsupported layer follows a tensor of the rank it takes; the description keeps only the
    nodes that feed it.

    Returns:
        ``(description, name of the unsupported node)``.
    """
    spec, g = draw(_graphs(3))
    layer = draw(st.sampled_from(sorted(UNSUPPORTED)))
    rank = UNSUPPORTED[layer]
    softmax = [node["name"] for node in g.nodes if node["args"].get("activation") == "softmax"]
    candidates = [name for name, shape in g.shapes.items() if rank in (0, len(shape)) and name not in softmax]
    if not candidates:  # no tensor of that rank
        layer, candidates = "LayerNormalization", [name for name in g.shapes if name not in softmax]
    src = draw(st.sampled_from(candidates))
    name = g.add(layer, [src], _unsupported_args(layer, g.shapes[src]), g.shapes[src])
    description = {"seed": draw(st.integers(0, 2 ** 16)), **spec, "nodes": _feeding(g.nodes, name)}
    return description, name


def _feeding(nodes: List[Node], output: str) -> List[Node]:
    """The nodes ``output`` depends on (itself included), in their order."""
    needed = {output}
    for node in reversed(nodes):
        if node["name"] in needed:
            needed.update(node["inputs"])
    return [node for node in nodes if node["name"] in needed]


def _unsupported_args(layer: str, shape: Shape) -> Dict[str, Any]:
    """Constructor arguments of an unsupported layer that fit an input of ``shape``."""
    if layer in ("Conv2DTranspose", "Conv2D", "SeparableConv2D", "Conv1D"):
        return {"filters": 2, "kernel_size": 1}
    if layer in ("Dense", "LSTM"):
        return {"units": 2}
    if layer == "Lambda":
        return {"function": "double"}
    if layer == "Cropping2D":
        return {"cropping": [[0, 1], [1, 0]] if min(shape[:2]) > 1 else 0}
    if layer == "Permute":
        return {"dims": [2, 1]}
    return {}


# -- building --------------------------------------------------------------------------------
def _quantizer_classes() -> Dict[str, Callable]:
    from qkeras import binary, quantized_bits, quantized_po2, quantized_relu, ternary

    from keras_wc.quantizers import DFP, SWC, Po2, PolyApprox, SparseTernary

    return {"SWC": SWC, "PolyApprox": PolyApprox, "DFP": DFP, "Po2": Po2, "SparseTernary": SparseTernary,
            "quantized_bits": quantized_bits, "quantized_po2": quantized_po2, "quantized_relu": quantized_relu,
            "binary": binary, "ternary": ternary}


def _layer_class(name: str) -> Callable:
    import qkeras
    import tensorflow as tf

    return getattr(qkeras, name) if name.startswith("Q") else getattr(tf.keras.layers, name)


def make_layer(node: Node) -> Any:
    """The Keras layer of one node (quantizers built from their descriptions)."""
    quantizers = _quantizer_classes()
    args = {}
    for key, value in node["args"].items():
        if isinstance(value, dict) and "class" in value:
            value = quantizers[value["class"]](**value["args"])
        elif key == "function":
            value = LAMBDA_FUNCTIONS[value]
        args[key] = value
    return _layer_class(node["layer"])(name=node["name"], **args)


def build_model(description: Description) -> Any:
    """The functional Keras model of ``description``, with seeded weights and BatchNormalization statistics.

    Args:
        description: a model description (module docstring); every node feeds the last one.

    Returns:
        A ``tf.keras.Model`` named ``fuzz``.
    """
    import tensorflow as tf

    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(int(description["seed"]))
    tensors = {INPUT_NAME: tf.keras.Input(tuple(description["input_shape"]), name=INPUT_NAME)}
    for node in description["nodes"]:
        inputs = [tensors[name] for name in node["inputs"]]
        tensors[node["name"]] = make_layer(node)(inputs if len(inputs) > 1 else inputs[0])
    model = tf.keras.Model(tensors[INPUT_NAME], tensors[description["nodes"][-1]["name"]], name="fuzz")
    for index, node in enumerate(description["nodes"]):
        _init_layer(model.get_layer(node["name"]), node, np.random.default_rng([description["seed"], index]))
    return model


def _init_layer(layer: Any, node: Node, rng: np.random.Generator) -> None:
    """Seeded kernel/bias (``node["init"]``) or BatchNormalization statistics far from identity."""
    if node["layer"] == "BatchNormalization":
        c = layer.gamma.shape[0]
        layer.set_weights([rng.uniform(0.3, 3, c), rng.normal(0, 1, c), rng.normal(0, 2, c), rng.uniform(0.05, 4, c)])
        return
    init = node.get("init")
    if init is None:
        return
    kernel = layer.depthwise_kernel if node["layer"] == "QDepthwiseConv2D" else layer.kernel
    values = rng.normal(0.0, 2.0 ** init["log2_scale"], kernel.shape)
    values[rng.random(kernel.shape) < init["zeros"]] = 0.0
    kernel.assign(values.astype(np.float32))
    if getattr(layer, "bias", None) is not None:
        layer.bias.assign(rng.normal(0.0, init["bias_scale"], layer.bias.shape).astype(np.float32))


def sample_inputs(description: Description, n: int) -> np.ndarray:
    """``n`` seeded inputs: floats in ``[-input_scale, input_scale]``, or values on the declared grid."""
    from keras_wc.datapath.formats import parse_format

    rng = np.random.default_rng([description["seed"], 1 << 20])
    shape = (n, *description["input_shape"])
    if description["input_format"] is None:
        scale = description["input_scale"]
        return rng.uniform(-scale, scale, shape).astype(np.float32)
    fmt = parse_format(description["input_format"])
    return (rng.integers(fmt.min_int, fmt.max_int + 1, shape) * 2.0 ** -fmt.frac).astype(np.float32)
