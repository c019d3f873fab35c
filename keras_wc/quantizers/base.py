"""Machinery shared by every keras_wc quantizer: STE, encoding record, codec plumbing.

A method module (``swc.py``, ``poly.py``, ...) only writes its own math:

* ``_encode_grouped(grouped, layout)`` — TensorFlow: latent float weights arranged as
  ``(n_out, n_groups, group_size)`` -> a dict of integer tensors and per-layer integers;
* ``_decode_grouped(arrays, params, layout, ops)`` — written once against
  :class:`~keras_wc.quantizers.ops.ArrayOps`: integers -> float32 grouped weights;
* ``_storage(layout)`` — ``{name: (count, bits)}``: the exact bits stored per kernel.

This base class turns those into the QKeras quantizer protocol: ``__call__`` (fake-quant
with a straight-through gradient), ``encode``/``decode`` (numpy, exact), ``memory_bits``,
config round trip and Keras registration. Because ``encode`` runs the very same TensorFlow
code as ``__call__`` and ``decode`` runs the very same decode function on numpy,
``decode(encode(w)) == quantizer(w)`` holds bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Dict, Mapping, Optional, Tuple

import numpy as np
import tensorflow as tf
from qkeras.quantizers import BaseQuantizer

from .controls import ControlMixin
from .fixedpoint import FixedPoint
from .layout import FanInLayout, GroupSpec
from .ops import NP, TF, ArrayOps


@dataclass(frozen=True)
class Encoding:
    """The integer representation of one kernel (what HLS and the emulator consume).

    Attributes:
        method: the name of the registered method (:mod:`keras_wc.methods`) that describes it.
        layout: the fan-in/group geometry (original shape, grouping).
        config: the quantizer's ``get_config()`` at encoding time.
        arrays: named integer arrays (explicit numpy int dtypes). Per-weight arrays have
            the grouped shape ``(n_out, n_groups, group_size)`` with zeros at padding.
        params: per-layer integers (fractional lengths, denominators, exponent offsets).
        formats: the fixed-point format of each scale-like array in ``arrays``.
        storage: ``{name: (count, bits)}`` — what is stored; ``memory_bits`` sums it.
        table: the code table (SparseTernary patterns) or ``None``.

    Example:
        >>> enc = SWC(group=4).encode(np.ones((8, 2), np.float32))
        >>> enc.memory_bits == SWC(group=4).memory_bits((8, 2))
        True
    """

    method: str
    layout: FanInLayout
    config: Dict[str, Any]
    arrays: Dict[str, np.ndarray]
    params: Dict[str, Any]
    formats: Dict[str, FixedPoint] = field(default_factory=dict)
    storage: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    table: Optional[np.ndarray] = None

    @property
    def memory_bits(self) -> int:
        """Exact stored bits of this kernel (codes + scales + coefficients)."""
        return int(sum(count * bits for count, bits in self.storage.values()))

    @property
    def shape(self) -> Tuple[int, ...]:
        return self.layout.shape

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-friendly summary (arrays as nested lists)."""
        return {
            "method": self.method, "layout": self.layout.to_dict(), "config": dict(self.config),
            "arrays": {k: v.tolist() for k, v in self.arrays.items()},
            "params": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.params.items()},
            "formats": {k: f.to_dict() for k, f in self.formats.items()},
            "storage": {k: list(v) for k, v in self.storage.items()},
            "table": None if self.table is None else self.table.tolist(),
            "memory_bits": self.memory_bits,
        }


def straight_through(latent: tf.Tensor, quantize: Callable[[tf.Tensor], tf.Tensor]) -> tf.Tensor:
    """Return ``quantize(latent)`` exactly, with an identity gradient to ``latent``.

    Unlike ``w + stop_gradient(q - w)`` this keeps the forward value bit-exact.
    """

    @tf.custom_gradient
    def _ste(w):
        return quantize(w), lambda upstream: upstream

    return _ste(latent)


