"""Experiment recipes: one YAML schema for the FPGA projects, the demo presets and the benchmarks.

A recipe names the dataset, the reference model, the quantizers, the training (budget, QR,
callbacks, precision scaling, TF-MOT pruning), the HLS settings and what a benchmark table
shows about it; ``docs/recipes.md`` describes every key. Each recipe goes through
:func:`recipe_from_dict` (:func:`load_recipe` for a file), so every one is validated alike:

* ``fpga_projects/<name>/recipe.yaml``: ``keras-wc project build RECIPE`` (:func:`build_project`)
  loads ``model.h5`` beside the recipe (or trains and saves it), converts it into ``project/``
  beside the recipe (or ``--output-dir``), C-simulates ``csim_samples`` test images and writes
  the project's ``README.md``. Conversion from a saved model is deterministic, so a rebuilt
  project equals the committed files byte for byte (``tests/test_projects.py``);
* ``keras_wc/recipes/<method>.yaml``: the presets of ``keras-wc demo --method`` (:func:`packaged_recipe`);
* ``benchmarks/recipes/``: the benchmark rows and the training-step benchmark's methods.
"""

from __future__ import annotations

import copy
import functools
import importlib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import yaml

PathLike = Union[str, Path]
MODEL_FILE = "model.h5"
PROJECT_DIR = "project"
#: the folder of the packaged recipes (the demo presets)
PACKAGED = Path(__file__).resolve().parent / "recipes"
#: keras_wc callbacks a recipe's ``training.callbacks`` may name
CALLBACKS = ("CompressionLogger", "FreezeAssignments", "GradualPruning", "QRSchedule")
#: TF-MOT schedules ``training.tfmot_pruning.schedule`` may name
TFMOT_SCHEDULES = ("ConstantSparsity", "PolynomialDecay")
_REQUIRED = object()
_NONE = type(None)


# -- the schema ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Key:
    """One key of a recipe section: allowed types, default (or required) and an extra check."""

    types: Tuple[type, ...]
    default: Any = _REQUIRED
    check: Optional[Callable[[str, Any], Any]] = None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _section(where: str, given: Mapping[str, Any], keys: Mapping[str, _Key]) -> Dict[str, Any]:
    """``given`` checked against ``keys`` (``where``: the dotted name, ``""`` at the top), defaults filled in."""
    unknown = sorted(set(given) - set(keys))
    if unknown:
        raise ValueError(f"unknown {where + ' ' if where else ''}key(s) {unknown}; allowed: {sorted(keys)}")
    values: Dict[str, Any] = {}
    for name, key in keys.items():
        dotted = f"{where}.{name}" if where else name
        if name not in given:
            if key.default is _REQUIRED:
                raise ValueError(f"missing key {dotted!r}")
            values[name] = copy.deepcopy(key.default)
            continue
        values[name] = _value(dotted, given[name], key)
    return values


def _value(where: str, value: Any, key: _Key) -> Any:
    """``value`` of key ``where`` type-checked (an int is accepted as a float, a bool never as a number)."""
    if float in key.types and _number(value):
        value = float(value)
    elif isinstance(value, bool) and bool not in key.types or not isinstance(value, key.types):
        allowed = " or ".join("null" if t is _NONE else t.__name__ for t in key.types)
        raise ValueError(f"{where} must be {allowed}, got {value!r}")
    return key.check(where, value) if key.check is not None and value is not None else value


def _nested(keys: Mapping[str, _Key]) -> Callable[[str, Any], Dict[str, Any]]:
    return lambda where, value: _section(where, value, keys)


def _check_spec(where: str, spec: Any) -> Any:
    """A quantizer: a QKeras string such as ``"quantized_relu(8,3)"`` or ``{class_name, config}``."""
    if isinstance(spec, str):
        return spec
    return _section(where, spec, {"class_name": _Key((str,)), "config": _Key((dict,), {})})


