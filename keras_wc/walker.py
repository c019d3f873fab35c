"""The one model walker: which weights of which layer classes are quantized, and by what.

Like TF-MOT's prune registry, :data:`SLOTS` is the single table that knows each layer class's
weight slots — the weight attribute, its QKeras quantizer attribute and its regularizer
attribute (``kernel`` / ``depthwise_kernel`` / ``pointwise_kernel``). The report, the datapath
(and so the emulator and HLS), the QR regularizers and every callback walk models through
:func:`weight_slots`, so a layer kind one of them handles is handled by all.

A Keras layer class not in :data:`SLOTS` that has a ``kernel`` (Dense, Conv*, ...) or a
``depthwise_kernel`` is walked with that slot and no quantizer (a float32 kernel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import tensorflow as tf


@dataclass(frozen=True)
class Slot:
    """One quantizable weight of a layer class.

    Attributes:
        weight: the weight attribute (``"kernel"``).
        quantizer: the attribute holding the quantizer object the layer calls
            (``"kernel_quantizer_internal"``).
        regularizer: the attribute of the weight's regularizer (``"kernel_regularizer"``).
        kernel_layout: the :class:`~keras_wc.quantizers.FanInLayout` kernel layout of the weight.
    """

    weight: str
    quantizer: str
    regularizer: str
    kernel_layout: str = "auto"


KERNEL = Slot("kernel", "kernel_quantizer_internal", "kernel_regularizer")
DEPTHWISE = Slot("depthwise_kernel", "depthwise_quantizer_internal", "depthwise_regularizer", "depthwise")
POINTWISE = Slot("pointwise_kernel", "pointwise_quantizer_internal", "pointwise_regularizer")

#: layer class name -> its quantizable weight slots
SLOTS: Dict[str, Tuple[Slot, ...]] = {
    "QDense": (KERNEL,), "QConv1D": (KERNEL,), "QConv2D": (KERNEL,), "QConv2DTranspose": (KERNEL,),
    "QDepthwiseConv2D": (DEPTHWISE,), "QSeparableConv1D": (DEPTHWISE, POINTWISE),
    "QSeparableConv2D": (DEPTHWISE, POINTWISE),
}
#: slots tried, in order, for a layer class not in :data:`SLOTS`
FALLBACK = (KERNEL, DEPTHWISE)


@dataclass(frozen=True)
class WeightSlot:
    """One weight of one layer of a model, with its quantizer.

    Attributes:
        layer: the Keras layer.
        slot: which of its weights.
        name: the layer name, prefixed by nested models (``outer/inner``), suffixed by
            ``/depthwise_kernel`` when the layer has several slots.

    Example:
        >>> [(w.name, w.slot.weight) for w in weight_slots(model)]
        [('conv', 'kernel'), ('dw', 'depthwise_kernel')]
    """

    layer: tf.keras.layers.Layer
    slot: Slot
    name: str

    @property
    def kernel(self) -> tf.Variable:
        """The latent float weight variable."""
        return getattr(self.layer, self.slot.weight)

    @property
    def quantizer(self) -> Any:
        """The quantizer object the layer calls in its forward pass (``None``: float32)."""
        return getattr(self.layer, self.slot.quantizer, None)

    @property
    def regularizer(self) -> Any:
        """The weight's regularizer (``None`` without one)."""
        return getattr(self.layer, self.slot.regularizer, None)

    def set_regularizer(self, regularizer: Any) -> None:
        """Set the weight's regularizer attribute (saved by ``get_config``)."""
        setattr(self.layer, self.slot.regularizer, regularizer)


def slots_of(layer: tf.keras.layers.Layer) -> Tuple[Slot, ...]:
    """The weight slots of ``layer`` that it actually has (built layers).

    Example:
        >>> slots_of(QDepthwiseConv2D(3))[0].weight
        'depthwise_kernel'
    """
    declared = SLOTS.get(type(layer).__name__)
    if declared is not None:
        return declared
    return tuple(slot for slot in FALLBACK if getattr(layer, slot.weight, None) is not None)[:1]


def weight_slots(model: tf.keras.Model, prefix: str = "") -> List[WeightSlot]:
    """Every weight slot of ``model`` in layer order (nested models walked).

    Args:
        model: a Keras model.
        prefix: prepended to the layer names (used for nested models).

    Returns:
        One :class:`WeightSlot` per quantizable weight.

    Example:
        >>> [w.name for w in weight_slots(model)]
        ['conv1', 'fc']
    """
    found: List[WeightSlot] = []
    for layer in model.layers:
        name = prefix + layer.name
        if isinstance(layer, tf.keras.Model):
            found.extend(weight_slots(layer, name + "/"))
            continue
        slots = [slot for slot in slots_of(layer) if getattr(layer, slot.weight, None) is not None]
        for slot in slots:
            found.append(WeightSlot(layer, slot, name if len(slots_of(layer)) == 1 else f"{name}/{slot.weight}"))
    return found


def quantized_slots(model: tf.keras.Model) -> List[WeightSlot]:
    """The weight slots of ``model`` that have a quantizer.

    Example:
        >>> [w.name for w in quantized_slots(model)]
        ['conv1', 'dw']
    """
    return [slot for slot in weight_slots(model) if slot.quantizer is not None]


def slot_of(layer: tf.keras.layers.Layer, weight: Optional[str] = None) -> WeightSlot:
    """The (only, or the named) weight slot of one layer.

    Raises:
        ValueError: the layer has no such slot.

    Example:
        >>> slot_of(model.get_layer("dw")).slot.kernel_layout
        'depthwise'
    """
    slots = [s for s in slots_of(layer) if weight is None or s.weight == weight]
    if not slots:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) has no quantizable weight"
                         + (f" {weight!r}" if weight else ""))
    return WeightSlot(layer, slots[0], layer.name)
