"""The rows of the benchmark table: baselines and every keras_wc method.

A :class:`RowSpec` says how a row builds its model (kernel/bias quantizers per layer) and
what its training adds (QR, gradual pruning, precision scaling, TF-MOT pruning). Every row
trains the same architecture on the same data, seeds and epochs (``benchmarks.harness``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

from qkeras import quantized_bits

from keras_wc.quantizers import DFP, SWC, PolyApprox, Po2, SparseTernary

Factory = Callable[[str, Tuple[int, ...]], Any]


@dataclass(frozen=True)
class RowSpec:
    """One benchmark row.

    Args:
        name: short id used in result files.
        label: what the table shows.
        family: ``"baseline"`` or ``"keras_wc"``.
        quantizer: ``factory(layer_name, kernel_shape)`` for kernels (``None``: float32).
        bias_quantizer: the same for biases.
        qr: keyword arguments of :func:`keras_wc.regularizers.attach_qr` (``None``: no QR).
        pruning: ``{"target": ..., "final_sparsity": ..., "ramp": (begin, end)}`` for
            :class:`GradualPruning` (``ramp``: fractions of training, default (0.2, 0.8)).
        precision_scaling: run :func:`keras_wc.callbacks.scale_precision` after training.
        tfmot_sparsity: TF-MOT ``prune_low_magnitude`` final sparsity.
        hardware: also convert to SQNAP HLS, estimate resources and C-simulate.
        target: the issue's target for this row, as shown in BENCHMARKS.md.
    """

    name: str
    label: str
    family: str = "keras_wc"
    quantizer: Optional[Factory] = None
    bias_quantizer: Optional[Factory] = None
    qr: Optional[Dict[str, Any]] = None
    pruning: Optional[Dict[str, Any]] = None
    precision_scaling: bool = False
    tfmot_sparsity: Optional[float] = None
    hardware: bool = False
    target: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)


def _is_conv(shape) -> bool:
    return len(shape) >= 3


def _bias8(name, shape):
    return DFP(bits=8)


def _qkeras_bits(bits: int) -> Factory:
    return lambda name, shape: quantized_bits(bits, 0, alpha=1)


def _swc(sw_format: str) -> Factory:
    # conv1 (fan-in 25): one MAW per 5x5 kernel; wider layers: one MAW per filter
    return lambda name, shape: SWC(sw_bits=4, maw_bits=16, sw_format=sw_format,
                                   group="kernel" if name == "conv1" else "filter")


def _poly(degree: int) -> Factory:
    return lambda name, shape: PolyApprox(degree=degree, levels=8, group="layer")


def _dfp(bits: int) -> Factory:
    return lambda name, shape: DFP(bits=bits)


def _po2(bits: int) -> Factory:
    return lambda name, shape: Po2(bits=bits)


def _ternary(name, shape):
    return SparseTernary(n=8, k=2, scale="channel", scale_bits=8)


#: plain QR: strength times the summed squared distance to the levels
QR = {"strength": 1e-3, "p": 2}
#: weighted QR divides each layer's distance by its quantization step (dimensionless, about
#: 1/16 per weight instead of about step**2/16), so its strength is scaled down by a typical
#: step**2 (~0.005) to start from the same pull as plain QR: the comparison is then about
#: *how* the pull is shared between layers, not how strong it is.
WEIGHTED_QR = {"strength": 5e-6, "p": 2, "weighting": "step"}

MAIN_ROWS: Tuple[RowSpec, ...] = (
    RowSpec("float32", "float32", family="baseline"),
    RowSpec("qkeras8", "QKeras quantized_bits 8-bit", family="baseline", quantizer=_qkeras_bits(8),
            bias_quantizer=_qkeras_bits(8)),
    RowSpec("qkeras4", "QKeras quantized_bits 4-bit", family="baseline", quantizer=_qkeras_bits(4),
            bias_quantizer=_qkeras_bits(8)),
    RowSpec("tfmot90", "TF-MOT prune_low_magnitude 90%", family="baseline", tfmot_sparsity=0.9),
    RowSpec("swc_fixed", "SWC fixed 4-bit + pruning", quantizer=_swc("fixed"), bias_quantizer=_bias8,
            pruning={"target": 0.15, "final_sparsity": 0.5}, hardware=True,
            target=">= 98% multiplications eliminated, <= 0.5 pp loss"),
    RowSpec("swc_po2", "SWC po2 4-bit + pruning", quantizer=_swc("po2"), bias_quantizer=_bias8,
            pruning={"target": 0.1, "final_sparsity": 0.5}, hardware=True,
            target=">= 98% multiplications eliminated, <= 0.5 pp loss"),
    RowSpec("poly_linear", "PolyApprox linear, 8 levels, per layer", quantizer=_poly(1), bias_quantizer=_bias8,
            hardware=True, target=">= 1211x parameter reduction, < 0.9 pp loss, >= 8x memory"),
    RowSpec("poly_quadratic", "PolyApprox quadratic, 8 levels, per layer", quantizer=_poly(2),
            bias_quantizer=_bias8, hardware=True),
    RowSpec("dfp_ps_qr", "DFP + precision scaling + QR", quantizer=_dfp(8), bias_quantizer=_bias8,
            qr=QR, precision_scaling=True, hardware=True,
            target=">= 12x compression within 0.10 pp (validation)"),
    RowSpec("dfp_ps_wqr", "DFP + precision scaling + weighted QR", quantizer=_dfp(8), bias_quantizer=_bias8,
            qr=WEIGHTED_QR, precision_scaling=True,
            target=">= 12x compression within 0.10 pp (validation)"),
    RowSpec("po2_qr", "Po2 4-bit + QR", quantizer=_po2(4), bias_quantizer=_bias8, qr=QR, hardware=True),
    RowSpec("ternary82", "SparseTernary (8,2) + gradual pruning", quantizer=_ternary, bias_quantizer=_bias8,
            pruning={"target": 2, "final_sparsity": 0.75}, hardware=True,
            target=">= 30x compression, <= 1.0 pp loss, 0 full mults in dot products"),
    RowSpec("ternary82_direct", "SparseTernary (8,2), trained at k=2 throughout", quantizer=_ternary,
            bias_quantizer=_bias8, target=">= 30x compression, <= 1.0 pp loss, 0 full mults in dot products"),
)


def ablation_rows() -> Tuple[RowSpec, ...]:
    """QR vs no QR and weighted vs unweighted QR, DFP and Po2 at 2 and 3 bits."""
    rows = []
    for bits in (2, 3):
        for method, factory in (("dfp", _dfp(bits)), ("po2", _po2(bits))):
            for variant, qr in (("noqr", None), ("qr", QR), ("wqr", WEIGHTED_QR)):
                rows.append(RowSpec(f"ablation_{method}{bits}_{variant}", f"{method.upper()} {bits}-bit, {variant}",
                                    family="ablation", quantizer=factory, bias_quantizer=_bias8, qr=qr,
                                    extra={"method": method, "bits": bits, "variant": variant}))
    return tuple(rows)
