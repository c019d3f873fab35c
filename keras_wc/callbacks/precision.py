"""Layer-wise precision scaling (TCAD 2018 abstract; docs/methods.md).

Greedy search, largest kernels first: lower one layer's ``bits`` by one, fine-tune for
``fine_tune_epochs`` epochs with QR, measure the validation accuracy; keep the step while
the drop from the reference accuracy (measured before any change) is at most
``tolerance`` percentage points, otherwise restore the layer's bits and weights and move on
to the next layer. Follows the abstract: layer-wise precision scaling with QR fine-tuning
and an accuracy-drop budget (0.10 points in the paper). This project's choices: one bit
per trial, the largest-first order, the revert of the weights on a rejected step, stopping
``fit`` once every layer is settled, and ``patience``: a step over the budget gets that many
more rounds of ``fine_tune_epochs`` (measured after each) before it is reverted — on a
validation split of 1,000 images the budget is one image, within the noise of one epoch.

The search runs inside ``fit`` as :class:`PrecisionScaling` (each trial uses the next
``fine_tune_epochs`` epochs of the fit), or as the function :func:`scale_precision`.
Layers must have a ``"bits"`` training control: DFP and Po2 ``bits``, SWC ``sw_bits`` (its
``maw_bits`` stay as they are).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from ..regularizers import QuantizationRegularizer, attach_qr, regularizers_of
from ..report.costs import FLOAT32_BITS, kernel_bits
from ..walker import WeightSlot, quantized_slots
from .base import CompressionCallback


def kernel_compression(model: tf.keras.Model) -> Tuple[int, int, float]:
    """Kernel memory of the quantized layers, counted by :func:`keras_wc.report.costs.kernel_bits`.

    Args:
        model: a model with QKeras layers (the report's bit count: keras_wc quantizers their
            exact ``memory_bits``, other quantizers ``bits`` per weight).

    Returns:
        ``(float32_bits, stored_bits, float32_bits / stored_bits)``.

    Example:
        >>> float_bits, stored_bits, ratio = kernel_compression(model)
    """
    float_bits = stored_bits = 0
    for weight in quantized_slots(model):
        shape = tuple(weight.kernel.shape)
        float_bits += FLOAT32_BITS * int(np.prod(shape))
        stored_bits += kernel_bits(weight.quantizer, shape)
    return float_bits, stored_bits, float_bits / stored_bits


def accuracy(model: tf.keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)`` (integer or one-hot labels).

    Args:
        model: a classifier (logits or probabilities on the last axis).
        x: inputs.
        y: labels, integer or one-hot.
        batch_size: inputs per forward call.

    Returns:
        The fraction of correct top-1 predictions.

    Example:
        >>> accuracy(model, x_test, y_test)
        0.95
    """
    # a direct call, not model.predict: predict inside fit would replace the fit's History
    outputs = [model(x[start:start + batch_size], training=False).numpy() for start in range(0, len(x), batch_size)]
    predicted = np.argmax(np.concatenate(outputs), axis=-1)
    labels = np.asarray(y)
    labels = np.argmax(labels, axis=-1) if labels.ndim > 1 and labels.shape[-1] > 1 else labels.reshape(-1)
    return float(np.mean(predicted == labels))


