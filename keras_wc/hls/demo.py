"""The HLS half of ``keras-wc demo``: convert to an SQNAP Vitis project, C-simulate, count."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np


@dataclass
class DemoSummary:
    """The numbers of the demo's C-simulation line.

    Attributes:
        project_dir: the written Vitis project.
        total: samples simulated.
        bit_exact: samples whose outputs equal the emulator's bit for bit.
        argmax_agreement: fraction of samples whose argmax equals the Keras model's.
        csim: the full :class:`~keras_wc.hls.csim.CSimResult`.
    """

    project_dir: Path
    total: int
    bit_exact: int
    argmax_agreement: float
    csim: Any = None

    def line(self) -> str:
        """``"C simulation: N/N outputs bit-exact with the emulator; Keras argmax agreement X%"``."""
        return (f"C simulation: {self.bit_exact}/{self.total} outputs bit-exact with the emulator; "
                f"Keras argmax agreement {100 * self.argmax_agreement:.1f}%")


def demo_pipeline(model: Any, x_test: np.ndarray, workdir: Union[str, Path], overwrite: bool = False,
                  input_format: Optional[str] = None, flavor: str = "Vitis") -> DemoSummary:
    """Convert ``model`` to an SQNAP project in ``workdir``, run C simulation on ``x_test``.

    Args:
        model: the Keras model (logits output; a final softmax is not simulated).
        x_test: test inputs (batch first).
        workdir: the project folder (refused when not empty unless ``overwrite``).
        overwrite: replace an existing project.
        input_format: declared input format, or ``None`` when the model starts with a QActivation.
        flavor: ``"Vitis"`` (the demo's) or ``"Vivado"``.

    Returns:
        A :class:`DemoSummary` (``summary.line()`` is the demo's output line).

    Example:
        >>> summary = demo_pipeline(logits_model(model), x_test[:200], "demo_prj")
        >>> print(summary.line())
        C simulation: 200/200 outputs bit-exact with the emulator; Keras argmax agreement 100.0%
    """
    from .convert import convert
    from .csim import csim

    convert(model, workdir, flavor=flavor, input_format=input_format, x_test=x_test, overwrite=overwrite)
    result = csim(workdir)
    agreement = result.argmax_agreement if result.argmax_agreement is not None else 0.0
    return DemoSummary(Path(workdir), result.total, result.bit_exact, float(agreement), result)
