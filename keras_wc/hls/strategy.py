"""Each SQNAP layer's architecture: hls4ml's ``Strategy`` (Latency or Resource), chosen and checked.

Two architectures per layer, as hls4ml has (``hls/sqnap_common.h``, ``docs/hls.md``):

* **Latency** — every output of a pixel (or of the Dense) in one round: the weights are
  constants folded into shift-add trees, the region pipelined at II = reuse factor. One round
  unrolls ``n_out * fan_in`` code x input terms.
* **Resource** — the SQNAP processor: the codes and per-group scales are ROMs, one word per
  round; a pipelined loop of ``ceil(n_out / outputs_per_round)`` rounds (II = 1) computes
  ``outputs_per_round = ceil(n_out / reuse_factor)`` outputs per cycle on that many processing
  elements, each ``fan_in`` terms wide.

The strategy comes from hls4ml's ``Strategy`` (``hls_config["LayerName"][name]["Strategy"]``,
or ``hls_config["Model"]["Strategy"]``, or ``convert(strategy=...)``). Where none is given the
layer is Latency unless one round would unroll more terms than the flavour allows
(:data:`FLAVOR_LIMITS`); then it becomes Resource with the smallest reuse factor that fits,
recorded in the project's ``hls4ml_config.yml`` (``LayerName``: ``Strategy``, ``ReuseFactor``)
and README. A strategy given explicitly is kept, and a layer it cannot fit is refused by name.

The limits are this project's thresholds, not vendor numbers: Vivado HLS stops unrolling very
large loops (XFORM 203-504) and hls4ml's ``build_prj.tcl`` caps a completely partitioned array
at 4096 elements (``config_array_partition -maximum_size``), so 4096 terms per round there;
Vitis HLS tolerates more at the cost of hours of compile time, 16384.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional, Tuple

from hls4ml.model.optimizer import ModelOptimizerPass

from .writer import FLAVOR_KEY

#: hls4ml Strategy values the SQNAP layers implement (hls4ml's snake case)
STRATEGIES = ("latency", "resource")


@dataclass(frozen=True)
class Limits:
    """What one pipelined round of a layer may instantiate in a flavour.

    Attributes:
        unrolled_terms: code x input terms fully unrolled in one round.
    """

    unrolled_terms: int


#: per flavour (module docstring)
FLAVOR_LIMITS = {"Vivado": Limits(unrolled_terms=4096), "Vitis": Limits(unrolled_terms=16384)}


@dataclass(frozen=True)
class Architecture:
    """How one SQNAP layer computes its outputs.

    Attributes:
        strategy: ``"latency"`` or ``"resource"``.
        reuse_factor: the layer's reuse factor.
        n_out: outputs per pixel (``n_filt`` of a conv).
        fan_in: terms per output (the group-padded fan-in).
        outputs_per_round: outputs computed in parallel (processing elements).

    Example:
        >>> arch = architecture("resource", n_out=256, fan_in=1024, reuse_factor=64)
        >>> arch.outputs_per_round, arch.rounds, arch.unrolled_terms
        (4, 64, 4096)
    """

    strategy: str
    reuse_factor: int
    n_out: int
    fan_in: int
    outputs_per_round: int

    @property
    def rounds(self) -> int:
        """Rounds per pixel (one per cycle in Resource)."""
        return -(-self.n_out // self.outputs_per_round)

    @property
    def unrolled_terms(self) -> int:
        """Code x input terms instantiated (one round's)."""
        return self.outputs_per_round * self.fan_in


def architecture(strategy: str, n_out: int, fan_in: int, reuse_factor: int) -> Architecture:
    """The architecture of a layer of ``n_out`` outputs of ``fan_in`` terms each.

    Args:
        strategy: ``"latency"`` (every output in one round) or ``"resource"``
            (``ceil(n_out / reuse_factor)`` outputs per round).
        n_out, fan_in: the layer's outputs per pixel and terms per output.
        reuse_factor: an int >= 1.

    Returns:
        The :class:`Architecture`.
    """
    per_round = n_out if strategy == "latency" else -(-n_out // reuse_factor)
    return Architecture(strategy, int(reuse_factor), int(n_out), int(fan_in), int(per_round))


def fitting_reuse_factor(n_out: int, fan_in: int, limit: int) -> Optional[int]:
    """The smallest reuse factor whose Resource round holds at most ``limit`` terms.

    Returns:
        The reuse factor, or ``None`` when even one output per round (``fan_in`` terms) exceeds it.

    Example:
        >>> fitting_reuse_factor(256, 1024, 4096)
        64
    """
    if fan_in > limit:
        return None
    per_round = limit // fan_in
    return max(1, -(-n_out // per_round))


def default_architecture(strategy: str, n_out: int, fan_in: int, reuse_factor: int, flavor: str) -> Architecture:
    """The architecture ``convert`` gives a layer whose strategy was not given explicitly.

    ``strategy`` where one round fits the flavour's limit (:data:`FLAVOR_LIMITS`), else Resource
    at the smallest reuse factor that fits (at least ``reuse_factor``).

    Raises:
        ValueError: not even one output per round fits.

    Example:
        >>> default_architecture("latency", 256, 1024, 1, "Vivado").reuse_factor
        64
    """
    limit = FLAVOR_LIMITS[flavor].unrolled_terms
    chosen = architecture(strategy, n_out, fan_in, reuse_factor)
    if chosen.unrolled_terms <= limit:
        return chosen
    reuse = fitting_reuse_factor(n_out, fan_in, limit)
    if reuse is None:
        raise ValueError(f"{n_out} outputs of fan-in {fan_in}: even one output per round exceeds the {flavor} limit "
                         f"of {limit}")
    return architecture("resource", n_out, fan_in, max(reuse, reuse_factor))


def architecture_table(model) -> str:
    """A Markdown table of every SQNAP layer's :class:`Architecture` in an hls4ml ``ModelGraph``.

    Example:
        >>> print(architecture_table(hls_model))
        | layer | strategy | reuse factor | outputs per round | rounds per pixel | terms per round | chosen |
        ...
    """
    from .layers import SQNAP_LAYERS

    rows = ["| layer | strategy | reuse factor | outputs per round | rounds per pixel | terms per round | chosen |",
            "|---|---|---:|---:|---:|---:|---|"]
    for node in model.get_layers():
        arch = node.get_attr("sqnap_architecture") if isinstance(node, SQNAP_LAYERS) else None
        if arch is not None:
            chosen = node.get_attr("sqnap_strategy_source")
            rows.append(f"| {node.name} | {arch.strategy.capitalize()} | {arch.reuse_factor} | "
                        f"{arch.outputs_per_round} | {arch.rounds} | {arch.unrolled_terms} | {chosen} |")
    return "\n".join(rows)


def requested_strategy(model, node) -> Tuple[str, bool]:
    """The strategy hls4ml's config gives ``node`` and whether it was given explicitly.

    Raises:
        ValueError: a strategy the SQNAP layers do not implement, with the layer named.
    """
    hls_config = model.config.config.get("HLSConfig", {})
    layer_config = hls_config.get("LayerName", {}).get(node.name, {})
    explicit = "Strategy" in layer_config or "Strategy" in hls_config.get("Model", {})
    strategy = model.config.get_strategy(node).lower()
    if strategy not in STRATEGIES:
        raise ValueError(f"layer {node.name!r} ({node.class_name}): Strategy={strategy!r} is not implemented by the "
                         f"SQNAP kernels; use one of {[s.capitalize() for s in STRATEGIES]}")
    return strategy, explicit


def layout_shape(layout) -> Tuple[int, int]:
    """``(n_out, fan_in)`` of a kernel's :class:`~keras_wc.quantizers.layout.FanInLayout`: outputs per
    pixel and the group-padded fan-in the C++ computes."""
    return int(layout.n_out), int(layout.n_groups * layout.group_size)


class ChooseStrategy(ModelOptimizerPass):
    """Give every SQNAP layer its :class:`Architecture` (``sqnap_architecture``), see the module docstring."""

    def __init__(self):
        self.name = "strategy"

    def transform(self, model) -> bool:
        from .layers import SQNAP_LAYERS

        flavor = model.config.get_config_value(FLAVOR_KEY, "Vitis")
        for node in model.get_layers():
            if isinstance(node, SQNAP_LAYERS) and node.get_attr("sqnap_architecture") is None:
                node.set_attr("sqnap_architecture", self._choose(model, node, flavor))
        return False

    @staticmethod
    def _choose(model, node, flavor: str) -> Architecture:
        limit = FLAVOR_LIMITS[flavor].unrolled_terms
        strategy, explicit = requested_strategy(model, node)
        n_out, fan_in = layout_shape(node.get_attr("sqnap_spec").encoding.layout)
        chosen = architecture(strategy, n_out, fan_in, int(model.config.get_reuse_factor(node)))
        if chosen.unrolled_terms <= limit:
            node.set_attr("sqnap_strategy_source", "configured" if explicit else "default")
            return chosen
        reuse = fitting_reuse_factor(n_out, fan_in, limit)
        where = (f"layer {node.name!r} ({node.class_name}): {chosen.unrolled_terms} code x input terms per round "
                 f"({chosen.outputs_per_round} outputs x fan-in {fan_in}) exceed the {flavor} limit of {limit}")
        if reuse is None:
            raise ValueError(f"{where}, even one output per round; split the layer or reduce its fan-in")
        if explicit:
            raise ValueError(f"{where} with Strategy={strategy.capitalize()}; use Strategy=Resource with "
                             f"ReuseFactor >= {reuse}, or leave Strategy unset to choose it automatically")
        switched = default_architecture(strategy, n_out, fan_in, chosen.reuse_factor, flavor)
        layer_config = model.config.config["HLSConfig"].setdefault("LayerName", {}).setdefault(node.name, {})
        layer_config.update({"Strategy": "Resource", "ReuseFactor": switched.reuse_factor})
        model.config.parse_name_config(node.name, layer_config)  # what hls4ml's later passes read
        node.set_attr("reuse_factor", switched.reuse_factor)
        node.set_attr("sqnap_strategy_source", f"automatic: Latency over the {flavor} limit")
        warnings.warn(f"{where} with Strategy=Latency: it is computed with Strategy=Resource, "
                      f"ReuseFactor={switched.reuse_factor} (recorded in hls4ml_config.yml)", stacklevel=2)
        return switched