class PrecisionScaling(CompressionCallback):
    """Greedy layer-wise bit-width reduction with QR fine-tuning, inside ``fit``.

    Args:
        x_val: validation inputs.
        y_val: validation labels (integer or one-hot).
        tolerance: largest accepted accuracy drop in percentage points, >= 0.
        fine_tune_epochs: epochs of fine-tuning per trial, >= 1.
        patience: extra rounds of ``fine_tune_epochs`` a step over the budget gets before it is
            reverted, >= 0 (0: judged once).
        min_bits: lowest bit-width tried (never below the quantizer's own minimum).
        qr_strength: QR strength during trials (a layer without QR gets one attached, with
            strength 0 outside trials); 0 fine-tunes without QR.
        stop_when_done: end ``fit`` once every layer is settled.
        batch_size: batch size of the accuracy evaluation.
        layers: names of the layers to scale; ``None``: every layer with a ``bits`` control
            (DFP, Po2, SWC — whose ``bits`` is ``sw_bits``).

    Each epoch writes ``mean_bits`` (over the scaled layers) into ``logs``. ``get_config``
    holds the validation arrays themselves (it round-trips in Python, it is not JSON).

    After training, :attr:`result` holds ``bits`` (per layer), ``compression_ratio``
    (float32 kernel bits / stored kernel bits, :func:`kernel_compression`),
    ``reference_accuracy``, ``accuracy`` and ``trials`` (one dict per trial).

    Raises (at ``on_train_begin``):
        ValueError: no compressed layer; no layer (or a named layer without) a ``bits``
            control; ``tolerance < 0``; ``fine_tune_epochs < 1``; ``patience < 0``; ``min_bits < 1``.

    Example:
        >>> from qkeras import QDense
        >>> from keras_wc.quantizers import DFP
        >>> model = tf.keras.Sequential([tf.keras.Input((64,)),
        ...     QDense(32, kernel_quantizer=DFP(bits=8), activation="relu"),
        ...     QDense(10, kernel_quantizer=DFP(bits=8))])
        >>> model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        >>> model.fit(x, y, epochs=20)                      # pre-train
        >>> scaler = PrecisionScaling(x_val, y_val, tolerance=0.5, fine_tune_epochs=1)
        >>> model.fit(x, y, epochs=50, callbacks=[scaler])  # stops when every layer is settled
        >>> scaler.result["bits"], scaler.result["compression_ratio"]
    """

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, tolerance: float = 0.10, fine_tune_epochs: int = 1,
                 min_bits: int = 2, qr_strength: float = 1e-4, stop_when_done: bool = True, batch_size: int = 256,
                 layers: Optional[Sequence[str]] = None, patience: int = 0):
        super().__init__(layers)
        self.patience = int(patience)
        self.x_val, self.y_val = x_val, y_val
        self.tolerance, self.fine_tune_epochs, self.min_bits = float(tolerance), int(fine_tune_epochs), int(min_bits)
        self.qr_strength, self.stop_when_done, self.batch_size = float(qr_strength), bool(stop_when_done), \
            int(batch_size)
        self.result: Dict[str, Any] = {}

    # -- setup ----------------------------------------------------------------------------
    def _setup(self, found: List[WeightSlot]) -> List[WeightSlot]:
        if self.tolerance < 0:
            raise self.error(f"tolerance={self.tolerance}: must be >= 0 (percentage points)")
        if self.fine_tune_epochs < 1:
            raise self.error(f"fine_tune_epochs={self.fine_tune_epochs}: must be >= 1")
        if self.min_bits < 1:
            raise self.error(f"min_bits={self.min_bits}: must be >= 1")
        if self.patience < 0:
            raise self.error(f"patience={self.patience}: must be >= 0")
        if self.layer_names is not None:
            for weight in found:
                self.require_control(weight, "bits")
        scalable = [weight for weight in found if "bits" in getattr(weight.quantizer, "controls", {})]
        if not scalable:
            raise self.error(f"no layer among {[weight.name for weight in found]} has a 'bits' control "
                             "(DFP, Po2, SWC sw_bits)")
        scalable.sort(key=lambda weight: -int(np.prod(weight.kernel.shape)))
        missing = [weight.name for weight in scalable if weight.name not in regularizers_of(self.model)]
        if missing:
            attach_qr(self.model, strength=0.0, layers=missing)
        self._regularizers: List[QuantizationRegularizer] = [regularizers_of(self.model)[weight.name]
                                                             for weight in scalable]
        self._saved_strengths = [float(reg.strength.numpy()) for reg in self._regularizers]
        self._queue = list(range(len(scalable)))
        self._trial: Optional[Dict[str, Any]] = None
        self._epochs_left = 0
        self.reference = accuracy(self.model, self.x_val, self.y_val, self.batch_size)
        self.trials: List[Dict[str, Any]] = []
        return scalable

    def on_train_begin(self, logs: Optional[Dict[str, Any]] = None) -> None:
        super().on_train_begin(logs)
        self._start_trial()

    # -- search -----------------------------------------------------------------------------
    def _floor(self, quantizer: Any) -> int:
        return max(self.min_bits, getattr(quantizer, "bits_range", (1, None))[0])

    def _start_trial(self) -> None:
        """Lower the bits of the first unsettled layer, or finish when none is left."""
        while self._queue:
            weight = self.layers[self._queue[0]]
            quantizer = weight.quantizer
            if quantizer.bits - 1 >= self._floor(quantizer):
                self._trial = {"layer": weight.name, "from_bits": quantizer.bits, "weights": self.model.get_weights(),
                               "rounds": 0}
                quantizer.bits = quantizer.bits - 1
                for reg in self._regularizers:
                    reg.strength.assign(self.qr_strength)
                self._epochs_left = self.fine_tune_epochs
                return
            self._queue.pop(0)
        self._trial = None
        self._finish()

    def _end_trial(self, last: bool = False) -> None:
        """Measure the trial, keep or revert it, and record it; over the budget with patience left
        (and epochs left: not ``last``), give it one more round instead."""
        weight = self.layers[self._queue[0]]
        quantizer = weight.quantizer
        value = accuracy(self.model, self.x_val, self.y_val, self.batch_size)
        drop = 100.0 * (self.reference - value)
        kept = drop <= self.tolerance
        if not kept and not last and self._trial["rounds"] < self.patience:  # one more round before judging
            self._trial["rounds"] += 1
            self._epochs_left = self.fine_tune_epochs
            return
        self.trials.append({"layer": weight.name, "bits": quantizer.bits, "accuracy": value,
                            "drop_points": drop, "kept": kept, "rounds": self._trial["rounds"] + 1})
        if not kept:
            quantizer.bits = self._trial["from_bits"]
            self.model.set_weights(self._trial["weights"])
            self._queue.pop(0)
        self._trial = None

    def _finish(self) -> None:
        for reg, strength in zip(self._regularizers, self._saved_strengths):
            reg.strength.assign(strength)
        self._record()
        if self.stop_when_done:
            self.model.stop_training = True

    def _record(self) -> None:
        _, _, ratio = kernel_compression(self.model)
        kept = [t["accuracy"] for t in self.trials if t["kept"]]
        self.result = {"bits": {weight.name: int(weight.quantizer.bits) for weight in self.layers},
                       "compression_ratio": ratio,
                       "reference_accuracy": self.reference, "accuracy": kept[-1] if kept else self.reference,
                       "trials": list(self.trials), "done": self._trial is None and not self._queue}

    # -- Keras hooks --------------------------------------------------------------------------
    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if self._trial is not None:
            self._epochs_left -= 1
            if self._epochs_left == 0:
                self._end_trial()
                if self._trial is None:
                    self._start_trial()
        if logs is not None:
            logs["mean_bits"] = float(np.mean([weight.quantizer.bits for weight in self.layers]))

    def on_train_end(self, logs: Optional[Dict[str, Any]] = None) -> None:
        if self._trial is not None:
            self._end_trial(last=True)
            for reg, strength in zip(self._regularizers, self._saved_strengths):
                reg.strength.assign(strength)
        self._record()

    def _config(self) -> Dict[str, Any]:
        return {"x_val": self.x_val, "y_val": self.y_val, "tolerance": self.tolerance,
                "fine_tune_epochs": self.fine_tune_epochs, "patience": self.patience, "min_bits": self.min_bits,
                "qr_strength": self.qr_strength, "stop_when_done": self.stop_when_done,
                "batch_size": self.batch_size}


