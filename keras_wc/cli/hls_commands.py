"""``keras-wc convert``, ``csim`` and ``lint``: an SQNAP HLS project from a saved model, its C simulation and
its synthesis lint.

Every argument is checked before anything is written; a refused value is one line naming it
and what is allowed, exit code 2 (``docs/errors.md``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..model_file import load_model


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``convert``, ``csim`` and ``lint`` sub-commands."""
    convert = subparsers.add_parser("convert", help="write an SQNAP hls4ml project (Vitis or Vivado) from a model")
    convert.add_argument("model", type=Path, help="a saved Keras model (.h5 or SavedModel) with keras_wc layers")
    convert.add_argument("output_dir", type=Path, help="the project folder: new or empty, or with --overwrite a "
                         "folder keras_wc wrote")
    convert.add_argument("--flavor", default="Vitis", choices=["Vitis", "Vivado"])
    convert.add_argument("--io-type", default="io_parallel", choices=["io_parallel", "io_stream"])
    convert.add_argument("--project-name", default="myproject", help="the C++ top function (a C identifier)")
    convert.add_argument("--input-format", default=None,
                         help="input fixed-point format, e.g. 'ufixed<8,0>' (default: the first QActivation's)")
    convert.add_argument("--reuse-factor", type=int, default=1, help="hls4ml reuse factor, >= 1 (default 1)")
    convert.add_argument("--strategy", default=None, choices=["Latency", "Resource"],
                         help="every layer's architecture (default: Latency, Resource where a layer is too large)")
    convert.add_argument("--part", default=None, help="Xilinx FPGA part, e.g. xc7z020clg400-1 (default: "
                         "keras_wc.hls.convert's, xcvu13p-flga2577-2-e)")
    convert.add_argument("--clock-period", type=float, default=None, help="clock period in ns (default 5)")
    convert.add_argument("--x-test", type=Path, default=None, help=".npy test inputs written to tb_data/")
    convert.add_argument("--quantize-inputs", action="store_true", help="round and saturate --x-test values off "
                         "the input format's grid instead of refusing them")
    convert.add_argument("--overwrite", action="store_true", help="replace a project folder keras_wc wrote "
                         "(never a folder holding other files)")
    convert.set_defaults(func=_convert)

    csim = subparsers.add_parser("csim", help="C-simulate an SQNAP project with g++ and compare with the emulator")
    csim.add_argument("project_dir", type=Path)
    csim.add_argument("--opt", default="-O1", help="g++ optimisation flag (default -O1)")
    csim.set_defaults(func=_csim)

    lint = subparsers.add_parser("lint", help="per-layer synthesis figures of an SQNAP project and the problems a "
                                 "Vivado/Vitis synthesis would hit (pragmas, unroll and partition limits)")
    lint.add_argument("project_dir", type=Path)
    lint.add_argument("--flavor", default="", choices=["", "Vitis", "Vivado"],
                      help="check for this flavour (default: the project's own)")
    lint.set_defaults(func=_lint)


def load_array(path: Path) -> Any:
    """A ``.npy`` array, with one-line errors.

    Args:
        path: the file.

    Returns:
        The array.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a readable ``.npy`` array (pickled objects are refused).

    Example:
        >>> load_array(Path("x_test.npy")).shape
        (200, 8, 8, 1)
    """
    import numpy as np

    if not path.is_file():
        raise FileNotFoundError(f"--x-test {path}: no such file")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        reason = " ".join(str(error).split())
        raise ValueError(f"--x-test {path}: cannot read it as a .npy array: {reason[:200]}") from error


def _convert(args: argparse.Namespace) -> int:
    from ..hls.convert import convert
    from ..output_folder import check_output_dir

    check_output_dir(args.output_dir, args.overwrite)  # before the model is loaded
    x_test = load_array(args.x_test) if args.x_test is not None else None
    given = {name: value for name, value in (("part", args.part), ("clock_period", args.clock_period))
             if value is not None}
    convert(load_model(args.model), args.output_dir, flavor=args.flavor, io_type=args.io_type,
            project_name=args.project_name, input_format=args.input_format, reuse_factor=args.reuse_factor,
            x_test=x_test, overwrite=args.overwrite, quantize_inputs=args.quantize_inputs, strategy=args.strategy,
            **given)
    print(f"wrote the {args.flavor} project {args.output_dir}")
    return 0


def _csim(args: argparse.Namespace) -> int:
    from ..hls import csim

    result = csim(args.project_dir, opt=args.opt)
    print(result.summary())
    return 0 if result.all_bit_exact else 1


def _lint(args: argparse.Namespace) -> int:
    from ..hls import lint

    report = lint(args.project_dir, flavor=args.flavor)
    print(report.to_markdown())
    return 1 if report.problems else 0
