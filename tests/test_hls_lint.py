"""The synthesis lint: per-layer figures and every ``#pragma HLS`` as the vendor compiler reads it.

Projects for every method (SWC fixed and po2, DFP per channel, Po2, PolyApprox, SparseTernary),
pooling and a folded BatchNormalization, in both flavours and both io types, are preprocessed
with ``-D__SYNTHESIS__`` (``-D__VITIS_HLS__`` for Vitis) against ap_types without their
synthesis ``#error``; every pragma line must be a valid directive with valid options. The
per-layer figures (``keras_wc.hls.lint``) are checked on hand-counted layers and against the
resource report (``tests/test_hls_strategy.py`` checks them on Resource layers).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")
from qkeras import QActivation, QConv2D, QDense, quantized_bits  # noqa: E402

from keras_wc.cli import main  # noqa: E402
from keras_wc.hls import convert, lint, resources  # noqa: E402
from keras_wc.hls.layers import integer_precision  # noqa: E402
from keras_wc.hls.pragmas import check_pragma, check_project, preprocessed_firmware  # noqa: E402
from keras_wc.quantizers import DFP, SWC, Po2, PolyApprox, SparseTernary  # noqa: E402

L = tf.keras.layers


def every_method_model() -> tf.keras.Model:
    """One small CNN holding every method, pooling and a folded BatchNormalization."""
    tf.keras.utils.set_random_seed(3)
    inputs = tf.keras.Input((8, 8, 1))
    x = QActivation(quantized_bits(8, 0, alpha=1))(inputs)
    x = QConv2D(4, 3, padding="same", kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="swc")(x)
    x = L.BatchNormalization()(x)
    x = QActivation("quantized_relu(8,3)")(x)
    x = QConv2D(4, 3, kernel_quantizer=SWC(sw_bits=4, sw_format="po2", group="kernel"), name="swc_po2")(x)
    x = QActivation("quantized_relu(8,3)")(x)
    x = L.MaxPooling2D(2)(QConv2D(4, 1, kernel_quantizer=Po2(bits=4), name="po2")(x))
    x = QActivation("quantized_relu(8,3)")(L.AveragePooling2D(3, strides=1, padding="same")(x))
    x = L.Flatten()(x)
    x = QActivation("quantized_relu(8,3)")(QDense(16, kernel_quantizer=DFP(bits=6, per_channel=True), name="dfp")(x))
    x = QActivation("quantized_relu(8,3)")(QDense(8, kernel_quantizer=SparseTernary(n=8, k=2), name="ternary")(x))
    return tf.keras.Model(inputs, QDense(4, kernel_quantizer=PolyApprox(degree=2, group="filter"), name="poly")(x))


@pytest.fixture(scope="module")
def model():
    return every_method_model()


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("flavor", ["Vitis", "Vivado"])
def test_every_pragma_is_a_valid_directive(model, tmp_path, flavor, io_type):
    convert(model, tmp_path / "prj", flavor=flavor, io_type=io_type)
    assert check_project(tmp_path / "prj") == []
    text = preprocessed_firmware(tmp_path / "prj", flavor)
    pragmas = [line.strip() for line in text.splitlines() if line.strip().startswith("#pragma HLS")]
    assert any(line == "#pragma HLS INLINE" for line in pragmas)  # SQNAP's own, not ap_types' INLINE macro
    assert not any("__attribute__" in line for line in pragmas)
    if flavor == "Vitis":
        assert not any("DATA_PACK" in line.upper() for line in pragmas)  # Vitis HLS has no DATA_PACK


@pytest.mark.parametrize("line, flavor, problem", [
    ("#pragma HLS inline __attribute__((always_inline))", "Vitis", "unexpected option '__attribute__"),
    ("#pragma HLS PIPELINE II=", "Vitis", "malformed value ''"),
    ("#pragma HLS ARRAY_PARTITION complete dim=0", "Vivado", "needs variable="),
    ("#pragma HLS ARRAY_PARTITION variable=x complete dim=1.5", "Vivado", "dim='1.5' is not an integer"),
    ("#pragma HLS DATA_PACK variable=pack", "Vitis", "data_pack is not a Vitis HLS directive"),
    ("#pragma HLS UNROL", "Vitis", "unknown directive 'UNROL'"),
    ("#pragma HLS PIPELINE IIx=2", "Vitis", "unknown option 'iix' of pipeline"),
])
def test_invalid_pragmas_are_reported(line, flavor, problem):
    problems = check_pragma(line, flavor)
    assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize("line", [
    "#pragma HLS PIPELINE II=CONFIG_T::reuse_factor rewind",
    "#pragma HLS ALLOCATION operation instances=mul limit=CONFIG_T::mult_config::multiplier_limit",
    "#pragma HLS INTERFACE ap_vld port=input_1,layer7_out",
    "#pragma HLS ARRAY_PARTITION variable=table complete dim=2",
    "#pragma HLS function_instantiate variable=weights,biases",
    "#pragma HLS unroll",
    "#pragma HLS RESOURCE variable=weights core=ROM_nP_BRAM",  # stock nnet_dense_resource.h; deprecated in Vitis
    "#pragma HLS STREAM variable=data_window[i_out] depth=win_depth",  # stock nnet_conv_stream.h
    "#pragma HLS PIPELINE II = CONFIG_T::reuse_factor * CONFIG_T::n_partitions",  # stock, with spaces
])
def test_hls4ml_and_sqnap_pragmas_are_valid(line):
    assert check_pragma(line, "Vitis") == [] and check_pragma(line, "Vivado") == []


def test_vivado_data_pack_levels_are_valid():
    """Stock hls4ml's Vivado headers pack weight structs with DATA_PACK ... struct_level."""
    assert check_pragma("#pragma HLS data_pack variable=weights struct_level", "Vivado") == []
    assert check_pragma("#pragma HLS data_pack variable=weights struct_level", "Vitis") != []


