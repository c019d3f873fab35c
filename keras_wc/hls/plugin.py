"""hls4ml plugin entry point: ``hls4ml.backends`` -> ``SQNAP=keras_wc.hls.plugin:register``.

hls4ml 1.3.0 calls :func:`register` while ``hls4ml.backends`` is being imported (see
``hls4ml/backends/plugin_loader.py``). :func:`ensure_registered` is the same registration for
code paths that import :mod:`keras_wc.hls` without the entry point installed. Both are
idempotent: hls4ml's registries raise on a second registration of a name.
"""

from __future__ import annotations

from typing import Callable, Optional

BACKEND_NAME = "SQNAP"


def _registered_backends() -> set:
    from hls4ml.backends.backend import backend_map

    return set(backend_map)


def _registered_writers() -> set:
    from hls4ml.writer.writers import writer_map

    return set(writer_map)


def register(*, register_backend: Optional[Callable] = None, register_writer: Optional[Callable] = None) -> None:
    """Register the SQNAP writer and backend with hls4ml (idempotent).

    Args:
        register_backend: hls4ml's ``register_backend`` (given by the plugin loader).
        register_writer: hls4ml's ``register_writer`` (given by the plugin loader).

    Example:
        >>> from keras_wc.hls.plugin import register
        >>> register()          # a no-op when the entry point already registered SQNAP
        >>> import hls4ml
        >>> 'SQNAP' in hls4ml.backends.get_available_backends() or 'sqnap' in hls4ml.backends.get_available_backends()
        True
    """
    if register_backend is None:
        from hls4ml.backends.backend import register_backend
    if register_writer is None:
        from hls4ml.writer.writers import register_writer
    from .writer import SQNAPWriter

    if BACKEND_NAME not in _registered_writers():
        register_writer(BACKEND_NAME, SQNAPWriter)
    if BACKEND_NAME.lower() not in _registered_backends():
        from .backend import SQNAPBackend

        register_backend(BACKEND_NAME, SQNAPBackend)


def ensure_registered() -> None:
    """Make sure hls4ml knows the SQNAP backend, its layers and its Keras handlers.

    Importing ``hls4ml`` runs the entry point; this covers an environment where keras_wc
    is importable but not installed (no entry point) and installs the Keras handlers, which
    must wait until hls4ml's own handlers are registered.
    """
    import hls4ml  # noqa: F401  (runs the entry-point plugins)

    register()
    from .parsers import install_keras_handlers

    install_keras_handlers()
