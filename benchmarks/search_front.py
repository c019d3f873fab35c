"""The per-layer search's Pareto front beside the single-method rows of the quick suite (LeNet-5 8x8 digits).

Runs ``keras_wc.search`` on the packaged ``swc`` recipe (LeNet-5 8x8 on digits, the quick suite's
``lenet5_digits`` workload: 20 epochs, batch 32, Adam 3e-3, seed 0) with :data:`WORKERS` local
workers on one SQLite study, under a budget of :data:`BUDGET`, the search scoring on its validation
split. Each Pareto point's model is then measured like a benchmark row — test accuracy and the
compression report's weight bits and full multiplications — so that BENCHMARKS.md shows the
front and the rows in one table and one plot. Writes ``benchmarks/results/search_front.json`` and
regenerates BENCHMARKS.md. Run: ``python -m benchmarks.search_front`` (needs the ``[search]``
extra; about 10 minutes on 2 cores).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "search_front.json"
WORKLOAD, TRIALS, WORKERS, EPOCHS, SEED = "lenet5_digits", 32, 2, 20, 0
#: the search's limits: the SWC fixed row's full multiplications and about its weight memory
BUDGET = {"memory_bits": 100_000, "full_mults": 1708}


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


def main() -> None:
    from keras_wc import datasets
    from keras_wc.projects import packaged_recipe
    from keras_wc.search import Budget, SearchSettings, search

    from .markdown import write_benchmarks_md

    recipe = packaged_recipe("swc", {"training": {"epochs": EPOCHS, "seed": SEED, "batch_size": 32}})
    _, test = datasets.load(recipe.dataset)
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="keras_wc_search_front_") as scratch:
        out = Path(scratch) / "out"
        result = search(SearchSettings(recipe, out, trials=TRIALS, workers=WORKERS, budget=Budget(**BUDGET),
                                       seed=SEED))
        points = [measure(point, out, test) for point in result.points]
    document = {"suite": "search_front", "workload": WORKLOAD, "recipe": "packaged swc (LeNet-5 8x8, digits)",
                "trials": result.trials, "complete": result.complete, "failed": result.failed,
                "workers": WORKERS, "epochs": EPOCHS, "budget": BUDGET, "storage": "SQLite",
                "wall_seconds": round(time.time() - start, 1), "points": points}
    RESULTS.write_text(json.dumps(document, indent=1) + "\n")
    write_benchmarks_md(RESULTS.parent, ROOT / "BENCHMARKS.md")
    for point in points:
        print(f"trial {point['trial']:3d}: test {point['accuracy']:.4f} (val {point['validation_accuracy']:.4f}) "
              f"weight bits {point['weight_bits']} full mults {point['full_mults']} {point['methods']}")
    print(f"wrote {RESULTS} and BENCHMARKS.md ({document['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
