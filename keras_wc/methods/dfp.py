"""DFP: signed ``bits``-bit codes on a per-layer (or per-channel) power-of-two grid.

``A_o = sum_i c_i x_i``; per-channel fractional lengths are aligned by the shared epilogue's
per-output shift, so the stored codes keep their own width (docs/methods.md, "DFP"). QKeras
``quantized_bits`` kernels are described by the same encoding (``keras_wc.datapath``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import List, Tuple

import numpy as np

from ..hls_include import include_dir
from ..quantizers.base import Encoding
from ..quantizers.dfp import DFP
from .base import Argument, Cost, Gains, KernelResult, Method, group_gain, per_weight_sum, shift_add_cost

#: widest weight code whose product is still a shift-add (docs/methods.md, counting rule)
SHIFT_ADD_MAX_BITS = 4


class DFPMethod(Method):
    """The dynamic fixed-point method."""

    name = "dfp"
    quantizer = DFP
    header = include_dir() / "sqnap_dfp.h"
    core = "sqnap::dfp_core"
    controls = ("bits",)
    frac_param = "frac"
    zero_preserving = True

    def weight_integers(self, encoding: Encoding) -> np.ndarray:
        return encoding.arrays["codes"].astype(np.int64)

    def gains(self, encoding: Encoding) -> Gains:
        return group_gain(self.weight_integers(encoding), 1)

    def kernel(self, x: np.ndarray, encoding: Encoding) -> KernelResult:
        """``A = sum c_i x_i`` (the grid of each output is aligned by the epilogue)."""
        return per_weight_sum(x, encoding.arrays["codes"])

    def cost(self, encoding: Encoding) -> Cost:
        """One product per non-zero code: a full multiplication when codes have > 4 bits and the
        code is not ± a power of two (that one is a shift), else a shift-add."""
        cost = shift_add_cost(encoding)
        if encoding.storage["codes"][1] <= SHIFT_ADD_MAX_BITS:
            return cost
        magnitude = np.abs(encoding.arrays["codes"].astype(np.int64))
        full = int(np.count_nonzero((magnitude & (magnitude - 1)) != 0))
        return replace(cost, full_mults=full, shift_adds=cost.shift_adds - full)

    def processor_multipliers(self, encoding: Encoding) -> Tuple[int, int]:
        """Per output: one multiplier per (padded) fan-in weight when codes have > 4 bits, else none."""
        if encoding.storage["codes"][1] <= SHIFT_ADD_MAX_BITS:
            return 0, 0
        return encoding.layout.padded_fan_in, 0

    def arguments(self, encoding: Encoding) -> List[Argument]:
        return [Argument("codes", encoding.arrays["codes"])]
