"""``keras-wc rtl``: Verilog of a saved model, its Verilator simulation and its yosys synthesis.

Every argument is checked before anything is written; a refused value is one line naming it
and what is allowed, exit code 2 (``docs/errors.md``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ..model_file import load_model
from .hls_commands import load_array


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rtl`` sub-command."""
    rtl = subparsers.add_parser("rtl", help="write a model as Verilog; simulate it with Verilator and "
                                "synthesize it with yosys (LUT/FF/DSP/BRAM)")
    rtl.add_argument("model", type=Path, help="a saved Keras model (.h5 or SavedModel)")
    rtl.add_argument("output_dir", type=Path, help="the design folder: new or empty, or with --overwrite a folder "
                     "keras_wc wrote")
    rtl.add_argument("--x-test", type=Path, default=None, help=".npy test inputs (tb_data/, and --simulate's inputs)")
    rtl.add_argument("--input-format", default=None,
                     help="input fixed-point format, e.g. 'ufixed<8,0>' (default: the first QActivation's)")
    rtl.add_argument("--quantize-inputs", action="store_true", help="round and saturate --x-test values off the "
                     "input grid instead of refusing them")
    rtl.add_argument("--simulate", action="store_true", help="simulate --x-test with Verilator and compare with "
                     "the emulator (needs the [rtl] extra)")
    rtl.add_argument("--synthesize", action="store_true", help="synthesize every module with yosys synth_xilinx "
                     "(needs yosys: apt-get install -y yosys)")
    rtl.add_argument("--no-top", action="store_true", help="with --synthesize: the layer modules only, not the "
                     "whole top as well (on a large model the top costs yosys as long again)")
    rtl.add_argument("--strategy", choices=("Latency", "Resource"), default="Latency",
                     help="Latency: weights as constants (default); Resource: every Dense layer after the Flatten "
                          "loops over its inputs with its weights in a ROM")
    rtl.add_argument("--reuse-factor", type=int, default=None,
                     help="with --strategy Resource: clocks per sample of each Dense layer's loop (default its "
                          "fan-in: one input per clock)")
    rtl.add_argument("--family", default="xcup", help="yosys synth_xilinx -family (default xcup: UltraScale+)")
    rtl.add_argument("--overwrite", action="store_true", help="replace a folder keras_wc wrote")
    rtl.set_defaults(func=_rtl)


def _stage(message: str) -> float:
    print(message, flush=True)
    return time.time()


def _rtl(args: argparse.Namespace) -> int:
    from ..emulate import emulate
    from ..output_folder import check_output_dir
    from ..rtl import convert

    if args.reuse_factor is not None and args.strategy != "Resource":
        raise ValueError("--reuse-factor applies to --strategy Resource (Latency layers take one clock)")
    check_output_dir(args.output_dir, args.overwrite)  # before the model is loaded
    if args.simulate and args.x_test is None:
        raise ValueError("--simulate needs --x-test (the inputs to simulate)")
    x_test = load_array(args.x_test) if args.x_test is not None else None
    model = load_model(args.model)
    start = _stage(f"[1/3] writing Verilog to {args.output_dir}")
    design = convert(model, args.output_dir, x_test=x_test, overwrite=args.overwrite,
                     input_format=args.input_format, quantize_inputs=args.quantize_inputs,
                     strategy=args.strategy, reuse_factor=args.reuse_factor)
    print(f"      {len(design.modules)} layer modules and the top {design.top} ({time.time() - start:.1f} s)")
    status = 0
    if args.simulate:
        start = _stage(f"[2/3] Verilator: building and simulating {len(x_test)} samples")
        outputs = design.simulate(x_test, quantize_inputs=args.quantize_inputs)
        expected = emulate(model, x_test, input_format=args.input_format, quantize_inputs=args.quantize_inputs)
        same = int(np.sum(np.all(outputs.reshape(len(x_test), -1) == expected.reshape(len(x_test), -1), axis=1)))
        print(f"      {same}/{len(x_test)} samples bit-exact with the emulator ({time.time() - start:.1f} s)")
        status = 0 if same == len(x_test) else 1
    if args.synthesize:
        start = _stage(f"[3/3] yosys synth_xilinx -family {args.family}, module by module")
        report = design.synthesize(args.family, progress=True, include_top=not args.no_top)
        print(report.to_markdown())
        print(f"      ({time.time() - start:.1f} s)")
    return status
