"""Resource estimate without vendor tools: multipliers, shift-adds and weight bits per layer.

For each weight layer, two designs of the same model:

* **SQNAP** — the generated design: full multiplications and shift-add operations per output
  position from :mod:`keras_wc.report.costs` (the same counting as the compression report),
  weight memory = the encoding's exact stored bits (codes + scales + coefficients) plus the
  bias; layers without a keras_wc quantizer go through hls4ml's own kernels (one multiplier
  per weight, weights at their QKeras precision);
* **stock hls4ml** — every weight a multiply-accumulate (``fan_in * n_out`` multipliers per
  output position), weights at their declared precision (the QKeras quantizer's bits, or
  hls4ml's default 16 bits for a keras_wc/float kernel stock hls4ml cannot read).

Multipliers are per output position divided by the reuse factor (``io_parallel`` and the
``io_stream`` wrappers both instantiate one output position's datapath; ``ceil(count /
reuse_factor)`` units). The io_stream input buffers (registers, not multipliers) are not counted.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Union

import numpy as np

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
        >>> report = resources(model)
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


def _bits_of(quantizer: Any) -> int:
    bits = getattr(quantizer, "bits", None)
    return int(bits) if bits is not None else STOCK_DEFAULT_BITS


def layer_resources(layer: Any, reuse_factor: int = 1) -> LayerResources:
    """The estimate of one :class:`keras_wc.report.layers.KernelLayer`."""
    from keras_wc.quantizers.base import CompressionQuantizer
    from keras_wc.report.costs import ENCODED_COSTS

    kernel = np.asarray(layer.kernel)
    n_weights = int(kernel.size)
    bias_bits = 0 if layer.bias is None else int(np.size(layer.bias)) * (
        _bits_of(layer.bias_quantizer) if layer.bias_quantizer is not None else STOCK_DEFAULT_BITS)
    quantizer = layer.quantizer
    declared = STOCK_DEFAULT_BITS if isinstance(quantizer, CompressionQuantizer) or quantizer is None \
        else _bits_of(quantizer)
    stock_mults = math.ceil(n_weights / reuse_factor)
    stock_bits = n_weights * declared + bias_bits
    if isinstance(quantizer, CompressionQuantizer):
        enc = quantizer.encode(kernel)
        cost = ENCODED_COSTS[enc.method](enc)
        return LayerResources(layer.name, enc.method, math.ceil(cost.full_mults / reuse_factor),
                              math.ceil(cost.shift_adds / reuse_factor), enc.memory_bits + bias_bits,
                              stock_mults, stock_bits)
    method = "qkeras" if quantizer is not None else "float"
    return LayerResources(layer.name, method, stock_mults, 0, stock_bits, stock_mults, stock_bits)


def model_resources(model: Any, reuse_factor: int = 1) -> ResourceReport:
    """The estimate of every weight layer of a Keras model."""
    from keras_wc.report.layers import kernel_layers

    found = kernel_layers(model)
    layers = found[0] if isinstance(found, tuple) else found
    return ResourceReport([layer_resources(layer, reuse_factor) for layer in layers], reuse_factor)


def resources(project_or_model: Union[str, Path, Any], reuse_factor: int = 1) -> ResourceReport:
    """Per-layer multipliers, shift-adds and weight bits: SQNAP design vs stock hls4ml.

    Args:
        project_or_model: a Keras model, an hls4ml ``ModelGraph`` made by the SQNAP backend,
            or a project folder written by :func:`keras_wc.hls.convert` (its
            ``sqnap_resources.json``).
        reuse_factor: reuse factor of a Keras model (a project/graph uses its own).

    Returns:
        A :class:`ResourceReport`.

    Example:
        >>> print(resources(model).to_markdown())
    """
    if isinstance(project_or_model, (str, Path)):
        path = Path(project_or_model) / RESOURCES_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: was the project written by keras_wc.hls.convert?")
        data = json.loads(path.read_text())
        return ResourceReport([LayerResources(**row) for row in data["layers"]], int(data["reuse_factor"]))
    keras_model = getattr(getattr(project_or_model, "config", None), "config", {}).get("KerasModel") \
        if hasattr(project_or_model, "config") and hasattr(project_or_model.config, "config") else None
    if keras_model is not None:
        rf = int(project_or_model.config.get_config_value("HLSConfig", {}).get("Model", {}).get("ReuseFactor", 1))
        return model_resources(keras_model, rf)
    return model_resources(project_or_model, reuse_factor)


def write_resources(project_dir: Path, model: Any, reuse_factor: int) -> Path:
    """Write ``sqnap_resources.json`` (sorted keys: deterministic) into a project."""
    path = Path(project_dir) / RESOURCES_FILE
    path.write_text(json.dumps(model_resources(model, reuse_factor).to_dict(), indent=1, sort_keys=True) + "\n")
    return path
