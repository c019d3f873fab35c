"""Quantization regularization (QR) and weighted QR (TCAD 2018 abstract; docs/methods.md).

QR adds the distance of each weight to its quantized value to the loss::

    loss += strength * sum_i  weight_i * |w_i - stop_gradient(Q(w_i))| ** p

with ``Q`` the layer's own kernel quantizer, so training pulls the latent float weights
onto the quantization levels. Follows the abstract: the distance of the weights to the
desired quantization levels added to the loss, and a weighted variant. This project's
choices (constructor arguments): ``p`` (1 or 2), the three weightings (``"step"``,
``"magnitude"`` or a callable) and ``strength`` living in a ``tf.Variable`` so that
:class:`~keras_wc.callbacks.QRSchedule` can ramp it without retracing.

Attaching to a model (:func:`attach_qr`): Keras 2.14 registers a kernel regularizer as a
callable loss when the layer *builds* its kernel (``Layer.add_weight(regularizer=...)``).
For a built layer :func:`attach_qr` does the same thing by hand — it sets
``layer.kernel_regularizer`` (so ``get_config``/``model.save`` keep it and a reloaded model
builds with it) and registers the same callable loss with ``layer.add_loss`` — and then
rebuilds the model's compiled training function so the next ``fit`` sees the new loss.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import tensorflow as tf

from .walker import WeightSlot, quantized_slots

Weighting = Union[None, str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]
WEIGHTINGS = (None, "step", "magnitude")


def quantized_layers(model: tf.keras.Model) -> List[WeightSlot]:
    """Every quantized weight of ``model`` (nested models included): :func:`keras_wc.walker.quantized_slots`.

    Args:
        model: a Keras model with QKeras layers (``QDense``, ``QConv2D``, ``QDepthwiseConv2D``, ...).

    Returns:
        One :class:`~keras_wc.walker.WeightSlot` per quantized weight, in model order; its
        ``quantizer`` is the very object the layer calls in its forward pass.

    Example:
        >>> [weight.name for weight in quantized_layers(model)]
        ['conv', 'dw', 'dense']
    """
    return quantized_slots(model)


def bits_step(quantizer: Any, quantized: tf.Tensor) -> tf.Tensor:
    """``max|Q(w)| / (2**(bits-1) - 1)``: the full-scale step of a signed ``bits``-bit grid.

    ``bits`` is read from the quantizer's ``"bits"`` control when it has one (precision
    scaling then needs no retrace), else from its ``bits`` attribute (QKeras ``quantized_bits``).

    Raises:
        ValueError: the quantizer has no ``bits``.
    """
    if not hasattr(quantizer, "bits"):
        raise ValueError(f"weighting='step': quantizer {quantizer!r} has neither 'levels' nor 'bits'; "
                         "use weighting=None, 'magnitude' or a callable")
    controls = getattr(quantizer, "controls", {})
    bits = tf.cast(controls["bits"] if "bits" in controls else quantizer.bits, tf.float32)
    step = tf.reduce_max(tf.abs(quantized)) / (tf.pow(2.0, bits - 1.0) - 1.0)
    return tf.where(step > 0, step, tf.ones_like(step))


def quantization_step(quantizer: Any, quantized: tf.Tensor) -> tf.Tensor:
    """The layer's quantization step at full scale, used by ``weighting="step"``.

    A keras_wc quantizer's method defines it (:meth:`keras_wc.methods.Method.quantization_step`:
    the signed-grid step of DFP, Po2 — its largest step —, SWC with its ``sw_bits``; the
    bucket spacing ``(max Q - min Q) / (levels - 1)`` of PolyApprox); any other quantizer with
    ``bits`` (QKeras ``quantized_bits``) uses :func:`bits_step`.

    Args:
        quantizer: the layer's weight quantizer.
        quantized: ``Q(w)`` for the layer's kernel.

    Returns:
        A positive float32 scalar (1 when the kernel quantizes to all zeros).

    Raises:
        ValueError: if the quantizer is not a keras_wc quantizer and has no ``bits``.
    """
    from .methods import is_compression_quantizer, method_of_quantizer

    if is_compression_quantizer(quantizer):
        return method_of_quantizer(quantizer).quantization_step(quantizer, quantized)
    return bits_step(quantizer, quantized)


@tf.keras.utils.register_keras_serializable(package="keras_wc")
class QuantizationRegularizer(tf.keras.regularizers.Regularizer):
    """Keras regularizer pulling a kernel onto its quantizer's levels (QR / weighted QR).

    Args:
        quantizer: the layer's kernel quantizer (keras_wc or QKeras); its output is the
            target, under ``stop_gradient``.
        strength: the factor in front of the sum, >= 0. Kept in the ``tf.Variable``
            :attr:`strength` so a schedule can change it during ``fit``.
        p: 1 (L1 distance) or 2 (squared distance).
        weighting: ``None`` (plain QR); ``"step"`` — the distance is divided by the
            layer's quantization step (:func:`quantization_step`), so layers of different
            precision pull equally; ``"magnitude"`` — each weight's term is multiplied by
            ``|w| / max|w|``; or a callable ``f(w, q) -> weights`` broadcastable to ``w``
            (register it with ``tf.keras.utils.register_keras_serializable`` to save it).

    Example:
        >>> from qkeras import QDense
        >>> from keras_wc.quantizers import DFP
        >>> q = DFP(bits=4)
        >>> layer = QDense(10, kernel_quantizer=q,
        ...                kernel_regularizer=QuantizationRegularizer(q, strength=1e-3, weighting="step"))
    """

    def __init__(self, quantizer: Any, strength: float = 1e-4, p: int = 2, weighting: Weighting = None):
        _check_arguments(strength, p, weighting)
        if not callable(quantizer):
            raise ValueError(f"quantizer={quantizer!r}: expected a callable kernel quantizer")
        self.quantizer = quantizer
        self.p = int(p)
        self.weighting = weighting
        self.strength = tf.Variable(float(strength), dtype=tf.float32, trainable=False, name="kwc_qr_strength")

    def distance(self, w: tf.Tensor) -> tf.Tensor:
        """Per-weight weighted distance ``weight * |w - sg(Q(w))|**p`` (strength not applied).

        Args:
            w: the kernel.

        Returns:
            A tensor of ``w``'s shape.
        """
        w = tf.convert_to_tensor(w, tf.float32)
        q = tf.stop_gradient(tf.cast(self.quantizer(w), tf.float32))
        gap = tf.abs(w - q)
        if self.weighting == "step":
            gap = gap / tf.stop_gradient(quantization_step(self.quantizer, q))
        term = gap if self.p == 1 else tf.square(gap)
        if self.weighting == "magnitude":
            magnitude = tf.stop_gradient(tf.abs(w))
            peak = tf.reduce_max(magnitude)
            term = term * tf.math.divide_no_nan(magnitude, peak)
        elif callable(self.weighting):
            term = term * tf.stop_gradient(tf.cast(self.weighting(w, q), tf.float32))
        return term

    def __call__(self, w: tf.Tensor) -> tf.Tensor:
        return self.strength * tf.reduce_sum(self.distance(w))

    def get_config(self) -> Dict[str, Any]:
        weighting = self.weighting
        if callable(weighting):
            weighting = tf.keras.utils.serialize_keras_object(weighting)
        return {"quantizer": tf.keras.utils.serialize_keras_object(self.quantizer),
                "strength": float(self.strength.numpy()), "p": self.p, "weighting": weighting}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "QuantizationRegularizer":
        from .quantizers.registry import custom_objects

        config = dict(config)
        objects = custom_objects()
        if isinstance(config["quantizer"], Mapping):
            config["quantizer"] = tf.keras.utils.deserialize_keras_object(config["quantizer"],
                                                                          custom_objects=objects)
        if isinstance(config.get("weighting"), Mapping):
            config["weighting"] = tf.keras.utils.deserialize_keras_object(config["weighting"],
                                                                          custom_objects=objects)
        return cls(**config)


def _check_arguments(strength: float, p: int, weighting: Weighting) -> None:
    """Validate QR's ``strength``, ``p`` and ``weighting``, naming the bad argument."""
    if p not in (1, 2):
        raise ValueError(f"p={p!r}: expected 1 or 2")
    if float(strength) < 0:
        raise ValueError(f"strength={strength!r}: must be >= 0")
    if not (callable(weighting) or weighting in WEIGHTINGS):
        raise ValueError(f"weighting={weighting!r}: expected None, 'step', 'magnitude' or a callable")


