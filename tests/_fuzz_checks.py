"""The fuzz checks, their sharded hypothesis runs and the regression files they leave behind.

A :class:`Case` is one generated model description plus what to check on it:

* ``"emulator"``: ``keras_wc.emulate.compare(...)`` is ``.ok`` (every layer within its documented
  local tolerance of Keras);
* ``"csim"``: ``keras_wc.testing.assert_csim_bit_exact`` with the case's ``io_type`` and ``flavor``
  (the g++ C simulation equals the emulator bit for bit).

:func:`run_shard` runs one seeded hypothesis search in a worker process (spawned: TensorFlow and
g++ keep one core busy each, so two shards use both cores of a CI machine). When a case fails,
hypothesis shrinks it and the shrunk case is written to ``tests/fuzz_regressions/<hash>.json``,
which ``test_fuzz_regressions`` replays from then on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st

from _fuzz_models import KNOWN_BUGS, Description, build_model, model_descriptions, sample_inputs

#: where failing cases are saved (one JSON file each) and replayed from
REGRESSIONS = Path(__file__).parent / "fuzz_regressions"
CHECKS = ("emulator", "csim", "rtl")
IO_TYPES = ("io_parallel", "io_stream")
FLAVORS = ("Vitis", "Vivado")
#: inputs per model: compare() sees the local error of every layer on each of them
EMULATOR_SAMPLES = 16
CSIM_SAMPLES = 16
RTL_SAMPLES = 16
#: keras_wc.rtl's refusals that name no layer (docs/rtl.md): the model as a whole
RTL_MODEL_REFUSALS = ("the model computes nothing in hardware", "the model's input is float",
                      "the design's input words are", "the design's output words are")
#: at most this many characters of an error go into a regression file
ERROR_CHARS = 4000


@dataclass(frozen=True)
class Case:
    """One model description and the check to run on it (``io_type``/``flavor``: the C simulation's)."""

    description: Description
    check: str
    io_type: str = "io_parallel"
    flavor: str = "Vitis"

    def key(self) -> str:
        """A short hash of the case (the regression file's name)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Case":
        return cls(data["description"], data["check"], data.get("io_type", "io_parallel"),
                   data.get("flavor", "Vitis"))


class FuzzFailure(AssertionError):
    """A failing case, with the error it raised (kept as text: it crosses process boundaries)."""

    def __init__(self, case: Case, error: BaseException):
        self.case = case
        self.error = "".join(traceback.format_exception(error))[-ERROR_CHARS:]
        super().__init__(f"{case.check} check failed for a generated model:\n{self.error}")


# -- the checks ------------------------------------------------------------------------------
def check_emulator(model: Any, description: Description) -> None:
    """Every layer of the emulator within its documented local tolerance of Keras (``compare(...).ok``)."""
    from keras_wc.emulate import compare

    result = compare(model, sample_inputs(description, EMULATOR_SAMPLES), input_format=description["input_format"])
    assert result.ok, f"the emulator differs from Keras beyond the documented local tolerance:\n{result}"


def check_csim(model: Any, description: Description, io_type: str, flavor: str) -> None:
    """The g++ C simulation of the converted project equals the emulator bit for bit, on every sample;
    every ``#pragma HLS`` is valid as the flavour's compiler preprocesses it, and an io_parallel model
    with pixel loops has a DATAFLOW top.

    Two documented refusals pass when they are true (:func:`check_refusal`).
    """
    from keras_wc.hls.pragmas import check_project
    from keras_wc.testing import assert_csim_bit_exact

    x = sample_inputs(description, CSIM_SAMPLES)
    with tempfile.TemporaryDirectory(prefix="fuzz_csim_") as keep:
        try:
            result = assert_csim_bit_exact(model, x, keep=Path(keep), input_format=description["input_format"],
                                           io_type=io_type, flavor=flavor)
        except ValueError as refusal:
            check_refusal(model, description, x, str(refusal))
            return
        assert result.bit_exact == result.total == CSIM_SAMPLES, result.summary()
        project = Path(keep) / "prj"
        problems = check_project(project, flavor)
        assert problems == [], problems
        top = (project / "firmware/myproject.cpp").read_text()
        if io_type == "io_parallel" and ("sqnap::conv" in top or "sqnap::pool" in top):
            assert "#pragma HLS DATAFLOW" in top


def check_rtl(model: Any, description: Description) -> None:
    """keras_wc.rtl's Verilator simulation equals the emulator bit for bit on every sample — or the
    conversion is refused before anything is written, naming a layer of this model (or the model as a
    whole, :data:`RTL_MODEL_REFUSALS`)."""
    import keras_wc.rtl
    from keras_wc.emulate import emulate

    x = sample_inputs(description, RTL_SAMPLES)
    with tempfile.TemporaryDirectory(prefix="fuzz_rtl_") as scratch:
        target = Path(scratch) / "design"
        try:
            design = keras_wc.rtl.convert(model, target, input_format=description["input_format"])
        except ValueError as refusal:
            message = str(refusal)
            named = re.match(r"^layer '([^']+)': ", message)
            assert not target.exists(), "a refused conversion wrote its folder"
            assert (named is not None and named.group(1) in {layer.name for layer in model.layers}) or \
                message.startswith(RTL_MODEL_REFUSALS), f"refused without naming a layer of the model: {message}"
            return
        outputs = design.simulate(x)
    expected = emulate(model, x, input_format=description["input_format"])
    assert np.array_equal(outputs, expected), "the Verilator simulation differs from the emulator"


def hardware_input(model: Any, description: Description, x: np.ndarray) -> np.ndarray:
    """What the design's input holds: ``x`` on a declared ``input_format``; without one, the first
    QActivation's quantization of ``x`` (that QActivation is the design's input format)."""
    first = model.layers[1]
    if description["input_format"] is None and type(first).__name__ == "QActivation":
        return np.asarray(first(x))
    return x


def ends_with_softmax(model: Any) -> bool:
    """Whether the model's output layer is a softmax (``Activation("softmax")`` or ``Softmax``)."""
    import tensorflow as tf

    last = model.layers[-1]
    return isinstance(last, tf.keras.layers.Softmax) or getattr(getattr(last, "activation", None), "__name__",
                                                                "") == "softmax"


