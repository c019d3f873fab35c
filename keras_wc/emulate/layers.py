"""Executors: one function per layer-spec kind, integers in, integers out.

Each takes the spec and its input arrays (integers; the raw float batch only for a
QActivation on the model input) and returns ``(output, peaks)``; ``peaks`` holds the
largest magnitudes reached inside the layer (``"partial"``, ``"acc"``) so tests and users
can check them against the declared widths.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Tuple

import numpy as np

from ..methods import method_of
from ..datapath.arith import int_array, max_abs, round_div
from ..datapath.specs import (AffineSpec, CompressedSpec, IdentitySpec, LayerSpec, MergeSpec, PadSpec, PoolSpec,
                              QuantizeSpec, ReluSpec, Scaling)
from .patches import grouped_inputs, patches, row_chunks

Peaks = Dict[str, int]
Output = Tuple[np.ndarray, Peaks]


def _batch_shape(spec: LayerSpec, batch: int) -> Tuple[int, ...]:
    return (batch,) + tuple(spec.output_shape)


def scale(values: np.ndarray, scaling: Scaling) -> np.ndarray:
    """A folded BatchNormalization: ``values * multiplier[c] + offset[c]`` on the last (channel) axis.

    Args:
        values: integers on the scaling's input grid, channels last.
        scaling: the :class:`~keras_wc.datapath.specs.Scaling`.

    Returns:
        The exact integers on the output grid (int64, or object when the bound needs it).

    Example:
        >>> scale(np.array([[1, -2]]), scaling).tolist()    # multiplier [3, 5], offset [1, 0]
        [[4, -10]]
    """
    bound = max(scaling.peak, scaling.input_peak * max_abs(np.asarray(scaling.multiplier))) << 1
    x = int_array(values, bound)
    return x * int_array(scaling.multiplier, bound) + int_array(scaling.offset, bound)


def compressed(spec: CompressedSpec, inputs: List[np.ndarray]) -> Output:
    """Grouped fan-in -> method kernel -> align, bias, round_div by ``D`` -> folded BatchNormalization."""
    x = inputs[0]
    batch, layout = x.shape[0], spec.encoding.layout
    bound = max(1 << spec.acc_format.bits, max_abs(x))  # an all-zero kernel's accumulator is narrower than x
    rows = int_array(patches(x, spec.geometry), bound)
    rows = rows.reshape(-1, rows.shape[-1])
    kernel = method_of(spec.encoding).kernel
    results, partial_peak, acc_peak = [], 0, 0
    for start, stop in row_chunks(rows.shape[0], layout.n_out * layout.padded_fan_in):
        acc, partial = kernel(grouped_inputs(rows[start:stop], spec.patch_index, layout.group_size), spec.encoding)
        acc = (acc << int_array(spec.align, bound)) + int_array(spec.bias, bound)
        partial_peak, acc_peak = max(partial_peak, max_abs(partial)), max(acc_peak, max_abs(acc))
        results.append(round_div(acc, spec.denominator))
    out = np.concatenate(results, axis=0).reshape(_batch_shape(spec, batch))
    if spec.scaling is None:
        return out, {"partial": partial_peak, "acc": acc_peak}
    out = scale(out, spec.scaling)
    return out, {"partial": partial_peak, "acc": acc_peak, "scaled": max_abs(out)}


def quantize(spec: QuantizeSpec, inputs: List[np.ndarray]) -> Output:
    """QActivation: from float exactly as QKeras, or from integers (round half even, saturate)."""
    x = inputs[0]
    if spec.input_frac is None:
        return spec.quant.quantize_float(x), {}
    return spec.quant.requantize(x, spec.input_frac), {}


def relu(spec: ReluSpec, inputs: List[np.ndarray]) -> Output:
    return np.maximum(inputs[0], 0), {}


def reshape(spec: LayerSpec, inputs: List[np.ndarray]) -> Output:
    return inputs[0].reshape(_batch_shape(spec, inputs[0].shape[0])), {}


def identity(spec: IdentitySpec, inputs: List[np.ndarray]) -> Output:
    return inputs[0], {}


def affine(spec: AffineSpec, inputs: List[np.ndarray]) -> Output:
    """A standalone BatchNormalization: :func:`scale` (one product per output)."""
    out = scale(inputs[0], spec.scaling)
    return out, {"acc": max_abs(out)}


def pool(spec: PoolSpec, inputs: List[np.ndarray]) -> Output:
    """Max or average over each window's real pixels (:class:`~keras_wc.datapath.specs.PoolSpec`)."""
    x = inputs[0]
    batch, geometry = x.shape[0], spec.geometry
    area, channels = geometry.kernel_size[0] * geometry.kernel_size[1], geometry.channels_in
    fill = int(np.min(x, initial=0)) - 1 if spec.op == "max" else 0
    windows = patches(x, geometry, fill).reshape(batch, -1, area, channels)
    if spec.op == "max":
        return windows.max(axis=2).reshape(_batch_shape(spec, batch)), {"acc": max_abs(x)}
    sums = int_array(windows.sum(axis=2), spec.acc_bound << 1) << spec.shift
    if spec.divide:
        sums = round_div(sums, geometry.real_pixel_counts().reshape(1, -1, 1))
    return sums.reshape(_batch_shape(spec, batch)), {"acc": max_abs(sums)}


def pad(spec: PadSpec, inputs: List[np.ndarray]) -> Output:
    """Zero rows/columns around the map."""
    x = inputs[0]
    pads = spec.pads if x.ndim == 4 else spec.pads[1:]
    return np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),)), {}


def merge(spec: MergeSpec, inputs: List[np.ndarray]) -> Output:
    """Align the inputs onto the common grid, then add/subtract/.../concatenate (exact)."""
    bound = 1 << (spec.output_format.bits + 1)
    xs = [int_array(x, bound) << shift for x, shift in zip(inputs, spec.shifts)]
    if spec.op == "concatenate":
        return np.concatenate(xs, axis=spec.axis + 1 if spec.axis >= 0 else -1), {}
    operations = {"add": sum, "average": sum, "subtract": lambda v: v[0] - v[1],
                  "multiply": lambda v: v[0] * v[1], "maximum": lambda v: np.maximum.reduce(v),
                  "minimum": lambda v: np.minimum.reduce(v)}
    return operations[spec.op](xs), {}


EXECUTORS: Dict[str, Callable[..., Output]] = {
    "compressed": compressed, "quantize": quantize, "relu": relu, "reshape": reshape, "identity": identity,
    "affine": affine, "pool": pool, "pad": pad, "merge": merge,
}
