"""The search's output: the Pareto front of accuracy vs cost, as ``pareto.json``, ``pareto.png`` and recipes.

A point is a completed trial within the budget that no other such trial beats on both validation
accuracy (higher) and the budget's cost (lower). Each point is exported to ``OUT/points/trial_N/``:
``recipe.yaml`` (the configuration: ``keras-wc project build`` accepts it) and, when the worker
saved it on this machine, the trained ``model.h5`` beside it (the project build then reuses it).

Example:
    >>> points = json.loads(Path("search_out/pareto.json").read_text())["points"]
    >>> export_recipe(points[0], "my_recipe.yaml")
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any, Dict, List, Mapping, Union

import yaml

from ..output_folder import replace_file, staged_output_dir
from .objective import COSTS, WeightLayer

PARETO_FILE, PLOT_FILE = "pareto.json", "pareto.png"


def front(candidates: List[Dict[str, Any]], objective: str) -> List[Dict[str, Any]]:
    """The points no other point dominates (higher-or-equal accuracy and lower-or-equal cost, one strictly),
    sorted by cost.

    Example:
        >>> [p["trial"] for p in front([{"trial": 0, "accuracy": .9, "memory_bits": 10},
        ...                             {"trial": 1, "accuracy": .8, "memory_bits": 20}], "memory_bits")]
        [0]
    """
    def dominates(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        return (a["accuracy"] >= b["accuracy"] and a[objective] <= b[objective]
                and (a["accuracy"] > b["accuracy"] or a[objective] < b[objective]))

    kept = [p for p in candidates if not any(dominates(q, p) for q in candidates)]
    unique = {(p["accuracy"], p[objective], json.dumps(p["layers"], sort_keys=True)): p for p in kept}
    return sorted(unique.values(), key=lambda p: (p[objective], -p["accuracy"], p["trial"]))


def feasible_points(study: Any) -> List[Dict[str, Any]]:
    """Every completed trial within the budget, as a point (``pareto.json``'s fields)."""
    import optuna

    points = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        attrs = trial.user_attrs
        if "constraint" not in attrs or any(v > 0 for v in attrs["constraint"].values()):
            continue
        points.append({"trial": trial.number, "layers": attrs["layers"], "accuracy": float(trial.values[0]),
                       **{name: attrs["costs"][name] for name in COSTS}, "recipe": attrs["recipe"],
                       "model": attrs.get("model")})
    return points


def export_recipe(point: Mapping[str, Any], path: Union[str, Path]) -> Path:
    """Write a point's recipe as YAML (``keras-wc project build`` accepts it).

    Args:
        point: a ``pareto.json`` point.
        path: the YAML file.

    Returns:
        The path written.
    """
    path = Path(path)
    recipe = dict(point["recipe"])
    recipe["name"] = f"{recipe['name']}_trial{point['trial']}"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def write_front(study: Any, settings: Any, layers: List[WeightLayer]) -> List[Dict[str, Any]]:
    """Write ``pareto.json``, ``pareto.png`` and ``points/`` into ``settings.out`` (``points/`` replaced whole).

    Returns:
        The Pareto points (without their recipes' full text).
    """
    objective = settings.budget.objective
    candidates = feasible_points(study)
    points = front(candidates, objective)
    out = Path(settings.out)
    with staged_output_dir(out / "points", overwrite=True) as stage:
        for point in points:
            folder = stage / f"trial_{point['trial']}"
            folder.mkdir()
            export_recipe(point, folder / "recipe.yaml")
            if point["model"] and Path(point["model"]).is_file():
                shutil.copyfile(point["model"], folder / "model.h5")
    public = [{k: v for k, v in p.items() if k not in ("recipe", "model")} for p in points]
    document = {"study": settings.study, "storage": settings.storage, "objective": objective,
                "budget": settings.budget.to_dict(), "layers": [layer.name for layer in layers],
                "trials": sum(t.state.is_finished() for t in study.get_trials(deepcopy=False)),
                "feasible": len(candidates), "points": public}
    replace_file(out / PARETO_FILE, json.dumps(document, indent=1, sort_keys=True) + "\n")
    plot(candidates, points, objective, settings.budget.limits().get(objective), out / PLOT_FILE)
    return public


def plot(candidates: List[Dict[str, Any]], points: List[Dict[str, Any]], objective: str, limit: Any,
         path: Path) -> None:
    """Validation accuracy vs cost: every feasible trial, the front as a line, the budget as a rule."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.scatter([p[objective] for p in candidates], [p["accuracy"] for p in candidates], s=14, color="0.6",
                 label="trials within the budget")
    axes.step([p[objective] for p in points], [p["accuracy"] for p in points], where="post", color="C0",
              marker="o", label="Pareto front")
    if limit is not None:
        axes.axvline(limit, color="C3", linestyle="--", label=f"budget ({limit})")
    axes.set_xlabel(objective.replace("_", " "))
    axes.set_ylabel("validation accuracy")
    axes.legend(loc="lower right")
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
    replace_file(path, image.getvalue())
