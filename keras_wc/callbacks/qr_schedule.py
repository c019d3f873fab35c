"""Ramp the strength of quantization regularization over training (docs/methods.md).

The strength is 0 before ``begin_step`` (warm-up: the weights first learn the task), rises
as ``strength * ((step - begin_step) / (end_step - begin_step)) ** power`` and stays at
``strength`` from ``end_step`` on. It is assigned to the ``strength`` ``tf.Variable`` of
every :class:`~keras_wc.regularizers.QuantizationRegularizer` in the model, so the
training step is never retraced.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ..regularizers import QuantizationRegularizer, regularizers_of
from ..walker import WeightSlot
from .base import CompressionCallback, check_steps


class QRSchedule(CompressionCallback):
    """Warm-up then ramp the QR strength of every regularized layer.

    Args:
        strength: final strength, >= 0.
        begin_step: last step with strength 0 (the ramp starts here).
        end_step: step where ``strength`` is reached, >= ``begin_step``.
        power: shape of the ramp (1 = linear), > 0.
        layers: layer names to drive; ``None``: every layer with a QR regularizer.

    Raises (at ``on_train_begin``):
        ValueError: no compressed layer; no QR regularizer attached (call
            :func:`~keras_wc.regularizers.attach_qr` first); ``end_step`` precedes
            ``begin_step``; ``strength < 0``; ``power <= 0``.

    Example:
        >>> from keras_wc.regularizers import attach_qr
        >>> attach_qr(model, strength=0.0, weighting="step")
        >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        >>> model.fit(x, y, epochs=10, callbacks=[QRSchedule(1e-3, begin_step=100, end_step=300)])
    """

    def __init__(self, strength: float, begin_step: int = 0, end_step: int = 0, power: float = 1.0,
                 layers: Optional[Sequence[str]] = None):
        super().__init__(layers)
        self.strength, self.begin_step, self.end_step, self.power = float(strength), int(begin_step), \
            int(end_step), float(power)
        self.regularizers: List[QuantizationRegularizer] = []
        self._current: Optional[float] = None

    def _setup(self, found: List[WeightSlot]) -> List[WeightSlot]:
        check_steps(type(self).__name__, self.begin_step, self.end_step)
        if self.end_step == -1:
            raise self.error("end_step=-1: the ramp needs an end step")
        if self.strength < 0:
            raise self.error(f"strength={self.strength}: must be >= 0")
        if self.power <= 0:
            raise self.error(f"power={self.power}: must be > 0")
        names = {weight.name for weight in found}
        attached = {name: reg for name, reg in regularizers_of(self.model).items() if name in names}
        if not attached:
            raise self.error(f"no layer among {sorted(names)} has a QuantizationRegularizer; "
                             "call keras_wc.regularizers.attach_qr(model) before fit")
        self.regularizers = list(attached.values())
        self._current = None
        self._assign(self.value(self.step))
        return [weight for weight in found if weight.name in attached]

    def value(self, step: int) -> float:
        """The strength at ``step``.

        Args:
            step: a training step (optimizer iterations).

        Returns:
            0 before ``begin_step``, the ramp value inside, ``strength`` after.
        """
        if step < self.begin_step:
            return 0.0
        if step >= self.end_step:
            return self.strength
        return self.strength * ((step - self.begin_step) / (self.end_step - self.begin_step)) ** self.power

    def _assign(self, value: float) -> None:
        if value != self._current:
            for regularizer in self.regularizers:
                regularizer.strength.assign(value)
            self._current = value

    def on_train_batch_begin(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        self._assign(self.value(self.step))

    def _config(self) -> Dict[str, Any]:
        return {"strength": self.strength, "begin_step": self.begin_step, "end_step": self.end_step,
                "power": self.power}