def require_int(name: str, value: Any, low: int, high: Optional[int] = None) -> int:
    """Validate an integer constructor argument, naming it and its range on error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}={value!r}: expected an int")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name}={value!r}: allowed range is {allowed}")
    return int(value)


def require_choice(name: str, value: Any, choices: Tuple[Any, ...]) -> Any:
    """Validate a categorical constructor argument."""
    if value not in choices:
        raise ValueError(f"{name}={value!r}: expected one of {list(choices)}")
    return value


class BitWidthControl(ControlMixin):
    """Makes ``bits`` a training control (an int32 ``tf.Variable``), validated on every change.

    A precision-scaling callback lowers ``bits`` between epochs without retracing the
    training step: the forward pass reads the variable; ``get_config``, ``memory_bits`` and
    ``__str__`` report the current value. Subclasses set :attr:`bits_range` and call
    :meth:`_init_bits` from ``__init__``.

    Example:
        >>> q = DFP(bits=8)
        >>> q.bits = 6; q.get_config()["bits"]
        6
    """

    #: inclusive range of ``bits`` accepted by the method
    bits_range: ClassVar[Tuple[int, int]] = (2, 8)

    def _init_bits(self, bits: int) -> None:
        self._add_control("bits", bits, self._check_bits, tf.int32)

    def _check_bits(self, value: Any) -> int:
        """``bits`` validated against :attr:`bits_range` (the check of the ``bits`` control)."""
        return require_int("bits", value, *self.bits_range)

    @property
    def bits(self) -> int:
        """Current bit-width of each stored code (sign included)."""
        return int(self.get_control("bits"))

    @bits.setter
    def bits(self, value: int) -> None:
        self.set_control("bits", value)


class CompressionQuantizer(BaseQuantizer):
    """Base class of the keras_wc kernel quantizers (see the module docstring).

    Args:
        kernel_layout: ``"auto"`` (last axis = output units) or ``"depthwise"``.
    """

    method: ClassVar[str] = ""
    #: groupings accepted by the method's ``group`` argument
    group_choices: ClassVar[Tuple[str, ...]] = ("filter",)

    def __init__(self, kernel_layout: str = "auto"):
        super().__init__()
        self.kernel_layout = require_choice("kernel_layout", kernel_layout, ("auto", "depthwise"))

    # -- to be provided by each method --------------------------------------------
    @property
    def group_spec(self) -> GroupSpec:
        """How this quantizer groups a fan-in (``group`` argument or method default)."""
        raise NotImplementedError

    def _encode_grouped(self, grouped: tf.Tensor, layout: FanInLayout) -> Tuple[Dict[str, tf.Tensor], Dict[str, Any]]:
        raise NotImplementedError

    def _decode_grouped(self, arrays: Mapping[str, Any], params: Mapping[str, Any], layout: FanInLayout,
                        ops: ArrayOps) -> Any:
        raise NotImplementedError

    def _storage(self, layout: FanInLayout) -> Dict[str, Tuple[int, int]]:
        raise NotImplementedError

    def _formats(self, params: Mapping[str, Any]) -> Dict[str, FixedPoint]:
        return {}

    def _table(self) -> Optional[np.ndarray]:
        return None

    # -- shared protocol ------------------------------------------------------------
    def layout_for(self, shape) -> FanInLayout:
        """The :class:`FanInLayout` this quantizer uses for a kernel of ``shape``."""
        return FanInLayout(tuple(int(d) for d in shape), self.group_spec, self.kernel_layout)

    def _fake_quant(self, w: tf.Tensor) -> tf.Tensor:
        layout = self.layout_for(w.shape)
        arrays, params = self._encode_grouped(layout.to_groups(w, TF), layout)
        return layout.from_groups(self._decode_grouped(arrays, params, layout, TF), TF)

    def __call__(self, w):
        """Fake-quantize ``w`` (float32, same shape) with a straight-through gradient."""
        w = tf.convert_to_tensor(w, tf.float32)
        return straight_through(w, self._fake_quant)

    def encode(self, w) -> Encoding:
        """Integer representation of kernel ``w`` (numpy array or tensor).

        Raises:
            ValueError: if ``w`` holds NaN or Inf.
        """
        values = np.asarray(w.numpy() if hasattr(w, "numpy") else w, dtype=np.float32)
        if not np.all(np.isfinite(values)):
            bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
            raise ValueError(f"{self.__class__.__name__}.encode: the kernel of shape {values.shape} "
                             f"holds {bad} NaN/Inf value(s); cannot encode")
        layout = self.layout_for(values.shape)
        arrays, params = self._encode_grouped(layout.to_groups(tf.constant(values), TF), layout)
        arrays = {k: np.asarray(v.numpy()) for k, v in arrays.items()}
        arrays = {k: v.astype(_smallest_int_dtype(v)) for k, v in arrays.items()}
        params = {k: (np.asarray(v.numpy()) if hasattr(v, "numpy") else v) for k, v in params.items()}
        params = {k: (int(v) if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in params.items()}
        return Encoding(method=self.method, layout=layout, config=self.get_config(), arrays=arrays,
                        params=params, formats=self._formats(params), storage=self._storage(layout),
                        table=self._table())

    def decode(self, encoding: Encoding) -> np.ndarray:
        """Float32 weights rebuilt from ``encoding`` with numpy only."""
        grouped = self._decode_grouped(encoding.arrays, encoding.params, encoding.layout, NP)
        return np.asarray(encoding.layout.from_groups(grouped, NP), dtype=np.float32)

    def memory_bits(self, shape) -> int:
        """Exact bits stored for a kernel of ``shape`` (codes, scales, coefficients)."""
        return int(sum(c * b for c, b in self._storage(self.layout_for(shape)).values()))

    # -- QKeras / Keras niceties -----------------------------------------------------
    def get_config(self) -> Dict[str, Any]:
        return {"kernel_layout": self.kernel_layout}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "CompressionQuantizer":
        return cls(**config)

    def _trackable_children(self, save_type="checkpoint", **kwargs):
        """Trackable children; checkpoints leave the control variables out.

        ``get_config`` carries each control's current value. A reloaded QKeras layer
        rebuilds a ``bias_quantizer`` from that config under another attribute, so
        checkpointed controls could not be matched and SavedModel loading would fail. The
        SavedModel object graph keeps them (the traced functions capture them).
        """
        children = super()._trackable_children(save_type, **kwargs)
        if save_type == "checkpoint":
            children.pop("_controls", None)
        return children

    def __str__(self) -> str:
        args = ",".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "kernel_layout")
        return f"{self.__class__.__name__}({args})"

    __repr__ = __str__

    # Equality stays identity (tf.Module's default): two layers with equal settings own two
    # quantizers whose training controls move independently; compare ``get_config()`` instead.


def _smallest_int_dtype(values: np.ndarray) -> np.dtype:
    """The narrowest numpy integer dtype that holds ``values`` exactly."""
    if values.size == 0:
        return np.dtype(np.int8)
    low, high = int(values.min()), int(values.max())
    for dtype in (np.int8, np.int16, np.int32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return np.dtype(dtype)
    raise OverflowError(f"integer codes out of int64 range [{low}, {high}]")
