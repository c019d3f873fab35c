"""Train and measure one benchmark row (a recipe of ``benchmarks.rows``) on one workload."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import tensorflow as tf

from keras_wc.pipeline import Trained, total_epochs, train
from keras_wc.projects import Recipe, simulate_hls
from keras_wc.report import compression_report

#: reuse factors of the architecture table (hls4ml's Latency and Resource at each)
ARCHITECTURE_REUSE = (1, 4, 16)


@dataclass(frozen=True)
class Workload:
    """A dataset + architecture + training budget shared by every row of a run.

    Args:
        name: id in result files (e.g. ``"lenet5_mnist5k"``).
        recipe: the partial recipe merged into every row (:func:`keras_wc.projects.merge`):
            ``dataset``, ``model`` (architecture, kwargs), ``training`` (epochs, batch size),
            ``hls.csim_samples`` (test images C-simulated for the hardware rows; 0: none).
        hardware_only: run only the float32 reference and the hardware rows.

    Example:
        >>> Workload("lenet5_digits", {"dataset": "digits"}).dataset
        'digits'
    """

    name: str
    recipe: Dict[str, Any] = field(default_factory=dict)
    hardware_only: bool = False

    @property
    def dataset(self) -> str:
        """The workload's :func:`keras_wc.datasets.load` name."""
        return self.recipe["dataset"]


def row_recipe(row: Recipe, workload: Workload, seed: int) -> Recipe:
    """``row`` with the workload's dataset, model and budget, and ``seed``.

    Args:
        row: the row's recipe.
        workload: the workload.
        seed: seed of weights, data order, validation split and dropout.

    Returns:
        The validated recipe actually trained.
    """
    overrides = dict(workload.recipe)
    overrides["training"] = {**workload.recipe.get("training", {}), "seed": seed}
    return row.with_overrides(overrides)


def run_row(row: Recipe, workload: Workload, data, seed: int, workdir: Optional[Path] = None) -> Dict[str, Any]:
    """Train ``row`` on ``workload`` with ``seed`` and measure it.

    Args:
        row: the row's recipe.
        workload: data, architecture and budget.
        data: ``((x_train, y_train), (x_test, y_test))`` of the workload's dataset.
        seed: seed of weights, data order and dropout.
        workdir: where hardware rows write their HLS project (``None``: no HLS).

    Returns:
        A JSON-ready dict: accuracy, report totals, seconds per epoch, precision-scaling
        result, hardware figures.
    """
    recipe = row_recipe(row, workload, seed)
    trained = train(recipe, data)
    epochs = total_epochs(recipe)
    result: Dict[str, Any] = {"row": recipe.name, "label": recipe.label, "family": recipe.benchmark["family"],
                              "seed": seed, "workload": workload.name, "epochs": epochs,
                              "seconds_per_epoch": trained.seconds / epochs, "accuracy": trained.accuracy}
    if trained.precision_scaling is not None:
        result["precision_scaling"] = _precision_scaling(trained)
    report = compression_report(trained.model)
    result["totals"] = report.totals
    result["layers"] = [{"name": r.name, "macs": r.macs, "full_mults": r.full_mults, "weight_bits": r.weight_bits}
                        for r in report.layers]
    if recipe.training["qr"] is not None or recipe.benchmark["family"] == "ablation":
        result["qr_distance"] = _quantization_distance(trained.model)
    if recipe.benchmark["hardware"] and workdir is not None:
        x_csim = data[1][0][: recipe.hls["csim_samples"]]
        result["hardware"] = _hardware(trained.model, recipe, x_csim, workdir / f"{recipe.name}_s{seed}")
    return result


def _precision_scaling(trained: Trained) -> Dict[str, Any]:
    scaled = trained.precision_scaling
    return {"bits": scaled["bits"], "compression_ratio": scaled["compression_ratio"],
            "reference_accuracy": scaled["reference_accuracy"], "accuracy": scaled["accuracy"],
            "trials": len(scaled["trials"])}


def _quantization_distance(model: tf.keras.Model) -> float:
    """Mean |w - Q(w)| over every quantized kernel (how close weights sit to their levels)."""
    from keras_wc.regularizers import quantized_layers

    total, count = 0.0, 0
    for weight in quantized_layers(model):
        kernel = weight.kernel.numpy()
        total += float(np.abs(kernel - weight.quantizer(kernel).numpy()).sum())
        count += kernel.size
    return total / max(count, 1)


def _hardware(model: tf.keras.Model, recipe: Recipe, x_csim: np.ndarray, project_dir: Path) -> Dict[str, Any]:
    """SQNAP resource estimate vs stock hls4ml (Latency RF 1, and both architectures at every
    :data:`ARCHITECTURE_REUSE`), and C simulation against the emulator."""
    from keras_wc.hls import resources
    from keras_wc.hls.settings import STRATEGY_NAMES
    from keras_wc.models import logits_model

    logits = logits_model(model)
    architectures = {f"{strategy} RF {reuse}": resources(logits, reuse, strategy=strategy).totals
                     for strategy in STRATEGY_NAMES for reuse in ARCHITECTURE_REUSE}
    figures: Dict[str, Any] = {"resources": resources(logits).totals, "architectures": architectures}
    if len(x_csim):
        result = simulate_hls(model, recipe, x_csim, project_dir, overwrite=True)
        figures["csim"] = {"bit_exact": result.bit_exact, "total": result.total,
                           "argmax_agreement": float(result.argmax_agreement or 0.0)}
    return figures
