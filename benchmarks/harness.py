"""Train and measure one benchmark row (see ``benchmarks.rows``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import tensorflow as tf

from keras_wc import datasets, models
from keras_wc.callbacks import GradualPruning, scale_precision
from keras_wc.regularizers import attach_qr
from keras_wc.report import compression_report

from .rows import QR, RowSpec


@dataclass(frozen=True)
class Workload:
    """A dataset + architecture + training budget shared by every row of a run.

    Args:
        name: id in result files (e.g. ``"lenet5_mnist5k"``).
        dataset: a :func:`keras_wc.datasets.load` name.
        model: a :func:`keras_wc.models.build` name.
        model_kwargs: extra builder arguments (input shape ...).
        epochs: training epochs of every row.
        csim_samples: test images C-simulated for the hardware rows (0: no C simulation).
        hardware_only: run only the float32 reference and the hardware rows.
        fine_tune_epochs: precision scaling's fine-tuning epochs per trial.
        fine_tune_lr_factor: fine-tuning learning rate as a fraction of ``learning_rate``.
        val_fraction: share of the training split held out (stratified) as the validation
            set of precision scaling; every row trains on the rest.
    """

    name: str
    dataset: str
    model: str
    model_kwargs: Dict[str, Any] = field(default_factory=dict)
    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 3e-3
    csim_samples: int = 0
    fine_tune_epochs: int = 1
    hardware_only: bool = False
    fine_tune_lr_factor: float = 0.1
    val_fraction: float = 0.25


ACTIVATIONS = {"activation_quantizer": "quantized_relu(8,3)", "input_quantizer": "quantized_relu(8,1)"}


def build_model(workload: Workload, row: RowSpec) -> tf.keras.Model:
    """The workload's architecture with the row's quantizers."""
    return models.build(workload.model, quantizer=row.quantizer, bias_quantizer=row.bias_quantizer,
                        **ACTIVATIONS, **workload.model_kwargs)


def _compile(model: tf.keras.Model, learning_rate: float) -> None:
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])


def _pruning_callback(row: RowSpec, steps: int) -> GradualPruning:
    import tensorflow_model_optimization as tfmot

    begin, end = row.pruning.get("ramp", (0.2, 0.8))  # fractions of training
    schedule = tfmot.sparsity.keras.PolynomialDecay(0.0, row.pruning["final_sparsity"],
                                                    begin_step=int(steps * begin), end_step=int(steps * end),
                                                    frequency=max(1, steps // 50))
    return GradualPruning(schedule, target=row.pruning["target"])


def _train_tfmot(model: tf.keras.Model, row: RowSpec, workload: Workload, data, steps: int):
    import tensorflow_model_optimization as tfmot

    sparsity = tfmot.sparsity.keras
    schedule = sparsity.PolynomialDecay(0.0, row.tfmot_sparsity, begin_step=steps // 5, end_step=(steps * 4) // 5,
                                        frequency=max(1, steps // 50))
    pruned = sparsity.prune_low_magnitude(model, pruning_schedule=schedule)
    _compile(pruned, workload.learning_rate)
    (x, y), _ = data
    start = time.perf_counter()
    pruned.fit(x, y, epochs=workload.epochs, batch_size=workload.batch_size, verbose=0,
               callbacks=[sparsity.UpdatePruningStep()])
    seconds = time.perf_counter() - start
    stripped = sparsity.strip_pruning(pruned)
    _compile(stripped, workload.learning_rate)
    return stripped, seconds


def run_row(row: RowSpec, workload: Workload, data, seed: int, workdir: Optional[Path] = None) -> Dict[str, Any]:
    """Train ``row`` on ``workload`` with ``seed`` and measure it.

    Args:
        row: the row to run.
        workload: data, architecture and budget.
        data: ``((x_train, y_train), (x_test, y_test))`` of the workload's dataset.
        seed: seed of weights, data order and dropout.
        workdir: where hardware rows write their HLS project (``None``: no HLS).

    Returns:
        A JSON-ready dict: accuracy, report totals, seconds per epoch, precision-scaling
        result, hardware figures.
    """
    tf.keras.utils.set_random_seed(seed)
    (x_all, y_all), (x_test, y_test) = data
    # every row trains on the same split; the held-out part is precision scaling's validation set
    (x_train, y_train), (x_val, y_val) = datasets.train_val_split(x_all, y_all, fraction=workload.val_fraction,
                                                                  seed=seed)
    data = ((x_train, y_train), (x_test, y_test))
    model = build_model(workload, row)
    steps = workload.epochs * int(np.ceil(len(x_train) / workload.batch_size))
    result: Dict[str, Any] = {"row": row.name, "label": row.label, "family": row.family, "seed": seed,
                              "workload": workload.name, "epochs": workload.epochs}
    if row.tfmot_sparsity is not None:
        model, seconds = _train_tfmot(model, row, workload, data, steps)
    else:
        if row.qr is not None:
            attach_qr(model, **row.qr)
        _compile(model, workload.learning_rate)
        callbacks = [_pruning_callback(row, steps)] if row.pruning else []
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=workload.epochs, batch_size=workload.batch_size, verbose=0,
                  callbacks=callbacks)
        seconds = time.perf_counter() - start
    result["seconds_per_epoch"] = seconds / workload.epochs
    if row.precision_scaling:
        _compile(model, workload.learning_rate * workload.fine_tune_lr_factor)  # small steps keep accuracy
        scaled = scale_precision(model, (x_train, y_train), (x_val, y_val), tolerance=0.10,
                                 fine_tune_epochs=workload.fine_tune_epochs, min_bits=2,
                                 qr_strength=(row.qr or QR)["strength"],
                                 batch_size=workload.batch_size)
        result["precision_scaling"] = {"bits": scaled["bits"], "compression_ratio": scaled["compression_ratio"],
                                       "reference_accuracy": scaled["reference_accuracy"],
                                       "accuracy": scaled["accuracy"], "trials": len(scaled["trials"])}
    result["accuracy"] = float(model.evaluate(x_test, y_test, verbose=0)[1])
    report = compression_report(model)
    result["totals"] = report.totals
    result["layers"] = [{"name": r.name, "macs": r.macs, "full_mults": r.full_mults, "weight_bits": r.weight_bits}
                        for r in report.layers]
    if row.qr is not None or row.family == "ablation":
        result["qr_distance"] = _quantization_distance(model)
    if row.hardware and workdir is not None:
        result["hardware"] = _hardware(model, x_test[: workload.csim_samples], workdir / f"{row.name}_s{seed}")
    return result


def _quantization_distance(model: tf.keras.Model) -> float:
    """Mean |w - Q(w)| over every quantized kernel (how close weights sit to their levels)."""
    from keras_wc.regularizers import quantized_layers

    total, count = 0.0, 0
    for layer, quantizer in quantized_layers(model):
        kernel = layer.kernel.numpy()
        total += float(np.abs(kernel - quantizer(kernel).numpy()).sum())
        count += kernel.size
    return total / max(count, 1)


def _hardware(model: tf.keras.Model, x_csim: np.ndarray, project_dir: Path) -> Dict[str, Any]:
    """SQNAP resource estimate vs stock hls4ml, and C simulation against the emulator."""
    from keras_wc.hls import demo_pipeline, resources
    from keras_wc.models import logits_model

    logits = logits_model(model)
    estimate = resources(logits)
    figures: Dict[str, Any] = {"resources": estimate.totals}
    if len(x_csim):
        summary = demo_pipeline(logits, x_csim, project_dir, overwrite=True)
        figures["csim"] = {"bit_exact": summary.bit_exact, "total": summary.total,
                           "argmax_agreement": summary.argmax_agreement}
    return figures
