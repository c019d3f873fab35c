"""Reference models built from QKeras layers so any quantizer can be plugged in.

Every model ends in a ``QDense`` named ``"logits"`` followed by a separate
``Activation("softmax", name="softmax")``, so HLS output can be compared on logits
(:func:`logits_model`). Layer names are fixed: ``conv1, conv2, ...``, ``fc1, fc2, ...``,
``logits``; the activation after layer ``conv1`` is ``conv1_act``; the optional input
quantizer is ``input_quant``.

Quantizer specifications (arguments ``quantizer``, ``bias_quantizer``,
``activation_quantizer``) all accept:

* ``None`` — no quantizer (float weights; a plain ``ReLU`` for activations);
* one quantizer instance (a keras_wc quantizer such as ``SWC(...)`` or a QKeras one such
  as ``quantized_bits(8, 0, alpha=1)``) — *cloned* for every layer, so layers never share
  state;
* a QKeras quantizer string such as ``"quantized_bits(4,0,1)"`` (parsed by each layer);
* a dict ``{layer_name: spec or None}`` — layers not in the dict get ``None``;
* a callable ``factory(layer_name, shape) -> spec or None`` where ``shape`` is the kernel
  shape (``(kh, kw, c_in, c_out)`` or ``(n_in, n_out)``) for ``quantizer``, the bias shape
  ``(n_out,)`` for ``bias_quantizer``, and the output shape without batch axis for
  ``activation_quantizer``. Its results are used as returned (not cloned).
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, Mapping, Sequence, Tuple, Union

import tensorflow as tf
from qkeras import QActivation, QConv2D, QDense
from qkeras.quantizers import BaseQuantizer

QuantizerSpec = Union[None, str, BaseQuantizer, Mapping[str, Any], Callable[[str, Tuple[int, ...]], Any]]


# -- quantizer specifications ------------------------------------------------------------
def clone_quantizer(quantizer: Any) -> Any:
    """A fresh copy of ``quantizer`` (strings and ``None`` are returned as they are).

    Uses ``type(q).from_config(q.get_config())``; a QKeras quantizer whose config does not
    round-trip (``quantized_hswish`` in qkeras 0.9.0) is deep-copied instead.

    Args:
        quantizer: a quantizer instance, a QKeras quantizer string or ``None``.

    Returns:
        An equal quantizer that shares no state with ``quantizer``.

    Example:
        >>> from qkeras import quantized_bits
        >>> q = quantized_bits(8, 0, alpha=1)
        >>> clone_quantizer(q) is q
        False
    """
    if quantizer is None or isinstance(quantizer, str):
        return quantizer
    try:
        return type(quantizer).from_config(quantizer.get_config())
    except TypeError:
        return copy.deepcopy(quantizer)


class _Resolver:
    """Turns one quantizer specification into the quantizer of each named layer."""

    def __init__(self, argument: str, spec: QuantizerSpec):
        self.argument = argument
        self.spec = spec
        self.used: set = set()

    def __call__(self, layer_name: str, shape: Tuple[int, ...]) -> Any:
        spec = self.spec
        self.used.add(layer_name)
        if spec is None or isinstance(spec, (str, BaseQuantizer)) or hasattr(spec, "get_config"):
            return clone_quantizer(spec)
        if isinstance(spec, Mapping):
            return clone_quantizer(spec.get(layer_name))
        if callable(spec):
            return spec(layer_name, tuple(int(d) for d in shape))
        raise ValueError(f"{self.argument}={spec!r}: expected None, a quantizer, a QKeras quantizer "
                         "string, a dict {layer_name: quantizer} or a callable factory(layer_name, shape)")

    def check_names(self) -> None:
        """Reject dict keys that name no layer of the model (typos would silently stay float)."""
        if isinstance(self.spec, Mapping):
            unknown = sorted(set(self.spec) - self.used)
            if unknown:
                raise ValueError(f"{self.argument}: no layer named {unknown}; this model's layers are "
                                 f"{sorted(self.used)}")


class _Builder:
    """Adds named QKeras layers with resolved quantizers to a functional graph."""

    def __init__(self, quantizer: QuantizerSpec, bias_quantizer: QuantizerSpec,
                 activation_quantizer: QuantizerSpec):
        self.kernel = _Resolver("quantizer", quantizer)
        self.bias = _Resolver("bias_quantizer", bias_quantizer)
        self.activation = _Resolver("activation_quantizer", activation_quantizer)

    def conv(self, x: tf.Tensor, name: str, filters: int, kernel_size: int, padding: str) -> tf.Tensor:
        shape = (kernel_size, kernel_size, int(x.shape[-1]), filters)
        x = QConv2D(filters, kernel_size, padding=padding, name=name,
                    kernel_quantizer=self.kernel(name, shape),
                    bias_quantizer=self.bias(name, (filters,)))(x)
        return self.relu(x, f"{name}_act")

    def dense(self, x: tf.Tensor, name: str, units: int, relu: bool = True) -> tf.Tensor:
        shape = (int(x.shape[-1]), units)
        x = QDense(units, name=name, kernel_quantizer=self.kernel(name, shape),
                   bias_quantizer=self.bias(name, (units,)))(x)
        return self.relu(x, f"{name}_act") if relu else x

    def relu(self, x: tf.Tensor, name: str) -> tf.Tensor:
        quantizer = self.activation(name, tuple(x.shape[1:]))
        if quantizer is None:
            return tf.keras.layers.Activation("relu", name=name)(x)
        return QActivation(quantizer, name=name)(x)

    def finish(self, inputs: tf.Tensor, x: tf.Tensor, num_classes: int, model_name: str) -> tf.keras.Model:
        logits = self.dense(x, "logits", num_classes, relu=False)
        outputs = tf.keras.layers.Activation("softmax", name="softmax")(logits)
        for resolver in (self.kernel, self.bias, self.activation):
            resolver.check_names()
        return tf.keras.Model(inputs, outputs, name=model_name)


def _inputs(input_shape: Sequence[int], input_quantizer: Any) -> Tuple[tf.Tensor, tf.Tensor]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape={tuple(input_shape)!r}: expected (height, width, channels), all >= 1")
    inputs = tf.keras.Input(shape, name="image")
    if input_quantizer is None:
        return inputs, inputs
    return inputs, QActivation(clone_quantizer(input_quantizer), name="input_quant")(inputs)


def _check_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes={num_classes!r}: expected an int >= 2")
    return num_classes


# -- models -----------------------------------------------------------------------------
def lenet5(input_shape: Sequence[int] = (28, 28, 1), num_classes: int = 10, quantizer: QuantizerSpec = None,
           bias_quantizer: QuantizerSpec = None, activation_quantizer: QuantizerSpec = None,
           input_quantizer: Any = None) -> tf.keras.Model:
    """LeNet-5: conv 6@5x5, max-pool 2, conv 16@5x5, max-pool 2, fc 120, fc 84, logits.

    Padding adapts to the input so the classic geometry appears where it exists:

    ============  =========  =========  =========================================
    input H, W    conv1      conv2      feature maps
    ============  =========  =========  =========================================
    >= 32         valid      valid      32 -> 28 -> 14 -> 10 -> 5 (LeCun 1998)
    28 .. 31      same       valid      28 -> 28 -> 14 -> 10 -> 5 (= 32 padded)
    4 .. 27       same       same       8 -> 8 -> 4 -> 4 -> 2 for digits 8x8
    ============  =========  =========  =========================================

    For 28x28 and 32x32 inputs this has the classic 61,706 parameters. This project's
    choices: max pooling (the original used trainable sub-sampling), ReLU, and a full
    conv2 connection table.

    Args:
        input_shape: ``(H, W, C)`` with ``H, W >= 4``.
        num_classes: number of logits.
        quantizer: kernel quantizer spec (see the module docstring).
        bias_quantizer: bias quantizer spec.
        activation_quantizer: spec for the ``QActivation`` after each hidden layer
            (``None``: plain ReLU), e.g. ``"quantized_relu(8,3)"``.
        input_quantizer: optional quantizer of a first ``QActivation`` (``"input_quant"``)
            giving HLS the input grid, e.g. ``quantized_bits(8, 0, keep_negative=False)``.

    Returns:
        The uncompiled Keras model named ``"lenet5"``.

    Example:
        >>> from keras_wc import SWC
        >>> model = lenet5(quantizer=SWC(sw_bits=4, group="filter"))
        >>> model.count_params()
        61706
    """
    inputs, x = _inputs(input_shape, input_quantizer)
    side = min(int(d) for d in tuple(input_shape)[:2])
    if side < 4:
        raise ValueError(f"input_shape={tuple(input_shape)!r}: lenet5 needs height and width >= 4")
    builder = _Builder(quantizer, bias_quantizer, activation_quantizer)
    x = builder.conv(x, "conv1", 6, 5, "valid" if side >= 32 else "same")
    x = tf.keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = builder.conv(x, "conv2", 16, 5, "valid" if side >= 28 else "same")
    x = tf.keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = builder.dense(x, "fc1", 120)
    x = builder.dense(x, "fc2", 84)
    return builder.finish(inputs, x, _check_classes(num_classes), "lenet5")


def mlp(input_shape: Sequence[int] = (8, 8, 1), hidden: Sequence[int] = (64, 32), num_classes: int = 10,
        quantizer: QuantizerSpec = None, bias_quantizer: QuantizerSpec = None,
        activation_quantizer: QuantizerSpec = None, input_quantizer: Any = None) -> tf.keras.Model:
    """Multi-layer perceptron: Flatten, ``fc1 .. fcN`` (ReLU), logits.

    Args:
        input_shape: ``(H, W, C)``.
        hidden: units of each hidden layer (``fc1``, ``fc2``, ...); may be empty.
        num_classes: number of logits.
        quantizer: kernel quantizer spec (see the module docstring).
        bias_quantizer: bias quantizer spec.
        activation_quantizer: spec for the activation after each hidden layer.
        input_quantizer: optional quantizer of a first ``QActivation`` (``"input_quant"``).

    Returns:
        The uncompiled Keras model named ``"mlp"``.

    Example:
        >>> model = mlp(hidden=(64, 32), quantizer="quantized_bits(4,0,1)")
        >>> [layer.name for layer in model.layers if layer.name.startswith("fc")]
        ['fc1', 'fc1_act', 'fc2', 'fc2_act']
    """
    units = tuple(hidden)
    if any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in units):
        raise ValueError(f"hidden={tuple(hidden)!r}: expected a sequence of ints >= 1")
    inputs, x = _inputs(input_shape, input_quantizer)
    builder = _Builder(quantizer, bias_quantizer, activation_quantizer)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    for index, width in enumerate(units, start=1):
        x = builder.dense(x, f"fc{index}", width)
    return builder.finish(inputs, x, _check_classes(num_classes), "mlp")


def vgg_small(input_shape: Sequence[int] = (32, 32, 3), num_classes: int = 10,
              filters: Sequence[int] = (16, 32, 64), dense_units: int = 64, quantizer: QuantizerSpec = None,
              bias_quantizer: QuantizerSpec = None, activation_quantizer: QuantizerSpec = None,
              input_quantizer: Any = None) -> tf.keras.Model:
    """Small VGG-style CNN: per block two 3x3 'same' convolutions and a 2x2 max-pool.

    With the defaults on 32x32x3: ``conv1, conv2`` (16) -> pool -> ``conv3, conv4`` (32)
    -> pool -> ``conv5, conv6`` (64) -> pool -> 4x4x64 -> ``fc1`` (64) -> ``logits``.
    The widths are this project's choice, sized for C simulation rather than accuracy.

    Args:
        input_shape: ``(H, W, C)``; H and W must be divisible by ``2**len(filters)``.
        num_classes: number of logits.
        filters: output channels of each block (two convolutions per block).
        dense_units: units of ``fc1``.
        quantizer: kernel quantizer spec (see the module docstring).
        bias_quantizer: bias quantizer spec.
        activation_quantizer: spec for the activation after each hidden layer.
        input_quantizer: optional quantizer of a first ``QActivation`` (``"input_quant"``).

    Returns:
        The uncompiled Keras model named ``"vgg_small"``.

    Example:
        >>> vgg_small().get_layer("conv6").output_shape
        (None, 8, 8, 64)
    """
    widths = tuple(filters)
    if not widths or any(isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in widths):
        raise ValueError(f"filters={tuple(filters)!r}: expected a non-empty sequence of ints >= 1")
    step = 2 ** len(widths)
    if any(int(d) % step for d in tuple(input_shape)[:2]):
        raise ValueError(f"input_shape={tuple(input_shape)!r}: height and width must be divisible by "
                         f"{step} (2 ** len(filters))")
    inputs, x = _inputs(input_shape, input_quantizer)
    builder = _Builder(quantizer, bias_quantizer, activation_quantizer)
    for block, width in enumerate(widths):
        x = builder.conv(x, f"conv{2 * block + 1}", width, 3, "same")
        x = builder.conv(x, f"conv{2 * block + 2}", width, 3, "same")
        x = tf.keras.layers.MaxPooling2D(2, name=f"pool{block + 1}")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = builder.dense(x, "fc1", int(dense_units))
    return builder.finish(inputs, x, _check_classes(num_classes), "vgg_small")


#: the models :func:`build` knows
MODELS: Dict[str, Callable[..., tf.keras.Model]] = {"lenet5": lenet5, "mlp": mlp, "vgg_small": vgg_small}


def build(name: str, **kwargs: Any) -> tf.keras.Model:
    """Build reference model ``name`` with the model function's keyword arguments.

    Args:
        name: one of :data:`MODELS` (``"lenet5"``, ``"mlp"``, ``"vgg_small"``).
        **kwargs: passed to the model function.

    Returns:
        The uncompiled Keras model.

    Example:
        >>> build("lenet5", input_shape=(8, 8, 1)).output_shape
        (None, 10)
    """
    if name not in MODELS:
        raise ValueError(f"model {name!r}: unknown; expected one of {list(MODELS)}")
    return MODELS[name](**kwargs)


def logits_model(model: tf.keras.Model) -> tf.keras.Model:
    """The same model (shared weights) truncated at its ``"logits"`` layer.

    Args:
        model: a model with a layer named ``"logits"`` (every model of this module).

    Returns:
        A Keras model from ``model``'s inputs to the pre-softmax logits.

    Example:
        >>> model = mlp()
        >>> logits_model(model).output_shape
        (None, 10)
    """
    names = [layer.name for layer in model.layers]
    if "logits" not in names:
        raise ValueError(f"model {model.name!r} has no layer named 'logits'; its layers are {names}")
    return tf.keras.Model(model.inputs, model.get_layer("logits").output, name=f"{model.name}_logits")
