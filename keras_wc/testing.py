"""Helpers for users' own HLS validation tests (pytest), and the divergence locator.

``assert_csim_bit_exact(model, x, **convert_kwargs)`` converts into a temporary project,
runs C simulation and raises an ``AssertionError`` naming the first diverging layer and
sample. The fixture ``hls_project_dir`` gives a fresh temporary project folder; use it with
``from keras_wc.testing import hls_project_dir`` in a test module or ``conftest.py``
(or ``pytest_plugins = ["keras_wc.testing"]``).

**The locator** (:func:`first_divergence`) compares every layer's integers in the compiled
library with the emulator's, in datapath order, and names the first layer that differs. It
does not use ``ModelGraph.trace`` (which rewrites the project, traces float32 when given
float32, skips layers without a C++ call and fails on io_stream ``Clone`` layers): it writes
the project with a trace point after every layer of the conversion's datapath
(:func:`write_traced_project`), builds the library from the files as they are
(:func:`compile_project`) and runs it on float64 inputs (:func:`trace_project`), so an edited
project (an injected fault, a hand-patched kernel) is located as it stands:

* hls4ml layers with a call (SQNAP layers, hls4ml's Dense/Conv of QKeras kernels, QActivations,
  pooling, padding, BatchNormalization, merges) are traced after their call;
* layers without one — the input, an io_parallel ``Reshape``/``Flatten`` (a C++ reference to
  its input's array) — get a trace point at their place in the graph;
* a layer hls4ml leaves out of its graph (a first QActivation whose format became the input
  type, a QActivation repeating its input's type) is compared at its input's trace point when
  that point's C++ type is the layer's format; other layers without a trace point are listed
  in :attr:`Divergence.untraced`;
* a BatchNormalization folded into the keras_wc layer before it is that layer's spec: it is
  reported under the layer's name;
* values are compared as integers on each layer's grid (``value * 2**frac``), exactly for
  formats up to 53 bits (float64 traces); wider formats to within float64's rounding;
* names are the Keras model's: the input that :func:`keras_wc.hls.convert.hls_safe_model`
  renamed is reported under its original name. io_parallel and io_stream are both traced.

Example:
    >>> from keras_wc.testing import assert_csim_bit_exact
    >>> assert_csim_bit_exact(model, x_test[:200], input_format="ufixed<8,0>")
"""

from __future__ import annotations

import ctypes
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

try:
    import pytest
except ImportError:  # pragma: no cover - pytest is a test extra
    pytest = None

#: the C++ "call" written for a layer without code of its own, so that hls4ml's writer puts its
#: trace point at its place in the graph
_NO_CODE = "// keras_wc trace point of a layer without code of its own"
#: layers of this hls4ml class are never trace points (several outputs, no datapath spec)
_UNTRACEABLE_CLASSES = ("Clone",)


@dataclass(frozen=True)
class Divergence:
    """Where the compiled HLS library first differs from the emulator (:func:`first_divergence`).

    Attributes:
        layer: the Keras name of the first layer whose integers differ, ``"<output>"`` when
            every traced layer agrees but the library's outputs do not, ``None`` when all agree.
        sample: the index (in ``x``) of the first sample that differs (``None`` when all agree).
        values: how many of that layer's output values differ on that sample.
        size: how many values the layer outputs per sample.
        max_lsb: the largest difference, in that layer's output LSBs (``2**-frac``).
        traced: the layers compared, in datapath order (Keras names).
        untraced: layers of the datapath with no trace point (not compared).
    """

    layer: Optional[str]
    sample: Optional[int]
    values: int
    size: int
    max_lsb: float
    traced: Tuple[str, ...]
    untraced: Tuple[str, ...]

    def __str__(self) -> str:
        if self.layer is None:
            return f"no divergence: {len(self.traced)} layers traced, all bit-exact with the emulator"
        return (f"layer {self.layer!r}, sample {self.sample}: {self.values} of {self.size} values differ "
                f"from the emulator (up to {self.max_lsb:.6g} LSB)")


def _datapath(hls_model: Any) -> Dict[str, Any]:
    from keras_wc.hls.passes import datapath_of, is_stock

    if is_stock(hls_model):
        raise ValueError("the model was converted in stock mode (hls4ml's own arithmetic): there is no keras_wc "
                         "datapath to compare with; convert it with keras_wc.hls.convert")
    return datapath_of(hls_model)


