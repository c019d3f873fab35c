"""A Dense layer in the Resource architecture: weights in a ROM, a few inputs per clock.

This is the RTL twin of hls4ml's ``Strategy: Resource`` (the weights are stored, not constants) in
this project's form (docs/rtl.md): the module latches a sample's inputs, then for ``clocks``
clocks reads ``lanes`` inputs and one ROM row (every output's fields for those inputs), adds each
output's products into its slots' running sums, closes the slots whose term ends (a full
multiplication by the term's scale, into the accumulator), and finally applies the layer's
epilogue (:func:`.layers.epilogue`) to every accumulator. What is stored and when a slot closes is
planned by :func:`.resource_plan.plan_resource`; the arithmetic is the emulator's, summed in
another order (exact integers: every register's interval is proven from the schedule).

Ports: ``clk``, ``rst``, ``ce`` (start a sample: the top's pipeline step on a valid sample), ``x``
(the input bus, latched at ``ce``), ``y`` (the output register: complete once ``busy`` falls, held
until the next sample's drain, after the next stage has taken it at its ``ce``), ``busy`` (the loop
or the drain is running; the top holds its pipeline until it falls). A sample keeps the module busy
``clocks + 1 + n_out`` clocks: the loop, the ROM's read latency, one clock per output in the drain.
"""

from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Set, Tuple

import numpy as np

from ..datapath.specs import CompressedSpec
from .layers import epilogue, epilogue_constants, finish_output
from .modules import Bus, LayerModule, counter_width
from .netlist import Netlist, Signal, signed_width
from .resource_plan import ResourcePlan, plan_resource


def hex_row(fields: List[tuple], bits: int) -> str:
    """A ROM row literal from ``(value, width)`` fields, the first field in the lowest bits.

    Example:
        >>> hex_row([(3, 2), (-1, 2)], 4)
        "4'hf"
    """
    value, offset = 0, 0
    for field, width in fields:
        value |= (int(field) & ((1 << width) - 1)) << offset
        offset += width
    return f"{bits}'h{value:0{-(-bits // 4)}x}"


def code_rows(plan: ResourcePlan) -> List[str]:
    """The code ROM's initial rows, laid out by :attr:`~.resource_plan.ResourcePlan.row_layout`."""
    def field(c: int, key: tuple) -> int:
        if key[0] == "close":
            return int(plan.closes[c, key[1]])
        _, o, i, e = key
        return int(plan.codes[c, o, i] if plan.indexed else plan.entries[c, o, i, e])

    layout = plan.row_layout  # in row order, lowest bits first
    return [f"  codes[{c}] = {hex_row([(field(c, key), width) for key, (_, width) in layout.items()], plan.row_bits)};"
            for c in range(plan.clocks)]


def scale_rows(plan: ResourcePlan) -> List[str]:
    """The scale table's initial rows: per closing clock, every output's slot scales."""
    width = plan.scale_width()
    n_out, slots = plan.scales.shape[1:]
    return [f"  scale_table[{k}] = {hex_row([(v, width) for v in row.reshape(-1)], n_out * slots * width)};"
            for k, row in enumerate(plan.scales)]


class ConstantTable:
    """Per-output constants read by the output counter ``t``: a field per column that varies, a literal
    for a column that does not (a small ROM, read without a clock).

    Example:
        >>> table = ConstantTable("t")
        >>> table.column("bias", np.array([3, -1]), net).name, table.column("align", np.array([2, 2]), net).name
        ('c_bias', "3'sd2")
    """

    def __init__(self, index: str):
        self.index = index
        self.fields: List[tuple] = []

    def column(self, name: str, values: np.ndarray, net: Netlist) -> Signal:
        """The column ``values`` (one per output) as a signal of the current output."""
        values = [int(v) for v in values]
        if len(set(values)) == 1:
            return net.constant(values[0])
        signal = Signal(f"c_{name}", min(values), max(values))
        self.fields.append((signal, values))
        return signal

    @property
    def bits(self) -> int:
        return sum(signal.width for signal, _ in self.fields)

    def lines(self) -> List[str]:
        """The table, its rows and its fields' wires (nothing without a varying column)."""
        if not self.fields:
            return []
        rows = len(self.fields[0][1])
        lines = [f"reg [{self.bits - 1}:0] constants [0:{rows - 1}];", "initial begin"]
        lines += [f"  constants[{o}] = {hex_row([(values[o], s.width) for s, values in self.fields], self.bits)};"
                  for o in range(rows)]
        lines += ["end", f"wire [{self.bits - 1}:0] constant_row = constants[{self.index}];"]
        offset = 0
        for signal, _ in self.fields:
            lines.append(f"wire signed [{signal.width - 1}:0] {signal.name} = "
                         f"constant_row[{offset + signal.width - 1}:{offset}];")
            offset += signal.width
        return lines


