"""A Verilog-2005 netlist builder whose every wire carries a proven integer interval.

Each :class:`Signal` knows the interval ``[lo, hi]`` of the integers it can hold (derived by
interval arithmetic from the inputs' ranges and the constants), so its width is the narrowest
two's-complement width that holds it: no wire can overflow, and none is wider than it must be.
Every wire is ``signed``; every constant is a sized signed literal, so no expression mixes
signed and unsigned operands (which Verilog would evaluate unsigned).

Products by constants come in two kinds, as in the HLS (docs/datapath.md):

* :meth:`Netlist.constant_product` — a code-level product, written as shift-adds of the
  constant's canonical signed digits (a constant code costs adders, never a multiplier);
* :meth:`Netlist.multiply` — a full multiplication (``*``), left for synthesis to map (a DSP
  slice, or LUTs where it prefers): the method's scales, the SWC reciprocal, a BatchNormalization.

Identical expressions are built once (products of one input by one constant, sums of the same
terms), so data reuse between outputs shows in the netlist as it would in a synthesized design.

Example:
    >>> net = Netlist()
    >>> x = net.input_signal("x0", -128, 127)
    >>> y = net.constant_product(x, 7)         # (x << 3) - x
    >>> (y.lo, y.hi, y.width)
    (-896, 889, 11)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple


def signed_width(lo: int, hi: int) -> int:
    """The narrowest two's-complement width holding every integer of ``[lo, hi]`` (at least 1).

    Example:
        >>> signed_width(-128, 127), signed_width(0, 255), signed_width(0, 0)
        (8, 9, 1)
    """
    width = 1
    while lo < -(1 << (width - 1)) or hi > (1 << (width - 1)) - 1:
        width += 1
    return width


def literal(value: int) -> str:
    """A sized signed Verilog literal: the magnitude with a zero sign bit, negated when negative.

    (``-4'sd8`` would be wrong: ``4'sd8`` is already -8 in four bits.)

    Example:
        >>> literal(-8), literal(5)
        ("-5'sd8", "4'sd5")
    """
    return f"{'-' if value < 0 else ''}{abs(int(value)).bit_length() + 1}'sd{abs(int(value))}"


def csd_digits(value: int) -> List[Tuple[int, int]]:
    """The canonical signed-digit form of ``value``: ``[(sign, shift), ...]``, no two adjacent.

    Example:
        >>> csd_digits(7)            # 8 - 1
        [(-1, 0), (1, 3)]
    """
    digits, shift, value = [], 0, int(value)
    while value:
        if value & 1:
            digit = 2 - (value & 3)          # +1 when value % 4 == 1, -1 when == 3
            digits.append((digit, shift))
            value -= digit
        value >>= 1
        shift += 1
    return digits


@dataclass(frozen=True)
class Signal:
    """A named signed wire (or register) and the interval of the integers it holds.

    Attributes:
        name: the Verilog identifier.
        lo: the smallest value it can hold.
        hi: the largest value it can hold.
    """

    name: str
    lo: int
    hi: int

    @property
    def width(self) -> int:
        """Its two's-complement width (:func:`signed_width`)."""
        return signed_width(self.lo, self.hi)

    @property
    def constant(self) -> bool:
        """Whether it can hold one value only."""
        return self.lo == self.hi


@dataclass(frozen=True)
class _Wide(Signal):
    """A signal declared wider than its interval needs (:meth:`Netlist.extend`)."""

    declared: int = 0

    @property
    def width(self) -> int:
        return max(self.declared, signed_width(self.lo, self.hi))


