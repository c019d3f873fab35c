"""The small SWC + SparseTernary MLP and on-grid inputs shared by the HLS backend and output-safety tests."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from qkeras import QActivation, QDense

from keras_wc.quantizers import SWC, SparseTernary

INPUT_FORMAT = "ufixed<8,0>"


def small_model(seed: int = 0) -> tf.keras.Model:
    """``QDense(SWC) -> quantized_relu -> QDense(SparseTernary)`` on 12 inputs, seeded."""
    tf.keras.utils.set_random_seed(seed)
    inp = tf.keras.Input((12,), name="x")
    h = QDense(6, kernel_quantizer=SWC(sw_bits=4, group=5), name="fc1")(inp)
    h = QActivation("quantized_relu(8,3)", name="fc1_act")(h)
    out = QDense(3, kernel_quantizer=SparseTernary(n=4, k=1), name="logits")(h)
    return tf.keras.Model(inp, out)


def on_grid_inputs() -> np.ndarray:
    """20 samples on the declared ufixed<8,0> grid (convert refuses others unless quantize_inputs=True)."""
    return (np.random.default_rng(0).integers(0, 256, (20, 12)) / 256).astype(np.float32)
