"""Gate-level benchmark: every method and the 8-bit QKeras baseline on the same model, synthesized by yosys.

Three workloads, each trained once per kernel quantizer of ``METHODS`` in ``tests/_rtl_models.py`` (the
same quantizer on every layer; same seed, epochs, optimizer and data for every row):

* ``mlp``: ``QActivation -> Flatten -> QDense(32) -> QActivation -> QDense(10)`` on scikit-learn's digits;
* ``lenet5``: the whole :func:`keras_wc.models.lenet5` on the 8x8 digits (conv 6@5x5 'same', max-pool 2,
  conv 16@5x5 'same', max-pool 2, fc 120, fc 84, logits; 21,386 parameters), with the MLP's input,
  activation and bias quantizers; trained and written up to its logits (:func:`keras_wc.models.logits_model`,
  the softmax left out as the MLP has none);
* ``lenet5_mnist5k``: the classic 28x28 LeNet-5 (61,706 parameters; fc1 alone 48,000 weights) on the
  5,000 mnist5k images, 6 epochs; fc1 and fc2 in the Resource architecture (weights in ROMs, one input
  per clock: 400 and 120 clocks a sample, while the streamed 28x28 input takes 784), the rest Latency;
  synthesized module by module but not as a whole top.

Each row is written by ``keras_wc.rtl``, its Verilator simulation is checked bit-exact against the emulator
on the test images (where the workload is simulated), then every yosys run of every row goes through one
queue, ``--jobs`` at a time, each row's largest estimated module first. Ratios are against the baseline row
of the same workload. A row that fails (or one of whose yosys runs passes ``--yosys-timeout``) is kept with
its reason under ``"error"``. yosys results are cached by Verilog hash (``~/.cache/keras_wc/yosys``), so a
re-run of an unchanged row costs its training only.

Writes ``benchmarks/results/rtl_hardware.json`` (the MLP under the document's top-level keys, every other
workload under ``"workloads"``; a run merges into the file, keeping the workloads it did not run) and
regenerates BENCHMARKS.md. Run: ``python -m benchmarks.rtl_hardware [--workload mlp|lenet5|lenet5_mnist5k|both]
[--jobs 2]`` (needs the ``[rtl]`` extra, Verilator and yosys; the MLP took about an hour of yosys on 2 cores,
the LeNet-5s far longer: see the JSON's ``yosys_seconds``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from keras_wc.rtl.synthesis import FIGURES, SynthesisReport

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "rtl_hardware.json"
HIDDEN, SEED = 32, 0
BASELINE = "QKeras quantized_bits 8-bit"  # LABELS["baseline8"] of tests/_rtl_models.py
INPUT_QUANTIZER, ACTIVATION_QUANTIZER = "quantized_relu(8,1)", "quantized_relu(8,3)"
BIAS_QUANTIZER = "quantized_bits(8,2,alpha=1)"


@dataclass(frozen=True)
class Workload:
    """One model of the gate-level benchmark.

    Attributes:
        title: its name in the JSON and BENCHMARKS.md.
        dataset: its :mod:`keras_wc.datasets` name.
        epochs: training epochs of every row.
        side: the LeNet-5's input height and width; 0 for the digits MLP.
        include_top: synthesize the whole top after the layer modules (False: the modules only, as yosys
            would spend as long again on the top).
        simulated: check each row under Verilator (False where its C++ compile takes too long; the
            accuracy is then the emulator's, which Verilator matches bit for bit on the other workloads).
        strategy: ``keras_wc.rtl.convert``'s ``strategy`` (``None``: every layer Latency, weights as constants).
    """

    title: str
    dataset: str
    epochs: int
    side: int = 0
    include_top: bool = True
    simulated: bool = True
    strategy: Optional[Dict[str, str]] = None


#: workload key -> its definition
WORKLOADS = {
    "mlp": Workload(f"digits MLP 64-{HIDDEN}-10", "digits", 20),
    "lenet5": Workload("digits LeNet-5 8x8 (whole model)", "digits", 20, side=8),
    "lenet5_mnist5k": Workload("mnist5k LeNet-5 28x28 (layer modules; fc1, fc2 Resource)", "mnist5k", 6, side=28,
                               include_top=False, strategy={"fc1": "Resource", "fc2": "Resource"}),
}

def methods() -> Dict[str, tuple]:
    """Method key -> (row name, factory of a fresh kernel quantizer): the RTL tests' method set."""
    sys.path.insert(0, str(ROOT / "tests"))
    from _rtl_models import LABELS, METHODS

    return {key: (LABELS[key], factory) for key, factory in METHODS.items()}


def quantizers() -> Dict[str, Callable[[], Any]]:
    """Row name -> a fresh kernel quantizer (one per layer)."""
    return {name: factory for name, factory in methods().values()}


def build(workload: str, factory: Callable[[], Any]) -> Any:
    """The workload's model (ending on its logits) with ``factory()`` kernels, untrained."""
    import tensorflow as tf
    from qkeras import QActivation, QDense

    side = WORKLOADS[workload].side
    if side:
        from keras_wc.models import lenet5, logits_model

        return logits_model(lenet5(input_shape=(side, side, 1), num_classes=10,
                                   quantizer=lambda name, shape: factory(), bias_quantizer=BIAS_QUANTIZER,
                                   input_quantizer=INPUT_QUANTIZER, activation_quantizer=ACTIVATION_QUANTIZER))
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)), QActivation(INPUT_QUANTIZER), tf.keras.layers.Flatten(),
        QDense(HIDDEN, kernel_quantizer=factory(), bias_quantizer=BIAS_QUANTIZER, name="fc1"),
        QActivation(ACTIVATION_QUANTIZER),
        QDense(10, kernel_quantizer=factory(), bias_quantizer=BIAS_QUANTIZER, name="logits")])


