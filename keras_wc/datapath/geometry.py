"""Where each weight's input sits: the receptive-field geometry of Dense and conv layers.

Every compressed layer reads *patches*: for each output position, the flat vector of its
receptive field in ``(ky, kx, c)`` order (``(ky*KW + kx)*C + c``); for Dense the patch is
the input vector itself. :meth:`Geometry.patch_index` maps each ``(output unit, padded
fan-in position)`` of the encoding to a patch element (-1 = padding), via
``FanInLayout.fan_in_index()``: a kernel's flat index divided by its last dimension is the
patch element, for Dense, Conv1D, Conv2D and depthwise kernels alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from ..quantizers.layout import FanInLayout


@dataclass(frozen=True)
class Geometry:
    """Receptive fields of one layer on one sample (batch axis excluded).

    Attributes:
        kind: ``"dense"``, ``"conv1d"``, ``"conv2d"`` or ``"depthwise2d"``.
        input_shape: per-sample input shape as Keras has it.
        output_shape: per-sample output shape.
        kernel_size: ``(KH, KW)`` (``(1, 1)`` for Dense; ``(1, K)`` for Conv1D).
        strides: ``(SH, SW)``.
        pad: zero rows/columns added before the input ``(top, left)`` (Keras ``"same"``:
            half of the total, the extra one after).

    Example:
        >>> g = Geometry.conv("conv2d", (8, 8, 1), (5, 5), (1, 1), "same", 6)
        >>> g.output_shape, g.pad, g.patch_size
        ((8, 8, 6), (2, 2), 25)
    """

    kind: str
    input_shape: Tuple[int, ...]
    output_shape: Tuple[int, ...]
    kernel_size: Tuple[int, int] = (1, 1)
    strides: Tuple[int, int] = (1, 1)
    pad: Tuple[int, int] = (0, 0)

    @classmethod
    def dense(cls, n_in: int, n_out: int) -> "Geometry":
        """Geometry of a Dense layer on a flat input of ``n_in``."""
        return cls("dense", (int(n_in),), (int(n_out),))

    @classmethod
    def conv(cls, kind: str, input_shape, kernel_size, strides, padding: str, channels_out: int) -> "Geometry":
        """Geometry of a 1-D/2-D (depthwise) convolution.

        Args:
            kind: ``"conv1d"``, ``"conv2d"`` or ``"depthwise2d"``.
            input_shape: ``(L, C)`` or ``(H, W, C)``.
            kernel_size, strides: per spatial axis (one entry for Conv1D).
            padding: ``"valid"`` or ``"same"``.
            channels_out: output channels.
        """
        spatial_in = tuple(int(d) for d in input_shape[:-1])
        kernel, stride = tuple(int(k) for k in kernel_size), tuple(int(s) for s in strides)
        if padding == "same":
            spatial_out = tuple(-(-n // s) for n, s in zip(spatial_in, stride))
            totals = [max((o - 1) * s + k - n, 0) for o, s, k, n in zip(spatial_out, stride, kernel, spatial_in)]
            before = tuple(t // 2 for t in totals)
        else:
            spatial_out = tuple((n - k) // s + 1 for n, k, s in zip(spatial_in, kernel, stride))
            before = (0,) * len(spatial_in)
        if len(spatial_in) == 1:  # Conv1D is a 1 x L convolution
            kernel, stride, before = (1,) + kernel, (1,) + stride, (0,) + before
        return cls(kind, tuple(int(d) for d in input_shape), spatial_out + (int(channels_out),),
                   kernel, stride, before)

    @property
    def channels_in(self) -> int:
        return self.input_shape[-1]

    @property
    def in_hw(self) -> Tuple[int, int]:
        """Input ``(H, W)`` (``(1, L)`` for Conv1D, ``(1, 1)`` for Dense)."""
        spatial = self.input_shape[:-1]
        return (1,) * (2 - len(spatial)) + tuple(spatial)

    @property
    def out_hw(self) -> Tuple[int, int]:
        spatial = self.output_shape[:-1]
        return (1,) * (2 - len(spatial)) + tuple(spatial)

    @property
    def patch_size(self) -> int:
        """Elements of one receptive field: ``KH*KW*C``."""
        return self.kernel_size[0] * self.kernel_size[1] * self.channels_in

    def real_pixel_counts(self) -> np.ndarray:
        """``(OH*OW,)`` number of input pixels (not padding) inside each output's window, raster order.

        Example:
            >>> Geometry.conv("pool", (3, 3, 1), (3, 3), (1, 1), "same", 1).real_pixel_counts().tolist()
            [4, 6, 4, 6, 9, 6, 4, 6, 4]
        """
        per_axis = []
        for n, k, s, before, out in zip(self.in_hw, self.kernel_size, self.strides, self.pad, self.out_hw):
            starts = np.arange(out) * s - before
            per_axis.append(np.minimum(starts + k, n) - np.maximum(starts, 0))
        return np.outer(per_axis[0], per_axis[1]).reshape(-1).astype(np.int64)

    def patch_index(self, layout: FanInLayout) -> np.ndarray:
        """``(n_out, padded_fan_in)`` int64: the patch element each weight multiplies (-1 = pad)."""
        index = layout.fan_in_index()
        return np.where(index < 0, -1, index // layout.shape[-1]).astype(np.int64)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "input_shape": list(self.input_shape), "output_shape": list(self.output_shape),
                "kernel_size": list(self.kernel_size), "strides": list(self.strides), "pad": list(self.pad)}
