"""The :class:`Method` protocol: everything keras_wc knows about one compression method.

A method object owns, for the encodings its quantizer makes:

* the **integer facts** that size the datapath (:meth:`Method.frac`, :meth:`Method.denominator`,
  :meth:`Method.gains`), read from the encoding alone (``Encoding.params`` carries every
  per-layer integer, so no consumer reads the quantizer's constructor settings);
* the **emulator kernel** (:meth:`Method.kernel`): integer numpy arithmetic;
* the **cost rule** (:meth:`Method.cost`): what one output position stores and computes;
* the **HLS pieces**: its C++ header and ``Core`` struct, the weight arguments in the core's
  order (:meth:`Method.arguments`) and its config-struct members (:meth:`Method.config_lines`);
* the **training controls** it exposes to callbacks (:attr:`Method.controls`) and its
  quantization step for weighted QR (:meth:`Method.quantization_step`).

Every consumer (datapath, emulator, report, HLS templates, regularizers) asks the registry
(:mod:`keras_wc.methods.registry`) for the method of an encoding or quantizer; no consumer
branches on method names. ``docs/extending.md`` walks through adding one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, List, Optional, Tuple, Type

import numpy as np

from ..quantizers.base import Encoding

#: ``(G, g)``: per output ``|A| <= G * max|x|``; every partial (group) sum ``<= g * max|x|``
Gains = Tuple[np.ndarray, int]
#: ``(A, P)``: accumulator ``(rows, n_out)`` and the partial sums formed on the way
KernelResult = Tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Cost:
    """What one kernel costs per output position, and what it stores.

    Attributes:
        full_mults: full multiplications per output position.
        shift_adds: shift-add operations per output position.
        parameters: stored parameters (codes + scales, or coefficients for PolyApprox).
        kernel_bits: stored bits of the kernel (codes + scales + coefficients, no table).

    Example:
        >>> Cost(full_mults=1, shift_adds=3, parameters=4, kernel_bits=28).full_mults
        1
    """

    full_mults: int
    shift_adds: int
    parameters: int
    kernel_bits: int


@dataclass(frozen=True)
class Argument:
    """One weight argument of a method's C++ core, in the core's argument order.

    Attributes:
        name: the array's name (``codes``, ``maw``, ...); the C++ variable is ``sq_<name>``.
        values: its integers (written flat in C order, or as a 2-D table when ``local``).
        local: the config typedef of a small constant table emitted as a ``static const``
            local of the layer's call (e.g. the ternary pattern ROM ``table_t``); ``None``
            for an ordinary hls4ml weight variable.
        bits: the stored width of a local table's entries (its typedef's); ``None`` for a
            weight variable, stored in the narrowest integer type holding its values.

    Example:
        >>> Argument("codes", np.array([1, -1])).local is None
        True
    """

    name: str
    values: np.ndarray
    local: Optional[str] = None
    bits: Optional[int] = None


@dataclass(frozen=True)
class ScaledSums:
    """A kernel as constant sums: ``A[o] = sum_t scale[o, t] * sum_j weight[o, t, j] * x[o, j]``.

    ``x[o, j]`` is the grouped fan-in flattened (``(n_out, padded_fan_in)``, zero at padding):
    the inner sums are the method's code-level products (shift-adds when the weights are
    constants), the scales its full multiplications. This is the structure the RTL generator
    (:mod:`keras_wc.rtl`) builds; :meth:`Method.scaled_sums` must reproduce :meth:`Method.kernel`
    exactly (every method is tested for it).

    Attributes:
        weights: ``(n_out, terms, padded_fan_in)`` integers (object: Python ints).
        scales: ``(n_out, terms)`` integers, or ``None`` when no term is scaled (per-weight methods).

    Example:
        >>> sums = ScaledSums(wide([[[1, -1]]]), None)
        >>> sums.evaluate(np.array([[[3, 1]]])).tolist()
        [[2]]
    """

    weights: np.ndarray
    scales: Optional[np.ndarray]

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """``A`` for grouped flat inputs ``x`` ``(rows, n_out, padded_fan_in)``, as Python ints."""
        sums = (wide(x)[:, :, None, :] * self.weights[None]).sum(axis=-1)
        return (sums if self.scales is None else sums * self.scales[None]).sum(axis=-1)


def group_terms(values: np.ndarray) -> np.ndarray:
    """Per-group term weights ``(n_out, n_groups, terms, group_size)`` placed over the flat fan-in.

    Returns:
        ``(n_out, n_groups * terms, n_groups * group_size)`` object ints, each term zero outside
        its group's span.

    Example:
        >>> group_terms(np.array([[[[1, 2]], [[3, 4]]]]))[0].tolist()
        [[1, 2, 0, 0], [0, 0, 3, 4]]
    """
    n_out, n_groups, terms, size = values.shape
    out = wide(np.zeros((n_out, n_groups, terms, n_groups * size), np.int64))
    for g in range(n_groups):
        out[:, g, :, g * size:(g + 1) * size] = wide(values[:, g])
    return out.reshape(n_out, n_groups * terms, n_groups * size)


def wide(values) -> np.ndarray:
    """``values`` as an object array of Python ints (bounds never overflow).

    Example:
        >>> wide([2**40, 3]).dtype
        dtype('O')
    """
    return np.vectorize(int, otypes=[object])(np.asarray(values))


def per_output(value, n_out: int) -> np.ndarray:
    """A scalar, ``(1,)`` or ``(n_out,)`` integer parameter as ``(n_out,)`` int64.

    Example:
        >>> per_output(3, 2).tolist()
        [3, 3]
    """
    return np.broadcast_to(np.asarray(value, dtype=np.int64).reshape(-1), (n_out,)).copy()


def like(values, data: np.ndarray) -> np.ndarray:
    """Integer parameters in the dtype of the data (``object`` when the data is wide)."""
    return wide(values) if data.dtype == object else np.asarray(values, np.int64)


def shift_sums(x: np.ndarray, sign: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``sum_i sign_i * (x_i << shift_i)`` over the last axis (sign 0 drops a term)."""
    return ((x << like(shift, x)) * like(sign, x)).sum(axis=-1)


