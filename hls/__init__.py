"""The SQNAP accelerator's HLS C++ header library, shipped as package data.

Use :func:`keras_wc.hls_include.include_dir` to find the headers of an installed package.
"""

from pathlib import Path


def include_dir() -> Path:
    """Return the folder holding the ``sqnap_*.h`` headers.

    Returns:
        The absolute path of this package's folder.

    Example:
        >>> (include_dir() / "sqnap_common.h").exists()
        True
    """
    return Path(__file__).resolve().parent
