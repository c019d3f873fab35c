"""Training controls: quantizer settings that callbacks may change during ``fit``.

A control lives in a non-trainable ``tf.Variable`` created with the quantizer, so a
callback that ramps it (pruning threshold, admitted non-zeros, frozen assignments) never
forces Keras to retrace the training step. ``get_config`` reports the control's current
value, so a saved model resumes where training stopped.

Each control is declared with its check (the constructor's validation of the same argument);
:meth:`ControlMixin.set_control`, which every setter and callback goes through, runs it on
every change, so a control never leaves the range the constructor accepts.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

import numpy as np
import tensorflow as tf

#: a control's check: the value, validated (and normalized), or ValueError naming the control
Check = Callable[[Any], Any]


def require_bool(name: str, value: Any) -> bool:
    """Validate a boolean argument or control, naming it on error.

    Example:
        >>> require_bool("frozen", 1)
        Traceback (most recent call last):
        ValueError: frozen=1: expected a bool
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r}: expected a bool")
    return bool(value)


class ControlMixin:
    """Gives a quantizer named scalar controls backed by ``tf.Variable``.

    Example:
        >>> q = SWC(prune_threshold=0.1)
        >>> q.set_control("prune_threshold", 0.25); q.get_control("prune_threshold")
        0.25
    """

    def _add_control(self, name: str, value: Any, check: Check, dtype=tf.float32) -> tf.Variable:
        """Declare control ``name`` with its ``check``; ``value`` is checked like every later change.

        Args:
            name: the control's name.
            value: its initial value.
            check: ``value -> validated value``; raises ValueError naming the control and its range.
            dtype: the variable's dtype.

        Returns:
            The ``tf.Variable``.
        """
        if not hasattr(self, "_controls"):
            self._controls: Dict[str, tf.Variable] = {}
            self._checks: Dict[str, Check] = {}
        variable = tf.Variable(check(value), dtype=dtype, trainable=False, name=f"kwc_{name}")
        self._controls[name] = variable
        self._checks[name] = check
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
        """Assign ``value`` to control ``name`` (takes effect at the next step, no retrace).

        Raises:
            KeyError: no control ``name``.
            ValueError: ``value`` outside the control's range (the constructor's), named.
        """
        variable = self._control(name)
        variable.assign(self._checks[name](value))

    def _control(self, name: str) -> tf.Variable:
        controls = getattr(self, "_controls", {})
        if name not in controls:
            raise KeyError(f"{self.__class__.__name__} has no control {name!r}; it has {sorted(controls)}")
        return controls[name]
