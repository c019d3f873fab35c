"""The search's study on Optuna's RDB storage: worker processes, resumption, duplicates, failures.

Every worker (a process of this machine, or of any machine given the same storage URL) loads the
same study and runs trials from it; Optuna's storage hands each trial to one worker. Running a
search again on the same storage and study adds ``trials`` more: the study resumes, and a
configuration already trained is not trained again (its result is copied, :func:`finished_twin`).
A trial that raises is recorded as failed and the study goes on; a worker that dies leaves a
trial whose heartbeat stops, which the storage marks failed. The first run of a study enqueues
one single-method configuration per allowed method (the rows a per-layer search must beat), then
Optuna's TPE sampler (multi-objective, with the budget as constraints) explores.

Example:
    >>> settings = SearchSettings(packaged_recipe("swc"), out="search_out", trials=8, workers=2,
    ...                           storage="sqlite:///search_out/study.db", budget=Budget(memory_bits=20000))
    >>> result = search(settings)
    >>> result.points[0]["layers"]["conv1"]["class_name"]
    'SWC'
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..projects import Recipe, recipe_from_dict
from .budget import Budget
from .objective import DEFAULT_TRAINER, WeightLayer, costs, load_trainer, trial_recipe, weight_layers
from .space import CHOICES, METHOD, check_methods, pruning_targets, suggest_layer

INSTALL_HINT = "pip install 'keras_wc[search]'"
#: seconds between a running trial's heartbeats, and before a silent one is marked failed
HEARTBEAT_SECONDS, GRACE_SECONDS = 20, 120
#: the lock file (in the output folder) under which local workers take their next trial
ASK_LOCK = ".ask.lock"
#: the file that marks a search's output folder (a later run may write into it)
OUT_MARKER = ".keras_wc_search"
#: the validation share of the training split when the recipe holds none out
DEFAULT_VAL_FRACTION = 0.2


@dataclass
class SearchSettings:
    """What ``keras-wc search`` is given (its options, one by one).

    Attributes:
        recipe: the searched recipe (model, dataset, training; its quantizers are replaced per layer).
        out: the output folder (``pareto.json``, ``pareto.png``, ``points/``, ``models/``).
        trials: trials this run adds to the study (over all workers).
        workers: local worker processes.
        storage: an SQLAlchemy URL (``sqlite:///path.db``, ``postgresql+psycopg://user@host/db``) or a
            file path (SQLite); ``None``: ``OUT/study.db``.
        study: the study's name (default: the recipe's name).
        epochs: training epochs of a trial (``None``: the recipe's).
        budget: the hardware :class:`~.budget.Budget`.
        seed: the sampler's seed (a trial's training uses the recipe's seed).
        methods: the methods a layer may take (:data:`~.space.CHOICES` names; ``None``: all).
        trainer: ``"module:function"`` training one configuration (:mod:`.objective`).
    """

    recipe: Recipe
    out: Path
    trials: int
    workers: int = 1
    storage: Optional[str] = None
    study: Optional[str] = None
    epochs: Optional[int] = None
    budget: Budget = field(default_factory=Budget)
    seed: int = 0
    methods: Optional[Sequence[str]] = None
    trainer: str = DEFAULT_TRAINER

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        for name in ("trials", "workers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r}: expected an integer >= 1")
        if self.epochs is not None and (not isinstance(self.epochs, int) or self.epochs < 1):
            raise ValueError(f"epochs={self.epochs!r}: expected an integer >= 1")
        self.methods = check_methods(self.methods)
        self.storage = storage_url(self.storage, self.out)
        self.study = self.study or self.recipe.name

    @property
    def val_fraction(self) -> float:
        """The validation share a trial is scored on: the recipe's, or :data:`DEFAULT_VAL_FRACTION`."""
        return self.recipe.training["val_fraction"] or DEFAULT_VAL_FRACTION

    def to_dict(self) -> Dict[str, Any]:
        """Plain values (what a worker process is given)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("recipe", "budget", "out")}
        return {**out, "recipe": self.recipe.as_dict(), "recipe_path": str(self.recipe.path or ""),
                "budget": self.budget.to_dict(), "out": str(self.out), "methods": list(self.methods)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "SearchSettings":
        data = dict(data)
        recipe = recipe_from_dict(data.pop("recipe"), path=data.pop("recipe_path") or None)
        return cls(recipe=recipe, budget=Budget(**data.pop("budget")), **data)


@dataclass
class SearchResult:
    """What a search run leaves: the Pareto points and the study's counts."""

    points: List[Dict[str, Any]]
    trials: int
    complete: int
    failed: int
    added: int
    seconds: float


def prepare_out(out: Path) -> None:
    """Create the output folder, or accept one a search wrote (its marker :data:`OUT_MARKER`).

    Raises:
        FileExistsError: ``out`` holds files and was not written by a search (a user's folder is never used).
    """
    if out.exists() and any(out.iterdir()) and not (out / OUT_MARKER).is_file():
        raise FileExistsError(f"--out {out}: the folder holds files keras_wc did not write; give a new or empty "
                              "folder, or the output folder of an earlier search")
    out.mkdir(parents=True, exist_ok=True)
    (out / OUT_MARKER).write_text("written by keras-wc search: study.db, models/, points/, pareto.json, pareto.png\n")


def storage_url(storage: Optional[str], out: Path) -> str:
    """An SQLAlchemy URL from ``storage`` (a URL, a file path, or ``None``: ``out/study.db``)."""
    if storage is None:
        return f"sqlite:///{(Path(out) / 'study.db').absolute()}"
    if "://" in storage:
        return storage
    return f"sqlite:///{Path(storage).absolute()}"


def optuna_module():
    """``optuna``, or an ImportError naming the extra."""
    try:
        import optuna
    except ImportError:
        raise ImportError(f"keras_wc.search needs Optuna: {INSTALL_HINT}") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_storage(url: str):
    """Optuna's RDB storage at ``url``, with heartbeats (a dead worker's trial is marked failed)."""
    optuna = optuna_module()
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 5: the feature this needs
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=GRACE_SECONDS)


