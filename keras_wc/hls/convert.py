"""``keras_wc.hls.convert``: a Keras/QKeras model -> an SQNAP hls4ml project (written, not compiled)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from .backend import BACKEND_NAME
from .writer import FLAVORS

PathLike = Union[str, Path]
#: files under ``tb_data/`` written by :func:`write_tb_data`
TB_INPUT = "tb_input_features.dat"
TB_EXPECTED = "tb_output_predictions.dat"
TB_KERAS = "keras_output.dat"


def check_keras2_model(model: Any) -> None:
    """Refuse Keras 3 models and Keras 3 installations with a clear message.

    Raises:
        TypeError: ``model`` is not a Keras 2 (``tf.keras``) model.
    """
    import keras
    import tensorflow as tf

    stack = ("keras_wc's SQNAP backend supports the hls4ml 1.3.0 Keras 2 stack only (tensorflow 2.14.1 / "
             "Keras 2.14, qkeras 0.9.0)")
    if str(keras.__version__).startswith("3"):
        raise TypeError(f"Keras {keras.__version__} is installed; {stack}")
    if not isinstance(model, tf.keras.Model):
        module = type(model).__module__
        if module.startswith("keras") and hasattr(model, "layers"):
            raise TypeError(f"{type(model).__name__} from {module} is a Keras 3 model; {stack}: build the "
                            "model with tf.keras on that stack")
        raise TypeError(f"expected a tf.keras.Model, got {type(model).__name__}")


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


def check_output_dir(output_dir: PathLike, overwrite: bool) -> Path:
    """Refuse a non-empty folder unless ``overwrite`` (nothing is touched).

    Args:
        output_dir: the project folder.
        overwrite: allow replacing an existing non-empty folder.

    Returns:
        The absolute path.

    Raises:
        FileExistsError: the path is a file, or a non-empty folder and ``overwrite`` is False.
    """
    path = Path(output_dir).absolute()
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise FileExistsError(f"output folder {path} is not empty; pass overwrite=True (or --overwrite) "
                              "to replace it")
    return path


def prepare_output_dir(output_dir: PathLike, overwrite: bool) -> Path:
    """:func:`check_output_dir`, then empty (or create) the folder.

    Returns:
        The absolute path (created, empty).
    """
    path = check_output_dir(output_dir, overwrite)
    if path.is_dir() and any(path.iterdir()):
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


#: layer names hls4ml's ``ModelGraph`` reserves for itself
RESERVED_NAMES = ("input",)
RENAMED_INPUT = "input_0"


def hls_safe_model(model: Any) -> Any:
    """``model`` itself, or the same graph of the same layer objects with a reserved input renamed.

    hls4ml refuses a layer named ``"input"``, the default of many Keras models. The
    returned functional model re-applies the original layers (weights and quantizer state
    shared, nothing copied) to a new input named :data:`RENAMED_INPUT`.

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

    if all(layer.name not in RESERVED_NAMES for layer in model.layers):
        return model
    config = model.get_config()
    tensors = {}
    for entry in config["layers"]:
        layer = model.get_layer(entry["name"])
        if entry["class_name"] == "InputLayer":
            tensors[entry["name"]] = [tf.keras.Input(batch_shape=layer.get_config()["batch_input_shape"],
                                                     dtype=layer.dtype, name=RENAMED_INPUT
                                                     if layer.name in RESERVED_NAMES else layer.name)]
            continue
        if layer.name in RESERVED_NAMES:
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) uses a name hls4ml reserves; rename it")
        nodes = entry["inbound_nodes"]
        if len(nodes) != 1:
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) is used {len(nodes)} times; "
                             "shared layers cannot be converted")
        inputs = [tensors[name][tensor_index] for name, _node, tensor_index, *_ in nodes[0]]
        tensors[entry["name"]] = tf.nest.flatten(layer(inputs[0] if len(inputs) == 1 else inputs))
    inputs = [tensors[name][index] for name, _node, index in config["input_layers"]]
    outputs = [tensors[name][index] for name, _node, index in config["output_layers"]]
    return tf.keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
                          name=model.name)


def exact_text(value: float) -> str:
    """The exact decimal expansion of a binary float (``0.1`` -> ``0.1000000000000000055...``).

    Example:
        >>> exact_text(0.375), exact_text(-2.0)
        ('0.375', '-2')
    """
    text = format(Decimal(float(value)), "f")
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
    """``x`` on a Keras model's input grid (the declared format, or the first QActivation's), as float64.

    Example:
        >>> xq = quantized_inputs(model, x, "ufixed<8,0>")   # what convert(x_test=x) writes
    """
    from keras_wc.datapath.describe import describe_model

    return grid_inputs({spec.name: spec for spec in describe_model(model, input_format)}, x)


def grid_inputs(specs: Dict[str, Any], x: np.ndarray) -> np.ndarray:
    """``x`` on the input grid of a datapath (``{layer name: spec}``), as float64."""
    from keras_wc.datapath.formats import ActivationQuant

    from .passes import input_format_of

    first = next(iter(specs.values()))
    fmt = input_format_of(specs, first)
    quant = ActivationQuant.from_format(fmt)
    for spec in specs.values():
        if first.output_format is None and first.name in spec.inputs and spec.kind == "quantize":
            quant = spec.quant
    integers = quant.quantize_float(np.asarray(x, np.float32))
    return integers.astype(np.float64) * 2.0 ** -fmt.frac


