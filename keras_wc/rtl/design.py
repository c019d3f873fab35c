"""``keras_wc.rtl.convert``: a model's integer datapath as synthesizable Verilog-2005.

The Verilog is generated from the same layer descriptions as the emulator and the HLS
(:func:`keras_wc.datapath.describe_model`), so its arithmetic is the emulator's, bit for bit:
:meth:`RTLDesign.simulate` runs it under Verilator and :meth:`RTLDesign.synthesize` maps it to
LUT/FF/CARRY/DSP/BRAM with yosys. Files (docs/rtl.md)::

    DIR/rtl/<layer module>.v   one registered module per computing layer
    DIR/rtl/<top>.v            the streaming top (valid/ready words in and out)
    DIR/tb/<top>_tb.cpp        the Verilator testbench
    DIR/tb_data/               rtl_input.txt, rtl_expected.txt (the emulator's outputs) with x_test
    DIR/design.json            layers, modules, widths, the input and output formats
    DIR/README.md

Architecture (this project's choice; docs/rtl.md): weights as constants (hls4ml's Latency
architecture at reuse factor 1), code-level products as shift-adds of the constants' signed digits,
the method's scales as full multiplications (``*``); the layers before the Flatten stream one pixel
per handshake through line buffers (:mod:`.stream`), the rest compute on whole samples. With
``strategy="Resource"`` the Dense layers after the Flatten keep their weights in ROMs and loop over
their inputs (:mod:`.resource`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from ..datapath.formats import format_text
from ..datapath.specs import LayerSpec
from ..output_folder import staged_output_dir
from .layers import PASSTHROUGH, check_supported, emit_layer
from .modules import Bus, LayerModule, Pipeline, identifier, layer_module, testbench, top_module
from .resource import resource_module
from .stream import Window, stream_module
from .netlist import Netlist, Signal

PathLike = Union[str, Path]
#: ``strategy``: one architecture for every Dense layer, or one per layer name
StrategyArg = Union[None, str, Dict[str, str]]
#: ``reuse_factor`` of the Resource layers: one for all, or one per layer name (``None``: the fan-in)
ReuseArg = Union[None, int, Dict[str, int]]
#: the architectures the generator emits (``strategy``)
STRATEGIES = ("Latency", "Resource")
#: the widest input or output word the testbench exchanges (a C++ ``long long``)
MAX_WORD_BITS = 64
TB_INPUT, TB_EXPECTED = "rtl_input.txt", "rtl_expected.txt"


@dataclass
class RTLDesign:
    """A generated Verilog design (what :func:`convert` returns).

    Attributes:
        folder: where it was written.
        top: the top module's name.
        specs: the datapath it was generated from (input spec first).
        modules: the layer modules, in pipeline order.
    """

    folder: Path
    top: str
    specs: List[LayerSpec]
    modules: List[LayerModule] = field(default_factory=list)

    @property
    def input_spec(self) -> LayerSpec:
        """The spec whose integers are the design's input words (:func:`hardware_input`)."""
        return hardware_input(self.specs)

    def verilog_files(self) -> List[Path]:
        """The layer modules' files, then the top's."""
        return [self.folder / "rtl" / f"{m.module}.v" for m in self.modules] + [self.folder / "rtl" / f"{self.top}.v"]

    def simulate(self, x: Any, quantize_inputs: bool = False, timeout: float = 900) -> np.ndarray:
        """The design's outputs for ``x`` under Verilator, on the emulator's scale.

        Builds the simulator once (``DIR/obj_dir``); the inputs go in as the hardware input's
        integers (the emulator's input rule), the outputs come back as integers times
        ``2**-frac``: equal to :func:`keras_wc.emulate.emulate` bit for bit.

        Args:
            x: float inputs ``(batch, *input_shape)``.
            quantize_inputs: round and saturate inputs off the declared grid instead of refusing them.
            timeout: seconds for the build and for the run.

        Returns:
            float64 ``(batch, *output_shape)``, as :func:`keras_wc.emulate.emulate` returns.

        Example:
            >>> design = keras_wc.rtl.convert(model, "rtl_prj", input_format="ufixed<8,0>")
            >>> expected = keras_wc.emulate.emulate(model, x_test[:20], "ufixed<8,0>")
            >>> np.array_equal(design.simulate(x_test[:20]), expected)
            True
        """
        from .simulate import run_simulation

        words = hardware_words(self.specs, x, quantize_inputs)
        outputs = run_simulation(self, words, timeout)
        frac = self.specs[-1].output_format.frac
        shape = (len(words),) + tuple(self.specs[-1].output_shape)
        return outputs.astype(np.float64).reshape(shape) * 2.0 ** -frac

    def synthesize(self, family: str = "xcup", progress: bool = False, include_top: bool = True):
        """LUT/FF/CARRY/DSP/BRAM of every layer module and of the top, by yosys ``synth_xilinx``.

        Args:
            family: yosys' ``synth_xilinx -family`` (``xcup``: UltraScale+).
            progress: print one line per module.
            include_top: also synthesize the whole top (every module again, with the stream buffers and
                the control); False: the layer modules only, ``report.totals`` their sum.

        Returns:
            A :class:`keras_wc.rtl.synthesis.SynthesisReport`.

        Raises:
            RuntimeError: yosys is missing (the line names ``apt-get install -y yosys``) or failed.

        Example:
            >>> report = design.synthesize()
            >>> report.layers["fc1"]["LUT"], report.totals["DSP"]
            (2990, 48)
        """
        from .synthesis import synthesize_design

        return synthesize_design(self, family, progress, include_top)


