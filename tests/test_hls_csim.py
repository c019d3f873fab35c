"""C simulation of SQNAP projects: predict() and csim() bit-identical to emulate() for every method.

Each model is converted, compiled and simulated once per module (g++ -O1 for csim). The
``stream_*`` cases convert with ``io_type="io_stream"`` (the ``sqnap::*_stream`` wrappers next to
hls4ml's own stream layers: QActivation, MaxPooling2D, Flatten, a QKeras QConv2D).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # each case converts, compiles and C-simulates a model (~10 s)

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")
from qkeras import QActivation, QConv1D, QConv2D, QDense, QDepthwiseConv2D  # noqa: E402

from keras_wc.emulate.run import emulate  # noqa: E402
from keras_wc.hls import convert, csim  # noqa: E402
from keras_wc.hls.convert import quantized_inputs  # noqa: E402
from keras_wc.quantizers import DFP, SWC, Po2, PolyApprox, SparseTernary  # noqa: E402

N_SAMPLES = 200
INPUT_FORMAT = "ufixed<8,0>"

METHODS = {
    "swc_fixed": lambda conv: SWC(sw_bits=4, group="kernel" if conv else 5),
    "swc_po2": lambda conv: SWC(sw_bits=3, group="kernel" if conv else 7, sw_format="po2"),
    "swc_folded": lambda conv: SWC(sw_bits=5, group="kernel" if conv else 6, fold_denominator=True),
    "poly1": lambda conv: PolyApprox(degree=1, levels=16, group="filter"),
    "poly2": lambda conv: PolyApprox(degree=2, levels=16, group="filter"),
    "dfp": lambda conv: DFP(bits=6),
    "po2": lambda conv: Po2(bits=4),
    "ternary_8_2": lambda conv: SparseTernary(n=8, k=2),
    "ternary_4_1": lambda conv: SparseTernary(n=4, k=1),
    "ternary_po2": lambda conv: SparseTernary(n=8, k=2, delta_format="po2"),
}


def digits(n: int = N_SAMPLES) -> np.ndarray:
    from keras_wc import datasets

    (_, _), (x_test, _) = datasets.load("digits")
    x = np.asarray(x_test[:n], np.float32)
    if len(x) < n:
        x = np.concatenate([x] * (n // len(x) + 1))[:n]
    return x


def with_random_biases(model, seed: int):
    """Non-zero float biases: the datapath then aligns a finer bias grid (``align``/extra bits)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(rng.normal(0.0, 0.2, layer.bias.shape).astype(np.float32))
    return model


def dense_model(method: str):
    tf.keras.utils.set_random_seed(1)
    inp = tf.keras.Input((8, 8, 1), name="image")
    h = tf.keras.layers.Flatten(name="flat")(inp)
    h = QDense(20, kernel_quantizer=METHODS[method](False), name="fc1")(h)
    h = QActivation("quantized_relu(8,3)", name="fc1_act")(h)
    out = QDense(10, kernel_quantizer=METHODS[method](False), name="logits")(h)
    return with_random_biases(tf.keras.Model(inp, out, name=f"dense_{method}"), 1)


def conv_model(method: str):
    tf.keras.utils.set_random_seed(2)
    inp = tf.keras.Input((8, 8, 1), name="image")
    h = QConv2D(6, 3, padding="same", kernel_quantizer=METHODS[method](True), name="conv1")(inp)
    h = QActivation("quantized_relu(8,3)", name="conv1_act")(h)
    h = QConv2D(8, 3, strides=2, kernel_quantizer=METHODS[method](True), name="conv2")(h)
    h = QActivation("quantized_relu(8,3)", name="conv2_act")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    out = QDense(10, kernel_quantizer=DFP(bits=8), name="logits")(h)
    return with_random_biases(tf.keras.Model(inp, out, name=f"conv_{method}"), 2)


