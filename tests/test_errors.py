"""One-line errors naming the argument, exit code 2 on the command line, nothing written (docs/errors.md)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")
from qkeras import QActivation, QDense  # noqa: E402

import keras_wc.hls as kh  # noqa: E402
from keras_wc.cli import main  # noqa: E402
from keras_wc.emulate import compare, emulate  # noqa: E402
from keras_wc.hls.convert import TB_INPUT, quantized_inputs  # noqa: E402
from keras_wc.hls.settings import check_settings  # noqa: E402
from keras_wc.quantizers import DFP, SWC, PolyApprox, SparseTernary  # noqa: E402
from keras_wc.report import compression_report  # noqa: E402

INPUT_FORMAT = "ufixed<8,0>"
ROOT = Path(__file__).resolve().parent.parent
KERAS3 = ("Functional from keras.src.models.functional is a Keras 3 model; keras_wc supports the hls4ml 1.3.0 "
          "Keras 2 stack only (tensorflow 2.14.1 / Keras 2.14, qkeras 0.9.0): build the model with tf.keras on "
          "that stack")
MALFORMED = ("input_format='ufixed<8': expected 'fixed<W,I>' or 'ufixed<W,I>' (W total bits, I integer bits incl. "
             "sign), e.g. 'ufixed<8,0>'")
OFF_GRID = ("{name}: 2 of 48 values are not on the declared grid ufixed<8,0> (steps of 2**-8, integers [0, 255]): "
            "max distance 0.1744 steps, 1 out of range; quantize the inputs first, pass quantize_inputs=True "
            "(--quantize-inputs) or declare another input_format")
CORRUPT = "Unable to synchronously open file (file signature not found)"


def declared_model():
    """Input on a declared format (12 values), SWC + ternary layers, logits out."""
    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((12,), name="x")
    h = QDense(6, kernel_quantizer=SWC(sw_bits=4, group=5), name="fc1")(inp)
    h = QActivation("quantized_relu(8,3)", name="fc1_act")(h)
    return tf.keras.Model(inp, QDense(3, kernel_quantizer=SparseTernary(n=4, k=1), name="logits")(h))


def float_input_model():
    """The first layer is a QActivation: the model quantizes float inputs itself."""
    tf.keras.utils.set_random_seed(1)
    inp = tf.keras.Input((12,), name="x")
    h = QActivation("quantized_bits(8,0,alpha=1)", name="in_q")(inp)
    return tf.keras.Model(inp, QDense(3, kernel_quantizer=DFP(bits=6), name="logits")(h))


class Functional:
    """Stands in for a Keras 3 model (its class lives in ``keras.src.models``, it has layers)."""

    layers: list = []


Functional.__module__ = "keras.src.models.functional"


@pytest.fixture(scope="module")
def model():
    return declared_model()


@pytest.fixture(scope="module")
def saved(tmp_path_factory, model):
    path = tmp_path_factory.mktemp("saved") / "model.h5"
    model.save(path)
    return path


@pytest.fixture
def x_off():
    """4 samples on the ufixed<8,0> grid but for one value off it (0.3001) and one out of its range (1.5)."""
    x = (np.random.default_rng(0).integers(0, 256, (4, 12)) / 256).astype(np.float32)
    x[0, 0], x[1, 1] = 0.3001, 1.5
    return x


def err_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


# -- model files, on every command that reads one ------------------------------------------------------
def bad_model_file(tmp_path: Path, kind: str) -> Path:
    if kind == "corrupt":
        (tmp_path / "model.h5").write_text("not a model")
    elif kind == "truncated":
        (tmp_path / "model.h5").write_bytes((ROOT / "fpga_projects/digits_mlp_ternary/model.h5").read_bytes()[:4000])
    elif kind == "npy":
        np.save(tmp_path / "model.npy", np.zeros(3))
        return tmp_path / "model.npy"
    elif kind == "folder":
        (tmp_path / "model.h5").mkdir()
    return tmp_path / "model.h5"


@pytest.mark.parametrize("kind", ["missing", "corrupt", "truncated", "npy", "folder"])
@pytest.mark.parametrize("command", ["report", "convert"])
def test_model_file_errors_are_one_line(tmp_path, capsys, kind, command):
    path = bad_model_file(tmp_path, kind)
    before = sorted(os.listdir(tmp_path))
    args = ["report", str(path)] if command == "report" else ["convert", str(path), str(tmp_path / "prj")]
    assert main(args) == 2
    line = err_line(capsys)
    if kind == "missing":
        assert line == f"keras-wc {command}: error: no model at {path}"
    elif kind == "corrupt":
        assert line == f"keras-wc {command}: error: cannot load {path} as a Keras model: {CORRUPT}"
    else:
        assert line.startswith(f"keras-wc {command}: error: cannot load {path} as a Keras model: ")
    assert sorted(os.listdir(tmp_path)) == before


def test_project_build_with_a_corrupt_model_is_one_line(tmp_path, capsys):
    folder = tmp_path / "recipe"
    folder.mkdir()
    shutil.copy(ROOT / "fpga_projects/digits_mlp_ternary/recipe.yaml", folder / "recipe.yaml")
    (folder / "model.h5").write_text("not a model")
    assert main(["project", "build", str(folder / "recipe.yaml")]) == 2
    assert err_line(capsys) == (f"keras-wc project: error: cannot load {folder / 'model.h5'} as a Keras model: "
                                f"{CORRUPT}")
    assert sorted(os.listdir(folder)) == ["model.h5", "recipe.yaml"]


def test_csim_of_a_missing_project_is_one_line(tmp_path, capsys):
    assert main(["csim", str(tmp_path / "nope")]) == 2
    assert err_line(capsys) == (f"keras-wc csim: error: {tmp_path / 'nope' / 'tb_data' / 'tb_input_features.dat'} "
                                "is missing: convert the model with x_test=... first")


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
def test_x_test_file_errors_are_one_line(tmp_path, saved, capsys, kind):
    path = tmp_path / "x.npy"
    if kind == "corrupt":
        path.write_text("not an array")
    assert main(["convert", str(saved), str(tmp_path / "prj"), "--x-test", str(path)]) == 2
    line = err_line(capsys)
    if kind == "missing":
        assert line == f"keras-wc convert: error: --x-test {path}: no such file"
    else:
        assert line.startswith(f"keras-wc convert: error: --x-test {path}: cannot read it as a .npy array: ")
    assert not (tmp_path / "prj").exists()


# -- convert's settings -------------------------------------------------------------------------------
@pytest.mark.parametrize("option,value,message", [
    ("--reuse-factor", "0", "reuse_factor=0: expected an int >= 1"),
    ("--part", "foo", "part='foo': expected a Xilinx part number such as 'xcvu13p-flga2577-2-e' or "
                      "'xc7z020clg400-1' (xc/xa/xq, the device, then -package/-speed/-temperature fields)"),
    ("--part", "", "part='': expected a Xilinx part number such as 'xcvu13p-flga2577-2-e' or "
                   "'xc7z020clg400-1' (xc/xa/xq, the device, then -package/-speed/-temperature fields)"),
    ("--project-name", "my-project", "project_name='my-project': expected a C identifier (letters, digits and _, "
                                     "not starting with a digit)"),
    ("--clock-period", "0", "clock_period=0.0: expected a number of nanoseconds > 0"),
    ("--input-format", "ufixed<8", MALFORMED),
])
def test_cli_convert_settings_are_refused_before_writing(tmp_path, saved, capsys, option, value, message):
    assert main(["convert", str(saved), str(tmp_path / "new" / "prj"), option, value]) == 2
    assert err_line(capsys) == f"keras-wc convert: error: {message}"
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kwargs,error,message", [
    ({"reuse_factor": 0}, ValueError, "reuse_factor=0: expected an int >= 1"),
    ({"reuse_factor": True}, ValueError, "reuse_factor=True: expected an int >= 1"),
    ({"flavor": "Quartus"}, ValueError, "flavor='Quartus': expected one of ['Vitis', 'Vivado']"),
    ({"io_type": "io_serial"}, ValueError, "io_type='io_serial': expected one of ['io_parallel', 'io_stream']"),
    ({"clock_period": 0}, ValueError, "clock_period=0: expected a number of nanoseconds > 0"),
    ({"hls_config": [1]}, TypeError, "hls_config=[1]: expected a dict of hls4ml hls_config entries or None"),
    ({"input_format": "ufixed<8"}, ValueError, MALFORMED),
    ({"input_format": 8}, TypeError, "input_format=8: expected None, a string such as 'ufixed<8,0>' or "
                                     "'fixed<8,3>', or a keras_wc FixedPoint"),
])
def test_api_convert_settings_raise_the_same_text(tmp_path, model, kwargs, error, message):
    with pytest.raises(error) as info:
        kh.convert(model, tmp_path / "prj", **{"input_format": INPUT_FORMAT, **kwargs})
    assert str(info.value) == message
    assert os.listdir(tmp_path) == []


def test_cli_unknown_flavour_is_an_argparse_error(tmp_path, saved, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["convert", str(saved), str(tmp_path / "prj"), "--flavor", "Quartus"])
    assert stop.value.code == 2
    assert "argument --flavor: invalid choice: 'Quartus' (choose from 'Vitis', 'Vivado')" in capsys.readouterr().err


@pytest.mark.parametrize("part", ["xcvu13p-flga2577-2-e", "xc7z020clg400-1", "xcu250-figd2104-2L-e",
                                  "xcvc1902-vsva2197-2MP-e-S", "xck26-sfvc784-2LV-c", "xqzu9eg-ffrb1156-1M-m"])
def test_xilinx_parts_are_accepted(part):
    check_settings(flavor="Vitis", io_type="io_parallel", project_name="myproject", reuse_factor=1, part=part,
                   clock_period=5, hls_config=None)


@pytest.mark.parametrize("part", ["foo", "", "xcvu13p", "10CX220YF780I5G", "xcvu13p flga2577", None])
def test_malformed_parts_are_refused(part):
    with pytest.raises(ValueError, match=r"^part=.*: expected a Xilinx part number"):
        check_settings(flavor="Vitis", io_type="io_parallel", project_name="myproject", reuse_factor=1, part=part,
                       clock_period=5, hls_config=None)


def test_reuse_factor_4_is_written(tmp_path, model):
    kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT, reuse_factor=4)
    assert kh.resources(tmp_path / "prj").reuse_factor == 4


# -- Keras 3 models, in every entry point --------------------------------------------------------------
@pytest.mark.parametrize("entry", ["convert", "emulate", "compare", "compression_report"])
def test_keras3_model_is_refused_everywhere(tmp_path, entry):
    calls = {"convert": lambda: kh.convert(Functional(), tmp_path / "prj"),
             "emulate": lambda: emulate(Functional(), np.zeros((1, 12))),
             "compare": lambda: compare(Functional(), np.zeros((1, 12))),
             "compression_report": lambda: compression_report(Functional())}
    with pytest.raises(TypeError) as info:
        calls[entry]()
    assert str(info.value) == KERAS3
    assert os.listdir(tmp_path) == []


def test_malformed_input_format_in_emulate_and_compare(model):
    for call in (emulate, compare):
        with pytest.raises(ValueError) as info:
            call(model, np.zeros((1, 12)), input_format="ufixed<8")
        assert str(info.value) == MALFORMED


# -- training controls ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,control,value,message", [
    (lambda: SparseTernary(n=8, k=2), "active_k", 0, "active_k=0: allowed range is in [1, 8]"),
    (lambda: SparseTernary(n=8, k=2), "active_k", 9, "active_k=9: allowed range is in [1, 8]"),
    (lambda: SparseTernary(n=8, k=2), "active_k", 2.0, "active_k=2.0: expected an int"),
    (lambda: SWC(sw_bits=4, maw_bits=6, group=4), "prune_threshold", 1.0,
     "prune_threshold=1.0: allowed range is [0, 1)"),
    (lambda: SWC(sw_bits=4, maw_bits=6, group=4), "prune_threshold", -0.1,
     "prune_threshold=-0.1: allowed range is [0, 1)"),
    (lambda: SWC(sw_bits=4, maw_bits=6, group=4), "frozen", 1, "frozen=1: expected a bool"),
    (lambda: SWC(sw_bits=4, maw_bits=6, group=4), "bits", 7, "sw_bits=7: allowed range is in [2, 6]"),
    (lambda: PolyApprox(), "frozen", "yes", "frozen='yes': expected a bool"),
    (lambda: DFP(bits=4), "bits", 1, "bits=1: allowed range is in [2, 24]"),
])
def test_control_setters_are_validated_like_the_constructor(make, control, value, message):
    quantizer = make()
    before = quantizer.get_control(control)
    with pytest.raises(ValueError) as info:
        quantizer.set_control(control, value)
    assert str(info.value) == message
    assert quantizer.get_control(control) == before


@pytest.mark.parametrize("make,message", [
    (lambda: SparseTernary(n=8, k=2, active_k=0), "active_k=0: allowed range is in [1, 8]"),
    (lambda: SWC(prune_threshold=1.0), "prune_threshold=1.0: allowed range is [0, 1)"),
    (lambda: DFP(bits=1), "bits=1: allowed range is in [2, 24]"),
])
def test_constructors_give_the_setters_messages(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == message


def test_valid_control_changes_take_effect():
    quantizer = SparseTernary(n=8, k=2)
    quantizer.set_control("active_k", 8)
    assert quantizer.get_control("active_k") == 8
    swc = SWC(sw_bits=4, maw_bits=6, group=4)
    swc.set_control("prune_threshold", 0.5)
    swc.set_control("frozen", np.bool_(True))
    assert (swc.get_control("prune_threshold"), swc.get_control("frozen")) == (0.5, True)


# -- one input rule -----------------------------------------------------------------------------------------
def test_off_grid_inputs_are_refused_alike(tmp_path, model, x_off):
    with pytest.raises(ValueError) as info:
        kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT, x_test=x_off)
    assert str(info.value) == OFF_GRID.format(name="x_test")
    for call in (emulate, compare):
        with pytest.raises(ValueError) as info:
            call(model, x_off, input_format=INPUT_FORMAT)
        assert str(info.value) == OFF_GRID.format(name="input")
    assert os.listdir(tmp_path) == []


def test_quantize_inputs_rounds_alike(tmp_path, model, x_off):
    xq = quantized_inputs(model, x_off, INPUT_FORMAT)
    assert xq[0, 0] == 77 / 256 and xq[1, 1] == 255 / 256  # round half to even, saturate
    kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT, x_test=x_off, quantize_inputs=True)
    written = np.loadtxt(tmp_path / "prj" / "tb_data" / TB_INPUT, ndmin=2)
    np.testing.assert_array_equal(written, xq)
    np.testing.assert_array_equal(emulate(model, x_off, INPUT_FORMAT, quantize_inputs=True),
                                  emulate(model, xq, INPUT_FORMAT))
    rounded, exact = compare(model, x_off, INPUT_FORMAT, quantize_inputs=True), compare(model, xq, INPUT_FORMAT)
    assert [(d.end_to_end, d.local) for d in rounded.layers] == [(d.end_to_end, d.local) for d in exact.layers]


def test_cli_x_test_follows_the_rule(tmp_path, saved, capsys, x_off):
    np.save(tmp_path / "x.npy", x_off)
    args = ["convert", str(saved), str(tmp_path / "prj"), "--input-format", INPUT_FORMAT, "--x-test",
            str(tmp_path / "x.npy")]
    assert main(args) == 2
    assert err_line(capsys) == "keras-wc convert: error: " + OFF_GRID.format(name="x_test")
    assert not (tmp_path / "prj").exists()
    assert main([*args, "--quantize-inputs"]) == 0
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "prj" / "tb_data" / TB_INPUT, ndmin=2),
                                  quantized_inputs(declared_model(), x_off, INPUT_FORMAT))


def test_float_input_model_takes_any_finite_float(tmp_path):
    model = float_input_model()
    x = np.random.default_rng(2).normal(0, 2, (6, 12)).astype(np.float32)
    kh.convert(model, tmp_path / "prj", x_test=x)
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "prj" / "tb_data" / TB_INPUT, ndmin=2),
                                  quantized_inputs(model, x, None))
    np.testing.assert_array_equal(emulate(model, x), emulate(model, quantized_inputs(model, x, None)))
    x[2, 3] = np.nan
    with pytest.raises(ValueError) as info:
        kh.convert(model, tmp_path / "again", x_test=x)
    assert str(info.value) == "x_test: 1 of 72 values are NaN or infinite"
    with pytest.raises(ValueError, match=r"^input: 1 of 72 values are NaN or infinite$"):
        emulate(model, x)


def test_wrong_sample_shape_names_both_shapes(tmp_path, model):
    with pytest.raises(ValueError) as info:
        kh.convert(model, tmp_path / "prj", input_format=INPUT_FORMAT, x_test=np.zeros((20, 13)))
    assert str(info.value) == "x_test: expected samples of shape (12,), got (13,) (batch shape (20, 13))"
    with pytest.raises(ValueError) as info:
        emulate(model, np.zeros(12), input_format=INPUT_FORMAT)
    assert str(info.value) == "input: expected samples of shape (12,), got () (batch shape (12,))"
    assert os.listdir(tmp_path) == []
