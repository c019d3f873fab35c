"""keras_wc.emulate against Keras fake-quant and an independent float recomputation, on digits."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QConv1D, QConv2D, QDense, QDepthwiseConv2D

from keras_wc import datasets, models
from keras_wc.datapath import describe_model
from keras_wc.datapath.specs import CompressedSpec
from keras_wc.emulate import compare, emulate, run
from keras_wc.quantizers import DFP, SWC, Po2, PolyApprox, SparseTernary

INPUT_FORMAT = "ufixed<8,1>"   # digits pixels are k/16 in [0, 1]
ACT = "quantized_relu(8,3)"

METHODS = {
    "swc_fixed": lambda conv: SWC(sw_bits=4, group="kernel" if conv else 8),
    "swc_po2": lambda conv: SWC(sw_bits=3, group="kernel" if conv else 8, sw_format="po2"),
    "swc_folded": lambda conv: SWC(sw_bits=4, group="filter", fold_denominator=True),
    "dfp": lambda conv: DFP(bits=6),
    "dfp_channel": lambda conv: DFP(bits=5, per_channel=True),
    "po2": lambda conv: Po2(bits=4),
    "ternary_8_2": lambda conv: SparseTernary(8, 2),
    "ternary_4_1": lambda conv: SparseTernary(4, 1, normalize=True),
    "ternary_po2": lambda conv: SparseTernary(8, 2, delta_format="po2"),
    "poly1": lambda conv: PolyApprox(degree=1, levels=8),
    "poly2": lambda conv: PolyApprox(degree=2, levels=8, group="layer"),
}


@pytest.fixture(scope="module")
def data():
    (x_train, y_train), (x_test, y_test) = datasets.load("digits")
    return x_train, y_train, x_test, y_test


def _train(model, data, epochs=3):
    tf.keras.utils.set_random_seed(0)
    model.compile(tf.keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(data[0], data[1], epochs=epochs, batch_size=64, verbose=0)
    return model


def _keras_logits(model, x):
    return models.logits_model(model).predict(x, verbose=0) if "logits" in [layer.name for layer in model.layers] else \
        model.predict(x, verbose=0)


def _float_recompute(spec: CompressedSpec, layer, x: np.ndarray):
    """float64 output of the layer from decode(encode(w)) (the quantizer's own float weights) and the
    emulator's input values, plus the float64 sum of |w| |x| (scale of float32 rounding in decode)."""
    quantizer = layer.kernel_quantizer_internal
    w = quantizer.decode(quantizer.encode(layer.kernel.numpy())).astype(np.float64)
    bias = np.asarray(layer.bias_quantizer_internal(layer.bias) if layer.bias_quantizer_internal else layer.bias,
                      np.float64)
    if isinstance(layer, QDense):
        return x @ w + bias, np.abs(x) @ np.abs(w)
    conv = lambda a, b: tf.nn.convolution(a, b, layer.strides, layer.padding.upper()).numpy()  # noqa: E731
    return conv(x, w) + bias, conv(np.abs(x), np.abs(w))


def _check_model(model, data, input_format=INPUT_FORMAT, rounding_only=True):
    """The shared assertions of every emulator test; returns the comparison.

    Argmax agreement is measured on all 1797 digits (train + test), so that 99.9% allows one
    disagreement; the per-layer checks run on the 360 test images. ``rounding_only``: no
    folded BN, so the first layer that diverges end to end is a rounding stage (QActivation,
    non power-of-two average pooling), by at most one LSB.
    """
    x_all = np.concatenate([data[0], data[2]])
    all_logits = run(describe_model(model, input_format), x_all).output
    agreement = np.mean(all_logits.argmax(1) == _keras_logits(model, x_all).argmax(1))
    assert agreement >= 0.999, agreement
    x = data[2]
    specs = describe_model(model, input_format)
    result = run(specs, x)
    for spec in specs[1:]:
        ints = result.integers[spec.name]
        if spec.output_format is not None:   # every tensor within its proven bound and declared format
            peak = int(np.max(np.abs(ints.astype(object)), initial=0))
            fmt = spec.output_format
            assert peak <= spec.peak <= max(-fmt.min_int, fmt.max_int), spec.name
        if isinstance(spec, CompressedSpec):
            peaks = result.peaks[spec.name]
            assert peaks["acc"] <= spec.acc_format.max_int, spec.name
            assert peaks["partial"] <= spec.partial_format.max_int, spec.name
            layer = model.get_layer(spec.name)
            if hasattr(layer, "kernel_quantizer_internal") and hasattr(layer.kernel_quantizer_internal, "decode"):
                inputs = result.value(spec.inputs[0])
                expected, magnitude = _float_recompute(spec, layer, inputs)
                lsb = 2.0 ** -spec.output_format.frac
                # half an LSB for the bias put on the grid, half for SWC's /D, float32 rounding of decode
                slack = 0.5 * lsb * (1 + (spec.denominator > 1)) + 2 ** -23 * magnitude + 1e-12 * (1 + magnitude)
                assert np.all(np.abs(result.value(spec.name) - expected) <= slack), spec.name
    comparison = compare(model, x, input_format)
    assert comparison.ok, str(comparison)
    if rounding_only:
        first = next((d for d in comparison.layers if d.end_to_end and d.kind not in ("compressed", "identity")), None)
        assert first is None or (first.kind in ("quantize", "pool") and first.end_to_end <= 1.0), str(comparison)
    return comparison


@pytest.mark.parametrize("method", list(METHODS))
def test_dense_model(method, data):
    model = _train(models.mlp(hidden=(32,), quantizer=lambda name, shape: METHODS[method](False),
                              activation_quantizer=ACT), data)
    _check_model(model, data)


@pytest.mark.parametrize("method", list(METHODS))
def test_conv_model(method, data):
    q = lambda name, shape: METHODS[method](len(shape) == 4)  # noqa: E731
    model = _train(models.lenet5((8, 8, 1), quantizer=q, activation_quantizer=ACT), data, epochs=2)
    comparison = _check_model(model, data)
    assert comparison["pool1"].local == 0 and comparison["flatten"].local == 0


def _mixed_model():
    """QKeras quantized_bits and keras_wc layers, input QActivation, BN after a compressed layer,
    max/average pooling, depthwise, a residual Add, ReLU."""
    qb = "quantized_bits(4,0,1,alpha=1)"
    inputs = tf.keras.Input((8, 8, 1), name="input")
    x = QActivation("quantized_bits(8,0,0,0)", name="input_quant")(inputs)
    x = QConv2D(8, 3, padding="same", kernel_quantizer=qb, bias_quantizer=qb, name="conv1")(x)
    x = tf.keras.layers.BatchNormalization(name="bn1")(x)
    x = QActivation("quantized_relu(6,2)", name="act1")(x)
    x = tf.keras.layers.MaxPooling2D(2, name="pool1")(x)
    y = QConv2D(8, 3, padding="same", kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv2")(x)
    y = QActivation("quantized_bits(8,2,0)", name="act2")(y)
    z = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=DFP(bits=6, kernel_layout="depthwise"),
                         name="dw")(y)
    z = QActivation("quantized_bits(8,2,0)", name="act3")(z)
    x = tf.keras.layers.Add(name="add")([y, z])
    x = tf.keras.layers.ReLU(name="relu")(x)
    x = tf.keras.layers.AveragePooling2D(2, name="avg")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = QDense(24, kernel_quantizer="quantized_po2(4)", name="fc1")(x)
    x = QActivation(ACT, name="fc1_act")(x)
    x = QDense(10, kernel_quantizer=SparseTernary(8, 2), name="logits")(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs)


def test_mixed_model(data):
    model = _train(_mixed_model(), data, epochs=3)
    comparison = _check_model(model, data, input_format=None, rounding_only=False)
    assert comparison["input_quant"].end_to_end == 0 and comparison["add"].local == 0
    assert comparison["avg"].local == 0 and comparison["relu"].local == 0


def test_conv1d_and_odd_average_pool(data):
    """Conv1D on rows, and average pooling over 3x3 (round half even onto the input grid)."""
    inputs = tf.keras.Input((8, 8, 1))
    x = QActivation("quantized_bits(8,0,0,0)", name="q")(inputs)
    x = tf.keras.layers.AveragePooling2D(3, strides=1, name="avg3")(x)
    x = tf.keras.layers.Reshape((6, 6), name="rows")(x)
    x = QConv1D(6, 3, kernel_quantizer=Po2(bits=4), name="conv1d")(x)
    x = QActivation(ACT, name="act")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    outputs = QDense(10, kernel_quantizer=DFP(bits=8), name="logits")(x)
    model = _train(tf.keras.Model(inputs, outputs), data)
    comparison = _check_model(model, data, input_format=None)
    assert 1 <= comparison["avg3"].tolerance < 2 and comparison["avg3"].local <= 1  # float32 mean vs 12 extra bits


def test_trace_returns_every_layer(data):
    model = models.mlp(hidden=(16,), quantizer=lambda name, shape: DFP(bits=6), activation_quantizer=ACT)
    traced = emulate(model, data[2][:5], input_format=INPUT_FORMAT, trace=True)
    assert list(traced) == [layer.name for layer in model.layers]
    assert np.array_equal(traced["softmax"], emulate(model, data[2][:5], input_format=INPUT_FORMAT))
    assert traced["fc1"].shape == (5, 16) and traced["flatten"].shape == (5, 64)
    text = str(compare(model, data[2][:20], INPUT_FORMAT))
    assert "fc1_act" in text and "argmax agreement" in text


def test_off_grid_input_raises(data):
    model = models.mlp(hidden=(16,), quantizer=lambda name, shape: DFP(bits=6), activation_quantizer=ACT)
    x = data[2][:10].copy()
    x[0, 0, 0, 0] = 0.3001
    with pytest.raises(ValueError, match=r"input: 1 of 640 values are not on the declared grid"):
        emulate(model, x, input_format=INPUT_FORMAT)
    with pytest.raises(ValueError, match="out of range"):
        emulate(model, data[2][:10] * 4, input_format=INPUT_FORMAT)
    with pytest.raises(ValueError, match="float inputs"):
        emulate(model, data[2][:10])


def test_wide_accumulators_use_python_ints(data):
    """Compressed layers chained without requantization overflow int64 bounds: object arrays, still exact."""
    model = tf.keras.Sequential([tf.keras.Input((8, 8, 1)), tf.keras.layers.Flatten()] +
                                [QDense(64, kernel_quantizer=SWC(sw_bits=8, maw_bits=24, group="filter"),
                                        name=f"fc{i}") for i in range(3)] +
                                [QDense(10, kernel_quantizer=DFP(bits=8), name="logits")])
    specs = describe_model(model, INPUT_FORMAT)
    assert specs[-1].acc_format.bits > 64
    logits = emulate(model, data[2][:20], INPUT_FORMAT)
    keras = model.predict(data[2][:20], verbose=0)
    assert np.allclose(logits, keras, rtol=1e-4, atol=1e-4 * np.abs(keras).max())