def open_study(settings: SearchSettings, layers: List[WeightLayer]):
    """Create the study, or load it and check it searches the same thing.

    Raises:
        ValueError: the storage holds a study of that name for another model or budget.
    """
    optuna = optuna_module()
    storage = open_storage(settings.storage)
    study = optuna.create_study(storage=storage, study_name=settings.study, directions=["maximize", "minimize"],
                                load_if_exists=True)
    identity = {"layers": [layer.name for layer in layers], "budget": settings.budget.to_dict(),
                "objective": settings.budget.objective, "dataset": settings.recipe.dataset,
                "epochs": settings.epochs or settings.recipe.training["epochs"]}
    if "identity" not in study.user_attrs:
        study.set_user_attr("identity", identity)
        study.set_user_attr("recipe", settings.recipe.as_dict())
        for method in settings.methods:
            study.enqueue_trial(uniform_params(method, layers), skip_if_exists=True)
    elif study.user_attrs["identity"] != identity:
        raise ValueError(f"study {settings.study!r} in {settings.storage} searches {study.user_attrs['identity']}, "
                         f"not {identity}: use another --study name or storage")
    return study


def uniform_params(method: str, layers: List[WeightLayer]) -> Dict[str, Any]:
    """One method on every layer, each setting at its middle value that fits the layer."""
    from .space import allowed_values

    params: Dict[str, Any] = {}
    for layer in layers:
        params[f"{layer.name}.{METHOD}"] = method
        for setting in CHOICES[method].settings:
            options = allowed_values(method, setting, layer.fan_in)
            if method == "ternary" and setting == "k":
                options = tuple(v for v in options if v < params[f"{layer.name}.ternary.n"])
            params[f"{layer.name}.{method}.{setting}"] = options[len(options) // 2]
    return params


def finished_twin(study: Any, params: Dict[str, Any]) -> Optional[Any]:
    """A completed trial of the study with exactly these parameters (its result is reused)."""
    optuna = optuna_module()
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if trial.params == params:
            return trial
    return None


class Objective:
    """A worker's objective: suggest, reuse a finished twin or train, record costs and the budget."""

    def __init__(self, settings: SearchSettings, layers: List[WeightLayer], train_split: Tuple[Any, Any]):
        self.settings = settings
        self.layers = layers
        self.train_split = train_split
        self.trainer = load_trainer(settings.trainer)

    def __call__(self, trial: Any) -> Tuple[float, float]:
        settings = self.settings
        specs = {layer.name: suggest_layer(trial, layer.name, layer.fan_in, settings.methods) for layer in self.layers}
        twin = finished_twin(trial.study, trial.params)
        if twin is not None and twin.number != trial.number:
            for key, value in twin.user_attrs.items():
                trial.set_user_attr(key, value)
            trial.set_user_attr("duplicate_of", twin.number)
            for name, value in twin.user_attrs["constraint"].items():
                trial.set_constraint(name, value)
            return tuple(twin.values)
        recipe = trial_recipe(settings.recipe, specs, pruning_targets(trial.params), settings.val_fraction,
                              settings.epochs)
        model, accuracy = self.trainer(recipe, self.train_split)
        figures = costs(model, recipe)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        trial.set_user_attr("layers", specs)
        trial.set_user_attr("costs", figures)
        trial.set_user_attr("recipe", recipe.as_dict())
        path = settings.out / "models" / f"trial_{trial.number}.h5"
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
        trial.set_user_attr("model", str(path.absolute()))
        violations = settings.budget.violations(figures)
        trial.set_user_attr("constraint", violations)
        for name, value in violations.items():
            trial.set_constraint(name, value)
        return accuracy, float(figures[settings.budget.objective])


def run_worker(config: Dict[str, Any], index: int, quota: int, started: int) -> None:
    """One worker: run ``quota`` trials of the study (a process target; ``config`` is ``to_dict()``)."""
    from .. import datasets
    from ..model_file import quiet_tensorflow

    quiet_tensorflow()
    optuna = optuna_module()
    settings = SearchSettings.from_dict(config)
    if settings.workers > 1:  # workers share the machine's cores
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    layers = weight_layers(settings.recipe)
    study = optuna.load_study(study_name=settings.study, storage=open_storage(settings.storage),
                              sampler=optuna.samplers.TPESampler(seed=settings.seed * 7919 + started * 31 + index))
    train_split, _ = datasets.load(settings.recipe.dataset)
    callbacks = [] if settings.workers > 1 else [lambda study, trial: print(bar(finished_count(study) - started, quota),
                                                                            flush=True)]
    study.ask = serialized(study.ask, settings.out / ASK_LOCK)
    study.optimize(Objective(settings, layers, train_split), n_trials=quota, catch=(Exception,), callbacks=callbacks)


def serialized(ask: Callable[..., Any], lock: Path) -> Callable[..., Any]:
    """``study.ask`` under an exclusive file lock shared by this machine's workers.

    SQLite has no row locks: two processes can pop the same enqueued trial and both run it (Optuna
    then refuses the second ``tell``). PostgreSQL locks the row itself; the file lock costs nothing there.
    """
    import fcntl

    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                return ask(*args, **kwargs)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    return locked


def finished_count(study: Any) -> int:
    """Trials of the study that finished (complete or failed; not the enqueued or running ones)."""
    return sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))


