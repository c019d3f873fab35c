"""keras_wc callbacks on sklearn digits: targets met, accuracy bounds, distribution, save/resume, errors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QDense
from qkeras.quantizers import quantized_bits
from tensorflow_model_optimization.sparsity.keras import ConstantSparsity, PolynomialDecay

from keras_wc.callbacks import (CompressionLogger, FreezeAssignments, GradualPruning, PrecisionScaling, QRSchedule,
                                kernel_compression, scale_precision)
from keras_wc.quantizers import DFP, SWC, PolyApprox, SparseTernary, custom_objects
from keras_wc.quantizers.ops import NP
from keras_wc.regularizers import attach_qr, regularizers_of

EPOCH_STEPS = 23  # ceil(1437 / 64) training steps per epoch on digits
#: while a SparseTernary layer still admits more than k non-zeros it cannot be encoded: the logger says so
NAN_WHILE_PRUNING = "CompressionLogger: logging NaN while the model cannot be encoded: SparseTernary.encode: active_k="


def _model(quantizers, seed: int = 0, units=(32,), lr: float = 0.01) -> tf.keras.Model:
    """An MLP on the 64 digit pixels: one QDense per quantizer, named l0, l1, ..."""
    tf.keras.utils.set_random_seed(seed)
    layers = [tf.keras.Input((64,))]
    widths = list(units) + [10]
    for index, (width, quantizer) in enumerate(zip(widths, quantizers)):
        layers.append(QDense(width, kernel_quantizer=quantizer, name=f"l{index}",
                             activation="relu" if index < len(widths) - 1 else None))
    model = tf.keras.Sequential(layers)
    model.compile(tf.keras.optimizers.Adam(lr), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _nonzeros_per_group(quantizer, kernel: np.ndarray) -> np.ndarray:
    grouped = quantizer.layout_for(kernel.shape).to_groups(quantizer(kernel).numpy(), NP)
    return np.count_nonzero(grouped, axis=-1)


def _swc_kept_scaling(quantizer, kernel: np.ndarray) -> np.ndarray:
    encoding = quantizer.encode(kernel)
    codes = encoding.arrays["codes"].astype(np.int64)
    return np.abs(codes[codes != 0]) / quantizer.denominator


# -- GradualPruning --------------------------------------------------------------------------
def test_gradual_pruning_meets_targets_on_digits(digits):
    x, y, x_test, y_test = digits
    swc, ternary = SWC(sw_bits=4, group=8), SparseTernary(n=8, k=2)
    model = _model([swc, ternary])
    schedule = PolynomialDecay(0.0, 0.8, begin_step=0, end_step=6 * EPOCH_STEPS, frequency=5)
    with pytest.warns(UserWarning, match=NAN_WHILE_PRUNING):
        history = model.fit(x, y, epochs=10, batch_size=64, verbose=0,
                            callbacks=[GradualPruning(schedule, target={"l0": 0.3}), CompressionLogger()])
    assert swc.get_control("prune_threshold") == pytest.approx(0.3)
    assert ternary.get_control("active_k") == 2
    assert _swc_kept_scaling(swc, model.layers[0].kernel.numpy()).min() >= 0.3
    assert _nonzeros_per_group(ternary, model.layers[1].kernel.numpy()).max() <= 2
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"GradualPruning SWC(thr 0.3)+ternary(8,2): accuracy {accuracy:.3f}, "
          f"compression x{history.history['compression_vs_float32'][-1]:.2f}, "
          f"zeros {history.history['zero_fraction'][-1]:.2f}")
    assert accuracy >= 0.85
    assert history.history["zero_fraction"][-1] > 0.4


def test_gradual_pruning_masks_qkeras_layers(digits):
    x, y, x_test, y_test = digits
    model = _model([quantized_bits(6, 0, alpha=1), quantized_bits(6, 0, alpha=1)])
    schedule = PolynomialDecay(0.0, 0.7, begin_step=EPOCH_STEPS, end_step=5 * EPOCH_STEPS, frequency=EPOCH_STEPS)
    model.fit(x, y, epochs=8, batch_size=64, verbose=0, callbacks=[GradualPruning(schedule)])
    for layer in model.layers:
        assert np.mean(layer.kernel.numpy() == 0) == pytest.approx(0.7, abs=0.01)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"GradualPruning mask 70% on quantized_bits(6): accuracy {accuracy:.3f}")
    assert accuracy >= 0.85


# -- QRSchedule --------------------------------------------------------------------------------
def test_qr_schedule_ramps_strength(digits):
    x, y, _, _ = digits
    model = _model([DFP(bits=4), DFP(bits=4)])
    regs = attach_qr(model, strength=0.0)
    seen = []

    class Probe(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(float(regs["l0"].strength.numpy()))

    schedule = QRSchedule(1e-2, begin_step=EPOCH_STEPS, end_step=3 * EPOCH_STEPS)
    model.fit(x, y, epochs=4, batch_size=64, verbose=0, callbacks=[schedule, Probe()])
    assert seen[0] == 0.0 and 0.0 < seen[1] < 1e-2 and seen[-1] == pytest.approx(1e-2)
    assert schedule.value(2 * EPOCH_STEPS) == pytest.approx(5e-3)


# -- PrecisionScaling --------------------------------------------------------------------------
def test_scale_precision_lowers_bits_and_reports_true_ratio(digits):
    x, y, x_test, y_test = digits
    model = _model([DFP(bits=8), DFP(bits=8)])
    model.fit(x, y, epochs=10, batch_size=64, verbose=0)
    model.compile(tf.keras.optimizers.Adam(1e-3),  # fine-tune gently: 1 digit of 360 is 0.28 points
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    result = scale_precision(model, (x, y), (x_test, y_test), tolerance=0.10, fine_tune_epochs=1)
    print(f"PrecisionScaling (tol 0.10 pt): bits {result['bits']}, ratio x{result['compression_ratio']:.2f}, "
          f"accuracy {result['reference_accuracy']:.4f} -> {result['accuracy']:.4f}, {len(result['trials'])} trials")
    assert min(result["bits"].values()) < 8
    memory = sum(layer.kernel_quantizer_internal.memory_bits(layer.kernel.shape) for layer in model.layers)
    weights = sum(int(np.prod(layer.kernel.shape)) for layer in model.layers)
    assert result["compression_ratio"] == pytest.approx(32 * weights / memory)
    assert result["bits"] == {layer.name: layer.kernel_quantizer_internal.bits for layer in model.layers}
    assert 100 * (result["reference_accuracy"] - result["accuracy"]) <= 0.10
    assert result["done"]


@pytest.mark.parametrize("patience, kept", [(2, True), (1, False)])
def test_precision_scaling_patience_gives_a_step_more_rounds(digits, monkeypatch, patience, kept):
    """A step over the budget is measured again after each extra round: with the scripted accuracies
    0.8, 0.8, 0.9 (reference 0.9) it is kept on the third measurement, reverted with patience 1."""
    import keras_wc.callbacks.precision as precision

    x, y, _, _ = digits
    model = _model([DFP(bits=3), DFP(bits=8)])
    model.compile(tf.keras.optimizers.Adam(1e-3), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    script = iter([0.9, 0.8, 0.8, 0.9] + [0.9] * 20)
    monkeypatch.setattr(precision, "accuracy", lambda *args, **kwargs: next(script))
    result = scale_precision(model, (x[:64], y[:64]), (x[:8], y[:8]), tolerance=0.10, fine_tune_epochs=1,
                             min_bits=2, patience=patience, layers=["l0"])
    first = result["trials"][0]
    assert first["layer"] == "l0" and first["bits"] == 2 and first["rounds"] == patience + 1
    assert first["kept"] is kept and result["bits"]["l0"] == (2 if kept else 3)
    with pytest.raises(ValueError, match="patience=-1: must be >= 0"):
        scale_precision(model, (x[:64], y[:64]), (x[:8], y[:8]), patience=-1, layers=["l0"])


def test_scale_precision_lowers_swc_sw_bits_on_digits(digits):
    x, y, x_test, y_test = digits
    model = _model([SWC(sw_bits=6, maw_bits=12, group=8), SWC(sw_bits=6, maw_bits=12, group=8)])
    model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    model.compile(tf.keras.optimizers.Adam(1e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    result = scale_precision(model, (x, y), (x_test, y_test), tolerance=0.5, fine_tune_epochs=1, min_bits=3)
    print(f"PrecisionScaling SWC (tol 0.5 pt): sw_bits {result['bits']}, ratio x{result['compression_ratio']:.2f}, "
          f"accuracy {result['reference_accuracy']:.4f} -> {result['accuracy']:.4f}, {len(result['trials'])} trials")
    quantizers = [layer.kernel_quantizer_internal for layer in model.layers]
    assert min(result["bits"].values()) < 6
    assert result["bits"] == {layer.name: q.sw_bits for layer, q in zip(model.layers, quantizers)}
    memory = sum(q.memory_bits(layer.kernel.shape) for layer, q in zip(model.layers, quantizers))
    weights = sum(int(np.prod(layer.kernel.shape)) for layer in model.layers)
    assert result["compression_ratio"] == pytest.approx(32 * weights / memory)
    # the encodings agree: codes stored at the lowered sw_bits, and memory_bits counts them
    for layer, q in zip(model.layers, quantizers):
        encoding = q.encode(layer.kernel)
        assert encoding.config["sw_bits"] == q.sw_bits and encoding.memory_bits == q.memory_bits(layer.kernel.shape)
        assert np.abs(encoding.arrays["codes"]).max() <= (1 << (q.sw_bits - 1)) - 1
    assert 100 * (result["reference_accuracy"] - result["accuracy"]) <= 0.5


# -- FreezeAssignments -------------------------------------------------------------------------
def test_freeze_assignments_fixes_swc_maw_and_poly_buckets_for_last_epochs(digits):
    x, y, x_test, y_test = digits
    swc, poly = SWC(sw_bits=4, group=8), PolyApprox(degree=1, levels=8)
    model = _model([swc, poly])
    seen = []

    class Probe(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((swc.encode(model.layers[0].kernel), poly.encode(model.layers[1].kernel)))

    model.fit(x, y, epochs=5, batch_size=64, verbose=0, callbacks=[FreezeAssignments(last_epochs=2), Probe()])
    assert swc.frozen and poly.frozen
    maws = [enc.arrays["maw"] for enc, _ in seen]
    assert not np.array_equal(maws[1], maws[2])  # moving before the freeze (epoch 3 begins frozen)
    np.testing.assert_array_equal(maws[2], maws[4])  # fixed in the last two epochs ...
    assert not np.array_equal(seen[2][0].arrays["codes"], seen[4][0].arrays["codes"])  # ... the SWs still move
    np.testing.assert_array_equal(seen[2][1].arrays["codes"], seen[4][1].arrays["codes"])
    kernel = model.layers[0].kernel.numpy()
    np.testing.assert_array_equal(swc.decode(seen[4][0]), swc(kernel).numpy())
    assert SWC.from_config(swc.get_config()).frozen
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.85


# -- MirroredStrategy ------------------------------------------------------------------------
def test_every_callback_trains_under_mirrored_strategy(digits, mirrored_strategy):
    x, y, x_test, y_test = digits
    with mirrored_strategy.scope():
        model = _model([DFP(bits=6), SWC(sw_bits=4, group=8), PolyApprox(degree=1, levels=8),
                        SparseTernary(n=8, k=2)], units=(32, 32, 16))
        attach_qr(model, strength=0.0, layers=["l1", "l3"])
    callbacks = [
        GradualPruning(ConstantSparsity(0.5, begin_step=0, frequency=EPOCH_STEPS), target={"l1": 0.2},
                       layers=["l0", "l1", "l3"]),  # l0 (DFP): magnitude mask to 50%
        QRSchedule(1e-3, begin_step=0, end_step=EPOCH_STEPS),
        PrecisionScaling(x_test, y_test, tolerance=100.0, fine_tune_epochs=1, stop_when_done=False, layers=["l0"]),
        FreezeAssignments(last_epochs=1),
        CompressionLogger(),
    ]
    history = model.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=callbacks)
    assert np.isfinite(history.history["compression_vs_float32"][-1])
    assert model.layers[2].kernel_quantizer_internal.frozen
    assert model.layers[0].kernel_quantizer_internal.bits < 6
    assert np.mean(model.layers[0].kernel.numpy() == 0) == pytest.approx(0.5, abs=0.01)
    assert _nonzeros_per_group(model.layers[3].kernel_quantizer_internal, model.layers[3].kernel.numpy()).max() <= 2
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.5


# -- save / load / resume ------------------------------------------------------------------------
def test_callbacks_survive_save_load_and_resume(digits, tmp_path):
    x, y, _, _ = digits
    model = _model([SWC(sw_bits=4, group=8), SparseTernary(n=8, k=2)])
    attach_qr(model, strength=0.0)
    pruning = GradualPruning(PolynomialDecay(0.0, 0.5, begin_step=0, end_step=4 * EPOCH_STEPS, frequency=1),
                             target={"l0": 0.25})
    qr = QRSchedule(1e-3, begin_step=0, end_step=4 * EPOCH_STEPS)
    with pytest.warns(UserWarning, match=NAN_WHILE_PRUNING):
        model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[pruning, qr, CompressionLogger()])
    middle_k = model.layers[1].kernel_quantizer_internal.get_control("active_k")
    assert 2 < middle_k < 8
    path = str(tmp_path / "model.keras")
    model.save(path)

    loaded = tf.keras.models.load_model(path, custom_objects=custom_objects())
    assert loaded.optimizer.iterations.numpy() == 2 * EPOCH_STEPS
    assert loaded.layers[1].kernel_quantizer_internal.get_control("active_k") == middle_k
    resumed = [type(cb).from_config(cb.get_config()) for cb in (pruning, qr)]
    with pytest.warns(UserWarning, match=NAN_WHILE_PRUNING):
        loaded.fit(x, y, epochs=5, initial_epoch=2, batch_size=64, verbose=0, callbacks=resumed + [CompressionLogger()])
    swc, ternary = (layer.kernel_quantizer_internal for layer in loaded.layers)
    assert swc.get_control("prune_threshold") == pytest.approx(0.25)
    assert ternary.get_control("active_k") == 2
    regs = regularizers_of(loaded)
    assert regs["l0"].quantizer is swc and float(regs["l0"].strength.numpy()) == pytest.approx(1e-3)
    assert _nonzeros_per_group(ternary, loaded.layers[1].kernel.numpy()).max() <= 2


def test_every_callback_config_round_trips(digits):
    _, _, x_test, y_test = digits
    callbacks = [GradualPruning(PolynomialDecay(0.0, 0.5, begin_step=3, end_step=30, frequency=2), target={"a": 0.1}),
                 QRSchedule(1e-3, begin_step=5, end_step=50, power=2.0, layers=["a"]),
                 PrecisionScaling(x_test, y_test, tolerance=0.5, fine_tune_epochs=2, min_bits=3),
                 FreezeAssignments(last_epochs=3), CompressionLogger(keys=["weight_bits"], prefix="kwc_")]
    for callback in callbacks:
        again = type(callback).from_config(callback.get_config())
        assert str(again.get_config()) == str(callback.get_config())


def test_sparse_ternary_admitted_fraction_target(digits):
    x, y, _, _ = digits
    ternary = SparseTernary(n=8, k=2)
    model = _model([DFP(bits=6), ternary])
    schedule = PolynomialDecay(0.0, 0.5, begin_step=0, end_step=EPOCH_STEPS, frequency=1)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[GradualPruning(schedule, target={"l1": 0.125},
                                                                                   layers=["l1"])])
    assert ternary.get_control("active_k") == 1
    assert _nonzeros_per_group(ternary, model.layers[1].kernel.numpy()).max() <= 1


# -- bad input -------------------------------------------------------------------------------------
def _fit(model, callback, x, y):
    model.fit(x[:64], y[:64], epochs=1, batch_size=64, verbose=0, callbacks=[callback])


def test_bad_input_errors_name_the_problem(digits):
    x, y, x_test, y_test = digits
    schedule = PolynomialDecay(0.0, 0.5, begin_step=0, end_step=10)
    plain = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(10)])
    plain.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="no compressed layer"):
        _fit(plain, GradualPruning(schedule), x, y)

    swc_model = _model([SWC(group=8), DFP(bits=6)])
    with pytest.raises(ValueError, match="QRSchedule: end_step=5 precedes begin_step=10"):
        _fit(swc_model, QRSchedule(1e-3, begin_step=10, end_step=5), x, y)
    backwards = PolynomialDecay(0.0, 0.5, begin_step=0, end_step=10)
    backwards.begin_step = 20
    with pytest.raises(ValueError, match="schedule: end_step=10 precedes begin_step=20"):
        _fit(swc_model, GradualPruning(backwards, target=0.2), x, y)
    with pytest.raises(ValueError, match="layer 'l0'.*target=None"):
        _fit(swc_model, GradualPruning(schedule), x, y)
    with pytest.raises(ValueError, match="tolerance=-0.1"):
        _fit(swc_model, PrecisionScaling(x_test, y_test, tolerance=-0.1), x, y)
    with pytest.raises(ValueError, match="no layer among .* has a QuantizationRegularizer"):
        _fit(swc_model, QRSchedule(1e-3, end_step=10), x, y)
    with pytest.raises(ValueError, match="layers=\\['nope'\\]"):
        _fit(swc_model, FreezeAssignments(2, layers=["nope"]), x, y)

    ternary_model = _model([SparseTernary(n=8, k=2), DFP(bits=6)])
    with pytest.raises(ValueError, match="layer 'l0'.*no control 'bits'"):
        _fit(ternary_model, PrecisionScaling(x_test, y_test, layers=["l0", "l1"]), x, y)
    with pytest.raises(ValueError, match="freezable"):
        _fit(ternary_model, FreezeAssignments(2), x, y)

    poly_model = _model([PolyApprox(), DFP(bits=6)])
    with pytest.raises(ValueError, match="layer 'l0'.*no pruning control"):
        _fit(poly_model, GradualPruning(schedule), x, y)
    with pytest.raises(ValueError, match="layer 'l0'.*no control 'frozen'"):
        _fit(ternary_model, FreezeAssignments(1, layers=["l0"]), x, y)


def test_kernel_compression_counts_memory_bits():
    model = _model([DFP(bits=4), SWC(sw_bits=3, group=8)])
    float_bits, stored, ratio = kernel_compression(model)
    assert float_bits == 32 * (64 * 32 + 32 * 10)
    assert stored == 4 * 64 * 32 + SWC(sw_bits=3, group=8).memory_bits((32, 10))
    assert ratio == pytest.approx(float_bits / stored)
