"""The Verilog text: one registered module per computing layer, the streaming top, the testbench.

A layer module is the layer's combinational datapath (:mod:`.layers`) with its outputs
registered under a clock enable: ``module L(input clk, input ce, input [..] x, output reg [..] y)``;
a Resource Dense layer (:mod:`.resource`) adds ``rst`` and ``busy`` and loops for many clocks.
Every value travels on a bus of equal-width slots (the widest of the layer's values, sign-extended),
so the top connects modules with plain wires.

The top takes a sample as a stream of input words (``in_data``/``in_valid``/``in_ready``), runs the
layer pipeline (one register stage per layer, stalled while the output is still being sent or a
Resource module is busy; a Resource module starts only on a valid sample)
and sends the outputs as a stream of words (``out_data``/``out_valid``/``out_ready``), one value per
word: the hardware input's integers in, the last layer's integers out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from .netlist import Netlist, Signal, signed_width

#: the flags every generated file is linted with by Verilator (width changes are intended: every
#: assignment's interval is proven, and Verilog sign-extends signed operands to the context width)
VERILATOR_WARNINGS_OFF = ("-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-UNUSEDSIGNAL", "-Wno-DECLFILENAME")


def identifier(name: str, used: Sequence[str]) -> str:
    """A Verilog identifier for a layer name, unique among ``used``.

    Example:
        >>> identifier("dense/1", [])
        'layer_dense_1'
    """
    base = "layer_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


@dataclass(frozen=True)
class Bus:
    """Values of one sample on equal-width slots.

    Attributes:
        elements: each value's interval (the signal names are the producer's, unused downstream).
        slot: the width of every slot.
    """

    elements: List[Signal]

    @property
    def slot(self) -> int:
        return max(signed_width(min(e.lo for e in self.elements), max(e.hi for e in self.elements)), 1)

    @property
    def bits(self) -> int:
        return self.slot * len(self.elements)


@dataclass(frozen=True)
class LayerModule:
    """A generated layer module.

    Attributes:
        layer: the Keras layer name.
        module: its Verilog name.
        text: the module's Verilog.
        inputs: its input bus.
        outputs: its output bus.
        multipliers: full multiplications (``*``) it instantiates.
        adders: two-input additions/subtractions it instantiates.
        buffer_bits: bits of its line buffer (streaming modules; 0 otherwise).
        adder_bits: result widths of its additions of two signals, summed.
        constant_add_bits: result widths of its additions of a constant, summed.
        select_bits: widths of its comparisons-and-selections between signals, summed.
        saturate_bits: widths of its saturations, summed.
        streaming: whether it is a streaming module (pixel handshakes, :mod:`.stream`).
        products: ``(operand width, constant width)`` of each full multiplication.
        fused: the Keras layers of a branch module (a branch and its merge, ``layer`` the merge), in
            order; empty for a single layer's module.
        architecture: ``"Latency"`` (constant weights, one clock) or ``"Resource"`` (weights in a ROM,
            a loop of clocks: :mod:`.resource`; the module has ``rst`` and ``busy`` ports).
        clocks: clocks a sample keeps the module busy after its ``ce`` (1: a register stage); the top's
            whole-sample pipeline steps once every ``max(clocks) + 1`` clocks of its Resource modules.
        rom_bits: bits of its weight ROMs (Resource).
    """

    layer: str
    module: str
    text: str
    inputs: Bus
    outputs: Bus
    multipliers: int
    adders: int
    buffer_bits: int = 0
    adder_bits: int = 0
    constant_add_bits: int = 0
    select_bits: int = 0
    saturate_bits: int = 0
    products: Tuple[Tuple[int, int], ...] = ()
    streaming: bool = False
    fused: Tuple[str, ...] = ()
    architecture: str = "Latency"
    clocks: int = 1
    rom_bits: int = 0

    @property
    def looping(self) -> bool:
        """Whether the module takes several clocks per sample (``busy`` holds the pipeline)."""
        return self.architecture == "Resource"

    @classmethod
    def of(cls, layer: str, module: str, text: str, inputs: Bus, outputs: Bus, net: Netlist,
           buffer_bits: int = 0, streaming: bool = False) -> "LayerModule":
        """A module and the inventory of its netlist."""
        return cls(layer, module, text, inputs, outputs, net.multipliers, net.adders, buffer_bits, net.adder_bits,
                   net.constant_add_bits, net.select_bits, net.saturate_bits, tuple(net.products), streaming)


def packed(outputs: List[Signal], prefix: str = "y_") -> Tuple[Bus, List[str], str]:
    """Values on equal slots: ``(bus, the slot wires' lines, their concatenation, last value first)``.

    Example:
        >>> packed([Signal("a", 0, 3)])[2]
        '{y_0}'
    """
    bus = Bus(outputs)
    lines = [f"wire signed [{bus.slot - 1}:0] {prefix}{i} = {e.name};" for i, e in enumerate(outputs)]
    return bus, lines, "{" + ", ".join(f"{prefix}{i}" for i in reversed(range(len(outputs)))) + "}"


def layer_module(layer: str, module: str, inputs: Bus, emit) -> LayerModule:
    """Build one layer's module: unpack the input bus, ``emit(elements, netlist)``, register the outputs.

    Args:
        layer: the Keras layer name (a comment in the file).
        module: the Verilog module name.
        inputs: the input bus.
        emit: ``(elements, netlist) -> elements`` (:func:`.design.group_emitter`: a layer's emitter, or a branch's).
    """
    net = Netlist()
    slot = inputs.slot
    elements = [Signal(f"x_{i}", e.lo, e.hi) for i, e in enumerate(inputs.elements)]
    unpack = [f"wire signed [{e.width - 1}:0] {e.name} = x[{i * slot + e.width - 1}:{i * slot}];"
              for i, e in enumerate(elements)]
    outputs = emit(elements, net)
    out_bus, pack, concatenation = packed(outputs)
    text = "\n".join([
        f"// layer {layer}: {len(inputs.elements)} values in, {len(outputs)} out; "
        f"{net.multipliers} full multiplications, {net.adders} additions",
        f"module {module}(input clk, input ce, input [{inputs.bits - 1}:0] x, output reg [{out_bus.bits - 1}:0] y);",
        *unpack, *net.lines, *pack,
        "always @(posedge clk) begin",
        f"  if (ce) y <= {concatenation};",
        "end",
        "endmodule", ""])
    return LayerModule.of(layer, module, text, inputs, out_bus, net)


def counter_width(count: int) -> int:
    """Bits of a counter over ``0..count-1`` (at least 1)."""
    return max((count - 1).bit_length(), 1)


@dataclass(frozen=True)
class Pipeline:
    """The layer modules of a design in order: a streaming part, then a whole-sample part.

    Attributes:
        input_bus: the hardware input's values (one sample).
        input_word: the width of an input word (the input format's).
        input_signed: whether input words are two's complement (else zero-extended).
        streaming: the streaming modules (line-buffer layers and per-pixel layers), in order; empty
            when the model has no convolution or pooling before its Flatten.
        collected_pixels: pixels the collector gathers into one sample after the streaming part.
        layers: the whole-sample modules (Dense and per-value layers), in order.
    """

    input_bus: Bus
    input_word: int
    input_signed: bool
    streaming: List[LayerModule]
    collected_pixels: int
    layers: List[LayerModule]

    @property
    def modules(self) -> List[LayerModule]:
        return self.streaming + self.layers

    @property
    def packet(self) -> int:
        """Input words gathered before the first module reads them: a pixel, or the whole sample."""
        return len(self.streaming[0].inputs.elements) if self.streaming else len(self.input_bus.elements)

    @property
    def output_bus(self) -> Bus:
        """The values of one sample's output."""
        if self.layers:
            return self.layers[-1].outputs
        return Bus(self.streaming[-1].outputs.elements * self.collected_pixels)


def _serializer(source: str, source_full: str, n_out: int, slot_out: int, stages: int,
                settled: str = "") -> List[str]:
    """The output side: load a finished sample (``settled``: once no looping module is busy), send it a
    word per handshake."""
    ready = f"stage_valid[{stages}]" if stages else source_full
    ready += f" && {settled}" if settled else ""
    load = [f"      out_buf <= {source}; out_busy <= 1'b1; out_count <= 0;"]
    if not stages:
        load.append(f"      {source_full} <= 1'b0;")
    return [f"    if (!out_busy && {ready}) begin", *load,
            "    end else if (out_busy && out_ready) begin",
            f"      if (out_count == {n_out - 1}) out_busy <= 1'b0;",
            "      else out_count <= out_count + 1'b1;",
            "    end"]


def top_module(name: str, pipeline: Pipeline) -> str:
    """The streaming top: input words -> (streaming modules -> collector) -> whole-sample pipeline -> output words.

    Args:
        name: its module name.
        pipeline: the modules and the input's description.
    """
    packet, word = pipeline.packet, pipeline.input_word
    in_slot = pipeline.input_bus.slot
    extension = "in_data" if pipeline.input_signed or in_slot == word else f"{{{in_slot - word}'b0, in_data}}"
    out_bus = pipeline.output_bus
    n_out, slot_out = len(out_bus.elements), out_bus.slot
    stages = len(pipeline.layers)
    lines = [
        f"// {name}: {len(pipeline.input_bus.elements)} input words of {word} bits in, {n_out} output words of "
        f"{slot_out} bits out;",
        f"// {len(pipeline.streaming)} streaming layer modules, {stages} whole-sample pipeline stages",
        f"module {name}(input clk, input rst,",
        f"  input [{word - 1}:0] in_data, input in_valid, output in_ready,",
        f"  output [{slot_out - 1}:0] out_data, output out_valid, input out_ready);",
        f"reg [{packet * in_slot - 1}:0] in_buf;",
        f"reg [{counter_width(packet) - 1}:0] in_count;",
        "reg in_full;",
        f"reg [{out_bus.bits - 1}:0] out_buf;",
        f"reg [{counter_width(n_out) - 1}:0] out_count;",
        "reg out_busy;",
        "assign in_ready = !in_full;",
        "assign out_valid = out_busy;",
        f"assign out_data = out_buf[out_count * {slot_out} +: {slot_out}];",
    ]
    sequential: List[str] = []
    source, source_full = "in_buf", "in_full"
    if pipeline.streaming:
        previous_pixel, previous_valid = "in_buf", "in_full"
        for i, module in enumerate(pipeline.streaming):
            lines += [f"wire [{module.outputs.bits - 1}:0] {module.module}_pixel;",
                      f"wire {module.module}_valid, {module.module}_ready;"]
            following = (f"{pipeline.streaming[i + 1].module}_ready" if i + 1 < len(pipeline.streaming)
                         else "!collect_full")
            lines.append(f"{module.module} u_{module.module}(.clk(clk), .rst(rst), .in_pixel({previous_pixel}), "
                         f".in_valid({previous_valid}), .in_ready({module.module}_ready), "
                         f".out_pixel({module.module}_pixel), .out_valid({module.module}_valid), "
                         f".out_ready({following}));")
            previous_pixel, previous_valid = f"{module.module}_pixel", f"{module.module}_valid"
        first, last = pipeline.streaming[0].module, pipeline.streaming[-1].module
        pixel_bits = pipeline.streaming[-1].outputs.bits
        count = pipeline.collected_pixels
        lines += [f"reg [{pixel_bits * count - 1}:0] collect_buf;",
                  f"reg [{counter_width(count) - 1}:0] collect_count;",
                  "reg collect_full;"]
        sequential += [
            f"    if (in_full && {first}_ready) in_full <= 1'b0;",
            f"    if ({last}_valid && !collect_full) begin",
            f"      collect_buf[collect_count * {pixel_bits} +: {pixel_bits}] <= {last}_pixel;",
            f"      if (collect_count == {count - 1}) begin collect_count <= 0; collect_full <= 1'b1; end",
            "      else collect_count <= collect_count + 1'b1;",
            "    end"]
        source, source_full = "collect_buf", "collect_full"
    if stages:
        looping = [m.module for m in pipeline.layers if m.looping]
        settled = "settled" if looping else ""
        step = f"!stage_valid[{stages}] || !out_busy"
        lines += [f"reg [{stages}:1] stage_valid;"]
        if looping:
            lines += [f"wire {', '.join(f'{m}_busy' for m in looping)};",
                      f"wire settled = !({' || '.join(f'{m}_busy' for m in looping)});"]
            step = f"settled && ({step})"
        lines.append(f"wire ce = {step};")
        for i, module in enumerate(pipeline.layers):
            feed = source if i == 0 else f"{pipeline.layers[i - 1].module}_y"
            valid = source_full if i == 0 else f"stage_valid[{i}]"
            loop_ports = f".rst(rst), .busy({module.module}_busy), " if module.looping else ""
            start = f"ce && {valid}" if module.looping else "ce"  # a loop starts on a sample, not a bubble
            lines += [f"wire [{module.outputs.bits - 1}:0] {module.module}_y;",
                      f"{module.module} u_{module.module}(.clk(clk), {loop_ports}.ce({start}), .x({feed}), "
                      f".y({module.module}_y));"]
        shift = (f"stage_valid <= {{stage_valid[{stages - 1}:1], {source_full}}};" if stages > 1
                 else f"stage_valid <= {source_full};")
        sequential += ["    if (ce) begin", f"      {shift}", f"      if ({source_full}) {source_full} <= 1'b0;",
                       "    end"]
        sequential += _serializer(f"{pipeline.layers[-1].module}_y", source_full, n_out, slot_out, stages, settled)
    else:
        sequential += _serializer(source, source_full, n_out, slot_out, 0)
    resets = ["in_count <= 0;", "in_full <= 1'b0;", "out_count <= 0;", "out_busy <= 1'b0;"]
    if pipeline.streaming:
        resets += ["collect_count <= 0;", "collect_full <= 1'b0;"]
    if stages:
        resets.append("stage_valid <= 0;")
    lines += [
        "always @(posedge clk) begin",
        "  if (rst) begin",
        "    " + " ".join(resets),
        "  end else begin",
        "    if (in_valid && !in_full) begin",
        f"      in_buf[in_count * {in_slot} +: {in_slot}] <= {extension};",
        f"      if (in_count == {packet - 1}) begin in_count <= 0; in_full <= 1'b1; end",
        "      else in_count <= in_count + 1'b1;",
        "    end",
        *sequential,
        "  end",
        "end",
        "endmodule", ""]
    return "\n".join(lines)


def testbench(name: str, n_in: int, n_out: int, input_word: int, output_word: int, loop_clocks: int = 0) -> str:
    """The Verilator C++ testbench: input words from ``argv[1]`` (one sample per line), output words
    (sign-extended) to ``argv[2]``; a sample is fed while the previous ones are still in the pipeline,
    with a gap in the input every 5th clock and no ``out_ready`` every 7th, so every handshake waits.
    ``loop_clocks``: the Resource modules' clocks per sample, summed (they widen the time limit)."""
    loop_limit = f" + 2ULL * samples * {loop_clocks}" if loop_clocks else ""
    return f"""// Verilator testbench of {name}: reads integers (one sample of {n_in} per line) from argv[1],
// streams them in, writes the {n_out} output integers of each sample to argv[2].
#include <cstdint>
#include <cstdio>
#include <vector>
#include "V{name}.h"
#include "verilated.h"

static long long sign_extend(unsigned long long word, int bits) {{
    return (long long)(word << (64 - bits)) >> (64 - bits);
}}

int main(int argc, char** argv) {{
    if (argc < 3) {{ std::fprintf(stderr, "usage: %s inputs.txt outputs.txt\\n", argv[0]); return 2; }}
    std::FILE* in = std::fopen(argv[1], "r");
    if (!in) {{ std::fprintf(stderr, "cannot read %s\\n", argv[1]); return 2; }}
    std::vector<long long> words;
    long long value;
    while (std::fscanf(in, "%lld", &value) == 1) words.push_back(value);
    std::fclose(in);
    const size_t samples = words.size() / {n_in};
    std::FILE* out = std::fopen(argv[2], "w");
    VerilatedContext context;
    V{name} top(&context);
    top.clk = 0; top.rst = 1; top.in_valid = 0; top.out_ready = 1;
    for (int i = 0; i < 4; ++i) {{ top.clk = 0; top.eval(); top.clk = 1; top.eval(); }}
    top.rst = 0;
    size_t sent = 0, received = 0;
    const size_t total_out = samples * {n_out};
    unsigned long long cycles = 0, limit = 64ULL * (words.size() + total_out + 64){loop_limit};
    while (received < total_out && cycles++ < limit) {{
        top.clk = 0;
        top.in_valid = sent < samples * {n_in} && cycles % 5 != 2;  // a gap every 5th clock
        top.out_ready = cycles % 7 != 3;                              // back-pressure every 7th
        top.in_data = top.in_valid ? ((unsigned long long)words[sent] & {(1 << input_word) - 1}ULL) : 0ULL;
        top.eval();
        const bool take_in = top.in_valid && top.in_ready;
        if (top.out_valid && top.out_ready) {{
            std::fprintf(out, "%lld%s", sign_extend(top.out_data, {output_word}),
                         (received % {n_out}) == {n_out - 1} ? "\\n" : " ");
            ++received;
        }}
        top.clk = 1;
        top.eval();
        if (take_in) ++sent;
    }}
    std::fclose(out);
    top.final();
    if (received != total_out) {{
        std::fprintf(stderr, "timeout: %zu of %zu outputs\\n", received, total_out);
        return 1;
    }}
    return 0;
}}
"""
