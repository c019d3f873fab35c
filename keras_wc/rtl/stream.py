"""Streaming layer modules: a pixel datapath behind a line buffer (convolutions, pooling, per-pixel layers).

A sample's map enters one pixel (all its channels) per handshake, row by row. The module walks the
*padded* map: at a padding position it shifts in the fill value (0, or below every real value
for max pooling) without taking an input pixel; at a real position it waits for one. The last
``(KH - 1)`` padded rows plus ``KW`` pixels are kept in one shift chain — the line buffer and the
window in one: window element ``(ky, kx)`` is the pixel ``(KH-1-ky) * Wp + (KW-1-kx)`` positions
back (the entering pixel is position 0). When the entering pixel completes a window on the
stride grid, the layer's datapath (:mod:`.layers`, the same emitters as the Dense modules, on the
window's ``KH*KW*C`` values) computes the output pixel into the output register
(``out_pixel``/``out_valid``/``out_ready``). Everything stalls while an output waits to be taken.

Storage: ``((KH - 1) * Wp + KW - 1) * C`` values — K-1 rows and a window, as hls4ml's line buffer
(``nnet_conv2d_stream.h``), never a whole map. A per-pixel layer (QActivation, ReLU, a
BatchNormalization after a convolution) is the 1x1 case: no chain, no counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Tuple

from .modules import Bus, LayerModule, counter_width, packed
from .netlist import Netlist, Signal


@dataclass(frozen=True)
class Window:
    """The window a streaming layer slides over its input map.

    Attributes:
        in_hw: input ``(H, W)`` (``(1, L)`` for 1-D maps).
        kernel: ``(KH, KW)``.
        strides: ``(SH, SW)``.
        pad: zero rows/columns before the input ``(top, left)``.
        out_hw: output ``(OH, OW)``.
        fill: the value shifted in at padding positions.
    """

    in_hw: Tuple[int, int]
    kernel: Tuple[int, int] = (1, 1)
    strides: Tuple[int, int] = (1, 1)
    pad: Tuple[int, int] = (0, 0)
    out_hw: Tuple[int, int] = (0, 0)
    fill: int = 0

    @property
    def padded_hw(self) -> Tuple[int, int]:
        """``(Hp, Wp)``: the map the controller walks (padding after the input as Keras places it)."""
        return tuple(max(before + n, (out - 1) * s + k)
                     for before, n, out, s, k in zip(self.pad, self.in_hw, self.out_hw, self.strides, self.kernel))

    @property
    def chain_pixels(self) -> int:
        """Pixels held in the shift chain: ``(KH - 1) * Wp + KW - 1``."""
        return (self.kernel[0] - 1) * self.padded_hw[1] + self.kernel[1] - 1

    @property
    def trivial(self) -> bool:
        """A 1x1 window on every pixel: no chain, no counters."""
        return self.kernel == (1, 1) and self.strides == (1, 1) and self.pad == (0, 0) and self.out_hw == self.in_hw


def emit_mask(size: int, kernel: int, stride: int, out: int) -> str:
    """A constant bit vector: bit ``i`` set when a window ending at padded position ``i`` is an output.

    Example:
        >>> emit_mask(5, 3, 2, 2)       # windows end at 2 and 4
        "5'b10100"
    """
    bits = ["1" if i >= kernel - 1 and (i - kernel + 1) % stride == 0 and (i - kernel + 1) // stride < out else "0"
            for i in range(size)]
    return f"{size}'b{''.join(reversed(bits))}"


def stream_module(layer: str, module: str, pixel: Bus, window: Window,
                  emit: Callable[[List[Signal], Netlist], List[Signal]]) -> LayerModule:
    """One streaming layer module (see the module docstring).

    Args:
        layer: the Keras layer name.
        module: the Verilog module name.
        pixel: the input pixel's values (C channels) and their intervals.
        window: the window geometry.
        emit: ``(window values (KH*KW*C, (ky, kx, c) order), netlist) -> output pixel values``.
    """
    channels, slot = len(pixel.elements), pixel.slot
    (kh, kw), (hp, wp) = window.kernel, window.padded_hw
    width = channels * slot
    padded = window.pad != (0, 0) or window.padded_hw != window.in_hw
    fill = [Signal("", min(e.lo, window.fill), max(e.hi, window.fill)) for e in pixel.elements] if padded \
        else pixel.elements
    net = Netlist()
    lines: List[str] = []
    entering = "in_pixel"
    if padded:
        fill_word = "{" + ", ".join(f"{slot}'d{window.fill & ((1 << slot) - 1)}" for _ in range(channels)) + "}"
        entering = "entering"
        lines.append(f"wire [{width - 1}:0] entering = real_pixel ? in_pixel : {fill_word};")
    values: List[Signal] = []
    for ky in range(kh):
        for kx in range(kw):
            position = (kh - 1 - ky) * wp + (kw - 1 - kx)
            source = entering if position == 0 else "chain"
            base = 0 if position == 0 else (position - 1) * width
            for c, interval in enumerate(fill):
                name = f"v_{ky}_{kx}_{c}"
                lines.append(f"wire signed [{interval.width - 1}:0] {name} = "
                             f"{source}[{base + c * slot + interval.width - 1}:{base + c * slot}];")
                values.append(Signal(name, interval.lo, interval.hi))
    outputs = emit(values, net)
    out_bus, pack, concatenation = packed(outputs)
    chain_bits = window.chain_pixels * width
    head = [f"// layer {layer}: a {kh}x{kw} window, stride {window.strides[0]}x{window.strides[1]}, over a "
            f"{window.in_hw[0]}x{window.in_hw[1]}x{channels} map ({hp}x{wp} padded); line buffer "
            f"{window.chain_pixels} pixels ({chain_bits} bits); {net.multipliers} full multiplications, "
            f"{net.adders} additions",
            f"module {module}(input clk, input rst, input [{width - 1}:0] in_pixel, input in_valid, "
            f"output in_ready,",
            f"  output reg [{out_bus.bits - 1}:0] out_pixel, output reg out_valid, input out_ready);",
            "wire blocked = out_valid && !out_ready;"]
    if window.trivial:
        control = ["assign in_ready = !blocked;", "wire advance = !blocked && in_valid;", "wire emit = 1'b1;"]
        state: List[str] = []
    else:
        rows, cols = counter_width(hp), counter_width(wp)
        top, left = window.pad
        height, width_in = window.in_hw
        bounds = [(top > 0, f"row >= {top}"), (top + height < hp, f"row < {top + height}"),
                  (left > 0, f"col >= {left}"), (left + width_in < wp, f"col < {left + width_in}")]
        real = " && ".join(f"({test})" for needed, test in bounds if needed) or "1'b1"
        control = [f"reg [{rows - 1}:0] row;", f"reg [{cols - 1}:0] col;",
                   f"wire real_pixel = {real};",
                   "assign in_ready = !blocked && real_pixel;",
                   "wire advance = !blocked && (!real_pixel || in_valid);",
                   f"wire [{hp - 1}:0] emit_rows = {emit_mask(hp, kh, window.strides[0], window.out_hw[0])};",
                   f"wire [{wp - 1}:0] emit_cols = {emit_mask(wp, kw, window.strides[1], window.out_hw[1])};",
                   "wire emit = emit_rows[row] && emit_cols[col];"]
        if chain_bits:
            control.insert(0, f"reg [{chain_bits - 1}:0] chain;")
        state = [f"      col <= (col == {wp - 1}) ? {cols}'d0 : col + 1'b1;",
                 f"      if (col == {wp - 1}) row <= (row == {hp - 1}) ? {rows}'d0 : row + 1'b1;"]
    shift = []
    if window.chain_pixels > 1:
        shift = [f"      chain <= {{chain[{chain_bits - width - 1}:0], {entering}}};"]
    elif window.chain_pixels == 1:
        shift = [f"      chain <= {entering};"]
    reset = "      row <= 0; col <= 0; out_valid <= 1'b0;" if not window.trivial else "      out_valid <= 1'b0;"
    text = "\n".join(head + control + lines + net.lines + pack + [
        "always @(posedge clk) begin",
        "  if (rst) begin", reset, "  end else if (advance) begin",
        *shift, *state,
        "    out_valid <= emit;",
        f"    if (emit) out_pixel <= {concatenation};",
        "  end else if (out_ready) out_valid <= 1'b0;",
        "end", "endmodule", ""])
    return LayerModule.of(layer, module, text, pixel, out_bus, net, chain_bits, streaming=True)
