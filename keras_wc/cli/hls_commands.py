"""``keras-wc convert`` and ``keras-wc csim``: an SQNAP HLS project from a saved model, and its C simulation.

Add ``"keras_wc.cli.hls_commands"`` to ``COMMAND_MODULES`` in ``keras_wc/cli/__init__.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .loading import load_model


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``convert`` and ``csim`` sub-commands."""
    convert = subparsers.add_parser("convert", help="write an SQNAP hls4ml project (Vitis or Vivado) from a model")
    convert.add_argument("model", type=Path, help="a saved Keras model (.h5 or SavedModel) with keras_wc layers")
    convert.add_argument("output_dir", type=Path, help="the project folder (must be empty unless --overwrite)")
    convert.add_argument("--flavor", default="Vitis", choices=["Vitis", "Vivado"])
    convert.add_argument("--io-type", default="io_parallel", choices=["io_parallel", "io_stream"])
    convert.add_argument("--project-name", default="myproject")
    convert.add_argument("--input-format", default=None,
                         help="input fixed-point format, e.g. 'ufixed<8,0>' (default: the first QActivation's)")
    convert.add_argument("--reuse-factor", type=int, default=1)
    convert.add_argument("--x-test", type=Path, default=None, help=".npy test inputs written to tb_data/")
    convert.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    convert.set_defaults(func=_convert)

    csim = subparsers.add_parser("csim", help="C-simulate an SQNAP project with g++ and compare with the emulator")
    csim.add_argument("project_dir", type=Path)
    csim.add_argument("--opt", default="-O1", help="g++ optimisation flag (default -O1)")
    csim.set_defaults(func=_csim)


def _convert(args: argparse.Namespace) -> int:
    import numpy as np

    from ..hls import convert

    x_test = np.load(args.x_test) if args.x_test is not None else None
    convert(load_model(args.model), args.output_dir, flavor=args.flavor, io_type=args.io_type,
            project_name=args.project_name, input_format=args.input_format, reuse_factor=args.reuse_factor,
            x_test=x_test, overwrite=args.overwrite)
    print(f"wrote the {args.flavor} project {args.output_dir}")
    return 0


def _csim(args: argparse.Namespace) -> int:
    from ..hls import csim

    result = csim(args.project_dir, opt=args.opt)
    print(result.summary())
    return 0 if result.all_bit_exact else 1
