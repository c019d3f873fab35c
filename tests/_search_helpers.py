"""Helpers the search tests hand to worker processes by name (``"module:function"``)."""

from __future__ import annotations

from typing import Any, Tuple

from keras_wc.search.objective import train_on_validation


def fail_on_ternary(recipe: Any, train_split: Tuple[Any, Any]) -> Tuple[Any, float]:
    """Train like the default trainer, but raise for a configuration of SparseTernary layers only."""
    if all(spec["class_name"] == "SparseTernary" for spec in recipe.quantizers["layers"].values()):
        raise RuntimeError("a trial that crashes on purpose")
    return train_on_validation(recipe, train_split)
