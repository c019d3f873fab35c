"""A hardware budget: limits on a configuration's cost figures, and the objective it minimises.

Example:
    >>> budget = Budget(memory_bits=8 * 1024 * 8)          # 8 KiB of weights
    >>> budget.violations({"memory_bits": 70000, "full_mults": 40, "lut": None, "dsp": None})
    {'memory_bits': 4464.0}
    >>> budget.objective
    'memory_bits'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Mapping, Optional


@dataclass(frozen=True)
class Budget:
    """Upper limits on :data:`~.objective.COSTS` (``None``: no limit).

    Attributes:
        memory_bits: weight memory of the SQNAP design, in bits.
        full_mults: full multipliers.
        lut: gate-level LUT estimate.
        dsp: gate-level DSP estimate.
    """

    memory_bits: Optional[int] = None
    full_mults: Optional[int] = None
    lut: Optional[int] = None
    dsp: Optional[int] = None

    def __post_init__(self) -> None:
        for name, value in self.limits().items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"budget {name}={value!r}: expected a non-negative integer")

    def limits(self) -> Dict[str, int]:
        """The figures that have a limit."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    @property
    def objective(self) -> str:
        """The cost the search minimises beside accuracy: the first limited figure (memory bits without one)."""
        return next(iter(self.limits()), "memory_bits")

    def violations(self, costs: Mapping[str, Optional[int]]) -> Dict[str, float]:
        """Per limited figure, ``cost - limit`` (feasible when every value is <= 0; Optuna's constraint form).

        Raises:
            ValueError: a limited figure the configuration has no value for (``lut``/``dsp`` of a layer too
                large for the Latency architecture).
        """
        out = {}
        for name, limit in self.limits().items():
            if costs.get(name) is None:
                raise ValueError(f"budget {name}: the configuration has no {name} figure (a layer too large for the "
                                 "Latency architecture has no gate-level estimate); budget memory_bits or full_mults")
            out[name] = float(costs[name] - limit)
        return out

    def to_dict(self) -> Dict[str, Any]:
        return self.limits()