def _same_format(node: Any, fmt: Any) -> bool:
    """Whether the C++ type of ``node``'s output is the fixed-point format ``fmt``."""
    precision = node.get_output_variable().type.precision
    return (fmt is not None and getattr(precision, "width", None) == fmt.bits
            and getattr(precision, "integer", None) == fmt.bits - fmt.frac
            and bool(getattr(precision, "signed", None)) == fmt.signed)


def trace_points(hls_model: Any) -> Dict[str, str]:
    """Where each layer of the conversion's datapath can be observed in the generated C++.

    Args:
        hls_model: a ``ModelGraph`` of the SQNAP backend in datapath mode.

    Returns:
        ``{datapath layer name: hls4ml node name}``, in datapath order: the node whose output
        variable holds the layer's output (its own node, or for a layer hls4ml left out of
        its graph, its input's node when that node's C++ type is the layer's format).
        Layers missing from the dict cannot be observed.

    Raises:
        ValueError: a stock-mode conversion (no datapath).

    Example:
        >>> trace_points(hls_model)
        {'input_0': 'input_0', 'q0': 'input_0', 'conv': 'conv', 'flatten': 'flatten', 'logits': 'logits'}
    """
    nodes = {node.name: node for node in hls_model.get_layers() if node.class_name not in _UNTRACEABLE_CLASSES}
    points: Dict[str, str] = {}
    for name, spec in _datapath(hls_model).items():
        if name in nodes:
            points[name] = name
        elif len(spec.inputs) == 1 and spec.inputs[0] in points and \
                _same_format(nodes[points[spec.inputs[0]]], spec.output_format):
            points[name] = points[spec.inputs[0]]
    return points


def write_traced_project(hls_model: Any) -> Path:
    """Write the project of ``hls_model`` with a trace point after every layer of its datapath.

    The files are rewritten in place (the trace points are ``#ifndef __SYNTHESIS__`` code, as
    hls4ml writes them); nothing is compiled, so the C++ may be edited before
    :func:`compile_project`. The model itself is left as it was (trace flags off), so a later
    ``hls_model.compile()`` writes the project without trace points again.

    Args:
        hls_model: a ``ModelGraph`` of the SQNAP backend in datapath mode.

    Returns:
        The project folder.

    Raises:
        ValueError: a stock-mode conversion (no datapath).

    Example:
        >>> project = write_traced_project(hls_model)   # then edit project / "firmware" / "myproject.cpp"
        >>> compile_project(hls_model); print(first_divergence(hls_model, x, rebuild=False))
    """
    points = set(trace_points(hls_model).values())
    config = hls_model.config
    saved = []
    try:
        for node in hls_model.get_layers():
            saved.append((node, node.get_attr("trace", False), node.attributes.get("function_cpp")))
            node.set_attr("trace", node.name in points)
            if node.name in points and not node.get_attr("function_cpp"):
                node.set_attr("function_cpp", _NO_CODE)
        trace_output, config.trace_output = config.trace_output, True
        try:
            hls_model.write()
        finally:
            config.trace_output = trace_output
    finally:
        for node, trace, function in saved:
            node.set_attr("trace", trace)
            if function is None:
                node.attributes.pop("function_cpp", None)
            else:
                node.set_attr("function_cpp", function)
    return Path(config.get_output_dir())


def compile_project(hls_model: Any) -> None:
    """Build the project's library from its files as they are (no rewriting) and load it.

    ``ModelGraph.compile()`` writes the project before building it; this only builds
    (the backend's ``build_lib.sh``) and loads the library, so edits to the written C++ or
    weight files are kept.

    Args:
        hls_model: the ``ModelGraph`` whose project folder holds the files.

    Raises:
        keras_wc.hls.backend.CompileError: g++ missing or failing.

    Example:
        >>> write_traced_project(hls_model); compile_project(hls_model)
    """
    hls_model._compile()  # hls4ml's build-and-load step of ModelGraph.compile(), without write()


class _TraceData(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p)]