def emulated_outputs(specs: Dict[str, Any], x: np.ndarray) -> np.ndarray:
    """The emulator's outputs for ``x`` as float64 (exact values), flattened per sample."""
    from keras_wc.emulate.run import run

    return np.asarray(run(list(specs.values()), x).output, dtype=np.float64).reshape(len(x), -1)


def write_tb_data(hls_model: Any, model: Any, x_test: np.ndarray, specs: Dict[str, Any]) -> Path:
    """Write ``tb_data/``: inputs on the input grid, emulator outputs, Keras outputs.

    Args:
        hls_model: the written hls4ml model.
        model: the Keras model.
        x_test: test inputs (batch first).
        specs: the conversion's datapath (``{layer name: spec}``).

    Returns:
        The ``tb_data`` folder.
    """
    tb = Path(hls_model.config.get_output_dir()) / "tb_data"
    tb.mkdir(exist_ok=True)
    x = grid_inputs(specs, np.asarray(x_test, np.float32))
    write_rows(tb / TB_INPUT, x)
    write_rows(tb / TB_EXPECTED, emulated_outputs(specs, x))
    keras_out = np.asarray(model.predict(x.astype(np.float32), verbose=0), np.float32)
    write_rows(tb / TB_KERAS, keras_out.astype(np.float64))
    return tb


def convert(model: Any, output_dir: PathLike, flavor: str = "Vitis", io_type: str = "io_parallel",
            project_name: str = "myproject", input_format: Optional[str] = None, reuse_factor: int = 1,
            x_test: Optional[np.ndarray] = None, overwrite: bool = False, part: str = "xcvu13p-flga2577-2-e",
            clock_period: float = 5, hls_config: Optional[dict] = None):
    """Convert a keras_wc/QKeras model into an SQNAP hls4ml project and write it.

    Args:
        model: a ``tf.keras`` model (keras_wc-quantized layers, QKeras layers, pooling, ...).
        output_dir: the project folder (refused when not empty unless ``overwrite``).
        flavor: ``"Vitis"`` (default) or ``"Vivado"``: which tcl scripts are written.
        io_type: ``"io_parallel"`` or ``"io_stream"`` (SQNAP layers use the ``sqnap::*_stream``
            wrappers, which buffer a layer's whole input map; other layers need hls4ml's own
            io_stream support).
        project_name: the C++ top function and file prefix.
        input_format: the input's fixed-point format (``"ufixed<8,0>"``); ``None`` uses the
            first QActivation's format (the model quantizes float inputs itself).
        reuse_factor: hls4ml reuse factor of every layer.
        x_test: optional test inputs: ``tb_data/`` gets them on the input grid, with the
            emulator's and Keras' outputs, for :func:`keras_wc.hls.csim`.
        overwrite: replace a non-empty ``output_dir``.
        part: FPGA part written into the tcl scripts.
        clock_period: clock period (ns).
        hls_config: extra hls4ml ``hls_config`` entries (merged; types are always set by SQNAP).

    Returns:
        The hls4ml ``ModelGraph`` (written; call ``compile()`` before ``predict()``).

    Raises:
        FileExistsError: ``output_dir`` is not empty and ``overwrite`` is False.
        ValueError: unknown flavour, or a layer the backend cannot map (named with its class).
        TypeError: a Keras 3 model.

    Example:
        >>> hls_model = convert(model, "prj", input_format="ufixed<8,0>", x_test=x[:200])
        >>> hls_model.compile(); y = hls_model.predict(x[:10])
    """
    import hls4ml

    from .plugin import ensure_registered

    if flavor not in FLAVORS:
        raise ValueError(f"flavor={flavor!r}: expected one of {list(FLAVORS)}")
    if io_type not in ("io_parallel", "io_stream"):
        raise ValueError(f"io_type={io_type!r}: expected 'io_parallel' or 'io_stream'")
    check_keras2_model(model)
    ensure_registered()
    check_supported_layers(model)
    from keras_wc.datapath.describe import describe_model

    safe_model = hls_safe_model(model)
    specs = {spec.name: spec for spec in describe_model(safe_model, input_format)}  # the one description
    path = prepare_output_dir(output_dir, overwrite)
    config = {"Model": {"Precision": "fixed<32,16>", "ReuseFactor": int(reuse_factor), "Strategy": "Latency"}}
    for key, value in (hls_config or {}).items():
        config.setdefault(key, {}).update(value) if isinstance(value, dict) else config.__setitem__(key, value)
    hls_model = hls4ml.converters.convert_from_keras_model(
        safe_model, output_dir=str(path), project_name=project_name, backend=BACKEND_NAME,
        io_type=io_type, hls_config=config, part=part, clock_period=clock_period, flavor=flavor,
        input_format=input_format, datapath=specs)
    hls_model.write()
    from .resources import write_resources

    write_resources(path, specs.values(), int(reuse_factor))
    if x_test is not None:
        write_tb_data(hls_model, model, x_test, specs)
    return hls_model
