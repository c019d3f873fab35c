"""Save/load round trips (h5, SavedModel, qkeras.utils.load_qmodel) and qkeras.get_quantizer."""

from __future__ import annotations

import numpy as np
import pytest
import qkeras
import tensorflow as tf
from qkeras.utils import load_qmodel

import keras_wc
from keras_wc.quantizers import QUANTIZERS, register

IDS = [cls.__name__ for cls in QUANTIZERS]


def _tiny_model(cls, make_quantizer) -> tf.keras.Model:
    """QConv2D(5x5, so SWC's group='kernel' applies) -> QDense, both with ``cls``."""
    bias = {"bias_quantizer": cls(bits=8)} if cls.__name__ in ("DFP", "Po2") else {}
    inputs = tf.keras.Input((8, 8, 2))
    x = qkeras.QConv2D(3, 5, kernel_quantizer=make_quantizer(cls, "conv"), name="conv", **bias)(inputs)
    x = tf.keras.layers.Flatten()(x)
    outputs = qkeras.QDense(4, kernel_quantizer=make_quantizer(cls, "dense"), name="dense", **bias)(x)
    return tf.keras.Model(inputs, outputs)


@pytest.fixture
def model_and_input(request, make_quantizer, rng):
    model = _tiny_model(request.param, make_quantizer)
    return model, rng.standard_normal((3, 8, 8, 2)).astype(np.float32)


def _same_quantizers(a: tf.keras.Model, b: tf.keras.Model) -> None:
    for name in ("conv", "dense"):
        qa, qb = a.get_layer(name).kernel_quantizer_internal, b.get_layer(name).kernel_quantizer_internal
        assert type(qa) is type(qb) and qa.get_config() == qb.get_config()


@pytest.mark.parametrize("model_and_input", QUANTIZERS, ids=IDS, indirect=True)
@pytest.mark.parametrize("fmt", ["h5", "tf"])
def test_model_save_load_round_trip(model_and_input, fmt, tmp_path):
    """Both loaders: Keras with keras_wc.custom_objects(), and qkeras.utils.load_qmodel."""
    model, x = model_and_input
    path = str(tmp_path / ("model.h5" if fmt == "h5" else "saved"))
    model.save(path, save_format=fmt)
    expected = model.predict(x, verbose=0)
    for loaded in (tf.keras.models.load_model(path, custom_objects=keras_wc.custom_objects()),
                   load_qmodel(path, custom_objects=keras_wc.custom_objects())):
        _same_quantizers(model, loaded)
        assert np.array_equal(loaded.predict(x, verbose=0), expected)


@pytest.mark.parametrize("fmt", ["h5", "tf"])
def test_saved_model_carries_the_current_control_values(fmt, tmp_path):
    """A control lowered after construction (precision scaling) survives save/load."""
    kernel_q, bias_q = keras_wc.DFP(bits=8), keras_wc.Po2(bits=6)
    model = tf.keras.Sequential([tf.keras.Input((6,)),
                                 qkeras.QDense(3, kernel_quantizer=kernel_q, bias_quantizer=bias_q, name="dense")])
    kernel_q.bits, bias_q.bits = 3, 2
    path = str(tmp_path / ("m.h5" if fmt == "h5" else "saved"))
    model.save(path, save_format=fmt)
    layer = tf.keras.models.load_model(path, custom_objects=keras_wc.custom_objects()).get_layer("dense")
    assert (layer.kernel_quantizer_internal.bits, layer.bias_quantizer_internal.bits) == (3, 2)


@pytest.mark.parametrize("cls", QUANTIZERS, ids=IDS)
def test_qkeras_get_quantizer_rebuilds_from_config(cls):
    quantizer = cls(kernel_layout="depthwise")
    serialized = tf.keras.utils.serialize_keras_object(quantizer)
    assert serialized["class_name"] == cls.__name__
    for identifier in (serialized, {"class_name": cls.__name__, "config": quantizer.get_config()}):
        rebuilt = qkeras.get_quantizer(identifier)
        assert type(rebuilt) is cls and rebuilt.get_config() == quantizer.get_config()
    # what a QKeras layer writes in its config is what hls4ml passes to get_quantizer
    layer_quantizer = cls(**({"group": 4} if cls.__name__ == "SWC" else {}))
    layer_config = qkeras.QDense(2, kernel_quantizer=layer_quantizer).get_config()
    assert type(qkeras.get_quantizer(layer_config["kernel_quantizer"])) is cls


def test_custom_objects_holds_keras_wc_and_qkeras_objects():
    objects = keras_wc.custom_objects()
    for cls in QUANTIZERS:
        assert objects[cls.__name__] is cls and objects[f"keras_wc>{cls.__name__}"] is cls
    assert objects["QDense"] is qkeras.QDense and objects["quantized_bits"] is qkeras.quantized_bits
    assert keras_wc.custom_objects() is not objects  # a fresh dict each call


def test_registration_is_idempotent():
    for cls in QUANTIZERS:
        assert register(register(cls)) is cls
        assert tf.keras.utils.get_registered_object(f"keras_wc>{cls.__name__}") is cls
        assert tf.keras.utils.get_registered_name(cls) == f"keras_wc>{cls.__name__}"