def check_refusal(model: Any, description: Description, x: np.ndarray, message: str) -> None:
    """A conversion refused with ``message`` must be refused for the reason it gives.

    * "computes nothing in hardware": Keras returns the design's input, value for value (or its
      softmax when the model ends with one: the design outputs logits);
    * "more than hls4ml's weight files hold exactly": the named BatchNormalization's exact
      multipliers or offsets do need the stated width, beyond the stated limit;
    * "hls4ml's depthwise kernels compute depth_multiplier=1 only": the named layer has another
      multiplier and no keras_wc quantizer (it would go through hls4ml's kernels).

    Any other refusal fails the check.
    """
    import tensorflow as tf

    from keras_wc.datapath import describe_model

    if "computes nothing in hardware" in message:
        y = np.asarray(model(x, training=False), np.float64).reshape(len(x), -1)
        x_hw = np.asarray(hardware_input(model, description, x), np.float64)
        if ends_with_softmax(model):  # the design outputs logits (docs/hls.md): softmax(input) is "nothing"
            x_hw = x_hw.reshape((len(x),) + tuple(model.output_shape[1:]))  # the identities only reshape
            x_hw = np.asarray(tf.nn.softmax(x_hw, axis=-1), np.float64).reshape(len(x), -1)
            assert np.allclose(y, x_hw, rtol=1e-6, atol=1e-7), f"refused, yet it computes: {message}"
        else:
            assert np.array_equal(y, x_hw.reshape(len(x), -1)), f"refused, yet it computes: {message}"
        return
    depthwise = re.match(r"layer '(\w+)' \(\w+\): hls4ml's depthwise kernels compute depth_multiplier=1 only, "
                         r"this layer has (\d+)", message)
    if depthwise is not None:
        from keras_wc.methods import is_compression_quantizer

        layer = model.get_layer(depthwise.group(1))
        assert layer.depth_multiplier == int(depthwise.group(2)) != 1, f"refused, yet {message}"
        assert not is_compression_quantizer(getattr(layer, "depthwise_quantizer_internal", None)), \
            f"a keras_wc depthwise layer refused: {message}"
        return
    wide = re.match(r"layer '(\w+)' \(\w+\): its exact [\w ]+ need (\d+)-bit integers, more than hls4ml's weight "
                    r"files hold exactly \((\d+) bits\)", message)
    if wide is None:
        raise AssertionError(f"an undocumented refusal: {message}")
    layer, bits, limit = wide.group(1), int(wide.group(2)), int(wide.group(3))
    scalings = [spec.scaling for spec in describe_model(model, description["input_format"])
                if getattr(spec, "scaling", None) is not None and spec.scaling.layer == layer]
    widths = [max(abs(int(v)) for v in np.ravel(values)).bit_length() + 1
              for scaling in scalings for values in (scaling.multiplier, scaling.offset)]
    assert bits > limit and bits in widths, f"refused for {bits} bits, but {layer!r} needs {widths}: {message}"


def run_check(case: Case, model: Any) -> None:
    """Run ``case``'s check on its ``model``."""
    if case.check == "emulator":
        check_emulator(model, case.description)
    elif case.check == "rtl":
        check_rtl(model, case.description)
    else:
        check_csim(model, case.description, case.io_type, case.flavor)


def built(case: Case) -> Any:
    """``case``'s Keras model; :class:`FuzzFailure` when Keras cannot build it."""
    try:
        return build_model(case.description)
    except Exception as error:
        raise FuzzFailure(case, error) from error


