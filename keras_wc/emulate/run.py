"""``emulate``: run a model's integer datapath on a batch with numpy integers only."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Union

import numpy as np
import tensorflow as tf

from ..datapath import describe_model
from ..datapath.specs import LayerSpec
from ..keras2 import check_keras2_model
from ..quantizers.fixedpoint import FixedPoint
from .inputs import check_input_format, input_values
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


def run(specs: List[LayerSpec], x: np.ndarray, quantize_inputs: bool = False) -> Emulation:
    """Execute ``specs`` on the batch ``x`` (float input values).

    Args:
        specs: from :func:`keras_wc.datapath.describe_model`.
        x: ``(batch, *input_shape)``.
        quantize_inputs: round and saturate inputs off the declared grid instead of refusing
            them (:mod:`keras_wc.emulate.inputs`).

    Returns:
        An :class:`Emulation` with every layer's integers.

    Raises:
        ValueError: inputs refused by the input rule (:func:`~keras_wc.emulate.inputs.input_values`).

    Example:
        >>> run(describe_model(model, "ufixed<8,0>"), x_test[:10], quantize_inputs=True).output.shape
        (10, 10)
    """
    first = specs[0]
    integers: "OrderedDict[str, np.ndarray]" = OrderedDict()
    integers[first.name] = input_values(specs, x, quantize_inputs)
    peaks: Dict[str, Peaks] = {}
    for spec in specs[1:]:
        integers[spec.name], peaks[spec.name] = EXECUTORS[spec.kind](spec, [integers[n] for n in spec.inputs])
    return Emulation(specs, integers, peaks)


def emulate(model: tf.keras.Model, x: np.ndarray, input_format: InputFormat = None, trace: bool = False,
            quantize_inputs: bool = False):
    """The model's outputs computed by the integer datapath (numpy integers only).

    Args:
        model: a Keras 2 / QKeras model (see docs/emulator.md for the supported layers).
        x: float inputs ``(batch, *input_shape)``.
        input_format: the declared input grid (e.g. ``"ufixed<8,0>"``) unless the first layer
            is a QActivation.
        trace: return every layer's output instead of the logits.
        quantize_inputs: round and saturate inputs off the declared grid instead of refusing
            them (the rule of :mod:`keras_wc.emulate.inputs`, shared with ``convert``).

    Returns:
        float64 logits (exact fixed-point values; a final softmax is excluded), or with
        ``trace=True`` an ``OrderedDict`` layer name -> float64 output, in layer order.

    Raises:
        TypeError: not a Keras 2 model, or an ``input_format`` of the wrong type.
        ValueError: unsupported layers/settings, a malformed ``input_format``, or inputs
            refused by the input rule (off the declared grid or range, NaN, wrong shape).

    Example:
        >>> logits = emulate(model, x_test, input_format="ufixed<8,0>")
        >>> (logits.argmax(1) == model.predict(x_test).argmax(1)).mean()
        1.0
    """
    check_keras2_model(model)
    check_input_format(input_format)
    result = run(describe_model(model, input_format), x, quantize_inputs)
    if not trace:
        return result.output
    return OrderedDict((spec.name, result.value(spec.name)) for spec in result.specs)