def _check_named(where: str, spec: Any, allowed: Sequence[str]) -> Dict[str, Any]:
    """A ``{class_name, config}`` whose class is one of ``allowed`` (callbacks, schedules)."""
    spec = _check_spec(where, spec)
    if isinstance(spec, str) or spec["class_name"] not in allowed:
        raise ValueError(f"{where}: {spec!r} is not one of {list(allowed)} as {{class_name, config}}")
    _check_step_fractions(f"{where}.config", spec["config"])
    return spec


def _check_layers(where: str, layers: Mapping[str, Any]) -> Dict[str, Any]:
    return {name: _value(f"{where}.{name}", spec, _QUANTIZER) for name, spec in layers.items()}


def _check_callbacks(where: str, callbacks: List[Any]) -> List[Dict[str, Any]]:
    return [_check_named(f"{where}[{index}]", spec, CALLBACKS) for index, spec in enumerate(callbacks)]


def _check_schedule(where: str, schedule: Mapping[str, Any]) -> Dict[str, Any]:
    return _check_named(where, schedule, TFMOT_SCHEDULES)


def _check_fraction(where: str, value: float) -> float:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{where}={value}: must be in [0, 1)")
    return value


def _check_step_fractions(where: str, value: Any) -> None:
    """Validate every ``{of_training: fraction, at_least: n}`` step count inside ``value``."""
    if isinstance(value, Mapping) and "of_training" in value:
        steps = _section(where, value, _STEPS)
        if not 0.0 <= steps["of_training"] <= 1.0:
            raise ValueError(f"{where}.of_training={steps['of_training']}: must be in [0, 1]")
    elif isinstance(value, Mapping):
        for name, item in value.items():
            _check_step_fractions(f"{where}.{name}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_step_fractions(f"{where}[{index}]", item)


_QUANTIZER = _Key((str, dict, _NONE), None, _check_spec)
_STEPS = {"of_training": _Key((float,)), "at_least": _Key((int,), 0)}
_MODEL = {"architecture": _Key((str,)), "kwargs": _Key((dict,), {}), "input_quantizer": _QUANTIZER,
          "activation_quantizer": _QUANTIZER}
_QUANTIZERS = {"default": _Key(_QUANTIZER.types, _REQUIRED, _check_spec), "layers": _Key((dict,), {}, _check_layers),
               "bias": _QUANTIZER}
_QR = {"strength": _Key((float,)), "p": _Key((int,), 2), "weighting": _Key((str, _NONE), None)}
_PRECISION_SCALING = {"tolerance": _Key((float,), 0.10), "fine_tune_epochs": _Key((int,), 1),
                      "patience": _Key((int,), 0), "min_bits": _Key((int,), 2),
                      "learning_rate_factor": _Key((float,), 0.1), "qr_strength": _Key((float, _NONE), None)}
_TFMOT = {"schedule": _Key((dict,), _REQUIRED, _check_schedule)}
_FINE_TUNE = {"epochs": _Key((int,), 0), "learning_rate_factor": _Key((float,), 0.1)}
_TRAINING = {"epochs": _Key((int,), 20), "batch_size": _Key((int,), 32), "learning_rate": _Key((float,), 0.003),
             "seed": _Key((int,), 0), "val_fraction": _Key((float,), 0.0, _check_fraction),
             "qr": _Key((dict, _NONE), None, _nested(_QR)), "callbacks": _Key((list,), [], _check_callbacks),
             "precision_scaling": _Key((dict, _NONE), None, _nested(_PRECISION_SCALING)),
             "tfmot_pruning": _Key((dict, _NONE), None, _nested(_TFMOT)),
             "fine_tune": _Key((dict, _NONE), None, _nested(_FINE_TUNE))}
_HLS = {"flavor": _Key((str,), "Vitis"), "io_type": _Key((str,), "io_parallel"), "reuse_factor": _Key((int,), 1),
        "project_name": _Key((str,), "myproject"), "csim_samples": _Key((int,), 100),
        "input_format": _Key((str, _NONE), None), "strategy": _Key((str, _NONE), None)}
_BENCHMARK = {"family": _Key((str,), "keras_wc"), "target": _Key((str,), ""), "hardware": _Key((bool,), False),
              "max_step_ratio": _Key((float, _NONE), None)}
#: the sections of a recipe (mappings; an override merges into them key by key)
SECTIONS = {"model": _MODEL, "quantizers": _QUANTIZERS, "training": _TRAINING, "hls": _HLS, "benchmark": _BENCHMARK}
_TOP = {"name": _Key((str,)), "label": _Key((str,), ""), "description": _Key((str,), ""), "dataset": _Key((str,)),
        "model": _Key((dict,)), "quantizers": _Key((dict,)), "training": _Key((dict,), {}),
        "hls": _Key((dict,), {}), "benchmark": _Key((dict,), {})}


@dataclass(frozen=True)
class Recipe:
    """A validated recipe (``docs/recipes.md``).

    Attributes:
        name: id (file and result names); label: short title for tables and progress lines
            (default: ``name``); description: free text; dataset: a :func:`keras_wc.datasets.load` name.
        model: ``architecture`` (a :data:`keras_wc.models.MODELS` name or ``"module:function"``),
            ``kwargs``, ``input_quantizer``, ``activation_quantizer``.
        quantizers: ``default``, per-layer ``layers``, ``bias`` (each ``{class_name, config}``,
            a QKeras string or ``None`` for float).
        training: ``epochs``, ``batch_size``, ``learning_rate``, ``seed``, ``val_fraction``,
            ``qr``, ``callbacks``, ``precision_scaling``, ``tfmot_pruning``, ``fine_tune``.
        hls: ``flavor``, ``io_type``, ``reuse_factor``, ``project_name``, ``csim_samples``, ``input_format``,
            ``strategy`` (``Latency``, ``Resource`` or ``None``: automatic per layer).
        benchmark: ``family``, ``target``, ``hardware``, ``max_step_ratio``.
        path: the recipe file (``None`` for a recipe built from a dict).
    """

    name: str
    label: str
    description: str
    dataset: str
    model: Dict[str, Any]
    quantizers: Dict[str, Any]
    training: Dict[str, Any]
    hls: Dict[str, Any]
    benchmark: Dict[str, Any]
    path: Optional[Path] = None

    @property
    def folder(self) -> Path:
        """The folder of the recipe file."""
        if self.path is None:
            raise ValueError(f"recipe {self.name!r} has no file, so no folder")
        return self.path.parent

    @property
    def model_path(self) -> Path:
        """``model.h5`` beside the recipe file."""
        return self.folder / MODEL_FILE

    def as_dict(self) -> Dict[str, Any]:
        """The recipe as the mapping it was validated from (defaults filled in, no ``path``).

        Example:
            >>> packaged_recipe("swc").as_dict()["training"]["epochs"]
            8
        """
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name != "path"}

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Recipe":
        """A new recipe with ``overrides`` merged in (see :func:`merge`) and validated again.

        Args:
            overrides: partial recipe, e.g. ``{"training": {"epochs": 1}}``.

        Returns:
            The validated :class:`Recipe` (same ``path``).

        Example:
            >>> packaged_recipe("swc").with_overrides({"training": {"seed": 3}}).training["seed"]
            3
        """
        return recipe_from_dict(merge(self.as_dict(), overrides), path=self.path)


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """``base`` with ``overrides``: a section (:data:`SECTIONS`) merges key by key, anything else is replaced.

    A value inside a section (a quantizer, ``training.qr``, ``model.kwargs``) is replaced whole.

    Args:
        base: a recipe mapping.
        overrides: a partial recipe mapping.

    Returns:
        A new mapping (not validated).

    Example:
        >>> merge({"training": {"epochs": 8, "seed": 0}}, {"training": {"epochs": 1}})
        {'training': {'epochs': 1, 'seed': 0}}
    """
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if key in SECTIONS and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **copy.deepcopy(dict(value))}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def recipe_from_dict(raw: Mapping[str, Any], path: Optional[PathLike] = None) -> Recipe:
    """Validate a recipe mapping (what a recipe YAML holds).

    Args:
        raw: the mapping.
        path: the file it came from (named in errors; ``None``: built in code).

    Returns:
        The :class:`Recipe` with defaults filled in.

    Raises:
        ValueError: a missing, mistyped or unknown key, named with its dotted path.

    Example:
        >>> recipe_from_dict({"name": "x", "dataset": "digits", "model": {"architecture": "mlp"},
        ...                   "quantizers": {"default": {"class_name": "DFP", "config": {"bits": 8}}}}).hls["flavor"]
        'Vitis'
    """
    where = path if path is not None else _name(raw)
    try:
        if not isinstance(raw, Mapping):
            raise ValueError("expected a mapping at the top level")
        values = _section("", raw, _TOP)
        for section, keys in SECTIONS.items():
            values[section] = _section(section, values[section], keys)
        _check_training(values["training"])
    except ValueError as error:
        raise ValueError(f"recipe {where}: {error}") from None
    values["label"] = values["label"] or values["name"]
    return Recipe(**values, path=Path(path).resolve() if path is not None else None)


