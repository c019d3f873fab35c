"""``compare``: where and by how much the integer datapath differs from Keras fake-quant.

Two views per layer, both in units of that layer's output LSB (``2**-frac``):

* **end to end** — Keras' own intermediate output vs the emulator's, each computed from the
  model input (differences propagate downstream);
* **local** — the Keras layer applied to the *emulator's* inputs (as float32) vs the
  emulator's output: each layer's own error, which must stay within ``tolerance``:

  - 0 (plus Keras' float32 rounding, ``4 * 2**-24 * peak``, where the grid is finer than
    float32's 24 bits) for exact stages (reshape, relu, max pooling, power-of-two average pooling, merges,
    identity, quantizing the float input);
  - 1 LSB where a rounding meets Keras' float32 value of the same number (QActivation on
    integers, average pooling over a non power-of-two area);
  - compressed layers: Keras sums in float32 (and SWC fixed weights are float32-rounded),
    so ``(fan_in + 3) * 2**-24 * peak + 0.5`` LSB (``peak`` in LSB, the SWC ``/D`` rounding);
  - BatchNormalization (standalone): the multiplier's rounding, ``peak_in / 2 + 0.5 + 4 * 2**-24 * T``
    with ``T = max(peak, peak_in * max|multiplier| + max|offset|)``, plus ``4 * 2**-24 * max(|mean * inv|
    + |beta|)`` for the offset Keras computes from them: Keras rounds these terms in float32, and
    they can be far larger than the result they cancel to;
  - a compressed layer with a BatchNormalization folded in: the compressed layer's tolerance
    scaled by the largest multiplier, plus the BatchNormalization's.

A compressed layer with a folded BatchNormalization is compared with the BatchNormalization's
Keras output (``spec.keras_output``), locally by applying both Keras layers in turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import tensorflow as tf

from ..datapath import describe_model
from ..datapath.specs import AffineSpec, CompressedSpec, IdentitySpec, LayerSpec, PoolSpec, QuantizeSpec, Scaling
from ..keras2 import check_keras2_model
from .inputs import check_input_format
from .run import InputFormat, run

_EPS32 = 2.0 ** -24


@dataclass(frozen=True)
class LayerDiff:
    """One layer's differences (``None`` where the layer is not compared: the excluded softmax).

    Attributes:
        name: layer name.
        kind: spec kind.
        lsb: the output LSB ``2**-frac``.
        end_to_end: max |Keras - emulator| / lsb, both from the model input.
        local: max |Keras layer on emulator inputs - emulator| / lsb.
        tolerance: the allowed local difference (module docstring).
    """

    name: str
    kind: str
    lsb: float
    end_to_end: Optional[float]
    local: Optional[float]
    tolerance: Optional[float]

    @property
    def ok(self) -> bool:
        return self.local is None or self.local <= self.tolerance


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`.

    Attributes:
        layers: one :class:`LayerDiff` per layer, in order.
        argmax_agreement: fraction of samples where the emulator's and Keras' argmax agree.
        samples: batch size.
    """

    layers: List[LayerDiff]
    argmax_agreement: float
    samples: int

    @property
    def ok(self) -> bool:
        """Every layer within its local tolerance."""
        return all(layer.ok for layer in self.layers)

    def __getitem__(self, name: str) -> LayerDiff:
        return next(layer for layer in self.layers if layer.name == name)

    def __str__(self) -> str:
        def cell(value):
            return "-" if value is None else f"{value:.3g}"
        lines = [f"{'layer':<20} {'kind':<10} {'lsb':>10} {'end-to-end':>11} {'local':>8} {'allowed':>8}"]
        for d in self.layers:
            flag = "" if d.ok else "  <-- exceeds"
            lines.append(f"{d.name:<20} {d.kind:<10} {d.lsb:>10.3g} {cell(d.end_to_end):>11} "
                         f"{cell(d.local):>8} {cell(d.tolerance):>8}{flag}")
        lines.append(f"argmax agreement: {self.argmax_agreement:.4%} of {self.samples} samples "
                     "(differences in output LSBs)")
        return "\n".join(lines)


def _scaling_tolerance(scaling: Scaling, peak: int) -> float:
    """A BatchNormalization's own error: the multiplier's and the offset's rounding, and Keras' float32
    rounding of its terms ``x * scale`` and ``offset``, which may be far larger than the result they
    cancel to (``peak``)."""
    terms = (scaling.input_peak * max(abs(int(m)) for m in np.ravel(scaling.multiplier))
             + max(abs(int(o)) for o in np.ravel(scaling.offset)))
    return scaling.input_peak / 2 + 0.5 + 4 * _EPS32 * max(peak, terms)


