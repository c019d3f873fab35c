"""``keras-wc demo``: the main job on bundled data, end to end.

Trains the packaged recipe ``keras_wc/recipes/<method>.yaml`` (LeNet-5 on scikit-learn's
digits with a keras_wc method), prints its test accuracy and compression report, converts it
to an SQNAP Vitis project and runs C simulation against the bit-exact emulator.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..pipeline import DemoSettings, run_demo


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser("demo", help="train, compress, report and C-simulate a model on digits")
    parser.add_argument("--quick", action="store_true", help="few epochs and 200 C-simulation samples (< 2 min)")
    parser.add_argument("--method", default="swc", choices=sorted(DemoSettings.METHODS),
                        help="compression method: the recipe keras_wc/recipes/METHOD.yaml (default: swc)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the recipe's 8, quick: 4)")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where to write the HLS project (default: a temporary folder)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --output-dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings = DemoSettings(method=args.method, quick=args.quick, epochs=args.epochs, seed=args.seed,
                            overwrite=args.overwrite)
    if args.output_dir is not None:
        return run_demo(settings, args.output_dir, echo=print).exit_code
    with tempfile.TemporaryDirectory(prefix="keras_wc_demo_") as workdir:
        return run_demo(settings, Path(workdir) / "sqnap_project", echo=print).exit_code
