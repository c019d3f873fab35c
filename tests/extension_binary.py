"""A compression method registered from outside the ``keras_wc`` package (docs/extending.md).

**BinaryPo2**: every weight is ``+/-1`` times a per-filter power-of-two scale ``2**e_o``, with
``e_o = round(log2(mean |w_o|))``. The whole method is this module plus the C++ core in
``extension_binary.h`` beside it: a quantizer class, a :class:`~keras_wc.methods.Method` and
one :func:`~keras_wc.methods.register_method` call. Nothing inside ``keras_wc/`` or ``hls/``
knows it; training, the report, the emulator and the HLS C simulation pick it up from the
registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

import numpy as np
import tensorflow as tf

from keras_wc.methods import Argument, Cost, Method, register_method
from keras_wc.methods.base import Gains, KernelResult, group_gain, per_output, per_weight_sum, shift_add_cost
from keras_wc.quantizers import CompressionQuantizer
from keras_wc.quantizers.base import Encoding
from keras_wc.quantizers.layout import FanInLayout
from keras_wc.quantizers.ops import ArrayOps

#: stored bits of one per-filter exponent (signed)
EXPONENT_BITS = 6
EXPONENT_RANGE = (-(1 << (EXPONENT_BITS - 1)), (1 << (EXPONENT_BITS - 1)) - 1)


class BinaryPo2(CompressionQuantizer):
    """``sign(w) * 2**e_o``: binary weights times one power-of-two scale per filter.

    Args:
        kernel_layout: ``"auto"`` or ``"depthwise"``.

    Example:
        >>> enc = BinaryPo2().encode(np.array([[0.3], [-0.2]], np.float32))
        >>> enc.arrays["codes"].ravel().tolist(), enc.arrays["exponent"].tolist()
        ([1, -1], [-2])
    """

    method = "binary_po2"
    #: one bit per weight (QKeras' kernel initializer reads ``bits``)
    bits = 1

    @property
    def group_spec(self):
        return "filter"

    def max(self) -> float:
        """Largest value relative to the filter's scale (QKeras asks every quantizer)."""
        return 1.0

    def min(self) -> float:
        """Smallest value relative to the filter's scale."""
        return -1.0

    def _encode_grouped(self, grouped: tf.Tensor, layout: FanInLayout) -> Tuple[Dict[str, tf.Tensor], Dict[str, Any]]:
        valid = tf.constant(layout.valid()[None], tf.bool)
        codes = tf.where(valid, tf.where(grouped < 0, -1, 1), 0)
        mean = tf.reduce_sum(tf.abs(grouped), axis=(1, 2)) / float(layout.fan_in)
        exponent = tf.round(tf.math.log(tf.maximum(mean, 2.0 ** EXPONENT_RANGE[0])) / np.log(2.0))
        exponent = tf.clip_by_value(exponent, *EXPONENT_RANGE)
        return {"codes": tf.cast(codes, tf.int32), "exponent": tf.cast(exponent, tf.int32)}, {}

    def _decode_grouped(self, arrays: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                        ops: ArrayOps) -> Any:
        scale = ops.pow2(ops.reshape(ops.cast(arrays["exponent"], "int32"), (-1, 1, 1)))
        return ops.cast(arrays["codes"], "float32") * scale

    def _storage(self, layout: FanInLayout) -> Dict[str, Tuple[int, int]]:
        return {"codes": (layout.n_out * layout.fan_in, 1), "exponent": (layout.n_out, EXPONENT_BITS)}


class BinaryPo2Method(Method):
    """The integer facts, kernel, cost and HLS pieces of :class:`BinaryPo2`.

    ``A_o = sum_i c_i x_i`` (add/subtract only); the scale ``2**e_o`` is a per-output grid
    (``frac = -e_o``), which the shared epilogue aligns with its per-output shift.
    """

    name = "binary_po2"
    quantizer = BinaryPo2
    header = Path(__file__).with_name("extension_binary.h")
    core = "sqnap::binary_po2_core"
    zero_preserving = False

    def frac(self, encoding: Encoding) -> np.ndarray:
        return per_output(-encoding.arrays["exponent"].astype(np.int64), encoding.layout.n_out)

    def gains(self, encoding: Encoding) -> Gains:
        return group_gain(encoding.arrays["codes"].astype(np.int64), 1)

    def kernel(self, x: np.ndarray, encoding: Encoding) -> KernelResult:
        return per_weight_sum(x, encoding.arrays["codes"])

    def cost(self, encoding: Encoding) -> Cost:
        """One add/subtract per weight; no multiplication (the scale is a shift)."""
        return shift_add_cost(encoding)

    def arguments(self, encoding: Encoding) -> List[Argument]:
        return [Argument("codes", encoding.arrays["codes"])]


BINARY_PO2 = register_method(BinaryPo2Method())
