"""Gradual pruning driven by a TF-MOT ``PruningSchedule`` (docs/methods.md).

The schedule (``tfmot.sparsity.keras.PolynomialDecay``, ``ConstantSparsity`` or any object
with the same interface: ``schedule(step) -> (should_prune, sparsity)`` plus ``begin_step``
and ``end_step``) gives the *timing and shape* of the ramp; ``target`` gives where each
layer ends. At a step where the schedule says ``should_prune``, the ramp's progress is
``sparsity(step) / final_sparsity`` (in ``[0, 1]``) and each layer's pruning setting moves
from dense to its target by that fraction:

* SWC (control ``prune_threshold``): ``threshold = target * progress``; ``target`` is the
  final threshold on ``|s|`` (required: the quantizer's own value is not kept after a
  ramp).
* SparseTernary (control ``active_k``): ``active_k = round(n - (n - target) * progress)``,
  from ``n`` (dense) to ``target`` non-zeros per group (default: the quantizer's ``k``; at
  most ``k`` so the model can be encoded). A ``target`` in ``(0, 1)`` is the admitted
  fraction of non-zeros instead: ``round(target * n)`` per group.
* QKeras quantizers, DFP and Po2 (no pruning control): magnitude pruning with a mask kept in
  a ``tf.Variable`` — the ``target * progress`` smallest-magnitude fraction of the latent
  kernel is zeroed, after every training step too, so pruned weights stay zero (their
  quantizers map 0 to 0). ``target`` is the final fraction of zeros (default: the
  schedule's final sparsity).

``target`` is a number for every layer, or ``{layer name: number}``. The project's choice
(not in the abstracts): the step is the optimizer's ``iterations``; PolyApprox has no
pruning and is rejected.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import tensorflow as tf
from tensorflow_model_optimization.python.core.sparsity.keras import pruning_schedule as tfmot_schedules

from ..methods import is_compression_quantizer, method_of_quantizer
from ..walker import WeightSlot
from .base import CompressionCallback, check_steps

Target = Union[None, float, Mapping[str, float]]
#: keras_wc methods that zero weights exactly when the latent weight is zero
#: TF-MOT schedules known by name to :func:`schedule_from_config`
SCHEDULES = {"ConstantSparsity": tfmot_schedules.ConstantSparsity,
             "PolynomialDecay": tfmot_schedules.PolynomialDecay}


def schedule_from_config(config: Mapping[str, Any]) -> tfmot_schedules.PruningSchedule:
    """Rebuild a pruning schedule from ``schedule.get_config()``.

    Args:
        config: ``{"class_name": ..., "config": {...}}``; TF-MOT's schedules are known by
            name, a custom one must be registered with Keras.

    Returns:
        The schedule.

    Example:
        >>> schedule_from_config(PolynomialDecay(0.0, 0.5, 0, 100).get_config()).end_step
        100
    """
    return tf.keras.utils.deserialize_keras_object(dict(config), module_objects=SCHEDULES,
                                                   custom_objects=tf.keras.utils.get_custom_objects())


class _Pruner:
    """Moves one layer's pruning setting to ``progress`` of the way from dense to target."""

    def __init__(self, weight: WeightSlot, target: float):
        self.weight, self.quantizer, self.target = weight, weight.quantizer, target

    def apply(self, progress: float) -> None:
        raise NotImplementedError

    def after_step(self) -> None:
        """Called after each optimizer step (only masks need it)."""


class _ThresholdPruner(_Pruner):
    def apply(self, progress: float) -> None:
        self.quantizer.set_control("prune_threshold", self.target * progress)


class _ActiveKPruner(_Pruner):
    def apply(self, progress: float) -> None:
        dense = self.quantizer.n
        self.quantizer.set_control("active_k", int(round(dense - (dense - self.target) * progress)))


class _MaskPruner(_Pruner):
    def __init__(self, weight: WeightSlot, target: float, strategy: tf.distribute.Strategy):
        super().__init__(weight, target)
        with strategy.scope():
            self.mask = tf.Variable(np.ones(weight.kernel.shape, np.float32), trainable=False,
                                    name=f"{weight.layer.name}_{weight.slot.weight}_kwc_mask")
        self.active = False

    def apply(self, progress: float) -> None:
        magnitude = np.abs(self.weight.kernel.numpy()).ravel()
        count = int(round(self.target * progress * magnitude.size))
        mask = np.ones(magnitude.size, np.float32)
        if count > 0:
            mask[np.argsort(magnitude, kind="stable")[:count]] = 0.0
        self.mask.assign(mask.reshape(self.weight.kernel.shape))
        self.active = count > 0
        self.after_step()

    def after_step(self) -> None:
        if self.active:
            self.weight.kernel.assign(self.weight.kernel * self.mask)


