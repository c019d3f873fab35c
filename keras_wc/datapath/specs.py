"""The integer description of a model: one dataclass per layer kind (docs/datapath.md).

:func:`keras_wc.datapath.describe_model` returns a list of these, in topological order;
the numpy emulator and the HLS writer both consume it. Every tensor between layers is a
fixed-point integer array described by ``output_format`` (except the raw float input of a
model whose first layer is a QActivation: ``InputSpec.output_format is None``).
``peak`` is a proven bound of ``|integer|`` for the tensor (never exceeded on any input).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Dict, Optional, Tuple

import numpy as np

from ..quantizers.base import Encoding
from ..quantizers.fixedpoint import FixedPoint
from .formats import ActivationQuant, format_text
from .geometry import Geometry


def _plain(value: Any) -> Any:
    """A JSON-friendly rendering of a spec field."""
    if isinstance(value, FixedPoint):
        return format_text(value)
    if isinstance(value, np.ndarray):
        return [int(v) for v in value.ravel()] if value.dtype.kind in "iuO" else value.tolist()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class LayerSpec:
    """Fields shared by every layer spec.

    Attributes:
        name: the Keras layer name.
        inputs: names of the producing specs.
        output_shape: per-sample output shape.
        output_format: fixed-point format of the output integers (``None`` = float).
        peak: bound of ``|output integer|``.
    """

    kind: ClassVar[str] = ""
    name: str
    inputs: Tuple[str, ...]
    output_shape: Tuple[int, ...]
    output_format: Optional[FixedPoint]
    peak: int

    @property
    def keras_output(self) -> str:
        """The Keras layer whose output this spec computes (its own, or a BatchNormalization folded in)."""
        return self.name

    def to_dict(self) -> Dict[str, Any]:
        """All fields (arrays as int lists), plus ``kind``."""
        return {"kind": self.kind, **{f.name: _plain(getattr(self, f.name)) for f in fields(self)}}


@dataclass(frozen=True, eq=False)
class InputSpec(LayerSpec):
    """The model input: integers on ``output_format`` (declared), or float when ``None``."""

    kind: ClassVar[str] = "input"


@dataclass(frozen=True, eq=False)
class QuantizeSpec(LayerSpec):
    """A QActivation: round half to even + saturate onto ``quant.fmt`` (from float or integers).

    Attributes:
        quant: the rounding of the QKeras quantizer.
        input_frac: fractional length of the input integers; ``None`` when the input is float.
    """

    kind: ClassVar[str] = "quantize"
    quant: ActivationQuant
    input_frac: Optional[int]


@dataclass(frozen=True, eq=False)
class ReluSpec(LayerSpec):
    """``max(x, 0)`` on the integers (exact)."""

    kind: ClassVar[str] = "relu"


@dataclass(frozen=True, eq=False)
class ReshapeSpec(LayerSpec):
    """Flatten/Reshape: a C-order reshape of the channel-last sample (exact)."""

    kind: ClassVar[str] = "reshape"


@dataclass(frozen=True, eq=False)
class IdentitySpec(LayerSpec):
    """A layer with no integer effect: Dropout, linear activation, or the final softmax.

    Attributes:
        note: why (``"softmax excluded: outputs are logits"`` for the final softmax).
    """

    kind: ClassVar[str] = "identity"
    note: str


@dataclass(frozen=True, eq=False)
class CompressedSpec(LayerSpec):
    """A Dense/Conv1D/Conv2D/DepthwiseConv2D layer computed from its encoded integers.

    Arithmetic (per output unit ``o``; docs/datapath.md)::

        P, A   = method kernel over the fan-in (integers; partial sums fit partial_format)
        A'     = (A << align[o]) + bias[o]                    # fits acc_format
        result = round_div(A', denominator)                  # ties impossible (odd D)
        result = result * multiplier[o] + offset[o]          # only with a folded BatchNormalization

    The result stands for ``result * 2**-output_format.frac``. ``acc_format.frac`` is the grid
    of ``A' / denominator``: it equals ``output_format.frac`` unless a BatchNormalization is
    folded in (``scaling``), whose multiplier adds ``scaling.multiplier_format.frac`` bits.

    Attributes:
        method: the registered method's name (:mod:`keras_wc.methods`).
        source: the weight quantizer, as text.
        encoding: the kernel's :class:`~keras_wc.quantizers.Encoding`.
        geometry: receptive fields.
        patch_index: ``(n_out, padded_fan_in)`` patch element of each weight (-1 = pad).
        input_format: format of the input integers.
        partial_format: width of group sums ``P_g`` / ``S_k`` (on the input grid).
        acc_format: width of ``A'``.
        denominator: ``D`` (SWC fixed) or 1.
        align: ``(n_out,)`` left shifts onto the common grid: DFP per-channel differences plus
            the extra bits (``<= BIAS_EXTRA_BITS``) that make a float bias exact.
        bias: ``(n_out,)`` integers on the accumulator grid (``round_half_even(b * D * 2**frac)``).
        weight_quantizer_bits: the ``bits`` of a QKeras weight quantizer (the layer then runs on
            hls4ml's own kernel); ``None`` for a keras_wc quantizer (the method's SQNAP core).
        bias_quantizer_bits: the ``bits`` of the layer's bias quantizer, ``None`` for a float bias.
        scaling: the BatchNormalization that follows the layer, folded into its epilogue
            (keras_wc layers only; ``None`` without one). Its layer has no spec of its own: its
            consumers read this spec, and the output is the BatchNormalization's.
    """

    kind: ClassVar[str] = "compressed"
    method: str
    source: str
    encoding: Encoding
    geometry: Geometry
    patch_index: np.ndarray
    input_format: FixedPoint
    partial_format: FixedPoint
    acc_format: FixedPoint
    denominator: int
    align: np.ndarray
    bias: np.ndarray
    weight_quantizer_bits: Optional[int] = None
    bias_quantizer_bits: Optional[int] = None
    scaling: Optional[Scaling] = None

    @property
    def sqnap(self) -> bool:
        """Whether the layer runs on its method's SQNAP core (a keras_wc quantizer)."""
        return self.weight_quantizer_bits is None

    @property
    def keras_output(self) -> str:
        return self.name if self.scaling is None else self.scaling.layer

    def to_dict(self) -> Dict[str, Any]:
        out = super().to_dict()
        out["encoding"] = {k: v for k, v in self.encoding.to_dict().items() if k not in ("config",)}
        return out


@dataclass(frozen=True, eq=False)
class Scaling:
    """A BatchNormalization folded to integers: ``y = x * multiplier[c] + offset[c]`` per channel.

    ``multiplier`` is ``gamma / sqrt(var + eps)`` rounded (half even) to ``multiplier_format``
    (signed, one fractional length per layer); ``offset`` is ``beta - mean * multiplier``
    rounded onto the output grid (the input grid ``multiplier_format.frac`` bits finer), so
    ``y`` is exact: one product and one addition per value. This rounding of the multiplier
    and the offset is the only quantization the emulator adds to a model: it is documented in
    docs/datapath.md and bounded by ``compare``. It is made by
    :func:`keras_wc.datapath.describe.fold_batchnorm` and computed by
    :func:`keras_wc.emulate.layers.scale` — one definition for a standalone
    BatchNormalization (:class:`AffineSpec`) and for one folded into a compressed layer's
    epilogue (:attr:`CompressedSpec.scaling`).

    Attributes:
        layer: the BatchNormalization layer's name.
        multiplier: ``(channels,)`` integers on ``multiplier_format``.
        multiplier_format: signed, ``BN_MULTIPLIER_BITS`` wide.
        offset: ``(channels,)`` integers on the output grid.
        input_peak: bound of ``|x|`` (the producer's peak).
        peak: bound of ``|y|``.
    """

    layer: str
    multiplier: np.ndarray
    multiplier_format: FixedPoint
    offset: np.ndarray
    input_peak: int
    peak: int

    def to_dict(self) -> Dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class AffineSpec(LayerSpec):
    """A standalone BatchNormalization (no keras_wc layer before it to fold into): :class:`Scaling`.

    Attributes:
        input_format: format of the input integers.
        scaling: the folded integers.
    """

    kind: ClassVar[str] = "affine"
    input_format: FixedPoint
    scaling: Scaling


@dataclass(frozen=True, eq=False)
class PoolSpec(LayerSpec):
    """Max or average pooling on the integers (also the global poolings: one window per map).

    Only real pixels take part (Keras excludes ``"same"`` padding from both ops):

    * max: the largest real integer of the window (exact);
    * average: the window sum ``S`` of the ``n`` real pixels. When every window has the same
      ``n = 2**k`` (``"valid"`` padding, power-of-two area), ``S`` itself is the exact result on a
      grid ``k`` bits finer than the input (``divide=False``, ``shift=0``); otherwise the result
      is ``round_div(S << shift, n)`` (half to even, per window) on a grid ``shift =
      AVG_POOL_EXTRA_BITS`` bits finer (``divide=True``).

    Attributes:
        op: ``"max"`` or ``"average"``.
        geometry: window geometry (``kernel_size`` = pool size).
        divide: whether the average divides by the per-window count.
        shift: left shift of the window sum before the division (0 without division).
        acc_bound: bound of ``|S << shift|`` (the accumulator; the input bound for max).
    """

    kind: ClassVar[str] = "pool"
    op: str
    geometry: Geometry
    divide: bool
    shift: int
    acc_bound: int


@dataclass(frozen=True, eq=False)
class PadSpec(LayerSpec):
    """ZeroPadding1D/2D: zero rows/columns around the map (exact).

    Attributes:
        pads: ``((top, bottom), (left, right))`` (``((0, 0), (left, right))`` for 1-D).
    """

    kind: ClassVar[str] = "pad"
    pads: Tuple[Tuple[int, int], Tuple[int, int]]


#: merge operations of :class:`MergeSpec` (Keras class name -> op)
MERGE_OPS = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply", "Average": "average",
             "Maximum": "maximum", "Minimum": "minimum", "Concatenate": "concatenate"}


@dataclass(frozen=True, eq=False)
class MergeSpec(LayerSpec):
    """Add, Subtract, Multiply, Average, Maximum, Minimum or Concatenate of integer tensors (exact).

    Every input is shifted left by ``shifts[i]`` onto the finest input grid (``multiply``: no
    shift, the grids' fractional lengths add), then

    * ``add``/``subtract``/``maximum``/``minimum``: element-wise, on that grid;
    * ``average``: the sum of the two inputs on a grid one bit finer (``(a + b) / 2`` exact);
    * ``multiply``: the product on grid ``frac_1 + frac_2``;
    * ``concatenate``: along ``axis`` (a per-sample axis index, channels last).

    Attributes:
        op: one of :data:`MERGE_OPS`' values.
        shifts: per-input left shift onto the common grid.
        axis: the concatenation axis within a sample (``-1`` otherwise).
    """

    kind: ClassVar[str] = "merge"
    op: str
    shifts: Tuple[int, ...]
    axis: int = -1