def _name(raw: Any) -> str:
    """What errors call a recipe that has no file: its name, if any."""
    return str(raw.get("name", "<dict>")) if isinstance(raw, Mapping) else "<dict>"


def _check_training(training: Mapping[str, Any]) -> None:
    scaling = training["precision_scaling"]
    if scaling is not None and training["val_fraction"] == 0:
        raise ValueError("training.precision_scaling needs training.val_fraction > 0 (its validation set)")
    if scaling is not None and scaling["qr_strength"] is None and training["qr"] is None:
        raise ValueError("training.precision_scaling.qr_strength is required when training.qr is null")
    if training["tfmot_pruning"] is not None and (training["qr"] is not None or training["callbacks"]):
        raise ValueError("training.tfmot_pruning trains with TF-MOT alone: training.qr and training.callbacks "
                         "must be empty")
    for key in ("epochs", "batch_size"):
        if training[key] < 1:
            raise ValueError(f"training.{key}={training[key]}: must be >= 1")
    fine_tune = training["fine_tune"]
    if fine_tune is not None and (fine_tune["epochs"] < 0 or not 0 < fine_tune["learning_rate_factor"] <= 1):
        raise ValueError(f"training.fine_tune={dict(fine_tune)}: epochs must be >= 0 and learning_rate_factor "
                         "in (0, 1]")
    if fine_tune is not None and training["tfmot_pruning"] is not None:
        raise ValueError("training.fine_tune: not with training.tfmot_pruning (TF-MOT trains alone)")


