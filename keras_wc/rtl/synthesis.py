"""Gate-level figures by yosys: ``synth_xilinx`` maps each module to LUT/FF/CARRY/DSP/BRAM.

Each layer module is synthesized alone (its input bus from ports, its output register
included) and the top with every module (the streaming buffers, the counters and the
pipeline). ``-noiopad -noclkbuf`` leave out I/O and clock buffers, which a module inside a
larger design does not have. The figures are yosys' pre-placement technology mapping, not
Vivado's post-implementation report; the same command measures every design (methods and
baselines alike). Results are cached by a hash of the Verilog, the family and the yosys version
(``$KERAS_WC_CACHE`` or ``~/.cache/keras_wc``, folder ``yosys``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from .cache import cache_folder, content_key

#: what to run when yosys is missing
INSTALL_HINT = "apt-get install -y yosys"
#: the figures of a report, and the cell types each counts (yosys' Xilinx cell names)
RESOURCE_CELLS = {
    "LUT": re.compile(r"^(LUT[1-6]|SRL16E|SRLC32E|RAM\d+[XM].*)$"),
    "FF": re.compile(r"^FD[RSCP]E(_1)?$"),
    "CARRY": re.compile(r"^CARRY[48]$"),
    "DSP": re.compile(r"^DSP48E\d?$"),
    "BRAM": re.compile(r"^RAMB(18|36)E\d$"),
}
FIGURES = tuple(RESOURCE_CELLS)


def yosys_executable() -> str:
    """The ``yosys`` on PATH.

    Raises:
        RuntimeError: it is missing, with the install command.
    """
    found = shutil.which("yosys")
    if not found:
        raise RuntimeError(f"yosys was not found on PATH: install it with `{INSTALL_HINT}` (Debian/Ubuntu)")
    return found


def yosys_version() -> str:
    """``yosys -V``'s line."""
    return subprocess.run([yosys_executable(), "-V"], capture_output=True, text=True).stdout.strip()


def cell_counts(stat: str) -> Dict[str, int]:
    """The cell counts of yosys' ``stat`` output (the last module's listing).

    Example:
        >>> cell_counts("   Number of cells: 3\\n     LUT2   2\\n     FDRE   1\\n")
        {'LUT2': 2, 'FDRE': 1}
    """
    cells: Dict[str, int] = {}
    for line in stat.splitlines():
        match = re.match(r"^\s+([A-Za-z_$][\w$]*)\s+(\d+)\s*$", line)
        if match:
            cells[match.group(1)] = int(match.group(2))
    return cells


def figures(cells: Dict[str, int]) -> Dict[str, float]:
    """LUT, FF, CARRY, DSP and BRAM (36 Kib blocks: a RAMB18 counts one half) from cell counts."""
    out: Dict[str, float] = {name: 0 for name in FIGURES}
    for cell, count in cells.items():
        for name, pattern in RESOURCE_CELLS.items():
            if pattern.match(cell):
                out[name] += count * (0.5 if cell.startswith("RAMB18") else 1)
    return {name: (int(v) if float(v).is_integer() else v) for name, v in out.items()}


def synthesize_module(files: Sequence[Path], top: str, family: str = "xcup",
                      timeout: Optional[float] = None, cached_only: bool = False) -> Dict[str, object]:
    """One yosys run: ``synth_xilinx -family F -top M -flatten -noiopad -noclkbuf; stat``.

    Args:
        files: the Verilog files it reads.
        top: the module to synthesize.
        family: the ``-family`` of ``synth_xilinx``.
        timeout: seconds before yosys (and the ABC processes it started) is killed; None: no limit.
        cached_only: read the cache and never run yosys.

    Returns:
        ``{"cells": {...}, "LUT": ..., "FF": ..., "CARRY": ..., "DSP": ..., "BRAM": ..., "seconds": ...,
        "cached": bool}``.

    Raises:
        RuntimeError: yosys missing, or its error.
        TimeoutError: yosys ran past ``timeout`` (nothing is cached).
        LookupError: ``cached_only`` and the module is not in the cache.
    """
    texts = [Path(f).read_text() for f in files]
    script = f"synth_xilinx -family {family} -top {top} -flatten -noiopad -noclkbuf"
    cached = cache_folder("yosys") / f"{content_key([yosys_version(), script, *texts])}.json"
    if cached.is_file():
        return {**json.loads(cached.read_text()), "cached": True}
    if cached_only:
        raise LookupError(f"module {top} was not synthesized: it is not in the yosys cache (cache only)")
    with tempfile.TemporaryDirectory(prefix="keras_wc_yosys_") as scratch:
        stat = Path(scratch) / "stat.txt"
        sources = []  # copied under plain names: yosys' script splits a path at its spaces
        for index, text in enumerate(texts):
            sources.append(Path(scratch) / f"source{index}.v")
            sources[-1].write_text(text)
        reads = "; ".join(f"read_verilog {source}" for source in sources)
        start = time.time()
        command = [yosys_executable(), "-q", "-p", f"{reads}; {script}; tee -q -o {stat} stat"]
        returncode, output = _run_killable(command, timeout,
                                           f"yosys did not finish module {top} within {timeout} s (killed)")
        seconds = round(time.time() - start, 2)
        if returncode != 0 or not stat.is_file():
            errors = [line for line in output.splitlines() if "ERROR" in line.upper()]
            raise RuntimeError(f"yosys failed on module {top}: " + " ".join(errors[:4]))
        cells = cell_counts(stat.read_text())
    result = {"cells": cells, **figures(cells), "seconds": seconds}
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result, sort_keys=True) + "\n")
    return {**result, "cached": False}