def quotas(trials: int, workers: int) -> List[int]:
    """``trials`` split over ``workers`` as evenly as possible (a worker with none is not started).

    Example:
        >>> quotas(7, 3)
        [3, 2, 2]
    """
    return [q for q in (trials // workers + (i < trials % workers) for i in range(workers)) if q]


def search(settings: SearchSettings, echo: Callable[[str], None] = print) -> SearchResult:
    """Run ``settings.trials`` more trials on ``settings.workers`` local processes, then write the Pareto front.

    Args:
        settings: the :class:`SearchSettings`.
        echo: where progress lines go.

    Returns:
        The :class:`SearchResult`; ``OUT/pareto.json``, ``OUT/pareto.png`` and ``OUT/points/trial_N/`` are written.

    Raises:
        ImportError: Optuna missing (``pip install 'keras_wc[search]'``).
        ValueError: a study of that name for another model or budget.
    """
    from .pareto import write_front

    optuna = optuna_module()
    prepare_out(settings.out)
    layers = weight_layers(settings.recipe)
    study = open_study(settings, layers)
    started = finished_count(study)
    start = time.time()
    config = settings.to_dict()
    shares = quotas(settings.trials, settings.workers)
    if len(shares) == 1:
        run_worker(config, 0, shares[0], started)
    else:
        run_processes(config, shares, started, lambda: bar(finished_count(study) - started, settings.trials), echo)
    trials = study.get_trials(deepcopy=False)
    state = optuna.trial.TrialState
    points = write_front(study, settings, layers)
    result = SearchResult(points, finished_count(study), sum(t.state == state.COMPLETE for t in trials),
                          sum(t.state == state.FAIL for t in trials), finished_count(study) - started,
                          round(time.time() - start, 1))
    echo(f"study {settings.study!r}: {result.trials} trials ({result.complete} complete, {result.failed} failed; "
         f"{result.added} added by this run in {result.seconds:.0f} s); {len(points)} Pareto points -> "
         f"{settings.out / 'pareto.json'}")
    return result


def run_processes(config: Dict[str, Any], shares: List[int], started: int, line: Callable[[], str],
                  echo: Callable[[str], None]) -> None:
    """Run one worker process per share (``python -m keras_wc.search.worker``); echo ``line()`` when it changes.

    Raises:
        RuntimeError: a worker process failed (its last error line quoted).
    """
    with tempfile.TemporaryDirectory(prefix="keras_wc_search_") as scratch:
        path = Path(scratch) / "settings.json"
        path.write_text(json.dumps(config))
        logs = [Path(scratch) / f"worker{index}.log" for index in range(len(shares))]
        processes = []
        for index, quota in enumerate(shares):
            with logs[index].open("w") as log:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "keras_wc.search.worker", str(path), str(index), str(quota), str(started)],
                    stdout=subprocess.DEVNULL, stderr=log))
        shown = None
        while True:
            running = any(process.poll() is None for process in processes)
            current = line()
            if current != shown:
                shown = current
                echo(current)
            if not running:
                break
            time.sleep(1.0)
        failures = [(process.returncode, log.read_text()) for process, log in zip(processes, logs)
                    if process.returncode]
    for code, text in failures:
        lines = [row for row in text.splitlines() if row.strip()]
        raise RuntimeError(f"a search worker failed (exit code {code}): {lines[-1] if lines else 'no message'}")


def bar(done: int, total: int, width: int = 30) -> str:
    """``[#####.....] 3/10 trials``.

    Example:
        >>> bar(1, 3, width=6)
        '[##....] 1/3 trials'
    """
    filled = int(width * min(max(done, 0), total) / total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} trials"