def group_gain(multipliers: np.ndarray, scales) -> Gains:
    """Gains of ``A = sum_g scale_g * sum_i m_i x_i`` (per-weight multipliers, per-group scales)."""
    partial = wide(np.abs(multipliers).sum(axis=-1))
    total = (partial * wide(np.abs(scales))).sum(axis=-1)
    return total, int(partial.max(initial=0))


def per_weight_sum(x: np.ndarray, multipliers: np.ndarray) -> KernelResult:
    """``A = sum_i m_i x_i`` with no per-group scale: ``(A, per-group sums)``.

    Example:
        >>> per_weight_sum(np.ones((1, 1, 1, 2), np.int64), np.array([[[1, -1]]]))[0].tolist()
        [[0]]
    """
    partial = (x * like(multipliers, x)).sum(axis=-1)
    return partial.sum(axis=-1), partial


def shift_add_cost(encoding: Encoding) -> Cost:
    """One shift-add per non-zero code and no full multiplication (Po2, low-bit DFP, binary).

    Example:
        >>> shift_add_cost(Po2(bits=4).encode(np.ones((3, 2), np.float32))).shift_adds
        6
    """
    return Cost(full_mults=0, shift_adds=int(np.count_nonzero(encoding.arrays["codes"])),
                parameters=stored_values(encoding), kernel_bits=encoding.memory_bits)


def stored_values(encoding: Encoding) -> int:
    """Codes + scales: the number of values in ``encoding.storage``."""
    return int(sum(count for count, _ in encoding.storage.values()))


