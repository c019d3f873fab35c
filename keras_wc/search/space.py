"""The per-layer search space: which methods a layer may take, and each method's settings.

One registry (:data:`CHOICES`), keyed by method name like TF-MOT keys its layers: each entry turns
an Optuna trial's suggestions into a quantizer spec ``{class_name, config}`` of the recipe schema
(docs/recipes.md). A parameter is named ``"<layer>.<setting>"`` so that a study holds every
layer's choice side by side. SWC's final ``prune_threshold`` is a suggestion too, applied by the
search's :class:`~keras_wc.callbacks.GradualPruning` (:func:`pruning_targets`). The value sets are
this project's choice (the papers name the settings, not ranges to search).

Example:
    >>> import optuna
    >>> trial = optuna.trial.FixedTrial({"fc1.method": "dfp", "fc1.dfp.bits": 4})
    >>> suggest_layer(trial, "fc1", fan_in=64)
    {'class_name': 'DFP', 'config': {'bits': 4}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

#: the name of a layer's method parameter, and the prefix of its settings
METHOD = "method"


@dataclass(frozen=True)
class Choice:
    """One method of the search space.

    Attributes:
        class_name: the quantizer class (recipe ``class_name``).
        settings: ``{setting: allowed values}`` suggested per layer (categorical).
        config: fixed configuration merged under the suggestions.
    """

    class_name: str
    settings: Mapping[str, Tuple[Any, ...]]
    config: Mapping[str, Any]

    def spec(self, values: Mapping[str, Any]) -> Dict[str, Any]:
        """The quantizer spec of suggested ``values`` (``prune_threshold`` goes to the pruning callback)."""
        config = {**self.config, **{k: v for k, v in values.items() if k != "prune_threshold"}}
        return {"class_name": self.class_name, "config": config}


#: method name -> :class:`Choice` (``"qkeras"``: the QKeras ``quantized_bits`` baseline)
CHOICES: Dict[str, Choice] = {
    "swc": Choice("SWC", {"sw_bits": (3, 4, 5), "group": (8, 16, "filter"), "prune_threshold": (0.0, 0.1, 0.2)},
                  {"sw_format": "fixed"}),
    "poly": Choice("PolyApprox", {"degree": (1, 2), "levels": (4, 8, 16), "group": ("filter", 16)}, {}),
    "dfp": Choice("DFP", {"bits": (3, 4, 5, 6, 8)}, {}),
    "po2": Choice("Po2", {"bits": (3, 4, 5)}, {}),
    "ternary": Choice("SparseTernary", {"n": (4, 8, 16), "k": (1, 2, 3), "delta_format": ("fixed", "po2")}, {}),
    "qkeras": Choice("quantized_bits", {"bits": (2, 3, 4, 6, 8)}, {"integer": 0, "alpha": 1}),
}


def check_methods(methods: Optional[Sequence[str]]) -> Tuple[str, ...]:
    """The methods a search may choose from (default: all of :data:`CHOICES`).

    Raises:
        ValueError: an unknown method name (the allowed ones listed).
    """
    chosen = tuple(methods) if methods else tuple(CHOICES)
    unknown = [m for m in chosen if m not in CHOICES]
    if unknown or not chosen:
        raise ValueError(f"methods={list(chosen)}: unknown {unknown}; allowed: {list(CHOICES)}")
    return chosen


def allowed_values(method: str, setting: str, fan_in: int) -> Tuple[Any, ...]:
    """The values of ``setting`` that fit a layer of ``fan_in`` inputs per output (a group no
    larger than the fan-in; SparseTernary's ``k < n``)."""
    values = CHOICES[method].settings[setting]
    if setting == "group":
        fitting = tuple(v for v in values if v == "filter" or v < fan_in)
        return fitting or ("filter",)
    if method == "ternary" and setting == "n":
        return tuple(v for v in values if v <= max(fan_in, min(values))) or (min(values),)
    return values


def suggest_layer(trial: Any, layer: str, fan_in: int, methods: Sequence[str] = tuple(CHOICES)) -> Dict[str, Any]:
    """Suggest one layer's quantizer spec (and record SWC's ``prune_threshold`` as a parameter).

    Args:
        trial: an Optuna trial.
        layer: the layer's name (the parameters' prefix).
        fan_in: inputs per output of the layer (bounds the group sizes).
        methods: the methods it may take.

    Returns:
        The quantizer spec ``{class_name, config}``.
    """
    method = trial.suggest_categorical(f"{layer}.{METHOD}", list(methods))
    values: Dict[str, Any] = {}
    for setting in CHOICES[method].settings:
        options = allowed_values(method, setting, fan_in)
        if method == "ternary" and setting == "k":
            options = tuple(v for v in options if v < values["n"])
        values[setting] = trial.suggest_categorical(f"{layer}.{method}.{setting}", list(options))
    return CHOICES[method].spec(values)


def pruning_targets(params: Mapping[str, Any]) -> Dict[str, float]:
    """``{layer: final pruning target}`` of a trial's parameters: each SWC layer that prunes (its final
    ``prune_threshold``) and each SparseTernary layer (its ``k``: ``active_k`` ramps from ``n`` down to
    ``k``, as the benchmark's ternary row trains).

    Example:
        >>> pruning_targets({"fc1.method": "swc", "fc1.swc.prune_threshold": 0.1,
        ...                  "fc2.method": "ternary", "fc2.ternary.k": 2})
        {'fc1': 0.1, 'fc2': 2}
    """
    out: Dict[str, float] = {}
    for key, value in params.items():
        layer, _, rest = key.partition(".")
        method = params.get(f"{layer}.{METHOD}")
        if rest == "swc.prune_threshold" and method == "swc" and value > 0:
            out[layer] = float(value)
        elif rest == "ternary.k" and method == "ternary":
            out[layer] = int(value)
    return out


def layers_of(params: Mapping[str, Any], layers: Sequence[str]) -> Dict[str, Dict[str, Any]]:
    """Every layer's quantizer spec from a finished trial's parameters (no trial needed).

    Example:
        >>> layers_of({"fc1.method": "dfp", "fc1.dfp.bits": 4}, ["fc1"])
        {'fc1': {'class_name': 'DFP', 'config': {'bits': 4}}}
    """
    out = {}
    for layer in layers:
        method = params[f"{layer}.{METHOD}"]
        prefix = f"{layer}.{method}."
        out[layer] = CHOICES[method].spec({k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)})
    return out
