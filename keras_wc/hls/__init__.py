"""``keras_wc.hls``: the SQNAP hls4ml backend, C simulation and resource estimates.

Importing this package makes sure hls4ml knows the ``SQNAP`` backend (normally registered
through the ``hls4ml.backends`` entry point of the installed package; registered here
otherwise).

Example:
    >>> from keras_wc.hls import convert, csim
    >>> _ = convert(model, "prj", input_format="ufixed<8,0>", x_test=x_test)
    >>> result = csim("prj"); result.bit_exact == result.total
    True
"""

from __future__ import annotations

import hls4ml  # noqa: F401  (first: loads the backend plugins before our modules import each other)

from .convert import convert
from .csim import CSimResult, csim
from .demo import DemoSummary, demo_pipeline
from .plugin import BACKEND_NAME, ensure_registered
from .resources import ResourceReport, resources
from .synthesis_lint import LintReport, lint

ensure_registered()

__all__ = ["BACKEND_NAME", "CSimResult", "DemoSummary", "LintReport", "ResourceReport", "convert", "csim",
           "demo_pipeline", "ensure_registered", "lint", "resources"]
