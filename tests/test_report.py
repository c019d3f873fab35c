"""Compression report: figures checked against counts written out by hand.

Every expected number below is derived in the comment next to it from the layer shapes
and the counting rule of docs/methods.md, not read back from the implementation.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QConv2D, QDense
from qkeras.quantizers import quantized_bits

from keras_wc.quantizers import DFP, SWC, PolyApprox, SparseTernary
from keras_wc.report import CompressionReport, compression_report


def dense_model(quantizer, n_in: int = 64, n_out: int = 10, **layer_args) -> tf.keras.Model:
    """One QDense ``n_in x n_out`` (float32 Dense when ``quantizer`` is None)."""
    layer = (tf.keras.layers.Dense(n_out, **layer_args) if quantizer is None
             else QDense(n_out, kernel_quantizer=quantizer, **layer_args))
    return tf.keras.Sequential([tf.keras.Input((n_in,)), layer])


def lenet5(quantizer_factory) -> tf.keras.Model:
    """LeNet-5-like: conv 5x5x1x6 -> pool -> conv 5x5x6x16 -> pool -> dense 256x120 -> 84 -> 10."""
    return tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)),
        QConv2D(6, 5, kernel_quantizer=quantizer_factory(), name="conv1"),   # -> 24x24x6
        tf.keras.layers.MaxPooling2D(),                                      # -> 12x12x6
        QConv2D(16, 5, kernel_quantizer=quantizer_factory(), name="conv2"),  # -> 8x8x16
        tf.keras.layers.MaxPooling2D(),                                      # -> 4x4x16
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(120, name="fc1"),
        tf.keras.layers.Dense(84, name="fc2"),
        tf.keras.layers.Dense(10, name="fc3"),
    ])


def row(report: CompressionReport, name: str):
    return next(r for r in report.layers if r.name == name)


def no_zero_kernel(rng, shape) -> np.ndarray:
    """Weights with |w| in [0.25, 1]: none rounds to zero at 4 bits or more."""
    return (rng.uniform(0.25, 1.0, shape) * rng.choice([-1.0, 1.0], shape)).astype(np.float32)


# -- memory ------------------------------------------------------------------------------------

def test_sparse_ternary_dense_64x10_is_640_code_bits_plus_deltas():
    tf.keras.utils.set_random_seed(4)
    model = dense_model(SparseTernary(8, 2, scale_bits=16))
    report = compression_report(model)
    r = report.layers[0]
    # 64 inputs / groups of 8 = 8 groups per output, 8-bit pattern index each (129 patterns):
    # 10 outputs * 8 groups * 8 bits = 640 bits of codes; one 16-bit delta per output.
    assert r.kernel_bits == 640 + 10 * 16
    assert r.bias_bits == 10 * 32                       # float32 bias
    assert r.weight_bits == 640 + 160 + 320
    # the pattern ROM: 1 + 8*2 + 28*4 = 129 patterns of 8 entries, 2 bits per entry, apart
    assert r.table_bits == 129 * 8 * 2
    assert report.totals["weight_bits"] == 1120
    assert report.totals["compression_with_tables"] == pytest.approx(32 * 650 / (1120 + 2064))
    # stored parameters: 80 pattern codes + 10 deltas
    assert r.parameters == 90
    # one delta product per output unit; one add/subtract per non-zero ternary weight (<= 2 per group)
    assert r.full_mults == 10
    assert r.shift_adds == fake_quant_nonzeros(model.layers[-1]) <= 10 * 8 * 2


def test_float32_model_is_uncompressed_and_keeps_every_multiplication(rng):
    model = dense_model(None)
    model.layers[-1].set_weights([no_zero_kernel(rng, (64, 10)), np.zeros(10, np.float32)])
    totals = compression_report(model).totals
    assert totals["weight_bits"] == totals["float32_bits"] == 32 * (640 + 10)
    assert totals["compression_vs_float32"] == 1.0
    assert (totals["macs"], totals["full_mults"], totals["shift_adds"]) == (640, 640, 0)
    assert totals["mults_eliminated"] == 0.0


def test_qkeras_quantized_bits_counts_declared_bits_for_kernel_and_bias(rng):
    model = dense_model(quantized_bits(8, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1))
    model.layers[-1].set_weights([no_zero_kernel(rng, (64, 10)) * 0.9, np.zeros(10, np.float32)])
    r = compression_report(model).layers[0]
    assert (r.kernel_bits, r.bias_bits) == (640 * 8, 10 * 6)
    # 8 bits > 4: full multiplications, but for the codes that are +-2**k (shifts)
    codes = np.abs(np.round(quantized_bits(8, 0, alpha=1)(model.layers[-1].kernel).numpy() * 128)).astype(int)
    power_of_two = int(np.count_nonzero((codes & (codes - 1)) == 0))
    assert 0 < power_of_two < 640 and (r.full_mults, r.shift_adds) == (640 - power_of_two, power_of_two)


# -- multiplications ---------------------------------------------------------------------------

def fake_quant_nonzeros(layer) -> int:
    """Non-zero weights of a QKeras layer's fake-quantized kernel (computed by Keras' own call)."""
    return int(np.count_nonzero(layer.kernel_quantizer_internal(layer.kernel).numpy()))


def test_lenet5_swc_kernel_groups_eliminate_24_of_25_conv_multiplications():
    tf.keras.utils.set_random_seed(1)
    model = lenet5(lambda: SWC(sw_bits=4, group="kernel"))
    report = compression_report(model)
    conv1, conv2 = row(report, "conv1"), row(report, "conv2")
    # MACs: kernel size * output positions
    assert conv1.macs == 5 * 5 * 1 * 6 * (24 * 24) == 86400
    assert conv2.macs == 5 * 5 * 6 * 16 * (8 * 8) == 153600
    # one MAW multiplication per (c_in, c_out) 5x5 group per position, + the reciprocal of D = 7 per output
    assert conv1.full_mults == (1 * 6 + 6) * 576
    assert conv2.full_mults == (6 * 16 + 16) * 64
    groups = 1 * 6 * 576 + 6 * 16 * 64
    assert Fraction(groups, conv1.macs + conv2.macs) == Fraction(1, 25)
    # shift-adds: one per non-zero code (zero codes skipped)
    for r, positions in ((conv1, 576), (conv2, 64)):
        assert r.shift_adds == fake_quant_nonzeros(model.get_layer(r.name)) * positions
    # float32 dense layers: every product is a full multiplication
    fc_macs = 256 * 120 + 120 * 84 + 84 * 10
    assert sum(row(report, n).full_mults for n in ("fc1", "fc2", "fc3")) == fc_macs
    assert report.totals["macs"] == 86400 + 153600 + fc_macs
    assert report.totals["full_mults"] == 3456 + 6144 + (6 * 576 + 16 * 64) + fc_macs
    # memory of conv2: 2400 codes * 4 bits + 96 MAWs * 16 bits + 16 float32 biases
    assert conv2.weight_bits == 2400 * 4 + 96 * 16 + 16 * 32


def test_swc_po2_format_has_no_division():
    tf.keras.utils.set_random_seed(2)
    model = dense_model(SWC(sw_bits=3, group=16, sw_format="po2"))
    r = compression_report(model).layers[0]
    assert r.full_mults == 10 * (64 // 16)              # one MAW product per group of 16
    assert r.shift_adds == fake_quant_nonzeros(model.layers[-1])
    assert r.kernel_bits == 640 * 3 + 40 * 16


def dfp_power_of_two_codes(model) -> int:
    """Non-zero codes of the model's last (DFP) layer that are +-2**k: products that are shifts."""
    layer = model.layers[-1]
    codes = np.abs(layer.kernel_quantizer_internal.encode(layer.kernel).arrays["codes"].astype(np.int64))
    return int(np.count_nonzero((codes != 0) & ((codes & (codes - 1)) == 0)))


