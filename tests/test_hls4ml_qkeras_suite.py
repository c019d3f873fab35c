"""hls4ml 1.3.0's own QKeras test file, run on the SQNAP backend: every case stock Vitis runs passes.

``test/pytest/test_qkeras.py`` of the hls4ml 1.3.0 sdist is fetched with pip at test time (into a
cache folder, never into the repository) with the ``conftest.py`` beside it. The only change made
to it: ``'Vitis'`` becomes ``'SQNAP'`` in its ``@pytest.mark.parametrize('backend', [...])`` lists;
the SQNAP cases (``-k SQNAP``: exactly the cases stock Vitis runs) are then run by pytest in a
subprocess, and every one of them must pass (:data:`EXPECTED_CASES` of them). Pure-QKeras models
converted through ``hls4ml.converters.convert_from_keras_model(..., backend="SQNAP")`` take
hls4ml's own arithmetic (stock mode, ``docs/hls.md``), so the file passes unmodified.

Determinism: the upstream cases draw unseeded random inputs and initializers (its own comment: the
4-bit cases "can still fail sometimes depending on random seed", stock Vitis included). The
subprocess loads a small plugin (:data:`SEED_PLUGIN`) that calls ``tf.keras.utils.set_random_seed``
before each case's fixtures are set up; the test file itself is untouched.

The test skips only when pip cannot reach a package index (the reason names the pip command).
It compiles one C++ project per case (about 4-5 minutes on two cores, serially); with
pytest-xdist installed the cases run on two workers.

The other tests here: stock mode writes the very firmware stock Vitis writes (layers the
upstream file converts with the default backend, stochastic quantizers), the stock/datapath
decision, and QKeras kernels off their declared grid (``alpha="auto_po2"``, binary, ternary)
inside keras_wc models, C-simulated bit-exactly on the datapath.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

HLS4ML_VERSION = "1.3.0"
SDIST = f"hls4ml-{HLS4ML_VERSION}"
#: what the test needs from the sdist (its test folder's conftest and the QKeras test file)
MEMBERS = ("test/pytest/conftest.py", "test/pytest/test_qkeras.py")
#: cases of ``test_qkeras.py`` parametrized with backend 'Vitis' (stock Vitis passes all of them)
EXPECTED_CASES = 57
#: occurrences of 'Vitis' in its backend parametrize lists
EXPECTED_REWRITES = 10
BACKEND_LIST = re.compile(r"(@pytest\.mark\.parametrize\(\s*'backend',\s*\[)([^\]]*)(\])")
#: network failures in pip's output (anything else is a real failure, not a skip)
OFFLINE_MARKERS = ("NewConnectionError", "Failed to establish a new connection", "Network is unreachable",
                   "Temporary failure in name resolution", "Name or service not known", "Max retries exceeded",
                   "ConnectTimeoutError", "ReadTimeoutError", "ProxyError", "Connection refused",
                   "No route to host", "Could not fetch URL")
SEED_PLUGIN = '''"""Seeds every RNG before each case's fixtures (module-scoped ones included) are set up."""
import pytest


def pytest_configure(config):
    import keras_wc.hls  # noqa: F401  (registers the SQNAP backend without the entry point too)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
