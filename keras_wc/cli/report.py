"""``keras-wc report``: memory and multiplications of a saved model, per layer.

Example:
    keras-wc report lenet5_swc.h5 --plot lenet5_swc.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..report import compression_report
from ..model_file import load_model

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser("report", help="print a saved model's memory and multiplications per layer")
    parser.add_argument("model_path", type=Path, metavar="MODEL_PATH",
                        help="a Keras model (.h5/.keras file or SavedModel folder)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the markdown table")
    parser.add_argument("--plot", type=Path, default=None, metavar="PATH",
                        help="also write the per-layer PNG to PATH")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    report = compression_report(load_model(args.model_path))
    print(report.to_json() if args.json else report.to_markdown().rstrip("\n"))
    if args.plot is not None:
        report.plot(str(args.plot))
    return 0
