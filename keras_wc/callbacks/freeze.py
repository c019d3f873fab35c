"""Freeze PolyApprox bucket assignments for the last epochs (METHODS.md section 2).

From epoch ``epochs - last_epochs`` on, every quantizer with a ``freeze(kernel)`` method
(PolyApprox) keeps the bucket assignment the kernel has at that moment, while the
coefficients are still refitted: the last epochs fine-tune the values without the
assignment flipping. The assignment stays frozen after ``fit`` (the trained state). A
reloaded quantizer starts unfrozen; resuming ``fit`` with this callback freezes it again at
the first epoch inside the window.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from .base import CompressionCallback, LayerAndQuantizer


class FreezeAssignments(CompressionCallback):
    """Freeze the bucket assignment of PolyApprox layers for the final ``last_epochs`` epochs.

    Args:
        last_epochs: how many final epochs of the ``fit`` run frozen, >= 1.
        layers: names of the layers to freeze; ``None``: every layer whose quantizer has
            ``freeze``.

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
    """

    def __init__(self, last_epochs: int = 1, layers: Optional[Sequence[str]] = None):
        super().__init__(layers)
        self.last_epochs = int(last_epochs)

    def _setup(self, found: List[LayerAndQuantizer]) -> List[LayerAndQuantizer]:
        if self.last_epochs < 1:
            raise self.error(f"last_epochs={self.last_epochs}: must be >= 1")
        if self.layer_names is not None:
            for layer, quantizer in found:
                self.require_control(layer, quantizer, "frozen")
        freezable = [(layer, q) for layer, q in found if "frozen" in getattr(q, "controls", {})]
        if not freezable:
            raise self.error(f"no layer among {[layer.name for layer, _ in found]} has a freezable quantizer "
                             "(PolyApprox)")
        return freezable

    def on_epoch_begin(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if epoch < self.params["epochs"] - self.last_epochs:
            return
        for layer, quantizer in self.layers:
            if not quantizer.frozen:
                quantizer.freeze(layer.kernel)

    def _config(self) -> Dict[str, Any]:
        return {"last_epochs": self.last_epochs}