def scale_precision(model: tf.keras.Model, data: Tuple[np.ndarray, np.ndarray],
                    validation_data: Tuple[np.ndarray, np.ndarray], tolerance: float = 0.10,
                    fine_tune_epochs: int = 1, min_bits: int = 2, qr_strength: float = 1e-4, batch_size: int = 64,
                    layers: Optional[Sequence[str]] = None, verbose: int = 0, patience: int = 0) -> Dict[str, Any]:
    """Layer-wise precision scaling of a trained, compiled model, outside your own ``fit``.

    Args:
        model: a trained, compiled model whose layers have DFP/Po2/SWC kernel quantizers.
        data: ``(x_train, y_train)`` used for fine-tuning.
        validation_data: ``(x_val, y_val)`` for the accuracy checks.
        tolerance: largest accepted accuracy drop, percentage points.
        fine_tune_epochs: epochs per trial.
        min_bits: lowest bit-width tried.
        qr_strength: QR strength while fine-tuning.
        batch_size: fine-tuning batch size.
        layers: names of the layers to scale (``None``: all with a ``bits`` control).
        verbose: passed to ``fit``.
        patience: extra rounds a step over the budget gets before it is reverted.

    Returns:
        :attr:`PrecisionScaling.result`: ``bits`` per layer, ``compression_ratio``,
        ``reference_accuracy``, ``accuracy``, ``trials``, ``done``.

    Example:
        >>> result = scale_precision(model, (x_train, y_train), (x_val, y_val), tolerance=0.5)
        >>> result["bits"], round(result["compression_ratio"], 2)
        ({'dense': 5, 'out': 6}, 5.8)
    """
    candidates = [w.quantizer for w in quantized_slots(model)
                  if "bits" in getattr(w.quantizer, "controls", {}) and (layers is None or w.name in layers)]
    trials = sum(max(0, q.bits - max(min_bits, q.bits_range[0])) + 1 for q in candidates)
    scaler = PrecisionScaling(validation_data[0], validation_data[1], tolerance=tolerance,
                              fine_tune_epochs=fine_tune_epochs, min_bits=min_bits, qr_strength=qr_strength,
                              patience=patience,
                              layers=layers)
    model.fit(data[0], data[1], batch_size=batch_size, epochs=max(1, trials * fine_tune_epochs * (1 + patience)),
              callbacks=[scaler], verbose=verbose)
    return scaler.result
