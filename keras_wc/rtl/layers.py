"""One emitter per layer-spec kind: a layer's integer arithmetic as a :class:`~.netlist.Netlist`.

Each emitter takes the spec, its input elements (one :class:`~.netlist.Signal` per value of a
sample, C order, channels last) and the netlist, and returns its output elements. The
arithmetic is the emulator's (:mod:`keras_wc.emulate.layers`), step for step:

* ``compressed`` (Dense): the method's constant sums and scales
  (:meth:`keras_wc.methods.Method.scaled_sums`), ``(A << align) + bias``, the rounded division
  by ``D`` (a reciprocal multiplication), a folded BatchNormalization;
* ``quantize`` (a QActivation on integers): round half to even, saturate;
* ``relu``; ``affine`` (a standalone BatchNormalization): ``x * multiplier + offset``;
* ``pool``: a window's max, or its sum (divided by an odd pixel count for an average that divides);
* ``merge`` (Add, Subtract, Average, Maximum, Minimum, Concatenate): the inputs shifted onto the
  common grid, then element-wise sums, differences, comparator selections, or the values in order
  (:func:`emit_layer` gives it every input; the other emitters take one).

Convolutions and pooling get their window's values from a streaming module (:mod:`.stream`).

``reshape`` and ``identity`` change no value: the top wires them through (:data:`PASSTHROUGH`).
Any other layer is refused by name (:func:`check_supported`) before anything is written.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np

from ..datapath.specs import AffineSpec, CompressedSpec, LayerSpec, MergeSpec, PoolSpec, QuantizeSpec, Scaling
from ..methods import method_of
from .netlist import Netlist, Signal

Elements = List[Signal]

#: spec kinds that change no value (the top connects their input to their consumers)
PASSTHROUGH = frozenset({"reshape", "identity"})


def check_supported(spec: LayerSpec) -> None:
    """Refuse a layer the generator cannot emit, naming it.

    Raises:
        ValueError: ``layer 'name': ...`` with what is emitted.

    Example:
        >>> check_supported(zero_padding_spec)
        Traceback (most recent call last):
        ValueError: layer 'pad': a pad layer is not emitted by keras_wc.rtl yet ...
    """
    emitted = ("Dense/Conv1D/Conv2D/DepthwiseConv2D of every method and QKeras quantized_bits, max pooling, "
               "average pooling over windows of one pixel count, a power of two or odd, QActivation, ReLU, "
               "BatchNormalization, Add/Subtract/Average/Maximum/Minimum/Concatenate, Flatten, Dropout")
    if isinstance(spec, MergeSpec) and spec.op not in (*MERGE_EMITTERS, "concatenate"):
        raise ValueError(f"layer {spec.name!r}: a {spec.op} merge (a product of two signals) is not emitted by "
                         f"keras_wc.rtl yet (it emits {emitted}); keras_wc.hls.convert emits it as HLS")
    if spec.kind == "pool" and spec.divide and pool_divisor(spec) is None:
        raise ValueError(f"layer {spec.name!r}: average pooling whose windows hold different pixel counts (padding) "
                         f"or an even count that is not a power of two is not emitted by keras_wc.rtl yet (it emits "
                         f"{emitted})")
    if isinstance(spec, CompressedSpec) and not method_of(spec.encoding).has_scaled_sums:
        raise ValueError(f"layer {spec.name!r}: method {spec.encoding.method!r} defines no scaled_sums (nor "
                         f"weight_integers), the constant sums keras_wc.rtl builds a layer from; "
                         f"keras_wc.hls.convert emits it as HLS")
    if spec.kind not in EMITTERS and spec.kind not in PASSTHROUGH and spec.kind != "merge":
        raise ValueError(f"layer {spec.name!r}: a {spec.kind} layer is not emitted by keras_wc.rtl yet "
                         f"(it emits {emitted}); keras_wc.hls.convert emits it as HLS")


def pool_divisor(spec: PoolSpec) -> Optional[int]:
    """The one odd pixel count every window of a dividing average pooling holds, or ``None``
    (counts that differ by position, or an even count: the emulator rounds ties to even there).

    Example:
        >>> pool_divisor(average_pooling_3x3_valid_spec)
        9
    """
    counts = np.unique(np.asarray(spec.geometry.real_pixel_counts()))
    return int(counts[0]) if counts.size == 1 and counts[0] % 2 == 1 else None


def scaled(net: Netlist, value: Signal, scaling: Scaling, channel: int) -> Signal:
    """A folded BatchNormalization on one value: ``value * multiplier[c] + offset[c]`` (one full multiplication)."""
    product = net.multiply(value, int(scaling.multiplier[channel]))
    return net.add(product, net.constant(int(scaling.offset[channel])))


def compressed(spec: CompressedSpec, x: Elements, net: Netlist) -> Elements:
    """A Dense layer: per output, the method's scaled sums, then the shared epilogue."""
    sums = method_of(spec.encoding).scaled_sums(spec.encoding)
    index = np.asarray(spec.patch_index)
    outputs = []
    for o in range(index.shape[0]):
        terms = []
        for t in range(sums.weights.shape[1]):
            row = sums.weights[o, t]
            products = [net.constant_product(x[int(index[o, j])], int(row[j]))
                        for j in range(row.shape[0]) if row[j] != 0 and index[o, j] >= 0]
            partial = net.sum(products)
            terms.append(partial if sums.scales is None else net.multiply(partial, int(sums.scales[o, t])))
        outputs.append(epilogue(spec, o, net.sum(terms), net))
    return outputs


def epilogue(spec: CompressedSpec, o: int, total: Signal, net: Netlist) -> Signal:
    """Output ``o`` of a compressed layer from its kernel sum ``A``, its constants as literals."""
    return finish_output(spec, total, {name: net.constant(int(values[o]))
                                       for name, values in epilogue_constants(spec).items()}, net)


