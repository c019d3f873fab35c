"""Keras 2 layer handlers: keras_wc-quantized QKeras layers -> SQNAP IR layers.

``QDense``, ``QConv1D``, ``QConv2D`` and ``QDepthwiseConv2D`` whose kernel quantizer is a
keras_wc :class:`~keras_wc.quantizers.CompressionQuantizer` become ``SQNAPDense``,
``SQNAPConv1D``, ``SQNAPConv2D`` and ``SQNAPDepthwiseConv2D``; the same layers with any
other quantizer (``quantized_bits``, ``quantized_po2``, none) go to hls4ml's own QKeras
handler, unchanged.

hls4ml registers its own handlers for these class names when ``hls4ml.converters`` is
imported (after backend plugins are loaded), so :func:`install_keras_handlers` *wraps*
the registered handler instead of registering a second one; it is idempotent.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

#: Keras class name -> (SQNAP IR class name, quantizer config key)
SQNAP_CLASSES: Dict[str, Tuple[str, str]] = {
    "QDense": ("SQNAPDense", "kernel_quantizer"),
    "QConv1D": ("SQNAPConv1D", "kernel_quantizer"),
    "QConv2D": ("SQNAPConv2D", "kernel_quantizer"),
    "QDepthwiseConv2D": ("SQNAPDepthwiseConv2D", "depthwise_quantizer"),
}


def keras_wc_quantizer_names() -> set:
    """Class names of every registered method's quantizer (plain and ``keras_wc>`` forms)."""
    from keras_wc.methods import quantizer_classes
    from keras_wc.quantizers.registry import PACKAGE

    names = {cls.__name__ for cls in quantizer_classes()}
    return names | {f"{PACKAGE}>{name}" for name in names}


def compression_quantizer_config(keras_layer: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The keras_wc quantizer config of a Keras layer dict, or ``None`` when it has none.

    Args:
        keras_layer: one entry of the model's ``to_json()`` layer list.

    Returns:
        ``{"class_name": ..., "config": ...}`` of the kernel (or depthwise) quantizer.
    """
    entry = SQNAP_CLASSES.get(keras_layer.get("class_name"))
    if entry is None:
        return None
    config = keras_layer.get("config", {}).get(entry[1])
    if isinstance(config, dict) and config.get("class_name") in keras_wc_quantizer_names():
        return config
    return None


def parse_sqnap_layer(keras_layer, input_names, input_shapes, data_reader):
    """Parse a keras_wc-quantized layer into an SQNAP IR layer dict.

    The IR layer carries no weights: the ``sqnap:assign_types`` pass attaches the layer's
    datapath spec (the conversion's one encoding of the kernel, made from the Keras layer's
    own quantizer instance with its training controls) and its integer weight arrays.

    Args:
        keras_layer: the layer's JSON dict.
        input_names: names of the input tensors.
        input_shapes: input shapes (batch first).
        data_reader: hls4ml's weight reader.

    Returns:
        ``(layer_dict, output_shape)`` as hls4ml handlers do.
    """
    from hls4ml.converters.keras.convolution import parse_conv1d_layer, parse_conv2d_layer
    from hls4ml.converters.keras.core import parse_dense_layer
    from hls4ml.converters.keras.qkeras import get_quantizer_from_config

    keras_class = keras_layer["class_name"]
    ir_class, _ = SQNAP_CLASSES[keras_class]
    parse = {"QDense": parse_dense_layer, "QConv1D": parse_conv1d_layer}.get(keras_class, parse_conv2d_layer)
    layer, output_shape = parse(keras_layer, input_names, input_shapes, data_reader)
    for float_kernel in ("weight_data", "depthwise_data"):
        layer.pop(float_kernel, None)
    layer["class_name"] = ir_class
    layer["keras_class"] = keras_class
    bias_config = keras_layer["config"].get("bias_quantizer")
    if isinstance(bias_config, dict) and bias_config.get("class_name") in keras_wc_quantizer_names():
        layer["bias_quantizer"] = None  # the datapath spec puts the bias on the accumulator grid exactly
    else:
        layer["bias_quantizer"] = get_quantizer_from_config(keras_layer, "bias")
    layer["weight_quantizer"] = None
    if layer.get("bias_data") is None:
        import numpy as np

        layer["bias_data"] = np.zeros(int(layer.get("n_out", layer.get("n_filt", 0))), np.float32)
    return layer, output_shape


def _wrap(original: Callable) -> Callable:
    def handler(keras_layer, input_names, input_shapes, data_reader, *args):
        if compression_quantizer_config(keras_layer) is not None:
            return parse_sqnap_layer(keras_layer, input_names, input_shapes, data_reader)
        return original(keras_layer, input_names, input_shapes, data_reader, *args)

    handler._sqnap_original = original  # type: ignore[attr-defined]
    handler.handles = getattr(original, "handles", ())  # type: ignore[attr-defined]
    handler.__name__ = f"sqnap_{getattr(original, '__name__', 'handler')}"
    return handler


def install_keras_handlers() -> None:
    """Route keras_wc-quantized QKeras layers to :func:`parse_sqnap_layer` (idempotent).

    Wraps hls4ml's registered Keras 2 handlers of :data:`SQNAP_CLASSES`; layers without a
    keras_wc quantizer still reach hls4ml's own handler.

    Example:
        >>> install_keras_handlers(); install_keras_handlers()   # safe to repeat
    """
    import sys

    converters = sys.modules.get("hls4ml.converters")
    if converters is not None and not hasattr(converters, "convert_from_keras_model"):
        return  # hls4ml is still importing (plugin loading): called again at conversion time
    import hls4ml.converters  # noqa: F401  (registers hls4ml's own handlers first)
    from hls4ml.converters.keras_v2_to_hls import layer_handlers

    for keras_class in SQNAP_CLASSES:
        current = layer_handlers.get(keras_class)
        if current is None:
            layer_handlers[keras_class] = _wrap(_unsupported(keras_class))
        elif not hasattr(current, "_sqnap_original"):
            layer_handlers[keras_class] = _wrap(current)


def _unsupported(keras_class: str) -> Callable:
    def handler(keras_layer, *_):
        raise ValueError(f"layer {keras_layer['config'].get('name')!r} ({keras_class}) cannot be mapped "
                         "by hls4ml without a keras_wc quantizer")

    return handler
