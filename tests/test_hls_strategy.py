"""hls4ml's two architectures per SQNAP layer: Latency and Resource (the SQNAP processor).

Resource layers keep their codes and per-group scales in ROMs reshaped to one word per round
and compute ``ceil(n_out / reuse_factor)`` outputs per pipelined round; Latency layers fold the
weights into the pixel's datapath and cap its multipliers at ``ceil(full multiplications /
reuse_factor)``. C simulation stays bit-exact with the emulator for every method in both
architectures and both io types, on a 32x32x3 two-conv model (with a reuse factor that does not
divide the outputs) and on LeNet-5 28x28. The strategy is hls4ml's ``Strategy`` (model-wide or per layer); with
none given, a layer whose Latency round would unroll more terms than the flavour allows becomes
Resource (recorded in ``hls4ml_config.yml``), and a Strategy given explicitly is refused by
name when it does not fit.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import yaml

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")
from qkeras import QActivation, QConv2D, QDense, QDepthwiseConv2D  # noqa: E402

from keras_wc.hls import convert, lint, resources  # noqa: E402
from keras_wc.hls.pragmas import check_project, preprocessed_firmware  # noqa: E402
from keras_wc.hls.layers import integer_precision  # noqa: E402
from keras_wc.hls.strategy import FLAVOR_LIMITS, architecture, fitting_reuse_factor  # noqa: E402
from keras_wc.models import lenet5, logits_model  # noqa: E402
from keras_wc.quantizers import DFP, SWC, PolyApprox, Po2, SparseTernary  # noqa: E402
from keras_wc.testing import assert_csim_bit_exact  # noqa: E402

INPUT_FORMAT = "ufixed<6,0>"
SHAPE = (32, 32, 3)
REUSE = 3  # divides none of the layers' output counts (5, 4, 6, 7)


def _biases_far_from_zero(model: tf.keras.Model) -> tf.keras.Model:
    for layer in model.layers:
        if layer.get_weights():
            weights = layer.get_weights()
            weights[-1] = np.random.default_rng(3).normal(0, 0.3, weights[-1].shape).astype(np.float32)
            layer.set_weights(weights)
    return model


def two_conv_model(kind: str) -> tf.keras.Model:
    """QActivation -> conv -> conv -> max-pool -> Dense on 32x32x3, every method of ``kind`` once."""
    tf.keras.utils.set_random_seed(11)
    if kind == "grouped":  # methods with a full multiplier per group / output
        first = QConv2D(5, 3, padding="same", kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv_swc")
        second = QConv2D(4, 3, strides=2, kernel_quantizer=SparseTernary(n=9, k=3), name="conv_ternary")
        last = QDense(7, kernel_quantizer=PolyApprox(degree=2, levels=8, group=8), name="fc_poly")
    else:  # per-weight methods, depthwise, SWC po2
        first = QDepthwiseConv2D(3, depth_multiplier=2, padding="same",
                                 depthwise_quantizer=DFP(bits=6, kernel_layout="depthwise"), name="conv_dw")
        second = QConv2D(4, 2, kernel_quantizer=Po2(bits=5), name="conv_po2")
        last = QDense(7, kernel_quantizer=SWC(sw_bits=5, group=6, sw_format="po2"), name="fc_swc_po2")
    inp = tf.keras.Input(SHAPE, name="img")
    h = QActivation("quantized_relu(6,0)", name="q_in")(inp)
    h = QActivation("quantized_relu(6,2)", name="a1")(first(h))
    h = QActivation("quantized_relu(6,2)", name="a2")(second(h))
    h = tf.keras.layers.MaxPooling2D(2, name="pool")(h)
    return _biases_far_from_zero(tf.keras.Model(inp, last(tf.keras.layers.Flatten(name="flat")(h))))


def lenet5_model(kind: str) -> tf.keras.Model:
    """LeNet-5 on 28x28x1 (conv 6@5x5, conv 16@5x5, fc 120, fc 84, logits), a method per layer."""
    tf.keras.utils.set_random_seed(12)
    if kind == "grouped":
        quantizers = {"conv1": SWC(sw_bits=4, group="kernel"), "conv2": SparseTernary(n=8, k=2),
                      "fc1": PolyApprox(degree=2, levels=8, group=16), "fc2": SWC(sw_bits=4, group=12, sw_format="po2"),
                      "logits": SparseTernary(n=12, k=3)}
    else:
        quantizers = {"conv1": DFP(bits=6), "conv2": Po2(bits=4), "fc1": DFP(bits=4), "fc2": Po2(bits=5),
                      "logits": DFP(bits=8)}
    model = lenet5((28, 28, 1), quantizer=quantizers, activation_quantizer="quantized_relu(8,3)",
                   input_quantizer="quantized_relu(6,0)")
    return _biases_far_from_zero(logits_model(model))


def inputs(n: int = 16, shape=SHAPE) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 64, (n,) + tuple(shape)) / 64.0


def configs(prj) -> dict:
    """``{config name: {member: value}}`` of the project's SQNAP config structs."""
    text = (prj / "firmware/parameters.h").read_text()
    found = {}
    for name, body in re.findall(r"struct (config\d+) \{(.*?)\n\};", text, re.S):
        found[name] = dict(re.findall(r"static const (?:unsigned|int|bool) (\w+) = ([\w:]+);", body))
    return {name: members for name, members in found.items() if "strategy" in members}


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("strategy", ["Latency", "Resource"])
@pytest.mark.parametrize("kind", ["grouped", "per_weight"])
def test_two_conv_32x32x3_csim_bit_exact(tmp_path, kind, strategy, io_type):
    model = two_conv_model(kind)
    result = assert_csim_bit_exact(model, inputs(8), keep=tmp_path, input_format=INPUT_FORMAT, io_type=io_type,
                                   strategy=strategy, reuse_factor=REUSE)
    assert result.bit_exact == result.total == 8
    members = configs(tmp_path / "prj")
    assert len(members) == 3
    counted = {row.name: row for row in resources(tmp_path / "prj").layers}
    figures = lint(tmp_path / "prj").layers
    assert set(figures) == set(counted) and len(figures) == 3
    for config in members.values():
        n_out = int(config["n_out"])
        assert config["strategy"] == f"sqnap::{strategy.lower()}" and config["reuse_factor"] == str(REUSE)
        per_round = -(-n_out // REUSE) if strategy == "Resource" else n_out
        assert int(config["outputs_per_round"]) == per_round
    for flavor in ("Vitis", "Vivado"):
        assert check_project(tmp_path / "prj", flavor) == []
    for name, row in counted.items():
        assert figures[name]["strategy"] == strategy.lower()
        if strategy == "Resource":  # the ROMs hold exactly the report's weight bits; the PEs its multipliers
            assert figures[name]["rom_bits"] == row.sqnap_weight_bits > 0
            assert figures[name]["multipliers"] == row.sqnap_multipliers
        else:  # constants in logic; ALLOCATION caps the full multipliers at ceil(count / RF)
            assert figures[name]["rom_bits"] == 0
            assert figures[name]["multipliers"] <= max(1, row.sqnap_multipliers)


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("strategy", [None, "Resource"])
@pytest.mark.parametrize("kind", ["grouped", "per_weight"])
def test_lenet5_28x28_csim_bit_exact(tmp_path, kind, strategy, io_type):
    """Resource everywhere at RF 4, or Latency where it fits (fc1's 120 x 400 terms switch to Resource)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the automatic switch of fc1 is asserted below
        result = assert_csim_bit_exact(lenet5_model(kind), inputs(6, (28, 28, 1)), keep=tmp_path, io_type=io_type,
                                       strategy=strategy, reuse_factor=4)
    assert result.bit_exact == result.total == 6
    strategies = {name: figures["strategy"] for name, figures in lint(tmp_path / "prj").layers.items()}
    if strategy == "Resource":
        assert set(strategies.values()) == {"resource"} and len(strategies) == 5
    else:
        assert strategies == {"conv1": "latency", "conv2": "latency", "fc1": "resource", "fc2": "latency",
                              "logits": "latency"}


def _pragmas(prj, flavor: str) -> list:
    return [line.strip() for line in preprocessed_firmware(prj, flavor).splitlines() if "#pragma HLS" in line]


@pytest.mark.slow
def test_strategy_per_layer_from_hls_config(tmp_path):
    """One layer Resource by hls4ml's LayerName Strategy, the others Latency (the ROM pragmas of the
    cores apply under ``if (CONFIG_T::strategy == resource)``, as hls4ml writes its own)."""
    model = two_conv_model("grouped")
    hls_config = {"LayerName": {"conv_ternary": {"Strategy": "Resource", "ReuseFactor": 2}}}
    convert(model, tmp_path / "prj", input_format=INPUT_FORMAT, hls_config=hls_config)
    members = {config["n_out"]: config for config in configs(tmp_path / "prj").values()}
    assert members["4"]["strategy"] == "sqnap::resource" and members["4"]["outputs_per_round"] == "2"
    assert members["5"]["strategy"] == members["7"]["strategy"] == "sqnap::latency"
    assert members["5"]["outputs_per_round"] == "5" and members["7"]["outputs_per_round"] == "7"
    pragmas = _pragmas(tmp_path / "prj", "Vitis")
    # the ternary ROM (pattern indices), read one round (2 outputs x 1 group) per cycle
    assert "#pragma HLS ARRAY_RESHAPE variable=codes cyclic factor=code_words::value" in pragmas
    assert "#pragma HLS PIPELINE II=1" in pragmas
    assert check_project(tmp_path / "prj", "Vitis") == []


def dense_1024_256() -> tf.keras.Model:
    inp = tf.keras.Input((1024,), name="x")
    h = QActivation("quantized_bits(8,0,0,alpha=1)", name="q_in")(inp)
    return tf.keras.Model(inp, QDense(256, kernel_quantizer=SWC(sw_bits=4, group=64), name="fc")(h))


def test_layers_over_the_flavour_limit_become_resource(tmp_path):
    model = dense_1024_256()
    with warnings.catch_warnings(record=True) as caught:  # third-party warnings are not re-emitted
        warnings.simplefilter("always")
        hls_model = convert(model, tmp_path / "prj", flavor="Vivado")
    assert any(re.search(r"layer 'fc' \(SQNAPDense\): 262144 code x input terms per round .* Vivado limit of 4096 "
                         r".* Strategy=Resource, ReuseFactor=64", str(w.message)) for w in caught)
    written = yaml.safe_load((tmp_path / "prj/hls4ml_config.yml").read_text())
    assert written["HLSConfig"]["LayerName"]["fc"] == {"Strategy": "Resource", "ReuseFactor": 64}
    config = next(iter(configs(tmp_path / "prj").values()))
    assert config["strategy"] == "sqnap::resource" and config["outputs_per_round"] == "4"
    arch = next(node for node in hls_model.get_layers() if node.name == "fc").get_attr("sqnap_architecture")
    assert arch.unrolled_terms == 4 * 1024 <= FLAVOR_LIMITS["Vivado"].unrolled_terms and arch.rounds == 64
    # the ROMs, 64 words deep: codes 4 outputs x 1024 codes wide, MAWs 4 x 16 groups; BRAM18 36 bits x 512
    layer = model.get_layer("fc")
    encoding = layer.kernel_quantizer_internal.encode(layer.kernel)
    code_bits, maw_bits = (integer_precision(encoding.arrays[name]).width for name in ("codes", "maw"))
    assert code_bits == 4
    assert lint(tmp_path / "prj").layers["fc"]["rom_word_bits"] == 4 * 1024 * code_bits
    assert resources(tmp_path / "prj").layers[0].sqnap_bram18 == -(-4 * 1024 * code_bits // 36) + \
        -(-4 * 16 * maw_bits // 36)


@pytest.mark.parametrize("strategy,reuse,message", [
    ("Latency", 1, r"exceed the Vivado limit of 4096 with Strategy=Latency; use Strategy=Resource with "
                   r"ReuseFactor >= 64"),
    ("Resource", 16, r"16384 code x input terms per round \(16 outputs x fan-in 1024\) exceed the Vivado limit of "
                     r"4096 with Strategy=Resource"),
])
def test_an_explicit_strategy_that_does_not_fit_is_refused_by_name(tmp_path, strategy, reuse, message):
    with pytest.raises(ValueError, match=r"^layer 'fc' \(SQNAPDense\): .*" + message):
        convert(dense_1024_256(), tmp_path / "prj", flavor="Vivado", strategy=strategy, reuse_factor=reuse)
    assert not (tmp_path / "prj").exists()


def test_vitis_allows_larger_rounds_and_the_fit_is_the_smallest_reuse():
    assert fitting_reuse_factor(256, 1024, FLAVOR_LIMITS["Vitis"].unrolled_terms) == 16
    assert fitting_reuse_factor(256, 1024, 4096) == 64 and fitting_reuse_factor(10, 5000, 4096) is None
    for reuse in range(1, 40):
        arch = architecture("resource", 37, 9, reuse)
        assert arch.outputs_per_round * arch.rounds >= 37 > arch.outputs_per_round * (arch.rounds - 1)
        assert arch.rounds <= reuse


def test_unknown_strategy_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^strategy='Distributed': expected one of \['Latency', 'Resource'\]"):
        convert(dense_1024_256(), tmp_path / "prj", strategy="Distributed")
    model = two_conv_model("grouped")
    with pytest.raises(ValueError, match=r"^layer 'fc_poly' \(SQNAPDense\): Strategy='resource_unrolled' is not "
                                         r"implemented by the SQNAP kernels"):
        convert(model, tmp_path / "prj", input_format=INPUT_FORMAT,
                hls_config={"LayerName": {"fc_poly": {"Strategy": "Resource_Unrolled"}}})
    assert not (tmp_path / "prj").exists()


#: the one non-inlined function of a layer (its DATAFLOW process), which receives the top's weight arrays
LAYER_PROCESSES = {"conv2d_driver", "run", "dense_stream", "conv2d_stream"}
_DEFINITION = re.compile(r"^[ \t]*(?:static\s+)?(?:inline\s+)?[\w:<>,]+(?:\s*<[^>]*>)?\s+(\w+)\s*\(([^;{]*?)\)\s*\{",
                         re.M | re.S)
_WEIGHT_PARAMETER = re.compile(r"\.\.\.w\b|\b(codes|maw|coef|delta|mean|table|align|bias)\[")


def test_weights_reach_the_cores_as_constants(tmp_path):
    """Every header function that takes weights is INLINE, but for the layer's process; the weight
    arrays the top passes have literal initializers in the firmware as the vendor compiler reads it."""
    from keras_wc.hls_include import include_dir

    carriers = {}
    for header in sorted(include_dir().glob("sqnap*.h")):
        text = header.read_text()
        for match in _DEFINITION.finditer(text):
            if _WEIGHT_PARAMETER.search(match.group(2)):
                body = text[match.end():match.end() + 120]
                carriers[(header.name, match.group(1))] = "SQNAP_PRAGMA(HLS INLINE)" in body.split(";")[0]
    not_inlined = {name for (_, name), inlined in carriers.items() if not inlined}
    assert not_inlined == LAYER_PROCESSES, not_inlined
    assert len(carriers) >= 15  # the entry points, drivers, cores and their helpers were all found
    convert(two_conv_model("grouped"), tmp_path / "prj", input_format=INPUT_FORMAT, strategy="Latency")
    firmware = preprocessed_firmware(tmp_path / "prj", "Vitis")
    calls = re.findall(r"sqnap::\w+<sqnap::\w+, [^;]*?>\(([^;]*?)\);", firmware)
    weights = {name.strip() for arguments in calls for name in arguments.split(",")[2:]}
    assert len(calls) == 3 and len(weights) >= 10
    for name in weights:
        assert re.search(rf"\b{name}(\[\d+\])+ = \{{[-\d, {{}}]+\}};", firmware), name
