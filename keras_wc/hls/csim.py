"""C simulation with g++: build the generated testbench as ``csim_design`` does, run it on tb_data.

``<project>_test.cpp`` + ``firmware/<project>.cpp`` are compiled against hls4ml's bundled
``ap_types`` (Xilinx's open-source ``ap_int``/``ap_fixed``: bit-identical to Vivado/Vitis
csim) and run in the project folder; they read ``tb_data/tb_input_features.dat`` and write
``tb_data/csim_results.log``. The results are compared, value by value and exactly, with the
emulator's outputs written by :func:`keras_wc.hls.convert` (``tb_output_predictions.dat``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import List, Optional, Union

import numpy as np
import yaml

from .backend import CompileError, compiler_failure
from .convert import TB_EXPECTED, TB_INPUT, TB_KERAS

PathLike = Union[str, Path]
RESULTS_LOG = "csim_results.log"


@dataclass
class CSimResult:
    """What one C simulation produced.

    Attributes:
        project_dir: the project folder.
        outputs: ``(n, n_out)`` C simulation outputs (float64; exact for <= 53-bit values).
        expected: the emulator's outputs, or ``None`` when the project has none.
        keras: the Keras model's outputs, or ``None``.
        total: number of samples simulated.
        bit_exact: samples whose every output equals the emulator's exactly.
        values_bit_exact: individual output values equal to the emulator's.
        first_mismatch: index of the first sample that differs (``None`` when all agree).
        argmax_agreement: fraction of samples whose C-simulation argmax equals Keras' argmax.
        log: the testbench's standard output.
    """

    project_dir: Path
    outputs: np.ndarray
    expected: Optional[np.ndarray]
    keras: Optional[np.ndarray]
    total: int
    bit_exact: int
    values_bit_exact: int
    first_mismatch: Optional[int]
    argmax_agreement: Optional[float]
    log: str = field(default="", repr=False)

    @property
    def all_bit_exact(self) -> bool:
        return self.expected is not None and self.bit_exact == self.total

    def summary(self) -> str:
        """``"C simulation: N/N outputs bit-exact with the emulator; Keras argmax agreement X%"``."""
        agreement = "n/a" if self.argmax_agreement is None else f"{100 * self.argmax_agreement:.1f}%"
        return (f"C simulation: {self.bit_exact}/{self.total} outputs bit-exact with the emulator; "
                f"Keras argmax agreement {agreement}")


def project_name_of(project_dir: Path) -> str:
    """The project name stored in ``hls4ml_config.yml``."""
    config = project_dir / "hls4ml_config.yml"
    if not config.exists():
        raise FileNotFoundError(f"{project_dir} is not an hls4ml project (no hls4ml_config.yml)")
    return str(yaml.safe_load(config.read_text())["ProjectName"])


def read_exact(path: Path) -> List[List[Decimal]]:
    """Rows of exact decimals from a whitespace-separated text file."""
    return [[Decimal(token) for token in line.split()] for line in path.read_text().splitlines() if line.strip()]


def build_testbench(project_dir: PathLike, binary: Optional[PathLike] = None, opt: str = "-O1") -> Path:
    """Compile the project's testbench with g++ (as ``csim_design`` would).

    Args:
        project_dir: the hls4ml project folder.
        binary: where to put the executable (default: a fresh temporary folder).
        opt: g++ optimisation flag.

    Returns:
        The executable's path.

    Raises:
        CompileError: g++ missing, or the compiler's first error lines and the project path.
    """
    project = Path(project_dir).absolute()
    name = project_name_of(project)
    compiler = shutil.which("g++")
    if compiler is None:
        raise CompileError(f"g++ was not found on PATH; it is needed for the C simulation of {project}")
    out = Path(binary) if binary is not None else Path(tempfile.mkdtemp(prefix="sqnap_csim_")) / f"{name}_csim"
    command = [compiler, "-std=c++17", opt, "-Ifirmware/ap_types", "-Ifirmware", "-I.",
               '-DWEIGHTS_DIR="firmware/weights"', f"{name}_test.cpp", f"firmware/{name}.cpp", "-o", str(out)]
    done = subprocess.run(command, cwd=project, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise compiler_failure(project, done.stdout, "the testbench")
    return out


def csim(project_dir: PathLike, opt: str = "-O1", timeout: float = 600) -> CSimResult:
    """Build and run the testbench on ``tb_data/``; compare with the emulator, exactly.

    Args:
        project_dir: a project written by :func:`keras_wc.hls.convert` with ``x_test``.
        opt: g++ optimisation flag (``-O1`` builds fast; results do not depend on it).
        timeout: seconds the simulation may run.

    Returns:
        A :class:`CSimResult`.

    Raises:
        FileNotFoundError: no project or no ``tb_data/tb_input_features.dat``.
        CompileError: the testbench does not build.
        RuntimeError: the simulation crashes or writes no results.

    Example:
        >>> result = csim("prj")
        >>> print(result.summary())
        C simulation: 200/200 outputs bit-exact with the emulator; Keras argmax agreement 100.0%
    """
    project = Path(project_dir).absolute()
    tb = project / "tb_data"
    if not (tb / TB_INPUT).exists():
        raise FileNotFoundError(f"{tb / TB_INPUT} is missing: convert the model with x_test=... first")
    with tempfile.TemporaryDirectory(prefix="sqnap_csim_") as build:
        binary = build_testbench(project, Path(build) / "csim", opt=opt)
        done = subprocess.run([str(binary)], cwd=project, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
    if done.returncode != 0 or not (tb / RESULTS_LOG).exists():
        raise RuntimeError(f"the C simulation of {project} failed (exit {done.returncode}):\n{done.stdout[-2000:]}")
    outputs = read_exact(tb / RESULTS_LOG)
    n_inputs = len(read_exact(tb / TB_INPUT))
    if len(outputs) != n_inputs:
        raise RuntimeError(f"the C simulation of {project} wrote {len(outputs)} result rows for {n_inputs} inputs")
    expected = read_exact(tb / TB_EXPECTED) if (tb / TB_EXPECTED).exists() else None
    keras = np.loadtxt(tb / TB_KERAS, ndmin=2) if (tb / TB_KERAS).exists() else None
    return compare(project, outputs, expected, keras, done.stdout)


def compare(project: Path, outputs: List[List[Decimal]], expected: Optional[List[List[Decimal]]],
            keras: Optional[np.ndarray], log: str = "") -> CSimResult:
    """Exact comparison of C-simulation rows with the emulator's rows (see :class:`CSimResult`)."""
    values = np.array([[float(v) for v in row] for row in outputs], dtype=np.float64)
    total = len(outputs)
    bit_exact = values_exact = 0
    first = None
    if expected is not None:
        for i, (got, want) in enumerate(zip(outputs, expected)):
            same = [g == w for g, w in zip(got, want)] if len(got) == len(want) else [False]
            values_exact += sum(same)
            if all(same):
                bit_exact += 1
            elif first is None:
                first = i
    agreement = None
    if keras is not None and len(keras) == total and total:
        agreement = float(np.mean(values.argmax(axis=1) == keras.argmax(axis=1)))
    exp = None if expected is None else np.array([[float(v) for v in row] for row in expected])
    return CSimResult(project, values, exp, keras, total, bit_exact, values_exact, first, agreement, log)
