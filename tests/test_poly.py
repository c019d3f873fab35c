"""PolyApprox: buckets of the rank, exact polynomial values, least squares, freezing, storage."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _digits_mlp import train_digits_mlp
from keras_wc.quantizers import PolyApprox
from keras_wc.quantizers.ops import NP

ODD_CASES = [  # (constructor kwargs, kernel shape)
    ({"degree": 1, "levels": 16, "group": 8}, (37, 10)),
    ({"degree": 2, "levels": 16, "group": 16}, (3, 3, 7, 5)),
    ({"degree": 2, "levels": 8, "group": "layer"}, (37, 10)),
    ({"degree": 1, "levels": 4, "kernel_layout": "depthwise"}, (3, 3, 4, 2)),
    ({"degree": 2, "levels": 32, "group": "filter"}, (5, 5, 6, 16)),
]


def _coef_groups(encoding):
    """Yield (codes, values, coef) per coefficient group, real weights only."""
    values = PolyApprox.from_config(encoding.config)._decode_grouped(encoding.arrays, encoding.params,
                                                                     encoding.layout, NP)
    codes, coef = encoding.arrays["codes"], encoding.arrays["coef"]
    valid = np.broadcast_to(encoding.layout.valid(), codes.shape)
    if coef.shape[0] == 1 and coef.shape[1] == 1:  # "layer"
        yield codes[valid], values[valid], coef[0, 0]
        return
    for o in range(codes.shape[0]):
        for g in range(codes.shape[1]):
            mask = valid[o, g]
            yield codes[o, g][mask], values[o, g][mask], coef[o, g]


@pytest.mark.parametrize("kwargs,shape", ODD_CASES)
def test_decode_of_encode_is_call_bit_for_bit_on_odd_shapes(kwargs, shape, rng):
    q = PolyApprox(**kwargs)
    w = rng.standard_normal(shape).astype(np.float32)
    assert np.array_equal(q.decode(q.encode(w)), q(w).numpy())
    assert np.array_equal(q.decode(q.encode(w)), tf.function(q)(tf.constant(w)).numpy())


@pytest.mark.parametrize("kwargs,shape", ODD_CASES)
def test_values_lie_on_a_polynomial_of_the_declared_degree(kwargs, shape, rng):
    q = PolyApprox(**kwargs)
    w = rng.standard_normal(shape).astype(np.float32)
    encoding = q.encode(w)
    frac = encoding.params["coef_frac"]
    for codes, values, coef in _coef_groups(encoding):
        assert len(np.unique(values)) <= q.levels
        assert codes.min() >= 0 and codes.max() < q.levels
        # refit exactly: integer coefficients of the declared degree reproduce every value
        k = codes.astype(np.int64)
        numerator = sum(int(c) * k ** j for j, c in enumerate(coef))
        assert np.array_equal(values, (numerator * 2.0 ** -frac).astype(np.float32))
        distinct = np.unique(k)
        if len(distinct) > q.degree:  # enough points to pin the polynomial down
            basis = np.vander(k.astype(np.float64), q.degree + 1, increasing=True)
            fit, *_ = np.linalg.lstsq(basis, values.astype(np.float64), rcond=None)
            assert np.allclose(basis @ fit, values, rtol=0, atol=1e-6 * max(1.0, np.abs(values).max()))


@pytest.mark.parametrize("kwargs,shape", ODD_CASES)
def test_buckets_are_equal_population_ranks_excluding_padding(kwargs, shape, rng):
    q = PolyApprox(**kwargs)
    w = rng.standard_normal(shape).astype(np.float32)
    encoding = q.encode(w)
    layout = encoding.layout
    grouped = np.asarray(layout.to_groups(w, NP))
    valid = np.broadcast_to(layout.valid(), grouped.shape)
    codes = encoding.arrays["codes"]
    rows = [(grouped[valid], codes[valid])] if q.group == "layer" else [
        (grouped[o, g][valid[o, g]], codes[o, g][valid[o, g]])
        for o in range(grouped.shape[0]) for g in range(grouped.shape[1])]
    for values, got in rows:
        rank = np.empty(len(values), np.int64)
        rank[np.argsort(values, kind="stable")] = np.arange(len(values))
        assert np.array_equal(got, rank * q.levels // len(values))
    assert not np.any(codes[~valid]), "padding must hold code 0"


def test_coefficients_are_the_least_squares_fit_up_to_one_lsb(rng):
    q = PolyApprox(degree=2, levels=16, group="filter")
    w = rng.standard_normal((50, 4)).astype(np.float32)
    encoding = q.encode(w)
    frac = encoding.params["coef_frac"]
    for o in range(4):
        k = encoding.arrays["codes"][o, 0].astype(np.float64)
        best, *_ = np.linalg.lstsq(np.vander(k, 3, increasing=True), w[:, o].astype(np.float64), rcond=None)
        stored = encoding.arrays["coef"][o, 0] * 2.0 ** -frac
        assert np.all(np.abs(stored - best) <= 2.0 ** -frac)


def test_degree_one_is_monotone_in_rank_with_nonnegative_slope(rng):
    q = PolyApprox(degree=1, levels=16, group=16)
    w = rng.standard_normal((3, 3, 7, 5)).astype(np.float32)
    encoding = q.encode(w)
    assert np.all(encoding.arrays["coef"][..., 1] >= 0)
    out = q(w).numpy()
    for o in range(5):
        fan_in = w[..., o].ravel()
        for start in range(0, fan_in.size, 16):
            chunk = slice(start, start + 16)
            order = np.argsort(fan_in[chunk], kind="stable")
            assert np.all(np.diff(out[..., o].ravel()[chunk][order]) >= 0)


def test_layer_group_shares_one_coefficient_set(rng):
    q = PolyApprox(degree=2, levels=8, group="layer")
    w = rng.standard_normal((5, 5, 6, 16)).astype(np.float32)
    encoding = q.encode(w)
    assert encoding.arrays["coef"].shape == (1, 1, 3)
    assert len(np.unique(q(w).numpy())) <= 8
    assert q.parameter_count(w.shape) == 3
    assert PolyApprox(degree=1, levels=16).parameter_count((5, 5, 6, 16)) == 16 * 2
    assert PolyApprox(degree=1, levels=16, group=25).parameter_count((5, 5, 6, 16)) == 16 * 6 * 2


def test_freeze_keeps_assignments_while_weights_and_coefficients_move(rng):
    q = PolyApprox(degree=1, levels=8)
    w0 = rng.standard_normal((20, 3)).astype(np.float32)
    w1 = rng.standard_normal((20, 3)).astype(np.float32)  # a different ranking
    assert not np.array_equal(q.encode(w0).arrays["codes"], q.encode(w1).arrays["codes"])
    q.freeze(tf.Variable(w0))
    assert q.frozen
    frozen = q.encode(w1)
    assert np.array_equal(frozen.arrays["codes"], q.encode(w0).arrays["codes"])
    assert not np.array_equal(frozen.arrays["coef"], q.encode(w0).arrays["coef"])
    assert np.array_equal(q.decode(frozen), q(w1).numpy())
    q.unfreeze()
    assert not q.frozen
    assert not np.array_equal(q.encode(w1).arrays["codes"], frozen.arrays["codes"])


def test_freeze_switches_inside_fit_without_retrace(rng):
    q = PolyApprox(degree=1, levels=8)
    kernel = tf.Variable(rng.standard_normal((20, 3)).astype(np.float32))
    traces = []

    @tf.function
    def step():
        traces.append(1)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(3.0 * q(kernel)))
        kernel.assign_sub(0.5 * tape.gradient(loss, kernel))
        return q(kernel)

    step()
    q.freeze(kernel)
    codes = q.encode(kernel).arrays["codes"]
    before = kernel.numpy()
    for _ in range(3):
        step()
    assert len(traces) == 1
    assert not np.allclose(kernel.numpy(), before)
    assert np.array_equal(q.encode(kernel).arrays["codes"], codes)
    q.unfreeze()
    step()
    assert len(traces) == 1


def test_frozen_assignment_survives_save_and_load(digits, tmp_path):
    import keras_wc

    model, _ = train_digits_mlp(lambda: PolyApprox(degree=1, levels=8), digits, epochs=1)
    compressed = [layer for layer in model.layers if hasattr(layer, "kernel_quantizer_internal")]
    for layer in compressed:
        layer.kernel_quantizer_internal.freeze(layer.kernel)
    model.fit(digits[0], digits[1], epochs=1, verbose=0)  # weights move, buckets stay
    path = str(tmp_path / "poly.h5")
    model.save(path)
    loaded = tf.keras.models.load_model(path, custom_objects=keras_wc.custom_objects())
    for original in compressed:
        clone = loaded.get_layer(original.name)
        q, q2 = original.kernel_quantizer_internal, clone.kernel_quantizer_internal
        assert q2.frozen and str(q2).endswith("frozen=True)")
        assert np.array_equal(q2.encode(clone.kernel).arrays["codes"], q.encode(original.kernel).arrays["codes"])
    assert np.array_equal(loaded.predict(digits[2], verbose=0), model.predict(digits[2], verbose=0))


def test_memory_bits_and_parameter_count_by_hand():
    # 370 weights * 4-bit buckets + 10 fan-ins * 2 coefficients * 16 bits
    assert PolyApprox(1, 16).memory_bits((37, 10)) == 370 * 4 + 10 * 2 * 16
    # group=16 on 3x3x7 (63 -> 16+16+16+15): 4 groups per filter, 3 coefficients each
    assert PolyApprox(2, 16, group=16, coef_bits=12).memory_bits((3, 3, 7, 5)) == 315 * 4 + 5 * 4 * 3 * 12
    # "layer": one set of 3 coefficients; 5 levels need 3 bits
    assert PolyApprox(2, 5, group="layer").memory_bits((37, 10)) == 370 * 3 + 3 * 16
    # depthwise 3x3x4x2: 8 fan-ins of 9
    assert PolyApprox(1, 4, kernel_layout="depthwise").memory_bits((3, 3, 4, 2)) == 72 * 2 + 8 * 2 * 16
    # LeNet-5 conv2 (5x5x6x16) with one linear set per layer: 2400 weights -> 2 coefficients
    assert PolyApprox(1, 16, group="layer").parameter_count((5, 5, 6, 16)) == 2


def test_qkeras_niceties():
    q = PolyApprox(degree=2, levels=10)
    assert q.bits == 4 and q.max() == 9.0 and q.min() == 0.0
    assert str(q) == "PolyApprox(degree=2,levels=10,group='filter',coef_bits=16)"
    assert PolyApprox.from_config(q.get_config()).get_config() == q.get_config()


@pytest.mark.parametrize("kwargs,argument", [
    ({"levels": 1}, "levels"), ({"levels": 4097}, "levels"), ({"degree": 0}, "degree"), ({"degree": 3}, "degree"),
    ({"group": "kernel"}, "group"), ({"group": "bogus"}, "group"), ({"group": 0}, "group"),
    ({"coef_bits": 1}, "coef_bits"), ({"coef_bits": 25}, "coef_bits"),
    ({"degree": 2, "levels": 4096, "coef_bits": 16}, "coef_bits"),  # a + b*k + c*k**2 would overflow int32
    ({"kernel_layout": "nchw"}, "kernel_layout"),
    ({"levels": 4, "frozen_assignment": [0, 4]}, "frozen_assignment"),
])
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{argument}="):
        PolyApprox(**kwargs)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(degree=st.sampled_from([1, 2]), levels=st.integers(2, 64), group=st.one_of(st.sampled_from(["filter", "layer"]),
       st.integers(1, 20)), coef_bits=st.integers(4, 16), shape=st.sampled_from([(37, 3), (3, 3, 7, 2), (1, 4), (9,)]),
       seed=st.integers(0, 1000), ties=st.booleans())
def test_round_trip_over_settings(degree, levels, group, coef_bits, shape, seed, ties):
    q = PolyApprox(degree=degree, levels=levels, group=group, coef_bits=coef_bits)
    w = np.random.default_rng(seed).standard_normal(shape)
    w = (np.round(w * 2) / 2 if ties else w).astype(np.float32)
    encoding = q.encode(w)
    assert np.array_equal(q.decode(encoding), q(w).numpy())
    assert encoding.memory_bits == q.memory_bits(shape)


def test_digits_mlp_reaches_accuracy(digits):
    _, accuracy = train_digits_mlp(lambda: PolyApprox(degree=1, levels=16), digits)
    assert accuracy > 0.9