def resource_module(spec: CompressedSpec, module: str, inputs: Bus, reuse_factor: Optional[int] = None) -> LayerModule:
    """Build a Dense layer's Resource module (see the module docstring).

    Args:
        spec: the layer's description.
        module: the Verilog module name.
        inputs: its input bus (one sample).
        reuse_factor: clocks of the loop (``None``: one input per clock).

    Returns:
        The :class:`~.modules.LayerModule` (``architecture="Resource"``).

    Example:
        >>> m = resource_module(swc_32_to_5_spec, "layer_fc", Bus(inputs), reuse_factor=8)   # 4 inputs a clock
        >>> m.clocks, m.rom_bits            # 8 loop clocks + ROM latency + 5 drain clocks
        (14, 988)
    """
    n_in = len(inputs.elements)
    plan = plan_resource(spec, n_in, reuse_factor)
    n_out = plan.codes.shape[1]
    net = Netlist()
    declarations: List[str] = []
    loop = LoopDatapath(plan, inputs, net, declarations)
    drained = [loop.output_sums(o) for o in range(n_out)]          # per output: the registers the drain reads
    table = ConstantTable("t")
    selected = [select_slot(f"sum{q}", [sums[q] for sums in drained], declarations)
                for q in range(len(drained[0]))]
    scale_columns = [table.column(f"scale{s}", plan.scales[0, :, s], net) for s in range(plan.slots)] \
        if plan.drain_scales else []
    constants = {name: table.column(name, values, net) for name, values in epilogue_constants(spec).items()}
    result = finish_output(spec, drain_total(net, selected, scale_columns), constants, net)
    outputs = [exact_output(spec, o, sums, plan, net) for o, sums in enumerate(drained)]
    out_bus = Bus(outputs)
    text = "\n".join([
        *header(spec.name, module, plan, n_in, n_out, net),
        f"module {module}(input clk, input rst, input ce, input [{inputs.bits - 1}:0] x, "
        f"output reg [{out_bus.bits - 1}:0] y, output busy);",
        *storage(plan, inputs.slot, n_out),
        *table.lines(),
        *declarations, *net.lines,
        *control(plan, n_in * inputs.slot, plan.lanes * inputs.slot, loop.updates, loop.registers,
                 result.name, out_bus.slot, n_out),
        "endmodule", ""])
    return replace(LayerModule.of(spec.name, module, text, inputs, out_bus, net), architecture="Resource",
                   clocks=plan.clocks + 1 + n_out, rom_bits=plan.rom_bits + table.bits * n_out)


