"""The rows of the benchmark table: recipes (``keras_wc.projects``), baselines and every keras_wc method.

Each main row is ``benchmarks/recipes/rows/<name>.yaml``: its quantizers, its training (QR,
gradual pruning, precision scaling, TF-MOT pruning) and its ``benchmark`` section (table
family, target, whether the hardware figures are measured). The QR ablation rows are the
float32 row with other quantizers and QR settings, validated by the same loader. Every row
trains the same architecture on the same data, seeds and epochs: ``benchmarks.run`` merges
each workload's dataset, model and budget into every row (``benchmarks.harness``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

from keras_wc.projects import Recipe, load_recipe, merge, recipe_from_dict

RECIPES = Path(__file__).resolve().parent / "recipes"
#: the main rows, in table order (file stems of ``recipes/rows/``)
MAIN = ("float32", "qkeras8", "qkeras4", "tfmot90", "swc_fixed", "swc_po2", "poly_linear", "poly_quadratic",
        "dfp_ps_qr", "dfp_ps_wqr", "po2_qr", "ternary82", "ternary82_direct", "searched")


def load_row(name: str) -> Recipe:
    """Load ``recipes/rows/<name>.yaml`` (its ``name`` must be the file stem).

    Args:
        name: the row id.

    Returns:
        The row's recipe.

    Example:
        >>> load_row("swc_fixed").benchmark["hardware"]
        True
    """
    recipe = load_recipe(RECIPES / "rows" / f"{name}.yaml")
    if recipe.name != name:
        raise ValueError(f"recipe {recipe.path}: name={recipe.name!r} must be the file stem {name!r}")
    return recipe


MAIN_ROWS: Tuple[Recipe, ...] = tuple(load_row(name) for name in MAIN)


def row(name: str) -> Recipe:
    """The main row called ``name``.

    Example:
        >>> row("po2_qr").training["qr"]["strength"]
        0.001
    """
    for recipe in MAIN_ROWS:
        if recipe.name == name:
            return recipe
    raise ValueError(f"row={name!r}: expected one of {list(MAIN)}")


def ablation_rows() -> Tuple[Recipe, ...]:
    """QR vs no QR and weighted vs unweighted QR, DFP and Po2 at 2 and 3 bits.

    The QR settings are those of the ``po2_qr`` (plain) and ``dfp_ps_wqr`` (weighted) rows.

    Returns:
        The 12 ablation recipes (family ``"ablation"``), named ``ablation_<method><bits>_<variant>``.
    """
    variants = {"noqr": None, "qr": row("po2_qr").training["qr"], "wqr": row("dfp_ps_wqr").training["qr"]}
    bias = row("po2_qr").quantizers["bias"]
    rows = []
    for bits in (2, 3):
        for method, class_name in (("dfp", "DFP"), ("po2", "Po2")):
            for variant, qr in variants.items():
                rows.append(recipe_from_dict(merge(row("float32").as_dict(), {
                    "name": f"ablation_{method}{bits}_{variant}", "label": f"{method.upper()} {bits}-bit, {variant}",
                    "quantizers": {"default": {"class_name": class_name, "config": {"bits": bits}}, "bias": bias},
                    "training": {"qr": qr}, "benchmark": {"family": "ablation"}})))
    return tuple(rows)