def train(factory: Callable[[], Any], data, workload: str = "mlp") -> Any:
    """The workload's model with ``factory()`` kernels, trained on its data (cross-entropy on its logits)."""
    import tensorflow as tf

    (x_train, y_train), _ = data
    tf.keras.utils.set_random_seed(SEED)
    model = build(workload, factory)
    model.compile(tf.keras.optimizers.Adam(3e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=WORKLOADS[workload].epochs, batch_size=32, verbose=0)
    return model


@dataclass
class Job:
    """One yosys run of a benchmark row: a layer module alone, or the whole top."""

    row: int
    name: str
    files: List[str]
    top: str
    estimate_LUT: float


def prepare(name: str, factory: Callable[[], Any], data, folder: Path,
            workload: str = "mlp") -> Tuple[Dict[str, Any], Any]:
    """Train, write and simulate one method: ``(row, design)``; a failure is kept under the row's
    ``"error"`` and its design is None."""
    import keras_wc.rtl
    from keras_wc.emulate import emulate
    from keras_wc.rtl.estimate import estimate_design

    _, (x_test, y_test) = data
    start = time.time()
    model = train(factory, data, workload)
    result: Dict[str, Any] = {"row": name,
                              "accuracy": float(np.mean(np.argmax(model.predict(x_test, verbose=0), 1) == y_test))}
    stage, design = "keras_wc.rtl.convert", None
    try:
        design = keras_wc.rtl.convert(model, folder / f"{workload}_row{len(list(folder.iterdir()))}",
                                      strategy=WORKLOADS[workload].strategy)
        estimate = estimate_design(design)
        result.update({"estimate_LUT": sum(e["LUT"] for e in estimate.values()),
                       "estimate_layers_LUT": {layer: e["LUT"] for layer, e in estimate.items()},
                       "full_multiplications": sum(m.multipliers for m in design.modules)})
        stage = "emulator"
        expected = emulate(model, x_test)
        result["emulated_accuracy"] = float(np.mean(expected.argmax(1) == y_test))
        if WORKLOADS[workload].simulated:
            stage = "Verilator simulation"
            outputs = design.simulate(x_test)
            result.update({"hardware_accuracy": float(np.mean(outputs.argmax(1) == y_test)),
                           "bit_exact": int(np.sum(np.all(outputs == expected, axis=1))), "samples": len(x_test)})
    except Exception as error:  # noqa: BLE001 -- the row keeps the reason, the run goes on
        result["error"] = f"{stage}: {type(error).__name__}: {error}"
        design = None
    result["seconds"] = round(time.time() - start, 1)
    return result, design


def jobs_of(index: int, result: Dict[str, Any], design: Any, include_top: bool) -> List[Job]:
    """The yosys runs of one prepared row: each layer module, then the top when ``include_top``."""
    files = [str(path) for path in design.verilog_files()]
    estimates = result["estimate_layers_LUT"]
    jobs = [Job(index, module.layer, [path], module.module, estimates.get(module.layer, 0))
            for module, path in zip(design.modules, files)]
    if include_top:
        jobs.append(Job(index, "top", files, design.top, sum(estimates.values())))
    return jobs


class YosysQueue:
    """yosys runs, ``workers`` at a time, fed while the next rows train; each prints as it finishes.

    Example:
        >>> with YosysQueue(2, timeout=None) as queue:
        ...     queue.submit(jobs_of(0, row, design, include_top=False), "DFP 4-bit")
        >>> queue.outcomes[0]["LUT"]
    """

    def __init__(self, workers: int, timeout: Optional[float], cached_only: bool = False):
        self.pool = ThreadPoolExecutor(max_workers=workers)  # each thread waits on its yosys process
        self.timeout = timeout
        self.cached_only = cached_only
        self.jobs: List[Job] = []
        self.futures: List[Any] = []
        self.outcomes: Dict[int, Dict[str, Any]] = {}

    def submit(self, jobs: List[Job], label: str) -> None:
        """Queue ``jobs`` (one row's), the largest estimate first so its longest run starts early."""
        for job in sorted(jobs, key=lambda j: -j.estimate_LUT):
            self.futures.append(self.pool.submit(self._run, len(self.jobs), job, label))
            self.jobs.append(job)

    def _run(self, position: int, job: Job, label: str) -> None:
        from keras_wc.rtl.synthesis import synthesize_module

        try:
            outcome = synthesize_module(job.files, job.top, timeout=self.timeout, cached_only=self.cached_only)
            print(f"  yosys {label} {job.name}: LUT {outcome['LUT']}, DSP {outcome['DSP']}, {outcome['seconds']} s"
                  + (" (cached)" if outcome["cached"] else ""), flush=True)
        except (RuntimeError, TimeoutError, LookupError) as error:
            outcome = {"error": str(error)}
            print(f"  yosys {label} {job.name}: {error}", flush=True)
        self.outcomes[position] = outcome

    def __enter__(self) -> "YosysQueue":
        return self

    def __exit__(self, *exc_info) -> None:
        self.pool.shutdown(wait=True)
        for future in self.futures:
            future.result()  # a bug in _run surfaces here


def finish(result: Dict[str, Any], jobs: List[Tuple[Job, Dict[str, Any]]]) -> Dict[str, Any]:
    """The row with its yosys figures: per layer module, totals and yosys seconds; after a failed run, the
    modules that did finish and the first failure under ``"error"`` (no totals)."""
    layers = {job.name: {k: outcome[k] for k in FIGURES} for job, outcome in jobs
              if job.name != "top" and "error" not in outcome}
    failed = [outcome["error"] for _, outcome in jobs if "error" in outcome]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return {**result, "layers": layers, "error": f"yosys: {failed[0]}{more}"}
    top = next((outcome for job, outcome in jobs if job.name == "top"), {})
    report = SynthesisReport("xcup", layers, top)  # the top's figures, or the modules' sum without one
    # yosys' own wall time per run, read back from the cache when a run was cached
    return {**result, "totals": report.totals, "layers": layers,
            "yosys_seconds": round(sum(outcome["seconds"] for _, outcome in jobs), 1)}


def run_workload(workload: str, keys: List[str], data, yosys_timeout: Optional[float],
                 skip_reason: str = "", workers: int = 1, cached_only: bool = False) -> Dict[str, Any]:
    """The rows of ``keys`` (method keys) on one workload: each row trained, written and simulated in
    turn while the yosys runs of the rows before it go on, ``workers`` at a time (``skip_reason``: why
    yosys is not run, after ``--yosys-timeout 0``; ``cached_only``: figures from the yosys cache only)."""
    start = time.time()
    table = methods()
    include_top = WORKLOADS[workload].include_top
    prepared: List[Tuple[Dict[str, Any], Any]] = []
    with tempfile.TemporaryDirectory(prefix="keras_wc_rtl_bench_") as scratch, \
            YosysQueue(workers, yosys_timeout, cached_only) as queue:
        for key in keys:
            r, design = prepare(*table[key], data, Path(scratch), workload)
            prepared.append((r, design))
            state = r.get("error") or (f"bit-exact {r['bit_exact']}/{r['samples']}" if "bit_exact" in r
                                       else f"emulated acc {r['emulated_accuracy']:.4f}")
            print(f"[{workload}] {r['row']:42s} acc {r['accuracy']:.4f}  {state}  [{r['seconds']} s]", flush=True)
            if design is not None and yosys_timeout != 0:
                queue.submit(jobs_of(len(prepared) - 1, r, design, include_top), r["row"])
    rows = []
    for i, (r, design) in enumerate(prepared):
        if design is None:
            rows.append(r)
            continue
        if yosys_timeout == 0:
            rows.append({**r, "error": f"yosys not run (--yosys-timeout 0){skip_reason}"})
            continue
        rows.append(finish(r, [(job, queue.outcomes[j]) for j, job in enumerate(queue.jobs) if job.row == i]))
        line = (f"LUT {rows[-1]['totals']['LUT']:6}  DSP {rows[-1]['totals']['DSP']:4}  "
                f"(yosys {rows[-1]['yosys_seconds']} s)" if "totals" in rows[-1] else rows[-1]["error"])
        print(f"[{workload}] {r['row']:42s} {line}", flush=True)
    return {"workload": WORKLOADS[workload].title,
            "command": f"python -m benchmarks.rtl_hardware --workload {workload}",
            "epochs": WORKLOADS[workload].epochs, "seed": SEED, "baseline": BASELINE,
            "scope": "whole design" if include_top else "layer modules", "strategy": WORKLOADS[workload].strategy,
            "simulated": WORKLOADS[workload].simulated, "rows": rows, "seconds": round(time.time() - start, 1)}


def baseline_cost(document: Dict[str, Any], workload: str) -> str:
    """Why a row goes without yosys: the measured yosys time of the workload's baseline, if the JSON has it."""
    entry = document if workload == "mlp" else document.get("workloads", {}).get(workload, {})
    base = next((r for r in entry.get("rows", []) if r["row"] == BASELINE and "yosys_seconds" in r), None)
    if base is None:
        return ""
    return (f"; the 8-bit baseline of this workload took {base['yosys_seconds'] / 60:.0f} min of yosys here "
            f"(every module, then the whole top)")


def merge(document: Dict[str, Any], workload: str, result: Dict[str, Any], all_methods: bool) -> Dict[str, Any]:
    """``document`` (``rtl_hardware.json``) with ``result`` as the workload's entry.

    The MLP keeps the document's top-level keys; other workloads go under ``"workloads"``. A run of some
    methods only replaces those rows (by name) and keeps the others.
    """
    if workload == "mlp":
        previous = {k: document.get(k) for k in ("workload", "epochs", "seed", "baseline", "rows", "seconds")}
    else:
        previous = document.get("workloads", {}).get(workload, {})
    if not all_methods and previous.get("rows"):
        fresh = {r["row"]: r for r in result["rows"]}
        kept = [fresh.pop(r["row"], r) for r in previous["rows"]]
        result = {**result, "rows": kept + list(fresh.values()),
                  "seconds": round(previous.get("seconds", 0) + result["seconds"], 1)}
    if workload == "mlp":
        return {"suite": "rtl_hardware", **document, **result}
    return {"suite": "rtl_hardware", **document, "workloads": {**document.get("workloads", {}), workload: result}}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", choices=(*WORKLOADS, "both"), default="both",
                        help="which model to run (default both: the two digits workloads); the others' results "
                             "stay in the JSON")
    parser.add_argument("--methods", default="",
                        help="comma-separated keys of tests/_rtl_models.py METHODS (default every one); the "
                             "workload's other rows stay in the JSON")
    parser.add_argument("--yosys-timeout", type=float, default=None,
                        help="seconds of yosys per module before it is killed and its row kept with that "
                             "reason (default no limit; 0: yosys not run)")
    parser.add_argument("--cached-only", action="store_true",
                        help="never run yosys: take each module's figures from the yosys cache (a module not "
                             "there leaves its row without figures, saying so)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="yosys runs at a time (default 1; each uses one core and up to a few GB)")
    args = parser.parse_args(argv)

    from keras_wc import datasets

    from .markdown import write_benchmarks_md

    table = methods()
    keys = [k.strip() for k in args.methods.split(",") if k.strip()] or list(table)
    unknown = sorted(set(keys) - set(table))
    if unknown:
        parser.error(f"--methods: unknown {unknown}; expected keys of {list(table)}")
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: expected a positive number of yosys runs at a time")
    for workload in (("mlp", "lenet5") if args.workload == "both" else (args.workload,)):
        data = datasets.load(WORKLOADS[workload].dataset)
        document = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"suite": "rtl_hardware"}
        result = run_workload(workload, keys, data, args.yosys_timeout, baseline_cost(document, workload),
                              args.jobs, args.cached_only)
        document = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"suite": "rtl_hardware"}
        RESULTS.write_text(json.dumps(merge(document, workload, result, keys == list(table)), indent=1) + "\n")
        write_benchmarks_md(RESULTS.parent, ROOT / "BENCHMARKS.md")
        print(f"wrote {RESULTS} ({workload}) and BENCHMARKS.md", flush=True)


if __name__ == "__main__":
    main()