def test_a_project_without_ap_types_is_refused(tmp_path):
    (tmp_path / "firmware").mkdir()
    with pytest.raises(FileNotFoundError, match="firmware/ap_types is missing"):
        preprocessed_firmware(tmp_path, "Vitis")


def test_model_inputs_are_on_the_expected_grid(model):
    """The fixture model really holds every method (guards the test above against a silent drop)."""
    methods = {type(getattr(layer, "kernel_quantizer_internal", None)).__name__ for layer in model.layers}
    assert {"SWC", "DFP", "Po2", "PolyApprox", "SparseTernary"} <= methods
    assert np.isfinite(model.predict(np.zeros((1, 8, 8, 1), np.float32), verbose=0)).all()


@pytest.mark.parametrize("with_conv, style", [(True, "DATAFLOW"), (False, "PIPELINE")])
def test_models_with_pixel_loops_get_a_dataflow_top(tmp_path, with_conv, style):
    """SQNAP convs and pooling loop over pixels: under a top PIPELINE those loops would be unrolled."""
    inputs = tf.keras.Input((6, 6, 1))
    x = QActivation(quantized_bits(8, 0, alpha=1))(inputs)
    if with_conv:
        x = L.MaxPooling2D(2)(QConv2D(2, 3, kernel_quantizer=DFP(bits=4), name="conv")(x))
    outputs = QDense(3, kernel_quantizer=DFP(bits=4), name="fc")(L.Flatten()(x))
    convert(tf.keras.Model(inputs, outputs), tmp_path / "prj")
    top = (tmp_path / "prj/firmware/myproject.cpp").read_text()
    assert [line.strip() for line in top.splitlines() if "DATAFLOW" in line or "PIPELINE" in line] == \
        [f"#pragma HLS {style}"]


def test_an_explicit_pipeline_style_is_kept(tmp_path):
    inputs = tf.keras.Input((6, 6, 1))
    x = QConv2D(2, 3, kernel_quantizer=DFP(bits=4), name="conv")(QActivation(quantized_bits(8, 0, alpha=1))(inputs))
    outputs = QDense(3, kernel_quantizer=DFP(bits=4), name="fc")(L.Flatten()(x))
    convert(tf.keras.Model(inputs, outputs), tmp_path / "prj", hls_config={"Model": {"PipelineStyle": "pipeline"}})
    assert "#pragma HLS PIPELINE" in (tmp_path / "prj/firmware/myproject.cpp").read_text()


