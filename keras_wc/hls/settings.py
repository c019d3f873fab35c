"""The checks of ``convert``'s HLS settings, made before anything is described or written.

Each refused value gives one line naming the argument and what is allowed
(``docs/errors.md``):

* ``flavor``: :data:`~keras_wc.hls.writer.FLAVORS`; ``io_type``: :data:`~keras_wc.hls.passes.SQNAP_IO_TYPES`;
* ``project_name``: a C identifier (it names the top function and the files);
* ``reuse_factor``: an int >= 1;
* ``part``: a Xilinx part number, :data:`PART_PATTERN`: ``xc``/``xa``/``xq``, the device,
  then ``-``-separated package, speed grade and temperature fields (``xcvu13p-flga2577-2-e``,
  ``xc7z020clg400-1``, ``xcu250-figd2104-2L-e``). hls4ml writes any string into the tcl
  scripts; only the vendor tool would notice a typo, hours later;
* ``clock_period``: a number of nanoseconds > 0;
* ``hls_config``: a mapping or ``None``;
* ``strategy``: ``None`` (automatic, :mod:`keras_wc.hls.strategy`) or one of :data:`STRATEGY_NAMES`.

Example:
    >>> check_settings(flavor="Vitis", io_type="io_parallel", project_name="myproject", reuse_factor=0,
    ...                part="xcvu13p-flga2577-2-e", clock_period=5, hls_config=None, strategy=None)
    Traceback (most recent call last):
    ValueError: reuse_factor=0: expected an int >= 1
"""

from __future__ import annotations

import numbers
import re
from typing import Any, Mapping, Optional

from .passes import SQNAP_IO_TYPES
from .writer import FLAVORS

#: accepted FPGA parts: a Xilinx part number (see the module docstring)
PART_PATTERN = re.compile(r"^x[acq][a-z0-9]+(?:-[a-z0-9]+)+$", re.IGNORECASE)
#: ``convert(strategy=...)`` values (hls4ml's Strategy spelling)
STRATEGY_NAMES = ("Latency", "Resource")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _is(value: Any, kind: type) -> bool:
    """``value`` is a ``numbers`` ``kind`` (Integral, Real) and not a bool."""
    return isinstance(value, kind) and not isinstance(value, bool)


def check_settings(*, flavor: str, io_type: str, project_name: str, reuse_factor: int, part: str,
                   clock_period: float, hls_config: Optional[Mapping[str, Any]],
                   strategy: Optional[str] = None) -> None:
    """Refuse a setting ``convert`` cannot write a working project with.

    Args:
        flavor: ``"Vitis"`` or ``"Vivado"``.
        io_type: ``"io_parallel"`` or ``"io_stream"``.
        project_name: the C++ top function and file prefix.
        reuse_factor: hls4ml reuse factor of every layer.
        part: the FPGA part.
        clock_period: the clock period (ns).
        hls_config: extra hls4ml ``hls_config`` entries.
        strategy: every layer's strategy, or ``None`` for the automatic choice.

    Raises:
        ValueError: a value out of its allowed set, naming the argument and what is allowed.
        TypeError: ``hls_config`` is not a mapping.

    Example:
        >>> check_settings(flavor="Vitis", io_type="io_stream", project_name="net", reuse_factor=4,
        ...                part="xc7z020clg400-1", clock_period=10, hls_config={}, strategy="Resource")
    """
    if flavor not in FLAVORS:
        raise ValueError(f"flavor={flavor!r}: expected one of {list(FLAVORS)}")
    if io_type not in SQNAP_IO_TYPES:
        raise ValueError(f"io_type={io_type!r}: expected one of {list(SQNAP_IO_TYPES)}")
    if not isinstance(project_name, str) or not _IDENTIFIER.match(project_name):
        raise ValueError(f"project_name={project_name!r}: expected a C identifier (letters, digits and _, not "
                         "starting with a digit)")
    if not _is(reuse_factor, numbers.Integral) or reuse_factor < 1:
        raise ValueError(f"reuse_factor={reuse_factor!r}: expected an int >= 1")
    if not isinstance(part, str) or not PART_PATTERN.match(part):
        raise ValueError(f"part={part!r}: expected a Xilinx part number such as 'xcvu13p-flga2577-2-e' or "
                         "'xc7z020clg400-1' (xc/xa/xq, the device, then -package/-speed/-temperature fields)")
    if not _is(clock_period, numbers.Real) or not clock_period > 0:
        raise ValueError(f"clock_period={clock_period!r}: expected a number of nanoseconds > 0")
    if hls_config is not None and not isinstance(hls_config, Mapping):
        raise TypeError(f"hls_config={hls_config!r}: expected a dict of hls4ml hls_config entries or None")
    if strategy is not None and strategy not in STRATEGY_NAMES:
        raise ValueError(f"strategy={strategy!r}: expected one of {list(STRATEGY_NAMES)} or None (automatic)")