class LoopDatapath:
    """The loop's arithmetic: each output's products of the clock's lanes into its running sums.

    Attributes:
        updates: the registers' assignments of one loop clock.
        registers: the running-sum registers (cleared when a sample starts).
    """

    def __init__(self, plan: ResourcePlan, inputs: Bus, net: Netlist, declarations: List[str]):
        self.plan, self.net, self.declarations = plan, net, declarations
        self.updates: List[str] = []
        self.registers: List[str] = []
        self.declared: Set[str] = set()
        self.lanes = [self._lane(i, inputs) for i in range(plan.lanes)]
        self.layout = plan.row_layout

    def _lane(self, i: int, inputs: Bus) -> Signal:
        """Lane ``i``: the input values ``i, i + lanes, ...`` (0 where the last clock is padded)."""
        plan, n_in = self.plan, len(inputs.elements)
        members = [inputs.elements[p] for p in range(i, n_in, plan.lanes)]
        padded = i + plan.lanes * (plan.clocks - 1) >= n_in
        lo, hi = min(e.lo for e in members), max(e.hi for e in members)
        lane = Signal(f"lane_{i}", min(lo, 0) if padded else lo, max(hi, 0) if padded else hi)
        self.declarations.append(f"wire signed [{lane.width - 1}:0] {lane.name} = "
                                 f"xs[{i * inputs.slot + lane.width - 1}:{i * inputs.slot}];")
        return lane

    def _field(self, o: int, i: int, e: int) -> Signal:
        """Output ``o``'s stored index at lane ``i`` (``e`` ignored), or its entry ``e``, as a signed wire."""
        plan = self.plan
        offset, width = self.layout[("field", o, i, 0 if plan.indexed else e)]
        if plan.indexed:
            value = Signal(f"k_{o}_{i}", 0, len(plan.codebook) - 1)
            source = f"$signed({{1'b0, row[{offset + width - 1}:{offset}]}})"
        else:
            column = plan.codebook[:, e]
            value = Signal(f"v_{o}_{i}_{e}", int(column.min()), int(column.max()))
            source = f"row[{offset + width - 1}:{offset}]"
        if value.constant:
            return self.net.constant(value.lo)
        if value.name not in self.declared:
            self.declared.add(value.name)
            self.declarations.append(f"wire signed [{value.width - 1}:0] {value.name} = {source};")
        return value

    def _part(self, o: int, e: int) -> Signal:
        """What output ``o`` adds to entry ``e`` this clock: per lane its product, selected among the lane's
        shared products by the stored index, or the lane times the stored integer."""
        plan, net = self.plan, self.net
        products = []
        for i, lane in enumerate(self.lanes):
            if plan.indexed:
                options = [net.constant_product(lane, int(plan.codebook[k, e])) for k in range(len(plan.codebook))]
                products.append(net.choose(self._field(o, i, e), options))
            else:
                products.append(net.product(lane, self._field(o, i, e)))
        return net.sum(products)

    def _register(self, name: str, lo: int, hi: int) -> Signal:
        """A running-sum register of ``[lo, hi]`` (cleared when a sample starts)."""
        self.registers.append(name)
        self.declarations.append(f"reg signed [{signed_width(lo, hi) - 1}:0] {name};")
        return Signal(name, int(lo), int(hi))

    def _update(self, reg: Signal, value: Signal, enable: str = "", clear: str = "") -> None:
        """``reg <= value`` on every loop clock (``enable``: only when it holds; ``clear``: 0 when it holds)."""
        update = f"{reg.name} <= {value.name};"
        if clear:
            update = f"if ({clear}) {reg.name} <= 0; else {update}"
        self.updates.append(f"      {'if (' + enable + ') ' if enable else ''}{update}")

    def _accumulate(self, name: str, part: Signal, bounds: Tuple[int, int]) -> Signal:
        """A register summing ``part`` every loop clock, holding ``bounds``."""
        reg = self._register(name, *bounds)
        self._update(reg, self.net.add(reg, part))
        return reg

    def _bounds(self, o: int, e: int, first: int, last: int) -> Tuple[int, int]:
        """Bounds of output ``o``'s entry-``e`` products summed over clocks ``first..last``, and of every
        partial sum of them (each product's interval widened to hold 0): from the stored integers, so the
        registers are as narrow as the Latency module's exact sums."""
        weights = self.plan.entries[first:last + 1, o, :, e].astype(np.int64)
        ends = [weights * np.array([getattr(lane, end) for lane in self.lanes]) for end in ("lo", "hi")]
        return (int(np.minimum(np.minimum(*ends), 0).sum()), int(np.maximum(np.maximum(*ends), 0).sum()))

    def output_sums(self, o: int) -> List[Signal]:
        """Output ``o``'s registers the drain reads: its accumulator, or (every term closing on the last
        clock) one running sum per slot, scaled in the drain."""
        plan, net = self.plan, self.net
        last = plan.clocks - 1
        if plan.scales is None:
            return [self._accumulate(f"acc_{o}", self._part(o, 0), self._bounds(o, 0, 0, last))]
        if plan.drain_scales:
            return [self._accumulate(f"raw_{o}_{s}", self._part(o, s), self._bounds(o, s, 0, last))
                    for s in range(plan.slots)]
        closing = list(np.nonzero(plan.closes.any(axis=1))[0])  # the scale table's rows, in order
        contributions, acc_lo, acc_hi = [], 0, 0
        for s in range(plan.slots):
            part = self._part(o, s)
            close = f"row[{self.layout[('close', s)][0]}]"
            ends = np.nonzero(plan.closes[:, s])[0]
            runs = [self._bounds(o, s, start, end) for start, end in zip([0, *(ends[:-1] + 1)], ends)]
            raw = self._register(f"raw_{o}_{s}", min(r[0] for r in runs), max(r[1] for r in runs))
            for (lo, hi), end in zip(runs, ends):
                scale = int(plan.scales[closing.index(end), o, s])
                acc_lo, acc_hi = acc_lo + min(lo * scale, hi * scale, 0), acc_hi + max(lo * scale, hi * scale, 0)
            total = net.add(raw, part)
            self._update(raw, total, clear=close)
            scaled = net.product(total, self._scale(o, s))
            contributions.append(scaled if plan.close_together else net.select(close, scaled, net.constant(0)))
        step = net.sum(contributions)
        acc = self._register(f"acc_{o}", acc_lo, acc_hi)
        # slots that close together update the accumulator under one enable (a DSP's multiply-accumulate)
        enable = f"row[{self.layout[('close', 0)][0]}]" if plan.close_together else ""
        self._update(acc, net.add(acc, step), enable=enable)
        return [acc]

    def _scale(self, o: int, s: int) -> Signal:
        """The scale of output ``o``'s slot ``s`` at the current close (the scale table's field)."""
        column = self.plan.scales[:, o, s]
        scale = Signal(f"m_{o}_{s}", int(column.min()), int(column.max()))
        if scale.constant:
            return self.net.constant(scale.lo)
        offset = (o * self.plan.slots + s) * self.plan.scale_width()
        self.declarations.append(f"wire signed [{scale.width - 1}:0] {scale.name} = "
                                 f"scale_row[{offset + scale.width - 1}:{offset}];")
        return scale