def attach_qr(model: tf.keras.Model, strength: float = 1e-4, p: int = 2, weighting: Weighting = None,
              layers: Optional[Sequence[str]] = None) -> Dict[str, QuantizationRegularizer]:
    """Attach a :class:`QuantizationRegularizer` to every quantized kernel of ``model`` (in place).

    Each layer gets a regularizer built on *its own* kernel quantizer. A layer that already
    carries one is updated (quantizer re-linked, ``strength``/``p``/``weighting`` replaced),
    so calling this twice never adds a second loss. Works before or after the model is
    built or compiled: the compiled training function is rebuilt.

    Args:
        model: a model with QKeras layers.
        strength: QR strength (>= 0); see :class:`QuantizationRegularizer`.
        p: 1 or 2.
        weighting: ``None``, ``"step"``, ``"magnitude"`` or a callable.
        layers: names of the layers to regularize; ``None`` means every quantized layer.

    Returns:
        ``{layer name: regularizer}`` for the regularized layers.

    Raises:
        ValueError: if the model has no quantized layer, a name in ``layers`` is not a
            quantized layer, or a layer already has a different ``kernel_regularizer``.

    Example:
        >>> regs = attach_qr(model, strength=1e-3, weighting="step")
        >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        >>> model.fit(x, y, epochs=5)
    """
    found = quantized_layers(model)
    if not found:
        raise ValueError(f"attach_qr: model {model.name!r} has no layer with a weight quantizer")
    if layers is not None:
        known = {weight.name for weight in found}
        missing = [name for name in layers if name not in known]
        if missing:
            raise ValueError(f"attach_qr: layers={missing} are not quantized layers of {model.name!r}; "
                             f"quantized layers: {sorted(known)}")
        found = [weight for weight in found if weight.name in layers]
    attached: Dict[str, QuantizationRegularizer] = {}
    for weight in found:
        existing = weight.regularizer
        if isinstance(existing, QuantizationRegularizer):
            _check_arguments(strength, p, weighting)
            existing.quantizer, existing.p, existing.weighting = weight.quantizer, int(p), weighting
            existing.strength.assign(float(strength))
            attached[weight.name] = existing
            continue
        if existing is not None:
            raise ValueError(f"attach_qr: layer {weight.name!r} already has {weight.slot.regularizer}={existing!r}; "
                             "remove it first")
        with model.distribute_strategy.scope():  # the strength variable lives where the model's do
            regularizer = QuantizationRegularizer(weight.quantizer, strength, p, weighting)
        weight.set_regularizer(regularizer)
        if weight.layer.built:
            weight.layer.add_loss(functools.partial(regularizer, weight.kernel))
        attached[weight.name] = regularizer
    _retrace(model)
    return attached


def regularizers_of(model: tf.keras.Model) -> Dict[str, QuantizationRegularizer]:
    """The :class:`QuantizationRegularizer` of each quantized layer that has one.

    Re-links each regularizer to its layer's own quantizer: a model loaded from disk
    deserializes the regularizer's quantizer as a separate copy, and a callback that
    changes a control (``bits``, ``prune_threshold``) must change the one QR reads.

    Args:
        model: a model with QKeras layers.

    Returns:
        ``{layer name: regularizer}`` (empty when none is attached).

    Example:
        >>> for reg in regularizers_of(model).values(): reg.strength.assign(0.0)
    """
    found: Dict[str, QuantizationRegularizer] = {}
    relinked = False
    for weight in quantized_layers(model):
        regularizer = weight.regularizer
        if isinstance(regularizer, QuantizationRegularizer):
            if regularizer.quantizer is not weight.quantizer:
                regularizer.quantizer = weight.quantizer
                relinked = True
            found[weight.name] = regularizer
    if relinked:
        _retrace(model)
    return found


def _retrace(model: tf.keras.Model) -> None:
    """Rebuild the compiled training step so it picks up changed losses (no-op if none yet)."""
    if getattr(model, "train_function", None) is not None:
        model.make_train_function(force=True)