def run_case(case: Case, model: Any) -> None:
    """Run ``case``'s check; raise :class:`FuzzFailure` (with the case) when it fails or crashes."""
    try:
        run_check(case, model)
    except Exception as error:
        raise FuzzFailure(case, error) from error


def wide_values(model: Any, description: Description) -> bool:
    """Known bug ``wide_values``: a compressed layer reads, or a BatchNormalization writes, > 62/63-bit integers.

    False when the model cannot be described (the check itself then reports why).
    """
    from keras_wc.datapath import describe_model

    try:
        specs = describe_model(model, description["input_format"])
    except Exception:
        return False
    bits = {spec.name: spec.output_format.bits if spec.output_format is not None else 0 for spec in specs}
    wide_input = any(bits[name] > 62 for spec in specs if spec.kind == "compressed" for name in spec.inputs)
    return wide_input or any(spec.kind == "affine" and bits[spec.name] > 63 for spec in specs)


def cases(check: str) -> st.SearchStrategy:
    """Cases of one check; C simulation cases draw their io type (first: the models depend on it) and flavour."""
    if check in ("emulator", "rtl"):
        return st.builds(Case, model_descriptions(), st.just(check))
    return st.sampled_from(IO_TYPES).flatmap(lambda io_type: st.builds(
        Case, model_descriptions(io_stream=io_type == "io_stream"), st.just("csim"), st.just(io_type),
        st.sampled_from(FLAVORS)))


# -- regressions -----------------------------------------------------------------------------
def save_regression(failure: FuzzFailure, folder: Path = REGRESSIONS) -> Path:
    """Write the (shrunk) failing case and its error to ``folder/<hash>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{failure.case.key()}.json"
    path.write_text(json.dumps({**asdict(failure.case), "error": failure.error}, indent=1) + "\n")
    return path


def load_regression(path: Path) -> Case:
    return Case.from_dict(json.loads(Path(path).read_text()))


def regression_files(folder: Path = REGRESSIONS) -> List[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


# -- sharded runs ----------------------------------------------------------------------------
def init_worker() -> None:
    """Worker process setup: quiet TensorFlow on one thread, Keras' predict run eagerly.

    ``compare`` builds a ``predict`` function per model; tracing it (autograph through every
    quantizer) costs several times more than running the few layers eagerly on 16 samples.
    Eager and graph execution use the same float32 kernels.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.run_functions_eagerly(True)


def _leaves(error: BaseException) -> Iterator[BaseException]:
    """The exceptions inside (nested) exception groups, or ``error`` itself (Python 3.10: the backport)."""
    group = getattr(error, "exceptions", None)
    if isinstance(group, (list, tuple)):
        for inner in group:
            yield from _leaves(inner)
    else:
        yield error


def run_shard(check: str, shard_seed: int, examples: int, folder: Optional[str] = None) -> Dict[str, Any]:
    """One seeded hypothesis search over ``examples`` generated cases of ``check``.

    Args:
        check: ``"emulator"`` or ``"csim"``.
        shard_seed: the hypothesis seed (a fixed seed per shard: every run draws the same models).
        examples: how many models to generate.
        folder: where regression files go (default :data:`REGRESSIONS`).

    Returns:
        ``{"seed", "checked", "seconds", "cpu_seconds", "failures": [{"file", "error"}]}``:
        ``checked`` counts every model run, shrinking included; ``cpu_seconds`` is the worker's
        and its children's (g++, the simulation) processor time.
    """
    checked = 0

    @seed(shard_seed)
    @settings(max_examples=examples, deadline=None, database=None, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(cases(check))
    def fuzz(case: Case) -> None:
        nonlocal checked
        model = built(case)
        assume(KNOWN_BUGS["wide_values"] or not wide_values(model, case.description))
        checked += 1
        run_case(case, model)

    start, cpu = time.perf_counter(), sum(os.times()[:4])
    failures = []
    try:
        fuzz()
    except BaseException as error:  # hypothesis raises the shrunk failure(s), in a group when several
        for leaf in _leaves(error):
            saved = save_regression(leaf, Path(folder or REGRESSIONS)) if isinstance(leaf, FuzzFailure) else None
            text = leaf.error if isinstance(leaf, FuzzFailure) else "".join(traceback.format_exception(leaf))
            failures.append({"file": None if saved is None else str(saved), "error": text})
    return {"seed": shard_seed, "checked": checked, "seconds": time.perf_counter() - start,
            "cpu_seconds": sum(os.times()[:4]) - cpu, "failures": failures}


def failure_report(reports: List[Dict[str, Any]]) -> str:
    """The failures of several shards: regression file and error of each."""
    lines = []
    for report in reports:
        for failure in report["failures"]:
            lines.append(f"--- shard seed {report['seed']}: saved {failure['file']}\n{failure['error']}")
    return "\n".join(lines)
