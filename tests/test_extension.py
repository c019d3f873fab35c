"""A method registered from outside the package runs through every stage (docs/extending.md).

``tests/extension_binary.py`` (binary weights times a per-filter power of two) and its header
``tests/extension_binary.h`` are the whole method: nothing inside ``keras_wc/`` or ``hls/``
names it. Here it trains on digits, is counted by the report, emulated with integers and
C-simulated bit-exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QDense

import keras_wc
from extension_binary import BINARY_PO2, EXPONENT_BITS, BinaryPo2
from keras_wc.methods import get_method, method_of, registered_methods

@pytest.fixture(scope="module")
def digits():
    return keras_wc.datasets.load("digits")


@pytest.fixture(scope="module")
def trained(digits):
    (x, y), (x_test, y_test) = digits
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([
        QActivation("quantized_relu(8,1)", input_shape=(8, 8, 1), name="image_q"),
        tf.keras.layers.Flatten(name="flatten"),
        QDense(32, kernel_quantizer=BinaryPo2(), name="fc1"),
        QActivation("quantized_relu(8,3)", name="fc1_act"),
        QDense(10, kernel_quantizer=BinaryPo2(), name="logits")])
    model.compile(tf.keras.optimizers.Adam(3e-3), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  ["accuracy"])
    model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    accuracy = float(model.evaluate(x_test, y_test, verbose=0)[1])
    return model, accuracy


def test_registered_from_outside():
    assert get_method("binary_po2") is BINARY_PO2
    assert BINARY_PO2 in registered_methods()
    enc = BinaryPo2().encode(np.array([[0.3, 0.01], [-0.2, -0.03]], np.float32))
    assert method_of(enc) is BINARY_PO2
    # mean|w| = 0.25 -> 2**-2 ; 0.02 -> round(log2 0.02) = -6
    assert enc.arrays["codes"].reshape(2, 2).tolist() == [[1, -1], [1, -1]]  # per output: signs of w[:, o]
    assert enc.arrays["exponent"].tolist() == [-2, -6]
    assert BINARY_PO2.frac(enc).tolist() == [2, 6]


def test_trains_on_digits(trained):
    model, accuracy = trained
    assert accuracy >= 0.85
    weights = model.get_layer("fc1").kernel_quantizer_internal(model.get_layer("fc1").kernel).numpy()
    magnitudes = np.unique(np.abs(weights), axis=0)
    # every filter is +/- one power of two
    for column in np.abs(weights).T:
        assert len(np.unique(column)) == 1 and float(np.log2(column[0])).is_integer()
    assert magnitudes.size > 0


def test_report_counts_it(trained):
    model, _ = trained
    rows = {row.name: row for row in keras_wc.report.compression_report(model).layers}
    fc1 = rows["fc1"]
    assert fc1.method == "binary_po2"
    assert fc1.full_mults == 0 and fc1.shift_adds == 64 * 32
    assert fc1.kernel_bits == 64 * 32 * 1 + 32 * EXPONENT_BITS


def test_emulator_matches_keras(trained, digits):
    model, _ = trained
    x_test = digits[1][0][:200]
    logits = keras_wc.emulate.emulate(model, x_test)
    agreement = float(np.mean(logits.argmax(1) == model.predict(x_test, verbose=0).argmax(1)))
    assert agreement >= 0.99


def test_csim_bit_exact(trained, digits, tmp_path):
    model, _ = trained
    result = keras_wc.testing.assert_csim_bit_exact(model, digits[1][0][:100], keep=tmp_path)
    assert result.bit_exact == result.total == 100
    firmware = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    assert "sqnap::dense<sqnap::binary_po2_core, " in firmware
    assert (tmp_path / "prj" / "firmware" / "nnet_utils" / "extension_binary.h").is_file()


def test_without_scaled_sums_it_has_no_gate_level_form(trained, tmp_path):
    """The extension defines no scaled_sums: the RTL generator refuses its layer by name before
    writing, and the resource report leaves its gate estimate out (instead of failing)."""
    from keras_wc.hls import resources
    from keras_wc.rtl import convert as rtl_convert

    model, _ = trained
    assert not BINARY_PO2.has_scaled_sums
    with pytest.raises(ValueError, match=r"layer 'fc1': method 'binary_po2' defines no scaled_sums"):
        rtl_convert(model, tmp_path / "rtl", input_format="ufixed<8,0>")
    assert not (tmp_path / "rtl").exists()
    fc1 = next(row for row in resources(model, input_format="ufixed<8,0>").layers if row.name == "fc1")
    assert (fc1.lut, fc1.ff, fc1.dsp, fc1.bram) == (None, None, None, None)


def test_other_projects_hold_only_their_own_headers(tmp_path):
    """A project copies sqnap_common.h and the headers of the methods it uses, nothing else
    registered in the process (here: the extension)."""
    from keras_wc.hls import convert
    from keras_wc.quantizers import SWC

    model = tf.keras.Sequential([tf.keras.Input((8,), name="x"),
                                 QDense(3, kernel_quantizer=SWC(sw_bits=4, group=4), name="fc")])
    convert(model, tmp_path / "prj", input_format="ufixed<8,0>")
    headers = sorted(p.name for p in (tmp_path / "prj" / "firmware" / "nnet_utils").glob("*.h")
                     if p.name.startswith(("sqnap", "extension")))
    assert headers == ["sqnap_common.h", "sqnap_swc.h"]