def epilogue_constants(spec: CompressedSpec) -> Dict[str, np.ndarray]:
    """The per-output constants of a compressed layer's epilogue: ``align``, ``bias`` and, with a folded
    BatchNormalization, its ``multiplier`` and ``offset``."""
    constants = {"align": np.asarray(spec.align), "bias": np.asarray(spec.bias)}
    if spec.scaling is not None:
        constants.update({name: np.asarray(getattr(spec.scaling, name)) for name in ("multiplier", "offset")})
    return constants


def finish_output(spec: CompressedSpec, total: Signal, constants: Dict[str, Signal], net: Netlist) -> Signal:
    """``(A << align) + bias``, the rounded division by ``D``, a folded BatchNormalization
    (``result * multiplier + offset``): one output from its kernel sum ``A`` and its
    :func:`epilogue_constants` as signals (literals in a Latency module, a table's fields where a
    Resource module walks its outputs through one epilogue)."""
    align = constants["align"]
    shifted = net.shift_left(total, align.lo) if align.constant else net.shift_left_by(total, align)
    result = net.divide_round(net.add(shifted, constants["bias"]), int(spec.denominator))
    if spec.scaling is None:
        return result
    return net.add(net.product(result, constants["multiplier"]), constants["offset"])


def quantize(spec: QuantizeSpec, x: Elements, net: Netlist) -> Elements:
    """A QActivation on integers: ``round_shift`` by the grid difference, then saturation."""
    quant = spec.quant
    shift = int(spec.input_frac) - int(quant.fmt.frac)
    return [net.clip(net.round_shift(value, shift), quant.min_int, quant.max_int) for value in x]


def relu(spec: LayerSpec, x: Elements, net: Netlist) -> Elements:
    """``max(x, 0)``."""
    return [net.relu(value) for value in x]


def affine(spec: AffineSpec, x: Elements, net: Netlist) -> Elements:
    """A standalone BatchNormalization: :func:`scaled` per value, its channel the last axis."""
    channels = int(spec.output_shape[-1])
    return [scaled(net, value, spec.scaling, i % channels) for i, value in enumerate(x)]


def pool(spec: PoolSpec, x: Elements, net: Netlist) -> Elements:
    """A pooling window (``(ky, kx, c)`` order): per channel the largest value (a comparator tree) or
    the sum (average pooling over ``2**k`` pixels: the sum is the result, ``k`` bits finer; over an odd
    count ``n``: the sum, shifted onto the output grid, divided by ``n`` rounding to nearest — one
    reciprocal multiplication, as the emulator's ``round_div``)."""
    (kh, kw), channels = spec.geometry.kernel_size, spec.geometry.channels_in
    outputs = []
    for c in range(channels):
        members = [x[(ky * kw + kx) * channels + c] for ky in range(kh) for kx in range(kw)]
        if spec.op == "max":
            outputs.append(net.maximum(members))
            continue
        total = net.shift_left(net.sum(members), spec.shift)
        outputs.append(net.divide_round(total, pool_divisor(spec)) if spec.divide else total)
    return outputs


def concatenation_order(spec: MergeSpec, sizes: List[int]) -> List[int]:
    """Where each output value of a concatenation comes from, as indices into the inputs' values
    laid end to end (C order, ``spec.axis`` of ``spec.output_shape``; ``sizes``: each input's count,
    a whole sample's or one pixel's).

    Example:
        >>> concatenation_order(concat_of_two_2x1_maps_on_channels, [2, 2])   # (2, 2) out, axis 1
        [0, 2, 1, 3]
    """
    shape = tuple(int(d) for d in spec.output_shape)
    inner = int(np.prod(shape[spec.axis + 1:]))
    outer = sum(sizes) // (shape[spec.axis] * inner)
    starts = np.cumsum([0] + sizes[:-1])
    order: List[int] = []
    for block in range(outer):
        for start, size in zip(starts, sizes):
            run = size // outer
            order.extend(range(int(start) + block * run, int(start) + (block + 1) * run))
    return order


def merge(spec: MergeSpec, inputs: List[Elements], net: Netlist) -> Elements:
    """Add, Subtract, Average (the sum, one bit finer), Maximum, Minimum or Concatenate of the inputs,
    each first shifted left onto the common grid."""
    aligned = [[net.shift_left(value, shift) for value in x] for x, shift in zip(inputs, spec.shifts)]
    if spec.op == "concatenate":
        values = [value for x in aligned for value in x]
        return [values[i] for i in concatenation_order(spec, [len(x) for x in aligned])]
    return [MERGE_EMITTERS[spec.op](net, list(column)) for column in zip(*aligned)]


#: element-wise merge ops: ``(netlist, the inputs' values at one position) -> the output value``
MERGE_EMITTERS: Dict[str, Callable[[Netlist, Elements], Signal]] = {
    "add": Netlist.sum, "average": Netlist.sum, "maximum": Netlist.maximum, "minimum": Netlist.minimum,
    "subtract": lambda net, values: net.add(values[0], values[1], subtract=True),
}

EMITTERS: Dict[str, Callable[[LayerSpec, Elements, Netlist], Elements]] = {
    "compressed": compressed, "quantize": quantize, "relu": relu, "affine": affine, "pool": pool,
}


def emit_layer(spec: LayerSpec, inputs: List[Elements], net: Netlist) -> Elements:
    """A layer's output elements from its inputs' (one list per entry of ``spec.inputs``)."""
    if spec.kind == "merge":
        return merge(spec, inputs, net)
    return EMITTERS[spec.kind](spec, inputs[0], net)