def mixed_model():
    tf.keras.utils.set_random_seed(3)
    inp = tf.keras.Input((8, 8, 1), name="image")
    h = QActivation("quantized_relu(8,1)", name="input_quant")(inp)
    h = QConv2D(5, 3, kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv1")(h)
    h = QActivation("quantized_relu(8,3)", name="conv1_act")(h)
    h = tf.keras.layers.MaxPooling2D(2, name="pool")(h)
    h = QConv2D(7, 2, kernel_quantizer="quantized_bits(6,0,alpha=1)",
                bias_quantizer="quantized_bits(8,3,alpha=1)", name="conv2")(h)
    h = QActivation("quantized_bits(8,3,alpha=1)", name="conv2_act")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    h = QDense(11, kernel_quantizer=DFP(bits=6, per_channel=True), name="fc0")(h)
    h = QActivation("quantized_relu(8,3)", name="fc0_act")(h)
    h = QDense(13, kernel_quantizer=SparseTernary(n=4, k=1), name="fc1")(h)
    h = QActivation("quantized_relu(8,3)", name="fc1_act")(h)
    out = QDense(10, kernel_quantizer=PolyApprox(degree=2, levels=16, group="filter"), name="logits")(h)
    return with_random_biases(tf.keras.Model(inp, out, name="mixed"), 3)


def stream_conv_model():
    """io_stream: keras_wc Conv2D with `same` padding, MaxPooling, a plain QKeras QConv2D, keras_wc Dense."""
    tf.keras.utils.set_random_seed(4)
    inp = tf.keras.Input((8, 8, 1), name="image")
    h = QConv2D(6, 3, padding="same", kernel_quantizer=SWC(sw_bits=3, group="kernel", sw_format="po2"),
                name="conv1")(inp)
    h = QActivation("quantized_relu(8,3)", name="conv1_act")(h)
    h = tf.keras.layers.MaxPooling2D(2, name="pool")(h)
    h = QConv2D(7, 2, kernel_quantizer="quantized_bits(6,0,alpha=1)", bias_quantizer="quantized_bits(8,3,alpha=1)",
                name="conv2")(h)
    h = QActivation("quantized_relu(8,3)", name="conv2_act")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    out = QDense(10, kernel_quantizer=SWC(sw_bits=3, group=7, sw_format="po2"), name="logits")(h)
    return with_random_biases(tf.keras.Model(inp, out, name="stream_conv"), 4)


def stream_mixed_model():
    """io_stream, methods mixed: SWC conv (`same`), pooling, ternary conv (`same`, stride 2),
    DFP depthwise conv, PolyApprox Dense."""
    tf.keras.utils.set_random_seed(5)
    inp = tf.keras.Input((8, 8, 1), name="image")
    h = QConv2D(6, 3, padding="same", kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv1")(inp)
    h = QActivation("quantized_relu(8,3)", name="conv1_act")(h)
    h = tf.keras.layers.MaxPooling2D(2, name="pool")(h)
    h = QConv2D(8, 3, strides=2, padding="same", kernel_quantizer=SparseTernary(n=8, k=2), name="conv2")(h)
    h = QActivation("quantized_relu(8,3)", name="conv2_act")(h)
    h = QDepthwiseConv2D(2, padding="same", depthwise_quantizer=DFP(bits=6, kernel_layout="depthwise"),
                         name="dw")(h)
    h = QActivation("quantized_relu(8,3)", name="dw_act")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    out = QDense(10, kernel_quantizer=PolyApprox(degree=2, levels=16, group="filter"), name="logits")(h)
    return with_random_biases(tf.keras.Model(inp, out, name="stream_mixed"), 5)


def stream_conv1d_model():
    """io_stream Conv1D: the image read as 8 steps of 8 features (Reshape becomes a stream repack)."""
    tf.keras.utils.set_random_seed(6)
    inp = tf.keras.Input((8, 8, 1), name="image")
    h = tf.keras.layers.Reshape((8, 8), name="rows")(inp)
    h = QConv1D(6, 3, padding="same", kernel_quantizer=Po2(bits=4), name="conv1")(h)
    h = QActivation("quantized_relu(8,3)", name="conv1_act")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    out = QDense(10, kernel_quantizer=DFP(bits=6, per_channel=True), name="logits")(h)
    return with_random_biases(tf.keras.Model(inp, out, name="stream_conv1d"), 6)


#: io_stream cases: name -> model builder (input format INPUT_FORMAT)
STREAM_MODELS = {
    "stream_dense": lambda: dense_model("ternary_8_2"),
    "stream_conv": stream_conv_model,
    "stream_mixed": stream_mixed_model,
    "stream_conv1d": stream_conv1d_model,
}

CASES = ([(f"dense_{m}", m) for m in METHODS] + [(f"conv_{m}", m) for m in METHODS] + [("mixed", None)]
         + [(name, None) for name in STREAM_MODELS])


@pytest.fixture(scope="module")
def x_digits():
    return digits()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, x_digits):
    """Build, convert, compile and simulate each case lazily, once per module."""
    cache = {}

    def get(case: str):
        if case not in cache:
            kind, _, method = case.partition("_")
            io_type = "io_stream" if case in STREAM_MODELS else "io_parallel"
            if case == "mixed":
                model, input_format = mixed_model(), None
            elif case in STREAM_MODELS:
                model, input_format = STREAM_MODELS[case](), INPUT_FORMAT
            else:
                model = dense_model(method) if kind == "dense" else conv_model(method)
                input_format = INPUT_FORMAT
            project = tmp_path_factory.mktemp(case) / "prj"
            hls_model = convert(model, project, input_format=input_format, x_test=x_digits, io_type=io_type,
                                quantize_inputs=True)  # digits reach 1.0, above ufixed<8,0>
            hls_model.compile()
            xq = quantized_inputs(model, x_digits, input_format).astype(np.float32)
            # float64 inputs select hls4ml's double bridge: outputs wider than 24 bits stay exact
            predicted = np.asarray(hls_model.predict(np.ascontiguousarray(xq, dtype=np.float64)),
                                   np.float64).reshape(len(xq), -1)
            reference = np.asarray(emulate(model, xq, input_format=input_format), np.float64).reshape(len(xq), -1)
            keras_out = np.asarray(model.predict(xq, verbose=0), np.float64)
            cache[case] = dict(model=model, project=project, predicted=predicted, reference=reference,
                               keras=keras_out, csim=csim(project))
        return cache[case]

    return get


@pytest.mark.parametrize("case,method", CASES, ids=[c for c, _ in CASES])
def test_predict_bit_exact_with_emulator(simulated, case, method):
    run = simulated(case)
    assert run["predicted"].shape == run["reference"].shape
    np.testing.assert_array_equal(run["predicted"], run["reference"])


@pytest.mark.parametrize("case,method", CASES, ids=[c for c, _ in CASES])
def test_csim_bit_exact_with_emulator(simulated, case, method):
    result = simulated(case)["csim"]
    assert result.total == N_SAMPLES
    assert result.bit_exact == result.total, result.summary()
    assert result.first_mismatch is None
    np.testing.assert_array_equal(result.outputs, simulated(case)["reference"])


@pytest.mark.parametrize("case,method", CASES, ids=[c for c, _ in CASES])
def test_argmax_agreement_with_keras(simulated, case, method):
    run = simulated(case)
    agreement = np.mean(run["csim"].outputs.argmax(1) == run["keras"].argmax(1))
    assert agreement >= 0.995
    assert run["csim"].argmax_agreement == pytest.approx(agreement)


@pytest.mark.parametrize("case", list(STREAM_MODELS))
def test_stream_projects_use_stream_kernels(simulated, case):
    """The io_stream projects call the SQNAP stream wrappers on hls::stream variables."""
    firmware = (simulated(case)["project"] / "firmware" / "myproject.cpp").read_text()
    assert "hls::stream<input_t> &image" in firmware
    assert "sqnap::dense_stream<sqnap::" in firmware
    if case != "stream_dense":
        assert f"sqnap::{'conv1d' if case == 'stream_conv1d' else 'conv2d'}_stream<sqnap::" in firmware
    assert not re.search(r"sqnap::(dense|conv1d|conv2d)_(swc|dfp|po2|ternary|poly)<", firmware)  # no io_parallel


def test_assert_csim_bit_exact_helper(x_digits, hls_project_dir):
    from keras_wc.testing import assert_csim_bit_exact

    result = assert_csim_bit_exact(dense_model("dfp"), x_digits[:40], keep=hls_project_dir.parent,
                                   quantize_inputs=True,
                                   input_format=INPUT_FORMAT)
    assert result.bit_exact == 40


def test_assert_csim_bit_exact_names_layer_on_divergence(x_digits, tmp_path, monkeypatch):
    import keras_wc.hls
    from keras_wc import testing

    real = keras_wc.hls.csim

    def corrupted(project, **kwargs):
        result = real(project, **kwargs)
        result.bit_exact -= 1
        result.first_mismatch = 3
        return result

    monkeypatch.setattr("keras_wc.hls.csim", corrupted)
    with pytest.raises(AssertionError, match="sample 3"):
        testing.assert_csim_bit_exact(dense_model("dfp"), x_digits[:10], keep=tmp_path, input_format=INPUT_FORMAT,
                                      quantize_inputs=True)


from keras_wc.testing import hls_project_dir  # noqa: E402,F401  (the documented fixture import)
