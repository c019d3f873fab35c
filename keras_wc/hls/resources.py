"""Resource estimate without vendor tools: multipliers, shift-adds and weight bits per layer.

For each weight layer, two designs of the same model:

* **SQNAP** — the generated design, read from the conversion's datapath description (the
  same specs the templates emit): full multiplications and shift-add operations per output
  position by the method's cost rule (the compression report's counting), weight memory =
  what the C++ stores: the method's weight arrays as emitted (groups padded to their size,
  each array in its integer type — the synthesis lint's ``rom_bits`` of a Resource layer,
  :mod:`keras_wc.hls.synthesis_lint`), the bias integers
  at their emitted accumulator width and the alignment shifts (and a folded
  BatchNormalization's multipliers and offsets: one more full multiplication per output);
  layers without a keras_wc
  quantizer go through hls4ml's own kernels (one multiplier per weight, weights at their
  QKeras precision);
* **stock hls4ml** — every weight a multiply-accumulate (``fan_in * n_out`` multipliers per
  output position), weights at their declared precision (the QKeras quantizer's bits, or
  hls4ml's default 16 bits for a keras_wc/float kernel stock hls4ml cannot read).

SQNAP multipliers and shift-adds are what one output position's datapath instantiates in the
layer's architecture (:mod:`keras_wc.hls.strategy`): Latency computes every output in one
round, so its reuse factor (only the pipeline II) shares nothing; Resource instantiates
``outputs_per_round = ceil(n_out / reuse_factor)`` outputs' worth,
``ceil(count * outputs_per_round / n_out)``. Stock hls4ml's Latency limits its multipliers to
``ceil(count / reuse_factor)`` with ``ALLOCATION``. These are operation counts, not a
synthesis: estimates. The io_stream input buffers (registers, not multipliers) are not counted.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Union

import numpy as np

from .strategy import architecture, layout_shape

STOCK_DEFAULT_BITS = 16
RESOURCES_FILE = "sqnap_resources.json"


@dataclass
class LayerResources:
    """One weight layer's estimate (see the module docstring)."""

    name: str
    method: str
    sqnap_multipliers: int
    sqnap_shift_adds: int
    sqnap_weight_bits: int
    stock_multipliers: int
    stock_weight_bits: int


@dataclass
class ResourceReport:
    """Per-layer estimates and totals for the SQNAP design and stock hls4ml.

    Example:
        >>> report = resources(model, input_format="ufixed<8,0>")
        >>> report.totals["stock_multipliers"] / max(report.totals["sqnap_multipliers"], 1) > 1
        True
    """

    layers: List[LayerResources] = field(default_factory=list)
    reuse_factor: int = 1

    @property
    def totals(self) -> Dict[str, int]:
        keys = ["sqnap_multipliers", "sqnap_shift_adds", "sqnap_weight_bits", "stock_multipliers",
                "stock_weight_bits"]
        return {key: int(sum(getattr(layer, key) for layer in self.layers)) for key in keys}

    def to_dict(self) -> Dict[str, Any]:
        return {"reuse_factor": self.reuse_factor, "layers": [asdict(layer) for layer in self.layers],
                "totals": self.totals}

    def to_markdown(self) -> str:
        """A Markdown table, one row per layer plus the totals."""
        head = ("| layer | method | SQNAP mults | SQNAP shift-adds | SQNAP weight bits | stock mults | "
                "stock weight bits |\n|---|---|---:|---:|---:|---:|---:|")
        rows = [f"| {r.name} | {r.method} | {r.sqnap_multipliers} | {r.sqnap_shift_adds} | {r.sqnap_weight_bits} "
                f"| {r.stock_multipliers} | {r.stock_weight_bits} |" for r in self.layers]
        t = self.totals
        rows.append(f"| **total** | | {t['sqnap_multipliers']} | {t['sqnap_shift_adds']} | {t['sqnap_weight_bits']} "
                    f"| {t['stock_multipliers']} | {t['stock_weight_bits']} |")
        return "\n".join([head] + rows)