def load_recipe(path: PathLike, overrides: Optional[Mapping[str, Any]] = None) -> Recipe:
    """Read and validate a recipe YAML.

    Args:
        path: the recipe file.
        overrides: optional partial recipe merged in before validation (see :func:`merge`).

    Returns:
        The :class:`Recipe` with defaults filled in.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a missing, mistyped or unknown key (named).

    Example:
        >>> recipe = load_recipe("fpga_projects/digits_mlp_ternary/recipe.yaml")
        >>> recipe.hls["flavor"]
        'Vitis'
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe {path} does not exist")
    raw = yaml.safe_load(path.read_text()) or {}
    if overrides and isinstance(raw, Mapping):
        raw = merge(raw, overrides)
    return recipe_from_dict(raw, path=path)


def packaged_recipes() -> Tuple[str, ...]:
    """Names of the recipes shipped in ``keras_wc/recipes/`` (the demo presets).

    Returns:
        The sorted file stems.

    Example:
        >>> "swc-po2" in packaged_recipes()
        True
    """
    return tuple(sorted(p.stem for p in PACKAGED.glob("*.yaml")))


def packaged_recipe(name: str, overrides: Optional[Mapping[str, Any]] = None) -> Recipe:
    """Load a shipped recipe by name.

    Args:
        name: one of :func:`packaged_recipes`.
        overrides: optional partial recipe merged in.

    Returns:
        The :class:`Recipe`.

    Example:
        >>> packaged_recipe("ternary").quantizers["layers"]["logits"]["class_name"]
        'DFP'
    """
    if name not in packaged_recipes():
        raise ValueError(f"recipe={name!r}: expected one of {list(packaged_recipes())}")
    return load_recipe(PACKAGED / f"{name}.yaml", overrides)


# -- from a recipe to Keras objects -----------------------------------------------------------
def make_quantizer(spec: Any, where: str = "quantizer") -> Any:
    """A fresh quantizer from a recipe spec.

    Args:
        spec: ``None`` (float), a QKeras string (returned as is: the layer parses it) or
            ``{class_name, config}`` naming a keras_wc or QKeras quantizer class.
        where: the recipe key, named in errors.

    Returns:
        The quantizer instance, the string or ``None``.

    Example:
        >>> make_quantizer({"class_name": "quantized_bits", "config": {"bits": 4, "integer": 0, "alpha": 1}})
        quantized_bits(4,0,0,alpha=1)
    """
    if spec is None or isinstance(spec, str):
        return spec
    quantizers = _quantizer_classes()
    name = spec["class_name"]
    if name not in quantizers:
        raise ValueError(f"{where}: unknown quantizer class {name!r}; known: {sorted(quantizers)}")
    try:
        return quantizers[name].from_config(dict(spec.get("config", {})))
    except TypeError as error:
        raise ValueError(f"{where}: {name} config {spec.get('config', {})}: {error}") from None


@functools.lru_cache(maxsize=None)
def _quantizer_classes() -> Dict[str, type]:
    """Quantizer classes by plain name: keras_wc's and QKeras' (from the registry's ``custom_objects``)."""
    from qkeras.quantizers import BaseQuantizer

    from .quantizers.registry import custom_objects

    return {name: cls for name, cls in custom_objects().items()
            if isinstance(cls, type) and issubclass(cls, BaseQuantizer) and ">" not in name}


class _KernelQuantizers:
    """``factory(layer_name, shape)`` of ``quantizers`` (per-layer entries win); remembers the names asked for."""

    def __init__(self, quantizers: Mapping[str, Any]):
        self.default = quantizers["default"]
        self.layers = dict(quantizers["layers"])
        self.seen: set = set()

    def __call__(self, name: str, shape) -> Any:
        self.seen.add(name)
        if name in self.layers:
            return make_quantizer(self.layers[name], f"quantizers.layers.{name}")
        return make_quantizer(self.default, "quantizers.default")

    def check_names(self) -> None:
        """Reject ``quantizers.layers`` names that are no weight layer of the model (typos)."""
        unknown = sorted(set(self.layers) - self.seen)
        if unknown:
            raise ValueError(f"quantizers.layers: no weight layer named {unknown}; the model's are {sorted(self.seen)}")


def _architecture(name: str) -> Callable[..., Any]:
    """The model function: a :data:`keras_wc.models.MODELS` name or ``"package.module:function"``."""
    if ":" not in name:
        from . import models

        return functools.partial(models.build, name)
    module, function = name.split(":", 1)
    builder = getattr(importlib.import_module(module), function, None)
    if not callable(builder):
        raise ValueError(f"model.architecture={name!r}: {module} has no function {function!r}")
    return builder


def build_model(recipe: Recipe):
    """The recipe's model with its quantizers (untrained, uncompiled).

    Args:
        recipe: the recipe.

    Returns:
        The Keras model.

    Example:
        >>> build_model(packaged_recipe("swc")).get_layer("conv1").kernel_quantizer_internal.group
        'kernel'
    """
    spec = recipe.model
    kernel = _KernelQuantizers(recipe.quantizers)
    bias = recipe.quantizers["bias"]
    bias_factory = (lambda name, shape: make_quantizer(bias, "quantizers.bias")) if bias is not None else None
    model = _architecture(spec["architecture"])(
        quantizer=kernel, bias_quantizer=bias_factory,
        input_quantizer=make_quantizer(spec["input_quantizer"], "model.input_quantizer"),
        activation_quantizer=make_quantizer(spec["activation_quantizer"], "model.activation_quantizer"),
        **spec["kwargs"])
    kernel.check_names()
    return model


def resolve_steps(value: Any, steps: int) -> Any:
    """``value`` with every ``{of_training: f, at_least: n}`` replaced by ``max(n, int(steps * f))``.

    Args:
        value: a callback or schedule config (nested mappings and lists).
        steps: optimizer steps of the whole training.

    Returns:
        A new value with plain step counts.

    Example:
        >>> resolve_steps({"begin_step": {"of_training": 0.2}, "frequency": {"of_training": 0.02, "at_least": 1}}, 40)
        {'begin_step': 8, 'frequency': 1}
    """
    if isinstance(value, Mapping) and "of_training" in value:
        return max(int(value.get("at_least", 0)), int(steps * value["of_training"]))
    if isinstance(value, Mapping):
        return {key: resolve_steps(item, steps) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_steps(item, steps) for item in value]
    return value


def training_callbacks(recipe: Recipe, steps: int) -> List[Any]:
    """The keras_wc callbacks of ``recipe.training.callbacks`` for a training of ``steps`` steps.

    Args:
        recipe: the recipe.
        steps: optimizer steps of the whole training (resolves ``of_training`` step counts).

    Returns:
        The callback instances, in recipe order.
    """
    from . import callbacks

    return [getattr(callbacks, spec["class_name"])(**resolve_steps(spec["config"], steps))
            for spec in recipe.training["callbacks"]]


def _conversion(model, recipe: Recipe, x_test):
    """The checked conversion of ``model``'s ``logits`` layer with the recipe's HLS settings."""
    from .hls.convert import prepare_conversion
    from .models import logits_model

    hls = recipe.hls
    return prepare_conversion(logits_model(model), flavor=hls["flavor"], io_type=hls["io_type"],
                              project_name=hls["project_name"], input_format=hls["input_format"],
                              reuse_factor=hls["reuse_factor"], strategy=hls["strategy"], x_test=x_test)


def simulate_hls(model, recipe: Recipe, x_test, output_dir: PathLike, overwrite: bool = False):
    """Convert ``model`` with the recipe's HLS settings into ``output_dir`` and C-simulate ``x_test``.

    The project is written and simulated in a hidden folder beside ``output_dir`` and moved
    into place when both succeeded (:func:`keras_wc.output_folder.staged_output_dir`).

    Args:
        model: the trained Keras model (its ``logits`` layer is converted).
        recipe: the recipe (its ``hls`` section).
        x_test: the test inputs simulated.
        output_dir: the project folder.
        overwrite: replace a folder keras_wc wrote.

    Returns:
        The :class:`keras_wc.hls.csim.CSimResult` (its ``project_dir`` is ``output_dir``).

    Raises:
        FileExistsError: ``output_dir`` may not be written (:func:`keras_wc.output_folder.check_output_dir`).
        ValueError: from :func:`keras_wc.hls.convert.prepare_conversion`.

    Example:
        >>> simulate_hls(model, packaged_recipe("swc"), x_test[:100], "prj").all_bit_exact
        True
    """
    from .hls import csim
    from .output_folder import check_output_dir, staged_output_dir

    conversion = _conversion(model, recipe, x_test)
    target = check_output_dir(output_dir, overwrite)
    with staged_output_dir(target, overwrite) as stage:
        conversion.write(stage)
        result = csim(stage)
    return replace(result, project_dir=target)


# -- FPGA projects ------------------------------------------------------------------------------
def trained_model(recipe: Recipe, retrain: bool = False, echo: Callable[[str], None] = print):
    """Load ``model.h5`` beside the recipe, or train and save it.

    Args:
        recipe: the recipe.
        retrain: train even when ``model.h5`` exists (and replace it).
        echo: progress lines.

    Returns:
        The trained Keras model.

    Raises:
        ValueError: ``model.h5`` cannot be loaded (corrupt, another format): one line.

    Example:
        >>> trained_model(load_recipe("fpga_projects/digits_mlp_ternary/recipe.yaml")).name
        'mlp'
    """
    from . import datasets
    from .model_file import load_model
    from .pipeline import train

    if recipe.model_path.exists() and not retrain:
        echo(f"loading {recipe.model_path}")
        return load_model(recipe.model_path)
    echo(f"training {recipe.model['architecture']} on {recipe.dataset} for {recipe.training['epochs']} epochs")
    trained = train(recipe, datasets.load(recipe.dataset))
    echo(f"test accuracy {trained.accuracy:.4f}; saving {recipe.model_path}")
    trained.model.save(recipe.model_path)
    return trained.model


def build_project(recipe_path: PathLike, output_dir: Optional[PathLike] = None, retrain: bool = False,
                  overwrite: bool = False, echo: Callable[[str], None] = print):
    """Train/load, convert, C-simulate and document one recipe's project.

    The project (conversion, C simulation, ``README.md``) is written in a hidden folder beside
    the project folder and moved into place only when all of it succeeded.

    Args:
        recipe_path: the recipe YAML.
        output_dir: the project folder (default: ``project/`` beside the recipe).
        retrain: retrain the model even if ``model.h5`` exists.
        overwrite: replace a project folder keras_wc wrote (never one holding other files).
        echo: progress lines.

    Returns:
        The :class:`keras_wc.hls.csim.CSimResult` (its ``project_dir`` is the project folder).

    Raises:
        FileNotFoundError: no recipe file.
        FileExistsError: the project folder may not be written (:func:`keras_wc.output_folder.check_output_dir`).
        ValueError: an invalid recipe, an unloadable ``model.h5``, or refused HLS settings.

    Example:
        >>> build_project("fpga_projects/digits_mlp_ternary/recipe.yaml", overwrite=True).all_bit_exact
        True
    """
    from . import datasets
    from .hls import csim
    from .hls.strategy import architecture_table
    from .output_folder import check_output_dir, staged_output_dir
    from .report import compression_report

    recipe = load_recipe(recipe_path)
    target = check_output_dir(Path(output_dir) if output_dir is not None else recipe.folder / PROJECT_DIR, overwrite)
    model = trained_model(recipe, retrain=retrain, echo=echo)
    _, (x_test, y_test) = datasets.load(recipe.dataset)
    conversion = _conversion(model, recipe, x_test[: recipe.hls["csim_samples"]])
    echo(f"converting to an SQNAP {recipe.hls['flavor']} project in {target}")
    with staged_output_dir(target, overwrite) as stage:
        hls_model = conversion.write(stage)
        echo(f"C simulation on {len(conversion.x_test)} test images")
        result = csim(stage)
        accuracy = float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean())
        (stage / "README.md").write_text(_readme(recipe, compression_report(model), result, accuracy,
                                                 architecture_table(hls_model)))
    echo(result.summary())
    return replace(result, project_dir=target)


