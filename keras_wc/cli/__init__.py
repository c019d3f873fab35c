"""The ``keras-wc`` command line.

Each sub-command lives in its own module exposing ``register(subparsers)``, which adds an
argparse sub-parser whose ``func(args) -> int`` runs the command. Errors a user can fix are
raised as :class:`CLIError`, ``ValueError``, ``TypeError`` or ``OSError`` (a missing file, a
folder that may not be written) and printed as one line with exit code 2, like argparse's own
usage errors (``docs/errors.md``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional

# before TensorFlow is first imported: keep its C++ start-up chatter off the user's terminal
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ..model_file import quiet_tensorflow, quiet_warnings  # noqa: E402  (after TF_CPP_MIN_LOG_LEVEL)

#: sub-command modules, in ``--help`` order
COMMAND_MODULES = ["keras_wc.cli.demo", "keras_wc.cli.report", "keras_wc.cli.hls_commands", "keras_wc.cli.rtl",
                   "keras_wc.cli.project", "keras_wc.cli.search"]


class CLIError(Exception):
    """An error reported to the user as one line and exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered sub-command."""
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="keras-wc",
        description="Compress Keras/QKeras models for FPGAs (SWC, polynomial, DFP/Po2 + QR, "
        "sparse ternary) and validate the HLS by C simulation.")
    parser.add_argument("--version", action="version", version=f"keras-wc {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``keras-wc`` console script.

    Args:
        argv: arguments (defaults to ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    quiet_tensorflow()
    try:
        with quiet_warnings():  # third-party load chatter only; restored when the command returns
            return int(args.func(args) or 0)
    except (CLIError, ValueError, TypeError, OSError, RuntimeError) as error:
        print(f"keras-wc {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