def _run_killable(command: List[str], timeout: Optional[float], message: str) -> Tuple[int, str]:
    """Run ``command`` in a process group of its own; past ``timeout`` the whole group is killed.

    Returns:
        ``(return code, stdout + stderr)``.

    Raises:
        TimeoutError: with ``message``.
    """
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    try:
        output, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # yosys and its yosys-abc children
        child.communicate()
        raise TimeoutError(message) from None
    return child.returncode, output


@dataclass
class SynthesisReport:
    """yosys' figures of a design: per layer module, and the whole top.

    Attributes:
        family: the ``synth_xilinx`` family.
        layers: Keras layer name -> figures (``report.layers["fc1"]["LUT"]``).
        top: the top's figures (every module, the stream buffers and the control); empty when the top was
            not synthesized.
        seconds: yosys' wall time (0 for cached results).

    Example:
        >>> report = design.synthesize()
        >>> report.totals["DSP"], report.layers["fc1"]["LUT"]
        (3, 412)
    """

    family: str
    layers: Dict[str, Dict[str, object]] = field(default_factory=dict)
    top: Dict[str, object] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def totals(self) -> Dict[str, object]:
        """The top's LUT/FF/CARRY/DSP/BRAM (the whole design); without a top run, the layer modules' sum
        (the stream buffers and the control left out)."""
        if not self.top:
            return {name: sum(f[name] for f in self.layers.values()) for name in FIGURES}
        return {name: self.top[name] for name in FIGURES}

    def to_dict(self) -> Dict[str, object]:
        """Plain data (JSON)."""
        return {"family": self.family, "layers": self.layers, "totals": self.totals, "seconds": self.seconds}

    def to_markdown(self) -> str:
        """A table: one row per layer module, then the whole design."""
        head = "| module | " + " | ".join(FIGURES) + " |\n|---|" + "---:|" * len(FIGURES)
        rows = [f"| {name} | " + " | ".join(str(f[k]) for k in FIGURES) + " |" for name, f in self.layers.items()]
        label = "**whole design**" if self.top else "**layer modules, sum**"
        rows.append(f"| {label} | " + " | ".join(str(self.totals[k]) for k in FIGURES) + " |")
        return "\n".join([head, *rows])


def synthesize_design(design, family: str = "xcup", progress: bool = False,
                      include_top: bool = True) -> SynthesisReport:
    """Synthesize every layer module of ``design`` alone, then its top unless ``include_top`` is False
    (:class:`SynthesisReport`)."""
    report = SynthesisReport(family)
    files: List[Path] = design.verilog_files()
    for module, path in zip(design.modules, files):
        result = synthesize_module([path], module.module, family)
        report.layers[module.layer] = {k: result[k] for k in (*FIGURES, "cells", "seconds")}
        report.seconds += 0 if result["cached"] else result["seconds"]
        if progress:
            print(f"  yosys {module.layer}: " + ", ".join(f"{k} {result[k]}" for k in FIGURES)
                  + (" (cached)" if result["cached"] else f" ({result['seconds']} s)"), flush=True)
    if not include_top:
        return report
    result = synthesize_module(files, design.top, family)
    report.top = {k: result[k] for k in (*FIGURES, "cells", "seconds")}
    report.seconds += 0 if result["cached"] else result["seconds"]
    if progress:
        print(f"  yosys top {design.top}: " + ", ".join(f"{k} {result[k]}" for k in FIGURES), flush=True)
    return report