def trace_project(hls_model: Any, x: np.ndarray) -> Tuple[List[np.ndarray], Dict[str, np.ndarray]]:
    """Run the loaded library on ``x`` and collect every trace point, in float64.

    Args:
        hls_model: a compiled ``ModelGraph`` (its library loaded: :func:`compile_project` or
            ``compile()``); only the trace points written into it are collected.
        x: the batch, values as the design's input receives them (on the input grid).

    Returns:
        ``(outputs, traces)``: one ``(n, n_out)`` float64 array per model output, and
        ``{hls4ml node name: (n, *shape) float64 array}``.

    Raises:
        ValueError: the library is not loaded, or ``x`` does not hold whole samples.

    Example:
        >>> outputs, traces = trace_project(hls_model, xq)
        >>> sorted(traces)
        ['conv', 'input_0', 'logits']
    """
    library = hls_model._top_function_lib
    if library is None:
        raise ValueError("the model's library is not loaded: call compile_project(hls_model) or hls_model.compile()")
    x = np.ascontiguousarray(x, dtype=np.float64)
    inputs, outputs = hls_model.get_input_variables(), hls_model.get_output_variables()
    n_in = int(inputs[0].size())
    if len(inputs) != 1 or x.ndim == 0 or x.size % n_in or x.shape[0] * n_in != x.size:
        raise ValueError(f"x: expected a batch of samples of {n_in} values, got shape {x.shape}")
    top = getattr(library, f"{hls_model.config.get_project_name()}_double")
    top.restype = None
    top.argtypes = [np.ctypeslib.ndpointer(ctypes.c_double, flags="C_CONTIGUOUS")] * (1 + len(outputs))
    shapes = {node.name: tuple(node.get_output_variable().shape) for node in hls_model.get_layers()}
    entries = (_TraceData * (len(shapes) + 1))()
    library.collect_trace_output.argtypes = [ctypes.POINTER(_TraceData)]
    library.allocate_trace_storage.argtypes = [ctypes.c_size_t]
    results: List[List[np.ndarray]] = [[] for _ in outputs]
    traces: Dict[str, List[np.ndarray]] = {}
    library.allocate_trace_storage(ctypes.sizeof(ctypes.c_double))
    try:
        for sample in x.reshape(len(x), n_in):
            predictions = [np.zeros(int(var.size()), np.float64) for var in outputs]
            top(np.ascontiguousarray(sample), *predictions)
            for result, prediction in zip(results, predictions):
                result.append(prediction)
            library.collect_trace_output(entries)
            for entry in entries:
                if entry.name is None:
                    continue
                name = entry.name.decode()
                size = int(np.prod(shapes[name]))
                data = ctypes.cast(entry.data, ctypes.POINTER(ctypes.c_double))
                traces.setdefault(name, []).append(np.ctypeslib.as_array(data, (size,)).reshape(shapes[name]).copy())
    finally:
        library.free_trace_storage()
    return [np.asarray(result) for result in results], {name: np.asarray(values) for name, values in traces.items()}


def _differences(fmt: Any, got: np.ndarray, want: np.ndarray) -> Tuple[int, float]:
    """``(count, largest difference in LSBs)`` of traced values against the emulator's integers.

    Exact on the integer grid for formats up to 53 bits (a float64 trace holds them exactly);
    wider formats are allowed float64's rounding (``2**(bits - 52)`` LSBs).
    """
    got = np.ldexp(np.asarray(got, np.float64).reshape(-1), int(fmt.frac))
    want = np.asarray(want).reshape(-1).astype(np.float64)
    if got.size != want.size:
        return max(got.size, want.size), float("inf")
    diff = np.abs(got - want)
    bad = diff > (0.0 if fmt.bits <= 53 else 2.0 ** (fmt.bits - 52))
    return int(bad.sum()), float(diff[bad].max(initial=0.0))


