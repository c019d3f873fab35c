"""Receptive-field gathering (im2col) and the grouped fan-in view every kernel reads.

This is the shared machinery of all compressed layers: :func:`patches` cuts the input into
receptive fields in ``(ky, kx, c)`` order, and :func:`grouped_inputs` places each patch
element under the weight that multiplies it (``CompressedSpec.patch_index``), giving the
``(rows, n_out, n_groups, group_size)`` integer array that a method kernel reduces.
"""

from __future__ import annotations

from typing import Iterator, Tuple

import numpy as np

from ..datapath.geometry import Geometry

#: largest grouped view (elements) built at once; rows are processed in chunks below it
CHUNK_ELEMENTS = 1 << 22


def patches(x: np.ndarray, geometry: Geometry, fill: int = 0) -> np.ndarray:
    """Receptive fields of a batch.

    Args:
        x: integers ``(batch, *geometry.input_shape)``.
        geometry: the layer geometry.
        fill: value of padded positions (0 for convolutions; the lowest integer for max pooling).

    Returns:
        ``(batch, OH*OW, KH*KW*C)`` (``(batch, 1, n_in)`` for Dense).

    Example:
        >>> g = Geometry.conv("conv2d", (3, 3, 1), (2, 2), (1, 1), "valid", 1)
        >>> patches(np.arange(9).reshape(1, 3, 3, 1), g)[0, 0].tolist()
        [0, 1, 3, 4]
    """
    batch = x.shape[0]
    if geometry.kind == "dense":
        return x.reshape(batch, 1, -1)
    (height, width), channels = geometry.in_hw, geometry.channels_in
    (kh, kw), (sh, sw), (top, left) = geometry.kernel_size, geometry.strides, geometry.pad
    oh, ow = geometry.out_hw
    image = x.reshape(batch, height, width, channels)
    bottom = max((oh - 1) * sh + kh - height - top, 0)
    right = max((ow - 1) * sw + kw - width - left, 0)
    padded = np.pad(image, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    windows = [padded[:, ky:ky + (oh - 1) * sh + 1:sh, kx:kx + (ow - 1) * sw + 1:sw, :]
               for ky in range(kh) for kx in range(kw)]
    return np.stack(windows, axis=3).reshape(batch, oh * ow, kh * kw * channels)


def grouped_inputs(rows: np.ndarray, patch_index: np.ndarray, group_size: int) -> np.ndarray:
    """Place patch elements under their weights.

    Args:
        rows: ``(rows, patch_size)`` integer patches.
        patch_index: ``(n_out, padded_fan_in)`` element index per weight (-1 = padding -> 0).
        group_size: weights per group.

    Returns:
        ``(rows, n_out, n_groups, group_size)``.
    """
    extended = np.concatenate([rows, np.zeros_like(rows[:, :1])], axis=1)  # index -1 -> the zero
    gathered = extended[:, patch_index]
    return gathered.reshape(rows.shape[0], patch_index.shape[0], -1, group_size)


def row_chunks(count: int, per_row: int) -> Iterator[Tuple[int, int]]:
    """``(start, stop)`` row ranges whose grouped view stays below :data:`CHUNK_ELEMENTS`."""
    step = max(1, CHUNK_ELEMENTS // max(per_row, 1))
    for start in range(0, count, step):
        yield start, min(start + step, count)