def layer_resources(spec: Any, reuse_factor: int = 1, arch: Optional[Any] = None) -> LayerResources:
    """The estimate of one compressed layer, from its datapath spec (what the design emits).

    SQNAP weight bits: the method's weight arrays as the C++ stores them (:func:`stored_bits`), the
    bias integers at the accumulator width they are emitted with, and the epilogue's alignment shifts.

    Args:
        spec: a :class:`~keras_wc.datapath.specs.CompressedSpec`.
        reuse_factor: hls4ml reuse factor.
        arch: the layer's :class:`~keras_wc.hls.strategy.Architecture` (default: Latency).

    Returns:
        Its :class:`LayerResources`.
    """
    from keras_wc.methods import method_of

    from .layers import align_shifts, integer_precision

    encoding = spec.encoding
    n_weights = int(np.prod(encoding.layout.shape, dtype=np.int64))
    n_bias = int(np.size(spec.bias))
    stock_bias_bits = n_bias * (spec.bias_quantizer_bits or STOCK_DEFAULT_BITS)
    stock_mults = math.ceil(n_weights / reuse_factor)
    if not spec.sqnap:
        stock_bits = n_weights * int(spec.weight_quantizer_bits) + stock_bias_bits
        return LayerResources(spec.name, "qkeras", stock_mults, 0, stock_bits, stock_mults, stock_bits)
    cost = method_of(encoding).cost(encoding)
    align = align_shifts(spec)
    emitted = (stored_bits(method_of(encoding).arguments(encoding)) + n_bias * int(spec.acc_format.bits)
               + int(align.size) * int(integer_precision(align).width))
    full_mults = cost.full_mults
    if spec.scaling is not None:  # a folded BatchNormalization: one product per output, its arrays stored
        full_mults += encoding.layout.n_out
        emitted += sum(int(np.size(values)) * int(integer_precision(values).width)
                       for values in (spec.scaling.multiplier, spec.scaling.offset))
    arch = arch or architecture("latency", *layout_shape(encoding.layout), reuse_factor)
    share = Fraction(arch.outputs_per_round, arch.n_out)
    return LayerResources(spec.name, spec.method, math.ceil(full_mults * share),
                          math.ceil(cost.shift_adds * share), emitted, stock_mults,
                          n_weights * STOCK_DEFAULT_BITS + stock_bias_bits)


def stored_bits(arguments: Iterable[Any]) -> int:
    """Bits of a method's weight arrays as the C++ stores them (groups padded, each array in its type).

    Args:
        arguments: :class:`~keras_wc.methods.base.Argument` s (``Method.arguments``).

    Example:
        >>> stored_bits([Argument("codes", np.array([3, -2, 0, 1]))])     # ap_int<3>
        12
    """
    from .layers import integer_precision

    return sum(int(np.size(arg.values)) * int(arg.bits or integer_precision(np.asarray(arg.values)).width)
               for arg in arguments)


def datapath_resources(specs: Iterable[Any], reuse_factor: int = 1,
                       architectures: Optional[Dict[str, Any]] = None) -> ResourceReport:
    """The estimate of every compressed layer of a datapath (``describe_model``'s specs).

    Args:
        specs: the datapath specs.
        reuse_factor: the model's reuse factor.
        architectures: ``{layer name: Architecture}`` of a converted graph (:func:`graph_architectures`);
            a layer without one is counted as Latency.
    """
    architectures = architectures or {}
    return ResourceReport([layer_resources(spec, getattr(architectures.get(spec.name), "reuse_factor", reuse_factor),
                                           architectures.get(spec.name))
                           for spec in specs if spec.kind == "compressed"], reuse_factor)


def graph_architectures(model) -> Dict[str, Any]:
    """``{layer name: Architecture}`` of the SQNAP layers of a converted hls4ml ``ModelGraph``."""
    return {node.name: node.get_attr("sqnap_architecture") for node in model.get_layers()
            if node.get_attr("sqnap_architecture") is not None}


def resources(project_or_model: Union[str, Path, Any], reuse_factor: int = 1,
              input_format: Optional[str] = None) -> ResourceReport:
    """Per-layer multipliers, shift-adds and weight bits: SQNAP design vs stock hls4ml.

    Args:
        project_or_model: a Keras model, an hls4ml ``ModelGraph`` made by the SQNAP backend,
            or a project folder written by :func:`keras_wc.hls.convert` (its
            ``sqnap_resources.json``).
        reuse_factor: reuse factor of a Keras model (a project/graph uses its own).
        input_format: the input format of a Keras model that does not start with a QActivation.

    Returns:
        A :class:`ResourceReport`.

    Example:
        >>> print(resources(model, input_format="ufixed<8,0>").to_markdown())
    """
    if isinstance(project_or_model, (str, Path)):
        path = Path(project_or_model) / RESOURCES_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: was the project written by keras_wc.hls.convert?")
        data = json.loads(path.read_text())
        return ResourceReport([LayerResources(**row) for row in data["layers"]], int(data["reuse_factor"]))
    if hasattr(project_or_model, "config") and hasattr(project_or_model.config, "config"):
        from .passes import datapath_of

        rf = int(project_or_model.config.get_config_value("HLSConfig", {}).get("Model", {}).get("ReuseFactor", 1))
        return datapath_resources(datapath_of(project_or_model).values(), rf, graph_architectures(project_or_model))
    from keras_wc.datapath.describe import describe_model

    return datapath_resources(describe_model(project_or_model, input_format), reuse_factor)


def write_resources(project_dir: Path, specs: Iterable[Any], reuse_factor: int,
                    architectures: Optional[Dict[str, Any]] = None) -> Path:
    """Write ``sqnap_resources.json`` (sorted keys: deterministic) into a project."""
    path = Path(project_dir) / RESOURCES_FILE
    report = datapath_resources(specs, reuse_factor, architectures)
    path.write_text(json.dumps(report.to_dict(), indent=1, sort_keys=True) + "\n")
    return path
