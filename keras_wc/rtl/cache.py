"""Where keras_wc.rtl keeps what it can rebuild: Verilator builds and yosys results, keyed by content.

``$KERAS_WC_CACHE`` (default ``~/.cache/keras_wc``); nothing is written into a design folder, so
``convert(..., overwrite=True)`` can always replace one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable


def cache_folder(kind: str) -> Path:
    """The cache folder of one kind of result (``"yosys"``, ``"verilator"``).

    Example:
        >>> cache_folder("yosys").name
        'yosys'
    """
    root = Path(os.environ.get("KERAS_WC_CACHE", Path.home() / ".cache" / "keras_wc"))
    return root / kind


def content_key(parts: Iterable[str]) -> str:
    """A short hash of texts (the Verilog, the command, the tool's version).

    Example:
        >>> len(content_key(["module m; endmodule"]))
        24
    """
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]
