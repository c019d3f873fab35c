"""The one input rule of ``convert(x_test=...)``, ``emulate``, ``compare`` and the testbench data.

* A model whose first layer is a QActivation (``input_format=None``) takes any finite float
  input: the model quantizes it itself.
* With a declared ``input_format`` every value must lie on the format's grid and in its
  range. Otherwise the call is refused with one line saying how many values are off the
  grid or out of range, and for which format, unless ``quantize_inputs=True``. Then the
  values are rounded half to even and saturated onto the format, as the design's
  ``AP_RND_CONV``/``AP_SAT`` input type does.
* NaN and infinite values are always refused, and so is a sample shape other than the
  model's.

Example:
    >>> specs = describe_model(model, "ufixed<8,0>")
    >>> input_values(specs, np.float32([[0.5, 0.25]]))              # on the grid: integers
    array([[128,  64]])
    >>> input_values(specs, np.float32([[0.3, 1.5]]), quantize_inputs=True)
    array([[ 77, 255]])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..datapath.formats import ActivationQuant, format_text
from ..datapath.specs import LayerSpec
from ..quantizers.fixedpoint import FixedPoint


def check_input_format(input_format: Any) -> None:
    """Refuse an ``input_format`` that is neither ``None``, a format string nor a ``FixedPoint``.

    Raises:
        TypeError: naming ``input_format`` and what is allowed (a malformed string is refused
            by :func:`keras_wc.datapath.formats.parse_format` with a ValueError).

    Example:
        >>> check_input_format("ufixed<8,0>"); check_input_format(None)
    """
    if input_format is not None and not isinstance(input_format, (str, FixedPoint)):
        raise TypeError(f"input_format={input_format!r}: expected None, a string such as 'ufixed<8,0>' or "
                        "'fixed<8,3>', or a keras_wc FixedPoint")


def check_shape(spec: LayerSpec, x: Any, name: str = "input") -> np.ndarray:
    """``x`` as an array of samples of the model's input shape.

    Args:
        spec: the datapath's input spec.
        x: a batch ``(n, *input_shape)``.
        name: what errors call ``x``.

    Returns:
        ``np.asarray(x)``.

    Raises:
        ValueError: another sample shape, or values that are not numbers.
    """
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numbers, got an array of dtype {array.dtype}")
    if array.ndim == 0 or array.shape[1:] != tuple(spec.output_shape):
        raise ValueError(f"{name}: expected samples of shape {tuple(spec.output_shape)}, got "
                         f"{array.shape[1:] if array.ndim else 'a scalar'} (batch shape {array.shape})")
    return array


def _check_finite(array: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(np.asarray(array, np.float64))
    if bad.any():
        raise ValueError(f"{name}: {int(bad.sum())} of {bad.size} values are NaN or infinite")


def _on_grid(fmt: FixedPoint, array: np.ndarray, name: str) -> np.ndarray:
    """The integers of ``array`` on ``fmt``; ValueError for values off its grid or range."""
    scaled = np.asarray(array, np.float64) * 2.0 ** fmt.frac
    ints = np.round(scaled)
    off = np.abs(scaled - ints)
    out_of_range = (ints < fmt.min_int) | (ints > fmt.max_int)
    bad = (off > 0) | out_of_range
    if np.any(bad):
        raise ValueError(
            f"{name}: {int(bad.sum())} of {bad.size} values are not on the declared grid {format_text(fmt)} "
            f"(steps of 2**{-fmt.frac}, integers [{fmt.min_int}, {fmt.max_int}]): max distance "
            f"{float(off.max()):.4g} steps, {int(out_of_range.sum())} out of range; quantize the inputs first, "
            "pass quantize_inputs=True (--quantize-inputs) or declare another input_format")
    return ints.astype(np.int64)


def input_values(specs: Sequence[LayerSpec], x: Any, quantize_inputs: bool = False,
                 name: str = "input") -> np.ndarray:
    """What the datapath's input layer holds for ``x``, by the module's rule.

    Args:
        specs: the datapath (:func:`keras_wc.datapath.describe_model`), input spec first.
        x: the batch.
        quantize_inputs: round and saturate values off the declared grid instead of refusing them.
        name: what errors call ``x`` (``"x_test"`` for ``convert``).

    Returns:
        float32 ``x`` (float input: the first QActivation quantizes it), or the int64
        integers on the declared format.

    Raises:
        ValueError: wrong sample shape, NaN/infinite values, or (without ``quantize_inputs``)
            values off the declared grid or range, counted, with the format.

    Example:
        >>> input_values(describe_model(model, "ufixed<8,0>"), x_test[:10], quantize_inputs=True).dtype
        dtype('int64')
    """
    first = specs[0]
    array = check_shape(first, x, name)
    _check_finite(array, name)
    if first.output_format is None:
        return array.astype(np.float32)
    if quantize_inputs:
        return ActivationQuant.from_format(first.output_format).quantize_float(array)
    return _on_grid(first.output_format, array, name)


def input_quantizer(specs: Sequence[LayerSpec]) -> ActivationQuant:
    """The quantizer that puts the model's input on its grid: the declared format's, or the first QActivation's.

    Raises:
        ValueError: float input that no QActivation quantizes first.
    """
    first = specs[0]
    if first.output_format is not None:
        return ActivationQuant.from_format(first.output_format)
    for spec in specs[1:]:
        if first.name in spec.inputs and spec.kind == "quantize":
            return spec.quant
    raise ValueError(f"input {first.name!r}: no input_format given and the first layer is not a QActivation; "
                     "pass input_format='ufixed<8,0>' (or another fixed<W,I>)")


def grid_values(specs: Sequence[LayerSpec], x: Any, quantize_inputs: bool = False,
                name: str = "input") -> np.ndarray:
    """``x`` as float64 values on the design's input grid (what ``tb_data/`` and ``predict`` receive).

    With a declared format this is :func:`input_values` scaled back; a float input is rounded
    by the first QActivation, as the model itself does.

    Args:
        specs: the datapath, input spec first.
        x: the batch.
        quantize_inputs: as for :func:`input_values`.
        name: what errors call ``x``.

    Returns:
        float64 values, exactly representable in the design's input type.

    Raises:
        ValueError: as :func:`input_values`, or float input without a first QActivation.

    Example:
        >>> grid_values(describe_model(model, "ufixed<8,0>"), np.float32([[0.5, 0.25]]))
        array([[0.5 , 0.25]])
    """
    values = input_values(specs, x, quantize_inputs, name)
    quant = input_quantizer(specs)
    integers = quant.quantize_float(values) if specs[0].output_format is None else values
    return integers.astype(np.float64) * 2.0 ** -quant.fmt.frac
