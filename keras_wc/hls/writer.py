"""The SQNAP project writer: hls4ml's Vivado/Vitis writer, deterministic, plus the sqnap headers.

What differs from hls4ml's own writers:

* **flavour** — ``SQNAPFlavor`` in the model config picks the Vitis steps (``build_prj.tcl``
  from ``templates/vitis``, ``build_opt.tcl``, ``set backend "vitis"`` in ``project.tcl``,
  Vitis ``nnet_utils`` overrides) or the plain Vivado ones, so vendor tools run unchanged;
* **determinism** — the library stamp is a digest of the model (not ``uuid4``), and
  ``hls4ml_config.yml`` holds no Keras model dump (Keras' ``.keras`` zip carries a save date)
  and no absolute output path;
* **exact testbench** — the generated ``<project>_test.cpp`` reads inputs as ``double`` and
  prints results with enough digits to be exact (``ap_fixed``'s ``operator<<`` rounds to the
  stream precision, 6 digits by default);
* the shared ``sqnap_common.h`` and the header of every method the model uses
  (:mod:`keras_wc.methods`) are registered with ``backend.register_source`` and land in
  ``firmware/nnet_utils/``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

import yaml
from hls4ml.writer.vitis_writer import VitisWriter
from hls4ml.writer.vivado_writer import VivadoWriter

FLAVORS = ("Vitis", "Vivado")
FLAVOR_KEY = "SQNAPFlavor"
#: digits printed per output value by the testbench (exact for any ap_fixed up to 128 bits)
RESULT_PRECISION = 160


def model_flavor(model) -> str:
    """The project flavour (``"Vitis"`` or ``"Vivado"``) stored in ``model.config``."""
    flavor = model.config.get_config_value(FLAVOR_KEY, "Vitis")
    if flavor not in FLAVORS:
        raise ValueError(f"flavor={flavor!r}: expected one of {list(FLAVORS)}")
    return flavor


def header_sources(model) -> list:
    """The headers a project needs: ``sqnap_common.h``, each used method's and layer kind's header.

    A method registered from outside the package brings its own header (``Method.header``),
    so its projects are complete; a project holds no header of a method it does not use, so
    what else is registered in the process never changes the files written.

    Args:
        model: the hls4ml ``ModelGraph`` (its conversion's datapath).

    Returns:
        Paths, sorted by file name.
    """
    from keras_wc.hls_include import include_dir
    from keras_wc.methods import method_of

    from .passes import datapath_of

    from .templates import KIND_HEADERS

    specs = datapath_of(model).values()
    used = {method_of(spec.encoding).header for spec in specs if spec.kind == "compressed" and spec.sqnap}
    used |= {include_dir() / KIND_HEADERS[spec.kind] for spec in specs if spec.kind in KIND_HEADERS}
    return sorted({include_dir() / "sqnap_common.h"} | used, key=lambda path: path.name)


def register_header_sources(model) -> None:
    """Make the backend's custom sources exactly :func:`header_sources` of ``model``.

    The backend object is shared by every conversion, so SQNAP headers registered for an
    earlier model are removed first.
    """
    from keras_wc.hls_include import include_dir
    from keras_wc.methods import registered_methods

    backend = model.config.backend
    wanted = {path.resolve() for path in header_sources(model)}
    ours = {path.resolve() for path in include_dir().glob("sqnap_*.h")}
    ours |= {method.header.resolve() for method in registered_methods()}
    backend.custom_source = {destination: source for destination, source in backend.custom_source.items()
                             if Path(source).resolve() not in ours}
    for path in sorted(wanted, key=lambda path: path.name):
        backend.register_source(path)


def model_digest(model) -> str:
    """An 8-hex-digit stamp from the model's layers, attributes' text and weights (deterministic).

    Args:
        model: an hls4ml ``ModelGraph``.

    Returns:
        Eight lowercase hex digits: equal models give equal stamps, different weights or
        types give different ones (so compiled libraries never collide in one process).
    """
    digest = hashlib.sha256()
    digest.update(str(model.config.get_project_name()).encode())
    digest.update(str(model_flavor(model)).encode())
    digest.update(str(model.config.get_config_value("IOType")).encode())
    for layer in model.get_layers():
        digest.update(f"{layer.name}:{layer.class_name}".encode())
        for var in layer.get_variables():
            digest.update(f"{var.name}:{var.type.name}:{var.type.precision}".encode())
        for weight in layer.get_weights():
            digest.update(f"{weight.name}:{weight.type.precision}".encode())
            digest.update(weight.data.tobytes())
        for key in ("config_cpp", "function_cpp"):
            value = layer.get_attr(key)
            if value is not None:
                digest.update(str(value).encode())
    return digest.hexdigest()[:8]


def _plain(value):
    """``value`` as YAML-safe builtins (unknown objects become their ``str``)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return str(value)


def _portable_config(config: dict) -> dict:
    """``model.config.config`` without the Keras model object and with a relative output dir."""
    skipped = {"KerasModel", "PytorchModel", "OnnxModel", "InputData", "OutputPredictions"}
    out = {k: v for k, v in config.items() if k not in skipped and not str(k).startswith("_")}
    out["OutputDir"] = "."
    return _plain(out)


def _rewrite_lines(path: Path, replacements: Iterable) -> None:
    text = path.read_text()
    for old, new in replacements:
        text = text.replace(old, new)
    path.write_text(text)


class SQNAPWriter(VitisWriter):
    """Writes an SQNAP project of either flavour (see the module docstring)."""

    def write_yml(self, model) -> None:
        """Write ``hls4ml_config.yml`` without the Keras model or absolute paths."""
        from hls4ml.writer.vivado_writer import config_filename

        with open(Path(model.config.get_output_dir()) / config_filename, "w") as file:
            yaml.safe_dump(_portable_config(model.config.config), file, sort_keys=True)

    def write_test_bench(self, model) -> None:
        """hls4ml's testbench, with ``double`` inputs and exact result printing."""
        VivadoWriter.write_test_bench(self, model)
        path = Path(model.config.get_output_dir()) / f"{model.config.get_project_name()}_test.cpp"
        _rewrite_lines(path, [
            ("std::vector<float> in;", "std::vector<double> in;"),
            ("nnet::copy_data<float, ", "nnet::copy_data<double, "),
            ("std::ofstream fout(RESULTS_LOG);",
             f"std::ofstream fout(RESULTS_LOG);\n    fout.precision({RESULT_PRECISION}); // exact ap_fixed text"),
        ])

    def write_nnet_utils(self, model) -> None:
        """hls4ml's headers plus the SQNAP headers this model uses."""
        register_header_sources(model)
        VivadoWriter.write_nnet_utils(self, model)

    def write_hls(self, model, is_multigraph: bool = False) -> None:
        """Write the whole project in the chosen flavour, deterministically.

        Args:
            model: the hls4ml ``ModelGraph``.
            is_multigraph: unsupported (kept for hls4ml's signature).
        """
        if is_multigraph:
            raise NotImplementedError("SQNAP does not write multi-graph projects")
        model.config.config["Stamp"] = model_digest(model)
        VivadoWriter.write_hls(self, model)
        if model_flavor(model) == "Vitis":
            self.write_nnet_utils_overrides(model)
            self.write_board_script_override(model)
            self.write_build_prj_override(model)
            self.write_build_opts(model)
