"""The per-layer search's Pareto front beside the single-method rows of a suite.

``python -m benchmarks.search_front [--workload lenet5_digits|lenet5_mnist5k]`` (needs the
``[search]`` extra) runs ``keras_wc.search`` with :data:`WORKERS` local workers on one SQLite
study, the search scoring on its validation split. Each Pareto point's model is then measured
like a benchmark row — test accuracy and the compression report's weight bits and full
multiplications — so that BENCHMARKS.md shows the front and the rows in one table and one plot.

Two fronts (:data:`FRONTS`):

* ``lenet5_digits`` (``search_front.json``, about 15 minutes on 2 cores): the packaged ``swc``
  recipe on the quick suite's LeNet-5 8x8 digits workload, under a fixed budget near the SWC row.
* ``lenet5_mnist5k`` (``search_front_lenet5_mnist5k.json``, about 10 s per trial on 2 cores): the full
  suite's LeNet-5 mnist5k workload, trained like its SparseTernary row (gradual pruning, fine-tuning),
  under the budget every single-method row of ``full.json`` sets at its cheapest: the fewest SQNAP
  weight bits and the fewest full multipliers of any row. The methods are those that can reach zero
  full multiplications (SparseTernary with power-of-two deltas, DFP, Po2, QKeras). The point of
  highest validation accuracy that also has no more compression-report weight bits and full
  multiplications than any row is written as the ``searched`` row
  (``benchmarks/recipes/rows/searched.yaml``); ``python -m benchmarks.run --suite full --rows
  searched`` then measures it over the suite's 3 seeds against the target "dominates every
  single-method row".
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WORKERS, SEED = 2, 0
#: the row the mnist5k front writes (a main row of benchmarks.rows)
SEARCHED_ROW = ROOT / "benchmarks" / "recipes" / "rows" / "searched.yaml"
SEARCHED_TARGET = "dominates every single-method row: no more weight bits, no more full mults, <= 0.5 pp loss"


@dataclass(frozen=True)
class Front:
    """One search benchmark: its workload, the suite whose rows sit beside it, and the search's settings."""

    workload: str
    suite: str
    trials: int
    result_file: str
    description: str
    recipe: Callable[[], Any]
    budget: Callable[[], Dict[str, int]]
    methods: Optional[Tuple[str, ...]] = None
    writes_row: bool = False


def _digits_recipe():
    from keras_wc.projects import packaged_recipe

    return packaged_recipe("swc", {"training": {"epochs": 20, "seed": SEED, "batch_size": 32}})


def _mnist5k_recipe():
    from .harness import row_recipe
    from .rows import load_row
    from .run import SUITES

    workload = next(w for w in SUITES["full"]["workloads"] if w.name == "lenet5_mnist5k")
    return row_recipe(load_row("ternary82"), workload, SEED)


def cheapest_rows(suite: str, workload: str) -> Dict[str, int]:
    """The fewest SQNAP weight bits and full multipliers of any single-method row (seed 0) of a suite file.

    Args:
        suite: the suite (``benchmarks/results/<suite>.json``).
        workload: the workload whose rows count.

    Returns:
        ``{"memory_bits": ..., "full_mults": ...}``, the search's figures (``keras_wc.hls.resources``).
    """
    document = json.loads((RESULTS / f"{suite}.json").read_text())
    rows = [r for r in document["results"] if r["workload"] == workload and r["seed"] == SEED
            and r["family"] != "ablation" and r["row"] != "searched" and "resources" in r.get("hardware", {})]
    if not rows:
        raise SystemExit(f"{suite}.json has no hardware rows of {workload}: "
                         f"run python -m benchmarks.run --suite {suite}")
    return {"memory_bits": min(r["hardware"]["resources"]["sqnap_weight_bits"] for r in rows),
            "full_mults": min(r["hardware"]["resources"]["sqnap_multipliers"] for r in rows)}


FRONTS: Dict[str, Front] = {
    "lenet5_digits": Front(
        "lenet5_digits", "quick", 32, "search_front.json", "packaged swc (LeNet-5 8x8, digits)", _digits_recipe,
        lambda: {"memory_bits": 100_000, "full_mults": 1708}),  # the SWC fixed row's full mults, about its memory
    "lenet5_mnist5k": Front(
        "lenet5_mnist5k", "full", 96, "search_front_lenet5_mnist5k.json",
        "the SparseTernary row's training (LeNet-5, mnist5k)", _mnist5k_recipe,
        lambda: cheapest_rows("full", "lenet5_mnist5k"), methods=("ternary", "dfp", "po2", "qkeras"),
        writes_row=True),
}