def _readme(recipe: Recipe, report, result, accuracy: float, architectures: str) -> str:
    """The project's ``README.md``: description, accuracy, HLS settings, C-simulation line, each layer's
    architecture (:func:`keras_wc.hls.strategy.architecture_table`), compression report."""
    hls = recipe.hls
    command = f"keras-wc project build fpga_projects/{recipe.folder.name}/recipe.yaml"
    return "\n".join([
        f"# {recipe.name}",
        "",
        recipe.description.strip(),
        "",
        f"Generated by `{command}` from `{MODEL_FILE}`; do not edit. The repository keeps only this "
        "project's own files ([fpga_projects/README.md](../../README.md)); add `--overwrite` to that command "
        "to write the full buildable project.",
        "",
        f"- dataset: `{recipe.dataset}`; Keras test accuracy of the trained model: {accuracy:.4f}",
        f"- HLS: {hls['flavor']} project `{hls['project_name']}`, {hls['io_type']}, reuse factor "
        f"{hls['reuse_factor']}; synthesize with `vitis_hls -f build_prj.tcl` (Vitis) or "
        "`vivado_hls -f build_prj.tcl` (Vivado)",
        f"- {result.summary()}",
        "",
        "## Architecture",
        "",
        architectures,
        "",
        "## Compression report",
        "",
        report.to_markdown(),
        "",
    ])
