"""keras_wc.datapath: formats, QKeras rounding, exact integer primitives, widths, errors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QDense
from qkeras.quantizers import quantized_bits, quantized_relu

from keras_wc.datapath import ActivationQuant, describe_model, parse_format
from keras_wc.datapath.arith import reciprocal, round_div, round_shift
from keras_wc.datapath.geometry import Geometry
from keras_wc.quantizers import FixedPoint


@pytest.mark.parametrize("text, expected", [
    ("ufixed<8,0>", FixedPoint(8, 8, False)), ("fixed<8,3>", FixedPoint(8, 5, True)),
    ("ap_fixed<16, 6>", FixedPoint(16, 10, True)), ("ufixed<4,6>", FixedPoint(4, -2, False)),
])
def test_parse_format(text, expected):
    assert parse_format(text) == expected


@pytest.mark.parametrize("text", ["fixed8", "float<8,0>", "ufixed<0,0>", ""])
def test_parse_format_rejects(text):
    with pytest.raises(ValueError, match="input_format="):
        parse_format(text)


@pytest.mark.parametrize("quantizer", [
    quantized_relu(8, 2), quantized_relu(4, 0), quantized_bits(6, 2, 0), quantized_bits(6, 2, symmetric=1),
    quantized_bits(8, 0, keep_negative=False), quantized_bits(5, 1, 0, alpha=1),
])
def test_activation_quant_matches_qkeras(quantizer, rng):
    """Float inputs (incl. exact ties and saturation) round exactly as QKeras fake-quant."""
    x = np.concatenate([rng.normal(0, 3, 4000), np.arange(-64, 64) / 16 + 1 / 64,
                        np.arange(-40, 40) / 8]).astype(np.float32)
    quant = ActivationQuant.from_qkeras(quantizer, "act")
    mine = quant.quantize_float(x) * 2.0 ** -quant.fmt.frac
    keras = np.asarray(quantizer(tf.constant(x)), np.float64)
    # QKeras returns x + (q - x) in float32: exact except far in saturation (< 1e-3 LSB)
    assert np.max(np.abs(mine - keras)) * 2.0 ** quant.fmt.frac < 1e-3
    assert quant.min_int <= quant.quantize_float(x).min() and quant.quantize_float(x).max() <= quant.max_int


def test_activation_quant_ranges():
    assert ActivationQuant.from_qkeras(quantized_relu(8, 3), "a").fmt == FixedPoint(8, 5, False)
    symmetric = ActivationQuant.from_qkeras(quantized_bits(4, 0, symmetric=1), "a")
    assert (symmetric.min_int, symmetric.max_int, symmetric.fmt) == (-7, 7, FixedPoint(4, 3, True))


@pytest.mark.parametrize("quantizer, message", [
    (quantized_bits(8, 0, 1, alpha="auto_po2"), "alpha"), (quantized_relu(8, 0, use_sigmoid=1), "sigmoid"),
    (quantized_relu(8, 0, negative_slope=0.25), "negative_slope"), ("binary()", "quantized_relu and quantized_bits"),
])
def test_activation_quant_rejects(quantizer, message):
    with pytest.raises(ValueError, match=f"layer 'act'.*{message}"):
        ActivationQuant.from_qkeras(quantizer, "act")


def test_requantize_half_even_and_saturation():
    quant = ActivationQuant.from_format(FixedPoint(4, 1, False))  # grid 1/2, integers 0..15
    # inputs on grid 1/8: 0.25 -> 0 (tie to even), 0.75 -> 2 (tie to even: 1.5 -> 2), 1.125 -> 2, 100 -> 15
    assert quant.requantize(np.array([2, 6, 9, 800, -5]), 3).tolist() == [0, 2, 2, 15, 0]


def test_round_shift_and_div_on_wide_integers():
    big = 1 << 80
    wide = np.array([big + (1 << 9), big + 3 * (1 << 9), -(big + (1 << 9))], dtype=object)
    assert round_shift(wide, 10).tolist() == [big >> 10, (big >> 10) + 2, -(big >> 10)]
    assert round_div(np.array([big * 7 + 3, -big * 7 - 4], dtype=object), 7).tolist() == [big, -big - 1]
    values = np.arange(-50, 50)
    assert round_div(values, 5).tolist() == [int(np.round(v / 5)) for v in values]
    assert round_shift(values, 2).tolist() == np.round(values / 4).astype(int).tolist()


@pytest.mark.parametrize("divisor", [3, 5, 7, 15, 31, 63, 127, 9, 25])
def test_the_reciprocal_divides_every_dividend_of_its_width(divisor):
    """``(n * m) >> s == n // D`` for all n below 2**bits (exhaustive to 14 bits; the edges beyond)."""
    for bits in range(1, 15):
        m, s = reciprocal(divisor, bits)
        n = np.arange(1 << bits, dtype=np.int64)
        assert np.array_equal((n * m) >> s, n // divisor), bits
        assert m <= 1 << (bits + 1)
    rng = np.random.default_rng(divisor)
    for bits in (24, 33, 48, 62, 70, 100):
        m, s = reciprocal(divisor, bits)
        edges = [0, 1, divisor - 1, divisor, (1 << bits) - 1, (1 << bits) - divisor]
        edges += [int(v) * divisor + r for v in rng.integers(0, (1 << min(bits, 62)) // divisor, 50)
                  for r in (0, divisor - 1)]
        for n in edges:
            if 0 <= n < 1 << bits:
                assert (n * m) >> s == n // divisor, (bits, n)


@pytest.mark.parametrize("size, kernel, stride, padding", [(8, 5, 1, "same"), (9, 3, 2, "same"), (8, 3, 2, "valid")])
def test_geometry_matches_keras(size, kernel, stride, padding):
    layer = tf.keras.layers.Conv2D(2, kernel, stride, padding)
    layer.build((None, size, size, 1))
    expected = tuple(layer.compute_output_shape((None, size, size, 1))[1:])
    geometry = Geometry.conv("conv2d", (size, size, 1), (kernel, kernel), (stride, stride), padding, 2)
    assert geometry.output_shape == expected


QB4 = "quantized_bits(4,0,1,alpha=1)"  # QKeras layers make alpha=None 'auto_po2'


def _dense_model(kernel_quantizer, first=None):
    layers = [tf.keras.Input((16,))] + ([first] if first is not None else [])
    model = tf.keras.Sequential(layers + [QDense(3, kernel_quantizer=kernel_quantizer, name="fc"),
                                          QActivation("quantized_relu(8,2)", name="act")])
    return model


def test_accumulator_width_hand_computed():
    """16 weights of 7/8 (code 7 of quantized_bits(4,0,1)), inputs <= 255/256: |A| <= 255*7*16 = 28560."""
    model = _dense_model(QB4)
    model.get_layer("fc").kernel.assign(np.full((16, 3), 0.875, np.float32))
    model.get_layer("fc").bias.assign(np.zeros(3, np.float32))
    fc = next(s for s in describe_model(model, "ufixed<8,0>") if s.name == "fc")
    assert fc.method == "dfp" and fc.encoding.params["frac"] == 3
    assert fc.acc_format == FixedPoint(16, 11, True)  # 28560 < 2**15, frac 8 + 3
    assert fc.peak == 28560 and fc.partial_format.bits == 16


def test_bias_on_accumulator_grid():
    """A bias on the product grid (2**-11) adds no bits; float32(0.1) = 13421773 * 2**-27 adds 16."""
    model = _dense_model(QB4)
    model.get_layer("fc").bias.assign(np.array([0.5, -0.25, 1.0], np.float32))
    fc = next(s for s in describe_model(model, "ufixed<8,0>") if s.name == "fc")
    assert [int(b) for b in fc.bias] == [1024, -512, 2048] and fc.acc_format.frac == 11
    model.get_layer("fc").bias.assign(np.array([0.1, 0.0, 0.0], np.float32))
    fc = next(s for s in describe_model(model, "ufixed<8,0>") if s.name == "fc")
    assert fc.acc_format.frac == 27 and fc.align.tolist() == [16, 16, 16] and int(fc.bias[0]) == 13421773


def test_float_input_needs_a_format():
    with pytest.raises(ValueError, match="layer 'fc'.*float inputs.*input_format"):
        describe_model(_dense_model(QB4))
    specs = describe_model(_dense_model(QB4, QActivation("quantized_bits(8,0,0,0)", name="q")))
    assert specs[0].output_format is None and specs[1].kind == "quantize" and specs[1].input_frac is None


@pytest.mark.parametrize("layer, message", [
    (QDense(3, name="fc"), "float kernel is not HLS-exact"),
    (tf.keras.layers.Dense(3, name="fc"), r"\(Dense\): a float kernel is not HLS-exact"),
    (QDense(3, kernel_quantizer=quantized_bits(4, 0, 1, alpha="auto"), name="fc"), "alpha"),
    (QDense(3, kernel_quantizer=QB4, activation="relu", name="fc"), "separate QActivation"),
])
def test_unsupported_layers_are_named(layer, message):
    model = tf.keras.Sequential([tf.keras.Input((16,)), layer])
    with pytest.raises(ValueError, match=f"layer 'fc'.*{message}"):
        describe_model(model, "ufixed<8,0>")


def test_specs_are_serializable():
    import json
    specs = describe_model(_dense_model(QB4), "ufixed<8,0>")
    text = json.dumps([s.to_dict() for s in specs])
    assert '"acc_format": "fixed<' in text and '"kind": "compressed"' in text