def stream_conv_model(width: int, channels: int) -> tf.keras.Model:
    """A 3x3 SWC conv (4 filters, one group per input channel) on a width x width x channels stream."""
    tf.keras.utils.set_random_seed(4)
    inputs = tf.keras.Input((width, width, channels), name="img")
    x = QActivation(quantized_bits(8, 0, alpha=1), name="q_in")(inputs)
    x = QConv2D(4, 3, kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv")(x)
    return tf.keras.Model(inputs, QDense(3, kernel_quantizer=DFP(bits=6), name="fc")(L.GlobalMaxPooling2D()(x)))


def test_lint_figures_of_hand_counted_layers(tmp_path):
    """A 3x3 conv on a 32-wide, 3-channel stream buffers 3 rows; the Dense its 4 inputs and 3 outputs.

    Multipliers: per conv output one MAW product per group (3) and the reciprocal of D = 7; the
    Dense's 6-bit DFP codes are full multiplications, one per non-zero code that is not +-2**k.
    """
    model = stream_conv_model(32, 3)
    convert(model, tmp_path / "prj", io_type="io_stream")
    report = lint(tmp_path / "prj")
    conv = report.layers["conv"]
    assert conv == {"strategy": "latency", "max_unroll": 4 * 27, "largest_partition": 3 * 32 * 3,
                    "buffer_elements": 3 * 32 * 3, "rom_bits": 0, "rom_word_bits": 0, "multipliers": 4 * (3 + 1),
                    "shift_add_terms": 4 * 27}
    fc_layer = model.get_layer("fc")
    codes = np.abs(fc_layer.kernel_quantizer_internal.encode(fc_layer.kernel).arrays["codes"].astype(np.int64))
    live_codes = int(np.count_nonzero((codes & (codes - 1)) != 0))
    fc = report.layers["fc"]
    assert fc == {"strategy": "latency", "max_unroll": 3 * 4, "largest_partition": 4, "buffer_elements": 4 + 3,
                  "rom_bits": 0, "rom_word_bits": 0, "multipliers": live_codes, "shift_add_terms": 3 * 4}
    assert report.problems == []
    counted = {row.name: row for row in resources(tmp_path / "prj").layers}
    assert counted["conv"].sqnap_multipliers == conv["multipliers"]
    assert counted["fc"].sqnap_multipliers == fc["multipliers"]


def test_lint_reports_what_a_vivado_synthesis_would_refuse(tmp_path, capsys):
    """A 64-wide, 32-channel line buffer (6144 elements) is beyond Vivado's partition limit of 4096."""
    model = stream_conv_model(64, 32)
    with warnings.catch_warnings(record=True) as caught:  # third-party warnings are not re-emitted
        warnings.simplefilter("always")
        convert(model, tmp_path / "prj", io_type="io_stream", flavor="Vivado")
    assert any("synthesis lint: layer 'conv': a completely partitioned array of 6144 elements exceeds Vivado's "
               "limit of 4096" in str(w.message) for w in caught)
    assert main(["lint", str(tmp_path / "prj")]) == 1
    printed = capsys.readouterr().out
    assert "| conv | latency |" in printed and "exceeds Vivado's limit of 4096" in printed
    assert lint(tmp_path / "prj", flavor="Vitis").problems == []  # Vitis has no such limit


def test_lint_reports_a_rom_word_too_wide_to_reshape(tmp_path):
    """A Resource Dense 4096 -> 4 at reuse factor 1: one round reads 4 x 4096 8-bit codes, a 131,072-bit word."""
    tf.keras.utils.set_random_seed(2)
    inputs = tf.keras.Input((4096,))
    x = QActivation(quantized_bits(8, 0, alpha=1), name="q_in")(inputs)
    model = tf.keras.Model(inputs, QDense(4, kernel_quantizer=DFP(bits=8), name="fc")(x))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        convert(model, tmp_path / "prj", strategy="Resource")
    words = lint(tmp_path / "prj", pragmas=False)
    layer = model.get_layer("fc")
    code_bits = integer_precision(layer.kernel_quantizer_internal.encode(layer.kernel).arrays["codes"]).width
    assert words.layers["fc"]["rom_word_bits"] == 4 * 4096 * code_bits > 65536
    message = f"layer 'fc': a ROM word of {4 * 4096 * code_bits} bits (one round's values) exceeds the 65536-bit limit"
    assert any(problem.startswith(message) for problem in words.problems)
    assert any(message in str(w.message) for w in caught)
