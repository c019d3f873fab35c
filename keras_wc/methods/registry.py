"""The method registry: one :class:`~keras_wc.methods.base.Method` per name.

Like TF-MOT's prune registry, this is the single place that maps what a consumer holds (an
``Encoding``, a quantizer, a name) to the object that knows the method. Registering a method
also registers its quantizer class with Keras/QKeras (:func:`keras_wc.quantizers.register`),
so models using it save, load and convert like built-in ones.
"""

from __future__ import annotations

from typing import Dict, Tuple, Type

from ..quantizers.base import Encoding
from ..quantizers.registry import register
from .base import Method

_METHODS: Dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Make ``method`` known under ``method.name`` (re-registering a name replaces it).

    Args:
        method: a :class:`Method` instance whose ``name``, ``core`` and ``header`` are set.

    Returns:
        ``method`` (so a module can write ``BINARY = register_method(BinaryMethod())``).

    Raises:
        ValueError: a missing name, core or header, or a header file that does not exist.

    Example:
        >>> register_method(get_method("swc")).name
        'swc'
    """
    if not method.name or not method.core or method.header is None:
        raise ValueError(f"method {method!r}: name, core and header must be set")
    if not method.header.is_file():
        raise ValueError(f"method {method.name!r}: header {method.header} does not exist")
    if method.quantizer is not None:
        if getattr(method.quantizer, "method", None) != method.name:
            raise ValueError(f"method {method.name!r}: its quantizer {method.quantizer.__name__} declares "
                             f"method={getattr(method.quantizer, 'method', None)!r}")
        register(method.quantizer)
    _METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    """The registered method called ``name``.

    Raises:
        ValueError: for an unknown name, listing the registered ones.

    Example:
        >>> get_method("dfp").core
        'sqnap::dfp_core'
    """
    try:
        return _METHODS[name]
    except KeyError:
        raise ValueError(f"method {name!r} is not registered; registered methods: {sorted(_METHODS)}") from None


def method_of(encoding: Encoding) -> Method:
    """The method of an encoding (``encoding.method``).

    Example:
        >>> method_of(DFP(bits=4).encode(np.ones((2, 2), np.float32))).name
        'dfp'
    """
    return get_method(encoding.method)


def method_of_quantizer(quantizer) -> Method:
    """The method whose quantizer class ``quantizer`` is an instance of.

    Raises:
        ValueError: ``quantizer`` is not a registered method's quantizer.

    Example:
        >>> method_of_quantizer(SWC()).name
        'swc'
    """
    for method in _METHODS.values():
        if method.quantizer is not None and isinstance(quantizer, method.quantizer):
            return method
    raise ValueError(f"quantizer {quantizer!r} belongs to no registered method; registered: {sorted(_METHODS)}")


def registered_methods() -> Tuple[Method, ...]:
    """Every registered method, in registration order.

    Example:
        >>> [m.name for m in registered_methods()][:2]
        ['swc', 'poly']
    """
    return tuple(_METHODS.values())


def quantizer_classes() -> Tuple[Type, ...]:
    """The quantizer classes of the registered methods (built-in and extensions).

    Example:
        >>> SWC in quantizer_classes()
        True
    """
    return tuple(m.quantizer for m in _METHODS.values() if m.quantizer is not None)


def is_compression_quantizer(quantizer) -> bool:
    """Whether ``quantizer`` is an instance of a registered method's quantizer class.

    Example:
        >>> is_compression_quantizer(SWC()), is_compression_quantizer(None)
        (True, False)
    """
    return isinstance(quantizer, quantizer_classes())
