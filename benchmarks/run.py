"""Entry point: ``python -m benchmarks.run --suite quick|full [--rows a,b]``.

Trains every row of ``benchmarks.rows`` (recipes in ``benchmarks/recipes/rows/``) on each
workload of the suite with the same seeds, epochs and data, writes ``benchmarks/results/<suite>.json`` and regenerates
``BENCHMARKS.md`` from every result file present. With ``--rows`` only those rows are trained again;
the other rows' results of an existing ``<suite>.json`` are kept (the same seeds, epochs and data).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_wc import datasets  # noqa: E402
from keras_wc.output_folder import replace_file  # noqa: E402

from .harness import Workload, run_row  # noqa: E402
from .markdown import write_benchmarks_md  # noqa: E402
from .rows import MAIN_ROWS, ablation_rows  # noqa: E402
from .stock import stock_hls4ml_agreement  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def make_workload(name: str, dataset: str, architecture: str, input_shape: Tuple[int, int, int], epochs: int,
                  batch_size: int = 64, csim_samples: int = 0, hardware_only: bool = False) -> Workload:
    """A :class:`Workload` whose recipe part sets the dataset, model, budget and C-simulation samples."""
    recipe = {"dataset": dataset, "model": {"architecture": architecture, "kwargs": {"input_shape": list(input_shape)}},
              "training": {"epochs": epochs, "batch_size": batch_size}, "hls": {"csim_samples": csim_samples}}
    return Workload(name, recipe, hardware_only=hardware_only)


SUITES: Dict[str, Dict] = {
    "quick": {
        "seeds": (0,),
        "workloads": (
            make_workload("lenet5_mnist5k", "mnist5k", "lenet5", (28, 28, 1), epochs=6),
            make_workload("lenet5_digits", "digits", "lenet5", (8, 8, 1), epochs=20, batch_size=32,
                          csim_samples=200, hardware_only=True),
        ),
        "ablation_workload": "lenet5_mnist5k",
    },
    "full": {
        "seeds": (0, 1, 2),
        "workloads": (
            make_workload("lenet5_mnist5k", "mnist5k", "lenet5", (28, 28, 1), epochs=12),
            make_workload("lenet5_digits", "digits", "lenet5", (8, 8, 1), epochs=30, batch_size=32,
                          csim_samples=360, hardware_only=True),
            make_workload("vgg_cifar10", "cifar10", "vgg_small", (32, 32, 3), epochs=20),
        ),
        "ablation_workload": "lenet5_mnist5k",
    },
}


def _load(workload: Workload):
    """The workload's data, or ``None`` (with a note) when the dataset cannot be loaded."""
    try:
        return datasets.load(workload.dataset)
    except datasets.DatasetUnavailableError as error:
        print(f"  skipping {workload.name}: {str(error).splitlines()[0]}", flush=True)
        return None


def run_suite(suite: str, only: Sequence[str] = ()) -> Dict:
    """Run every row of ``suite`` (or the ``only`` ones); returns the result document."""
    spec = SUITES[suite]
    rows = list(MAIN_ROWS) + list(ablation_rows())
    if only:
        unknown = sorted(set(only) - {r.name for r in rows})
        if unknown:
            raise SystemExit(f"unknown rows {unknown}; known: {[r.name for r in rows]}")
        rows = [r for r in rows if r.name in only]
    results: List[Dict] = []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="keras_wc_bench_") as tmp:
        for workload in spec["workloads"]:
            data = _load(workload)
            if data is None:
                continue
            for row in rows:
                family = row.benchmark["family"]
                if family == "ablation" and workload.name != spec["ablation_workload"]:
                    continue
                if workload.hardware_only and not (row.benchmark["hardware"] or row.name == "float32"):
                    continue
                for seed in spec["seeds"] if family != "ablation" else spec["seeds"][:1]:
                    t0 = time.time()
                    result = run_row(row, workload, data, seed, workdir=Path(tmp))
                    results.append(result)
                    print(f"  {workload.name:16s} {row.name:26s} seed {seed}: acc {result['accuracy']:.4f}  "
                          f"x{result['totals']['compression_vs_float32']:.1f}  "
                          f"mults-eliminated {100 * result['totals']['mults_eliminated']:.1f}%  "
                          f"({time.time() - t0:.0f} s)", flush=True)
        stock = stock_hls4ml_agreement(spec["workloads"][0], seed=spec["seeds"][0], workdir=Path(tmp))
    return {"suite": suite, "seconds": round(time.time() - started, 1), "results": results, "stock_hls4ml": stock}


def keep_other_rows(previous: Path, document: Dict) -> Dict:
    """``document`` (some rows run again) with every other (workload, row)'s results of the ``previous`` file.

    Args:
        previous: the suite's results file (absent: ``document`` alone).
        document: :func:`run_suite`'s result for some rows.

    Returns:
        The merged document, rows in table order; ``seconds`` is the sum of both runs' training time.
    """
    if not previous.is_file():
        return document
    old = json.loads(previous.read_text())
    rerun = {(r["workload"], r["row"]) for r in document["results"]}
    order = {name: i for i, name in enumerate(r.name for r in list(MAIN_ROWS) + list(ablation_rows()))}
    kept = [r for r in old["results"] if (r["workload"], r["row"]) not in rerun]
    workloads = list(dict.fromkeys(r["workload"] for r in old["results"] + document["results"]))
    results = sorted(kept + document["results"],
                     key=lambda r: (workloads.index(r["workload"]), order.get(r["row"], len(order))))
    return {**document, "results": results, "seconds": round(old["seconds"] + document["seconds"], 1)}


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--rows", default="", help="comma-separated row names (default: all)")
    args = parser.parse_args(argv)
    only = [r for r in args.rows.split(",") if r]
    document = run_suite(args.suite, only)
    if only:
        document = keep_other_rows(RESULTS / f"{args.suite}.json", document)
    out = replace_file(RESULTS / f"{args.suite}.json", json.dumps(document, indent=1, sort_keys=True) + "\n")
    write_benchmarks_md(RESULTS, Path(__file__).resolve().parent.parent / "BENCHMARKS.md")
    print(f"wrote {out} and BENCHMARKS.md in {document['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
