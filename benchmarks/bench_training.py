"""Training step time of each keras_wc quantizer with its callbacks, relative to QKeras.

For every method the same small CNN on sklearn digits (8x8x1 -> QConv2D 16x3x3 -> QDense 10)
is trained with that method's quantizers *and* the training machinery of its paper — SWC and
SparseTernary: ``GradualPruning`` (ramp every step, the worst case); DFP and Po2: QR
attached + ``QRSchedule``; PolyApprox: ``FreezeAssignments``; all: ``CompressionLogger``; the
baseline is the same model with QKeras ``quantized_bits(4, 0, alpha=1)`` and no callback.
Runs are interleaved (baseline, method, baseline, method, ...) so both see the same machine
load. A run's figure is the median wall time between consecutive batches (callback hooks
included, the first epoch — tracing — excluded); the reported ratio is the median over
rounds of method / baseline within the round. Process CPU time per step is recorded beside
wall time (``cpu_ratio``): on a machine shared with other jobs it is the steadier figure.
A third run per round times the method's quantizers alone (no QR, no callback), to tell
the quantizer's own cost from the training machinery's.

Issue 4 targets: ratio <= 1.3 for SWC, DFP, Po2 and SparseTernary; <= 2 for PolyApprox.

Usage::

    python -m benchmarks.bench_training            # writes benchmarks/results/training.json
    python -m benchmarks.bench_training --epochs 4 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QConv2D, QDense  # noqa: E402
from qkeras.quantizers import quantized_bits  # noqa: E402
from tensorflow_model_optimization.sparsity.keras import PolynomialDecay  # noqa: E402

from keras_wc import datasets  # noqa: E402
from keras_wc.callbacks import CompressionLogger, FreezeAssignments, GradualPruning, QRSchedule  # noqa: E402
from keras_wc.quantizers import DFP, SWC, PolyApprox, Po2, SparseTernary  # noqa: E402
from keras_wc.regularizers import attach_qr  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "training.json"
BATCH = 64
#: method -> (conv quantizer, dense quantizer, uses QR, callbacks(steps) factory, target ratio)
Method = Tuple[Callable[[], Any], Callable[[], Any], bool, Callable[[int], List[tf.keras.callbacks.Callback]], float]


def _pruning(target: Dict[str, float]) -> Callable[[int], List[tf.keras.callbacks.Callback]]:
    def callbacks(steps: int) -> List[tf.keras.callbacks.Callback]:
        schedule = PolynomialDecay(0.0, 0.8, begin_step=0, end_step=steps // 2, frequency=1)
        return [GradualPruning(schedule, target=target), CompressionLogger()]
    return callbacks


def _qr_only(steps: int) -> List[tf.keras.callbacks.Callback]:
    return [QRSchedule(1e-4, begin_step=steps // 4, end_step=steps // 2), CompressionLogger()]


def _freeze(steps: int) -> List[tf.keras.callbacks.Callback]:
    return [FreezeAssignments(last_epochs=1), CompressionLogger()]


METHODS: Dict[str, Method] = {
    "SWC": (lambda: SWC(sw_bits=4, group="kernel"), lambda: SWC(sw_bits=4, group=8), False,
            _pruning({"conv": 0.2, "dense": 0.2}), 1.3),
    "DFP": (lambda: DFP(bits=6), lambda: DFP(bits=6), True, _qr_only, 1.3),
    "Po2": (lambda: Po2(bits=4), lambda: Po2(bits=4), True, _qr_only, 1.3),
    "SparseTernary": (lambda: SparseTernary(n=8, k=2), lambda: SparseTernary(n=8, k=2), False,
                      _pruning({}), 1.3),
    "PolyApprox": (lambda: PolyApprox(degree=1, levels=16), lambda: PolyApprox(degree=1, levels=16), False,
                   _freeze, 2.0),
}


def build(conv_quantizer: Any, dense_quantizer: Any, seed: int = 0) -> tf.keras.Model:
    """The benchmark CNN with the given kernel quantizers, compiled."""
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)),
        QConv2D(16, 3, kernel_quantizer=conv_quantizer, activation="relu", name="conv"),
        tf.keras.layers.Flatten(),
        QDense(10, kernel_quantizer=dense_quantizer, name="dense")])
    model.compile(tf.keras.optimizers.Adam(3e-3), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


class StepTimer(tf.keras.callbacks.Callback):
    """Wall and process-CPU time between consecutive ``on_train_batch_begin`` calls, after epoch 0."""

    def __init__(self):
        super().__init__()
        self.wall: List[float] = []
        self.cpu: List[float] = []
        self._last = None

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._last = None
        self._record = epoch > 0

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        now = (time.perf_counter(), time.process_time())
        if self._last is not None and self._record:
            self.wall.append(now[0] - self._last[0])
            self.cpu.append(now[1] - self._last[1])
        self._last = now


def time_run(factory: Tuple[Callable[[], Any], Callable[[], Any]], qr: bool, callbacks, x, y,
             epochs: int) -> Tuple[float, float, float]:
    """Train once; returns the median wall and CPU milliseconds per step and the final training accuracy."""
    model = build(factory[0](), factory[1]())
    if qr:
        attach_qr(model, strength=0.0)
    steps = epochs * int(np.ceil(len(x) / BATCH))
    timer = StepTimer()
    history = model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0,
                        callbacks=[timer] + (callbacks(steps) if callbacks else []))
    return (1e3 * float(np.median(timer.wall)), 1e3 * float(np.median(timer.cpu)),
            float(history.history["accuracy"][-1]))


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(METHODS))
    args = parser.parse_args(argv)

    (x, y), _ = datasets.load("digits")
    baseline_factory = (lambda: quantized_bits(4, 0, alpha=1), lambda: quantized_bits(4, 0, alpha=1))
    rows: Dict[str, Dict[str, Any]] = {}
    started = time.perf_counter()
    for name in args.only:
        conv_q, dense_q, qr, callbacks, target = METHODS[name]
        runs: Dict[str, List[Tuple[float, float, float]]] = {"qkeras": [], "quantizer": [], "method": []}
        for _ in range(args.rounds):
            runs["qkeras"].append(time_run(baseline_factory, False, None, x, y, args.epochs))
            runs["quantizer"].append(time_run((conv_q, dense_q), False, None, x, y, args.epochs))
            runs["method"].append(time_run((conv_q, dense_q), qr, callbacks, x, y, args.epochs))
        measured = {kind: np.array(values) for kind, values in runs.items()}  # rounds x (wall, cpu, accuracy)

        def ratio(kind: str, column: int) -> float:
            # paired per round (runs seconds apart see the same machine load), then the median
            return float(np.median(measured[kind][:, column] / measured["qkeras"][:, column]))

        rows[name] = {"step_ms": float(np.median(measured["method"][:, 0])),
                      "qkeras_step_ms": float(np.median(measured["qkeras"][:, 0])),
                      "ratio": ratio("method", 0), "cpu_ratio": ratio("method", 1),
                      "ratio_per_round": (measured["method"][:, 0] / measured["qkeras"][:, 0]).tolist(),
                      "quantizer_only_ratio": ratio("quantizer", 0), "quantizer_only_cpu_ratio": ratio("quantizer", 1),
                      "target_ratio": target, "meets_target": ratio("method", 0) <= target,
                      "meets_target_cpu": ratio("method", 1) <= target,
                      "train_accuracy": float(measured["method"][-1, 2]), "qr": qr,
                      "callbacks": [type(cb).__name__ for cb in (callbacks(100) if callbacks else [])]}
    result = {"benchmark": "training step time vs QKeras quantized_bits(4,0,alpha=1)",
              "model": "digits 8x8x1 -> QConv2D(16,3x3) -> QDense(10)", "batch_size": BATCH,
              "epochs": args.epochs, "rounds": args.rounds, "seconds": time.perf_counter() - started,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__},
              "methods": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'method':<14} {'step ms':>8} {'QKeras ms':>10} {'ratio':>6} {'cpu ratio':>9} {'target':>7}      "
          f"{'quantizer alone':>15}  callbacks")
    for name, row in rows.items():
        flag = "ok" if row["meets_target"] else "MISS"
        print(f"{name:<14} {row['step_ms']:8.2f} {row['qkeras_step_ms']:10.2f} {row['ratio']:6.2f} "
              f"{row['cpu_ratio']:9.2f} {'<=' + str(row['target_ratio']):>7} {flag:<4} "
              f"{row['quantizer_only_ratio']:15.2f}  {'QR+' if row['qr'] else ''}{'+'.join(row['callbacks'])}")
    print(f"wrote {RESULTS} ({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
