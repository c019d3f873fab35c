"""Honest accounting of a compressed model: memory bits and multiplications per layer.

See ``docs/report.md`` for the counting rules and ``keras-wc report`` for the command line.
"""

from .costs import Cost, encoded_cost
from .report import CompressionReport, compression_report
from .rows import LayerRow

__all__ = ["CompressionReport", "Cost", "LayerRow", "encoded_cost", "compression_report"]
