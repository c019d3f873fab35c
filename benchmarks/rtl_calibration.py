"""Calibrate keras_wc.rtl's LUT/FF estimate against yosys: synthesize layer modules, fit, report held-out residuals.

Fit set: one Dense layer per kernel quantizer at 16->8, 24->6 and 48->5, and every module of three CNNs
(tests/_rtl_models.py). Held out: the same quantizers at 8->12 and every module of the mixed MLP.
Writes ``benchmarks/results/rtl_calibration.json`` (every module's inventory, yosys' figures and the
estimate) and prints the coefficients to put in ``keras_wc/rtl/estimate.py`` and the tables of
docs/report.md. Run: ``python -m benchmarks.rtl_calibration`` (about 5 minutes on 2 cores; needs
yosys).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "rtl_calibration.json"
QUANTIZERS = {
    "quantized_bits(8)": lambda: "quantized_bits(8,0,alpha=1)",
    "quantized_bits(6)": lambda: "quantized_bits(6,0,alpha=1)",
    "SWC 4-bit, groups of 8": lambda: SWC(sw_bits=4, group=8),
    "SWC 3-bit, per filter": lambda: SWC(sw_bits=3, group="filter"),
    "SWC po2 4-bit": lambda: SWC(sw_bits=4, group=8, sw_format="po2"),
    "PolyApprox linear": lambda: PolyApprox(degree=1, levels=8, group="filter"),
    "PolyApprox quadratic": lambda: PolyApprox(degree=2, levels=4),
    "DFP 4-bit": lambda: DFP(bits=4),
    "DFP 8-bit": lambda: DFP(bits=8),
    "Po2 4-bit": lambda: Po2(bits=4),
    "SparseTernary (8,2)": lambda: SparseTernary(n=8, k=2),
    "SparseTernary (4,1) normalized": lambda: SparseTernary(n=4, k=1, normalize=True),
}
FIT_SHAPES, HELD_OUT_SHAPES = ((16, 8, 1), (24, 6, 2), (48, 5, 4)), ((8, 12, 3),)

sys.path.insert(0, str(ROOT / "tests"))
from _rtl_models import conv1d_model, conv_model, depthwise_model, mixed_model, single_layer  # noqa: E402

from keras_wc.quantizers import DFP, SWC, PolyApprox, Po2, SparseTernary  # noqa: E402


def measure(tag: str, model: Any, folder: Path, held_out: bool) -> List[Dict[str, Any]]:
    """Every module of one model: its inventory, yosys' figures and the current estimate."""
    import keras_wc.rtl
    from keras_wc.rtl.estimate import estimate_module, features
    from keras_wc.rtl.synthesis import synthesize_module

    design = keras_wc.rtl.convert(model, folder / tag)
    rows = []
    for module, path in zip(design.modules, design.verilog_files()):
        measured = synthesize_module([path], module.module)
        rows.append({"model": tag, "layer": module.layer, "held_out": held_out, **features(module),
                     "products": [list(p) for p in module.products],
                     "yosys": {k: measured[k] for k in ("LUT", "FF", "CARRY", "DSP", "BRAM")},
                     "estimate": estimate_module(module)})
        print(f"{tag:40s} {module.layer:18s} LUT {measured['LUT']:6} FF {measured['FF']:5} DSP {measured['DSP']:4}",
              flush=True)
    return rows


def main() -> None:
    from keras_wc.rtl.estimate import fit

    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="keras_wc_calibration_") as scratch:
        folder = Path(scratch)
        for shapes, held_out in ((FIT_SHAPES, False), (HELD_OUT_SHAPES, True)):
            for n_in, n_out, seed in shapes:
                for name, quantizer in QUANTIZERS.items():
                    rows += measure(f"Dense {n_in}->{n_out} {name}", single_layer(quantizer(), n_in, n_out, seed),
                                    folder, held_out)
        for tag, build in (("CNN 2-D", conv_model), ("CNN depthwise", depthwise_model), ("CNN 1-D", conv1d_model)):
            rows += measure(tag, build(), folder, False)
        rows += measure("MLP of every method", mixed_model(), folder, True)
    coefficients = fit([{**r, **r["yosys"]} for r in rows if not r["held_out"]])
    RESULTS.write_text(json.dumps({"coefficients": coefficients, "modules": rows}, indent=1) + "\n")
    print(json.dumps(coefficients, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
