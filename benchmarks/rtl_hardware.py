"""Gate-level benchmark: every method and the 8-bit QKeras baseline on the same model, synthesized by yosys.

Two workloads, each trained once per kernel quantizer of ``METHODS`` in ``tests/_rtl_models.py`` (the
same quantizer on every layer; same seed, epochs, optimizer and data for every row):

* ``mlp``: ``QActivation -> Flatten -> QDense(32) -> QActivation -> QDense(10)`` on scikit-learn's digits;
* ``lenet5``: the whole :func:`keras_wc.models.lenet5` on the 8x8 digits (conv 6@5x5 'same', max-pool 2,
  conv 16@5x5 'same', max-pool 2, fc 120, fc 84, logits; 21,386 parameters), with the MLP's input,
  activation and bias quantizers; trained and written up to its logits (:func:`keras_wc.models.logits_model`,
  the softmax left out as the MLP has none).

Each row is written by ``keras_wc.rtl``, its Verilator simulation is checked bit-exact against the emulator
on the 360 test images, and the whole design is synthesized with yosys ``synth_xilinx -family xcup``.
Ratios are against the baseline row of the same workload. A row that fails (or whose yosys run passes
``--yosys-timeout``) is kept with its reason under ``"error"``. yosys results are cached by Verilog hash
(``~/.cache/keras_wc/yosys``), so a re-run of an unchanged row costs its training only.

Writes ``benchmarks/results/rtl_hardware.json`` (the MLP under the document's top-level keys, every other
workload under ``"workloads"``; a run merges into the file, keeping the workloads it did not run) and
regenerates BENCHMARKS.md. Run: ``python -m benchmarks.rtl_hardware [--workload mlp|lenet5|both]`` (needs
the ``[rtl]`` extra, Verilator and yosys; the MLP took about an hour of yosys on 2 cores, LeNet-5 far longer:
see the JSON's ``yosys_seconds``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "rtl_hardware.json"
HIDDEN, EPOCHS, SEED = 32, 20, 0
BASELINE = "QKeras quantized_bits 8-bit"  # LABELS["baseline8"] of tests/_rtl_models.py
INPUT_QUANTIZER, ACTIVATION_QUANTIZER = "quantized_relu(8,1)", "quantized_relu(8,3)"
BIAS_QUANTIZER = "quantized_bits(8,2,alpha=1)"
#: workload key -> its name in the JSON and BENCHMARKS.md
WORKLOADS = {"mlp": f"digits MLP 64-{HIDDEN}-10", "lenet5": "digits LeNet-5 8x8 (whole model)"}


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

    if workload == "lenet5":
        from keras_wc.models import lenet5, logits_model

        return logits_model(lenet5(input_shape=(8, 8, 1), num_classes=10, quantizer=lambda name, shape: factory(),
                                   bias_quantizer=BIAS_QUANTIZER, input_quantizer=INPUT_QUANTIZER,
                                   activation_quantizer=ACTIVATION_QUANTIZER))
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)), QActivation(INPUT_QUANTIZER), tf.keras.layers.Flatten(),
        QDense(HIDDEN, kernel_quantizer=factory(), bias_quantizer=BIAS_QUANTIZER, name="fc1"),
        QActivation(ACTIVATION_QUANTIZER),
        QDense(10, kernel_quantizer=factory(), bias_quantizer=BIAS_QUANTIZER, name="logits")])


def train(factory: Callable[[], Any], data, workload: str = "mlp") -> Any:
    """The workload's model with ``factory()`` kernels, trained on digits (cross-entropy on its logits)."""
    import tensorflow as tf

    (x_train, y_train), _ = data
    tf.keras.utils.set_random_seed(SEED)
    model = build(workload, factory)
    model.compile(tf.keras.optimizers.Adam(3e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)
    return model


def synthesize(design, timeout: Optional[float]):
    """``design.synthesize()``, its yosys runs in a child process group killed after ``timeout`` seconds.

    The child runs yosys on each layer module, then on the top, exactly as ``synthesize()`` does (one
    at a time); what finishes is cached, so the final ``design.synthesize()`` only reads the cache.

    Raises:
        TimeoutError: yosys did not finish in time (the modules done are named).
        RuntimeError: yosys failed.
    """
    files = [str(path) for path in design.verilog_files()]
    jobs = [[[path], module.module] for module, path in zip(design.modules, files)] + [[files, design.top]]
    code = ("import json, sys\nfrom keras_wc.rtl.synthesis import synthesize_module\n"
            "for files, top in json.loads(sys.argv[1]):\n"
            "    result = synthesize_module(files, top)\n"
            "    print(top, flush=True)\n"
            "    print(f\"  yosys {top}: LUT {result['LUT']}, DSP {result['DSP']}, {result['seconds']} s\"\n"
            "          + (' (cached)' if result['cached'] else ''), file=sys.stderr, flush=True)\n")
    child = subprocess.Popen([sys.executable, "-c", code, json.dumps(jobs)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT, start_new_session=True)  # progress on stderr, as it happens
    try:
        output, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the child and its yosys: this group is ours alone
        output, _ = child.communicate()
        done = [line.split()[0] for line in output.splitlines() if line.strip()]
        raise TimeoutError(f"yosys did not finish within {timeout:.0f} s (killed); modules done and cached: "
                           f"{', '.join(done) or 'none'}; next: {jobs[len(done)][1]}") from None
    if child.returncode != 0:
        raise RuntimeError(f"yosys child exited {child.returncode} after: {' '.join(output.split()) or 'nothing'}")
    return design.synthesize()


def row(name: str, factory: Callable[[], Any], data, folder: Path, workload: str = "mlp",
        yosys_timeout: Optional[float] = None, skip_reason: str = "") -> Dict[str, Any]:
    """Train, write, simulate and synthesize one method; a failure is kept under ``"error"``."""
    import keras_wc.rtl
    from keras_wc.emulate import emulate
    from keras_wc.rtl.estimate import estimate_design

    _, (x_test, y_test) = data
    start = time.time()
    model = train(factory, data, workload)
    result: Dict[str, Any] = {"row": name,
                              "accuracy": float(np.mean(np.argmax(model.predict(x_test, verbose=0), 1) == y_test))}
    stage = "keras_wc.rtl.convert"
    try:
        design = keras_wc.rtl.convert(model, folder / f"{workload}_row{len(list(folder.iterdir()))}")
        estimate = estimate_design(design)
        result.update({"estimate_LUT": sum(e["LUT"] for e in estimate.values()),
                       "full_multiplications": sum(m.multipliers for m in design.modules)})
        stage = "Verilator simulation"
        outputs = design.simulate(x_test)
        result.update({"hardware_accuracy": float(np.mean(outputs.argmax(1) == y_test)),
                       "bit_exact": int(np.sum(np.all(outputs == emulate(model, x_test), axis=1))),
                       "samples": len(x_test)})
        if yosys_timeout == 0:
            result["error"] = f"yosys not run (--yosys-timeout 0){skip_reason}"
            result["seconds"] = round(time.time() - start, 1)
            return result
        stage = "yosys"
        synthesis_start = time.time()
        report = synthesize(design, yosys_timeout)
        result.update({
            "totals": report.totals,
            "layers": {layer: {k: figures[k] for k in ("LUT", "FF", "CARRY", "DSP", "BRAM")}
                       for layer, figures in report.layers.items()},
            # yosys' own wall time per run, read back from the cache when a run was cached
            "yosys_seconds": round(sum(f["seconds"] for f in report.layers.values()) + report.top["seconds"], 1),
            "yosys_wall_seconds_this_run": round(time.time() - synthesis_start, 1)})
    except Exception as error:  # noqa: BLE001 -- the row keeps the reason, the run goes on
        result["error"] = f"{stage}: {type(error).__name__}: {error}"
    result["seconds"] = round(time.time() - start, 1)
    return result


def run_workload(workload: str, keys: List[str], data, yosys_timeout: Optional[float],
                 skip_reason: str = "") -> Dict[str, Any]:
    """The rows of ``keys`` (method keys) on one workload, printed as they finish (``skip_reason``: why
    yosys is not run, after ``--yosys-timeout 0``)."""
    rows: List[Dict[str, Any]] = []
    start = time.time()
    table = methods()
    with tempfile.TemporaryDirectory(prefix="keras_wc_rtl_bench_") as scratch:
        for key in keys:
            name, factory = table[key]
            rows.append(row(name, factory, data, Path(scratch), workload, yosys_timeout, skip_reason))
            r = rows[-1]
            if "totals" in r:
                t = r["totals"]
                line = (f"LUT {t['LUT']:6}  FF {t['FF']:5}  DSP {t['DSP']:4}  "
                        f"bit-exact {r['bit_exact']}/{r['samples']}  (yosys {r['yosys_seconds']} s)")
            else:
                line = f"no yosys figures: {r['error']}"
            print(f"[{workload}] {name:42s} acc {r['accuracy']:.4f}  {line}  [{r['seconds']} s]", flush=True)
    return {"workload": WORKLOADS[workload], "command": f"python -m benchmarks.rtl_hardware --workload {workload}",
            "epochs": EPOCHS, "seed": SEED, "baseline": BASELINE, "rows": rows,
            "seconds": round(time.time() - start, 1)}


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
    parser.add_argument("--workload", choices=("mlp", "lenet5", "both"), default="both",
                        help="which model to run (default both); the others' results stay in the JSON")
    parser.add_argument("--methods", default="",
                        help="comma-separated keys of tests/_rtl_models.py METHODS (default every one); the "
                             "workload's other rows stay in the JSON")
    parser.add_argument("--yosys-timeout", type=float, default=None,
                        help="seconds of yosys per design before it is killed and the row kept with that "
                             "reason (default no limit; 0: yosys not run)")
    args = parser.parse_args(argv)

    from keras_wc import datasets

    from .markdown import write_benchmarks_md

    table = methods()
    keys = [k.strip() for k in args.methods.split(",") if k.strip()] or list(table)
    unknown = sorted(set(keys) - set(table))
    if unknown:
        parser.error(f"--methods: unknown {unknown}; expected keys of {list(table)}")
    data = datasets.load("digits")
    for workload in (("mlp", "lenet5") if args.workload == "both" else (args.workload,)):
        document = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"suite": "rtl_hardware"}
        result = run_workload(workload, keys, data, args.yosys_timeout, baseline_cost(document, workload))
        document = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"suite": "rtl_hardware"}
        RESULTS.write_text(json.dumps(merge(document, workload, result, keys == list(table)), indent=1) + "\n")
        write_benchmarks_md(RESULTS.parent, ROOT / "BENCHMARKS.md")
        print(f"wrote {RESULTS} ({workload}) and BENCHMARKS.md", flush=True)


if __name__ == "__main__":
    main()