def measure(point: Dict[str, Any], folder: Path, test) -> Dict[str, Any]:
    """A Pareto point as a benchmark row: test accuracy and the compression report's totals."""
    from keras_wc.model_file import load_model
    from keras_wc.report import compression_report

    model = load_model(folder / "points" / f"trial_{point['trial']}" / "model.h5")
    x_test, y_test = test
    totals = compression_report(model).totals
    accuracy = float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean())
    methods = sorted({spec["class_name"] for spec in point["layers"].values()})
    return {"trial": point["trial"], "validation_accuracy": point["accuracy"], "accuracy": accuracy,
            "weight_bits": int(totals["weight_bits"]), "full_mults": int(totals["full_mults"]),
            "methods": methods, "layers": point["layers"], "search_memory_bits": point["memory_bits"],
            "lut": point["lut"], "dsp": point["dsp"]}


def dominating_point(points: List[Dict[str, Any]], suite: str, workload: str) -> Optional[Dict[str, Any]]:
    """The measured point of highest validation accuracy with no more compression-report weight bits and full
    multiplications than any single-method row (every seed) of the suite file; ``None`` if there is none."""
    document = json.loads((RESULTS / f"{suite}.json").read_text())
    rows = [r for r in document["results"] if r["workload"] == workload and r["family"] != "ablation"
            and r["row"] != "searched"]
    bits = min(r["totals"]["weight_bits"] for r in rows)
    mults = min(r["totals"]["full_mults"] for r in rows)
    fitting = [p for p in points if p["weight_bits"] <= bits and p["full_mults"] <= mults]
    return max(fitting, key=lambda p: (p["validation_accuracy"], -p["weight_bits"]), default=None)


def write_searched_row(point: Dict[str, Any], folder: Path, front: Front) -> Path:
    """Write the point's exported recipe as the ``searched`` benchmark row."""
    import yaml

    recipe = yaml.safe_load((folder / "points" / f"trial_{point['trial']}" / "recipe.yaml").read_text())
    layers = ", ".join(f"{name} {spec['class_name']}" for name, spec in point["layers"].items())
    recipe.update(name="searched", label=f"searched per-layer mix (trial {point['trial']})",
                  description=f"Written by python -m benchmarks.search_front --workload {front.workload}: "
                              f"trial {point['trial']} of the {front.workload} search ({layers}).",
                  hls={"csim_samples": 0},
                  benchmark={"family": "keras_wc", "hardware": False, "target": SEARCHED_TARGET})
    recipe["training"]["val_fraction"] = 0.25  # every row holds the same quarter out
    SEARCHED_ROW.write_text(f"# {recipe['description']}\n" + yaml.safe_dump(recipe, sort_keys=False))
    return SEARCHED_ROW


def main(argv: Sequence[str] = None) -> None:
    from keras_wc import datasets
    from keras_wc.search import Budget, SearchSettings, search

    from .markdown import write_benchmarks_md

    parser = argparse.ArgumentParser(prog="python -m benchmarks.search_front", description=__doc__)
    parser.add_argument("--workload", choices=sorted(FRONTS), default="lenet5_digits")
    parser.add_argument("--trials", type=int, default=None, help="trials (default: the front's)")
    args = parser.parse_args(argv)
    front = FRONTS[args.workload]
    trials = args.trials or front.trials
    recipe, budget = front.recipe(), front.budget()
    _, test = datasets.load(recipe.dataset)
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="keras_wc_search_front_") as scratch:
        out = Path(scratch) / "out"
        result = search(SearchSettings(recipe, out, trials=trials, workers=WORKERS, budget=Budget(**budget),
                                       seed=SEED, methods=front.methods))
        points = [measure(point, out, test) for point in result.points]
        chosen = dominating_point(points, front.suite, front.workload) if front.writes_row else None
        if chosen is not None:
            print(f"wrote {write_searched_row(chosen, out, front)} (trial {chosen['trial']})")
    document = {"suite": "search_front", "workload": front.workload, "recipe": front.description,
                "beside": front.suite, "trials": result.trials, "complete": result.complete,
                "failed": result.failed, "workers": WORKERS, "epochs": recipe.training["epochs"],
                "methods": list(front.methods) if front.methods else "all", "budget": budget, "storage": "SQLite",
                "wall_seconds": round(time.time() - start, 1), "points": points,
                "searched_row": None if chosen is None else chosen["trial"]}
    (RESULTS / front.result_file).write_text(json.dumps(document, indent=1) + "\n")
    write_benchmarks_md(RESULTS, ROOT / "BENCHMARKS.md")
    for point in points:
        print(f"trial {point['trial']:3d}: test {point['accuracy']:.4f} (val {point['validation_accuracy']:.4f}) "
              f"weight bits {point['weight_bits']} full mults {point['full_mults']} {point['methods']}")
    print(f"wrote {RESULTS / front.result_file} and BENCHMARKS.md ({document['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
