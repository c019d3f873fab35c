"""The compression report: per-layer rows, model totals and their text forms."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, Optional, Sequence, Tuple

import tensorflow as tf

from ..keras2 import check_keras2_model
from .layers import kernel_layers
from .rows import LayerRow, layer_row

#: (column title, LayerRow attribute or property, format) of the markdown table
MARKDOWN_COLUMNS: Tuple[Tuple[str, str, str], ...] = (
    ("layer", "name", "{}"), ("class", "layer_class", "{}"), ("method", "method", "{}"),
    ("weights", "weights", "{:d}"), ("zeros", "zero_fraction", "{:.1%}"),
    ("weight bits", "weight_bits", "{:d}"), ("table bits", "table_bits", "{:d}"),
    ("float32 bits", "float32_bits", "{:d}"), ("compression", "compression", "{:.2f}x"),
    ("parameters", "parameters", "{:d}"), ("MACs", "macs", "{:d}"),
    ("full mults", "full_mults", "{:d}"), ("shift-adds", "shift_adds", "{:d}"),
)


@dataclass(frozen=True)
class CompressionReport:
    """Memory and multiplications of a model, per kernel layer and in total.

    Attributes:
        layers: one :class:`LayerRow` per kernel layer, in model order.
        skipped: one line per layer with weights that is not counted (no kernel).

    Example:
        >>> report = compression_report(model)
        >>> print(report.to_markdown())
    """

    layers: Tuple[LayerRow, ...]
    skipped: Tuple[str, ...] = field(default_factory=tuple)

    @property
    def totals(self) -> Dict[str, Any]:
        """Model totals, in a fixed key order.

        Returns:
            ``weights``, ``biases``, ``weight_bits`` (kernels + biases, tables excluded),
            ``table_bits``, ``float32_bits``, ``compression_vs_float32``
            (``float32_bits / weight_bits``), ``compression_with_tables``, ``zero_fraction``,
            ``parameters``, ``parameter_reduction`` (``weights / parameters``), ``macs``,
            ``full_mults``, ``shift_adds``, ``mults_eliminated`` (``1 - full_mults / macs``).
        """
        sums = {key: sum(getattr(row, key) for row in self.layers)
                for key in ("weights", "biases", "weight_bits", "table_bits", "float32_bits", "parameters",
                            "macs", "full_mults", "shift_adds")}
        zeros = sum(row.zero_fraction * row.weights for row in self.layers)
        return {
            "weights": sums["weights"], "biases": sums["biases"], "weight_bits": sums["weight_bits"],
            "table_bits": sums["table_bits"], "float32_bits": sums["float32_bits"],
            "compression_vs_float32": _ratio(sums["float32_bits"], sums["weight_bits"]),
            "compression_with_tables": _ratio(sums["float32_bits"], sums["weight_bits"] + sums["table_bits"]),
            "zero_fraction": _ratio(round(zeros), sums["weights"]),
            "parameters": sums["parameters"], "parameter_reduction": _ratio(sums["weights"], sums["parameters"]),
            "macs": sums["macs"], "full_mults": sums["full_mults"], "shift_adds": sums["shift_adds"],
            "mults_eliminated": 1.0 - _ratio(sums["full_mults"], sums["macs"]),
        }

    def to_dict(self) -> Dict[str, Any]:
        """``{"layers": [...], "totals": {...}, "skipped": [...]}`` (JSON types only)."""
        return {"layers": [asdict(row) for row in self.layers], "totals": self.totals,
                "skipped": list(self.skipped)}

    def to_json(self, indent: Optional[int] = 2) -> str:
        """Deterministic JSON: rows in model order, keys in declaration order.

        Example:
            >>> CompressionReport.from_json(report.to_json()) == report
            True
        """
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> "CompressionReport":
        """Rebuild a report from :meth:`to_json` output (totals are recomputed).

        Raises:
            ValueError: if a row lacks a field of :class:`LayerRow`.
        """
        data = json.loads(text)
        names = [f.name for f in fields(LayerRow)]
        rows = []
        for row in data["layers"]:
            missing = [name for name in names if name not in row]
            if missing:
                raise ValueError(f"report row {row.get('name', '?')!r} lacks {missing}")
            rows.append(LayerRow(**{name: row[name] for name in names}))
        return cls(layers=tuple(rows), skipped=tuple(data.get("skipped", ())))

    def to_markdown(self) -> str:
        """A per-layer table, the totals table and each layer's method settings."""
        header = "| " + " | ".join(title for title, _, _ in MARKDOWN_COLUMNS) + " |"
        rule = "|" + "|".join("---" for _ in MARKDOWN_COLUMNS) + "|"
        body = ["| " + " | ".join(fmt.format(getattr(row, attr)) for _, attr, fmt in MARKDOWN_COLUMNS) + " |"
                for row in self.layers]
        totals = ["| total | value |", "|---|---|"] + [f"| {key} | {_format_total(value)} |"
                                                       for key, value in self.totals.items()]
        settings = [f"- `{row.name}`: `{row.settings}`" for row in self.layers]
        notes = [f"- skipped: {line}" for line in self.skipped]
        return "\n".join([header, rule, *body, "", *totals, "", "Settings:", *settings, *notes]) + "\n"

    def to_dataframe(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (one row per layer, LayerRow columns + ``compression``).

        Raises:
            ImportError: when pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError as error:
            raise ImportError("CompressionReport.to_dataframe needs pandas: pip install pandas "
                              "(or keras_wc[pandas]); to_json/to_markdown work without it") from error
        return pd.DataFrame([{**asdict(row), "compression": row.compression} for row in self.layers])

    def plot(self, path: str) -> str:
        """Write a PNG with per-layer memory and multiplications, dense vs compressed.

        Returns:
            ``path``.
        """
        from .plot import plot_report
        return plot_report(self, path)


def compression_report(model: tf.keras.Model, input_shape: Optional[Sequence[int]] = None) -> CompressionReport:
    """Count memory and multiplications of every kernel layer of ``model``.

    Args:
        model: a Keras/QKeras model with float32, QKeras or keras_wc kernel quantizers.
        input_shape: input shape without the batch axis; needed only when the model is
            not built yet.

    Returns:
        A :class:`CompressionReport`.

    Raises:
        TypeError: ``model`` is not a Keras 2 (``tf.keras``) model.
        ValueError: if the model has no kernel layer, is not built and no
            ``input_shape`` is given, or a quantizer cannot be counted.

    Example:
        >>> from qkeras import QDense
        >>> model = tf.keras.Sequential([QDense(10, kernel_quantizer=SWC(group="filter"))])
        >>> compression_report(model, input_shape=(64,)).totals["full_mults"]
        10
    """
    check_keras2_model(model)
    found, skipped = kernel_layers(model, input_shape)
    if not found:
        raise ValueError(f"model {model.name!r} has no layer with a kernel; nothing to report")
    return CompressionReport(layers=tuple(layer_row(layer) for layer in found), skipped=tuple(skipped))


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


def _format_total(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else f"{value:d}"
