"""The one model walker: every consumer reaches every quantized weight slot, depthwise included."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QConv2D, QDense, QDepthwiseConv2D
from tensorflow_model_optimization.sparsity.keras import PolynomialDecay

from keras_wc.callbacks import FreezeAssignments, GradualPruning, kernel_compression
from keras_wc.quantizers import DFP, SWC
from keras_wc.regularizers import QuantizationRegularizer, attach_qr
from keras_wc.report import compression_report
from keras_wc.report.costs import kernel_bits
from keras_wc.walker import quantized_slots, weight_slots


def _depthwise_model(seed: int = 0) -> tf.keras.Model:
    """8x8 digits: conv -> depthwise (SWC, depthwise layout) -> dense."""
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([
        QActivation("quantized_relu(8,1)", input_shape=(8, 8, 1), name="image_q"),
        QConv2D(4, 3, kernel_quantizer=DFP(bits=6), name="conv"),
        QActivation("quantized_relu(8,3)", name="conv_act"),
        QDepthwiseConv2D(3, depth_multiplier=2, name="dw",
                         depthwise_quantizer=SWC(sw_bits=4, group="filter", kernel_layout="depthwise")),
        QActivation("quantized_relu(8,3)", name="dw_act"),
        tf.keras.layers.Flatten(name="flatten"),
        QDense(10, kernel_quantizer=DFP(bits=8), name="logits")])
    model.compile(tf.keras.optimizers.Adam(3e-3), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  ["accuracy"])
    return model


def test_slots_name_the_depthwise_kernel():
    model = _depthwise_model()
    slots = {w.name: w for w in weight_slots(model)}
    assert list(slots) == ["conv", "dw", "logits"]
    assert slots["dw"].slot.weight == "depthwise_kernel" and slots["dw"].slot.kernel_layout == "depthwise"
    assert slots["dw"].quantizer is model.get_layer("dw").depthwise_quantizer_internal
    assert [w.name for w in quantized_slots(model)] == ["conv", "dw", "logits"]


def test_gradual_pruning_and_freezing_reach_depthwise(digits):
    x, y = digits[0].reshape(-1, 8, 8, 1), digits[1]
    model = _depthwise_model()
    dw = model.get_layer("dw").depthwise_quantizer_internal
    schedule = PolynomialDecay(0.0, 0.5, begin_step=0, end_step=20, frequency=2)
    model.fit(x[:640], y[:640], epochs=2, batch_size=32, verbose=0,
              callbacks=[GradualPruning(schedule, target={"dw": 0.3}, layers=["dw"]),
                         FreezeAssignments(last_epochs=1, layers=["dw"])])
    assert dw.get_control("prune_threshold") == pytest.approx(0.3)
    assert dw.frozen
    codes = dw.encode(model.get_layer("dw").depthwise_kernel).arrays["codes"].astype(np.int64)
    kept = np.abs(codes[codes != 0]) / dw.denominator
    assert kept.size > 0 and kept.min() >= 0.3


def test_qr_attaches_to_the_depthwise_regularizer():
    model = _depthwise_model()
    attached = attach_qr(model, strength=1e-3, layers=["dw"])
    layer = model.get_layer("dw")
    assert isinstance(layer.depthwise_regularizer, QuantizationRegularizer)
    assert attached["dw"].quantizer is layer.depthwise_quantizer_internal
    assert layer.get_config()["depthwise_regularizer"]["class_name"].endswith("QuantizationRegularizer")


def test_one_bit_count_for_report_and_precision_scaling():
    model = _depthwise_model()
    rows = {row.name: row for row in compression_report(model).layers}
    for weight in quantized_slots(model):
        assert rows[weight.name].kernel_bits == kernel_bits(weight.quantizer, weight.kernel.shape)
    float_bits, stored_bits, _ = kernel_compression(model)
    assert stored_bits == sum(rows[name].kernel_bits for name in ("conv", "dw", "logits"))
    assert float_bits == 32 * sum(rows[name].weights for name in ("conv", "dw", "logits"))
