"""A search worker process: ``python -m keras_wc.search.worker SETTINGS.json INDEX QUOTA STARTED``.

:func:`keras_wc.search.study.search` starts one per local worker; it runs ``QUOTA`` trials of the
study named in the settings (``SearchSettings.to_dict()`` as JSON) and exits.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list) -> int:
    """Run the worker described by ``argv`` (see the module docstring)."""
    from .study import run_worker

    path, index, quota, started = argv
    run_worker(json.loads(Path(path).read_text()), int(index), int(quota), int(started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
