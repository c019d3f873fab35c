"""QR and weighted QR: the loss value, serialization, attaching, and the measured pull to the levels."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QDense
from qkeras.quantizers import quantized_bits

from keras_wc.quantizers import DFP, Po2, SWC
from keras_wc.regularizers import QuantizationRegularizer, attach_qr, quantization_step, regularizers_of


def _mlp(seed: int, bits: int = 4) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([
        tf.keras.Input((64,)),
        QDense(32, kernel_quantizer=DFP(bits=bits), activation="relu", name="hidden"),
        QDense(10, kernel_quantizer=DFP(bits=bits), name="out")])
    return model


def _compile(model: tf.keras.Model) -> tf.keras.Model:
    model.compile(tf.keras.optimizers.Adam(0.01), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _mean_distance(model: tf.keras.Model) -> float:
    """Mean |w - Q(w)| of each quantized kernel, averaged over the layers."""
    values = []
    for layer in model.layers:
        w = layer.kernel.numpy()
        values.append(np.mean(np.abs(w - layer.kernel_quantizer_internal(w).numpy())))
    return float(np.mean(values))


@pytest.mark.parametrize("p", [1, 2])
def test_loss_value_matches_definition(rng, p):
    w = rng.normal(size=(16, 4)).astype(np.float32)
    q = DFP(bits=3)
    expected = 0.5 * np.sum(np.abs(w - q(w).numpy()) ** p)
    assert float(QuantizationRegularizer(q, strength=0.5, p=p)(w)) == pytest.approx(expected, rel=1e-5)


def test_weightings(rng):
    w = rng.normal(size=(16, 4)).astype(np.float32)
    q = Po2(bits=3)
    gap = np.abs(w - q(w).numpy())
    step = float(quantization_step(q, q(w)))
    assert step == pytest.approx(np.max(np.abs(q(w).numpy())) / 3)
    step_loss = QuantizationRegularizer(q, strength=1.0, weighting="step")(w)
    assert float(step_loss) == pytest.approx(np.sum((gap / step) ** 2), rel=1e-5)
    magnitude = np.abs(w) / np.abs(w).max()
    assert float(QuantizationRegularizer(q, 1.0, weighting="magnitude")(w)) == pytest.approx(
        np.sum(gap ** 2 * magnitude), rel=1e-5)
    half = QuantizationRegularizer(q, 1.0, weighting=lambda w, q: tf.fill(tf.shape(w), 0.5))(w)
    assert float(half) == pytest.approx(0.5 * np.sum(gap ** 2), rel=1e-5)


def test_gradient_pulls_towards_levels():
    q = DFP(bits=3)
    w = tf.Variable([[0.3], [-0.8]], dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = QuantizationRegularizer(q, 1.0)(w)
    grad = tape.gradient(loss, w).numpy()
    target = q(w).numpy()
    assert np.allclose(grad, 2 * (w.numpy() - target))


def test_config_round_trip_keeps_quantizer_and_strength(rng):
    w = rng.normal(size=(8, 3)).astype(np.float32)
    for quantizer in (SWC(sw_bits=3, group=4, prune_threshold=0.2), quantized_bits(4, 0, alpha=1)):
        reg = QuantizationRegularizer(quantizer, strength=0.25, p=1, weighting="step")
        again = tf.keras.regularizers.deserialize(tf.keras.regularizers.serialize(reg))
        assert isinstance(again, QuantizationRegularizer) and again.get_config() == reg.get_config()
        assert float(again(w)) == pytest.approx(float(reg(w)), rel=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="p=3"):
        QuantizationRegularizer(DFP(), p=3)
    with pytest.raises(ValueError, match="strength=-1"):
        QuantizationRegularizer(DFP(), strength=-1)
    with pytest.raises(ValueError, match="weighting='abs'"):
        QuantizationRegularizer(DFP(), weighting="abs")


def test_attach_uses_each_layers_own_quantizer_and_is_idempotent():
    model = _compile(_mlp(0))
    regs = attach_qr(model, strength=1e-3)
    assert set(regs) == {"hidden", "out"}
    assert all(regs[layer.name].quantizer is layer.kernel_quantizer_internal for layer in model.layers)
    assert len(model.losses) == 2
    again = attach_qr(model, strength=2e-3, weighting="step")
    assert len(model.losses) == 2 and again["out"] is regs["out"]
    assert float(regs["out"].strength.numpy()) == pytest.approx(2e-3)
    assert set(regularizers_of(model)) == {"hidden", "out"}
    with pytest.raises(ValueError, match="layers=\\['nope'\\]"):
        attach_qr(model, layers=["nope"])


def test_attach_refuses_a_foreign_regularizer():
    model = tf.keras.Sequential([tf.keras.Input((4,)), QDense(2, kernel_quantizer=DFP(), kernel_regularizer="l2",
                                                                name="d")])
    with pytest.raises(ValueError, match="layer 'd' already has kernel_regularizer"):
        attach_qr(model)


def test_qr_pulls_weights_to_levels_on_digits(digits):
    """Same seed, same data, 10 epochs: QR must shrink the mean |w - Q(w)| by >= 1.4x."""
    x, y, x_test, y_test = digits
    results = {}
    for strength in (0.0, 1e-2):
        model = _mlp(seed=3)
        if strength:
            attach_qr(model, strength=strength)
        _compile(model).fit(x, y, epochs=10, batch_size=64, verbose=0)
        results[strength] = (_mean_distance(model), model.evaluate(x_test, y_test, verbose=0)[1])
    factor = results[0.0][0] / results[1e-2][0]
    print(f"QR distance: {results[0.0][0]:.4f} -> {results[1e-2][0]:.4f} (x{factor:.2f}); "
          f"accuracy {results[0.0][1]:.3f} -> {results[1e-2][1]:.3f}")
    assert factor >= 1.4
    assert results[1e-2][1] >= 0.85
