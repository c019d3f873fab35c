"""The ``SQNAP`` hls4ml backend: Vivado/Vitis plus the keras_wc compressed layers.

Built like hls4ml's ``VitisBackend``: it subclasses ``VivadoBackend`` and takes its own name
so that every ``@layer_optimizer``/``@model_optimizer`` of the Vivado backend is registered as
``sqnap:<name>``. Its flows (``sqnap:*``) are:

* ``sqnap:types`` (before hls4ml's ``convert`` flow) — :mod:`keras_wc.hls.passes`: every layer gets the
  result/accumulator formats of the keras_wc datapath (no ``fixed<16,6>`` default survives), layers the
  backend cannot map are reported by name and class; a model without keras_wc quantizers
  converted through hls4ml's own entry point is marked *stock* instead and keeps hls4ml's types;
* ``sqnap:apply_templates`` — the config/function templates of :mod:`keras_wc.hls.templates`
  (not applied in stock mode, :func:`datapath_only`);
* ``sqnap:input_rule`` (after ``sqnap:types``) — :class:`InputRule`: in datapath mode the
  model's ``trace`` applies the one input rule, as :meth:`SQNAPBackend.predict` does for ``predict``;
* ``sqnap:ip`` — ``vivado:ip``'s requirements with the flows above inserted;
* ``sqnap:write`` — the deterministic writer of :mod:`keras_wc.hls.writer`.

**The one input rule in ``predict``/``trace``** (``docs/errors.md``). A datapath-mode model
(:func:`keras_wc.hls.convert`, or hls4ml's entry point with a keras_wc quantizer or an
``input_format``) hands its inputs to the library only after
:func:`keras_wc.emulate.inputs.grid_values`: a sample shape other than the model's, NaN or
infinite values, and (with a declared ``input_format``) values off its grid or range are
refused with a ``ValueError`` naming the counts and the format, unless the conversion was
given ``quantize_inputs=True`` (then they are rounded half to even and saturated). Stock-mode
models keep hls4ml's own ``predict``/``trace``.
"""

from __future__ import annotations

import subprocess
import types
from pathlib import Path
from typing import Any

import numpy as np
from hls4ml.backends import VivadoBackend
from hls4ml.model.flow import get_flow, register_flow
from hls4ml.model.flow.flow import flow_map
from hls4ml.model.optimizer import ModelOptimizerPass, get_optimizer

from .writer import FLAVOR_KEY, FLAVORS

BACKEND_NAME = "SQNAP"
INPUT_FORMAT_KEY = "SQNAPInputFormat"
#: key of the conversion's ``quantize_inputs`` in an hls4ml model config (not written to the yml)
QUANTIZE_INPUTS_KEY = "_SQNAPQuantizeInputs"
FLOW_PREFIX = BACKEND_NAME.lower()


def _register_flow_once(name: str, optimizers, requires, backend: str) -> str:
    """``register_flow`` unless ``<backend>:<name>`` exists already; returns the flow name."""
    full = f"{backend.lower()}:{name}"
    if full in flow_map:
        return full
    return register_flow(name, optimizers, requires=requires, backend=backend)


class CompileError(RuntimeError):
    """g++ failed (or is missing) while building a generated project."""


def compiler_failure(project_dir: Path, output: str, what: str, lines: int = 12) -> CompileError:
    """A :class:`CompileError` quoting the compiler's first error lines and the project path.

    Args:
        project_dir: the project folder.
        output: the compiler's combined stdout/stderr.
        what: what was being built (``"the library"``, ``"the testbench"``).
        lines: how many error lines to quote.

    Returns:
        The exception (to be raised by the caller).
    """
    text = output.splitlines()
    errors = [line for line in text if "error" in line.lower()] or text
    quoted = "\n".join(errors[:lines])
    return CompileError(f"g++ failed to build {what} of the HLS project {project_dir}:\n{quoted}")


def design_inputs(model: Any, x: Any) -> np.ndarray:
    """``x`` as a datapath-mode model's library receives it, by the one input rule.

    Args:
        model: an SQNAP ``ModelGraph`` in datapath mode.
        x: the batch (batch first).

    Returns:
        The values on the design's input grid (:func:`keras_wc.emulate.inputs.grid_values`),
        C-contiguous: float32 when ``x`` is float32 and float32 holds them exactly (hls4ml's
        float bridge, float32 outputs), float64 otherwise (its double bridge).

    Raises:
        ValueError: another sample shape, NaN or infinite values, or (unless the conversion was
            given ``quantize_inputs=True``) values off the declared input grid or range.

    Example:
        >>> design_inputs(hls_model, np.float32([[0.5, 0.25]]))
        array([[0.5 , 0.25]], dtype=float32)
    """
    from keras_wc.emulate.inputs import grid_values

    from .passes import datapath_of

    quantize = bool(model.config.get_config_value(QUANTIZE_INPUTS_KEY, False))
    values = grid_values(list(datapath_of(model).values()), x, quantize, "x")
    single = values.astype(np.float32)
    exact_single = getattr(x, "dtype", None) == np.float32 and np.array_equal(single, values)
    return np.ascontiguousarray(single if exact_single else values)


