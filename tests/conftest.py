"""Shared test fixtures: quiet TensorFlow, two logical CPUs, a seeded rng, the digits data.

The two logical CPU devices must be configured before TensorFlow initializes its devices,
so it happens here at import time (pytest imports ``conftest.py`` before any test module).
Every test may then use ``tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")

try:
    _cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        _cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
except RuntimeError:  # devices already initialized by an earlier import: keep what exists
    pass

#: the two logical CPUs for MirroredStrategy tests (skip them if they could not be made)
MIRRORED_DEVICES = ["/cpu:0", "/cpu:1"]


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded numpy generator (each test gets the same stream)."""
    return np.random.default_rng(20240601)


@pytest.fixture(scope="session")
def digits():
    """sklearn's 8x8 digits: ``(x_train, y_train, x_test, y_test)``, x in [0, 1], float32."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.8 * len(x))
    return x[:split], y[:split], x[split:], y[split:]


@pytest.fixture(scope="session")
def mirrored_strategy() -> tf.distribute.Strategy:
    """MirroredStrategy over the two logical CPUs, one for the whole session.

    TensorFlow numbers collective operations per process; several strategies in one process
    can reuse an instance key and abort each other's all-reduce ("Shape mismatch in the
    collective instance"), so every test shares this one.
    """
    if len(tf.config.list_logical_devices("CPU")) < 2:
        pytest.skip("two logical CPU devices could not be configured")
    return tf.distribute.MirroredStrategy(MIRRORED_DEVICES)


#: constructor overrides where a method's default does not fit a Dense kernel
DENSE_OVERRIDES = {"SWC": {"group": "filter"}}


@pytest.fixture
def make_quantizer():
    """``make_quantizer(cls, kind)``: a default instance of ``cls`` for a ``"dense"`` or ``"conv"`` kernel."""

    def make(cls, kind: str = "dense"):
        return cls(**(DENSE_OVERRIDES.get(cls.__name__, {}) if kind == "dense" else {}))

    return make
