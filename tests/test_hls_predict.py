"""``predict``/``trace`` of SQNAP models obey the one input rule (docs/errors.md, keras_wc/hls/backend.py).

Datapath-mode models (``keras_wc.hls.convert``, or hls4ml's ``convert_from_keras_model(...,
backend="SQNAP")`` with a keras_wc quantizer or an ``input_format``) refuse a wrong sample
shape, NaN/infinite values and values off the declared grid or range with the texts of
:mod:`keras_wc.emulate.inputs` (before the library is touched), round and saturate them when
the conversion had ``quantize_inputs=True``, and then predict bit-exactly what the emulator
computes. Stock-mode models keep hls4ml's own behaviour.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
hls4ml = pytest.importorskip("hls4ml")
from qkeras import QActivation, QDense, quantized_bits  # noqa: E402

from _small_hls_model import INPUT_FORMAT, on_grid_inputs, small_model  # noqa: E402
from keras_wc.emulate import emulate  # noqa: E402
from keras_wc.hls import convert  # noqa: E402
from keras_wc.hls.passes import is_stock  # noqa: E402
from keras_wc.quantizers import SWC  # noqa: E402

SHAPE_ERROR = "x: expected samples of shape (12,), got (13,) (batch shape (20, 13))"
OFF_GRID_ERROR = ("x: 240 of 240 values are not on the declared grid ufixed<8,0> (steps of 2**-8, integers "
                  "[0, 255]): max distance 0.25 steps, 0 out of range; quantize the inputs first, pass "
                  "quantize_inputs=True (--quantize-inputs) or declare another input_format")
RANGE_ERROR = ("x: 3 of 240 values are not on the declared grid ufixed<8,0> (steps of 2**-8, integers [0, 255]): "
               "max distance 0 steps, 3 out of range; quantize the inputs first, pass quantize_inputs=True "
               "(--quantize-inputs) or declare another input_format")
NAN_ERROR = "x: 1 of 240 values are NaN or infinite"


def exactly(text: str) -> str:
    return f"^{re.escape(text)}$"


def off_grid() -> np.ndarray:
    """Every value a quarter step off the ufixed<8,0> grid, all in range."""
    return on_grid_inputs() + np.float32(2.0 ** -10)


def out_of_range() -> np.ndarray:
    """On the grid, three values outside [0, 255/256]."""
    x = on_grid_inputs()
    x[0, :3] = [1.0, -(2.0 ** -8), 1.5]
    return x


def with_nan() -> np.ndarray:
    x = on_grid_inputs()
    x[1, 2] = np.nan
    return x


def float_input_model() -> tf.keras.Model:
    """A first QActivation quantizes float inputs (no input_format): any finite float is accepted."""
    tf.keras.utils.set_random_seed(5)
    inputs = tf.keras.Input((12,), name="x")
    h = QActivation(quantized_bits(8, 2, alpha=1), name="q_in")(inputs)
    outputs = QDense(3, kernel_quantizer=SWC(sw_bits=4, group=4), name="logits")(h)
    return tf.keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """``converted(name)``: ``(model, hls_model)``, converted once per module (not compiled)."""
    cache = {}

    def get(name: str):
        if name not in cache:
            folder = tmp_path_factory.mktemp(name) / "prj"
            model = float_input_model() if name == "float" else small_model()
            if name == "declared":
                hls_model = convert(model, folder, input_format=INPUT_FORMAT)
            elif name == "quantize":
                hls_model = convert(model, folder, input_format=INPUT_FORMAT, quantize_inputs=True)
            elif name == "entry":  # hls4ml's own entry point, datapath mode through input_format
                hls_model = hls4ml.converters.convert_from_keras_model(
                    model, output_dir=str(folder), backend="SQNAP", input_format=INPUT_FORMAT)
            elif name == "entry_quantize":
                hls_model = hls4ml.converters.convert_from_keras_model(
                    model, output_dir=str(folder), backend="SQNAP", input_format=INPUT_FORMAT, quantize_inputs=True)
            else:
                hls_model = convert(model, folder)
            cache[name] = (model, hls_model)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def compiled(converted):
    """``compiled(name)``: like ``converted``, with the library built and loaded."""
    done = set()

    def get(name: str):
        model, hls_model = converted(name)
        if name not in done:
            hls_model.compile()
            done.add(name)
        return model, hls_model

    return get


# -- refusals: checked before the library is used (nothing is compiled) ---------------------------
@pytest.mark.parametrize("name", ["declared", "entry"])
@pytest.mark.parametrize("x,message", [
    (np.zeros((20, 13), np.float32), SHAPE_ERROR),
    (off_grid(), OFF_GRID_ERROR),
    (out_of_range(), RANGE_ERROR),
    (with_nan(), NAN_ERROR),
], ids=["shape", "off_grid", "out_of_range", "nan"])
def test_predict_and_trace_refuse_inputs_by_the_one_rule(converted, name, x, message):
    _, hls_model = converted(name)
    assert not is_stock(hls_model)
    with pytest.raises(ValueError, match=exactly(message)):
        hls_model.predict(x)
    with pytest.raises(ValueError, match=exactly(message)):
        hls_model.trace(x)


@pytest.mark.parametrize("name", ["quantize", "entry_quantize"])
def test_quantize_inputs_still_refuses_shapes_and_nan(converted, name):
    _, hls_model = converted(name)
    with pytest.raises(ValueError, match=exactly(SHAPE_ERROR)):
        hls_model.predict(np.zeros((20, 13), np.float32))
    with pytest.raises(ValueError, match=exactly(NAN_ERROR)):
        hls_model.trace(with_nan())


def test_float_input_model_refuses_shapes_only(converted):
    _, hls_model = converted("float")
    with pytest.raises(ValueError, match=exactly(SHAPE_ERROR)):
        hls_model.predict(np.zeros((20, 13), np.float32))
    with pytest.raises(ValueError, match=exactly("x: expected samples of shape (12,), got () (batch shape (12,))")):
        hls_model.predict(np.zeros(12, np.float32))  # one sample without its batch axis is not a batch


# -- bit-exact predictions -----------------------------------------------------------------------
@pytest.mark.slow
def test_predict_on_the_grid_is_bit_exact_with_the_emulator(compiled):
    model, hls_model = compiled("declared")
    x = on_grid_inputs()
    expected = emulate(model, x, input_format=INPUT_FORMAT)
    double = hls_model.predict(x.astype(np.float64))
    single = hls_model.predict(x)  # float32 holds the grid values: hls4ml's float bridge, float32 out
    assert double.dtype == np.float64 and single.dtype == np.float32
    np.testing.assert_array_equal(double, expected)
    np.testing.assert_array_equal(single, expected.astype(np.float32))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["quantize", "entry_quantize"])
def test_quantize_inputs_rounds_and_saturates_like_the_emulator(compiled, name):
    model, hls_model = compiled(name)
    for x in (off_grid(), out_of_range()):
        expected = emulate(model, x, input_format=INPUT_FORMAT, quantize_inputs=True)
        np.testing.assert_array_equal(hls_model.predict(x.astype(np.float64)), expected)


@pytest.mark.slow
def test_float_input_model_predicts_what_the_emulator_computes(compiled):
    model, hls_model = compiled("float")
    x = np.random.default_rng(2).normal(0.0, 2.0, (20, 12)).astype(np.float32)  # saturates, rounds at ties
    x[0, :4] = [0.5 / 32, 1.5 / 32, 100.0, -100.0]  # ties on q_in's grid
    np.testing.assert_array_equal(hls_model.predict(x.astype(np.float64)), emulate(model, x))


@pytest.mark.slow
def test_trace_applies_the_rule_and_agrees_with_the_emulator(compiled):
    model, hls_model = compiled("quantize")
    x = out_of_range()
    for layer in hls_model.get_layers():
        layer.set_attr("trace", True)
    outputs, traces = hls_model.trace(x.astype(np.float64))
    reference = emulate(model, x, input_format=INPUT_FORMAT, trace=True, quantize_inputs=True)
    np.testing.assert_array_equal(outputs, reference["logits"])
    np.testing.assert_array_equal(traces["fc1_act"].reshape(len(x), -1), reference["fc1_act"])


@pytest.mark.slow
def test_stock_mode_keeps_hls4mls_predict(tmp_path):
    tf.keras.utils.set_random_seed(6)
    inputs = tf.keras.Input((12,), name="x")
    model = tf.keras.Model(inputs, QDense(3, kernel_quantizer=quantized_bits(6, 0, alpha=1), name="fc")(inputs))
    hls_model = hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), backend="SQNAP")
    assert is_stock(hls_model) and "trace" not in vars(hls_model)
    hls_model.compile()
    x = off_grid().astype(np.float64)  # no declared grid in stock mode: hls4ml's own input conversion
    np.testing.assert_array_equal(hls_model.predict(x), hls_model._predict(x))
