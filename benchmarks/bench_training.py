"""Training step time of each keras_wc quantizer with its callbacks, relative to QKeras.

Each method is a recipe, ``benchmarks/recipes/training/<method>.yaml``: the same small CNN on
sklearn digits (8x8x1 -> QConv2D 16x3x3 -> QDense 10, ``benchmarks.models.step_cnn``) with that
method's quantizers *and* the training machinery of its paper — SWC and SparseTernary:
``GradualPruning`` (ramp every step, the worst case); DFP and Po2: QR attached +
``QRSchedule``; PolyApprox: ``FreezeAssignments``; all: ``CompressionLogger``; its target
ratio is the recipe's ``benchmark.max_step_ratio``. The baseline, ``qkeras4.yaml``, is the same
model with QKeras ``quantized_bits(4, 0, alpha=1)`` and no callback.
Runs are interleaved (baseline, method, baseline, method, ...) so both see the same machine
load. A run's figure is the median wall time between consecutive batches (callback hooks
included, the first epoch — tracing — excluded); the reported ratio is the median over
rounds of method / baseline within the round. Process CPU time per step is recorded beside
wall time (``cpu_ratio``): on a machine shared with other jobs it is the steadier figure.
A third run per round times the method's quantizers alone (no QR, no callback), to tell
the quantizer's own cost from the training machinery's.

Targets: ratio <= 1.3 for SWC, DFP, Po2 and SparseTernary; <= 2 for PolyApprox.

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
from typing import Any, Dict, List, Sequence, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_wc import datasets  # noqa: E402
from keras_wc.output_folder import replace_file  # noqa: E402
from keras_wc.pipeline import fit  # noqa: E402
from keras_wc.projects import Recipe, build_model, load_recipe  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "training.json"
RECIPES = Path(__file__).resolve().parent / "recipes" / "training"
#: the methods timed, in table order: ``recipes/training/<name>.yaml``
METHODS = ("SWC", "DFP", "Po2", "SparseTernary", "PolyApprox")
#: the recipe every method's step time is divided by
BASELINE = "qkeras4"


def method_recipe(name: str, epochs: int) -> Recipe:
    """``recipes/training/<name>.yaml`` trained for ``epochs`` epochs.

    Example:
        >>> method_recipe("DFP", 3).training["qr"]
        {'strength': 0.0, 'p': 2, 'weighting': None}
    """
    return load_recipe(RECIPES / f"{name}.yaml", {"training": {"epochs": epochs}})


def quantizers_alone(recipe: Recipe) -> Recipe:
    """``recipe`` without its training machinery (no QR, no callback): the quantizer's own cost."""
    return recipe.with_overrides({"training": {"qr": None, "callbacks": []}})


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


def time_run(recipe: Recipe, x, y) -> Tuple[float, float, float]:
    """Train ``recipe`` once; returns the median wall and CPU milliseconds per step and the final training accuracy."""
    tf.keras.utils.set_random_seed(recipe.training["seed"])
    model = build_model(recipe)
    timer = StepTimer()
    history, _ = fit(model, recipe, x, y, extra_callbacks=[timer])
    return (1e3 * float(np.median(timer.wall)), 1e3 * float(np.median(timer.cpu)),
            float(history.history["accuracy"][-1]))


def _row(method: Recipe, measured: Dict[str, np.ndarray]) -> Dict[str, Any]:
    """One method's figures from its ``rounds x (wall, cpu, accuracy)`` arrays per kind of run."""
    def ratio(kind: str, column: int) -> float:
        # paired per round (runs seconds apart see the same machine load), then the median
        return float(np.median(measured[kind][:, column] / measured["qkeras"][:, column]))

    target = method.benchmark["max_step_ratio"]
    return {"step_ms": float(np.median(measured["method"][:, 0])),
            "qkeras_step_ms": float(np.median(measured["qkeras"][:, 0])),
            "ratio": ratio("method", 0), "cpu_ratio": ratio("method", 1),
            "ratio_per_round": (measured["method"][:, 0] / measured["qkeras"][:, 0]).tolist(),
            "quantizer_only_ratio": ratio("quantizer", 0), "quantizer_only_cpu_ratio": ratio("quantizer", 1),
            "target_ratio": target, "meets_target": ratio("method", 0) <= target,
            "meets_target_cpu": ratio("method", 1) <= target,
            "train_accuracy": float(measured["method"][-1, 2]), "qr": method.training["qr"] is not None,
            "callbacks": [spec["class_name"] for spec in method.training["callbacks"]]}


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(METHODS), choices=METHODS)
    args = parser.parse_args(argv)

    baseline = method_recipe(BASELINE, args.epochs)
    (x, y), _ = datasets.load(baseline.dataset)
    rows: Dict[str, Dict[str, Any]] = {}
    started = time.perf_counter()
    for name in args.only:
        method = method_recipe(name, args.epochs)
        runs: Dict[str, List[Tuple[float, float, float]]] = {"qkeras": [], "quantizer": [], "method": []}
        for _ in range(args.rounds):
            runs["qkeras"].append(time_run(baseline, x, y))
            runs["quantizer"].append(time_run(quantizers_alone(method), x, y))
            runs["method"].append(time_run(method, x, y))
        rows[name] = _row(method, {kind: np.array(values) for kind, values in runs.items()})
    result = {"benchmark": "training step time vs QKeras quantized_bits(4,0,alpha=1)",
              "model": "digits 8x8x1 -> QConv2D(16,3x3) -> QDense(10)", "batch_size": baseline.training["batch_size"],
              "epochs": args.epochs, "rounds": args.rounds, "seconds": time.perf_counter() - started,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__},
              "methods": rows}
    replace_file(RESULTS, json.dumps(result, indent=2) + "\n")  # a failed write keeps the previous results
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
