"""``keras-wc project build RECIPE``: build an FPGA reference project from its recipe (``docs/recipes.md``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``project`` sub-command (``project build``)."""
    parser = subparsers.add_parser("project", help="build FPGA projects from recipes (fpga_projects/)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="train/load, convert, C-simulate and document a recipe's project")
    build.add_argument("recipe", type=Path, help="the recipe YAML (e.g. fpga_projects/digits_mlp_ternary/recipe.yaml)")
    build.add_argument("--output-dir", type=Path, default=None, help="project folder (default: project/ beside "
                       "the recipe)")
    build.add_argument("--train", action="store_true", help="retrain and replace model.h5 beside the recipe")
    build.add_argument("--overwrite", action="store_true", help="replace a non-empty project folder (a reference "
                       "project's project/ holds its committed files: this writes the full project there)")
    build.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    from ..projects import build_project

    result = build_project(args.recipe, output_dir=args.output_dir, retrain=args.train, overwrite=args.overwrite)
    return 0 if result.all_bit_exact else 1
