"""Tests of keras_wc.models: architectures, quantizer plumbing, logits, one real training run."""

import numpy as np
import pytest
import tensorflow as tf
from qkeras.quantizers import (bernoulli, binary, quantized_bits, quantized_po2, quantized_relu, quantized_ulaw,
                               stochastic_binary, stochastic_ternary, ternary)

from keras_wc import SWC, datasets, models


def conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


def dense_params(n_in, n_out):
    return n_in * n_out + n_out


def quantized_kernel(model, name):
    layer = model.get_layer(name)
    return layer.kernel_quantizer_internal(layer.kernel).numpy()


# -- architectures -------------------------------------------------------------------------
@pytest.mark.parametrize("input_shape", [(28, 28, 1), (32, 32, 1)])
def test_lenet5_has_the_classic_61706_parameters(input_shape):
    model = models.lenet5(input_shape)
    hand = (conv_params(5, 1, 6) + conv_params(5, 6, 16) + dense_params(5 * 5 * 16, 120)
            + dense_params(120, 84) + dense_params(84, 10))
    assert hand == 61706
    assert model.count_params() == hand
    assert model.get_layer("conv1").output_shape == (None, 28, 28, 6)
    assert model.get_layer("pool2").output_shape == (None, 5, 5, 16)


def test_lenet5_8x8_variant_geometry():
    model = models.lenet5((8, 8, 1))
    shapes = {name: model.get_layer(name).output_shape[1:] for name in ("conv1", "pool1", "conv2", "pool2")}
    assert shapes == {"conv1": (8, 8, 6), "pool1": (4, 4, 6), "conv2": (4, 4, 16), "pool2": (2, 2, 16)}
    assert model.count_params() == (conv_params(5, 1, 6) + conv_params(5, 6, 16) + dense_params(64, 120)
                                    + dense_params(120, 84) + dense_params(84, 10))


def test_mlp_and_vgg_small_parameter_counts_and_names():
    assert models.mlp().count_params() == dense_params(64, 64) + dense_params(64, 32) + dense_params(32, 10)
    vgg = models.vgg_small()
    convs = [(3, 16), (16, 16), (16, 32), (32, 32), (32, 64), (64, 64)]
    assert vgg.count_params() == (sum(conv_params(3, a, b) for a, b in convs) + dense_params(4 * 4 * 64, 64)
                                  + dense_params(64, 10))
    weighted = [layer.name for layer in vgg.layers if layer.weights]
    assert weighted == ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1", "logits"]
    assert vgg.layers[-1].name == "softmax" and vgg.layers[-2].name == "logits"


def test_build_registry_and_bad_arguments():
    assert models.build("mlp", hidden=(16,)).count_params() == dense_params(64, 16) + dense_params(16, 10)
    with pytest.raises(ValueError, match=
                       r"model 'resnet': unknown; expected one of \['lenet5', 'mlp', 'vgg_small'\]"):
        models.build("resnet")
    with pytest.raises(ValueError, match=r"input_shape=\(3, 3, 1\): lenet5 needs height and width >= 4"):
        models.lenet5((3, 3, 1))
    with pytest.raises(ValueError, match=r"input_shape=\(28, 28, 3\): height and width must be divisible by 8"):
        models.vgg_small((28, 28, 3))
    with pytest.raises(ValueError, match=r"num_classes=1: expected an int >= 2"):
        models.mlp(num_classes=1)
    with pytest.raises(ValueError, match=r"hidden=\(64, 0\): expected a sequence of ints >= 1"):
        models.mlp(hidden=(64, 0))
    with pytest.raises(ValueError, match=r"quantizer=42: expected None, a quantizer, a QKeras quantizer string"):
        models.mlp(quantizer=42)


# -- quantizers ----------------------------------------------------------------------------
def test_float_model_has_no_quantizers_and_plain_relu():
    model = models.lenet5((8, 8, 1))
    assert all(model.get_layer(n).kernel_quantizer_internal is None for n in ("conv1", "fc1", "logits"))
    assert model.get_layer("conv1_act").get_config()["activation"] == "relu"


def _on_grid(step, low, high):
    return lambda v: np.allclose(v / step, np.round(v / step)) and v.min() >= low and v.max() <= high


def _powers_of_two(v):
    nonzero = np.abs(v[v != 0])
    return np.allclose(np.log2(nonzero), np.round(np.log2(nonzero))) and nonzero.max() <= 1.0


def _subset(allowed):
    return lambda v: set(np.unique(v).tolist()) <= set(allowed)


QKERAS_KINDS = [
    (quantized_bits(4, 0, alpha=1), _on_grid(2 ** -3, -1.0, 1 - 2 ** -3)),
    ("quantized_bits(4,0,1,alpha=1)", _on_grid(2 ** -3, -1.0, 1 - 2 ** -3)),
    (quantized_po2(4), _powers_of_two),
    (ternary(alpha=1), _subset({-1.0, 0.0, 1.0})),
    (stochastic_ternary(alpha=1), _subset({-1.0, 0.0, 1.0})),
    (binary(alpha=1), _subset({-1.0, 1.0})),
    (stochastic_binary(alpha=1), _subset({-1.0, 1.0})),
    (bernoulli(alpha=1), lambda v: np.allclose(v, np.round(v), atol=1e-6) and _subset({0.0, 1.0})(np.round(v))),
    (quantized_ulaw(4, 0), lambda v: len(np.unique(v)) <= 16 and np.abs(v).max() <= 1.0),
]


