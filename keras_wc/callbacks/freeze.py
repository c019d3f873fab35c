"""Freeze PolyApprox bucket assignments / SWC MAW selection for the last epochs (docs/methods.md).

From epoch ``epochs - last_epochs`` on, every :class:`Freezable` quantizer keeps the
assignment its kernel has at that moment: PolyApprox its bucket assignment (the
coefficients are still refitted), SWC each group's MAW ``M_g`` (only the scaling weights
still move). The last epochs fine-tune the values without the assignment flipping. The
assignment stays frozen after ``fit`` (the trained state) and is saved in the quantizer's
config; resuming ``fit`` with this callback keeps an already frozen quantizer as it is.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Protocol, Sequence, runtime_checkable

from ..walker import WeightSlot
from .base import CompressionCallback


@runtime_checkable
class Freezable(Protocol):
    """What :class:`FreezeAssignments` needs of a quantizer (PolyApprox, SWC).

    The quantizer also has a ``"frozen"`` training control (a ``tf.bool`` variable the
    forward pass reads with ``tf.cond``), so freezing never retraces the training step.
    """

    @property
    def frozen(self) -> bool:
        """Whether the assignment is frozen."""

    def freeze(self, kernel: Any) -> None:
        """Store the assignment ``kernel`` has now and use it from the next step on."""

    def unfreeze(self) -> None:
        """Recompute the assignment at every step again."""


FREEZABLE_METHODS = "PolyApprox buckets, SWC MAWs"


class FreezeAssignments(CompressionCallback):
    """Freeze PolyApprox bucket assignments / SWC per-group MAWs for the final ``last_epochs`` epochs.

    Args:
        last_epochs: how many final epochs of the ``fit`` run frozen, >= 1.
        layers: names of the layers to freeze; ``None``: every layer whose quantizer is
            :class:`Freezable`.

    Raises (at ``on_train_begin``):
        ValueError: no compressed layer; ``last_epochs < 1``; no layer (or a named layer
            without) a ``freeze`` method / ``frozen`` control.

    Example:
        >>> from qkeras import QDense
        >>> from keras_wc.quantizers import PolyApprox
        >>> model = tf.keras.Sequential([tf.keras.Input((64,)),
        ...                              QDense(10, kernel_quantizer=PolyApprox(degree=1, levels=16))])
        >>> model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        >>> model.fit(x, y, epochs=10, callbacks=[FreezeAssignments(last_epochs=2)])
        >>> model.layers[0].kernel_quantizer_internal.frozen   # SWC layers: the same
        True
    """

    def __init__(self, last_epochs: int = 1, layers: Optional[Sequence[str]] = None):
        super().__init__(layers)
        self.last_epochs = int(last_epochs)

    def _setup(self, found: List[WeightSlot]) -> List[WeightSlot]:
        if self.last_epochs < 1:
            raise self.error(f"last_epochs={self.last_epochs}: must be >= 1")
        if self.layer_names is not None:
            for weight in found:
                self.require_control(weight, "frozen")
        freezable = [weight for weight in found
                     if isinstance(weight.quantizer, Freezable)
                     and "frozen" in getattr(weight.quantizer, "controls", {})]
        if not freezable:
            raise self.error(f"no layer among {[weight.name for weight in found]} has a freezable quantizer "
                             f"({FREEZABLE_METHODS})")
        return freezable

    def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if epoch < self.params["epochs"] - self.last_epochs:
            return
        for weight in self.layers:
            if not weight.quantizer.frozen:
                weight.quantizer.freeze(weight.kernel)

    def _config(self) -> Dict[str, Any]:
        return {"last_epochs": self.last_epochs}