class Netlist:
    """The body of one Verilog module: wires with intervals, built once per distinct expression.

    Attributes:
        lines: the wire declarations and assignments, in creation order.
        multipliers: the full multiplications (``*``) it holds.
        adders: the two-input additions/subtractions it holds.
        adder_bits: the result widths of its additions of two signals, summed.
        constant_add_bits: the result widths of its additions of a constant (a bias, a rounding
            increment), summed.
        select_bits: the widths of its comparisons-and-selections between signals (max, magnitude), summed.
        saturate_bits: the widths of its saturations (comparisons with constants), summed.
        products: ``(operand width, constant width)`` of each full multiplication.
    """

    def __init__(self, prefix: str = "w"):
        self.prefix = prefix
        self.lines: List[str] = []
        self.multipliers = 0
        self.adders = 0
        self.adder_bits = 0
        self.constant_add_bits = 0
        self.select_bits = 0
        self.saturate_bits = 0
        self._products: set = set()
        self.products: List[Tuple[int, int]] = []
        self._built: Dict[str, Signal] = {}

    # -- wires ---------------------------------------------------------------------------
    def input_signal(self, name: str, lo: int, hi: int) -> Signal:
        """A value the module receives (a port slice); declared by the caller."""
        return Signal(name, int(lo), int(hi))

    def constant(self, value: int) -> Signal:
        """A constant as a signal (no wire: its literal is used where it is read)."""
        return Signal(literal(value), int(value), int(value))

    def wire(self, expression: str, lo: int, hi: int) -> Signal:
        """A new wire ``= expression`` holding ``[lo, hi]`` (the same expression gives the same wire)."""
        if expression in self._built:
            return self._built[expression]
        if lo == hi:
            return self.constant(lo)
        signal = Signal(f"{self.prefix}{len(self._built)}", int(lo), int(hi))
        self._built[expression] = signal
        self.lines.append(f"wire signed [{signal.width - 1}:0] {signal.name} = {expression};")
        return signal

    def extend(self, a: Signal, width: int) -> Signal:
        """``a`` on a wire at least ``width`` bits wide (sign-extended), so bit selects stay in range."""
        if a.width >= width:
            return a
        signal = Signal(f"{self.prefix}{len(self._built)}", a.lo, a.hi)
        self._built[f"extend {a.name} {width}"] = signal
        self.lines.append(f"wire signed [{width - 1}:0] {signal.name} = {a.name};")
        return _Wide(signal.name, signal.lo, signal.hi, width)

    def _operation(self, expression: str, lo: int, hi: int, kind: str, operands: Tuple[int, int] = (0, 0)) -> Signal:
        """A wire holding the result of an addition (``kind="add"``; ``"constant"``: of a constant), a full
        multiplication (``"mul"``, with its operand widths; ``"post"``: a constant added to one), a
        comparison-and-selection (``"select"``) or a saturation (``"saturate"``),
        counted once however often it is asked for."""
        known = expression in self._built
        signal = self.wire(expression, lo, hi)
        if not (known or signal.constant):
            if kind in ("add", "constant"):
                self.adders += 1
                self.adder_bits += signal.width if kind == "add" else 0
                self.constant_add_bits += signal.width if kind == "constant" else 0
            elif kind == "mul":
                self.multipliers += 1
                self.products.append(operands)
                self._products.add(signal.name)
            elif kind == "post":
                self.adders += 1
            elif kind == "saturate":
                self.saturate_bits += signal.width
            else:
                self.select_bits += signal.width
        return signal

    # -- arithmetic ----------------------------------------------------------------------
    def shift_left(self, a: Signal, shift: int) -> Signal:
        """``a * 2**shift`` (a wire, no logic)."""
        if shift == 0 or a.constant:
            return a if shift == 0 else self.constant(a.lo << shift)
        return self.wire(f"{a.name} <<< {shift}", a.lo << shift, a.hi << shift)

    def shift_left_by(self, a: Signal, shift: Signal) -> Signal:
        """``a * 2**shift`` for a non-negative signal ``shift`` (a barrel shifter)."""
        if shift.constant:
            return self.shift_left(a, shift.lo)
        bounds = [a.lo << shift.lo, a.lo << shift.hi, a.hi << shift.lo, a.hi << shift.hi]
        return self._operation(f"{a.name} <<< {shift.name}", min(bounds), max(bounds), "select")

    def negate(self, a: Signal) -> Signal:
        """``-a``."""
        if a.constant:
            return self.constant(-a.lo)
        return self._operation(f"-{a.name}", -a.hi, -a.lo, "add")

    def add(self, a: Signal, b: Signal, subtract: bool = False) -> Signal:
        """``a + b`` (or ``a - b``); a constant zero operand costs nothing."""
        if b.constant and b.lo == 0:
            return a
        if a.constant and a.lo == 0:
            return self.negate(b) if subtract else b
        if a.constant and b.constant:
            return self.constant(a.lo - b.lo if subtract else a.lo + b.lo)
        lo, hi = (a.lo - b.hi, a.hi - b.lo) if subtract else (a.lo + b.lo, a.hi + b.hi)
        first, second = (a, b) if subtract or a.name <= b.name else (b, a)
        kind = "add"
        if a.constant or b.constant:  # a constant after a full multiplication goes into its DSP's post-adder
            kind = "post" if (b if a.constant else a).name in self._products else "constant"
        return self._operation(f"{first.name} {'-' if subtract else '+'} {second.name}", lo, hi, kind)

    def sum(self, terms: Sequence[Signal]) -> Signal:
        """A balanced adder tree over ``terms`` (0 when empty)."""
        level = [t for t in terms if not (t.constant and t.lo == 0)]
        if not level:
            return self.constant(0)
        while len(level) > 1:
            level = [self.add(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                     for i in range(0, len(level), 2)]
        return level[0]

    def constant_product(self, a: Signal, value: int) -> Signal:
        """``a * value`` as shift-adds of the constant's signed digits (:func:`csd_digits`).

        Each partial sum is kept as ``(c, s)`` with ``s == |c| * a`` (the sign of ``c`` says how it
        enters the next sum), so every wire's interval is exact (``|c|`` times ``a``'s), not the
        looser sum of its operands' intervals; one negation at most, at the end.
        """
        value = int(value)
        if value == 0 or a.constant:
            return self.constant(a.lo * value)
        level = [(sign << shift, self.shift_left(a, shift)) for sign, shift in csd_digits(value)]
        while len(level) > 1:
            merged = []
            for i in range(0, len(level), 2):
                if i + 1 == len(level):
                    merged.append(level[i])
                    continue
                (c1, s1), (c2, s2) = level[i], level[i + 1]
                total = c1 + c2
                if (c1 > 0) == (c2 > 0):
                    merged.append((total, self._exact_add(s1, s2, False, a, abs(total))))
                    continue
                plus, minus = (s1, s2) if c1 > 0 else (s2, s1)
                first, second = (plus, minus) if total >= 0 else (minus, plus)
                merged.append((total, self._exact_add(first, second, True, a, abs(total))))
            level = merged
        coefficient, signal = level[0]
        return signal if coefficient > 0 else self.negate(signal)

    def _exact_add(self, a: Signal, b: Signal, subtract: bool, base: Signal, coefficient: int) -> Signal:
        """``a ± b`` known to equal ``coefficient * base`` (its interval is exact)."""
        bounds = (base.lo * coefficient, base.hi * coefficient)
        return self._operation(f"{a.name} {'-' if subtract else '+'} {b.name}", min(bounds), max(bounds), "add")

    def multiply(self, a: Signal, value: int) -> Signal:
        """``a * value`` as one full multiplication (``*``); 0, 1 and -1 need none."""
        value = int(value)
        if value in (0, 1) or a.constant:
            return self.constant(a.lo * value) if value == 0 or a.constant else a
        if value == -1:
            return self.negate(a)
        bounds = (a.lo * value, a.hi * value)
        return self._operation(f"{a.name} * {literal(value)}", min(bounds), max(bounds), "mul",
                               (a.width, signed_width(value, value)))

    def product(self, a: Signal, b: Signal) -> Signal:
        """``a * b`` of two signals as one full multiplication (a constant operand: :meth:`multiply`)."""
        if b.constant:
            return self.multiply(a, b.lo)
        if a.constant:
            return self.multiply(b, a.lo)
        corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        first, second = sorted((a, b), key=lambda s: s.name)
        return self._operation(f"{first.name} * {second.name}", min(corners), max(corners), "mul",
                               (first.width, second.width))

    def choose(self, index: Signal, options: Sequence[Signal]) -> Signal:
        """``options[index]`` for a stored index in ``0..len-1``: a binary tree of selections on the index's
        bits (a multiplexer tree; an index past the end reads the last option)."""
        if len(set(options)) == 1:
            return options[0]
        bits = (len(options) - 1).bit_length()
        level = list(options) + [options[-1]] * ((1 << bits) - len(options))
        for bit in range(bits):
            level = [level[i] if level[i] == level[i + 1]
                     else self.select(f"{index.name}[{bit}]", level[i + 1], level[i])
                     for i in range(0, len(level), 2)]
        return level[0]

    def select(self, condition: str, a: Signal, b: Signal) -> Signal:
        """``condition ? a : b``."""
        return self._operation(f"({condition}) ? {a.name} : {b.name}", min(a.lo, b.lo), max(a.hi, b.hi), "select")

    def clip(self, a: Signal, lo: int, hi: int) -> Signal:
        """``a`` saturated to ``[lo, hi]`` (comparators only where the interval can leave it)."""
        if a.lo < lo:
            low = self.constant(lo)
            a = self._operation(f"({a.name} < {low.name}) ? {low.name} : {a.name}", lo, max(a.hi, lo), "saturate")
        if a.hi > hi:
            high = self.constant(hi)
            a = self._operation(f"({a.name} > {high.name}) ? {high.name} : {a.name}", min(a.lo, hi), hi, "saturate")
        return a

    def maximum(self, terms: Sequence[Signal]) -> Signal:
        """The largest of ``terms``: a balanced tree of comparators."""
        return self._extreme(terms, ">", max)

    def minimum(self, terms: Sequence[Signal]) -> Signal:
        """The smallest of ``terms``: a balanced tree of comparators."""
        return self._extreme(terms, "<", min)

    def _extreme(self, terms: Sequence[Signal], comparison: str, pick: Callable[[int, int], int]) -> Signal:
        """A balanced tree of ``(a comparison b) ? a : b`` selections over ``terms``."""
        level = list(terms)
        while len(level) > 1:
            level = [self._operation(f"({level[i].name} {comparison} {level[i + 1].name}) ? {level[i].name} : "
                                     f"{level[i + 1].name}", pick(level[i].lo, level[i + 1].lo),
                                     pick(level[i].hi, level[i + 1].hi), "select")
                     if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        return level[0]

    def relu(self, a: Signal) -> Signal:
        """``max(a, 0)``."""
        return self.clip(a, 0, max(a.hi, 0))

    def round_shift(self, a: Signal, shift: int) -> Signal:
        """``a * 2**-shift`` rounded half to even (``shift > 0``; ``<= 0`` is an exact left shift)."""
        if shift <= 0:
            return self.shift_left(a, -shift)
        if a.constant:
            from ..datapath.arith import round_shift
            import numpy as np

            return self.constant(int(round_shift(np.array([a.lo]), shift)[0]))
        a = self.extend(a, shift + 1)
        floor = self.wire(f"{a.name} >>> {shift}", a.lo >> shift, a.hi >> shift)
        floor_odd = f"1'b{floor.lo & 1}" if floor.constant else f"{floor.name}[0]"  # sized: it sits in a concatenation
        low_bits = f" | (|{a.name}[{shift - 2}:0])" if shift > 1 else ""
        up = f"{a.name}[{shift - 1}] & ({floor_odd}{low_bits})"
        return self._operation(f"{floor.name} + $signed({{1'b0, {up}}})", floor.lo, floor.hi + 1, "constant")

    def divide_round(self, a: Signal, divisor: int) -> Signal:
        """``a / divisor`` rounded to nearest (odd ``divisor``: no ties), by one reciprocal multiplication.

        ``|a| + (D-1)/2`` times ``m``, shifted right by ``s`` (:func:`keras_wc.datapath.arith.reciprocal`,
        exact over the interval), the sign restored: the HLS's ``div_round_odd``.
        """
        from ..datapath.arith import reciprocal

        if divisor == 1:
            return a
        half = (divisor - 1) // 2
        bound = max(abs(a.lo), abs(a.hi))
        magnitude = self._operation(f"({a.name} < 0) ? -{a.name} : {a.name}", 0, bound, "select") if a.lo < 0 else a
        biased = self.add(magnitude, self.constant(half))
        m, s = reciprocal(divisor, (bound + half).bit_length())
        product = self.multiply(biased, m)
        quotient = self.wire(f"{product.name} >>> {s}", 0, (bound + half) // divisor)
        if a.lo >= 0:
            return quotient
        return self.select(f"{a.name} < 0", self.negate(quotient), quotient)