def select_slot(name: str, values: List[Signal], declarations: List[str]) -> Signal:
    """The current output's value among ``values`` (one per output), picked by ``t`` (a full ``case``: a
    multiplexer tree)."""
    if len(values) == 1:
        return values[0]
    selected = Signal(name, min(v.lo for v in values), max(v.hi for v in values))
    declarations += [f"reg signed [{selected.width - 1}:0] {name};", "always @* begin", "  case (t)",
                     *[f"    {o}: {name} = {v.name};" for o, v in enumerate(values)],
                     f"    default: {name} = {values[0].name};", "  endcase", "end"]
    return selected


def drain_total(net: Netlist, sums: List[Signal], scales: List[Signal]) -> Signal:
    """The current output's kernel sum ``A``: its accumulator, or its running sums times their scales."""
    if not scales:
        return sums[0]
    return net.sum([net.product(total, scale) for total, scale in zip(sums, scales)])


def exact_output(spec: CompressedSpec, o: int, sums: List[Signal], plan: ResourcePlan, net: Netlist) -> Signal:
    """Output ``o``'s interval: the drain's arithmetic on its own registers and literal constants, built
    in a scratch netlist (the shared drain's interval is the union over outputs)."""
    scratch = Netlist()
    scales = [scratch.constant(int(plan.scales[0, o, s])) for s in range(plan.slots)] if plan.drain_scales else []
    value = epilogue(spec, o, drain_total(scratch, sums, scales), scratch)
    return Signal(f"y_{o}", value.lo, value.hi)


