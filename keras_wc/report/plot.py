"""A one-glance PNG of a compression report: memory and multiplications per layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from .report import CompressionReport

#: (label, colour) of the dense and the compressed bars
DENSE = ("float32 / dense", "#9e9e9e")
COMPRESSED = ("compressed", "#1f77b4")
SHIFT = ("shift-adds (compressed)", "#ff7f0e")


def plot_report(report: "CompressionReport", path: str) -> str:
    """Draw two log-scale panels, one bar group per layer, and save them as a PNG.

    Left: memory bits, float32 vs compressed (codes + scales + bias; table ROMs added as
    their own bar when present). Right: multiplications per inference, dense MACs vs the
    compressed full multiplications, with the shift-adds beside them. Each bar carries
    its value; zero shows as "0".

    Args:
        report: the report to draw.
        path: where to write the PNG.

    Returns:
        ``path``.

    Example:
        >>> plot_report(compression_report(model), "report.png")
        'report.png'
    """
    names = [f"{row.name}\n({row.method})" for row in report.layers]
    totals = report.totals
    memory = [(DENSE, [r.float32_bits for r in report.layers]),
              (COMPRESSED, [r.weight_bits for r in report.layers])]
    if totals["table_bits"]:
        memory.append((("table ROM", "#2ca02c"), [r.table_bits for r in report.layers]))
    mults = [(("dense MACs", DENSE[1]), [r.macs for r in report.layers]),
             (("full mults (compressed)", COMPRESSED[1]), [r.full_mults for r in report.layers]),
             (SHIFT, [r.shift_adds for r in report.layers])]
    height = 1.6 + 0.75 * len(names)
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, height), sharey=True)
    _bars(left, names, memory, "weight memory (bits, log scale)",
          f"memory: {totals['compression_vs_float32']:.1f}x smaller than float32")
    _bars(right, names, mults, "operations per inference (log scale)",
          f"multiplications: {totals['mults_eliminated']:.1%} eliminated")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _bars(axis, names: List[str], series: Sequence[Tuple[Tuple[str, str], List[int]]], xlabel: str,
          title: str) -> None:
    """Horizontal grouped bars with value labels on a log x axis (zeros labelled ``0``)."""
    slot = 0.8 / len(series)
    rows = np.arange(len(names))
    largest = max(max(values) for _, values in series)
    for index, ((label, colour), values) in enumerate(series):
        offsets = rows - 0.4 + slot * (index + 0.5)
        axis.barh(offsets, [max(v, 0) for v in values], height=slot, color=colour, label=label)
        for y, value in zip(offsets, values):
            axis.text(max(value, 1) * 1.08, y, _compact(value), va="center", fontsize=8)
    axis.set_xscale("log")
    axis.set_xlim(1, largest * 30)
    axis.set_yticks(rows, names)
    axis.set_ylim(len(names) - 0.5, -0.5)  # first layer on top (the y axis is shared)
    axis.set_xlabel(xlabel)
    axis.set_title(title, pad=24, fontweight="bold")
    axis.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=len(series), fontsize=8, frameon=False)
    axis.grid(axis="x", which="major", alpha=0.3)


def _compact(value: int) -> str:
    """``1234567 -> '1.23M'``."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return str(int(value))
