"""Every ``#pragma HLS`` as Vivado/Vitis HLS will read it (the pragma part of :mod:`keras_wc.hls.synthesis_lint`).

The vendor compiler preprocesses the firmware with ``__SYNTHESIS__`` (and ``__VITIS_HLS__`` for
Vitis) defined, against its own ``ap_types``, in which macros such as ``INLINE`` have other
meanings than in C simulation. :func:`preprocessed_firmware` does the same with g++ against a
copy of the project's open-source ``ap_types`` (its "does not support synthesis" ``#error``
removed), and :func:`check_pragmas` checks each resulting ``#pragma HLS`` line against the
grammar of the directives (:data:`DIRECTIVES`, after UG1399 for Vitis and UG902 for Vivado
HLS): a known directive, known options, well-formed values — so that, for example, a macro
expanded into ``#pragma HLS inline __attribute__((always_inline))`` is reported.

This is a lint, not a synthesis: it checks the syntax of the directives, not whether the
design meets timing or fits a part.

Example:
    >>> problems = check_project("prj")            # a project written by keras_wc.hls.convert
    >>> problems
    []
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List, Union

from .csim import project_name_of

PathLike = Union[str, Path]
#: the line of the open-source ap_common.h that stops a synthesis preprocessing
AP_TYPES_SYNTHESIS_ERROR = "does not support synthesis"

#: a value: identifiers, scoped names (``CONFIG_T::reuse_factor``), integers, comma lists, and
#: constant expressions without spaces (``CONFIG_T::n_in/CONFIG_T::reuse_factor``), array elements
_VALUE = re.compile(r"^[A-Za-z0-9_:,.+\-*/<>()\[\]]+$")
#: a variable: an identifier, scoped or a member, optionally an element (``data_window[i_out]``, as
#: hls4ml's nnet_conv_stream.h writes)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:<>\[\]]*(,[A-Za-z_][A-Za-z0-9_.:<>\[\]]*)*$")
#: an integer option: a literal, a template constant (``CONFIG_T::n_in``) or a ``const`` in scope
#: (``factor=block_factor``, as hls4ml's ``nnet_dense_resource.h`` writes)
_CONSTANT = re.compile(r"^([0-9]+|[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*)$")


@dataclass(frozen=True)
class Directive:
    """The grammar of one HLS directive.

    Attributes:
        keys: allowed ``key=value`` options (the value checked by :data:`_VALUE`).
        flags: allowed bare words.
        required: keys that must be present.
        flavors: the flavours that accept it.
    """

    keys: FrozenSet[str] = frozenset()
    flags: FrozenSet[str] = frozenset()
    required: FrozenSet[str] = frozenset()
    flavors: FrozenSet[str] = frozenset({"Vitis", "Vivado"})


def _d(keys: str = "", flags: str = "", required: str = "", flavors: str = "Vitis Vivado") -> Directive:
    return Directive(frozenset(keys.split()), frozenset(flags.split()), frozenset(required.split()),
                     frozenset(flavors.split()))


_INTERFACE_MODES = ("ap_none ap_vld ap_ack ap_hs ap_ovld ap_fifo ap_memory bram axis s_axilite m_axi "
                    "ap_ctrl_none ap_ctrl_hs ap_ctrl_chain ap_stable")
#: directive name (lower case) -> its grammar
DIRECTIVES: Dict[str, Directive] = {
    "inline": _d(flags="off recursive region"),
    "pipeline": _d(keys="ii style", flags="off rewind enable_flush"),
    "unroll": _d(keys="factor off", flags="region skip_exit_check"),
    "dataflow": _d(flags="disable_start_propagation"),
    "loop_flatten": _d(flags="off"),
    "loop_merge": _d(flags="force"),
    "loop_tripcount": _d(keys="min max avg"),
    "array_partition": _d(keys="variable factor dim type off", flags="block cyclic complete", required="variable"),
    "array_reshape": _d(keys="variable factor dim type off", flags="block cyclic complete object",
                        required="variable"),
    "interface": _d(keys="mode port bundle depth offset name register_mode max_widen_bitwidth latency",
                    flags=_INTERFACE_MODES + " register", required="port"),
    "allocation": _d(keys="instances limit type", flags="operation function core", required="instances"),
    "function_instantiate": _d(keys="variable", required="variable"),
    "stream": _d(keys="variable depth type", flags="off", required="variable"),
    "data_pack": _d(keys="variable instance byte_pad", flags="field_level struct_level", required="variable",
                    flavors="Vivado"),
    "aggregate": _d(keys="variable compact", required="variable", flavors="Vitis"),
    "disaggregate": _d(keys="variable", required="variable", flavors="Vitis"),
    "bind_op": _d(keys="variable op impl latency", required="variable op", flavors="Vitis"),
    "bind_storage": _d(keys="variable type impl latency", required="variable type", flavors="Vitis"),
    # deprecated in Vitis HLS (bind_op/bind_storage replace it) but still accepted there; stock hls4ml's
    # nnet_dense_resource.h, which nnet_batchnorm.h includes, writes it in both flavours
    "resource": _d(keys="variable core latency", required="variable core"),
    "latency": _d(keys="min max"),
    "expression_balance": _d(flags="off"),
    "dependence": _d(keys="variable class type dependent direction distance", flags="inter intra raw war waw"),
    "occurrence": _d(keys="cycle"),
    "protocol": _d(flags="floating fixed"),
    "stable": _d(keys="variable", required="variable"),
    "reset": _d(keys="variable", flags="off", required="variable"),
    "top": _d(keys="name", required="name"),
}


def check_pragma(line: str, flavor: str) -> List[str]:
    """Problems of one ``#pragma HLS`` line for ``flavor`` (empty when it is valid).

    Args:
        line: the pragma line (``#pragma HLS PIPELINE II=4``).
        flavor: ``"Vitis"`` or ``"Vivado"``.

    Returns:
        One message per problem.

    Example:
        >>> check_pragma("#pragma HLS PIPELINE II=CONFIG_T::reuse_factor", "Vitis")
        []
        >>> len(check_pragma("#pragma HLS inline __attribute__((always_inline))", "Vitis"))
        1
    """
    # the tools accept ``key = value`` and constant expressions with spaces (``II = RF * N``, stock hls4ml)
    tokens = re.sub(r"\s*([=*/+])\s*", r"\1", line).split()[2:]
    if not tokens:
        return [f"{line!r}: no directive"]
    name, options = tokens[0].lower(), tokens[1:]
    grammar = DIRECTIVES.get(name)
    if grammar is None:
        return [f"{line!r}: unknown directive {tokens[0]!r}"]
    if flavor not in grammar.flavors:
        return [f"{line!r}: {name} is not a {flavor} HLS directive"]
    problems, seen = [], set()
    for option in options:
        key, eq, value = option.partition("=")
        key = key.lower()
        if eq:
            if key not in grammar.keys:
                problems.append(f"{line!r}: unknown option {key!r} of {name}")
            elif not _VALUE.match(value):
                problems.append(f"{line!r}: malformed value {value!r} of {key}")
            elif key in ("variable", "port", "instances") and not _NAME.match(value):
                problems.append(f"{line!r}: {key}={value!r} is not a name")
            elif key in ("factor", "dim", "depth") and not _CONSTANT.match(value):
                problems.append(f"{line!r}: {key}={value!r} is not an integer")
            seen.add(key)
        elif key not in grammar.flags:
            problems.append(f"{line!r}: unexpected option {option!r} of {name}")
    missing = sorted(grammar.required - seen)
    if missing:
        problems.append(f"{line!r}: {name} needs {', '.join(missing)}=")
    return problems


def check_pragmas(text: str, flavor: str) -> List[str]:
    """Problems of every ``#pragma HLS`` line in preprocessed source (see :func:`check_pragma`)."""
    lines = sorted({line.strip() for line in text.splitlines() if re.match(r"\s*#\s*pragma\s+HLS\b", line, re.I)})
    return [problem for line in lines for problem in check_pragma(" ".join(line.split()), flavor)]


def synthesis_ap_types(project_dir: Path, into: Path) -> Path:
    """A copy of the project's ``ap_types`` whose ``ap_common.h`` lets ``__SYNTHESIS__`` through.

    Raises:
        FileNotFoundError: the project has no ``firmware/ap_types``.
    """
    source = Path(project_dir) / "firmware" / "ap_types"
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is missing: is {project_dir} a project written by keras_wc.hls.convert?")
    copy = Path(into) / "ap_types"
    shutil.copytree(source, copy)
    common = copy / "ap_common.h"
    common.write_text("\n".join(line for line in common.read_text().splitlines()
                                if AP_TYPES_SYNTHESIS_ERROR not in line) + "\n")
    return copy


def preprocessed_firmware(project_dir: PathLike, flavor: str) -> str:
    """``firmware/<project>.cpp`` preprocessed as the vendor compiler does (``-D__SYNTHESIS__``).

    Args:
        project_dir: a project written by :func:`keras_wc.hls.convert`.
        flavor: ``"Vitis"`` (also ``-D__VITIS_HLS__``) or ``"Vivado"``.

    Returns:
        The preprocessed translation unit.

    Raises:
        RuntimeError: g++ missing, or the preprocessor's error lines.
    """
    project = Path(project_dir).absolute()
    compiler = shutil.which("g++")
    if compiler is None:
        raise RuntimeError("g++ was not found on PATH; it is needed to preprocess the HLS firmware")
    defines = ["-D__SYNTHESIS__"] + (["-D__VITIS_HLS__"] if flavor == "Vitis" else [])
    with tempfile.TemporaryDirectory(prefix="sqnap_lint_") as scratch:
        ap_types = synthesis_ap_types(project, Path(scratch))
        done = subprocess.run([compiler, "-std=c++17", "-E", *defines, "-I", str(ap_types), "-I", "firmware",
                               f"firmware/{project_name_of(project)}.cpp"], cwd=project, text=True,
                              capture_output=True)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "error" in line.lower()][:8]
        raise RuntimeError(f"preprocessing {project} for {flavor} synthesis failed:\n" + "\n".join(errors))
    return done.stdout


def check_project(project_dir: PathLike, flavor: str = "") -> List[str]:
    """Every problem of the project's ``#pragma HLS`` lines, as the vendor compiler reads them.

    Args:
        project_dir: a project written by :func:`keras_wc.hls.convert`.
        flavor: ``"Vitis"`` or ``"Vivado"``; default: the project's own (``hls4ml_config.yml``).

    Returns:
        One message per problem; empty when every directive is valid.

    Example:
        >>> check_project("prj")
        []
    """
    import yaml

    project = Path(project_dir)
    flavor = flavor or str(yaml.safe_load((project / "hls4ml_config.yml").read_text()).get("SQNAPFlavor", "Vitis"))
    return check_pragmas(preprocessed_firmware(project, flavor), flavor)