'''


def cache_dir() -> Path:
    """``$KERAS_WC_CACHE``, else ``$XDG_CACHE_HOME/keras_wc``, else ``~/.cache/keras_wc``."""
    if os.environ.get("KERAS_WC_CACHE"):
        return Path(os.environ["KERAS_WC_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "keras_wc"


def _valid_sdist(path: Path) -> bool:
    try:
        with tarfile.open(path) as tar:
            names = set(tar.getnames())
    except (tarfile.TarError, OSError, EOFError):
        return False
    return all(f"{SDIST}/{member}" in names for member in MEMBERS)


def fetch_sdist(workdir: Path) -> Path:
    """The hls4ml sdist tarball: cached, or downloaded with ``pip download``.

    Raises:
        pytest.skip.Exception: pip cannot reach a package index.
        AssertionError: pip failed for another reason (its output quoted).
    """
    cached = cache_dir() / f"{SDIST}.tar.gz"
    if cached.is_file() and _valid_sdist(cached):
        return cached
    download = workdir / "download"
    command = [sys.executable, "-m", "pip", "download", f"hls4ml=={HLS4ML_VERSION}", "--no-deps",
               "--no-binary", ":all:", "-d", str(download)]
    shown = " ".join(["pip"] + command[3:])
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    if done.returncode != 0:
        if any(marker in done.stdout for marker in OFFLINE_MARKERS) or not any_index_reachable(done.stdout):
            pytest.skip(f"pip cannot reach a package index: `{shown}` failed")
        raise AssertionError(f"`{shown}` failed:\n{done.stdout[-3000:]}")
    found = download / f"{SDIST}.tar.gz"
    assert _valid_sdist(found), f"`{shown}` gave no usable {found.name}: {sorted(os.listdir(download))}"
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found, cached)
    except OSError:  # a read-only cache: use the download itself
        return found
    return cached


def index_urls(pip_output: str) -> List[str]:
    """The indexes pip looked in (its ``Looking in indexes:`` line; PyPI when it printed none)."""
    for line in pip_output.splitlines():
        if line.startswith("Looking in indexes:"):
            return [url.strip() for url in line.split(":", 1)[1].split(",") if url.strip()]
    return ["https://pypi.org/simple"]


def any_index_reachable(pip_output: str) -> bool:
    """Whether one of the indexes pip used answers (pip hides connection errors with retries=0)."""
    import urllib.parse
    import urllib.request

    for url in index_urls(pip_output):
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme == "file":
            if Path(urllib.parse.unquote(parsed.path)).is_dir():
                return True
            continue
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/", timeout=15):
                return True
        except Exception:
            continue
    return False


def rewrite_backend(source: str) -> Tuple[str, int]:
    """``source`` with 'Vitis' -> 'SQNAP' in every backend parametrize list; returns (text, replacements)."""
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        count += match.group(2).count("'Vitis'")
        return match.group(1) + match.group(2).replace("'Vitis'", "'SQNAP'") + match.group(3)

    return BACKEND_LIST.sub(replace, source), count


def prepare_suite(sdist: Path, root: Path) -> Path:
    """Extract the test folder members into ``root`` and rewrite the backend; returns the test file."""
    with tarfile.open(sdist) as tar:
        for member in MEMBERS:
            target = root / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(f"{SDIST}/{member}").read())
    test_file = root / "test/pytest/test_qkeras.py"
    original = test_file.read_text()
    rewritten, count = rewrite_backend(original)
    assert count == EXPECTED_REWRITES, f"expected {EXPECTED_REWRITES} 'Vitis' backend values, found {count}"
    changed = [line for line in rewritten.splitlines() if line not in original.splitlines()]
    assert changed and all(line.startswith("@pytest.mark.parametrize('backend'") for line in changed), changed
    test_file.write_text(rewritten)
    (root / "test/pytest/pytest.ini").write_text("[pytest]\n")  # no outer config (this repository's) applies
    (root / "test/pytest/sqnap_seed.py").write_text(SEED_PLUGIN)
    return test_file


def junit_outcomes(path: Path) -> Dict[str, str]:
    """``{case id: outcome}`` from a JUnit XML report (``passed``, ``failed``, ``error``, ``skipped``)."""
    outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name")] = {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
    return outcomes


@pytest.mark.slow
def test_hls4ml_test_qkeras_passes_on_sqnap(tmp_path):
    sdist = fetch_sdist(tmp_path)
    test_file = prepare_suite(sdist, tmp_path / SDIST)
    folder = test_file.parent
    report = tmp_path / "report.xml"
    command = [sys.executable, "-m", "pytest", test_file.name, "-k", "SQNAP", "-q", "-p", "no:cacheprovider",
               "-p", "sqnap_seed", "-c", "pytest.ini", "--rootdir", str(folder), f"--junitxml={report}",
               "-W", "ignore::DeprecationWarning"]
    if importlib.util.find_spec("xdist") is not None:
        command += ["-n", "2"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join([str(folder), str(Path(__file__).resolve().parents[1]),
                                           os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=1800)
    tail = done.stdout[-6000:]
    assert report.is_file(), f"pytest wrote no report (exit code {done.returncode}):\n{tail}"
    outcomes = junit_outcomes(report)
    bad: List[str] = [f"{name}: {outcome}" for name, outcome in outcomes.items() if outcome != "passed"]
    assert not bad, f"{len(bad)} of {len(outcomes)} cases did not pass:\n" + "\n".join(bad) + f"\n{tail}"
    assert len(outcomes) == EXPECTED_CASES, f"{len(outcomes)} cases ran, expected {EXPECTED_CASES}:\n{tail}"
    assert all("SQNAP" in name for name in outcomes)
    assert done.returncode == 0, tail


# -- stock mode and the datapath decision ---------------------------------------------------------------
def _pure_qkeras_models():
    import tensorflow as tf
    from qkeras import QActivation, QDense, QSeparableConv2D
    from qkeras.quantizers import quantized_bits, quantized_tanh, stochastic_binary, stochastic_ternary

    tf.keras.utils.set_random_seed(0)
    inp = tf.keras.Input((9, 9, 4), name="input_layer")
    out = QSeparableConv2D(5, 3, depthwise_quantizer=quantized_bits(8, 3, alpha=1),
                           pointwise_quantizer=quantized_bits(8, 3, alpha=1),
                           bias_quantizer=quantized_bits(8, 3, alpha=1), name="qsepconv_1")(inp)
    separable = tf.keras.Model(inp, out)
    stochastic = tf.keras.Sequential([
        tf.keras.Input((10,)), QActivation(quantized_bits(8, 0, alpha=1), name="q_in"),
        QDense(8, kernel_quantizer=stochastic_ternary(alpha=1), bias_quantizer=quantized_bits(5, 2), name="d1"),
        QActivation(quantized_tanh(8), name="tanh"),
        QDense(4, kernel_quantizer=stochastic_binary(alpha=1), name="d2")])
    return {"separable_io_stream": (separable, "io_stream"), "stochastic_io_parallel": (stochastic, "io_parallel")}


def _firmware(root: Path) -> Dict[str, bytes]:
    """The project's firmware files (compiled libraries and the SQNAP headers left out)."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted((root / "firmware").rglob("*"))
            if path.is_file() and path.suffix != ".so" and not path.name.startswith("sqnap_")}


@pytest.mark.parametrize("case", ["separable_io_stream", "stochastic_io_parallel"])
def test_stock_mode_writes_stock_vitis_firmware(tmp_path, case):
    """Without keras_wc quantizers, backend="SQNAP" is stock Vitis: the same firmware, byte for byte."""
    hls4ml = pytest.importorskip("hls4ml")
    import keras_wc.hls  # noqa: F401
    from keras_wc.hls.passes import is_stock

    model, io_type = _pure_qkeras_models()[case]
    firmware = {}
    for backend in ("Vitis", "SQNAP"):
        config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend,
                                                      default_precision="fixed<23,7>")
        hls_model = hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend=backend,
                                                               output_dir=str(tmp_path / backend), io_type=io_type)
        hls_model.write()
        firmware[backend] = _firmware(tmp_path / backend)
    assert is_stock(hls_model)
    assert firmware["SQNAP"].keys() == firmware["Vitis"].keys()
    different = [name for name in firmware["Vitis"] if firmware["Vitis"][name] != firmware["SQNAP"][name]]
    assert not different, different


def test_datapath_or_stock_decision(tmp_path):
    hls4ml = pytest.importorskip("hls4ml")
    import tensorflow as tf
    from qkeras import QActivation, QDense

    import keras_wc.hls  # noqa: F401
    from keras_wc.hls.passes import DATAPATH_KEY, compression_quantizer_layers, is_stock
    from keras_wc.quantizers import SWC

    def model(kernel_quantizer):
        inp = tf.keras.Input((12,), name="x")
        h = QActivation("quantized_bits(8,0,0,alpha=1)", name="q_in")(inp)
        return tf.keras.Model(inp, QDense(4, kernel_quantizer=kernel_quantizer, name="fc")(h))

    pure, ours = model("quantized_bits(4,0,1,alpha=1)"), model(SWC(sw_bits=4, group=4))
    assert compression_quantizer_layers(pure) == [] and compression_quantizer_layers(ours) == ["fc"]
    runs = {"pure": (pure, {}), "ours": (ours, {}), "pure_with_input_format": (pure, {"input_format": "ufixed<8,0>"})}
    graphs = {name: hls4ml.converters.convert_from_keras_model(m, output_dir=str(tmp_path / name), backend="SQNAP",
                                                               **kwargs)
              for name, (m, kwargs) in runs.items()}
    assert is_stock(graphs["pure"]) and graphs["pure"].config.config[DATAPATH_KEY] == {}
    assert not is_stock(graphs["ours"]) and "fc" in graphs["ours"].config.config[DATAPATH_KEY]
    assert not is_stock(graphs["pure_with_input_format"])  # input_format asks for the keras_wc datapath
    stock_fc = next(node for node in graphs["pure"].get_layers() if node.name == "fc")
    assert stock_fc.get_attr("sqnap_spec") is None


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("mode", ["stock", "datapath"])
def test_depth_multiplier_beyond_hls4ml_kernels_is_refused_by_name(tmp_path, mode, io_type):
    """hls4ml's depthwise kernels compute depth_multiplier=1 only (io_stream: silently wrong)."""
    hls4ml = pytest.importorskip("hls4ml")
    import tensorflow as tf
    from qkeras import QActivation, QDepthwiseConv2D

    import keras_wc.hls  # noqa: F401

    inp = tf.keras.Input((6, 6, 3), name="img")
    h = QActivation("quantized_relu(4,0)", name="q_in")(inp)
    out = QDepthwiseConv2D(2, depth_multiplier=2, depthwise_quantizer="quantized_po2(6)", name="dw")(h)
    model = tf.keras.Model(inp, out)
    extra = {"input_format": "ufixed<4,0>"} if mode == "datapath" else {}
    with pytest.raises(ValueError, match=r"^layer 'dw' \(DepthwiseConv2D\): hls4ml's depthwise kernels compute "
                                         r"depth_multiplier=1 only, this layer has 2; use depth_multiplier=1"):
        hls4ml.converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), backend="SQNAP",
                                                   io_type=io_type, **extra)
    assert not (tmp_path / "prj").exists()


# -- QKeras kernels off their declared grid, inside keras_wc models (the datapath) ------------------------
def _off_grid_models():
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, QDepthwiseConv2D

    from keras_wc.quantizers import SWC

    tf.keras.utils.set_random_seed(7)
    inp = tf.keras.Input((12,), name="x")
    h = QActivation("quantized_bits(8,0,0,alpha=1)", name="q_in")(inp)
    h = QDense(10, kernel_quantizer=SWC(sw_bits=4, group=4), name="fc1")(h)
    h = QActivation("quantized_relu(8,3)", name="a1")(h)
    # QKeras layers make alpha=None 'auto_po2': one power-of-two scale per output channel
    h = QDense(9, kernel_quantizer="quantized_bits(4,0,1)", bias_quantizer="quantized_bits(8,3,alpha=1)",
               name="fc_po2")(h)
    h = QActivation("quantized_bits(8,3,alpha=1)", name="a2")(h)
    h = QDense(8, kernel_quantizer="ternary(alpha='auto_po2')", name="fc_ternary")(h)
    h = QActivation("quantized_relu(8,3)", name="a3")(h)
    out = QDense(5, kernel_quantizer="binary(alpha='auto_po2')", name="fc_binary")(h)
    dense = tf.keras.Model(inp, out, name="off_grid_dense")

    tf.keras.utils.set_random_seed(8)
    inp = tf.keras.Input((8, 8, 2), name="img")
    h = QActivation("quantized_relu(8,0)", name="q_in")(inp)
    h = QConv2D(4, 3, kernel_quantizer="quantized_bits(6,0,1)", name="conv_po2")(h)
    h = QActivation("quantized_relu(8,3)", name="a1")(h)
    h = QDepthwiseConv2D(2, depthwise_quantizer="quantized_bits(6,0,1)", name="dw_po2")(h)
    h = QActivation("quantized_relu(8,3)", name="a2")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    out = QDense(3, kernel_quantizer=SWC(sw_bits=4, group=4), name="fc")(h)
    return {"dense": dense, "conv": tf.keras.Model(inp, out, name="off_grid_conv")}


def test_off_grid_qkeras_kernels_are_read_exactly():
    """auto_po2/binary/ternary kernels: per-channel grids, decoded codes equal the quantizer's output."""
    import numpy as np

    from keras_wc.datapath.describe import describe_model
    from keras_wc.datapath.qkeras_weights import read_exactly
    from keras_wc.methods.base import per_output
    from keras_wc.quantizers.ops import NP
    from keras_wc.walker import slot_of

    model = _off_grid_models()["dense"]
    specs = {spec.name: spec for spec in describe_model(model)}
    for name in ("fc_po2", "fc_ternary", "fc_binary"):
        encoding = specs[name].encoding
        assert encoding.method == "dfp" and read_exactly(encoding)
        frac = per_output(encoding.params["frac"], encoding.layout.n_out)
        decoded = encoding.layout.from_groups(encoding.arrays["codes"] * 2.0 ** -frac[:, None, None], NP)
        slot = slot_of(model.get_layer(name))
        np.testing.assert_array_equal(decoded, np.asarray(slot.quantizer(slot.kernel.numpy()), np.float64))
    assert np.ndim(specs["fc_po2"].encoding.params["frac"]) == 1  # the channels' scales differ


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("which", ["dense", "conv"])
def test_off_grid_qkeras_kernels_csim_bit_exact(which, io_type):
    import numpy as np

    from keras_wc.testing import assert_csim_bit_exact

    model = _off_grid_models()[which]
    x = np.random.default_rng(1).random((40,) + tuple(model.input_shape[1:]), dtype=np.float32) * 1.5 - 0.25
    assert_csim_bit_exact(model, x, io_type=io_type)
