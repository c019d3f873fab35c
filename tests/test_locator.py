"""The divergence locator tells the truth: a fault injected into one layer's output is named.

Each model is converted (io_parallel), written with a trace point after every layer
(:func:`keras_wc.testing.write_traced_project`), and the generated ``firmware/myproject.cpp``
gets, before each layer's trace point, a statement flipping the least significant bit of that
layer's first output value, guarded by a switch (``keras_wc_fault``, a global of the library).
The library is then built once from the edited files, without rewriting the project
(:func:`keras_wc.testing.compile_project`), and each case turns on exactly one fault: the
locator must name that layer, with exactly one value one LSB off. With every fault off it must
find no divergence and no layer without a trace point. One io_stream conversion is traced
clean as well.
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path
from typing import Callable, Dict, Sequence

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu  # noqa: E402

from keras_wc.hls import convert  # noqa: E402
from keras_wc.hls.passes import datapath_of  # noqa: E402
from keras_wc.quantizers import DFP, SWC  # noqa: E402
from keras_wc.testing import (Divergence, compile_project, first_divergence, trace_points,  # noqa: E402
                              write_traced_project)

L = tf.keras.layers
INPUT_FORMAT = "ufixed<8,0>"
FAULT_SWITCH = "keras_wc_fault"


def with_statistics(model: tf.keras.Model, seed: int) -> tf.keras.Model:
    """Random biases and BatchNormalization statistics far from the identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.3, 3, c), rng.normal(0, 1, c), rng.normal(0, 2, c),
                               rng.uniform(0.05, 4, c)])
        elif getattr(layer, "bias", None) is not None:
            layer.bias.assign(rng.normal(0.0, 0.2, layer.bias.shape).astype(np.float32))
    return model


