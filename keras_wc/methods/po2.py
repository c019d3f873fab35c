"""Po2: every weight ``sign * 2**e`` (or an exact zero): shifts and adds only.

Code ``c = sign * (e - e_min + 1)``, 0 = zero; ``A = sum_i sign_i (x_i << (|c_i| - 1))``
(docs/methods.md, "Po2"). QKeras ``quantized_po2`` kernels use the same encoding.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

from ..hls_include import include_dir
from ..quantizers.base import Encoding
from ..quantizers.po2 import Po2
from .base import Argument, Cost, Gains, KernelResult, Method, group_gain, per_output, shift_add_cost, shift_sums


def po2_shifts(encoding: Encoding) -> Tuple[np.ndarray, np.ndarray]:
    """Per weight ``(sign, shift)``: weight ``sign * 2**(shift + e_min)`` (sign 0 for code 0).

    Example:
        >>> po2_shifts(Po2(bits=4).encode(np.full((2, 1), 0.5, np.float32)))[1].ravel().tolist()
        [6, 6]
    """
    codes = encoding.arrays["codes"].astype(np.int64)
    return np.sign(codes), np.maximum(np.abs(codes) - 1, 0)


class Po2Method(Method):
    """The power-of-two method."""

    name = "po2"
    quantizer = Po2
    header = include_dir() / "sqnap_po2.h"
    core = "sqnap::po2_core"
    controls = ("bits",)
    zero_preserving = True

    def frac(self, encoding: Encoding) -> np.ndarray:
        return per_output(-int(encoding.params["e_min"]), encoding.layout.n_out)

    def weight_integers(self, encoding: Encoding) -> np.ndarray:
        """``sign * 2**shift`` per weight, on the grid ``-e_min``."""
        sign, shift = po2_shifts(encoding)
        return sign * (np.int64(1) << shift)

    def gains(self, encoding: Encoding) -> Gains:
        return group_gain(self.weight_integers(encoding), 1)

    def kernel(self, x: np.ndarray, encoding: Encoding) -> KernelResult:
        """``A = sum sign_i (x_i << (e_i - e_min))``: shifts only."""
        partial = shift_sums(x, *po2_shifts(encoding))
        return partial.sum(axis=-1), partial

    def cost(self, encoding: Encoding) -> Cost:
        """Every non-zero weight is a signed shift (shift-add); no full multiplication."""
        return shift_add_cost(encoding)

    def processor_multipliers(self, encoding: Encoding) -> Tuple[int, int]:
        """None: every product is a signed shift."""
        return 0, 0

    def arguments(self, encoding: Encoding) -> List[Argument]:
        return [Argument("codes", encoding.arrays["codes"])]
