"""The synthesis lint: what each SQNAP layer of a written project instantiates, read from its C++.

No vendor tool is needed. For every SQNAP layer of a project written by
:func:`keras_wc.hls.convert`, :func:`lint` reads the call in ``firmware/<project>.cpp`` (layer
kind, core, config, weight arrays; the Keras name from the call's trailing comment), the
layer's ``struct config<N>`` in ``parameters.h`` and the weight declarations, and counts what
the C++ of ``hls/`` instantiates for that configuration (:class:`LayerFigures`). It checks the
figures against the flavour's limits (:data:`keras_wc.hls.strategy.FLAVOR_LIMITS`, Vivado's
4096-element partition limit) and every ``#pragma HLS`` line as the vendor compiler reads it
(:mod:`keras_wc.hls.pragmas`).

The counts follow the cores' structure (``hls/README.md``), independently of the compression
report's cost rules; the tests compare the two.

Example:
    >>> report = lint("prj")
    >>> report.layers["conv1"]["strategy"], report.layers["conv1"]["buffer_elements"]
    ('latency', 288)
    >>> report.problems
    []
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from keras_wc.methods.dfp import SHIFT_ADD_MAX_BITS

from .csim import project_name_of
from .pragmas import check_project
from .strategy import FLAVOR_LIMITS

PathLike = Union[str, Path]
#: Vivado HLS's largest completely partitioned array (hls4ml's ``build_prj.tcl``:
#: ``config_array_partition -maximum_size 4096``); Vitis ignores that setting
PARTITION_LIMITS = {"Vivado": 4096}
#: the widest word an ARRAY_RESHAPE may make (bits; the HLS front end refuses wider, XFORM 203-133)
ROM_WORD_LIMIT = 65536
#: ``sqnap::<kind>[_stream]<sqnap::<core>, in_t, out_t, config<N>>(in, out, weights...); // <layer>``
_CALL = re.compile(r"sqnap::(dense|conv1d|conv2d)(_stream)?<sqnap::(\w+), [^,]+, [^,]+, config(\d+)>"
                   r"\(\w+, \w+, ([\w, ]+)\); // (\S+)")
#: ``static const config<N>::<type> <name>[d0][d1] = {...};`` (small tables local to the call)
_LOCAL = re.compile(r"static const config\d+::(\w+) (\w+)((?:\[\d+\])+) = ")
_MEMBER = re.compile(r"static const (?:unsigned|int|bool) (\w+) = ([\w:]+);")
_TYPEDEF = re.compile(r"typedef (ap_u?int|ap_u?fixed)<(\d+)[^>]*> (\w+);")
_DECLARATION = re.compile(r"^(\w+) (\w+)\[(\d+)\]", re.M)


@dataclass(frozen=True)
class LayerFigures:
    """What one SQNAP layer's C++ instantiates (per layer, one pixel's datapath for convs).

    Attributes:
        strategy: ``"latency"`` or ``"resource"``.
        max_unroll: the largest fully unrolled trip count: code x input terms of one round.
        largest_partition: elements of the largest completely partitioned array (fan-in
            buffer, outputs, the io_stream line buffer or input vector).
        buffer_elements: on-chip activation storage of an io_stream layer (a conv's line buffer
            of ``filt_height`` rows, a Dense's input and output vectors); 0 in io_parallel.
        rom_bits: bits of the layer's weight arrays in ROM (Resource; Latency folds its
            weights into logic: 0).
        rom_word_bits: the widest ROM word (one round's values of a per-output array; Resource, else 0).
        multipliers: full multipliers instantiated (one round's; a Latency layer's at most its
            ``multiplier_limit``, the ALLOCATION cap; ``None`` for a core this lint does not know,
            e.g. an extension's).
        shift_add_terms: code x input terms instantiated (one round's).
    """

    strategy: str
    max_unroll: int
    largest_partition: int
    buffer_elements: int
    rom_bits: int
    rom_word_bits: int
    multipliers: Optional[int]
    shift_add_terms: int


@dataclass
class LintReport:
    """Per-layer figures (``{name: {figure: value}}``) and the problems found.

    Example:
        >>> print(lint("prj").to_markdown())
    """

    layers: Dict[str, Dict[str, object]] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        """A Markdown table, one row per SQNAP layer, then the problems."""
        keys = list(LayerFigures.__dataclass_fields__)
        rows = ["| layer | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
        rows += [f"| {name} | " + " | ".join(str(figures[key]) for key in keys) + " |"
                 for name, figures in self.layers.items()]
        return "\n".join(rows + [f"- {problem}" for problem in self.problems])


def _full_multipliers(core: str, c: Dict[str, int], per_round: int, n_vectors: int, code_bits: int) -> Optional[int]:
    """Full multipliers of one round of ``core`` (``hls/README.md``'s table), a folded BN included.

    Structural (every group's); a Latency layer's are capped by its ``multiplier_limit`` (ALLOCATION).
    """
    groups = c["n_groups"]
    if core == "swc_core":
        per_output, shared = groups + (c["denominator"] > 1), 0  # the MAWs, the reciprocal of D
    elif core == "ternary_core":
        per_output, shared = 1 + c["normalize"], 0
    elif core == "poly_core":
        layer_shared = c["n_coef_out"] == 1
        per_output = groups * c["degree"] + (0 if layer_shared else groups)
        shared = n_vectors * groups if layer_shared else 0
    elif core == "dfp_core":  # mul_term above SHIFT_ADD_MAX_BITS code bits, else shift_add_term
        per_output, shared = (groups * c["group_size"] if code_bits > SHIFT_ADD_MAX_BITS else 0), 0
    elif core == "po2_core":
        per_output, shared = 0, 0
    else:
        return None
    count = per_round * (per_output + c.get("folded_scaling", 0)) + shared
    return count if c["strategy"] == "resource" else min(count, c["multiplier_limit"])


def _figures(kind: str, stream: bool, core: str, c: Dict[str, int], arrays: Dict[str, Tuple[int, int]],
             code_bits: int) -> LayerFigures:
    """The figures of one layer from its config members and weight arrays (``{name: (count, bits)}``)."""
    resource = c["strategy"] == "resource"
    per_round, fan_in = c["outputs_per_round"], c["n_groups"] * c["group_size"]
    n_vectors = c["n_chan"] if c.get("depthwise") else 1
    n_out = c["n_out"]
    partitions = [n_vectors * fan_in, n_out]
    buffer = 0
    if stream and kind == "dense":
        buffer = c["n_in"] + n_out
        partitions += [c["n_in"]]
    elif stream:
        buffer = c.get("filt_height", 1) * c["in_width"] * c["n_chan"]
        partitions += [buffer]
    terms = per_round * fan_in
    rom_bits = sum(count * bits for count, bits in arrays.values()) if resource else 0
    word_bits = max([per_round * (count // n_out) * bits for count, bits in arrays.values()
                     if count >= n_out and count % n_out == 0], default=0) if resource else 0
    return LayerFigures("resource" if resource else "latency", terms, max(partitions), buffer, rom_bits, word_bits,
                        _full_multipliers(core, c, per_round, n_vectors, code_bits), terms)


def _configs(parameters: str) -> Dict[str, Dict[str, object]]:
    """``{"3": {member: value}}`` of every ``struct config<N>``: ints (bools as 0/1), ``sqnap::`` enums by
    name, ``typedefs`` (``{name: type}``) and ``folded_scaling`` (1 with a folded BatchNormalization)."""
    found = {}
    for index, body in re.findall(r"struct config(\d+) \{(.*?)\n\};", parameters, re.S):
        members: Dict[str, object] = {"folded_scaling": int("struct scaling {" in body),
                                      "typedefs": dict((name, kind) for kind, name in
                                                       re.findall(r"typedef ([\w:<>, ]+?) (\w+);", body))}
        for name, value in _MEMBER.findall(body):
            value = {"true": "1", "false": "0"}.get(value, value.replace("sqnap::", ""))
            members[name] = int(value) if value.lstrip("-").isdigit() else value
        found[index] = members
    return found


def _width(type_name: str, defines: Dict[str, int]) -> int:
    """Bits of an ``ap_[u]int<W>``/``ap_[u]fixed<W,...>`` or of a type named in ``defines.h``."""
    match = re.match(r"ap_u?(?:int|fixed)<(\d+)", type_name)
    return int(match.group(1)) if match else defines[type_name]


def _arrays(project: Path, top: str, config: Dict[str, object], names: List[str],
            defines: Dict[str, int]) -> Dict[str, Tuple[int, int]]:
    """``{name: (elements, bits each)}`` of the named weight arrays: declarations in ``weights/`` or
    ``static const`` locals of the top."""
    local_arrays = {name: (member, dims) for member, name, dims in _LOCAL.findall(top)}
    found = {}
    for name in names:
        if name in local_arrays:
            member, dims = local_arrays[name]
            found[name] = (math.prod(int(d) for d in re.findall(r"\d+", dims)),
                           _width(config["typedefs"][member], defines))
            continue
        text = (project / "firmware/weights" / f"{name}.h").read_text()
        type_name, count = next((kind, n) for kind, declared, n in _DECLARATION.findall(text) if declared == name)
        found[name] = (int(count), defines[type_name])
    return found


def lint(project_dir: PathLike, flavor: str = "", pragmas: bool = True) -> LintReport:
    """Per-layer figures of a written SQNAP project and the problems a synthesis would hit.

    Args:
        project_dir: a project written by :func:`keras_wc.hls.convert`.
        flavor: ``"Vitis"`` or ``"Vivado"``; default: the project's own.
        pragmas: also check every ``#pragma HLS`` (needs g++ to preprocess the firmware).

    Returns:
        A :class:`LintReport`: ``layers[name]`` has :class:`LayerFigures`' fields; ``problems``
        lists every invalid ``#pragma HLS`` line, every round over the flavour's unroll limit and
        every completely partitioned array over its partition limit.

    Raises:
        FileNotFoundError: ``project_dir`` is not a written project.

    Example:
        >>> lint("prj").layers["fc1"]["max_unroll"]
        4096
    """
    import yaml

    project = Path(project_dir)
    config_file = project / "hls4ml_config.yml"
    if not config_file.is_file():
        raise FileNotFoundError(f"{config_file} is missing: is {project} a project written by keras_wc.hls.convert?")
    flavor = flavor or str(yaml.safe_load(config_file.read_text()).get("SQNAPFlavor", "Vitis"))
    top = (project / "firmware" / f"{project_name_of(project)}.cpp").read_text()
    configs = _configs((project / "firmware/parameters.h").read_text())
    defines = {name: int(width) for _, width, name in _TYPEDEF.findall((project / "firmware/defines.h").read_text())}
    report = LintReport(problems=check_project(project, flavor) if pragmas else [])
    for kind, stream, core, index, weights, name in _CALL.findall(top):
        arrays = [weight.strip() for weight in weights.split(",")]
        config = configs[index]
        code_bits = _width(config["typedefs"]["code_t"], defines)
        figures = _figures(kind, bool(stream), core, config, _arrays(project, top, config, arrays, defines), code_bits)
        report.layers[name] = asdict(figures)
        report.problems += _limit_problems(name, figures, flavor)
    return report


def _limit_problems(name: str, figures: LayerFigures, flavor: str) -> List[str]:
    problems = []
    unroll = FLAVOR_LIMITS[flavor].unrolled_terms
    if figures.max_unroll > unroll:
        problems.append(f"layer {name!r}: {figures.max_unroll} code x input terms unrolled in one round exceed the "
                        f"{flavor} limit of {unroll}")
    if figures.rom_word_bits > ROM_WORD_LIMIT:
        problems.append(f"layer {name!r}: a ROM word of {figures.rom_word_bits} bits (one round's values) exceeds the "
                        f"{ROM_WORD_LIMIT}-bit limit of a reshaped array word; raise its ReuseFactor")
    partition = PARTITION_LIMITS.get(flavor)
    if partition is not None and figures.largest_partition > partition:
        problems.append(f"layer {name!r}: a completely partitioned array of {figures.largest_partition} elements "
                        f"exceeds {flavor}'s limit of {partition} (config_array_partition -maximum_size)")
    return problems