def first_divergence(hls_model: Any, x: np.ndarray, sample: Optional[int] = None,
                     quantize_inputs: Optional[bool] = None, rebuild: bool = True) -> Divergence:
    """The first layer (in datapath order) whose integers in the compiled library differ from the emulator's.

    Args:
        hls_model: a ``ModelGraph`` of :func:`keras_wc.hls.convert` (or of hls4ml's entry point
            with ``backend="SQNAP"`` in datapath mode).
        x: the batch (the one input rule: on the declared grid unless ``quantize_inputs``).
        sample: the sample to trace; ``None`` traces every sample and reports the first that differs.
        quantize_inputs: round and saturate ``x`` onto the declared input format; ``None``: as
            the conversion was given (``convert(..., quantize_inputs=...)``).
        rebuild: write the project with trace points and compile it first
            (:func:`write_traced_project`, :func:`compile_project`); ``False`` runs the library
            as it is loaded, e.g. after editing the traced project's C++ and :func:`compile_project`.

    Returns:
        A :class:`Divergence` (``layer`` is ``None`` when every traced layer and the output agree).

    Raises:
        ValueError: a stock-mode conversion, ``x`` refused by the input rule, a ``sample`` out of
            range, or (``rebuild=False``) a library without trace points.

    Example:
        >>> print(first_divergence(hls_model, x_test[:20]))
        no divergence: 7 layers traced, all bit-exact with the emulator
    """
    from keras_wc.emulate.inputs import grid_values
    from keras_wc.emulate.run import run
    from keras_wc.hls.backend import QUANTIZE_INPUTS_KEY
    from keras_wc.hls.convert import KERAS_NAMES_KEY

    specs = _datapath(hls_model)
    if quantize_inputs is None:
        quantize_inputs = bool(hls_model.config.get_config_value(QUANTIZE_INPUTS_KEY, False))
    values = grid_values(list(specs.values()), x, quantize_inputs, "x")
    if sample is not None:
        if not 0 <= sample < len(values):
            raise ValueError(f"sample={sample}: x holds {len(values)} samples")
        values = values[sample:sample + 1]
    if rebuild:
        write_traced_project(hls_model)
        compile_project(hls_model)
    outputs, traces = trace_project(hls_model, values)
    if not traces:
        raise ValueError("the loaded library has no trace points: write_traced_project(hls_model) and "
                         "compile_project(hls_model) first, or pass rebuild=True")
    emulation = run(list(specs.values()), values)
    names = hls_model.config.config.get(KERAS_NAMES_KEY, {})
    points = {name: node for name, node in trace_points(hls_model).items() if node in traces}
    compared = [name for name in specs if name in points and specs[name].output_format is not None]
    traced = tuple(names.get(name, name) for name in compared)
    untraced = tuple(names.get(name, name) for name in specs if name not in points)
    last = list(specs.values())[-1]
    for row in range(len(values)):
        for name in compared:
            spec = specs[name]
            count, largest = _differences(spec.output_format, traces[points[name]][row],
                                          emulation.integers[name][row])
            if count:
                return Divergence(names.get(name, name), row if sample is None else sample, count,
                                  int(np.prod(spec.output_shape)), largest, traced, untraced)
        count, largest = _differences(last.output_format, outputs[-1][row], emulation.integers[last.name][row])
        if count:
            return Divergence("<output>", row if sample is None else sample, count,
                              int(np.prod(last.output_shape)), largest, traced, untraced)
    return Divergence(None, None, 0, 0, 0.0, traced, untraced)


def assert_csim_bit_exact(model: Any, x: np.ndarray, keep: Optional[Path] = None, **convert_kwargs) -> Any:
    """Convert ``model``, C-simulate on ``x`` and require bit-exact agreement with the emulator.

    On a mismatch the locator (:func:`first_divergence`) rewrites the project with trace
    points, compiles it and names the first layer that differs on the first diverging sample.

    Args:
        model: the Keras model.
        x: test inputs (batch first; on the input grid, or pass ``quantize_inputs=True``).
        keep: a folder to write the project into (default: a temporary folder, removed).
        **convert_kwargs: passed to :func:`keras_wc.hls.convert` (``input_format``, ``flavor``...).

    Returns:
        The :class:`~keras_wc.hls.csim.CSimResult`.

    Raises:
        AssertionError: naming the first diverging sample and layer, and the counts.

    Example:
        >>> result = assert_csim_bit_exact(model, x_test[:200], input_format="ufixed<8,0>", quantize_inputs=True)
        >>> result.bit_exact == result.total
        True
    """
    from keras_wc.hls import convert, csim
    from keras_wc.hls.backend import CompileError

    workdir = Path(keep) if keep is not None else Path(tempfile.mkdtemp(prefix="sqnap_test_"))
    try:
        convert_kwargs.setdefault("overwrite", keep is not None)
        hls_model = convert(model, workdir / "prj", x_test=x, **convert_kwargs)
        result = csim(workdir / "prj")
        if result.bit_exact != result.total:
            sample = int(result.first_mismatch or 0)
            try:
                divergence = first_divergence(hls_model, x, sample)
                where = str(divergence) if divergence.layer is not None else (
                    "every traced layer of the compiled library agrees with the emulator on that sample")
            except (CompileError, OSError, ValueError) as error:
                where = f"the layer could not be located ({type(error).__name__}: {error})"
            raise AssertionError(f"C simulation is not bit-exact with the emulator: {result.bit_exact}/"
                                 f"{result.total} samples agree; first diverging sample {sample}; {where}")
        return result
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if pytest is not None:

    @pytest.fixture
    def hls_project_dir(tmp_path):
        """A fresh, not yet existing project folder under pytest's ``tmp_path``."""
        return tmp_path / "hls_prj"
