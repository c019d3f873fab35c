"""FPGA project recipes: one YAML file -> a trained model, an SQNAP HLS project, its C simulation.

A recipe (``fpga_projects/<name>/recipe.yaml``) names the dataset, the reference model, the
quantizers, the training budget and the HLS settings. ``keras-wc project build RECIPE``:

1. loads ``model.h5`` beside the recipe, or trains the model (``--train``, or when the file
   is missing) and saves it there;
2. converts it with :func:`keras_wc.hls.convert` into ``project/`` beside the recipe (or
   ``--output-dir``), refusing a non-empty folder unless ``overwrite``;
3. runs :func:`keras_wc.hls.csim` on the first ``csim_samples`` test images;
4. writes the project's ``README.md`` with its compression report and C-simulation result.

Conversion from a saved model is deterministic, so a rebuilt project is byte-identical to the
committed one (the CI check in ``tests/test_projects.py``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Union

import yaml

PathLike = Union[str, Path]
MODEL_FILE = "model.h5"
PROJECT_DIR = "project"

_SCHEMA: Dict[str, Dict[str, Any]] = {
    "name": {"type": str},
    "description": {"type": str, "default": ""},
    "dataset": {"type": str},
    "model": {"type": dict},
    "quantizers": {"type": dict},
    "training": {"type": dict, "default": {}},
    "hls": {"type": dict, "default": {}},
}
_TRAINING_DEFAULTS = {"epochs": 20, "batch_size": 32, "learning_rate": 0.003, "seed": 0}
_HLS_DEFAULTS = {"flavor": "Vitis", "io_type": "io_parallel", "reuse_factor": 1, "project_name": "myproject",
                 "csim_samples": 100, "input_format": None}


@dataclass(frozen=True)
class Recipe:
    """A validated project recipe.

    Attributes:
        path: the recipe file.
        name, description, dataset: as in the YAML.
        model: ``{"architecture": str, "kwargs": {...}, "input_quantizer": ..., "activation_quantizer": ...}``.
        quantizers: ``{"default": {class_name, config}, "layers": {name: {...}}, "bias": {...}}``.
        training: epochs, batch_size, learning_rate, seed.
        hls: flavor, io_type, reuse_factor, project_name, csim_samples, input_format.
    """

    path: Path
    name: str
    description: str
    dataset: str
    model: Dict[str, Any]
    quantizers: Dict[str, Any]
    training: Dict[str, Any]
    hls: Dict[str, Any]

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def model_path(self) -> Path:
        return self.folder / MODEL_FILE


def load_recipe(path: PathLike) -> Recipe:
    """Read and validate a recipe YAML.

    Args:
        path: the recipe file.

    Returns:
        The :class:`Recipe` with defaults filled in.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a missing or mistyped key, or an unknown key (named).

    Example:
        >>> recipe = load_recipe("fpga_projects/digits_mlp_ternary/recipe.yaml")
        >>> recipe.hls["flavor"]
        'Vitis'
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe {path} does not exist")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"recipe {path}: expected a mapping at the top level")
    unknown = sorted(set(raw) - set(_SCHEMA))
    if unknown:
        raise ValueError(f"recipe {path}: unknown key(s) {unknown}; allowed: {sorted(_SCHEMA)}")
    values: Dict[str, Any] = {}
    for key, rule in _SCHEMA.items():
        if key not in raw:
            if "default" not in rule:
                raise ValueError(f"recipe {path}: missing key {key!r}")
            values[key] = copy.deepcopy(rule["default"])
            continue
        if not isinstance(raw[key], rule["type"]):
            raise ValueError(f"recipe {path}: {key!r} must be a {rule['type'].__name__}, got {raw[key]!r}")
        values[key] = raw[key]
    if "architecture" not in values["model"]:
        raise ValueError(f"recipe {path}: model.architecture is required (e.g. 'mlp', 'lenet5')")
    if "default" not in values["quantizers"]:
        raise ValueError(f"recipe {path}: quantizers.default is required ({{class_name: ..., config: ...}})")
    values["training"] = _merge(path, "training", _TRAINING_DEFAULTS, values["training"])
    values["hls"] = _merge(path, "hls", _HLS_DEFAULTS, values["hls"])
    return Recipe(path=path.resolve(), **values)


def _merge(path: Path, section: str, defaults: Mapping[str, Any], given: Mapping[str, Any]) -> Dict[str, Any]:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"recipe {path}: unknown {section} key(s) {unknown}; allowed: {sorted(defaults)}")
    return {**defaults, **given}


def _quantizer(spec: Optional[Mapping[str, Any]]):
    if spec is None:
        return None
    from qkeras import get_quantizer

    from . import quantizers  # noqa: F401  (registers the keras_wc classes)

    return get_quantizer({"class_name": spec["class_name"], "config": dict(spec.get("config", {}))})


