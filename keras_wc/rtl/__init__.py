"""``keras_wc.rtl``: the SQNAP datapath as synthesizable Verilog, simulated by Verilator, measured by yosys.

Example:
    >>> import keras_wc.rtl
    >>> design = keras_wc.rtl.convert(model, "rtl_prj", input_format="ufixed<8,0>")
    >>> outputs = design.simulate(x_test[:50])          # == keras_wc.emulate.emulate(...) bit for bit
    >>> print(design.synthesize().to_markdown())        # LUT / FF / CARRY / DSP / BRAM per layer
"""

from .design import RTLDesign, convert
from .synthesis import SynthesisReport

__all__ = ["RTLDesign", "SynthesisReport", "convert"]
