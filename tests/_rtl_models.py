"""Models of the RTL tests and of the yosys calibration (benchmarks/rtl_calibration.py): every method in
an MLP, three CNNs that stream, two branching models, and one Dense layer per kernel quantizer."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from qkeras import QActivation, QConv1D, QConv2D, QDense, QDepthwiseConv2D

from keras_wc.quantizers import DFP, SWC, PolyApprox, Po2, SparseTernary

#: the Dense quantizer of each method (and the 8-bit QKeras baseline), as the yosys comparison uses them
METHODS = {
    "baseline8": lambda: "quantized_bits(8,0,alpha=1)",
    "swc": lambda: SWC(sw_bits=4, group=8),
    "swc_po2": lambda: SWC(sw_bits=4, group=8, sw_format="po2"),
    "poly": lambda: PolyApprox(degree=1, levels=8, group="filter"),
    "dfp4": lambda: DFP(bits=4),
    "po2": lambda: Po2(bits=4),
    "ternary": lambda: SparseTernary(n=8, k=2),
}
#: each entry of METHODS as a benchmark row names it (benchmarks/rtl_hardware.py)
LABELS = {
    "baseline8": "QKeras quantized_bits 8-bit",
    "swc": "SWC fixed 4-bit, groups of 8",
    "swc_po2": "SWC po2 4-bit, groups of 8",
    "poly": "PolyApprox linear, 8 levels, per filter",
    "dfp4": "DFP 4-bit",
    "po2": "Po2 4-bit",
    "ternary": "SparseTernary (8,2)",
}


def mixed_model() -> tf.keras.Model:
    """Every method in one MLP, with a folded and a standalone BatchNormalization, ReLU, Dropout, Flatten."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((4, 4))
    x = tf.keras.layers.Flatten()(QActivation("quantized_relu(8,0)")(inputs))
    x = QActivation("quantized_relu(8,3)")(QDense(12, kernel_quantizer=SWC(sw_bits=4, group=4), name="swc")(x))
    x = QDense(10, kernel_quantizer=PolyApprox(degree=2, levels=4), name="poly")(x)
    x = QActivation("quantized_bits(8,2)")(tf.keras.layers.BatchNormalization(name="bn_folded")(x))
    x = QDense(9, kernel_quantizer=SparseTernary(n=4, k=1, normalize=True), name="ternary")(x)
    x = QActivation("quantized_relu(6,2)")(tf.keras.layers.Dropout(0.1)(x))
    x = QActivation("quantized_relu(6,2)")(QDense(8, kernel_quantizer=Po2(bits=4), name="po2")(x))
    x = tf.keras.layers.BatchNormalization(name="bn_alone")(x)
    x = QActivation("quantized_bits(8,3)")(tf.keras.layers.ReLU()(x))
    x = QActivation("quantized_bits(8,3)")(QDense(7, kernel_quantizer="quantized_bits(6,0,alpha=1)",
                                                  bias_quantizer="quantized_bits(8,2,alpha=1)", name="qkeras")(x))
    model = tf.keras.Model(inputs, QDense(5, kernel_quantizer=DFP(bits=6, per_channel=True), name="dfp")(x))
    rng = np.random.default_rng(1)
    for layer in model.layers:  # BatchNormalizations far from the identity
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 2, w.shape) if i in (0, 3) else rng.normal(0, 0.5, w.shape)
                               for i, w in enumerate(layer.get_weights())])
    return model


def conv_model() -> tf.keras.Model:
    """A 2-D CNN: 'same' SWC conv with a folded BatchNormalization, 'same' max pooling, a strided
    non-square SparseTernary conv, Flatten, Dense."""
    tf.keras.utils.set_random_seed(0)
    layers = tf.keras.layers
    inputs = tf.keras.Input((7, 6, 2))
    x = QActivation("quantized_relu(8,0)")(inputs)
    x = QConv2D(3, 3, padding="same", kernel_quantizer=SWC(sw_bits=4, group="kernel"), name="conv1")(x)
    x = QActivation("quantized_relu(8,3)")(layers.BatchNormalization(name="bn1")(x))
    x = layers.MaxPooling2D(2, padding="same", name="pool1")(x)
    x = QConv2D(4, (2, 3), strides=(1, 2), kernel_quantizer=SparseTernary(n=4, k=1), name="conv2")(x)
    x = layers.Flatten()(QActivation("quantized_relu(6,2)")(x))
    return tf.keras.Model(inputs, QDense(5, kernel_quantizer=DFP(bits=6), name="fc")(x))


