"""What every keras_wc callback shares: finding compressed layers, validation, the step.

A subclass implements :meth:`CompressionCallback._setup` (select and validate its layers,
raising ``ValueError`` that names the layer or argument) and its Keras hooks. The base:

* finds the compressed layers at ``on_train_begin`` (QKeras layers with a kernel
  quantizer, nested models included) and fails clearly when there are none;
* re-links QR regularizers to their layers' quantizers (see
  :func:`keras_wc.regularizers.regularizers_of`);
* exposes the training step as :attr:`step`: the optimizer's ``iterations``
  ``tf.Variable``, which is saved with the model, so a loaded model resumes every
  schedule where it stopped, and which is mirrored under ``tf.distribute`` strategies;
* serializes the constructor arguments (:meth:`get_config` / :meth:`from_config`).

Callbacks only *assign* ``tf.Variable`` controls (``q.set_control``); the compiled training
step reads them, so no schedule change retraces the model.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

import tensorflow as tf

from ..regularizers import regularizers_of
from ..walker import WeightSlot, quantized_slots


class CompressionCallback(tf.keras.callbacks.Callback):
    """Base class of the keras_wc callbacks (see the module docstring).

    Args:
        layers: names of the layers this callback acts on; ``None`` means every compressed
            layer the callback supports.

    Example:
        >>> class Show(CompressionCallback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print([weight.name for weight in self.layers])
    """

    def __init__(self, layers: Optional[Sequence[str]] = None):
        super().__init__()
        self.layer_names = None if layers is None else list(layers)
        self.layers: List[WeightSlot] = []

    # -- to be provided by subclasses ----------------------------------------------------
    def _setup(self, found: List[WeightSlot]) -> List[WeightSlot]:
        """Validate arguments and pick the layers to act on (default: all of ``found``)."""
        return found

    def _config(self) -> Dict[str, Any]:
        """Constructor arguments other than ``layers`` (JSON types)."""
        return {}

    # -- shared ----------------------------------------------------------------------------
    def on_train_begin(self, logs: Optional[Dict[str, Any]] = None) -> None:
        found = quantized_slots(self.model)
        if not found:
            raise ValueError(f"{type(self).__name__}: model {self.model.name!r} has no compressed layer "
                             "(a QKeras layer with a kernel_quantizer)")
        if self.layer_names is not None:
            known = {weight.name for weight in found}
            missing = [name for name in self.layer_names if name not in known]
            if missing:
                raise ValueError(f"{type(self).__name__}: layers={missing} are not compressed layers of "
                                 f"{self.model.name!r}; compressed layers: {sorted(known)}")
            found = [weight for weight in found if weight.name in self.layer_names]
        regularizers_of(self.model)
        self.layers = self._setup(found)

    @property
    def step(self) -> int:
        """Training steps done so far (the optimizer's ``iterations`` variable)."""
        return int(self.model.optimizer.iterations.numpy())

    def error(self, message: str) -> ValueError:
        """A ``ValueError`` whose message starts with this callback's class name."""
        return ValueError(f"{type(self).__name__}: {message}")

    def require_control(self, weight: WeightSlot, control: str) -> None:
        """Raise a clear error when the weight's quantizer has no training control ``control``."""
        controls = getattr(weight.quantizer, "controls", {})
        if control not in controls:
            raise self.error(f"layer {weight.name!r}: quantizer {weight.quantizer} has no control {control!r} "
                             f"(its controls: {sorted(controls)})")

    def get_config(self) -> Dict[str, Any]:
        """Constructor arguments, so ``type(cb).from_config(cb.get_config())`` rebuilds it."""
        return {**self._config(), "layers": self.layer_names}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "CompressionCallback":
        return cls(**config)


def check_steps(owner: str, begin_step: int, end_step: int, argument: str = "end_step") -> None:
    """Validate a ``[begin_step, end_step]`` window (``end_step=-1``: open ended).

    Args:
        owner: what to name in the message (callback or schedule).
        begin_step: first step, >= 0.
        end_step: last step, >= ``begin_step`` or -1.
        argument: the name of the end argument in the message.

    Raises:
        ValueError: naming ``owner`` and the argument.

    Example:
        >>> check_steps("QRSchedule", 100, 50)
        Traceback (most recent call last):
        ValueError: QRSchedule: end_step=50 precedes begin_step=100
    """
    if begin_step < 0:
        raise ValueError(f"{owner}: begin_step={begin_step} must be >= 0")
    if end_step != -1 and end_step < begin_step:
        raise ValueError(f"{owner}: {argument}={end_step} precedes begin_step={begin_step}")
