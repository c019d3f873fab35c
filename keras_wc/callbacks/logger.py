"""Per-epoch compression figures in ``logs`` (so History, CSVLogger and TensorBoard see them).

The figures come from :func:`keras_wc.report.compression_report` (encoded kernels: exact
stored bits, zero weights, full multiplications per inference), computed at the end of
each epoch on the current weights and controls.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Optional, Sequence

from ..report import compression_report
from ..walker import WeightSlot
from .base import CompressionCallback

#: the report totals logged by default
DEFAULT_KEYS = ("compression_vs_float32", "zero_fraction", "full_mults")


class CompressionLogger(CompressionCallback):
    """Write compression totals into ``logs`` at the end of every epoch.

    Args:
        keys: names of :attr:`CompressionReport.totals` entries to log (default:
            ``compression_vs_float32``, ``zero_fraction``, ``full_mults``).
        prefix: prepended to each key in ``logs`` (e.g. ``"kwc_"``).

    Raises (at ``on_train_begin``):
        ValueError: no compressed layer; a key that the report does not provide (checked
            at the first epoch whose model can be encoded).

    Example:
        >>> history = model.fit(x, y, epochs=5, callbacks=[CompressionLogger(),
        ...                                                  tf.keras.callbacks.CSVLogger("train.csv")])
        >>> history.history["compression_vs_float32"][-1]
        7.8
    """

    def __init__(self, keys: Sequence[str] = DEFAULT_KEYS, prefix: str = ""):
        super().__init__(None)
        self.keys, self.prefix = list(keys), str(prefix)

    def _setup(self, found: List[WeightSlot]) -> List[WeightSlot]:
        self._warned = False
        totals = self.figures()
        if totals is not None:
            self._check_keys(totals)
        return found

    def _check_keys(self, totals: Dict[str, Any]) -> None:
        unknown = [key for key in self.keys if key not in totals]
        if unknown:
            raise self.error(f"keys={unknown} are not report totals; available: {sorted(totals)}")

    def figures(self) -> Optional[Dict[str, Any]]:
        """The report totals of the model as it is now, or ``None`` while it cannot be encoded.

        A model mid-way through a pruning ramp (e.g. SparseTernary with ``active_k > k``)
        has no valid encoding yet; those epochs log NaN.
        """
        try:
            return compression_report(self.model).totals
        except ValueError as err:
            if not self._warned:
                warnings.warn(f"CompressionLogger: logging NaN while the model cannot be encoded: {err}")
                self._warned = True
            return None

    def on_epoch_end(self, epoch: int, logs: Optional[Dict[str, Any]] = None) -> None:
        if logs is None:
            return
        totals = self.figures()
        if totals is not None:
            self._check_keys(totals)
        for key in self.keys:
            logs[self.prefix + key] = float("nan") if totals is None else float(totals[key])

    def _config(self) -> Dict[str, Any]:
        return {"keys": self.keys, "prefix": self.prefix}

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> "CompressionLogger":
        config = {k: v for k, v in config.items() if k != "layers"}
        return cls(**config)