def kinds_model() -> tf.keras.Model:
    """Every layer kind but the folded BatchNormalization, on an input named ``input`` (renamed for hls4ml)."""
    tf.keras.utils.set_random_seed(7)
    inputs = tf.keras.Input((6, 6, 2), name="input")
    h = QConv2D(3, 3, padding="same", kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv")(inputs)
    h = QActivation(quantized_relu(6, 2), name="act")(h)
    h = L.MaxPooling2D(2, name="max_pool")(h)                     # 3x3x3
    h = L.ZeroPadding2D(1, name="zero_pad")(h)                    # 5x5x3
    pooled = L.AveragePooling2D(2, strides=1, name="avg_pool")(h)  # 4x4x3
    h = L.BatchNormalization(name="batchnorm")(pooled)            # standalone: after pooling
    h = QActivation(quantized_bits(8, 3, alpha=1), name="act_bits")(h)
    h = L.Add(name="add")([h, pooled])
    joined = L.Concatenate(name="concat")([h, pooled])            # 4x4x6
    h = L.Flatten(name="flatten")(joined)
    h = QDense(8, kernel_quantizer=quantized_bits(6, 0, alpha=1), name="qkeras_dense")(h)  # hls4ml's Dense
    h = QActivation(quantized_relu(8, 3), name="dense_act")(h)
    pooled = L.GlobalAveragePooling2D(name="global_pool")(joined)
    h = L.Concatenate(name="concat_flat")([h, pooled])
    outputs = QDense(4, kernel_quantizer=SWC(sw_bits=4, group=7), name="logits")(h)
    return with_statistics(tf.keras.Model(inputs, outputs), 7)


def folded_model() -> tf.keras.Model:
    """A BatchNormalization right after a keras_wc QConv2D (folded into the conv's SQNAP layer)."""
    tf.keras.utils.set_random_seed(8)
    inputs = tf.keras.Input((5, 5, 1), name="image")
    h = QConv2D(2, 3, kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv")(inputs)
    h = L.BatchNormalization(name="bn")(h)
    h = QActivation(quantized_relu(8, 3), name="act")(h)
    outputs = QDense(3, kernel_quantizer=DFP(bits=6), name="logits")(L.Flatten(name="flatten")(h))
    return with_statistics(tf.keras.Model(inputs, outputs), 8)


MODELS: Dict[str, Callable[[], tf.keras.Model]] = {"kinds": kinds_model, "folded": folded_model}
#: case -> (model, the hls4ml node whose output gets the fault, the layer the locator must name)
CASES = {
    "renamed_input": ("kinds", "input_0", "input"),
    "sqnap_conv": ("kinds", "conv", "conv"),
    "qactivation": ("kinds", "act", "act"),
    "max_pooling": ("kinds", "max_pool", "max_pool"),
    "zero_padding": ("kinds", "zero_pad", "zero_pad"),
    "average_pooling": ("kinds", "avg_pool", "avg_pool"),
    "batchnorm_standalone": ("kinds", "batchnorm", "batchnorm"),
    "add": ("kinds", "add", "add"),
    "concatenate": ("kinds", "concat", "concat"),
    "flatten": ("kinds", "flatten", "flatten"),
    "qkeras_dense": ("kinds", "qkeras_dense", "qkeras_dense"),
    "global_pooling": ("kinds", "global_pool", "global_pool"),
    "concatenate_flat": ("kinds", "concat_flat", "concat_flat"),
    "sqnap_dense": ("kinds", "logits", "logits"),
    # the BatchNormalization is folded into the conv: one SQNAP layer, reported under the conv's name
    "batchnorm_after_conv": ("folded", "conv", "conv"),
}


def inputs(model: tf.keras.Model, n: int = 6) -> np.ndarray:
    """``n`` samples on the declared ufixed<8,0> grid."""
    shape = (n,) + tuple(model.input_shape[1:])
    return (np.random.default_rng(3).integers(0, 256, shape) / 256).astype(np.float32)


def inject_faults(project: Path, nodes: Sequence[str]) -> None:
    """Before each node's trace point: ``if (keras_wc_fault == k) out[0][0] = !out[0][0];`` (k its position).

    ``out[0]`` is the node's first output value (an ``ap_fixed``), ``[0]`` its least significant bit.
    """
    cpp = project / "firmware" / "myproject.cpp"
    lines = cpp.read_text().splitlines()
    for number, node in enumerate(nodes):
        at, variable = next((i, m.group(1)) for i, line in enumerate(lines)
                            if (m := re.search(rf'nnet::save_layer_output<[^>]*>\((\w+), "{node}",', line)))
        at -= lines[at - 1].startswith("#ifndef __SYNTHESIS__")
        lines.insert(at, f"    if ({FAULT_SWITCH} == {number}) {variable}[0][0] = !{variable}[0][0]; // injected")
    include = max(i for i, line in enumerate(lines) if line.startswith("#include"))
    lines.insert(include + 1, f'extern "C" {{ int {FAULT_SWITCH} = -1; }}')
    cpp.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """Per model: ``(hls_model, x, nodes, set_fault)``, the library built once with every fault switchable."""
    cache = {}

    def get(name: str):
        if name not in cache:
            model = MODELS[name]()
            x = inputs(model)
            hls_model = convert(model, tmp_path_factory.mktemp(name) / "prj", input_format=INPUT_FORMAT)
            nodes = [node for case, (model_name, node, _) in CASES.items() if model_name == name]
            inject_faults(write_traced_project(hls_model), nodes)
            compile_project(hls_model)

            def set_fault(node):
                switch = ctypes.c_int.in_dll(hls_model._top_function_lib, FAULT_SWITCH)
                switch.value = -1 if node is None else nodes.index(node)

            cache[name] = (hls_model, x, set_fault)
        return cache[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_locator_names_the_layer_whose_output_is_faulty(faulty, case):
    model_name, node, expected = CASES[case]
    hls_model, x, set_fault = faulty(model_name)
    set_fault(node)
    try:
        divergence = first_divergence(hls_model, x, rebuild=False)
    finally:
        set_fault(None)
    assert divergence.layer == expected, str(divergence)
    assert (divergence.sample, divergence.values, divergence.max_lsb) == (0, 1, 1.0)
    one_sample = first_divergence(hls_model, x, sample=4, rebuild=False)  # the fault is off again
    assert one_sample.layer is None


@pytest.mark.slow
@pytest.mark.parametrize("model_name", list(MODELS))
def test_without_faults_every_layer_is_traced_and_agrees(faulty, model_name):
    hls_model, x, set_fault = faulty(model_name)
    divergence = first_divergence(hls_model, x, rebuild=False)
    specs = datapath_of(hls_model)
    assert divergence.layer is None and divergence.sample is None, str(divergence)
    assert divergence.untraced == ()
    keras_names = {"input_0": "input"}
    assert divergence.traced == tuple(keras_names.get(name, name) for name, spec in specs.items()
                                      if spec.output_format is not None)
    # float32 traces could not hold these layers exactly: the comparison is on the integer grid
    assert max(spec.output_format.bits for spec in specs.values() if spec.output_format is not None) > 24


@pytest.mark.slow
def test_io_stream_model_is_traced_like_io_parallel(tmp_path, faulty):
    model = kinds_model()
    hls_model = convert(model, tmp_path / "prj", input_format=INPUT_FORMAT, io_type="io_stream")
    assert "Clone" in {node.class_name for node in hls_model.get_layers()}  # hls4ml's own trace() fails on these
    divergence = first_divergence(hls_model, inputs(model))
    assert divergence.layer is None, str(divergence)
    assert divergence.untraced == ()
    assert divergence.traced == first_divergence(*faulty("kinds")[:2], rebuild=False).traced


@pytest.mark.slow
def test_assert_csim_bit_exact_names_the_first_diverging_layer(monkeypatch):
    """A real mismatch end to end: the emulator is made one LSB off after max pooling, so the
    testbench data and the C simulation disagree, and the locator names max pooling."""
    from keras_wc.emulate import layers
    from keras_wc.testing import assert_csim_bit_exact

    real = layers.EXECUTORS["pool"]

    def one_lsb_off(spec, values):
        out, peaks = real(spec, values)
        return (out + 1 if spec.name == "max_pool" else out), peaks

    monkeypatch.setitem(layers.EXECUTORS, "pool", one_lsb_off)
    model = kinds_model()
    with pytest.raises(AssertionError, match=re.escape(
            "first diverging sample 0; layer 'max_pool', sample 0: 27 of 27 values differ from the emulator "
            "(up to 1 LSB)")):
        assert_csim_bit_exact(model, inputs(model), input_format=INPUT_FORMAT)


def test_trace_points_cover_layers_without_code(tmp_path):
    """The renamed input and the io_parallel Flatten (a C++ reference) are observed at their own nodes."""
    hls_model = convert(kinds_model(), tmp_path / "prj", input_format=INPUT_FORMAT)
    points = trace_points(hls_model)
    assert list(points) == list(datapath_of(hls_model))
    assert points["input_0"] == "input_0" and points["flatten"] == "flatten"
    assert hls_model.config.config["_SQNAPKerasNames"] == {"input_0": "input"}


def test_divergence_text():
    assert str(Divergence("conv", 2, 1, 108, 1.0, ("input", "conv"), ())) == (
        "layer 'conv', sample 2: 1 of 108 values differ from the emulator (up to 1 LSB)")
    assert str(Divergence(None, None, 0, 0, 0.0, ("input", "conv"), ())) == (
        "no divergence: 2 layers traced, all bit-exact with the emulator")


def test_stock_mode_has_nothing_to_compare(tmp_path):
    import hls4ml

    inputs_ = tf.keras.Input((4,), name="x")
    model = tf.keras.Model(inputs_, QDense(2, kernel_quantizer=quantized_bits(6, 0, alpha=1), name="fc")(inputs_))
    hls_model = hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), backend="SQNAP")
    with pytest.raises(ValueError, match="stock mode"):
        first_divergence(hls_model, np.zeros((1, 4), np.float32))