def _trace_by_the_input_rule(model: Any, x: Any):
    """hls4ml's ``ModelGraph.trace`` on :func:`design_inputs` of ``x``."""
    from hls4ml.model.graph import ModelGraph  # not at import: the plugin loads while hls4ml.model is importing

    return ModelGraph.trace(model, design_inputs(model, x))


class InputRule(ModelOptimizerPass):
    """Make a datapath-mode model's ``trace`` apply the one input rule (module docstring).

    hls4ml's ``ModelGraph.predict`` defers to the backend's ``predict`` (:meth:`SQNAPBackend.predict`);
    ``trace`` has no such hook, so the pass binds a checking ``trace`` to the model object.
    """

    def __init__(self):
        self.name = "input_rule"

    def transform(self, model) -> bool:
        from .passes import is_stock

        if not is_stock(model):
            model.trace = types.MethodType(_trace_by_the_input_rule, model)
        return False


class SQNAPBackend(VivadoBackend):
    """hls4ml backend ``"SQNAP"`` (see the module docstring).

    Example:
        >>> import hls4ml
        >>> backend = hls4ml.backends.get_backend("SQNAP")
        >>> backend.get_default_flow()
        'sqnap:ip'
    """

    def __init__(self):
        super(VivadoBackend, self).__init__(name=BACKEND_NAME)
        self._register_layer_attributes()
        self._register_sqnap_layers()
        self._register_flows()

    # -- registration ----------------------------------------------------------------------
    def _register_sqnap_layers(self) -> None:
        """IR layers, templates and passes of the compressed layers (headers: per project, by the writer)."""
        from . import layers, passes, templates

        layers.register_layers()
        for template in templates.TEMPLATES:
            if get_optimizer_safe(f"{FLOW_PREFIX}:{template().get_name()}") is None:
                self.register_template(datapath_only(template))
        for name, cls in {**passes.PASSES, "input_rule": InputRule}.items():
            if get_optimizer_safe(f"{FLOW_PREFIX}:{name}") is None:
                self.register_pass(name, cls)

    def _register_flows(self) -> None:
        from .passes import PASSES

        # types come first (before hls4ml's 'convert' flow): with explicit, distinct types its
        # eliminate_linear_activation keeps the quantizing linear QActivations
        types_flow = _register_flow_once("types", list(f"{FLOW_PREFIX}:{n}" for n in PASSES), ["parse_qonnx"],
                                         self.name)
        template_flow = _register_flow_once("apply_templates", self._get_layer_templates,
                                            ["vivado:init_layers"], self.name)
        self._writer_flow = _register_flow_once("write", [f"{FLOW_PREFIX}:write_hls"], [f"{FLOW_PREFIX}:ip"],
                                                self.name)
        input_flow = _register_flow_once("input_rule", [f"{FLOW_PREFIX}:input_rule"], [types_flow], self.name)
        requires = get_flow("vivado:ip").requires.copy()
        requires[0:0] = [types_flow, input_flow]
        # after Vivado's templates: the SQNAP ones replace hls4ml's for the layers SQNAP computes itself (pooling)
        requires.insert(requires.index("vivado:apply_templates") + 1, template_flow)
        self._default_flow = _register_flow_once("ip", None, requires, self.name)

    def get_default_flow(self) -> str:
        return self._default_flow

    def get_writer_flow(self) -> str:
        return self._writer_flow

    # -- configuration -----------------------------------------------------------------------
    def create_initial_config(self, part="xcvu13p-flga2577-2-e", clock_period=5, clock_uncertainty=None,
                              io_type="io_parallel", namespace=None, write_weights_txt=True, write_tar=False,
                              tb_output_stream="file", flavor="Vitis", input_format=None, datapath=None,
                              quantize_inputs=False, **_):
        """The initial hls4ml config of an SQNAP project.

        Args:
            part: FPGA part.
            clock_period: clock period in ns.
            clock_uncertainty: defaults to Vitis' ``27%`` or Vivado's ``12.5%``.
            io_type: ``"io_parallel"`` or ``"io_stream"``.
            namespace: C++ namespace of the generated code.
            write_weights_txt: also write weights as ``.txt`` (faster compilation).
            write_tar: also write a ``.tar.gz`` of the project.
            tb_output_stream: ``"file"``, ``"stdout"`` or ``"both"``.
            flavor: ``"Vitis"`` or ``"Vivado"`` (which tcl scripts are written).
            input_format: the model input's fixed-point format (``"ufixed<8,0>"``) or ``None``
                for the keras_wc datapath default (the first QActivation's format).
            datapath: ``{layer name: spec}``, the conversion's description of the model
                (:func:`keras_wc.hls.convert` passes it; ``None``: the ``sqnap:describe`` pass makes it).
            quantize_inputs: ``predict``/``trace`` round and saturate inputs off the declared
                input grid instead of refusing them (the one input rule, module docstring).

        Returns:
            The config dict (hls4ml's Vivado keys plus ``SQNAPFlavor``/``SQNAPInputFormat``, and
            the unwritten ``_SQNAPQuantizeInputs``).

        Raises:
            ValueError: for an unknown flavour.
        """
        if flavor not in FLAVORS:
            raise ValueError(f"flavor={flavor!r}: expected one of {list(FLAVORS)}")
        from .parsers import install_keras_handlers

        install_keras_handlers()
        if clock_uncertainty is None:
            clock_uncertainty = "27%" if flavor == "Vitis" else "12.5%"
        config = super().create_initial_config(part=part, clock_period=clock_period,
                                               clock_uncertainty=clock_uncertainty, io_type=io_type,
                                               namespace=namespace, write_weights_txt=write_weights_txt,
                                               write_tar=write_tar, tb_output_stream=tb_output_stream)
        config[FLAVOR_KEY] = flavor
        config[INPUT_FORMAT_KEY] = None if input_format is None else str(input_format)
        config[QUANTIZE_INPUTS_KEY] = bool(quantize_inputs)
        if datapath is not None:
            from .passes import DATAPATH_KEY

            config[DATAPATH_KEY] = datapath
        return config

    # -- simulation --------------------------------------------------------------------------
    def predict(self, model, x):
        """hls4ml's ``ModelGraph.predict`` (which defers to this hook) with the one input rule.

        Args:
            model: the ``ModelGraph`` (compiled).
            x: the batch.

        Returns:
            What hls4ml's ``predict`` returns for :func:`design_inputs` of ``x`` (datapath mode)
            or for ``x`` itself (stock mode).

        Raises:
            ValueError: inputs refused by the one input rule (datapath mode; module docstring).

        Example:
            >>> hls_model.compile(); hls_model.predict(x_test[:10].astype("float64")).shape
            (10, 10)
        """
        from .passes import is_stock

        return model._predict(x if is_stock(model) else design_inputs(model, x))

    # -- compilation -------------------------------------------------------------------------
    def compile(self, model) -> str:
        """Build the ctypes library like hls4ml does, reporting compiler errors readably.

        Raises:
            CompileError: g++ missing or failing (first error lines and the project path).
        """
        project = Path(model.config.get_output_dir())
        try:
            done = subprocess.run(["bash", "./build_lib.sh"], text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, cwd=project)
        except FileNotFoundError as error:
            raise CompileError(f"cannot run build_lib.sh in {project}: {error}") from error
        if done.returncode != 0:
            if "g++: command not found" in done.stdout or "g++: not found" in done.stdout:
                raise CompileError(f"g++ was not found on PATH; it is needed to compile the HLS project "
                                   f"{project}")
            raise compiler_failure(project, done.stdout, "the library")
        return str(project / "firmware" / f"{model.config.get_project_name()}-"
                   f"{model.config.get_config_value('Stamp')}.so")


def datapath_only(template: type) -> type:
    """``template`` matching only layers of conversions on the keras_wc datapath (not stock mode).

    A stock-mode conversion (:func:`keras_wc.hls.passes.is_stock`) keeps every hls4ml template,
    so its C++ is stock Vivado/Vitis code.
    """
    from .passes import is_stock

    def match(self, node) -> bool:
        return not is_stock(node.model) and template.match(self, node)

    return type(template.__name__, (template,), {"match": match, "__doc__": template.__doc__,
                                                 "__module__": template.__module__})


def get_optimizer_safe(name: str):
    """hls4ml's ``get_optimizer`` returning ``None`` instead of raising for unknown names."""
    try:
        return get_optimizer(name)
    except Exception:
        return None