def depthwise_model() -> tf.keras.Model:
    """Depthwise conv (multiplier 2), average pooling, a pointwise PolyApprox conv, ReLU, global max pooling."""
    tf.keras.utils.set_random_seed(0)
    layers = tf.keras.layers
    inputs = tf.keras.Input((6, 6, 2))
    x = QActivation("quantized_relu(8,0)")(inputs)
    x = QDepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw",
                         depthwise_quantizer=Po2(bits=4, kernel_layout="depthwise"))(x)
    x = layers.AveragePooling2D(2, name="avg")(QActivation("quantized_bits(8,3)")(x))
    x = QConv2D(3, 1, kernel_quantizer=PolyApprox(degree=1, levels=4, group="filter"), name="pw")(x)
    return tf.keras.Model(inputs, layers.GlobalMaxPooling2D(name="gmp")(layers.ReLU()(x)))


def conv1d_model() -> tf.keras.Model:
    """Conv1D 'same' with stride 2 (SWC fixed), a QKeras quantized_bits Conv1D, ending on a map."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((9, 3))
    x = QActivation("quantized_relu(8,0)")(inputs)
    x = QConv1D(4, 3, strides=2, padding="same", kernel_quantizer=SWC(sw_bits=3, group="kernel"), name="c1")(x)
    x = QActivation("quantized_relu(8,3)")(x)
    return tf.keras.Model(inputs, QConv1D(2, 2, kernel_quantizer="quantized_bits(6,0,alpha=1)", name="c2")(x))


def branch_mlp() -> tf.keras.Model:
    """A residual MLP: ``add(a - b, a)`` with ``b`` an SWC Dense of ``a`` (a branch of two layers, two merges),
    then a SparseTernary Dense with power-of-two deltas."""
    tf.keras.utils.set_random_seed(1)
    inputs = tf.keras.Input((12,))
    x = QActivation("quantized_relu(8,0)")(inputs)
    a = QActivation("quantized_relu(6,2)", name="a")(QDense(8, kernel_quantizer=DFP(bits=4), name="fc1")(x))
    b = QDense(8, kernel_quantizer=SWC(sw_bits=4, group=4), name="fc2")(a)
    b = QActivation("quantized_bits(6,2,alpha=1)", name="b")(b)
    x = tf.keras.layers.Add(name="add")([tf.keras.layers.Subtract(name="sub")([a, b]), a])
    return tf.keras.Model(inputs, QDense(5, kernel_quantizer=SparseTernary(n=4, k=2, delta_format="po2"),
                                         name="fc3")(x))


def branch_cnn() -> tf.keras.Model:
    """Per-pixel branches of a streamed map: max(x, BN(x)) concatenated with a pointwise DFP conv of x,
    then max pooling and a Dense (the BatchNormalization's statistics set away from the identity)."""
    tf.keras.utils.set_random_seed(2)
    layers = tf.keras.layers
    inputs = tf.keras.Input((6, 6, 2))
    x = QActivation("quantized_relu(8,0)")(inputs)
    x = QConv2D(4, 3, padding="same", kernel_quantizer=SWC(sw_bits=4, group=4), name="conv")(x)
    x = QActivation("quantized_relu(6,2)", name="conv_act")(x)
    norm = layers.BatchNormalization(name="bn")
    y = QActivation("quantized_bits(6,2,alpha=1)", name="bn_act")(norm(x))
    z = QActivation("quantized_relu(5,2)", name="pw_act")(QConv2D(3, 1, kernel_quantizer=DFP(bits=4), name="pw")(x))
    x = layers.Concatenate(name="cat")([layers.Maximum(name="max")([x, y]), z])
    model = tf.keras.Model(inputs, QDense(4, kernel_quantizer=DFP(bits=4), name="fc")(
        layers.Flatten()(layers.MaxPooling2D(2, name="pool")(x))))
    norm.set_weights([np.random.default_rng(2).uniform(0.5, 1.5, w.shape).astype(np.float32)
                      for w in norm.get_weights()])
    return model


def single_layer(quantizer, n_in: int, n_out: int, seed: int = 1) -> tf.keras.Model:
    """``QActivation -> QDense(n_in -> n_out)`` with the given kernel quantizer (same seed for every method)."""
    tf.keras.utils.set_random_seed(seed)
    inputs = tf.keras.Input((n_in,))
    x = QActivation("quantized_relu(8,0)")(inputs)
    return tf.keras.Model(inputs, QDense(n_out, kernel_quantizer=quantizer,
                                         bias_quantizer="quantized_bits(8,0,alpha=1)", name="fc")(x))
