"""Layers of real CNNs through the SQNAP backend: C simulation bit-exact with the emulator.

Every case is one small model ``QActivation -> <the layer under test> -> Flatten -> QDense``
around keras_wc-quantized convolutions (2-D cases on 8x8x2 images, 1-D cases on 16x2
sequences), converted in ``io_parallel`` and ``io_stream`` and C-simulated on 40 inputs; the
emulator agrees with Keras within the documented tolerances (``compare(...).ok``).
BatchNormalization gets statistics far from the identity: after a keras_wc layer it is folded
into that layer's epilogue, after a QKeras layer or a shared output it stands alone.
"""

from __future__ import annotations

import re
from typing import Callable, Dict

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")
from qkeras import (QActivation, QConv1D, QConv2D, QDense, QDepthwiseConv2D, quantized_bits,  # noqa: E402
                    quantized_po2, quantized_relu)

from keras_wc.datapath import AffineSpec, CompressedSpec, describe_model  # noqa: E402
from keras_wc.emulate import compare, emulate  # noqa: E402
from keras_wc.emulate.layers import scale  # noqa: E402
from keras_wc.emulate.run import run  # noqa: E402
from keras_wc.quantizers import DFP, SWC, Po2, SparseTernary  # noqa: E402
from keras_wc.testing import assert_csim_bit_exact  # noqa: E402

L = tf.keras.layers
SHAPE = (8, 8, 2)
SHAPE_1D = (16, 2)


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
    "batchnorm_after_depthwise": lambda x: L.BatchNormalization()(QDepthwiseConv2D(
        3, depth_multiplier=2, depthwise_quantizer=DFP(bits=6, kernel_layout="depthwise"), name="c")(x)),
    "batchnorm_after_dense": lambda x: L.BatchNormalization()(QDense(
        6, kernel_quantizer=SparseTernary(n=8, k=2), name="c")(L.Flatten()(x))),
    "batchnorm_after_qkeras_conv": lambda x: L.BatchNormalization()(QConv2D(
        2, 3, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(8, 3), name="c")(x)),
    "batchnorm_after_shared_conv": lambda x: (lambda y: L.Add()([L.BatchNormalization()(y), y]))(conv(2, "c")(x)),
    "batchnorm_alone": lambda x: L.BatchNormalization()(x),
    "concatenate": lambda x: L.Concatenate()([conv(2, "a")(x), relu(4, 1)(x)]),
    "subtract": lambda x: L.Subtract()([conv(2, "a")(x), conv(2, "b")(x)]),
    "multiply": lambda x: L.Multiply()([conv(2, "a")(x), conv(2, "b")(x)]),
    "average": lambda x: L.Average()([conv(2, "a")(x), conv(2, "b")(x)]),
    "residual_add": lambda x: L.Add()([conv(2, "a")(x), x]),
    "identities": lambda x: L.GaussianNoise(0.1)(L.SpatialDropout2D(0.2)(L.Dropout(0.3)(conv(2, "c")(x)))),
    # io_stream line buffer: input rows no window reads (drained), a stride larger than the window
    "conv_stride2_valid_remainder": lambda x: QConv2D(3, 3, strides=2, kernel_quantizer=SWC(sw_bits=4, group="kernel"),
                                                      name="c")(x),
    "max_3_stride3_remainder": lambda x: L.MaxPooling2D(3, strides=3)(conv(3, "c")(x)),
    "max_1_stride3": lambda x: L.MaxPooling2D(1, strides=3)(conv(3, "c")(x)),
    # a QKeras quantized_po2 kernel on hls4ml's Dense, after a wide (12 extra bits) average
    "qkeras_po2_after_avg": lambda x: QDense(4, kernel_quantizer=quantized_po2(5), name="p")(
        L.Flatten()(L.AveragePooling2D(3, strides=1, padding="same")(conv(2, "c")(x)))),
}


def conv1d(filters: int, name: str) -> QConv1D:
    return QConv1D(filters, 3, padding="same", kernel_quantizer=Po2(bits=4), name=name)


#: 1-D layer kinds (on SHAPE_1D sequences)
BODIES_1D: Dict[str, Callable] = {
    "1d_batchnorm_after_conv": lambda x: L.BatchNormalization()(conv1d(3, "c")(x)),
    "1d_max_same_stride2": lambda x: L.MaxPooling1D(3, strides=2, padding="same")(conv1d(3, "c")(x)),
    "1d_avg_same_3": lambda x: L.AveragePooling1D(3, strides=1, padding="same")(conv1d(3, "c")(x)),
    "1d_avg_valid_2": lambda x: L.AveragePooling1D(2)(relu(8, 3)(conv1d(3, "c")(x))),
    "1d_global_avg": lambda x: L.GlobalAveragePooling1D()(conv1d(3, "c")(x)),
    "1d_global_max": lambda x: L.GlobalMaxPooling1D()(conv1d(3, "c")(x)),
    "1d_zero_padding": lambda x: conv1d(2, "c")(L.ZeroPadding1D((2, 1))(x)),
    "1d_reshape": lambda x: L.Reshape((8, 4))(conv1d(2, "c")(x)),
}
ALL_KINDS = sorted(BODIES) + sorted(BODIES_1D)
#: cases whose BatchNormalization folds into the keras_wc layer before it
FOLDED = ("batchnorm_after_conv", "batchnorm_after_depthwise", "batchnorm_after_dense", "1d_batchnorm_after_conv")


