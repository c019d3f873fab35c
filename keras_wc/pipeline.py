"""Training a recipe, and the end-to-end job behind ``keras-wc demo``: train -> report -> HLS -> C simulation.

:func:`train` runs a recipe's ``training`` section (seed, validation split, QR, callbacks,
precision scaling or TF-MOT pruning) for the FPGA projects, the demo and the benchmarks;
:func:`run_demo` trains one of the packaged recipes (``keras_wc/recipes/<method>.yaml``) and
prints one line per stage.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple

from .projects import Recipe, build_model, packaged_recipe, packaged_recipes, resolve_steps, training_callbacks

#: what ``--quick`` changes in a demo recipe
QUICK = {"training": {"epochs": 4}, "hls": {"csim_samples": 200}}


@dataclass
class Trained:
    """What :func:`train` produced.

    Attributes:
        model: the trained, compiled Keras model.
        accuracy: test accuracy.
        seconds: wall time of the training ``fit`` (without precision scaling).
        precision_scaling: :func:`keras_wc.callbacks.scale_precision`'s result, or ``None``.
    """

    model: Any
    accuracy: float
    seconds: float
    precision_scaling: Optional[Dict[str, Any]] = None


def compile_model(model, learning_rate: float) -> None:
    """Compile with Adam, sparse categorical cross-entropy on the softmax output and accuracy.

    Args:
        model: a Keras model ending in a softmax.
        learning_rate: Adam learning rate.
    """
    import tensorflow as tf

    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])


def training_steps(recipe: Recipe, samples: int) -> int:
    """Optimizer steps of the recipe's ``training.epochs`` on ``samples`` examples: the span its
    callbacks' schedules resolve against (``training.fine_tune`` epochs come after it).

    Example:
        >>> training_steps(packaged_recipe("swc"), 1000)
        256
    """
    return recipe.training["epochs"] * math.ceil(samples / recipe.training["batch_size"])


def total_epochs(recipe: Recipe) -> int:
    """Epochs of the recipe's ``fit``: ``training.epochs`` plus ``training.fine_tune.epochs``.

    Example:
        >>> total_epochs(packaged_recipe("swc", {"training": {"epochs": 8, "fine_tune": {"epochs": 4}}}))
        12
    """
    fine_tune = recipe.training["fine_tune"]
    return recipe.training["epochs"] + (fine_tune["epochs"] if fine_tune is not None else 0)


def fine_tune_schedule(recipe: Recipe) -> List[Any]:
    """The learning-rate callback of ``training.fine_tune`` (none without it).

    The fine-tuning epochs follow ``training.epochs`` in the same ``fit``: the callbacks' schedules
    (``of_training`` step counts) span ``training.epochs`` only, so pruning ramps and QR schedules
    have reached their final values, and the learning rate drops to ``learning_rate *
    learning_rate_factor`` (this project's choice of "longer fine-tuning").
    """
    import tensorflow as tf

    fine_tune = recipe.training["fine_tune"]
    if fine_tune is None or fine_tune["epochs"] == 0:
        return []
    main, rate = recipe.training["epochs"], recipe.training["learning_rate"]
    low = rate * fine_tune["learning_rate_factor"]
    return [tf.keras.callbacks.LearningRateScheduler(lambda epoch, _: rate if epoch < main else low)]


def fit(model, recipe: Recipe, x, y, verbose: int = 0, extra_callbacks: Sequence[Any] = ()) -> Tuple[Any, float]:
    """Attach the recipe's QR, compile and fit with its callbacks (and its fine-tuning epochs).

    Args:
        model: the recipe's model (:func:`keras_wc.projects.build_model`).
        recipe: the recipe (``training``: epochs, batch size, learning rate, qr, callbacks, fine_tune).
        x, y: training data.
        verbose: Keras verbosity.
        extra_callbacks: callbacks run before the recipe's (timers, loggers).

    Returns:
        The Keras ``History`` and the wall time of ``fit`` in seconds.
    """
    from .regularizers import attach_qr

    training = recipe.training
    if training["qr"] is not None:
        attach_qr(model, **training["qr"])
    compile_model(model, training["learning_rate"])
    callbacks = (list(extra_callbacks) + training_callbacks(recipe, training_steps(recipe, len(x)))
                 + fine_tune_schedule(recipe))
    start = time.perf_counter()
    history = model.fit(x, y, epochs=total_epochs(recipe), batch_size=training["batch_size"], verbose=verbose,
                        shuffle=True, callbacks=callbacks)
    return history, time.perf_counter() - start


def _fit_tfmot(model, recipe: Recipe, x, y, verbose: int) -> Tuple[Any, float]:
    """Train under TF-MOT ``prune_low_magnitude`` and strip the wrappers (recompiled)."""
    import tensorflow_model_optimization as tfmot

    from .callbacks import schedule_from_config

    sparsity = tfmot.sparsity.keras
    training = recipe.training
    steps = training_steps(recipe, len(x))
    schedule = schedule_from_config(resolve_steps(training["tfmot_pruning"]["schedule"], steps))
    pruned = sparsity.prune_low_magnitude(model, pruning_schedule=schedule)
    compile_model(pruned, training["learning_rate"])
    start = time.perf_counter()
    pruned.fit(x, y, epochs=training["epochs"], batch_size=training["batch_size"], verbose=verbose,
               callbacks=[sparsity.UpdatePruningStep()])
    seconds = time.perf_counter() - start
    stripped = sparsity.strip_pruning(pruned)
    compile_model(stripped, training["learning_rate"])
    return stripped, seconds


def _scale_precision(model, recipe: Recipe, train_split, validation) -> Dict[str, Any]:
    """Precision scaling after training, with small fine-tuning steps (``learning_rate_factor``)."""
    from .callbacks import scale_precision

    training = recipe.training
    scaling = training["precision_scaling"]
    strength = scaling["qr_strength"] if scaling["qr_strength"] is not None else training["qr"]["strength"]
    compile_model(model, training["learning_rate"] * scaling["learning_rate_factor"])
    return scale_precision(model, train_split, validation, tolerance=scaling["tolerance"],
                           fine_tune_epochs=scaling["fine_tune_epochs"], patience=scaling["patience"],
                           min_bits=scaling["min_bits"],
                           qr_strength=strength, batch_size=training["batch_size"])


def train(recipe: Recipe, data, verbose: int = 0) -> Trained:
    """Seed, split, build, train and evaluate ``recipe`` on ``data``.

    Args:
        recipe: the recipe (its ``training`` section drives everything here).
        data: ``((x_train, y_train), (x_test, y_test))`` of the recipe's dataset.
        verbose: Keras verbosity of the training ``fit``.

    Returns:
        The :class:`Trained` model with its test accuracy.

    Example:
        >>> from keras_wc import datasets
        >>> recipe = packaged_recipe("dfp", {"training": {"epochs": 1}})
        >>> train(recipe, datasets.load("digits")).accuracy > 0.5
        True
    """
    import tensorflow as tf

    from . import datasets

    training = recipe.training
    tf.keras.utils.set_random_seed(training["seed"])
    (x_train, y_train), (x_test, y_test) = data
    validation = None
    if training["val_fraction"] > 0:  # held out for precision scaling; training uses the rest
        (x_train, y_train), validation = datasets.train_val_split(x_train, y_train, fraction=training["val_fraction"],
                                                                  seed=training["seed"])
    model = build_model(recipe)
    if training["tfmot_pruning"] is not None:
        model, seconds = _fit_tfmot(model, recipe, x_train, y_train, verbose)
    else:
        _, seconds = fit(model, recipe, x_train, y_train, verbose=verbose)
    scaled = (_scale_precision(model, recipe, (x_train, y_train), validation)
              if training["precision_scaling"] is not None else None)
    accuracy = float(model.evaluate(x_test, y_test, verbose=0)[1])
    return Trained(model, accuracy, seconds, scaled)


@dataclass
class DemoSettings:
    """What ``keras-wc demo`` trains.

    Args:
        method: one of :attr:`METHODS`, the packaged recipe ``keras_wc/recipes/<method>.yaml``.
        quick: the recipe with :data:`QUICK` (fewer epochs and C-simulation samples; the CI smoke run).
        epochs: training epochs; ``None`` keeps the recipe's (or the quick one).
        seed: seed of Keras, numpy and the data order.
        overwrite: allow replacing an existing HLS output folder.
    """

    METHODS: ClassVar[tuple] = packaged_recipes()

    method: str = "swc"
    quick: bool = False
    epochs: Optional[int] = None
    seed: int = 0
    overwrite: bool = False

    def __post_init__(self):
        if self.method not in self.METHODS:
            raise ValueError(f"method={self.method!r}: expected one of {list(self.METHODS)}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"epochs={self.epochs}: must be >= 1")

    def recipe(self) -> Recipe:
        """The packaged recipe of :attr:`method` with these settings merged in.

        Example:
            >>> DemoSettings(method="po2", quick=True).recipe().training["epochs"]
            4
        """
        recipe = packaged_recipe(self.method, QUICK if self.quick else None)
        training = {"seed": self.seed, **({"epochs": self.epochs} if self.epochs is not None else {})}
        return recipe.with_overrides({"training": training})


@dataclass
class DemoResult:
    """What the demo measured (also returned to callers such as notebooks)."""

    test_accuracy: float
    totals: Dict[str, float] = field(default_factory=dict)
    csim: Optional[object] = None
    exit_code: int = 0


def run_demo(settings: DemoSettings, output_dir: Path, echo: Callable[[str], None] = print) -> DemoResult:
    """Train, report, convert and C-simulate; print one line per stage.

    Args:
        settings: what to train.
        output_dir: the HLS project folder (must not exist unless ``settings.overwrite``).
        echo: where progress lines go.

    Returns:
        The measured :class:`DemoResult`; ``exit_code`` is 1 when C simulation is not bit-exact.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from . import datasets
    from .hls.convert import check_output_dir
    from .projects import simulate_hls
    from .report import compression_report

    check_output_dir(output_dir, settings.overwrite)  # refuse before spending time on training
    start = time.time()
    recipe = settings.recipe()
    echo(f"[1/4] training {recipe.label} with {settings.method} on {recipe.dataset}, "
         f"{recipe.training['epochs']} epochs")
    data = datasets.load(recipe.dataset)
    trained = train(recipe, data, verbose=0 if settings.quick else 2)
    echo(f"      test accuracy: {trained.accuracy:.4f}")

    echo("[2/4] compression report")
    report = compression_report(trained.model)
    echo(report.to_markdown())

    x_test = data[1][0][: recipe.hls["csim_samples"]]
    echo(f"[3/4] converting to an SQNAP {recipe.hls['flavor']} project in {output_dir}")
    echo(f"[4/4] C simulation on {len(x_test)} test images")
    result = simulate_hls(trained.model, recipe, x_test, Path(output_dir), overwrite=settings.overwrite)
    agreement = result.argmax_agreement or 0.0
    echo(f"C simulation: {result.bit_exact}/{result.total} outputs bit-exact with the emulator; "
         f"Keras argmax agreement {100 * agreement:.1f}%")
    echo(f"done in {time.time() - start:.0f} s")
    return DemoResult(test_accuracy=trained.accuracy, totals=dict(report.totals), csim=result,
                      exit_code=0 if result.all_bit_exact else 1)