@pytest.mark.parametrize("bits", [8, 4])
def test_dfp_is_full_multiplication_above_4_bits_only(rng, bits):
    model = dense_model(DFP(bits=bits))
    model.layers[-1].set_weights([no_zero_kernel(rng, (64, 10)), np.zeros(10, np.float32)])
    r = compression_report(model).layers[0]
    assert r.macs == 64 * 10
    shifts = dfp_power_of_two_codes(model) if bits > 4 else 640  # 8 bits: all but the +-2**k codes
    assert 0 < shifts and (r.full_mults, r.shift_adds, r.zero_fraction) == (640 - shifts, shifts, 0.0)
    assert r.kernel_bits == 640 * bits


def quadratic_kernel(rng) -> np.ndarray:
    """Each column: a clearly quadratic profile in the rank (no coefficient rounds to 0), shuffled."""
    u = np.linspace(-1.0, 1.0, 64)
    columns = [rng.permutation(0.5 * u ** 2 + 0.3 * u + 0.02 * (j + 1)) for j in range(10)]
    return np.stack(columns, axis=1).astype(np.float32)


def test_poly_filter_parameters_memory_and_reuse(rng):
    model = dense_model(PolyApprox(degree=2, levels=8, group="filter", coef_bits=16))
    model.layers[-1].set_weights([quadratic_kernel(rng), np.zeros(10, np.float32)])
    report = compression_report(model)
    r = report.layers[0]
    # coefficients: 3 per output unit (one group = the whole fan-in) -> 30
    assert r.parameters == 30
    assert report.totals["parameter_reduction"] == pytest.approx(640 / 30)
    # memory: 3-bit bucket index per weight + 30 coefficients of 16 bits
    assert r.kernel_bits == 640 * 3 + 30 * 16
    # full mults: a*S0 + b*S1 + c*S2 per output unit
    assert r.full_mults == 10 * 3
    # shift-adds: S0 = 64 adds per output; S1, S2 skip the 8 weights of bucket 0 (64 ranks / 8 levels)
    assert r.shift_adds == 10 * (64 + 2 * (64 - 8))


