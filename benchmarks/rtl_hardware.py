"""Gate-level benchmark: every method and the 8-bit QKeras baseline on the same digits MLP, synthesized by yosys.

Each row trains ``QActivation -> Flatten -> QDense(32) -> QActivation -> QDense(10)`` on scikit-learn's
digits with one kernel quantizer on both layers (same seed, epochs and data), writes it with
``keras_wc.rtl``, checks the Verilator simulation bit-exact with the emulator on the test images, and
synthesizes the whole design with yosys ``synth_xilinx -family xcup``. Ratios are against the
baseline row of the same run. Writes ``benchmarks/results/rtl_hardware.json`` and regenerates
BENCHMARKS.md. Run: ``python -m benchmarks.rtl_hardware`` (about 15 minutes on 2 cores; needs the
``[rtl]`` extra and yosys).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "rtl_hardware.json"
HIDDEN, EPOCHS, SEED = 32, 20, 0
BASELINE = "QKeras quantized_bits 8-bit"  # LABELS["baseline8"] of tests/_rtl_models.py


def quantizers() -> Dict[str, Callable[[], Any]]:
    """Row name -> a fresh kernel quantizer (one per layer): the RTL tests' method set."""
    sys.path.insert(0, str(ROOT / "tests"))
    from _rtl_models import LABELS, METHODS

    return {LABELS[name]: factory for name, factory in METHODS.items()}


def train(factory: Callable[[], Any], data) -> Any:
    """The MLP with ``factory()`` kernels, trained on digits."""
    import tensorflow as tf
    from qkeras import QActivation, QDense

    (x_train, y_train), _ = data
    tf.keras.utils.set_random_seed(SEED)
    model = tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)), QActivation("quantized_relu(8,1)"), tf.keras.layers.Flatten(),
        QDense(HIDDEN, kernel_quantizer=factory(), bias_quantizer="quantized_bits(8,2,alpha=1)", name="fc1"),
        QActivation("quantized_relu(8,3)"),
        QDense(10, kernel_quantizer=factory(), bias_quantizer="quantized_bits(8,2,alpha=1)", name="logits")])
    model.compile(tf.keras.optimizers.Adam(3e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)
    return model


def row(name: str, factory: Callable[[], Any], data, folder: Path) -> Dict[str, Any]:
    """Train, write, simulate and synthesize one method."""
    import keras_wc.rtl
    from keras_wc.emulate import emulate
    from keras_wc.rtl.estimate import estimate_design

    _, (x_test, y_test) = data
    model = train(factory, data)
    accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), 1) == y_test))
    design = keras_wc.rtl.convert(model, folder / f"row{len(list(folder.iterdir()))}")
    outputs = design.simulate(x_test)
    bit_exact = int(np.sum(np.all(outputs == emulate(model, x_test), axis=1)))
    start = time.time()
    report = design.synthesize()
    estimate = estimate_design(design)
    return {"row": name, "accuracy": accuracy, "hardware_accuracy": float(np.mean(outputs.argmax(1) == y_test)),
            "bit_exact": bit_exact, "samples": len(x_test), "totals": report.totals,
            "layers": {layer: {k: figures[k] for k in ("LUT", "FF", "CARRY", "DSP", "BRAM")}
                       for layer, figures in report.layers.items()},
            "estimate_LUT": sum(e["LUT"] for e in estimate.values()),
            "full_multiplications": sum(m.multipliers for m in design.modules),
            "yosys_seconds": round(time.time() - start, 1)}


def main() -> None:
    from keras_wc import datasets

    from .markdown import write_benchmarks_md

    data = datasets.load("digits")
    rows: List[Dict[str, Any]] = []
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="keras_wc_rtl_bench_") as scratch:
        for name, factory in quantizers().items():
            rows.append(row(name, factory, data, Path(scratch)))
            totals = rows[-1]["totals"]
            print(f"{name:42s} acc {rows[-1]['accuracy']:.4f}  LUT {totals['LUT']:6}  FF {totals['FF']:5}  "
                  f"DSP {totals['DSP']:4}  bit-exact {rows[-1]['bit_exact']}/{rows[-1]['samples']}  "
                  f"({rows[-1]['yosys_seconds']} s)", flush=True)
    document = {"suite": "rtl_hardware", "workload": f"digits MLP 64-{HIDDEN}-10", "epochs": EPOCHS, "seed": SEED,
                "baseline": BASELINE, "rows": rows, "seconds": round(time.time() - start, 1)}
    RESULTS.write_text(json.dumps(document, indent=1) + "\n")
    write_benchmarks_md(RESULTS.parent, ROOT / "BENCHMARKS.md")
    print(f"wrote {RESULTS} and BENCHMARKS.md")


if __name__ == "__main__":
    main()