@pytest.mark.parametrize("quantizer, on_grid", QKERAS_KINDS,
                         ids=[q if isinstance(q, str) else type(q).__name__ for q, _ in QKERAS_KINDS])
def test_every_qkeras_kernel_quantizer_builds_and_is_applied_per_layer(quantizer, on_grid):
    model = models.lenet5((8, 8, 1), quantizer=quantizer)
    originals = [model.get_layer(n).kernel_quantizer_internal for n in ("conv1", "conv2", "fc1", "fc2", "logits")]
    assert len({id(q) for q in originals}) == 5  # one clone per layer
    if not isinstance(quantizer, str):
        assert all(q is not quantizer and q.get_config() == quantizer.get_config() for q in originals)
    for name in ("conv1", "fc1", "logits"):
        assert on_grid(quantized_kernel(model, name)), name
    probabilities = model(np.random.RandomState(0).rand(4, 8, 8, 1).astype(np.float32)).numpy()
    assert probabilities.shape == (4, 10) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_swc_quantizer_per_layer_through_a_factory():
    def factory(name, shape):
        return SWC(sw_bits=4, group="kernel" if len(shape) == 4 else "filter")

    model = models.lenet5((8, 8, 1), quantizer=factory)
    conv1 = quantized_kernel(model, "conv1")  # (5, 5, 1, 6): one MAW per 5x5 slice
    maw = np.abs(conv1).max(axis=(0, 1), keepdims=True)
    codes = conv1 / maw * 7  # fixed format, sw_bits=4: s = c / 7
    assert np.allclose(codes, np.round(codes), atol=1e-4) and np.abs(codes).max() == pytest.approx(7)
    assert model.get_layer("fc1").kernel_quantizer_internal.group == "filter"
    assert np.isfinite(model(np.ones((1, 8, 8, 1), np.float32)).numpy()).all()


def test_dict_spec_applies_to_the_named_layers_only():
    spec = {"conv1": quantized_bits(4, 0, alpha=1), "logits": "ternary(alpha=1)", "fc2": None}
    model = models.lenet5((8, 8, 1), quantizer=spec)
    assert _on_grid(2 ** -3, -1, 1)(quantized_kernel(model, "conv1"))
    assert _subset({-1.0, 0.0, 1.0})(quantized_kernel(model, "logits"))
    assert all(model.get_layer(n).kernel_quantizer_internal is None for n in ("conv2", "fc1", "fc2"))
    with pytest.raises(ValueError, match=r"quantizer: no layer named \['conv3'\]; this model's layers are "
                                         r"\['conv1', 'conv2', 'fc1', 'fc2', 'logits'\]"):
        models.lenet5((8, 8, 1), quantizer={"conv3": ternary()})


def test_callable_spec_receives_names_and_kernel_shapes():
    calls = []

    def factory(name, shape):
        calls.append((name, shape))
        return None if name.startswith("conv") else binary(alpha=1)

    biases = []
    model = models.lenet5((28, 28, 1), quantizer=factory, bias_quantizer=lambda n, s: biases.append((n, s)))
    assert calls == [("conv1", (5, 5, 1, 6)), ("conv2", (5, 5, 6, 16)), ("fc1", (400, 120)),
                     ("fc2", (120, 84)), ("logits", (84, 10))]
    assert biases == [("conv1", (6,)), ("conv2", (16,)), ("fc1", (120,)), ("fc2", (84,)), ("logits", (10,))]
    assert model.get_layer("conv2").kernel_quantizer_internal is None
    assert _subset({-1.0, 1.0})(quantized_kernel(model, "fc2"))


def test_activation_and_input_quantizers_put_values_on_their_grids():
    input_quantizer = quantized_bits(4, 0, keep_negative=False, alpha=1)
    model = models.mlp(activation_quantizer=quantized_relu(3, 0), input_quantizer=input_quantizer)
    probe = tf.keras.Model(model.inputs, [model.get_layer(n).output for n in ("input_quant", "fc1_act")])
    x = np.random.RandomState(1).rand(16, 8, 8, 1).astype(np.float32)
    quantized_input, hidden = (t.numpy() for t in probe(x))
    assert _on_grid(2 ** -4, 0.0, 1 - 2 ** -4)(quantized_input) and not np.allclose(quantized_input, x)
    assert _on_grid(2 ** -3, 0.0, 1 - 2 ** -3)(hidden)
    assert isinstance(model.get_layer("fc2_act").quantizer, quantized_relu)


def test_logits_model_is_the_pre_softmax_output_with_shared_weights():
    model = models.lenet5((8, 8, 1), quantizer=quantized_bits(6, 0, alpha=1))
    head = models.logits_model(model)
    x = np.random.RandomState(2).rand(5, 8, 8, 1).astype(np.float32)
    logits = head(x).numpy()
    pre_softmax = tf.keras.Model(model.inputs, model.get_layer("softmax").input)(x).numpy()
    assert np.array_equal(logits, pre_softmax)
    assert np.allclose(tf.nn.softmax(logits).numpy(), model(x).numpy(), atol=1e-6)
    assert head.get_layer("logits") is model.get_layer("logits")
    with pytest.raises(ValueError, match=r"has no layer named 'logits'"):
        models.logits_model(tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2, name="out")]))


# -- real data -------------------------------------------------------------------------------
def test_float_mlp_learns_digits():
    tf.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = datasets.load("digits")
    model = models.mlp()
    model.compile(tf.keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=8, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.9
