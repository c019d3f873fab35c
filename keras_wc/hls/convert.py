"""``keras_wc.hls.convert``: a Keras/QKeras model -> an SQNAP hls4ml project (written, not compiled)."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from ..emulate.inputs import check_input_format, grid_values
from ..keras2 import check_keras2_model
from ..output_folder import check_output_dir, staged_output_dir
from .backend import BACKEND_NAME
from .settings import check_settings

PathLike = Union[str, Path]
#: files under ``tb_data/`` written by :func:`write_tb_data`
TB_INPUT = "tb_input_features.dat"
TB_EXPECTED = "tb_output_predictions.dat"
TB_KERAS = "keras_output.dat"
#: the FPGA part of a project unless ``part`` is given (hls4ml's default)
DEFAULT_PART = "xcvu13p-flga2577-2-e"


def check_supported_layers(model: Any) -> None:
    """Every layer must have an hls4ml Keras handler; else name the layer and its class.

    Raises:
        ValueError: for the first unsupported layer.
    """
    from hls4ml.converters.keras_v2_to_hls import layer_handlers

    for layer in model.layers:
        cls = type(layer).__name__
        if cls not in layer_handlers:
            raise ValueError(f"layer {layer.name!r} ({cls}) cannot be mapped by the SQNAP backend "
                             "(hls4ml has no handler for this class)")


#: layer names hls4ml's ``ModelGraph`` reserves for itself
RESERVED_NAMES = ("input",)
RENAMED_INPUT = "input_0"
#: key, in the config of a converted ``ModelGraph``, of ``{name in the hls4ml graph: Keras name}``
#: for the layers :func:`hls_safe_model` renamed (not written to ``hls4ml_config.yml``)
KERAS_NAMES_KEY = "_SQNAPKerasNames"


def hls_safe_model(model: Any) -> Any:
    """``model`` itself, or the same graph of the same layer objects ready for hls4ml.

    hls4ml refuses a layer named ``"input"``, the default of many Keras models, and has no
    handler for most inference identities. The returned functional model re-applies the
    original layers (weights and quantizer state shared, nothing copied) to a new input named
    :data:`RENAMED_INPUT`, without the layers that do nothing at inference
    (:data:`~keras_wc.datapath.describe.IDENTITY_CLASSES`) and without a final softmax (the
    design outputs logits, as the emulator does).

    Args:
        model: a functional or Sequential Keras 2 model.

    Returns:
        A model hls4ml accepts.

    Raises:
        ValueError: a reserved name on a layer that is not the model's input, or a layer
            used more than once (shared layers are not supported here).

    Example:
        >>> safe = hls_safe_model(model)
        >>> "input" in [layer.name for layer in safe.layers]
        False
    """
    import tensorflow as tf

    skipped = inference_only_layers(model)
    if all(layer.name not in RESERVED_NAMES for layer in model.layers) and not skipped:
        return model
    if isinstance(model, tf.keras.Sequential):
        tensor = x = tf.keras.Input(batch_shape=model.input_shape, dtype=model.layers[0].dtype, name=RENAMED_INPUT)
        for layer in model.layers:
            _check_name(layer)
            x = x if layer.name in skipped else layer(x)
        return tf.keras.Model(tensor, x, name=model.name)
    config = model.get_config()
    tensors = {}
    for entry in config["layers"]:
        layer = model.get_layer(entry["name"])
        if entry["class_name"] == "InputLayer":
            tensors[entry["name"]] = [tf.keras.Input(batch_shape=layer.get_config()["batch_input_shape"],
                                                     dtype=layer.dtype, name=RENAMED_INPUT
                                                     if layer.name in RESERVED_NAMES else layer.name)]
            continue
        _check_name(layer)
        nodes = entry["inbound_nodes"]
        if len(nodes) != 1:
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) is used {len(nodes)} times; "
                             "shared layers cannot be converted")
        inputs = [tensors[name][tensor_index] for name, _node, tensor_index, *_ in nodes[0]]
        if layer.name in skipped:
            tensors[entry["name"]] = inputs
            continue
        tensors[entry["name"]] = tf.nest.flatten(layer(inputs[0] if len(inputs) == 1 else inputs))
    inputs = [tensors[name][index] for name, _node, index in config["input_layers"]]
    outputs = [tensors[name][index] for name, _node, index in config["output_layers"]]
    return tf.keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
                          name=model.name)


def _check_name(layer) -> None:
    if layer.name in RESERVED_NAMES:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) uses a name hls4ml reserves; rename it")


def inference_only_layers(model: Any) -> set:
    """Names of the layers the HLS design leaves out: inference identities and a final softmax.

    Example:
        >>> sorted(inference_only_layers(model))
        ['dropout', 'softmax']
    """
    from keras_wc.datapath.describe import IDENTITY_CLASSES

    outputs = {tensor._keras_history.layer.name for tensor in model.outputs}
    names = set()
    for layer in model.layers:
        cls = type(layer).__name__
        softmax = cls == "Softmax" or (cls == "Activation" and getattr(layer.activation, "__name__", "") == "softmax")
        if cls in IDENTITY_CLASSES or (softmax and layer.name in outputs):
            names.add(layer.name)
    return names


def exact_text(value: float) -> str:
    """The exact decimal expansion of a binary float (``0.1`` -> ``0.1000000000000000055...``).

    Example:
        >>> exact_text(0.375), exact_text(-2.0)
        ('0.375', '-2')
    """
    return _decimal_text(Decimal(float(value)))


def fixed_text(integer: int, frac: int) -> str:
    """The exact decimal value of ``integer * 2**-frac`` (any width: no float rounding).

    Example:
        >>> fixed_text(3, 2), fixed_text(-(1 << 60) - 1, 60)
        ('0.75', '-1.000000000000000000867361737988403547205962240695953369140625')
    """
    integer, frac = int(integer), int(frac)
    if frac <= 0:
        return str(integer << -frac)
    with localcontext() as context:
        context.prec = len(str(abs(integer))) + frac + 2
        return _decimal_text(Decimal(integer) / Decimal(1 << frac))


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def write_rows(path: Path, rows: np.ndarray) -> None:
    """One sample per line, values as exact decimals separated by spaces."""
    rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    with open(path, "w") as handle:
        for row in rows:
            handle.write(" ".join(exact_text(v) for v in row) + "\n")


def quantized_inputs(model: Any, x: np.ndarray, input_format: Optional[str]) -> np.ndarray:
    """``x`` rounded and saturated onto a Keras model's input grid, as float64.

    What ``convert(model, ..., input_format=..., x_test=x, quantize_inputs=True)`` writes to
    ``tb_data/``; without ``quantize_inputs`` convert refuses ``x`` off the grid
    (:mod:`keras_wc.emulate.inputs`).

    Example:
        >>> xq = quantized_inputs(model, x, "ufixed<8,0>")
    """
    from keras_wc.datapath.describe import describe_model

    return grid_values(describe_model(model, input_format), x, quantize_inputs=True)


def grid_inputs(specs: Dict[str, Any], x: np.ndarray, quantize_inputs: bool = True) -> np.ndarray:
    """``x`` on the input grid of a conversion's datapath (``{layer name: spec}``), as float64.

    Args:
        specs: the datapath (:func:`keras_wc.hls.passes.datapath_of` of a converted model).
        x: the batch.
        quantize_inputs: round and saturate (default) or refuse values off the grid.

    Returns:
        :func:`keras_wc.emulate.inputs.grid_values` of ``x``.
    """
    return grid_values(list(specs.values()), x, quantize_inputs)


def write_emulated_rows(path: Path, specs: Dict[str, Any], x: np.ndarray) -> None:
    """The emulator's outputs for ``x`` (on the input grid), one sample per line, as exact decimals.

    Written from the output integers (:func:`fixed_text`), so outputs wider than a float64's
    53-bit significand are exact too.
    """
    from keras_wc.emulate.run import run

    emulation = run(list(specs.values()), x)
    last = emulation.specs[-1]
    rows = np.asarray(emulation.integers[last.name]).reshape(len(x), -1)
    frac = last.output_format.frac
    with open(path, "w") as handle:
        for row in rows:
            handle.write(" ".join(fixed_text(v, frac) for v in row) + "\n")


def write_tb_data(folder: Path, model: Any, x: np.ndarray, specs: Dict[str, Any]) -> Path:
    """Write ``tb_data/``: the inputs, the emulator's outputs and the Keras outputs.

    Args:
        folder: the project folder.
        model: the Keras model.
        x: test inputs already on the input grid (:func:`keras_wc.emulate.inputs.grid_values`).
        specs: the conversion's datapath (``{layer name: spec}``).

    Returns:
        The ``tb_data`` folder.
    """
    tb = Path(folder) / "tb_data"
    tb.mkdir(exist_ok=True)
    write_rows(tb / TB_INPUT, x)
    write_emulated_rows(tb / TB_EXPECTED, specs, x)
    keras_out = np.asarray(model.predict(x.astype(np.float32), verbose=0), np.float32)
    write_rows(tb / TB_KERAS, keras_out.astype(np.float64))
    return tb


@dataclass(frozen=True)
class Conversion:
    """A checked conversion, ready to be written into a folder (:func:`prepare_conversion`).

    Attributes:
        model: the Keras model (its outputs go to ``tb_data/keras_output.dat``).
        safe_model: the same graph with hls4ml's reserved names avoided (:func:`hls_safe_model`).
        specs: the one description of the model (``{layer name: spec}``).
        settings: ``convert_from_keras_model`` keyword arguments other than the model,
            ``output_dir``, ``hls_config`` and ``datapath``.
        hls_config: the hls4ml ``hls_config``.
        reuse_factor: the reuse factor (``sqnap_resources.json``).
        x_test: test inputs on the input grid, or ``None``.
    """

    model: Any
    safe_model: Any
    specs: Dict[str, Any]
    settings: Dict[str, Any]
    hls_config: Dict[str, Any]
    reuse_factor: int
    x_test: Optional[np.ndarray]

    def write(self, folder: Path) -> Any:
        """Write the whole project (hls4ml's files, ``sqnap_resources.json``, ``tb_data/``) into ``folder``.

        Args:
            folder: an empty folder (a staging folder: :func:`keras_wc.output_folder.staged_output_dir`).

        Returns:
            The hls4ml ``ModelGraph``, its ``OutputDir`` ``folder``.
        """
        import hls4ml

        from .resources import graph_architectures, write_resources
        from .synthesis_lint import lint

        hls_model = hls4ml.converters.convert_from_keras_model(
            self.safe_model, output_dir=str(folder), hls_config=copy.deepcopy(self.hls_config),
            datapath=self.specs, **self.settings)
        hls_model.config.config[KERAS_NAMES_KEY] = {
            safe: original for safe, original in zip(self.safe_model.input_names, self.model.input_names)
            if safe != original}
        check_computes_something(hls_model, self.model)
        hls_model.write()
        for problem in lint(folder, pragmas=False).problems:
            warnings.warn(f"synthesis lint: {problem}", stacklevel=3)
        write_resources(folder, self.specs.values(), self.reuse_factor, graph_architectures(hls_model))
        if self.x_test is not None:
            write_tb_data(folder, self.model, self.x_test, self.specs)
        return hls_model


def check_computes_something(hls_model: Any, model: Any) -> None:
    """Refuse a model whose hardware output is its input (it computes nothing).

    hls4ml removes inference identities (``Dropout``, ``GaussianNoise``, a linear
    ``Activation``, ...); in a model of nothing else, the top function's output would be its
    input variable, which the project cannot declare twice.

    Args:
        hls_model: the hls4ml ``ModelGraph``, after its optimizer passes.
        model: the user's Keras model (for the message).

    Raises:
        ValueError: an output is an input, with the model named.
    """
    inputs = {variable.name for variable in hls_model.get_input_variables()}
    aliased = [variable.name for variable in hls_model.get_output_variables() if variable.name in inputs]
    if aliased:
        raise ValueError(f"model {model.name!r} computes nothing in hardware: once its inference identities "
                         f"(Dropout, GaussianNoise, linear activations, ...) are removed its output is its input "
                         f"{aliased[0]!r}; there is nothing to convert")


def prepare_conversion(model: Any, flavor: str = "Vitis", io_type: str = "io_parallel",
                       project_name: str = "myproject", input_format: Optional[str] = None, reuse_factor: int = 1,
                       x_test: Optional[np.ndarray] = None, part: str = DEFAULT_PART, clock_period: float = 5,
                       hls_config: Optional[dict] = None, quantize_inputs: bool = False,
                       strategy: Optional[str] = None) -> Conversion:
    """Check every argument of :func:`convert` and describe the model; nothing is written.

    Args:
        model, flavor, io_type, project_name, input_format, reuse_factor, x_test, part,
        clock_period, hls_config, quantize_inputs, strategy: as for :func:`convert`.

    Returns:
        The :class:`Conversion`.

    Raises:
        TypeError: a Keras 3 model or another object, a wrong ``input_format`` or ``hls_config`` type.
        ValueError: a setting out of its allowed set (:func:`keras_wc.hls.settings.check_settings`),
            a malformed ``input_format``, a layer the backend cannot map, or ``x_test`` refused
            by the input rule (:mod:`keras_wc.emulate.inputs`).

    Example:
        >>> conversion = prepare_conversion(model, input_format="ufixed<8,0>", x_test=x[:100])
        >>> hls_model = conversion.write(Path("prj"))
    """
    from keras_wc.datapath.describe import describe_model

    from .plugin import ensure_registered

    check_settings(flavor=flavor, io_type=io_type, project_name=project_name, reuse_factor=reuse_factor, part=part,
                   clock_period=clock_period, hls_config=hls_config, strategy=strategy)
    check_input_format(input_format)
    check_keras2_model(model)
    ensure_registered()
    safe_model = hls_safe_model(model)
    check_supported_layers(safe_model)
    specs = {spec.name: spec for spec in describe_model(safe_model, input_format)}  # the one description
    x_grid = None if x_test is None else grid_values(list(specs.values()), x_test, quantize_inputs, "x_test")
    config = {"Model": {"Precision": "fixed<32,16>", "ReuseFactor": int(reuse_factor)}}
    if strategy is not None:
        config["Model"]["Strategy"] = strategy
    for key, value in (hls_config or {}).items():
        config.setdefault(key, {}).update(value) if isinstance(value, dict) else config.__setitem__(key, value)
    settings = {"project_name": project_name, "backend": BACKEND_NAME, "io_type": io_type, "part": part,
                "clock_period": clock_period, "flavor": flavor, "input_format": input_format,
                "quantize_inputs": bool(quantize_inputs)}
    return Conversion(model, safe_model, specs, settings, config, int(reuse_factor), x_grid)


def convert(model: Any, output_dir: PathLike, flavor: str = "Vitis", io_type: str = "io_parallel",
            project_name: str = "myproject", input_format: Optional[str] = None, reuse_factor: int = 1,
            x_test: Optional[np.ndarray] = None, overwrite: bool = False, part: str = DEFAULT_PART,
            clock_period: float = 5, hls_config: Optional[dict] = None, quantize_inputs: bool = False,
            strategy: Optional[str] = None):
    """Convert a keras_wc/QKeras model into an SQNAP hls4ml project and write it.

    Every argument is checked and the model described before anything is written; the
    project is written into a hidden folder beside ``output_dir`` and moved into place when
    complete (``tb_data/`` and ``sqnap_resources.json`` included), so a failed conversion
    leaves ``output_dir`` as it was (:mod:`keras_wc.output_folder`, ``docs/errors.md``).

    Args:
        model: a Keras 2 ``tf.keras`` model (keras_wc-quantized layers, QKeras layers, pooling, ...).
        output_dir: the project folder: new or empty, or with ``overwrite`` a folder keras_wc wrote.
        flavor: ``"Vitis"`` (default) or ``"Vivado"``: which tcl scripts are written.
        io_type: ``"io_parallel"`` or ``"io_stream"`` (SQNAP layers use the ``sqnap::*_stream``
            wrappers: convolutions and pooling through a line buffer of ``filt_height`` rows;
            other layers need hls4ml's own io_stream support).
        project_name: the C++ top function and file prefix (a C identifier).
        input_format: the input's fixed-point format (``"ufixed<8,0>"``); ``None`` uses the
            first QActivation's format (the model quantizes float inputs itself).
        reuse_factor: hls4ml reuse factor of every layer (an int >= 1).
        x_test: optional test inputs: ``tb_data/`` gets them with the emulator's and Keras'
            outputs, for :func:`keras_wc.hls.csim`. With a declared ``input_format`` they must
            lie on its grid and in its range, unless ``quantize_inputs``.
        overwrite: replace a non-empty ``output_dir`` that keras_wc wrote (its ``.keras_wc``
            marker lists every file in it; anything else in the folder is never deleted).
        part: FPGA part written into the tcl scripts (a Xilinx part number,
            :data:`~keras_wc.hls.settings.PART_PATTERN`).
        clock_period: clock period (ns, > 0).
        hls_config: extra hls4ml ``hls_config`` entries (merged; types are always set by SQNAP).
        quantize_inputs: round and saturate ``x_test`` values off the declared grid instead of
            refusing them (the rule of :mod:`keras_wc.emulate.inputs`); the returned model's
            ``predict``/``trace`` do the same.
        strategy: ``"Latency"`` or ``"Resource"`` for every SQNAP layer (a layer too large for
            it is refused by name), or ``None``: Latency, except layers whose one round would
            unroll more code x input terms than the flavour allows, which become Resource with
            the smallest reuse factor that fits (recorded in ``hls4ml_config.yml`` and the
            README; :mod:`keras_wc.hls.strategy`). ``hls_config["LayerName"][name]["Strategy"]``
            sets one layer's.

    Returns:
        The hls4ml ``ModelGraph``, pointing at ``output_dir`` (call ``compile()`` before ``predict()``).
        Its ``predict(x)`` and ``trace(x)`` apply the one input rule: a sample shape other than
        the model's, NaN/infinite values and values off the declared grid or range (unless
        ``quantize_inputs``) raise ``ValueError`` (:mod:`keras_wc.hls.backend`).

    Raises:
        FileExistsError: ``output_dir`` may not be written (not empty without ``overwrite``, not
            written by keras_wc, holding other files, a file, or the current folder).
        ValueError: a setting out of its allowed set, a malformed ``input_format``, a layer the
            backend cannot map (named with its class), or ``x_test`` off the input grid.
        TypeError: a Keras 3 model, another object, or a wrong ``input_format``/``hls_config`` type.

    Example:
        >>> hls_model = convert(model, "prj", input_format="ufixed<8,0>", x_test=x[:200], quantize_inputs=True)
        >>> hls_model.compile(); y = hls_model.predict(x[:10])
    """
    conversion = prepare_conversion(model, flavor=flavor, io_type=io_type, project_name=project_name,
                                    input_format=input_format, reuse_factor=reuse_factor, x_test=x_test, part=part,
                                    clock_period=clock_period, hls_config=hls_config,
                                    quantize_inputs=quantize_inputs, strategy=strategy)
    target = check_output_dir(output_dir, overwrite)
    with staged_output_dir(target, overwrite) as stage:
        hls_model = conversion.write(stage)
    hls_model.config.config["OutputDir"] = str(target)
    return hls_model
