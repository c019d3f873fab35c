"""Layers of real CNNs through the SQNAP backend: C simulation bit-exact with the emulator.

Every case is one small model ``QActivation -> <the layer under test> -> Flatten -> QDense``
around keras_wc-quantized convolutions, converted in ``io_parallel`` and ``io_stream`` and
C-simulated on 40 inputs; the emulator agrees with Keras within the documented tolerances
(``compare(...).ok``). BatchNormalization gets statistics far from the identity.
"""

from __future__ import annotations

from typing import Callable, Dict

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu  # noqa: E402

from keras_wc.emulate import compare  # noqa: E402
from keras_wc.quantizers import DFP, SWC  # noqa: E402
from keras_wc.testing import assert_csim_bit_exact  # noqa: E402

L = tf.keras.layers
SHAPE = (8, 8, 2)


def conv(filters: int, name: str) -> QConv2D:
    return QConv2D(filters, 3, padding="same", kernel_quantizer=SWC(sw_bits=4, group="kernel"), name=name)


def relu(bits: int = 6, integer: int = 2) -> QActivation:
    return QActivation(quantized_relu(bits, integer))


#: layer kind -> the body applied to the quantized input
BODIES: Dict[str, Callable] = {
    "max_same_stride2": lambda x: L.MaxPooling2D(3, strides=2, padding="same")(relu()(conv(3, "c")(x))),
    "max_same_stride1_signed": lambda x: L.MaxPooling2D(3, strides=1, padding="same")(conv(3, "c")(x)),
    "avg_valid_2x2": lambda x: L.AveragePooling2D(2)(relu(8, 3)(conv(3, "c")(x))),
    "avg_same_3x3": lambda x: L.AveragePooling2D(3, strides=1, padding="same")(conv(3, "c")(x)),
    "global_avg": lambda x: L.GlobalAveragePooling2D()(conv(3, "c")(x)),
    "global_max": lambda x: L.GlobalMaxPooling2D()(conv(3, "c")(x)),
    "zero_padding": lambda x: conv(2, "c")(L.ZeroPadding2D(((1, 2), (0, 1)))(x)),
    "batchnorm_after_conv": lambda x: L.BatchNormalization()(conv(2, "c")(x)),
    "batchnorm_alone": lambda x: L.BatchNormalization()(x),
    "concatenate": lambda x: L.Concatenate()([conv(2, "a")(x), relu(4, 1)(x)]),
    "subtract": lambda x: L.Subtract()([conv(2, "a")(x), conv(2, "b")(x)]),
    "multiply": lambda x: L.Multiply()([conv(2, "a")(x), conv(2, "b")(x)]),
    "average": lambda x: L.Average()([conv(2, "a")(x), conv(2, "b")(x)]),
    "residual_add": lambda x: L.Add()([conv(2, "a")(x), x]),
    "identities": lambda x: L.GaussianNoise(0.1)(L.SpatialDropout2D(0.2)(L.Dropout(0.3)(conv(2, "c")(x)))),
}


def build(kind: str, seed: int = 0) -> tf.keras.Model:
    """The model of one case, with random BatchNormalization statistics far from identity."""
    rng = np.random.default_rng(seed)
    inputs = tf.keras.Input(SHAPE)
    x = BODIES[kind](QActivation(quantized_bits(8, 0, alpha=1), name="q0")(inputs))
    x = QDense(5, kernel_quantizer=DFP(bits=6), name="out")(L.Flatten()(x))
    model = tf.keras.Model(inputs, x)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.3, 3, c), rng.normal(0, 1, c), rng.normal(0, 2, c),
                               rng.uniform(0.05, 4, c)])
    return model


def inputs(n: int = 40, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype(np.float32)


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_emulator_agrees_with_keras(kind):
    result = compare(build(kind), inputs(100))
    assert result.ok, str(result)
    assert result.argmax_agreement >= 0.97


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_csim_bit_exact(kind, io_type):
    flavor = "Vivado" if io_type == "io_stream" else "Vitis"
    result = assert_csim_bit_exact(build(kind), inputs(), io_type=io_type, flavor=flavor)
    assert result.bit_exact == result.total == 40


def test_layer_kinds_outside_the_datapath_are_refused_by_name():
    inputs_ = tf.keras.Input(SHAPE)
    x = QActivation(quantized_bits(8, 0, alpha=1))(inputs_)
    x = L.Conv2DTranspose(2, 3, name="up")(x)
    with pytest.raises(ValueError, match=r"layer 'up' \(Conv2DTranspose\) is not supported"):
        compare(tf.keras.Model(inputs_, x), inputs(2))


def test_float_dense_is_refused_with_the_reason():
    inputs_ = tf.keras.Input(SHAPE)
    x = L.Dense(3, name="fc")(L.Flatten()(QActivation(quantized_bits(8, 0, alpha=1))(inputs_)))
    with pytest.raises(ValueError, match=r"layer 'fc' \(Dense\): a float kernel is not HLS-exact"):
        compare(tf.keras.Model(inputs_, x), inputs(2))


def test_nan_in_batchnorm_statistics_names_the_layer():
    model = build("batchnorm_after_conv")
    bn = next(layer for layer in model.layers if isinstance(layer, L.BatchNormalization))
    weights = bn.get_weights()
    weights[2][0] = np.nan
    bn.set_weights(weights)
    with pytest.raises(ValueError, match=rf"layer '{bn.name}' \(BatchNormalization\): 1 of 2 moving_mean"):
        compare(model, inputs(2))
