"""LUT/FF/DSP estimates from a bit-width model of the emitted netlist, calibrated against yosys.

The generator knows every operation it emits and its width (:class:`~.modules.LayerModule`'s
inventory): the summed result widths of its additions, of its comparisons-and-selections, the
operand widths of each full multiplication, its output register and its line buffer. The
estimate is a linear model of those (in the spirit of HGQ2's EBOPs: cost follows bits, not
operation counts):

* ``LUT = a_add * adder_bits + a_const * constant_add_bits + a_sel * select_bits + a_sat * saturate_bits
  + a_buf * buffer_bits + a_stream * streaming`` (a constant added to a product is free: the DSP's
  post-adder; ``streaming`` is 1 for a streaming module: its handshake and window counters)
* ``FF  = f_reg * register_bits + f_buf * buffer_bits + f_stream * streaming``
* ``DSP = sum over products of ceil((w_x - 1) / 26) * ceil((w_c - 1) / 17)`` — DSP48E2's signed
  27x18 multiplier tiled over the operands (a structural rule, not fitted)

with the coefficients of :data:`COEFFICIENTS`, fitted by least squares (non-negative) on layer
modules synthesized by yosys 0.23 ``synth_xilinx -family xcup`` (docs/report.md gives the fit
set, the held-out set and their residuals; ``keras_wc.rtl.estimate.fit`` re-fits them). It is an
estimate, calibrated against yosys' pre-placement mapping — not against Vivado.

Example:
    >>> design = keras_wc.rtl.convert(model, "rtl_prj")
    >>> estimate_design(design)["fc1"]["LUT"]
    2210
"""

from __future__ import annotations

import math
from typing import Dict, Iterable, List, Sequence

from .modules import Bus, LayerModule

#: the LUT and FF model's features, in coefficient order
LUT_FEATURES = ("adder_bits", "constant_add_bits", "select_bits", "saturate_bits", "buffer_bits", "streaming")
FF_FEATURES = ("register_bits", "buffer_bits", "streaming")
#: fitted on the layer modules of docs/report.md ("Gate-level estimate")
COEFFICIENTS: Dict[str, Dict[str, float]] = {
    "LUT": {"adder_bits": 0.9633, "constant_add_bits": 0.5533, "select_bits": 2.4972, "saturate_bits": 1.2016,
            "buffer_bits": 0.0852, "streaming": 6.4955},
    "FF": {"register_bits": 0.9794, "buffer_bits": 0.3956, "streaming": 0.8344},
}


def features(module: LayerModule) -> Dict[str, float]:
    """The inventory of one module as the model's features."""
    return {"adder_bits": module.adder_bits, "constant_add_bits": module.constant_add_bits,
            "select_bits": module.select_bits, "saturate_bits": module.saturate_bits,
            "buffer_bits": module.buffer_bits,
            "register_bits": module.outputs.bits, "streaming": float(module.streaming)}


def dsp_tiles(products: Iterable[Sequence[int]]) -> int:
    """DSP48E2 slices of full multiplications: each ``(w_x, w_c)`` signed product tiled by 27x18.

    Example:
        >>> dsp_tiles([(16, 17), (33, 34)])       # one slice, and 2 x 2
        5
    """
    return int(sum(math.ceil(max(wx - 1, 1) / 26) * math.ceil(max(wc - 1, 1) / 17) for wx, wc in products))


def estimate_module(module: LayerModule, coefficients: Dict[str, Dict[str, float]] = COEFFICIENTS
                    ) -> Dict[str, int]:
    """``{"LUT", "FF", "DSP", "BRAM"}`` of one layer module (BRAM 0: Latency keeps weights in logic)."""
    values = features(module)
    return {"LUT": round(sum(coefficients["LUT"][k] * values[k] for k in LUT_FEATURES)),
            "FF": round(sum(coefficients["FF"][k] * values[k] for k in FF_FEATURES)),
            "DSP": dsp_tiles(module.products), "BRAM": 0}


def layer_twin(spec) -> LayerModule:
    """The RTL twin of one weight layer on its own: the module :func:`keras_wc.rtl.convert` emits for it.

    Its inputs span the whole of the layer's input format (in a design they carry the narrower
    interval the layers before prove), so the estimate is of the layer as the HLS types it. A
    convolution is its streaming module (line buffer, window, one pixel datapath); a Dense layer
    its whole-sample module (per output position: a Dense layer on a map computes each position alike).

    Args:
        spec: a :class:`~keras_wc.datapath.specs.CompressedSpec`.

    Example:
        >>> estimate_module(layer_twin(spec))["DSP"]
        16
    """
    from .design import group_emitter, map_shape, stream_layer, windowed
    from .modules import layer_module
    from .netlist import Signal

    fmt = spec.input_format
    _, channels = map_shape(spec.geometry.input_shape)  # a pixel's values, or a Dense layer's fan-in
    bus = Bus([Signal(f"in_{i}", int(fmt.min_int), int(fmt.max_int)) for i in range(channels)])
    if windowed(spec):
        return stream_layer(spec, "twin", bus)
    return layer_module(spec.name, "twin", bus, group_emitter([spec], spec.inputs[0]))


def estimate_design(design) -> Dict[str, Dict[str, int]]:
    """Per Keras layer, the estimate of its module in a :class:`~.design.RTLDesign`: its Latency modules
    only (the model is fitted on constant datapaths; a Resource module's ROM and loop are not in it)."""
    return {module.layer: estimate_module(module) for module in design.modules if not module.looping}


def fit(rows: List[Dict[str, float]]) -> Dict[str, Dict[str, float]]:
    """Non-negative least-squares coefficients of the LUT and FF models on measured modules.

    Args:
        rows: per module, its :func:`features` and yosys' ``"LUT"`` and ``"FF"``.

    Returns:
        Coefficients in the form of :data:`COEFFICIENTS`.
    """
    import numpy as np
    from scipy.optimize import nnls

    out: Dict[str, Dict[str, float]] = {}
    for target, names in (("LUT", LUT_FEATURES), ("FF", FF_FEATURES)):
        matrix = np.array([[row[name] for name in names] for row in rows], dtype=np.float64)
        measured = np.array([row[target] for row in rows], dtype=np.float64)
        weights = 1.0 / np.maximum(measured, 1.0)  # relative error: small layers count as much as big ones
        solution, _ = nnls(matrix * weights[:, None], measured * weights)
        out[target] = {name: round(float(value), 4) for name, value in zip(names, solution)}
    return out