def quantizer_factory(recipe: Recipe) -> Callable[[str, Any], Any]:
    """``factory(layer_name, shape)`` from ``recipe.quantizers`` (per-layer entries win)."""
    layers = recipe.quantizers.get("layers", {}) or {}

    def factory(name: str, shape) -> Any:
        return _quantizer(layers.get(name, recipe.quantizers["default"]))

    return factory


def build_model(recipe: Recipe):
    """The recipe's reference model with its quantizers (untrained)."""
    from . import models

    spec = recipe.model
    bias = recipe.quantizers.get("bias")
    return models.build(spec["architecture"], quantizer=quantizer_factory(recipe),
                        bias_quantizer=(lambda name, shape: _quantizer(bias)) if bias else None,
                        input_quantizer=spec.get("input_quantizer"),
                        activation_quantizer=spec.get("activation_quantizer"), **spec.get("kwargs", {}))


def trained_model(recipe: Recipe, retrain: bool = False, echo: Callable[[str], None] = print):
    """Load ``model.h5`` beside the recipe, or train and save it.

    Args:
        recipe: the recipe.
        retrain: train even when ``model.h5`` exists (and replace it).
        echo: progress lines.

    Returns:
        The trained Keras model.
    """
    import tensorflow as tf

    from . import custom_objects, datasets
    from .pipeline import train

    if recipe.model_path.exists() and not retrain:
        echo(f"loading {recipe.model_path}")
        return tf.keras.models.load_model(recipe.model_path, custom_objects=custom_objects(), compile=False)
    training = recipe.training
    echo(f"training {recipe.model['architecture']} on {recipe.dataset} for {training['epochs']} epochs")
    model = build_model(recipe)
    accuracy = train(model, datasets.load(recipe.dataset), training["epochs"], training["seed"],
                     batch_size=training["batch_size"], learning_rate=training["learning_rate"], verbose=0)
    echo(f"test accuracy {accuracy:.4f}; saving {recipe.model_path}")
    model.save(recipe.model_path)
    return model


def build_project(recipe_path: PathLike, output_dir: Optional[PathLike] = None, retrain: bool = False,
                  overwrite: bool = False, echo: Callable[[str], None] = print):
    """Train/load, convert, C-simulate and document one recipe's project.

    Args:
        recipe_path: the recipe YAML.
        output_dir: the project folder (default: ``project/`` beside the recipe).
        retrain: retrain the model even if ``model.h5`` exists.
        overwrite: replace a non-empty ``output_dir``.
        echo: progress lines.

    Returns:
        The :class:`keras_wc.hls.csim.CSimResult`.
    """
    from . import datasets
    from .hls import convert, csim
    from .hls.convert import check_output_dir
    from .models import logits_model
    from .report import compression_report

    recipe = load_recipe(recipe_path)
    target = Path(output_dir) if output_dir is not None else recipe.folder / PROJECT_DIR
    check_output_dir(target, overwrite)
    model = trained_model(recipe, retrain=retrain, echo=echo)
    _, (x_test, y_test) = datasets.load(recipe.dataset)
    hls = recipe.hls
    samples = x_test[: hls["csim_samples"]]
    echo(f"converting to an SQNAP {hls['flavor']} project in {target}")
    logits = logits_model(model)
    convert(logits, target, flavor=hls["flavor"], io_type=hls["io_type"], project_name=hls["project_name"],
            input_format=hls["input_format"], reuse_factor=hls["reuse_factor"], x_test=samples, overwrite=overwrite)
    echo(f"C simulation on {len(samples)} test images")
    result = csim(target)
    accuracy = float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean())
    (target / "README.md").write_text(_readme(recipe, compression_report(model), result, accuracy))
    echo(result.summary())
    return result


def _readme(recipe: Recipe, report, result, accuracy: float) -> str:
    hls = recipe.hls
    return "\n".join([
        f"# {recipe.name}",
        "",
        recipe.description.strip(),
        "",
        f"Generated by `keras-wc project build fpga_projects/{recipe.folder.name}/recipe.yaml` from "
        f"`{MODEL_FILE}`; do not edit.",
        "",
        f"- dataset: `{recipe.dataset}`; Keras test accuracy of the trained model: {accuracy:.4f}",
        f"- HLS: {hls['flavor']} project `{hls['project_name']}`, {hls['io_type']}, reuse factor "
        f"{hls['reuse_factor']}; synthesize with `vitis_hls -f build_prj.tcl` (Vitis) or "
        "`vivado_hls -f build_prj.tcl` (Vivado)",
        f"- {result.summary()}",
        "",
        "## Compression report",
        "",
        report.to_markdown(),
        "",
    ])
