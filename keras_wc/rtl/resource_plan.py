"""What a Dense layer's Resource module stores and when it closes each scaled sum (numpy only).

The Resource architecture (:mod:`.resource`) reads the inputs a few per clock (``lanes``) and the
weights from a ROM, one row per clock. This module plans that ROM from the method's
:class:`~keras_wc.methods.base.ScaledSums` (``A[o] = Σ_t scale[o,t] · Σ_p weight[o,t,p] · x[p]``):

* **Slots.** Each scaled term covers a run of clocks (an SWC group of 8 inputs read one per clock
  covers 8); terms whose runs do not overlap share a *slot* — one running sum per output, closed
  (multiplied by the term's scale and added to the accumulator) on the term's last clock. SWC and
  PolyApprox get one slot per live term of a group, SparseTernary one per output-wide term (the
  pattern sum, the mean's); unscaled (per-weight) methods none: their products go straight into
  the accumulator.
* **Codebook.** What one weight position contributes to the slots is a vector of integers; the
  distinct vectors of the layer form a codebook. When it holds at most :data:`MAX_INDEXED_CODES`
  vectors the ROM stores each position's index into it (SWC's codes, DFP's and Po2's 4-bit
  integers, PolyApprox's bucket indices, the ternary entries: ``ceil(log2(size))`` bits per
  weight), and the products of each input lane by every codebook value are built once, shared by
  all outputs, each output selecting its own. A larger codebook (an 8-bit baseline) stores the
  integers themselves, multiplied by the lane (``*``).
* **Scales.** The scales of the terms that close on a clock are one row of a second, small table,
  read in order of the closing clocks.

Example:
    >>> plan = plan_resource(swc_dense_spec, n_in=64, reuse_factor=64)   # one input per clock
    >>> plan.lanes, plan.clocks, plan.slots, plan.field_bits
    (1, 64, 1, [4])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..datapath.specs import CompressedSpec
from ..methods import method_of
from .netlist import signed_width

#: the largest codebook stored as indices: a 16-way selection per weight costs about what a small
#: LUT multiplier does (this project's choice); a larger one (8-bit weights) stores the integers
#: and multiplies them (``*``, a DSP slice as in hls4ml's ``dense_resource``)
MAX_INDEXED_CODES = 16


@dataclass(frozen=True)
class ResourcePlan:
    """The ROM contents and the schedule of one Resource layer.

    Attributes:
        lanes: inputs read per clock.
        clocks: clocks of the loop (``ceil(n_in / lanes)``; the last one padded with zero weights).
        entries: ``(clocks, n_out, lanes, E)`` what each position adds to each slot (one entry per
            slot, or one unscaled entry).
        codebook: ``(K, E)`` the distinct entry vectors.
        codes: ``(clocks, n_out, lanes)`` each position's index into ``codebook``.
        closes: ``(clocks, slots)`` whether a slot's term ends on that clock (empty when unscaled).
        scales: ``(closing clocks, n_out, slots)`` the closing terms' scales, 0 for a slot that does
            not close; ``None`` when the method's terms are unscaled.
        terms: scaled terms per output (each closes once); 0 when unscaled.
    """

    lanes: int
    clocks: int
    entries: np.ndarray
    codebook: np.ndarray
    codes: np.ndarray
    closes: np.ndarray
    scales: Optional[np.ndarray]
    terms: int

    @property
    def slots(self) -> int:
        """Running sums per output (0: the products go straight into the accumulator)."""
        return int(self.closes.shape[1])

    @property
    def drain_scales(self) -> bool:
        """Whether every term closes on one clock: the running sums are scaled once per output, after the
        loop (SparseTernary's deltas, a per-filter PolyApprox's coefficients), not in it."""
        return self.scales is not None and len(self.scales) == 1

    @property
    def loop_scales(self) -> bool:
        """Whether terms close during the loop (SWC's groups): close flags in the ROM, a scale table."""
        return self.scales is not None and len(self.scales) > 1

    @property
    def close_together(self) -> bool:
        """Whether all slots close on the same clocks (one enable for the accumulator)."""
        return bool(self.slots) and bool((self.closes == self.closes[:, :1]).all())

    @property
    def indexed(self) -> bool:
        """Whether the ROM stores codebook indices (a small codebook: products selected from the
        lane's shared constant products) rather than the entries themselves (multiplied, ``*``)."""
        return len(self.codebook) <= MAX_INDEXED_CODES

    @property
    def field_bits(self) -> List[int]:
        """Bits of each stored field of one position: ``[index bits]``, or each entry's two's-complement width."""
        if self.indexed:
            return [(len(self.codebook) - 1).bit_length()]
        return [signed_width(int(self.codebook[:, e].min()), int(self.codebook[:, e].max()))
                for e in range(self.codebook.shape[1])]

    @property
    def row_layout(self) -> Dict[tuple, Tuple[int, int]]:
        """Where each field sits in a ROM row, ``key -> (lowest bit, width)``, the first in the lowest bits:
        ``("field", o, i, e)`` per output, lane and stored field (``e`` 0 for an index), then
        ``("close", s)`` per slot when terms close in the loop. The one definition of the row, for the
        ROM's contents and for the wires that read it.

        Example:
            >>> plan.row_layout[("field", 1, 0, 0)], plan.row_layout[("close", 0)]   # 5 outputs, 1 lane, 4 bits
            ((4, 4), (20, 1))
        """
        keys = [(("field", o, i, e), width) for o in range(self.codes.shape[1]) for i in range(self.lanes)
                for e, width in enumerate(self.field_bits)]
        keys += [(("close", s), 1) for s in range(self.slots)] if self.loop_scales else []
        starts = np.cumsum([0] + [width for _, width in keys])
        return {key: (int(start), width) for (key, width), start in zip(keys, starts)}

    @property
    def row_bits(self) -> int:
        """Bits of one ROM row: every output's fields for the clock's lanes, then the close flags."""
        return self.codes.shape[1] * self.lanes * sum(self.field_bits) + (self.slots if self.loop_scales else 0)

    def scale_width(self) -> int:
        """Two's-complement width of the widest stored scale (0 without scales)."""
        if self.scales is None or self.scales.size == 0:
            return 0
        return signed_width(int(self.scales.min()), int(self.scales.max()))

    @property
    def rom_bits(self) -> int:
        """Bits of the code ROM and of the loop's scale table (scales applied after the loop are
        per-output constants: :class:`keras_wc.rtl.resource.ConstantTable`)."""
        return self.clocks * self.row_bits + (self.scales.size * self.scale_width() if self.loop_scales else 0)


def clocks_per_sample(n_in: int, reuse_factor: Optional[int], layer: str = "") -> Tuple[int, int]:
    """``(lanes, clocks)`` for a fan-in and a reuse factor (``None``: one input per clock).

    Raises:
        ValueError: a reuse factor outside ``1..n_in`` (the message names ``layer``).

    Example:
        >>> clocks_per_sample(400, 50)
        (8, 50)
    """
    reuse = n_in if reuse_factor is None else int(reuse_factor)
    if not 1 <= reuse <= n_in:
        where = f"layer {layer!r}: " if layer else ""
        raise ValueError(f"{where}reuse_factor={reuse_factor!r}: a Resource layer of {n_in} inputs takes "
                         f"1..{n_in} clocks per sample")
    lanes = -(-n_in // reuse)
    return lanes, -(-n_in // lanes)


def weights_by_input(spec: CompressedSpec, weights: np.ndarray, n_in: int) -> np.ndarray:
    """``(n_out, terms, n_in)``: the grouped weights summed onto the input each one reads (``patch_index``)."""
    index = np.asarray(spec.patch_index)
    n_out, terms, _ = weights.shape
    by_input = np.zeros((n_out, terms, n_in), dtype=object)
    for o in range(n_out):
        for j in np.nonzero(index[o] >= 0)[0]:
            by_input[o, :, int(index[o, j])] += weights[o, :, j]
    return by_input


def assign_slots(runs: List[Tuple[int, int, int]]) -> List[int]:
    """Slots for terms ``(first clock, last clock, term)``: the lowest slot free before a run starts.

    Example:
        >>> assign_slots([(0, 7, 0), (8, 15, 1), (0, 15, 2)])
        [0, 0, 1]
    """
    ends: List[int] = []
    slots = [0] * len(runs)
    for k in sorted(range(len(runs)), key=lambda k: runs[k]):
        first, last, _ = runs[k]
        free = next((s for s, end in enumerate(ends) if end < first), len(ends))
        if free == len(ends):
            ends.append(last)
        ends[free] = last
        slots[k] = free
    return slots


def plan_resource(spec: CompressedSpec, n_in: int, reuse_factor: Optional[int] = None) -> ResourcePlan:
    """Plan a Dense layer's Resource module (see the module docstring).

    Args:
        spec: the layer's description (a keras_wc method or QKeras ``quantized_bits`` kernel).
        n_in: the layer's fan-in (values per sample).
        reuse_factor: clocks per sample (inputs read ``ceil(n_in / reuse_factor)`` at a time);
            ``None``: one input per clock.

    Returns:
        The :class:`ResourcePlan`.
    """
    lanes, clocks = clocks_per_sample(n_in, reuse_factor, spec.name)
    sums = method_of(spec.encoding).scaled_sums(spec.encoding)
    weights = weights_by_input(spec, sums.weights, n_in)
    n_out = weights.shape[0]
    padded = np.zeros((n_out, weights.shape[1], clocks * lanes), dtype=object)
    padded[:, :, :n_in] = weights
    by_clock = padded.reshape(n_out, -1, clocks, lanes)                      # (n_out, terms, clocks, lanes)
    if sums.scales is None:
        entries = by_clock.sum(axis=1)[..., None]                             # one unscaled entry
        return _with_codebook(lanes, clocks, entries, np.zeros((clocks, 0), bool), None, 0)
    scales = np.asarray(sums.scales, dtype=object)
    live = [(t, np.nonzero(((by_clock[:, t] != 0).any(axis=2) & (scales[:, t, None] != 0)).any(axis=0))[0])
            for t in range(by_clock.shape[1])]
    runs = [(int(active[0]), int(active[-1]), t) for t, active in live if active.size]
    slot_of = assign_slots(runs)
    n_slots = max(slot_of, default=-1) + 1
    entries = np.zeros((n_out, clocks, lanes, n_slots), dtype=object)
    closes = np.zeros((clocks, n_slots), bool)
    closing_scales = {}
    for (first, last, t), slot in zip(runs, slot_of):
        entries[:, first:last + 1, :, slot] = by_clock[:, t, first:last + 1, :]
        closes[last, slot] = True
        closing_scales.setdefault(last, np.zeros((n_out, n_slots), dtype=object))[:, slot] = scales[:, t]
    table = np.stack([closing_scales[c] for c in sorted(closing_scales)]) if closing_scales else \
        np.zeros((0, n_out, n_slots), dtype=object)
    return _with_codebook(lanes, clocks, entries, closes, table, len(runs))


def _with_codebook(lanes: int, clocks: int, entries: np.ndarray, closes: np.ndarray, scales: Optional[np.ndarray],
                   terms: int) -> ResourcePlan:
    """The plan with ``entries`` ``(n_out, clocks, lanes, E)`` stored as indices into their distinct vectors."""
    n_out, _, _, width = entries.shape
    vectors = [tuple(int(v) for v in row) for row in entries.reshape(-1, width)]
    codebook = sorted(set(vectors))
    position = {vector: k for k, vector in enumerate(codebook)}
    codes = np.array([position[v] for v in vectors], dtype=np.int64).reshape(n_out, clocks, lanes)
    book = np.array(codebook, dtype=object).reshape(len(codebook), width)
    return ResourcePlan(lanes, clocks, entries.transpose(1, 0, 2, 3), book, codes.transpose(1, 0, 2), closes, scales,
                        terms)
