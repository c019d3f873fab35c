"""Resource estimate without vendor tools: multipliers, shift-adds and weight bits per layer.

For each weight layer, two designs of the same model in the same architecture (hls4ml's
``Strategy`` and reuse factor of the layer, :mod:`keras_wc.hls.strategy`):

* **SQNAP** — the generated design, read from the conversion's datapath description (the
  same specs the templates emit). Weight memory = what the C++ stores: the method's weight
  arrays as emitted (groups padded to their size, each array in its integer type — the
  synthesis lint's ``rom_bits`` of a Resource layer, :mod:`keras_wc.hls.synthesis_lint`), the
  bias integers at their emitted accumulator width and the alignment shifts (and a folded
  BatchNormalization's multipliers and offsets). Multipliers per output position:

  - *Latency*: the weights are constants, so the datapath holds the method's live full
    multiplications (:meth:`~keras_wc.methods.Method.cost`: one per live group for SWC and
    poly, per output for ternary, wide DFP codes, the reciprocal of SWC's ``D``; one per output
    for a folded BatchNormalization), capped at ``ceil(count / reuse_factor)`` by the C++'s
    ``ALLOCATION`` (:func:`multiplier_limit`); shift-adds are not shared.
  - *Resource* (the SQNAP processor): ``outputs_per_round = ceil(n_out / reuse_factor)``
    processing elements, each with every group's multiplier whatever its codes
    (:meth:`~keras_wc.methods.Method.processor_multipliers`); shift-adds
    ``ceil(count * outputs_per_round / n_out)``; the ROMs' BRAM18 blocks (:func:`rom_bram18`).

  Layers without a keras_wc quantizer go through hls4ml's own kernels: both columns are the
  stock figures.
* **stock hls4ml** — hls4ml's own kernel of the same layer (:func:`stock_multipliers`):
  Latency, one product per weight with zero and power-of-two weights folded,
  ``ceil(n / reuse_factor)``; Resource, ``ceil(n_weights / reuse_factor)``. Weights at their
  declared precision (the QKeras quantizer's bits, or hls4ml's default 16 bits for a
  keras_wc/float kernel stock hls4ml cannot read).

These are operation counts, not a synthesis: estimates. The io_stream line buffers
(registers, not multipliers) are not counted; the synthesis lint reports them.

**Gate-level estimate** (``lut``, ``ff``, ``dsp``, ``bram``): the calibrated bit-width model of
:mod:`keras_wc.rtl.estimate` applied to the layer's RTL twin (:func:`keras_wc.rtl.estimate.layer_twin`:
the module ``keras_wc.rtl`` emits for it, fitted within 2x of yosys ``synth_xilinx -family xcup`` on
held-out layers). The twin is the fully parallel constant datapath, so the figures are given for
layers in the Latency architecture at reuse factor 1 and are ``None`` for the others (their
multipliers and ROMs are the columns above); a total is ``None`` when a layer's is. They estimate
yosys' mapping, not Vivado's.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Union

import numpy as np

from .strategy import architecture, default_architecture, layout_shape

STOCK_DEFAULT_BITS = 16
#: this project's rule of thumb: ROMs shallower than this stay in LUTs (distributed ROM)
BRAM_MIN_DEPTH = 32
RESOURCES_FILE = "sqnap_resources.json"
#: the gate-level estimate's fields (:func:`gate_estimate`)
GATE_FIELDS = ("lut", "ff", "dsp", "bram")


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
    sqnap_bram18: int = 0
    lut: Optional[int] = None
    ff: Optional[int] = None
    dsp: Optional[int] = None
    bram: Optional[int] = None


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
        keys = ["sqnap_multipliers", "sqnap_shift_adds", "sqnap_weight_bits", "sqnap_bram18", "stock_multipliers",
                "stock_weight_bits"]
        totals: Dict[str, Optional[int]] = {key: int(sum(getattr(layer, key) for layer in self.layers))
                                            for key in keys}
        for key in GATE_FIELDS:
            values = [getattr(layer, key) for layer in self.layers]
            totals[key] = None if None in values else int(sum(values))
        return totals

    def to_dict(self) -> Dict[str, Any]:
        return {"reuse_factor": self.reuse_factor, "layers": [asdict(layer) for layer in self.layers],
                "totals": self.totals}

    def to_markdown(self) -> str:
        """A Markdown table, one row per layer plus the totals."""
        columns = ["sqnap_multipliers", "sqnap_shift_adds", "sqnap_weight_bits", "sqnap_bram18", "stock_multipliers",
                   "stock_weight_bits", *GATE_FIELDS]
        head = ("| layer | method | SQNAP mults | SQNAP shift-adds | SQNAP weight bits | SQNAP BRAM18 | stock mults | "
                "stock weight bits | est. LUT | est. FF | est. DSP | est. BRAM |\n|---|---|" + "---:|" * len(columns))

        def cells(values: Dict[str, Optional[int]]) -> str:
            return " | ".join("—" if values[key] is None else str(values[key]) for key in columns)

        rows = [f"| {r.name} | {r.method} | {cells(asdict(r))} |" for r in self.layers]
        rows.append(f"| **total** | | {cells(self.totals)} |")
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
    arch = arch or architecture("latency", *layout_shape(encoding.layout), reuse_factor)
    stock_mults = stock_multipliers(spec, arch.strategy, arch.reuse_factor)
    gates = gate_estimate(spec, arch)
    if not spec.sqnap:
        stock_bits = n_weights * int(spec.weight_quantizer_bits) + stock_bias_bits
        return LayerResources(spec.name, "qkeras", stock_mults, 0, stock_bits, stock_mults, stock_bits, **gates)
    method = method_of(encoding)
    align = align_shifts(spec)
    emitted = (stored_bits(method.arguments(encoding)) + n_bias * int(spec.acc_format.bits)
               + int(align.size) * int(integer_precision(align).width))
    if spec.scaling is not None:  # a folded BatchNormalization: its multipliers and offsets stored
        emitted += sum(int(np.size(values)) * int(integer_precision(values).width)
                       for values in (spec.scaling.multiplier, spec.scaling.offset))
    shift_adds = method.cost(encoding).shift_adds
    bram18 = 0
    if arch.strategy == "resource":
        bram18 = rom_bram18(method.arguments(encoding), arch)
        per_output, shared = method.processor_multipliers(encoding)
        per_output += spec.scaling is not None
        multipliers = arch.outputs_per_round * per_output + shared
        shift_adds = math.ceil(shift_adds * Fraction(arch.outputs_per_round, arch.n_out))
    else:
        multipliers = multiplier_limit(spec, arch.reuse_factor)
    return LayerResources(spec.name, spec.method, multipliers, shift_adds, emitted, stock_mults,
                          n_weights * STOCK_DEFAULT_BITS + stock_bias_bits, bram18, **gates)


def gate_estimate(spec: Any, arch: Any) -> Dict[str, Optional[int]]:
    """``{"lut", "ff", "dsp", "bram"}`` of a layer's RTL twin (the module docstring), ``None`` each
    unless the layer is Latency at reuse factor 1 and its method has a gate-level form
    (:attr:`~keras_wc.methods.Method.has_scaled_sums`).

    Args:
        spec: a :class:`~keras_wc.datapath.specs.CompressedSpec`.
        arch: its :class:`~keras_wc.hls.strategy.Architecture`.

    Example:
        >>> gate_estimate(spec, architecture("latency", 16, 12, 1))["dsp"]
        12
    """
    from keras_wc.methods import method_of

    if arch.strategy != "latency" or arch.reuse_factor != 1 or not method_of(spec.encoding).has_scaled_sums:
        return dict.fromkeys(GATE_FIELDS)
    from keras_wc.rtl.estimate import estimate_module, layer_twin

    figures = estimate_module(layer_twin(spec))
    return {key: figures[key.upper()] for key in GATE_FIELDS}


def rom_bram18(arguments: Iterable[Any], arch: Any) -> int:
    """BRAM18 blocks of a Resource layer's ROMs, if the tool maps them to block RAM (an estimate).

    Each per-output weight array is one ROM of ``rounds`` words, a word holding one round's values
    (``outputs_per_round`` outputs' worth, the C++'s ``ARRAY_RESHAPE cyclic``). A ROM at least
    :data:`BRAM_MIN_DEPTH` words deep takes ``ceil(width / 36) * ceil(depth / 512)`` BRAM18 (their
    widest 512-deep form); a shallower one is left to LUTs/registers (0 here; its bits are in the
    weight bits). Arrays the layer shares whole (a per-layer ``delta``, shared poly coefficients)
    and local tables stay logic.

    Example:
        >>> rom_bram18([Argument("codes", np.zeros((64, 1, 9)))], architecture("resource", 64, 9, 64))
        1
    """
    from .layers import integer_precision

    blocks = 0
    for arg in arguments:
        size = int(np.size(arg.values))
        if arg.local is not None or size < arch.n_out or size % arch.n_out or arch.rounds < BRAM_MIN_DEPTH:
            continue
        bits = int(arg.bits or integer_precision(np.asarray(arg.values)).width)
        width = arch.outputs_per_round * (size // arch.n_out) * bits
        blocks += math.ceil(width / 36) * math.ceil(arch.rounds / 512)
    return blocks


def stock_multipliers(spec: Any, strategy: str, reuse_factor: int) -> int:
    """Multipliers stock hls4ml's own kernel of the layer instantiates per output position.

    Latency (``dense_latency``): one product per weight, those by zero (hls4ml subtracts them
    from its ``multiplier_limit``) and by a power of two (a shift once the weight is a constant)
    folded, the rest shared ``ceil(n / reuse_factor)``. Resource (``dense_resource``): weights in
    BRAM, ``ceil(n_weights / reuse_factor)`` multipliers whatever their values. The weights are the
    layer's exact effective values (:func:`effective_weights`), not re-quantized to the 16 bits
    stock hls4ml would give a kernel it cannot read: an estimate.

    Example:
        >>> stock_multipliers(spec, "latency", 1)   # 2 of 6 weights zero, 1 a power of two
        3
    """
    encoding = spec.encoding
    if strategy == "resource":
        return math.ceil(int(np.prod(encoding.layout.shape, dtype=np.int64)) / reuse_factor)
    weights = effective_weights(encoding)
    magnitude = np.abs(weights[encoding.layout.valid().reshape(-1)])
    denominator = spec.denominator
    whole = magnitude % denominator == 0
    quotient = np.where(whole, magnitude // denominator, 3)  # 3: not a power of two
    power_of_two = (quotient > 0) & ((quotient & (quotient - 1)) == 0)
    return math.ceil(int(np.count_nonzero((magnitude != 0) & ~power_of_two)) / reuse_factor)


def effective_weights(encoding: Any, budget: int = 1 << 22) -> np.ndarray:
    """The integer each input is multiplied by, per output: ``(padded_fan_in, n_out)``.

    The method's own kernel (:meth:`~keras_wc.methods.Method.kernel`) applied to unit inputs, so
    the weight on the accumulator grid before the division by the denominator, for any method.

    Args:
        encoding: a layer's :class:`~keras_wc.quantizers.base.Encoding`.
        budget: integers per kernel call (``unit inputs * n_out * padded_fan_in``).
    """
    from keras_wc.methods import method_of

    layout = encoding.layout
    n_out, n_groups, group_size = layout.grouped_shape
    fan_in = n_groups * group_size
    chunk = max(1, budget // (n_out * fan_in))
    rows = []
    for start in range(0, fan_in, chunk):
        units = np.arange(start, min(start + chunk, fan_in))
        x = np.zeros((len(units), n_out, fan_in), np.int64)
        x[np.arange(len(units)), :, units] = 1
        acc, _ = method_of(encoding).kernel(x.reshape(len(units), n_out, n_groups, group_size), encoding)
        rows.append(np.asarray(acc))
    return np.concatenate(rows, axis=0)


def full_multiplications(spec: Any) -> int:
    """Full multiplications per output position of a compressed layer's constant (Latency) datapath.

    The method's cost (:meth:`~keras_wc.methods.Method.cost`: live groups, the SWC reciprocal)
    plus one per output for a folded BatchNormalization.
    """
    from keras_wc.methods import method_of

    encoding = spec.encoding
    return method_of(encoding).cost(encoding).full_mults + (encoding.layout.n_out if spec.scaling is not None else 0)


def multiplier_limit(spec: Any, reuse_factor: int) -> int:
    """The full multipliers of a Latency layer: ``ceil(full multiplications / reuse_factor)``.

    The C++ caps the layer's ``mul`` operations at this (``ALLOCATION operation instances=mul
    limit=multiplier_limit`` in the pipelined region, as hls4ml's Latency kernels do); products by
    codes are written as shift-adds (``sqnap::shift_add_term``), so every ``mul`` is one of these.

    Example:
        >>> multiplier_limit(spec, 4)      # 21 full multiplications per position
        6
    """
    return math.ceil(full_multiplications(spec) / reuse_factor)


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
              input_format: Optional[str] = None, strategy: str = "Latency",
              flavor: str = "Vitis") -> ResourceReport:
    """Per-layer multipliers, shift-adds and weight bits (SQNAP design vs stock hls4ml) and the gate-level estimate.

    Args:
        project_or_model: a Keras model, an hls4ml ``ModelGraph`` made by the SQNAP backend,
            or a project folder written by :func:`keras_wc.hls.convert` (its
            ``sqnap_resources.json``).
        reuse_factor: reuse factor of a Keras model (a project/graph uses its own).
        input_format: the input format of a Keras model that does not start with a QActivation.
        strategy: hls4ml's ``Strategy`` for every layer of a Keras model, as ``convert`` builds it
            without an explicit strategy: ``"Latency"`` (a layer over the flavour's limit
            becomes Resource, :func:`~keras_wc.hls.strategy.default_architecture`) or ``"Resource"``.
        flavor: ``"Vitis"`` or ``"Vivado"`` (their limits) for a Keras model.

    Returns:
        A :class:`ResourceReport`.

    Example:
        >>> print(resources(model, input_format="ufixed<8,0>").to_markdown())
        >>> resources(model, reuse_factor=4, strategy="Resource").totals["sqnap_multipliers"]
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

    from .settings import STRATEGY_NAMES

    if strategy not in STRATEGY_NAMES:
        raise ValueError(f"strategy={strategy!r}: expected one of {list(STRATEGY_NAMES)}")
    specs = [spec for spec in describe_model(project_or_model, input_format) if spec.kind == "compressed"]
    plan = {spec.name: default_architecture(strategy.lower(), *layout_shape(spec.encoding.layout), reuse_factor, flavor)
            for spec in specs if spec.sqnap}
    return datapath_resources(specs, reuse_factor, plan)


def write_resources(project_dir: Path, specs: Iterable[Any], reuse_factor: int,
                    architectures: Optional[Dict[str, Any]] = None) -> Path:
    """Write ``sqnap_resources.json`` (sorted keys: deterministic) into a project."""
    path = Path(project_dir) / RESOURCES_FILE
    report = datapath_resources(specs, reuse_factor, architectures)
    path.write_text(json.dumps(report.to_dict(), indent=1, sort_keys=True) + "\n")
    return path
