"""Bit-exact numpy emulation of the SQNAP integer datapath (docs/emulator.md).

``emulate(model, x, input_format=None, trace=False)`` computes the logits with integers
only; ``compare(model, x)`` locates and sizes the differences against Keras fake-quant.
"""

from .compare import Comparison, LayerDiff, compare
from .run import Emulation, emulate, run

__all__ = ["Comparison", "Emulation", "LayerDiff", "compare", "emulate", "run"]
