"""``keras-wc search RECIPE``: per-layer compression search under a hardware budget (``docs/search.md``).

Starts ``--workers`` local worker processes on one Optuna study in ``--storage`` (SQLite by default;
any SQLAlchemy URL, so workers on other machines running the same command share the study). Running
it again on the same storage adds ``--trials`` more. Writes ``OUT/pareto.json``, ``OUT/pareto.png``
and ``OUT/points/trial_N/recipe.yaml`` (``keras-wc project build`` accepts it).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``search`` sub-command."""
    parser = subparsers.add_parser("search", help="search per-layer methods and settings under a hardware budget "
                                   "(Optuna; needs the [search] extra)")
    parser.add_argument("recipe", help="a recipe YAML, or a packaged recipe name (swc, dfp, ...): its model, "
                        "dataset and training")
    parser.add_argument("--trials", type=int, required=True, help="trials this run adds to the study")
    parser.add_argument("--workers", type=int, default=1, help="local worker processes (default 1)")
    parser.add_argument("--storage", default=None, help="SQLAlchemy URL or SQLite file shared by the workers "
                        "(default OUT/study.db; e.g. postgresql+psycopg://user:pw@host/db)")
    parser.add_argument("--study", default=None, help="study name (default: the recipe's name)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or an earlier search's)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per trial (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=0, help="the sampler's seed (default 0)")
    parser.add_argument("--methods", default=None, help="comma-separated methods a layer may take "
                        "(swc,poly,dfp,po2,ternary,qkeras; default all)")
    budget = parser.add_argument_group("budget (the first given is minimised beside accuracy; default memory bits)")
    budget.add_argument("--budget-memory-kib", type=float, default=None, help="weight memory, KiB")
    budget.add_argument("--budget-full-mults", type=int, default=None, help="full multipliers")
    budget.add_argument("--budget-lut", type=int, default=None, help="gate-level LUT estimate")
    budget.add_argument("--budget-dsp", type=int, default=None, help="gate-level DSP estimate")
    parser.set_defaults(func=_search)


def _search(args: argparse.Namespace) -> int:
    from ..projects import load_recipe, packaged_recipe, packaged_recipes
    from ..search import Budget, SearchSettings, search

    if Path(args.recipe).is_file():
        recipe = load_recipe(args.recipe)
    elif args.recipe in packaged_recipes():
        recipe = packaged_recipe(args.recipe)
    else:
        raise FileNotFoundError(f"RECIPE {args.recipe!r}: no such file, and no packaged recipe of that name "
                                f"({', '.join(packaged_recipes())})")
    if args.budget_memory_kib is not None and args.budget_memory_kib < 0:
        raise ValueError(f"--budget-memory-kib={args.budget_memory_kib}: expected a non-negative number")
    memory = None if args.budget_memory_kib is None else int(args.budget_memory_kib * 1024 * 8)
    budget = Budget(memory_bits=memory, full_mults=args.budget_full_mults, lut=args.budget_lut, dsp=args.budget_dsp)
    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods else None
    settings = SearchSettings(recipe, args.out, trials=args.trials, workers=args.workers, storage=args.storage,
                              study=args.study, epochs=args.epochs, budget=budget, seed=args.seed,
                              methods=methods)
    result = search(settings)
    for point in result.points:
        print(f"  trial {point['trial']:4d}: accuracy {point['accuracy']:.4f}  memory {point['memory_bits']} bits  "
              f"full mults {point['full_mults']}  LUT {point['lut']}  DSP {point['dsp']}")
    return 0