def header(layer: str, module: str, plan: ResourcePlan, n_in: int, n_out: int, net: Netlist) -> List[str]:
    """The module's first comment lines: what it reads per clock and what it stores."""
    stored = (f"{plan.field_bits[0]}-bit indices into {len(plan.codebook)} codebook vectors" if plan.indexed
              else f"{'+'.join(str(b) for b in plan.field_bits)}-bit integers per weight")
    sums = ("one accumulator per output" if plan.scales is None else
            f"{plan.slots} running sum(s) per output, scaled after the loop" if plan.drain_scales else
            f"{plan.slots} running sum(s) per output closed into an accumulator, {len(plan.scales)} scale rows")
    return [f"// layer {layer}: Resource architecture, {n_in} values in, {n_out} out; {plan.lanes} input(s) per clock "
            f"for {plan.clocks} clocks, then one output per clock through one epilogue; {sums};",
            f"// code ROM {plan.clocks} x {plan.row_bits} bits ({stored}); "
            f"{net.multipliers} full multiplications, {net.adders} additions"]


def storage(plan: ResourcePlan, slot: int, n_out: int) -> List[str]:
    """The input register, the counters, the code ROM (read one row per clock) and the loop's scale table."""
    lines = [f"reg [{plan.clocks * plan.lanes * slot - 1}:0] xs;",
             f"reg [{counter_width(plan.clocks) - 1}:0] addr;",
             f"reg [{counter_width(n_out) - 1}:0] t;",
             "reg fetching, using, draining;"]
    if plan.row_bits:
        lines += [f"reg [{plan.row_bits - 1}:0] codes [0:{plan.clocks - 1}];",
                  f"reg [{plan.row_bits - 1}:0] row;",
                  "initial begin", *code_rows(plan), "end"]
    if plan.loop_scales:
        bits = n_out * plan.slots * plan.scale_width()
        lines += [f"reg [{bits - 1}:0] scale_table [0:{len(plan.scales) - 1}];",
                  f"reg [{counter_width(len(plan.scales)) - 1}:0] close_index;",
                  f"wire [{bits - 1}:0] scale_row = scale_table[close_index];",
                  "initial begin", *scale_rows(plan), "end"]
    return lines


def control(plan: ResourcePlan, input_bits: int, lane_bits: int, updates: List[str], sums: List[str],
            result: str, out_slot: int, n_out: int) -> List[str]:
    """The sequence: ``ce`` latches the inputs and clears the ``sums``; the loop reads a row per clock;
    the drain walks the outputs (``t``) through the one epilogue (``result``) into ``y``."""
    xs_bits = plan.clocks * lane_bits
    latch = "x" if xs_bits == input_bits else f"{{{xs_bits - input_bits}'b0, x}}"
    closes = []
    if plan.loop_scales:  # the close flags are the row's last bits
        first = plan.row_layout[("close", 0)][0]
        closes = [f"      if (|row[{first + plan.slots - 1}:{first}]) close_index <= close_index + 1'b1;"]
    fetch = ["always @(posedge clk) if (fetching) row <= codes[addr];"] if plan.row_bits else []
    return [
        "assign busy = fetching | using | draining;",
        *fetch,
        "always @(posedge clk) begin",
        "  if (rst) begin",
        "    fetching <= 1'b0; using <= 1'b0; draining <= 1'b0;",
        "  end else if (ce) begin",
        f"    xs <= {latch}; addr <= 0; fetching <= 1'b1; using <= 1'b0; draining <= 1'b0;",
        *(["    close_index <= 0;"] if plan.loop_scales else []),
        *[f"    {name} <= 0;" for name in sums],
        "  end else begin",
        f"    if (fetching) begin addr <= addr + 1'b1; if (addr == {plan.clocks - 1}) fetching <= 1'b0; end",
        "    using <= fetching;",
        "    if (using) begin",
        f"      xs <= xs >> {lane_bits};",
        *updates,
        *closes,
        "    end",
        "    if (using && !fetching) begin draining <= 1'b1; t <= 0; end",
        "    if (draining) begin",
        "      case (t)",
        *[f"        {o}: y[{o * out_slot + out_slot - 1}:{o * out_slot}] <= {result};" for o in range(n_out)],
        "        default: ;",
        "      endcase",
        f"      if (t == {n_out - 1}) draining <= 1'b0; else t <= t + 1'b1;",
        "    end",
        "  end",
        "end"]