def build(kind: str, seed: int = 0) -> tf.keras.Model:
    """The model of one case, with random BatchNormalization statistics far from identity."""
    rng = np.random.default_rng(seed)
    inputs = tf.keras.Input(SHAPE_1D if kind in BODIES_1D else SHAPE)
    x = {**BODIES, **BODIES_1D}[kind](QActivation(quantized_bits(8, 0, alpha=1), name="q0")(inputs))
    x = QDense(5, kernel_quantizer=DFP(bits=6), name="out")(L.Flatten()(x))
    model = tf.keras.Model(inputs, x)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.3, 3, c), rng.normal(0, 1, c), rng.normal(0, 2, c),
                               rng.uniform(0.05, 4, c)])
    return model


def inputs(n: int = 40, seed: int = 1, kind: str = "") -> np.ndarray:
    shape = SHAPE_1D if kind in BODIES_1D else SHAPE
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + shape).astype(np.float32)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_emulator_agrees_with_keras(kind):
    result = compare(build(kind), inputs(100, kind=kind))
    assert result.ok, str(result)
    assert result.argmax_agreement >= 0.97


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_csim_bit_exact(kind, io_type):
    flavor = "Vivado" if io_type == "io_stream" else "Vitis"
    result = assert_csim_bit_exact(build(kind), inputs(kind=kind), io_type=io_type, flavor=flavor)
    assert result.bit_exact == result.total == 40


@pytest.mark.parametrize("kind", FOLDED)
def test_batchnorm_folds_into_the_keras_wc_layer_with_the_standalone_arithmetic(kind):
    """The fused spec computes exactly ``scale(layer output)``: the standalone BN's arithmetic."""
    model = build(kind)
    specs = {spec.name: spec for spec in describe_model(model)}
    fused = specs["c"]
    bn = fused.scaling.layer
    assert isinstance(fused, CompressedSpec) and bn not in specs and not any(
        isinstance(spec, AffineSpec) for spec in specs.values())
    assert fused.keras_output == bn and all(bn not in spec.inputs for spec in specs.values())
    x = inputs(20, kind=kind)
    before = tf.keras.Model(model.inputs, model.get_layer("c").output)
    unfused = run(describe_model(before), x).integers["c"]
    np.testing.assert_array_equal(run(list(specs.values()), x).integers["c"], scale(unfused, fused.scaling))


@pytest.mark.parametrize("kind", ["batchnorm_after_qkeras_conv", "batchnorm_after_shared_conv", "batchnorm_alone"])
def test_batchnorm_stands_alone_after_qkeras_layers_and_shared_outputs(kind):
    specs = describe_model(build(kind))
    assert [spec.kind for spec in specs].count("affine") == 1
    assert all(getattr(spec, "scaling", None) is None for spec in specs if spec.kind == "compressed")


@pytest.mark.slow
def test_folded_batchnorm_design_has_no_batchnorm_layer(tmp_path):
    """The BN's multipliers and offsets are the conv's weight arrays; no nnet::normalize is emitted."""
    from keras_wc.hls import convert, resources

    model = build("batchnorm_after_conv")
    convert(model, tmp_path / "prj")
    top = (tmp_path / "prj/firmware/myproject.cpp").read_text()
    assert "normalize" not in top and top.count("sqnap::conv2d<") == 1
    parameters = (tmp_path / "prj/firmware/parameters.h").read_text()
    batchnorm = next(layer.name for layer in model.layers if isinstance(layer, L.BatchNormalization))
    assert f"struct scaling {{  // BatchNormalization '{batchnorm}' folded in" in parameters
    assert "typedef sqnap::unscaled scaling;" in parameters  # the final QDense
    folded = {row.name: row for row in resources(model).layers}["c"]
    alone = resources(tf.keras.Model(model.inputs, model.get_layer("c").output)).layers[0]
    assert folded.sqnap_multipliers == alone.sqnap_multipliers + 2  # one more product per BN channel
    defines = (tmp_path / "prj/firmware/defines.h").read_text()
    stored = [int(re.search(rf"typedef ap_u?int<(\d+)> {name}_t;", defines).group(1))
              for name in ("sq_scale3", "sq_offset3")]
    assert folded.sqnap_weight_bits == alone.sqnap_weight_bits + 2 * sum(stored)  # counted = emitted


def test_emulator_trace_names_the_folded_layer_after_its_keras_layer():
    model = build("batchnorm_after_conv")
    trace = emulate(model, inputs(3), trace=True)
    batchnorm = next(layer.name for layer in model.layers if isinstance(layer, L.BatchNormalization))
    assert "c" in trace and batchnorm not in trace


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
