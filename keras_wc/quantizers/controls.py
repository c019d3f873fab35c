"""Training controls: quantizer settings that callbacks may change during ``fit``.

A control lives in a non-trainable ``tf.Variable`` created with the quantizer, so a
callback that ramps it (pruning threshold, admitted non-zeros, frozen assignments) never
forces Keras to retrace the training step. ``get_config`` reports the control's current
value, so a saved model resumes where training stopped.
"""

from __future__ import annotations

from typing import Dict

import tensorflow as tf


class ControlMixin:
    """Gives a quantizer named scalar controls backed by ``tf.Variable``.

    Example:
        >>> q = SWC(prune_threshold=0.1)
        >>> q.set_control("prune_threshold", 0.25); q.get_control("prune_threshold")
        0.25
    """

    def _add_control(self, name: str, value: float, dtype=tf.float32) -> tf.Variable:
        if not hasattr(self, "_controls"):
            self._controls: Dict[str, tf.Variable] = {}
        variable = tf.Variable(value, dtype=dtype, trainable=False, name=f"kwc_{name}")
        self._controls[name] = variable
        return variable

    @property
    def controls(self) -> Dict[str, tf.Variable]:
        """The control variables by name (empty for methods without one)."""
        return dict(getattr(self, "_controls", {}))

    def get_control(self, name: str):
        """Current value of control ``name`` as a Python number (also while tracing)."""
        with tf.init_scope():
            value = self._control(name).numpy().item()
        # float32 controls report the decimal the user typed (0.4, not 0.4000000059604645)
        return float(f"{value:.7g}") if isinstance(value, float) else value

    def set_control(self, name: str, value) -> None:
        """Assign ``value`` to control ``name`` (takes effect at the next step, no retrace)."""
        self._control(name).assign(value)

    def _control(self, name: str) -> tf.Variable:
        controls = getattr(self, "_controls", {})
        if name not in controls:
            raise KeyError(f"{self.__class__.__name__} has no control {name!r}; it has {sorted(controls)}")
        return controls[name]
