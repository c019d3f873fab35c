"""``emulate``: run a model's integer datapath on a batch with numpy integers only."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Union

import numpy as np
import tensorflow as tf

from ..datapath import describe_model
from ..datapath.specs import InputSpec, LayerSpec
from ..quantizers.fixedpoint import FixedPoint
from .layers import EXECUTORS, Peaks

InputFormat = Union[None, str, FixedPoint]


@dataclass
class Emulation:
    """Everything one emulator run produced.

    Attributes:
        specs: the datapath (``describe_model``), in order.
        integers: layer name -> output integers (int64, or object for very wide tensors).
        peaks: layer name -> largest magnitudes inside the layer (``"partial"``, ``"acc"``).
    """

    specs: List[LayerSpec]
    integers: "OrderedDict[str, np.ndarray]"
    peaks: Dict[str, Peaks]

    def value(self, name: str) -> np.ndarray:
        """Layer ``name``'s output as float64 (``integer * 2**-frac``; the float input as given)."""
        spec = next(s for s in self.specs if s.name == name)
        ints = self.integers[name]
        if spec.output_format is None:
            return np.asarray(ints, np.float64)
        return np.asarray(ints, np.float64) * 2.0 ** -spec.output_format.frac

    @property
    def output(self) -> np.ndarray:
        """The last layer's output (the logits: a final softmax is excluded)."""
        return self.value(self.specs[-1].name)


def _check_grid(spec: InputSpec, x: np.ndarray) -> np.ndarray:
    """Integers of ``x`` on the declared input grid; ValueError for values off the grid or range."""
    fmt = spec.output_format
    scaled = np.asarray(x, np.float64) * 2.0 ** fmt.frac
    ints = np.round(scaled)
    off = np.abs(scaled - ints)
    out_of_range = (ints < fmt.min_int) | (ints > fmt.max_int)
    bad = (off > 0) | out_of_range | ~np.isfinite(scaled)
    if np.any(bad):
        raise ValueError(
            f"input: {int(bad.sum())} of {bad.size} values are not on the declared grid "
            f"{'' if fmt.signed else 'u'}fixed<{fmt.bits},{fmt.integer_bits}> (steps of 2**-{fmt.frac}, "
            f"integers [{fmt.min_int}, {fmt.max_int}]): max distance {float(np.nanmax(off)):.4g} steps, "
            f"{int(out_of_range.sum())} out of range. Quantize the inputs first or declare another input_format")
    return ints.astype(np.int64)


def run(specs: List[LayerSpec], x: np.ndarray) -> Emulation:
    """Execute ``specs`` on the batch ``x`` (float input values).

    Args:
        specs: from :func:`keras_wc.datapath.describe_model`.
        x: ``(batch, *input_shape)``.

    Returns:
        An :class:`Emulation` with every layer's integers.
    """
    first = specs[0]
    x = np.asarray(x)
    if x.shape[1:] != tuple(first.output_shape):
        raise ValueError(f"input: expected samples of shape {tuple(first.output_shape)}, got {x.shape[1:]}")
    integers: "OrderedDict[str, np.ndarray]" = OrderedDict()
    integers[first.name] = x.astype(np.float32) if first.output_format is None else _check_grid(first, x)
    peaks: Dict[str, Peaks] = {}
    for spec in specs[1:]:
        integers[spec.name], peaks[spec.name] = EXECUTORS[spec.kind](spec, [integers[n] for n in spec.inputs])
    return Emulation(specs, integers, peaks)


def emulate(model: tf.keras.Model, x: np.ndarray, input_format: InputFormat = None, trace: bool = False):
    """The model's outputs computed by the integer datapath (numpy integers only).

    Args:
        model: a Keras/QKeras model (see docs/emulator.md for the supported layers).
        x: float inputs ``(batch, *input_shape)``.
        input_format: the declared input grid (e.g. ``"ufixed<8,0>"``) unless the first layer
            is a QActivation.
        trace: return every layer's output instead of the logits.

    Returns:
        float64 logits (exact fixed-point values; a final softmax is excluded), or with
        ``trace=True`` an ``OrderedDict`` layer name -> float64 output, in layer order.

    Raises:
        ValueError: unsupported layers/settings, or inputs off the declared grid.

    Example:
        >>> logits = emulate(model, x_test, input_format="ufixed<8,0>")
        >>> (logits.argmax(1) == model.predict(x_test).argmax(1)).mean()
        1.0
    """
    result = run(describe_model(model, input_format), x)
    if not trace:
        return result.output
    return OrderedDict((spec.name, result.value(spec.name)) for spec in result.specs)