class Method:
    """Base class of a compression method (see the module docstring).

    Subclasses set the class attributes and implement the abstract methods; a method is
    made known with :func:`keras_wc.methods.register_method`.

    Attributes:
        name: the one name of the method (``Encoding.method``, reports, docs).
        quantizer: its quantizer class (``None`` for a method only QKeras quantizers reach).
        header: the C++ header defining :attr:`core` (copied into every project).
        core: the C++ ``Core`` struct, e.g. ``"sqnap::swc_core"``.
        controls: the training controls its quantizers expose to callbacks.
        frac_param: the ``Encoding.params`` entry holding the weights' fractional length(s),
            for methods whose :meth:`frac` is just that parameter.
        zero_preserving: whether a zero latent weight always encodes to a zero code, so
            magnitude masking (:class:`~keras_wc.callbacks.GradualPruning` without a pruning
            control) prunes it.
    """

    name: ClassVar[str] = ""
    quantizer: ClassVar[Optional[Type]] = None
    header: ClassVar[Optional[Path]] = None
    core: ClassVar[str] = ""
    controls: ClassVar[Tuple[str, ...]] = ()
    zero_preserving: ClassVar[bool] = False
    frac_param: ClassVar[str] = ""

    # -- integer facts -------------------------------------------------------------------
    def frac(self, encoding: Encoding) -> np.ndarray:
        """Per output ``(n_out,)``: the fractional length the weights add to the input's.

        By default ``Encoding.params[frac_param]`` (one per layer, or one per output).
        """
        if not self.frac_param:
            raise NotImplementedError(f"method {self.name!r}: set frac_param or override frac()")
        return per_output(encoding.params[self.frac_param], encoding.layout.n_out)

    def denominator(self, encoding: Encoding) -> int:
        """The odd constant ``D`` the accumulator is divided by (1: none)."""
        return 1

    def gains(self, encoding: Encoding) -> Gains:
        """``(G, g)``: bounds of the accumulator and of the partial sums per ``max|x|``."""
        raise NotImplementedError

    def weight_integers(self, encoding: Encoding) -> np.ndarray:
        """Per weight (grouped layout), the integer it multiplies its input by, on the grid :meth:`frac`.

        Defined by the per-weight methods that QKeras kernels are encoded to (DFP, Po2): an hls4ml
        Dense/Conv of a QKeras layer then gets these exact values as its weights.

        Raises:
            NotImplementedError: a method whose weights are not one integer each (SWC, poly, ternary).
        """
        raise NotImplementedError(f"method {self.name!r} has no per-weight integers")

    def scaled_sums(self, encoding: Encoding) -> ScaledSums:
        """The kernel as constant-weighted sums and constant scales (:class:`ScaledSums`).

        By default one unscaled sum of :meth:`weight_integers` (the per-weight methods); methods
        with per-group or per-output scales (SWC, poly, ternary) override it.
        """
        weights = wide(self.weight_integers(encoding))
        n_out = weights.shape[0]
        return ScaledSums(weights.reshape(n_out, 1, -1), None)

    @property
    def has_scaled_sums(self) -> bool:
        """Whether the method defines :meth:`scaled_sums` (itself or through :meth:`weight_integers`).

        A method registered from outside that defines neither has no gate-level form: the RTL
        generator refuses its layers by name and :func:`keras_wc.hls.resources` gives no gate estimate.
        """
        cls = type(self)
        return cls.scaled_sums is not Method.scaled_sums or cls.weight_integers is not Method.weight_integers

    # -- emulator ------------------------------------------------------------------------
    def kernel(self, x: np.ndarray, encoding: Encoding) -> KernelResult:
        """``(A, P)`` from grouped inputs ``x`` ``(rows, n_out, n_groups, group_size)``."""
        raise NotImplementedError

    # -- cost ----------------------------------------------------------------------------
    def cost(self, encoding: Encoding) -> Cost:
        """What one output position computes and what the kernel stores."""
        raise NotImplementedError

    def processor_multipliers(self, encoding: Encoding) -> Tuple[int, int]:
        """Full multipliers of the Resource architecture (the SQNAP processor), per round.

        Structural: a processing element reads its codes from ROM, so every group's multiplier
        exists whatever one output's codes are (:meth:`cost` counts the live ones of the constant
        Latency datapath). By default the cost's full multiplications spread over the outputs.

        Returns:
            ``(per_output, shared)``: multipliers per output of a round, and per round shared by
            its outputs (per-layer coefficients applied to input-only sums).

        Example:
            >>> method_of(encoding).processor_multipliers(encoding)   # SWC fixed, 50 groups
            (51, 0)
        """
        return -(-self.cost(encoding).full_mults // encoding.layout.n_out), 0

    def table_bits(self, encoding: Encoding) -> int:
        """Bits of a per-layer code table ROM (reported apart from the kernel), 0 without one."""
        return 0

    # -- HLS -----------------------------------------------------------------------------
    def arguments(self, encoding: Encoding) -> List[Argument]:
        """The core's weight arguments in order (before the shared ``align`` and ``bias``)."""
        raise NotImplementedError

    def config_lines(self, encoding: Encoding, type_of: Callable[[str], str]) -> List[str]:
        """Method members of the layer's config struct.

        Args:
            encoding: the layer's encoding.
            type_of: the C++ type name of a weight argument by name (``type_of("codes")``).
        """
        return [f"typedef {type_of('codes')} code_t;"]

    # -- training ------------------------------------------------------------------------
    def quantization_step(self, quantizer, quantized):
        """The layer's quantization step at full scale (weighted QR, ``weighting="step"``).

        ``max|Q(w)| / (2**(bits-1) - 1)``, with ``bits`` read from the quantizer's ``"bits"``
        control when it has one (precision scaling then needs no retrace).
        """
        from ..regularizers import bits_step

        return bits_step(quantizer, quantized)

    def __repr__(self) -> str:
        return f"<method {self.name}>"