def _tolerance(spec: LayerSpec) -> float:
    # Keras holds every tensor in float32: on a grid finer than 24 significant bits its own value
    # of an exact result is off by up to 2**-24 of the magnitude (per float32 operation)
    float32 = 4 * _EPS32 * spec.peak
    if isinstance(spec, CompressedSpec):
        if spec.scaling is None:
            return (spec.encoding.layout.fan_in + 3) * _EPS32 * spec.peak + 0.5
        own = (spec.encoding.layout.fan_in + 3) * _EPS32 * spec.scaling.input_peak + 0.5
        largest = max(abs(int(m)) for m in spec.scaling.multiplier)
        return own * largest + _scaling_tolerance(spec.scaling, spec.peak)
    if isinstance(spec, AffineSpec):
        return _scaling_tolerance(spec.scaling, spec.peak)
    if isinstance(spec, QuantizeSpec):
        return 0.0 if spec.input_frac is None else 1.0
    if isinstance(spec, PoolSpec):
        area = spec.geometry.kernel_size[0] * spec.geometry.kernel_size[1]
        return (1.0 if spec.divide else 0.0) + (area + 3) * _EPS32 * spec.peak
    return float32


def _keras_offset_rounding(model: tf.keras.Model, spec: LayerSpec, lsb: float) -> float:
    """Keras' float32 rounding of a BatchNormalization's offset ``beta - mean * inv``, in output LSBs.

    Keras computes the offset from ``beta`` and ``mean * inv`` (``inv = gamma / sqrt(var + eps)``),
    which may be far larger than the offset they cancel to; 0 without a BatchNormalization.
    """
    scaling = spec.scaling if isinstance(spec, (AffineSpec, CompressedSpec)) else None
    if scaling is None:
        return 0.0
    layer = model.get_layer(scaling.layer)
    mean, var = np.asarray(layer.moving_mean, np.float64), np.asarray(layer.moving_variance, np.float64)
    gamma = np.asarray(layer.gamma, np.float64) if layer.gamma is not None else 1.0
    beta = np.abs(np.asarray(layer.beta, np.float64)) if layer.beta is not None else 0.0
    terms = np.abs(mean * gamma / np.sqrt(var + layer.epsilon)) + beta
    return 4 * _EPS32 * float(np.max(terms)) / lsb


def _keras_layers(model: tf.keras.Model, spec: LayerSpec) -> List[tf.keras.layers.Layer]:
    """The Keras layers ``spec`` computes, in order (a compressed layer and its folded BatchNormalization)."""
    names = [spec.name] if spec.keras_output == spec.name else [spec.name, spec.keras_output]
    return [model.get_layer(name) for name in names]


def compare(model: tf.keras.Model, x: np.ndarray, input_format: InputFormat = None,
            quantize_inputs: bool = False) -> Comparison:
    """Per-layer differences between Keras fake-quant and the emulator, and argmax agreement.

    Args:
        model: the Keras 2 model.
        x: float inputs.
        input_format: as for :func:`~keras_wc.emulate.emulate`.
        quantize_inputs: as for :func:`~keras_wc.emulate.emulate`; Keras then sees the same
            quantized inputs as the emulator.

    Returns:
        A :class:`Comparison`; ``print`` it for a table.

    Raises:
        TypeError: not a Keras 2 model, or an ``input_format`` of the wrong type.
        ValueError: as :func:`~keras_wc.emulate.emulate` (unsupported layers, inputs refused by
            the input rule).

    Example:
        >>> result = compare(model, x_test, input_format="ufixed<8,1>")
        >>> result.ok, result.argmax_agreement
        (True, 1.0)
    """
    check_keras2_model(model)
    check_input_format(input_format)
    specs = describe_model(model, input_format)
    emulation = run(specs, x, quantize_inputs)
    layers = [spec for spec in specs[1:]]
    probe = tf.keras.Model(model.inputs, [model.get_layer(spec.keras_output).output for spec in layers])
    keras_inputs = emulation.value(specs[0].name).astype(np.float32)  # x itself unless quantize_inputs rounded it
    keras_outputs = probe.predict(keras_inputs, verbose=0, batch_size=256)
    keras_outputs = keras_outputs if isinstance(keras_outputs, list) else [keras_outputs]
    diffs, logits_keras = [], None
    for spec, keras_out in zip(layers, keras_outputs):
        lsb = 2.0 ** -spec.output_format.frac
        if isinstance(spec, IdentitySpec) and spec.note.startswith("softmax"):
            diffs.append(LayerDiff(spec.name, spec.kind, lsb, None, None, None))
            continue
        mine = emulation.value(spec.name)
        inputs = [tf.constant(emulation.value(name), tf.float32) for name in spec.inputs]
        local_out = inputs if len(inputs) > 1 else inputs[0]
        for layer in _keras_layers(model, spec):
            local_out = layer(local_out, training=False)
        end_to_end = float(np.max(np.abs(np.asarray(keras_out, np.float64) - mine), initial=0.0)) / lsb
        local = float(np.max(np.abs(np.asarray(local_out, np.float64) - mine), initial=0.0)) / lsb
        allowed = _tolerance(spec) + _keras_offset_rounding(model, spec, lsb)
        diffs.append(LayerDiff(spec.name, spec.kind, lsb, end_to_end, local, allowed))
        logits_keras = keras_out
    agreement = float(np.mean(np.argmax(logits_keras, -1) == np.argmax(emulation.output, -1)))
    return Comparison(diffs, agreement, len(keras_inputs))
