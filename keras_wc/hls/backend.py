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
* ``sqnap:ip`` — ``vivado:ip``'s requirements with the two flows above inserted;
* ``sqnap:write`` — the deterministic writer of :mod:`keras_wc.hls.writer`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from hls4ml.backends import VivadoBackend
from hls4ml.model.flow import get_flow, register_flow
from hls4ml.model.flow.flow import flow_map
from hls4ml.model.optimizer import get_optimizer

from .writer import FLAVOR_KEY, FLAVORS

BACKEND_NAME = "SQNAP"
INPUT_FORMAT_KEY = "SQNAPInputFormat"
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
        for name, cls in passes.PASSES.items():
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
        requires = get_flow("vivado:ip").requires.copy()
        requires.insert(0, types_flow)
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
                              tb_output_stream="file", flavor="Vitis", input_format=None, datapath=None, **_):
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

        Returns:
            The config dict (hls4ml's Vivado keys plus ``SQNAPFlavor``/``SQNAPInputFormat``).

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
        if datapath is not None:
            from .passes import DATAPATH_KEY

            config[DATAPATH_KEY] = datapath
        return config

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