def hardware_input(specs: List[LayerSpec]) -> LayerSpec:
    """The spec whose integers enter the hardware: the input, or the first QActivation of a float input.

    Raises:
        ValueError: a float input not quantized by a QActivation first.
    """
    first = specs[0]
    if first.output_format is not None:
        return first
    quantizer = specs[1] if len(specs) > 1 else None
    if quantizer is None or quantizer.kind != "quantize" or quantizer.inputs != (first.name,):
        raise ValueError("the model's input is float and its first layer is not a QActivation: pass input_format "
                         "(e.g. 'ufixed<8,0>') so the design knows its input words")
    return quantizer


def hardware_words(specs: List[LayerSpec], x: Any, quantize_inputs: bool = False) -> np.ndarray:
    """The hardware input's integers for ``x`` (the emulator's input rule), ``(batch, n_in)`` int64."""
    from ..emulate.run import run

    hw = hardware_input(specs)
    upto = specs[:specs.index(hw) + 1]
    return np.asarray(run(upto, x, quantize_inputs).integers[hw.name], np.int64).reshape(len(x), -1)


def reference_words(specs: List[LayerSpec], x: Any, quantize_inputs: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """``(input words, expected output integers)`` of ``x``: the emulator's, one row per sample."""
    from ..emulate.run import run

    emulation = run(specs, x, quantize_inputs)
    rows = len(x)
    return (np.asarray(emulation.integers[hardware_input(specs).name]).reshape(rows, -1),
            np.asarray(emulation.integers[specs[-1].name]).reshape(rows, -1))


def input_elements(spec: LayerSpec) -> List[Signal]:
    """The hardware input's values as intervals: the whole range of its format."""
    quant = getattr(spec, "quant", None)
    fmt = spec.output_format
    lo, hi = (quant.min_int, quant.max_int) if quant is not None else (fmt.min_int, fmt.max_int)
    return [Signal(f"in_{i}", int(lo), int(hi)) for i in range(int(np.prod(spec.output_shape)))]


def windowed(spec: LayerSpec) -> bool:
    """Whether a layer slides a window over a map (a convolution or a pooling): a streaming module."""
    return spec.kind == "pool" or (spec.kind == "compressed" and spec.geometry.kind != "dense")


def map_shape(shape: Tuple[int, ...]) -> Tuple[Tuple[int, int], int]:
    """``((H, W), C)`` of a per-sample map shape (``(1, L)`` for a 1-D map)."""
    spatial = tuple(int(d) for d in shape[:-1])
    return ((1,) * (2 - len(spatial)) + spatial), int(shape[-1])


def stream_window(spec: LayerSpec, fill: int = 0) -> Window:
    """The window a streaming module slides: a convolution's or pooling's, else one pixel of the
    layer's map; ``fill``: the value shifted in at padding positions."""
    if windowed(spec):
        g = spec.geometry
        return Window(g.in_hw, g.kernel_size, g.strides, g.pad, g.out_hw, fill)
    hw_shape, _ = map_shape(spec.output_shape)
    return Window(hw_shape, out_hw=hw_shape)


def window_fill(spec: LayerSpec, pixel: Bus) -> int:
    """The padding value of a layer's window: 0, or for max pooling one that never wins a max."""
    return min(e.lo for e in pixel.elements) if getattr(spec, "op", "") == "max" else 0


def stream_layer(spec: LayerSpec, module: str, pixel: Bus) -> LayerModule:
    """A streaming module: a convolution or pooling behind its line buffer, or a per-pixel layer."""
    return stream_module(spec.name, module, pixel, stream_window(spec, window_fill(spec, pixel)),
                         group_emitter([spec], spec.inputs[0]))


def branch_groups(specs: List[LayerSpec], source: str) -> List[List[LayerSpec]]:
    """The layers after ``source`` cut where a single value is live: one layer per group along a
    chain, one group from a fork to the merge that closes it (a branch and its merge).

    Raises:
        ValueError: a layer reading a value from before ``source`` (the float input), or a value no
            later layer reads (a second model output).

    Example:
        >>> [[s.name for s in g] for g in branch_groups(specs_of_fc1_then_fc2_plus_fc1, "fc1")]
        [['fc2', 'add']]
    """
    last_read = {name: i for i, spec in enumerate(specs) for name in spec.inputs}
    groups: List[List[LayerSpec]] = []
    current: List[LayerSpec] = []
    known = {source}
    for i, spec in enumerate(specs):
        outside = [name for name in spec.inputs if name not in known]
        if outside:
            raise ValueError(f"layer {spec.name!r}: reads {outside[0]!r}, before the hardware input {source!r}; "
                             "keras_wc.rtl emits models whose layers all follow their hardware input")
        known.add(spec.name)
        current.append(spec)
        if spec.name not in last_read and i + 1 < len(specs):
            raise ValueError(f"layer {spec.name!r}: no later layer reads its output (a second model output); "
                             "keras_wc.rtl emits models with one output")
        live = [name for name in known if last_read.get(name, len(specs)) > i]
        if live == [spec.name]:
            groups.append(current)
            current = []
    return groups


def group_emitter(group: List[LayerSpec], source: str) -> Callable[[List[Signal], Netlist], List[Signal]]:
    """``(values of source, netlist) -> values of the group's last layer``, every layer of the group
    emitted into the one netlist (a single layer: just its emitter)."""
    def emit(values: List[Signal], net: Netlist) -> List[Signal]:
        computed = {source: values}
        for spec in group:
            inputs = [computed[name] for name in spec.inputs]
            computed[spec.name] = inputs[0] if spec.kind in PASSTHROUGH else emit_layer(spec, inputs, net)
        return computed[group[-1].name]
    return emit


def fused_module(group: List[LayerSpec], module: LayerModule) -> LayerModule:
    """A branch's module, its layers named in its first line and in :attr:`LayerModule.fused`."""
    if len(group) == 1:
        return module
    names = [spec.name for spec in group]
    note = f"// one module for the branch layers {', '.join(names[:-1])} and their merge {names[-1]}\n"
    return replace(module, text=note + module.text, fused=tuple(names))


def check_branch(group: List[LayerSpec], streaming: bool) -> None:
    """Refuse a branch (a group of several layers, or a merge) the generator cannot emit as one module.

    On a streamed map a branch must be per-pixel (one output pixel per input pixel): a convolution
    or pooling inside it would need delay-matched line buffers on the other path.
    """
    for spec in group:
        if streaming and spec.kind == "reshape":
            raise ValueError(f"layer {spec.name!r}: keras_wc.rtl does not reshape a streamed map inside a branch")
        if streaming and windowed(spec) and not stream_window(spec).trivial:
            raise ValueError(f"layer {spec.name!r}: a convolution or pooling inside a branch of a streamed map is not "
                             "emitted by keras_wc.rtl yet (a branch there is per-pixel: activations, "
                             "BatchNormalization, 1x1 convolutions, merges); keras_wc.hls.convert emits it as HLS")
        if streaming and spec.kind == "merge" and spec.op == "concatenate" \
                and spec.axis != len(spec.output_shape) - 1:
            raise ValueError(f"layer {spec.name!r}: keras_wc.rtl concatenates streamed maps on their channels only")


def resource_dense(spec: LayerSpec) -> bool:
    """Whether a layer can be emitted in the Resource architecture (a Dense layer of a method)."""
    return spec.kind == "compressed" and spec.geometry.kind == "dense"


def layer_strategies(specs: List[LayerSpec], strategy: StrategyArg, reuse_factor: ReuseArg) -> Dict[str, Optional[int]]:
    """The Dense layers to emit in the Resource architecture, each with its reuse factor.

    ``strategy="Resource"`` takes every Dense layer after the Flatten (convolutions stream with
    constant weights); a dict names layers (``{"fc1": "Resource"}``, the rest Latency).
    ``reuse_factor``: clocks per sample, one for all or a dict by layer; ``None``: the fan-in.

    Raises:
        ValueError: an unknown strategy, a named layer that is not a Dense layer of the model, or a
            reuse factor for a layer that is not Resource.

    Example:
        >>> layer_strategies(specs, {"fc1": "Resource"}, {"fc1": 50})
        {'fc1': 50}
    """
    names = {spec.name: spec for spec in specs}
    choices = strategy if isinstance(strategy, dict) else {}
    given = ([(f"strategy[{name!r}]", choice) for name, choice in choices.items()] if isinstance(strategy, dict)
             else [("strategy", strategy)])
    for where, choice in given:
        if choice is not None and choice not in STRATEGIES:
            raise ValueError(f"{where}={choice!r}: keras_wc.rtl emits {' or '.join(STRATEGIES)}")
    for name in choices:
        if name not in names or not resource_dense(names[name]):
            raise ValueError(f"strategy[{name!r}]: keras_wc.rtl chooses the architecture of the model's Dense layers "
                             f"only ({', '.join(s.name for s in specs if resource_dense(s)) or 'none'})")
    chosen = [spec.name for spec in specs if resource_dense(spec)
              and (choices.get(spec.name) == "Resource" or strategy == "Resource")]
    reuse = reuse_factor if isinstance(reuse_factor, dict) else {name: reuse_factor for name in chosen}
    stray = [name for name in reuse if name not in chosen]
    if stray:
        raise ValueError(f"reuse_factor[{stray[0]!r}]: only Resource layers take a reuse factor "
                         f"(Resource here: {', '.join(chosen) or 'none'})")
    return {name: reuse.get(name) for name in chosen}


def build_modules(specs: List[LayerSpec], strategy: StrategyArg = None, reuse_factor: ReuseArg = None) -> Pipeline:
    """The design's modules, checked before anything is written (see :class:`~.modules.Pipeline`).

    Layers before the first Flatten stream (one pixel per handshake) when a convolution or a
    pooling is among them; the rest compute on whole samples. A branch and the merge that closes
    it (:func:`branch_groups`) are one module: its layers combinational, one register stage.
    Resource Dense layers (:func:`layer_strategies`) loop over their inputs (:mod:`.resource`).

    Raises:
        ValueError: an unsupported strategy or layer (named), a model that computes nothing, or
            words wider than :data:`MAX_WORD_BITS`.
    """
    resource = layer_strategies(specs, strategy, reuse_factor)
    hw = hardware_input(specs)
    rest = specs[specs.index(hw) + 1:]
    for spec in rest:
        check_supported(spec)
    groups = branch_groups(rest, hw.name)
    flat = next((i for i, s in enumerate(rest) if len(s.output_shape) == 1), len(rest))
    streaming = any(windowed(s) for s in rest[:flat + 1])
    elements = input_elements(hw)
    bus = Bus(elements[:map_shape(hw.output_shape)[1]] if streaming else elements)
    stream_modules: List[LayerModule] = []
    layers: List[LayerModule] = []
    collected = 0
    previous = hw.name
    for group in groups:
        spec = group[-1]
        if len(group) > 1 or spec.kind == "merge":
            check_branch(group, streaming and not collected)
        elif spec.kind in PASSTHROUGH:
            if streaming and not collected:
                if len(spec.output_shape) != 1 and spec.kind == "reshape":
                    raise ValueError(f"layer {spec.name!r}: keras_wc.rtl reshapes a streamed map only by "
                                     "flattening it")
                if len(spec.output_shape) == 1:  # the Flatten: gather the map into one sample
                    collected = int(np.prod(spec.output_shape)) // len(bus.elements)
                    bus = Bus(bus.elements * collected)
            previous = spec.name
            continue
        name = identifier(spec.name, [m.module for m in stream_modules + layers])
        emit = group_emitter(group, previous)
        previous = spec.name
        if streaming and not collected:
            dense = [s for s in group if resource_dense(s)]
            if dense:
                raise ValueError(f"layer {dense[0].name!r}: a Dense layer on a map (not flattened) is not emitted by "
                                 "keras_wc.rtl")
            window = stream_window(spec, fill=window_fill(spec, bus))
            module = fused_module(group, stream_module(spec.name, name, bus, window, emit))
            stream_modules.append(module)
            bus = module.outputs
            if len(spec.output_shape) == 1:  # a global pooling: one pixel per sample
                collected = 1
            continue
        windows = [s for s in group if windowed(s)]
        if windows:
            raise ValueError(f"layer {windows[0].name!r}: keras_wc.rtl emits convolutions and pooling before the "
                             "model's Flatten only")
        looped = [s.name for s in group if s.name in resource]
        if looped and len(group) > 1:
            raise ValueError(f"layer {looped[0]!r}: a Resource Dense layer inside a branch is not emitted by "
                             "keras_wc.rtl (a branch is one combinational module); emit it as Latency")
        if looped:
            layers.append(resource_module(spec, name, bus, resource[spec.name]))
            bus = layers[-1].outputs
            continue
        module = fused_module(group, layer_module(spec.name, name, bus, emit))
        layers.append(module)
        bus = module.outputs
    if not stream_modules and not layers:
        raise ValueError("the model computes nothing in hardware (its output is its input): nothing to emit")
    if stream_modules and not collected:  # the model ends on a map: collect it whole
        collected = int(np.prod(specs[-1].output_shape)) // len(stream_modules[-1].outputs.elements)
    pipeline = Pipeline(Bus(elements), hw.output_format.bits, hw.output_format.signed, stream_modules, collected,
                        layers)
    for what, bits in (("input", pipeline.input_word), ("output", pipeline.output_bus.slot)):
        if bits > MAX_WORD_BITS:
            raise ValueError(f"the design's {what} words are {bits} bits wide; keras_wc.rtl's testbench exchanges "
                             f"at most {MAX_WORD_BITS}")
    return pipeline


def convert(model: Any, output_dir: PathLike, x_test: Any = None, overwrite: bool = False,
            strategy: StrategyArg = None, input_format: Any = None, top: str = "keras_wc_top",
            quantize_inputs: bool = False, reuse_factor: ReuseArg = None) -> RTLDesign:
    """Write a model as synthesizable Verilog (see the module docstring).

    Args:
        model: a Keras 2 / QKeras model of supported layers (docs/rtl.md: Dense, Conv1D/2D and depthwise
            of every keras_wc method and of QKeras ``quantized_bits``, pooling, QActivation, ReLU,
            BatchNormalization, Flatten, Dropout), in a chain.
        output_dir: the design folder; written completely in a hidden folder, then moved into place.
        x_test: optional inputs: their integers and the emulator's outputs go to ``tb_data/``.
        overwrite: replace a folder keras_wc wrote before (never any other folder).
        strategy: ``None``/``"Latency"`` (weights as constants), ``"Resource"`` (every Dense layer after the
            Flatten loops over its inputs with its weights in a ROM, :mod:`.resource`), or a dict by layer
            name (``{"fc1": "Resource"}``).
        input_format: the input grid (``"ufixed<8,0>"``) unless the first layer is a QActivation.
        top: the top module's name.
        quantize_inputs: round and saturate ``x_test`` off the grid instead of refusing it.
        reuse_factor: clocks per sample of the Resource layers (one for all, or a dict by layer name);
            ``None``: their fan-in (one input per clock).

    Returns:
        The :class:`RTLDesign`.

    Raises:
        ValueError: a layer it cannot emit (named), before anything is written.
        FileExistsError: ``output_dir`` exists and was not written by keras_wc (or ``overwrite`` is False).

    Example:
        >>> design = keras_wc.rtl.convert(model, "rtl_prj", input_format="ufixed<8,0>")
        >>> design.synthesize().totals["DSP"]
        4
    """
    from ..datapath import describe_model
    from ..keras2 import check_keras2_model

    check_keras2_model(model)
    specs = describe_model(model, input_format)
    pipeline = build_modules(specs, strategy, reuse_factor)
    data = None if x_test is None else reference_words(specs, x_test, quantize_inputs)
    with staged_output_dir(output_dir, overwrite) as stage:
        write_design(stage, top, specs, pipeline, data)
    return RTLDesign(Path(output_dir), top, specs, pipeline.modules)


def write_design(folder: Path, top: str, specs: List[LayerSpec], pipeline: Pipeline,
                 data: Optional[Tuple[np.ndarray, np.ndarray]]) -> None:
    """Every file of the design into ``folder`` (an empty staging folder); ``data``: :func:`reference_words`."""
    hw = hardware_input(specs)
    (folder / "rtl").mkdir()
    (folder / "tb").mkdir()
    for module in pipeline.modules:
        (folder / "rtl" / f"{module.module}.v").write_text(module.text)
    (folder / "rtl" / f"{top}.v").write_text(top_module(top, pipeline))
    n_in, n_out = len(pipeline.input_bus.elements), len(pipeline.output_bus.elements)
    output_word = pipeline.output_bus.slot
    loop_clocks = sum(m.clocks for m in pipeline.modules if m.looping)
    (folder / "tb" / f"{top}_tb.cpp").write_text(testbench(top, n_in, n_out, pipeline.input_word, output_word,
                                                           loop_clocks))
    streaming = {m.module for m in pipeline.streaming}
    description = {
        "top": top,
        "input": {"layer": hw.name, "format": format_text(hw.output_format), "words": n_in,
                  "word_bits": pipeline.input_word},
        "output": {"layer": specs[-1].name, "format": format_text(specs[-1].output_format), "words": n_out,
                   "word_bits": output_word},
        "architecture": "weights as constants (Latency) or in ROMs (Resource Dense layers, one loop per sample); "
                        "layers before the Flatten stream one pixel per handshake through line buffers, the rest "
                        "compute on whole samples, one register stage per layer",
        "layers": [{"layer": m.layer, "fused_layers": list(m.fused or (m.layer,)), "module": m.module,
                    "streaming": m.module in streaming,
                    "inputs": len(m.inputs.elements), "outputs": len(m.outputs.elements),
                    "input_slot_bits": m.inputs.slot, "output_slot_bits": m.outputs.slot,
                    "line_buffer_bits": m.buffer_bits, "full_multiplications": m.multipliers,
                    "additions": m.adders, "architecture": m.architecture, "clocks_per_sample": m.clocks,
                    "rom_bits": m.rom_bits} for m in pipeline.modules],
    }
    (folder / "design.json").write_text(json.dumps(description, indent=1) + "\n")
    if data is not None:
        tb_data = folder / "tb_data"
        tb_data.mkdir()
        write_words(tb_data / TB_INPUT, data[0])
        write_words(tb_data / TB_EXPECTED, data[1])
    (folder / "README.md").write_text(readme(top, description, data is not None))


def write_words(path: Path, rows: np.ndarray) -> None:
    """One sample per line, integers separated by spaces."""
    rows = np.asarray(rows).reshape(len(rows), -1)
    path.write_text("".join(" ".join(str(int(v)) for v in row) + "\n" for row in rows))


def readme(top: str, description: Dict[str, Any], has_data: bool) -> str:
    """The design folder's README."""
    rows = "\n".join(f"| {layer['layer']} | `{layer['module']}` | {layer['inputs']} | {layer['outputs']} | "
                     f"{layer['full_multiplications']} | {layer['additions']} |" for layer in description["layers"])
    data = ("`tb_data/rtl_input.txt` holds the test inputs' integers and `tb_data/rtl_expected.txt` the emulator's "
            "output integers for them.\n" if has_data else "")
    return f"""# {top}: Verilog written by keras_wc.rtl

Synthesizable Verilog-2005 of the model's integer datapath, generated from the same layer
descriptions as keras_wc's numpy emulator and HLS, and bit-exact with the emulator.

- `rtl/{top}.v`: the top. A sample goes in as {description['input']['words']} words of
  {description['input']['word_bits']} bits (`in_data`, `in_valid`/`in_ready`; integers on
  `{description['input']['format']}`), the outputs come out as {description['output']['words']} words of
  {description['output']['word_bits']} bits (`out_data`, `out_valid`/`out_ready`; signed integers on
  `{description['output']['format']}`'s grid). One register stage per layer module.
- `rtl/layer_*.v`: one module per computing layer (weights as constants); the layers before the
  Flatten stream one pixel per handshake through line buffers (`design.json`: `line_buffer_bits`).
- `tb/{top}_tb.cpp`: the Verilator testbench (inputs file in, outputs file out).
{data}
| layer | module | values in | values out | full multiplications | additions |
|---|---|---:|---:|---:|---:|
{rows}

Simulate: `design.simulate(x)` in Python, or
`verilator-cli --cc --exe --build -Wno-WIDTHEXPAND -Wno-WIDTHTRUNC rtl/*.v tb/{top}_tb.cpp --top-module {top}`.
Synthesize: `design.synthesize()`, or `yosys -p "read_verilog rtl/*.v; synth_xilinx -family xcup -top {top}; stat"`.
"""
