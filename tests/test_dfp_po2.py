"""DFP and Po2: value grids, fractional length / exponent range, bias use, the bits control."""

from __future__ import annotations

import numpy as np
import pytest
import qkeras
import tensorflow as tf

from keras_wc import DFP, Po2


def _dfp_frac(peak: float, bits: int) -> int:
    """docs/methods.md: fl = bits - 1 - ceil(log2(max|w|)) (float64, independent of the package)."""
    return bits - 1 - int(np.ceil(np.log2(peak)))


# -- DFP ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bits", [2, 4, 8, 12])
@pytest.mark.parametrize("shape", [(37, 5), (3, 3, 7, 4), (16,)])
def test_dfp_values_are_clipped_multiples_of_two_to_minus_fl(bits, shape, rng):
    w = (rng.standard_normal(shape) * 0.3).astype(np.float32)
    quantizer = DFP(bits=bits)
    out = quantizer(w).numpy().astype(np.float64)
    fl = _dfp_frac(np.abs(w).max(), bits)
    assert quantizer.encode(w).params["frac"] == fl
    codes = out * 2.0 ** fl
    np.testing.assert_array_equal(codes, np.round(codes))
    assert codes.min() >= -(2 ** (bits - 1)) and codes.max() <= 2 ** (bits - 1) - 1
    expected = np.clip(np.round(w.astype(np.float64) * 2.0 ** fl), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    np.testing.assert_array_equal(codes, expected)  # nearest level (half to even), saturated


def test_dfp_power_of_two_maximum_saturates_to_largest_code():
    w = np.array([[0.5], [-0.5], [0.25]], np.float32)  # max|w| = 2**-1 exactly: fl = bits
    encoding = DFP(bits=4).encode(w)
    assert encoding.params["frac"] == 4
    assert encoding.arrays["codes"].ravel().tolist() == [7, -8, 4]


def test_dfp_per_channel_has_one_fractional_length_per_output(rng):
    w = rng.standard_normal((3, 3, 5, 4)).astype(np.float32)
    w[..., 1] *= 100.0
    w[..., 2] *= 0.01
    quantizer = DFP(bits=6, per_channel=True)
    encoding = quantizer.encode(w)
    peaks = np.abs(w).reshape(-1, 4).max(axis=0)
    np.testing.assert_array_equal(encoding.params["frac"], [_dfp_frac(p, 6) for p in peaks])
    out = quantizer(w).numpy()
    for o in range(4):  # each output unit uses its own grid, equal to a per-layer DFP on it
        np.testing.assert_array_equal(out[..., o], DFP(bits=6)(w[..., o:o + 1]).numpy()[..., 0])
    # a per-layer DFP flushes the small channel to zero; per-channel keeps it
    assert np.all(DFP(bits=6)(w).numpy()[..., 2] == 0) and np.any(out[..., 2] != 0)


# -- Po2 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bits", [2, 3, 4, 6, 8])
@pytest.mark.parametrize("shape", [(37, 5), (3, 3, 7, 4), (10,)])
def test_po2_values_are_zero_or_signed_powers_of_two_in_range(bits, shape, rng):
    w = (rng.standard_normal(shape) * 2.0 ** rng.uniform(-8, 2, shape)).astype(np.float32)
    w.flat[0] = 0.0
    out = Po2(bits=bits)(w).numpy().astype(np.float64)
    e_max = int(np.floor(np.log2(4 * np.abs(w.astype(np.float64)).max() / 3)))
    e_min = e_max - 2 ** (bits - 1) + 2
    nonzero = out[out != 0]
    exponents = np.log2(np.abs(nonzero))
    np.testing.assert_array_equal(exponents, np.round(exponents))
    assert exponents.min() >= e_min and exponents.max() <= e_max
    assert out.flat[0] == 0.0
    assert np.all(np.sign(nonzero) == np.sign(w[out != 0]))
    # each value is the nearest level among {0, +-2**e_min, ..., +-2**e_max}
    levels = np.concatenate([[0.0], 2.0 ** np.arange(e_min, e_max + 1)])
    nearest = levels[np.argmin(np.abs(np.abs(w.astype(np.float64))[..., None] - levels), axis=-1)]
    np.testing.assert_array_equal(np.abs(out), nearest)


def test_po2_codes_follow_the_datapath_table():
    w = np.array([[1.0], [-0.5], [0.25], [0.124], [0.0], [-0.19]], np.float32)
    encoding = Po2(bits=3).encode(w)  # e_max = 0, e_min = -2, zero below 2**-3
    assert encoding.params["e_min"] == -2
    assert encoding.arrays["codes"].ravel().tolist() == [3, -2, 1, 0, 0, -1]
    assert encoding.arrays["codes"].dtype == np.int8


# -- both --------------------------------------------------------------------------------
@pytest.mark.parametrize("quantizer", [DFP(bits=6), DFP(bits=6, per_channel=True), Po2(bits=4)], ids=str)
def test_as_bias_quantizer_of_qkeras_layers(quantizer, rng):
    layer = qkeras.QDense(6, kernel_quantizer=DFP(bits=8), bias_quantizer=quantizer,
                          bias_initializer=tf.keras.initializers.RandomNormal(seed=1))
    x = rng.standard_normal((4, 9)).astype(np.float32)
    y = layer(x).numpy()
    bias = layer.bias.numpy()
    q_bias = quantizer(bias).numpy()
    assert np.array_equal(quantizer.decode(quantizer.encode(bias)), q_bias)
    assert quantizer.encode(bias).layout.fan_in == 1
    np.testing.assert_allclose(y, x @ DFP(bits=8)(layer.kernel).numpy() + q_bias, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,high,low", [(DFP, 8, 3), (Po2, 5, 2)])
def test_bits_control_takes_effect_in_a_traced_function_without_retrace(cls, high, low, rng):
    quantizer = cls(bits=high)
    w = tf.constant(rng.standard_normal((64, 8)).astype(np.float32))
    traces = []

    @tf.function
    def forward(kernel):
        traces.append(1)
        return quantizer(kernel)

    before = forward(w).numpy()
    quantizer.bits = low
    after = forward(w).numpy()
    assert len(traces) == 1
    assert np.unique(after).size < np.unique(before).size <= 2 ** high
    assert np.unique(after).size <= 2 ** low
    assert np.array_equal(after, cls(bits=low)(w).numpy())
    assert quantizer.get_config()["bits"] == low and quantizer.bits == low
    assert quantizer.memory_bits((64, 8)) == 64 * 8 * low
    assert str(quantizer).startswith(f"{cls.__name__}(bits={low}")


@pytest.mark.parametrize("cls", [DFP, Po2])
def test_bits_control_rejects_out_of_range_values(cls):
    quantizer = cls(bits=4)
    with pytest.raises(ValueError, match="bits=1"):
        quantizer.bits = 1
    with pytest.raises(ValueError, match="bits=99"):
        quantizer.set_control("bits", 99)
    assert quantizer.bits == 4


def test_max_min_are_relative_to_the_layer_bound():
    assert DFP(bits=4).max() == 0.875 and DFP(bits=4).min() == -1.0
    assert Po2(bits=4).max() == 1.0 and Po2(bits=4).min() == -1.0
    w = np.array([[0.3], [-0.1]], np.float32)  # bound 2**ceil(log2 0.3) = 0.5
    assert DFP(bits=4)(w).numpy().max() <= DFP(bits=4).max() * 0.5