def test_poly_layer_group_shares_coefficients_and_s0(rng):
    model = dense_model(PolyApprox(degree=1, levels=16, group="layer", coef_bits=16))
    model.layers[-1].set_weights([quadratic_kernel(rng), np.zeros(10, np.float32)])
    r = compression_report(model).layers[0]
    assert r.parameters == 2                              # a, b for the whole kernel
    assert r.kernel_bits == 640 * 4 + 2 * 16
    assert r.full_mults == 10 * 2                         # a*S0 and b*S1 per output unit
    # S0 = sum of the 64 inputs, computed once; S1 skips bucket 0 (640 ranks / 16 levels = 40)
    assert r.shift_adds == 64 + (640 - 40)


# -- outputs -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_report() -> CompressionReport:
    tf.keras.utils.set_random_seed(3)
    model = tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)),
        QConv2D(4, 3, kernel_quantizer=SWC(group="kernel"), name="conv"),
        tf.keras.layers.BatchNormalization(name="bn"),
        tf.keras.layers.Flatten(),
        QDense(10, kernel_quantizer=DFP(bits=4), name="fc"),
    ])
    return compression_report(model)


def test_json_round_trip_is_exact_and_deterministic(small_report):
    text = small_report.to_json()
    assert CompressionReport.from_json(text) == small_report
    assert CompressionReport.from_json(text).to_json() == text
    data = json.loads(text)
    assert list(data) == ["layers", "totals", "skipped"]
    assert list(data["totals"])[:8] == ["weights", "biases", "weight_bits", "table_bits", "float32_bits",
                                        "compression_vs_float32", "compression_with_tables", "zero_fraction"]
    assert data["skipped"] == ["bn (BatchNormalization): no kernel, not counted"]


def test_markdown_table_carries_every_row(small_report):
    lines = small_report.to_markdown().splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    cells = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")] for line in lines[2:4]}
    for r in small_report.layers:
        values = dict(zip(header, cells[r.name]))
        assert values["method"] == r.method
        assert [int(values[k]) for k in ("weight bits", "MACs", "full mults", "shift-adds")] == [
            r.weight_bits, r.macs, r.full_mults, r.shift_adds]
    assert f"| macs | {small_report.totals['macs']} |" in lines


def test_dataframe_and_clear_error_without_pandas(small_report, monkeypatch):
    frame = small_report.to_dataframe()
    assert list(frame["name"]) == ["conv", "fc"]
    assert frame["weight_bits"].sum() == small_report.totals["weight_bits"]
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas"):
        small_report.to_dataframe()


def test_plot_writes_a_readable_png(small_report, tmp_path):
    import matplotlib.image

    path = small_report.plot(str(tmp_path / "report.png"))
    image = matplotlib.image.imread(path)
    assert image.shape[0] >= 200 and image.shape[1] >= 1000     # two side-by-side panels
    assert (tmp_path / "report.png").stat().st_size > 20_000
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 50  # not blank


def test_unbuilt_model_needs_input_shape():
    model = tf.keras.Sequential([QDense(10, kernel_quantizer=SWC(group="filter"))])
    with pytest.raises(ValueError, match="input_shape"):
        compression_report(model)
    # one group per output, and the reciprocal of D per output (fixed format)
    assert compression_report(model, input_shape=(64,)).totals["full_mults"] == 10 + 10


# -- command line ------------------------------------------------------------------------------

@pytest.fixture
def cli(monkeypatch):
    import keras_wc.cli as cli_module

    if "keras_wc.cli.report" not in cli_module.COMMAND_MODULES:
        monkeypatch.setattr(cli_module, "COMMAND_MODULES", [*cli_module.COMMAND_MODULES, "keras_wc.cli.report"])
    return cli_module.main


def test_cli_reports_a_saved_model(cli, tmp_path, capsys, rng):
    model = dense_model(DFP(bits=8))
    model.layers[-1].set_weights([no_zero_kernel(rng, (64, 10)), np.zeros(10, np.float32)])
    model.save(tmp_path / "model.h5")
    assert cli(["report", str(tmp_path / "model.h5"), "--json", "--plot", str(tmp_path / "r.png")]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert (totals["macs"], totals["full_mults"], totals["weight_bits"]) == \
        (640, 640 - dfp_power_of_two_codes(model), 640 * 8 + 320)
    assert (tmp_path / "r.png").stat().st_size > 0
    assert cli(["report", str(tmp_path / "model.h5")]) == 0
    assert capsys.readouterr().out.startswith("| layer | class | method |")


def test_cli_errors_are_one_line(cli, tmp_path, capsys):
    assert cli(["report", str(tmp_path / "missing.h5")]) == 2
    assert capsys.readouterr().err.strip() == f"keras-wc report: error: no model at {tmp_path / 'missing.h5'}"
    (tmp_path / "junk.h5").write_text("not a model")
    assert cli(["report", str(tmp_path / "junk.h5")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot load" in err
