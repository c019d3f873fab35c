"""How a kernel is cut into fan-ins and groups (shared by every method).

Vocabulary (``docs/methods.md``): a *fan-in* is the set of weights feeding one
output unit; a *group* is a set of weights inside one fan-in sharing a scale or a code.

A :class:`FanInLayout` turns a kernel into a ``(n_out, n_groups, group_size)`` array
(zero-padded at the end of each fan-in) and back. Padding never leaves this module: the
``valid`` mask marks real weights, and :meth:`FanInLayout.from_groups` drops the padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple, Union

import numpy as np

from .ops import ArrayOps

GroupSpec = Union[str, int]
KERNEL_LAYOUTS = ("auto", "depthwise")


def check_group(group: GroupSpec, allowed: Tuple[str, ...], argument: str = "group") -> GroupSpec:
    """Validate a ``group`` constructor argument.

    Args:
        group: the value given by the user.
        allowed: the named groupings this method accepts.
        argument: the argument name used in the error message.

    Returns:
        ``group`` unchanged (an int is returned as a Python int).

    Raises:
        ValueError: when ``group`` is neither an allowed name nor a positive int.
    """
    if isinstance(group, (int, np.integer)) and not isinstance(group, bool):
        if group < 1:
            raise ValueError(f"{argument}={group!r}: an int group size must be >= 1")
        return int(group)
    if isinstance(group, str) and group in allowed:
        return group
    raise ValueError(f"{argument}={group!r}: expected one of {list(allowed)} or a positive int")


@dataclass(frozen=True)
class FanInLayout:
    """Fan-in/group geometry of one kernel.

    Args:
        shape: the kernel shape as Keras stores it.
        group: ``"kernel"``, ``"filter"``, ``"layer"`` or an int group size.
        kernel_layout: ``"auto"`` (the last axis indexes output units: Dense, Conv1D,
            Conv2D) or ``"depthwise"`` (``(kh, kw, c_in, mult)``: one fan-in of ``kh*kw``
            per ``(c_in, mult)``).

    Example:
        >>> lay = FanInLayout((5, 5, 6, 16), "kernel")
        >>> (lay.n_out, lay.fan_in, lay.group_size, lay.n_groups)
        (16, 150, 25, 6)
    """

    shape: Tuple[int, ...]
    group: GroupSpec
    kernel_layout: str = "auto"

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        if self.kernel_layout not in KERNEL_LAYOUTS:
            raise ValueError(f"kernel_layout={self.kernel_layout!r}: expected one of {list(KERNEL_LAYOUTS)}")
        if len(self.shape) < 1:
            raise ValueError(f"cannot group a scalar kernel (shape {self.shape})")
        if self.kernel_layout == "depthwise" and len(self.shape) != 4:
            raise ValueError(f"kernel_layout='depthwise' needs a 4-D kernel, got shape {self.shape}")
        if self.group == "kernel" and self.kernel_layout == "auto" and len(self.shape) < 3:
            raise ValueError(
                f"group='kernel' needs a convolution kernel (rank 3 or 4); got shape {self.shape}. "
                "Use group='filter' or an int group size for Dense kernels.")

    # -- geometry --------------------------------------------------------------------
    @property
    def n_out(self) -> int:
        """Number of output units (fan-ins)."""
        if self.kernel_layout == "depthwise":
            return self.shape[2] * self.shape[3]
        return self.shape[-1] if len(self.shape) > 1 else self.shape[0]

    @property
    def fan_in(self) -> int:
        """Number of weights feeding one output unit."""
        return int(np.prod(self.shape)) // self.n_out

    @property
    def spatial(self) -> int:
        """Kernel positions per input channel (``kh*kw``; 1 for Dense)."""
        if self.kernel_layout == "depthwise":
            return self.shape[0] * self.shape[1]
        return int(np.prod(self.shape[:-2])) if len(self.shape) >= 3 else 1

    @property
    def group_size(self) -> int:
        """Weights per group (the padded size for the last chunk of an int grouping)."""
        if self.group in ("filter", "layer"):
            return self.fan_in
        if self.group == "kernel":
            return self.spatial
        return min(int(self.group), self.fan_in)

    @property
    def n_groups(self) -> int:
        """Groups per fan-in."""
        return -(-self.fan_in // self.group_size)

    @property
    def padded_fan_in(self) -> int:
        return self.n_groups * self.group_size

    @property
    def grouped_shape(self) -> Tuple[int, int, int]:
        return (self.n_out, self.n_groups, self.group_size)

    def valid(self) -> np.ndarray:
        """``(n_groups, group_size)`` bool mask of real (non-padding) weights."""
        return (np.arange(self.padded_fan_in) < self.fan_in).reshape(self.n_groups, self.group_size)

    def group_sizes(self) -> np.ndarray:
        """Real weights in each group, shape ``(n_groups,)``."""
        return self.valid().sum(axis=1)

    # -- fan-in order ----------------------------------------------------------------
    def _fan_in_perm(self) -> Tuple[int, ...]:
        """Axis order that puts output units first and the fan-in in grouping order."""
        rank = len(self.shape)
        if self.kernel_layout == "depthwise":
            return (2, 3, 0, 1)
        if rank == 1:
            return (0,)
        if self.group == "kernel":  # (spatial..., c_in, c_out) -> (c_out, c_in, spatial...)
            return (rank - 1, rank - 2) + tuple(range(rank - 2))
        return (rank - 1,) + tuple(range(rank - 1))

    def fan_in_index(self) -> np.ndarray:
        """For each ``(n_out, padded_fan_in)`` position, the flat index into the kernel (-1 = pad).

        This is the map the emulator and the HLS writer use to place inputs.
        """
        flat = np.arange(int(np.prod(self.shape))).reshape(self.shape)
        matrix = np.transpose(flat, self._fan_in_perm()).reshape(self.n_out, self.fan_in)
        return np.pad(matrix, ((0, 0), (0, self.padded_fan_in - self.fan_in)), constant_values=-1)

    def to_groups(self, kernel: Any, ops: ArrayOps) -> Any:
        """Kernel -> ``(n_out, n_groups, group_size)``, zero-padded."""
        matrix = ops.reshape(ops.transpose(kernel, self._fan_in_perm()), (self.n_out, self.fan_in))
        if self.padded_fan_in != self.fan_in:
            matrix = ops.pad(matrix, ((0, 0), (0, self.padded_fan_in - self.fan_in)))
        return ops.reshape(matrix, self.grouped_shape)

    def from_groups(self, grouped: Any, ops: ArrayOps) -> Any:
        """Inverse of :meth:`to_groups` (padding dropped)."""
        matrix = ops.reshape(grouped, (self.n_out, self.padded_fan_in))[:, : self.fan_in]
        perm = self._fan_in_perm()
        permuted_shape = tuple(self.shape[a] for a in perm)
        inverse = tuple(int(i) for i in np.argsort(perm))
        return ops.transpose(ops.reshape(matrix, permuted_shape), inverse)

    def to_dict(self) -> dict:
        return {"shape": list(self.shape), "group": self.group, "kernel_layout": self.kernel_layout,
                "n_out": self.n_out, "fan_in": self.fan_in, "group_size": self.group_size,
                "n_groups": self.n_groups}
