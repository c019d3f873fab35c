"""One trial of a search: a recipe with the trial's per-layer quantizers, trained and scored.

A trial builds the recipe's model with the suggested quantizers (:mod:`.space`), trains it with
the recipe's training section exactly as :func:`keras_wc.pipeline.train` does (its callbacks, QR,
precision scaling and seed; the recipe's ``GradualPruning`` is replaced by one ramping each pruning
SWC layer to its suggested final ``prune_threshold`` and each SparseTernary layer from ``n`` to ``k``
non-zeros per group), scores it on the held-out **validation**
part of the training split (never the test split) and measures
its cost with :func:`keras_wc.hls.resources` (memory bits, full multiplications, and the
gate-level LUT/DSP estimate). The trainer is a ``"module:function"`` so that worker processes
import it by name (a test passes one that fails on purpose).

Example:
    >>> trainer = load_trainer(DEFAULT_TRAINER)
    >>> model, accuracy = trainer(trial_recipe(recipe, layers, {}, val_fraction=0.2), (x_train, y_train))
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..projects import Recipe, build_model

DEFAULT_TRAINER = "keras_wc.search.objective:train_on_validation"
#: the cost figures a trial records (``pareto.json``'s point fields)
COSTS = ("memory_bits", "full_mults", "lut", "dsp")
#: the pruning ramp of a searched SWC or SparseTernary layer (the benchmark rows' schedule)
PRUNING_SCHEDULE = {"class_name": "PolynomialDecay",
                    "config": {"initial_sparsity": 0.0, "final_sparsity": 0.5,
                               "begin_step": {"of_training": 0.2}, "end_step": {"of_training": 0.8},
                               "frequency": {"of_training": 0.02, "at_least": 1}}}

@dataclass(frozen=True)
class WeightLayer:
    """A layer the search chooses a quantizer for: its name and inputs per output."""

    name: str
    fan_in: int


def weight_layers(recipe: Recipe) -> List[WeightLayer]:
    """The recipe model's weight layers (every layer with a kernel quantizer), in model order.

    Example:
        >>> [layer.name for layer in weight_layers(packaged_recipe("swc"))]
        ['conv1', 'conv2', 'fc1', 'fc2', 'logits']
    """
    import numpy as np

    out = []
    for layer in build_model(recipe).layers:
        if not hasattr(layer, "kernel_quantizer"):
            continue
        shape = tuple(int(d) for d in (layer.depthwise_kernel if hasattr(layer, "depthwise_kernel")
                                       else layer.kernel).shape)
        spatial = hasattr(layer, "depthwise_kernel")
        out.append(WeightLayer(layer.name, int(np.prod(shape[:2] if spatial else shape[:-1]))))
    return out


def trial_recipe(recipe: Recipe, layers: Mapping[str, Any], pruning: Mapping[str, float],
                 val_fraction: float, epochs: Optional[int] = None) -> Recipe:
    """The recipe of one configuration: ``layers`` as per-layer quantizers, the search's pruning.

    Args:
        recipe: the searched recipe.
        layers: ``{layer: quantizer spec}`` for every weight layer.
        pruning: ``{layer: final pruning target}`` (:func:`~.space.pruning_targets`).
        val_fraction: the validation share of the training split the trial is scored on.
        epochs: training epochs (``None``: the recipe's).

    Returns:
        The validated :class:`~keras_wc.projects.Recipe` (it rebuilds the configuration:
        ``keras-wc project build`` accepts it written as YAML).
    """
    callbacks = [c for c in recipe.training["callbacks"] if c["class_name"] != "GradualPruning"]
    if pruning:
        callbacks.append({"class_name": "GradualPruning",
                          "config": {"schedule": copy.deepcopy(PRUNING_SCHEDULE), "target": dict(pruning),
                                     "layers": sorted(pruning)}})
    training: Dict[str, Any] = {"callbacks": callbacks, "val_fraction": float(val_fraction)}
    if epochs is not None:
        training["epochs"] = int(epochs)
    overrides = {"quantizers": {"layers": copy.deepcopy(dict(layers))}, "training": training}
    raw = recipe.as_dict()
    raw["quantizers"]["layers"] = {}  # the search's choice replaces every per-layer entry
    from ..projects import merge, recipe_from_dict

    return recipe_from_dict(merge(raw, overrides), path=recipe.path)


def train_on_validation(recipe: Recipe, train_split: Tuple[Any, Any]) -> Tuple[Any, float]:
    """Train a trial's recipe exactly as :func:`keras_wc.pipeline.train` does and score it on validation.

    The recipe's ``val_fraction`` splits ``train_split`` (stratified, seeded); the model trains on the
    rest and is scored on the held-out part, so ``keras-wc project build`` of the exported recipe
    repeats the same training.

    Args:
        recipe: a trial's recipe (``training.val_fraction > 0``).
        train_split: ``(x_train, y_train)`` of the dataset (never its test split).

    Returns:
        The trained model and its validation accuracy.
    """
    from .. import datasets
    from ..pipeline import train

    x, y = train_split
    validation = datasets.train_val_split(x, y, fraction=recipe.training["val_fraction"],
                                          seed=recipe.training["seed"])[1]
    trained = train(recipe, ((x, y), validation))  # train() holds the same part out and scores on it
    return trained.model, trained.accuracy


def load_trainer(name: str) -> Callable[[Recipe, Tuple[Any, Any]], Tuple[Any, float]]:
    """The trainer function named ``"module:function"``.

    Raises:
        ValueError: not ``module:function``, or no such function.
    """
    module, _, function = name.partition(":")
    trainer = getattr(importlib.import_module(module), function, None) if function else None
    if not callable(trainer):
        raise ValueError(f"trainer={name!r}: expected 'module:function' naming a function")
    return trainer


def costs(model: Any, recipe: Recipe) -> Dict[str, Optional[int]]:
    """The cost figures of a trained model (:data:`COSTS`), from :func:`keras_wc.hls.resources`.

    ``memory_bits``: the SQNAP design's weight bits; ``full_mults``: its full multipliers (Latency,
    reuse factor 1: one per full multiplication); ``lut``/``dsp``: the gate-level estimate (``None``
    when a layer is too large for the Latency architecture, see :mod:`keras_wc.hls.resources`).
    """
    from ..hls.resources import resources
    from ..models import logits_model

    hls = recipe.hls
    totals = resources(logits_model(model), reuse_factor=1, input_format=hls["input_format"],
                       strategy="Latency", flavor=hls["flavor"]).totals
    return {"memory_bits": totals["sqnap_weight_bits"], "full_mults": totals["sqnap_multipliers"],
            "lut": totals["lut"], "dsp": totals["dsp"]}