class GradualPruning(CompressionCallback):
    """Ramp each compressed layer's pruning over training (see the module docstring).

    Args:
        schedule: a TF-MOT ``PruningSchedule`` (``PolynomialDecay``, ``ConstantSparsity``)
            or an object with the same interface; its final sparsity must be > 0.
        target: final setting, one number for all layers or ``{layer name: number}``:
            SWC threshold in ``[0, 1)``, SparseTernary non-zeros per group in ``[1, k]``
            (or an admitted fraction in ``(0, 1)``), mask sparsity in ``[0, 1)`` for the others.
        layers: names of the layers to prune; ``None``: every compressed layer.

    Raises (at ``on_train_begin``):
        ValueError: no compressed layer; the schedule's ``end_step`` precedes its
            ``begin_step``; an SWC layer without a target; a target out of range; a
            quantizer that cannot be pruned (PolyApprox).

    Example:
        >>> import tensorflow_model_optimization as tfmot
        >>> from qkeras import QConv2D, QDense
        >>> from keras_wc.quantizers import SWC, SparseTernary
        >>> model = tf.keras.Sequential([
        ...     tf.keras.Input((8, 8, 1)),
        ...     QConv2D(8, 3, kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv"),
        ...     tf.keras.layers.Flatten(),
        ...     QDense(10, kernel_quantizer=SparseTernary(n=8, k=2), name="dense")])
        >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        >>> schedule = tfmot.sparsity.keras.PolynomialDecay(0.0, 0.9, begin_step=0, end_step=200)
        >>> model.fit(x, y, epochs=10, callbacks=[GradualPruning(schedule, target={"conv": 0.3, "dense": 2})])
    """

    def __init__(self, schedule: tfmot_schedules.PruningSchedule, target: Target = None,
                 layers: Optional[Sequence[str]] = None):
        super().__init__(layers)
        if isinstance(schedule, Mapping):
            schedule = schedule_from_config(schedule)
        self.schedule = schedule
        self.target = dict(target) if isinstance(target, Mapping) else target
        self.pruners: List[_Pruner] = []

    def _setup(self, found: List[WeightSlot]) -> List[WeightSlot]:
        for argument in ("begin_step", "end_step"):
            if not hasattr(self.schedule, argument):
                raise self.error(f"schedule={self.schedule!r} has no {argument}; use a TF-MOT PruningSchedule")
        check_steps(f"{type(self).__name__}: schedule", self.schedule.begin_step, self.schedule.end_step)
        self._final = float(self._sparsity(max(self.schedule.begin_step, self.schedule.end_step)))
        if not self._final > 0:
            raise self.error(f"schedule={self.schedule.get_config()} ends at sparsity 0: nothing to ramp")
        # one compiled graph for the TF-MOT schedule: a per-step eager call costs ~0.4 ms
        self._compiled = tf.function(self.schedule, input_signature=[tf.TensorSpec([], tf.int64)])
        self._compiled(tf.constant(0, tf.int64))  # trace now, not inside the first training step
        self._progress_now: Optional[float] = None
        self.pruners = [self._pruner(weight) for weight in found]
        self._apply(self._progress(self.step) if self.step >= self.schedule.begin_step else 0.0)
        return found

    def _pruner(self, weight: WeightSlot) -> _Pruner:
        quantizer = weight.quantizer
        target = self.target.get(weight.name) if isinstance(self.target, dict) else self.target
        controls = getattr(quantizer, "controls", {})
        where = f"layer {weight.name!r} ({quantizer})"
        if "prune_threshold" in controls:
            if target is None or not 0.0 <= float(target) < 1.0:
                raise self.error(f"{where}: target={target!r}; an SWC layer needs a final prune_threshold in [0, 1)")
            return _ThresholdPruner(weight, float(target))
        if "active_k" in controls:
            count = quantizer.k if target is None else target
            if 0 < count < 1:  # an admitted fraction of non-zeros per group
                count = round(count * quantizer.n)
            if not (float(count).is_integer() and 1 <= count <= quantizer.k):
                raise self.error(f"{where}: target={target!r}; a SparseTernary layer needs a non-zero count per "
                                 f"group in [1, k={quantizer.k}] or an admitted fraction in (0, 1) giving one")
            return _ActiveKPruner(weight, int(count))
        if is_compression_quantizer(quantizer) and not method_of_quantizer(quantizer).zero_preserving:
            raise self.error(f"{where}: quantizer has no pruning control (prune_threshold, active_k) and does not "
                             "map zero weights to zero; pass layers=[...] without it")
        target = self._final if target is None else float(target)
        if not 0.0 <= target < 1.0:
            raise self.error(f"{where}: target={target!r}; a mask sparsity must be in [0, 1)")
        return _MaskPruner(weight, target, self.model.distribute_strategy)

    def _sparsity(self, step: int) -> float:
        return float(self.schedule(tf.constant(step, tf.int64))[1])

    def _progress(self, step: int) -> float:
        return min(1.0, max(0.0, self._sparsity(step) / self._final))

    def _apply(self, progress: float) -> None:
        for pruner in self.pruners:
            pruner.apply(progress)
        self._progress_now = progress

    def on_train_batch_begin(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        step, begin, end = self.step, self.schedule.begin_step, self.schedule.end_step
        if step < begin or 0 <= end < step or ((step - begin) % getattr(self.schedule, "frequency", 1)
                                               and step != end):
            return  # outside the window or between the schedule's pruning steps: nothing can change
        should_prune, sparsity = self._compiled(tf.constant(step, tf.int64))
        if bool(should_prune) or step == self.schedule.end_step:  # the target is reached whatever the frequency
            progress = min(1.0, max(0.0, float(sparsity) / self._final))
            if progress != self._progress_now:
                self._apply(progress)

    def on_train_batch_end(self, batch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        for pruner in self.pruners:
            pruner.after_step()

    def _config(self) -> Dict[str, Any]:
        return {"schedule": self.schedule.get_config(), "target": self.target}
