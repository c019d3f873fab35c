"""SWC: per-group MAW times low-bit scaling weights (docs/methods.md, "SWC").

Fixed format: ``P_g = sum c_i x_i``, ``A = sum_g M_g P_g``, result ``round(A / D)`` with
``D = 2**(sw_bits-1) - 1`` (``Encoding.params["sw_folded"]``: ``M_g`` already holds ``1 / D``,
no division). Po2 format: the scaling weights are ``sign * 2**-j`` (code
``sign*(j+1)``), so ``P_g = sum sign_i (x_i << (J - j_i))`` with ``J = 2**(sw_bits-1) - 2``
and no division. Either way one full multiplication (by ``M_g``) per live group.
"""

from __future__ import annotations

from typing import Callable, List, Tuple

import numpy as np

from ..hls_include import include_dir
from ..quantizers.base import Encoding
from ..quantizers.swc import SWC, denominator_for, max_shift_for
from .base import (Argument, Cost, Gains, KernelResult, Method, ScaledSums, group_gain, group_terms, like,
                   per_output, shift_sums, stored_values, wide)


class SWCMethod(Method):
    """The SWC method (both scaling-weight formats; ``Encoding.params["sw_po2"]``)."""

    name = "swc"
    quantizer = SWC
    header = include_dir() / "sqnap_swc.h"
    core = "sqnap::swc_core"
    controls = ("bits", "prune_threshold", "frozen")

    @staticmethod
    def po2_shifts(encoding: Encoding) -> Tuple[np.ndarray, np.ndarray]:
        """Per weight ``(sign, shift)``: scaling weight ``sign * 2**shift / 2**J`` (sign 0 for code 0)."""
        codes = encoding.arrays["codes"].astype(np.int64)
        shift = max_shift_for(encoding.params["sw_bits"]) - (np.abs(codes) - 1)
        return np.sign(codes), np.where(codes == 0, 0, shift)

    def _multipliers(self, encoding: Encoding) -> np.ndarray:
        """Per weight ``c`` (fixed) or ``sign * 2**shift`` (po2; Python ints: ``J`` reaches 126 at 8 bits)."""
        if encoding.params["sw_po2"]:
            sign, shift = self.po2_shifts(encoding)
            return wide(sign) * (wide(np.ones_like(shift)) << wide(shift))
        return encoding.arrays["codes"].astype(np.int64)

    def frac(self, encoding: Encoding) -> np.ndarray:
        extra = max_shift_for(encoding.params["sw_bits"]) if encoding.params["sw_po2"] else 0
        return per_output(int(encoding.params["maw_frac"]) + extra, encoding.layout.n_out)

    def denominator(self, encoding: Encoding) -> int:
        if encoding.params["sw_po2"] or encoding.params.get("sw_folded", False):
            return 1
        return denominator_for(encoding.params["sw_bits"])

    def gains(self, encoding: Encoding) -> Gains:
        return group_gain(self._multipliers(encoding), encoding.arrays["maw"])

    def kernel(self, x: np.ndarray, encoding: Encoding) -> KernelResult:
        """``P_g`` by codes (fixed) or signed shifts (po2), then ``A = sum_g M_g P_g``."""
        if encoding.params["sw_po2"]:
            partial = shift_sums(x, *self.po2_shifts(encoding))
        else:
            partial = (x * like(encoding.arrays["codes"], x)).sum(axis=-1)
        return (partial * like(encoding.arrays["maw"], partial)).sum(axis=-1), partial

    def scaled_sums(self, encoding: Encoding) -> ScaledSums:
        """One term per group: its codes (or signed powers of two) scaled by the group's MAW."""
        weights = group_terms(self._multipliers(encoding)[:, :, None, :])
        maw = wide(np.broadcast_to(encoding.arrays["maw"], weights.shape[:2]))
        return ScaledSums(weights, maw)

    def cost(self, encoding: Encoding) -> Cost:
        """One full multiplication per live group (by its MAW), one shift-add per non-zero code.

        The fixed format adds one division by ``D`` per output unit, done as a multiplication by a
        reciprocal constant (``hls/sqnap_common.h`` ``div_round_odd``: no divider) and counted as one
        full multiplication; none when ``D == 1`` (po2, or ``1 / D`` folded into the MAW).
        """
        codes, maw = encoding.arrays["codes"], encoding.arrays["maw"]
        live = codes != 0
        scaled_groups = int(np.count_nonzero(live.any(axis=2) & (maw != 0)))
        return Cost(full_mults=scaled_groups + self._divisions(encoding), shift_adds=int(np.count_nonzero(live)),
                    parameters=stored_values(encoding), kernel_bits=encoding.memory_bits)

    def _divisions(self, encoding: Encoding) -> int:
        """Reciprocal multiplications per position: one per output unit when ``D > 1``."""
        return encoding.layout.n_out if self.denominator(encoding) > 1 else 0

    def processor_multipliers(self, encoding: Encoding) -> Tuple[int, int]:
        """Per output: one multiplier per group (its MAW) and the reciprocal of ``D`` (fixed format)."""
        return encoding.layout.n_groups + (1 if self._divisions(encoding) else 0), 0

    def arguments(self, encoding: Encoding) -> List[Argument]:
        return [Argument("codes", encoding.arrays["codes"]), Argument("maw", encoding.arrays["maw"])]

    def config_lines(self, encoding: Encoding, type_of: Callable[[str], str]) -> List[str]:
        return [f"typedef {type_of('codes')} code_t;", f"typedef {type_of('maw')} maw_t;",
                f"static const unsigned sw_bits = {int(encoding.params['sw_bits'])};",
                f"static const bool sw_po2 = {str(bool(encoding.params['sw_po2'])).lower()};"]
