"""SparseTernary: canonical codebook, L2-optimal encoder, active_k, normalize, storage."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _digits_mlp import train_digits_mlp
from keras_wc.methods import method_of
from keras_wc.quantizers import SparseTernary
from keras_wc.quantizers.ops import NP
from keras_wc.quantizers.ternary_codebook import code_bits, pattern_count, pattern_index, pattern_table

ODD_CASES = [  # (constructor kwargs, kernel shape)
    ({"n": 8, "k": 2}, (37, 10)),
    ({"n": 16, "k": 3, "scale": "layer"}, (3, 3, 7, 5)),
    ({"n": 4, "k": 1, "normalize": True, "kernel_layout": "depthwise"}, (3, 3, 4, 2)),
    ({"n": 8, "k": 2, "normalize": True, "scale": "layer"}, (5, 7)),  # fan-in shorter than n
    ({"n": 8, "k": 2, "delta_format": "po2"}, (37, 10)),
    ({"n": 4, "k": 2, "delta_format": "po2", "scale": "layer"}, (3, 3, 7, 5)),
]


def _groups(q: SparseTernary, w: np.ndarray) -> np.ndarray:
    """Fan-in groups ``(n_out, n_groups, group_size)`` of ``w`` (zero padded)."""
    return np.asarray(q.layout_for(w.shape).to_groups(w, NP))


# -- codebook -------------------------------------------------------------------------
def test_codebook_4_1_spelled_out():
    assert pattern_table(4, 1).tolist() == [
        [0, 0, 0, 0],
        [1, 0, 0, 0], [-1, 0, 0, 0], [0, 1, 0, 0], [0, -1, 0, 0],
        [0, 0, 1, 0], [0, 0, -1, 0], [0, 0, 0, 1], [0, 0, 0, -1]]


def test_codebook_8_2_order_and_size():
    table = pattern_table(8, 2)
    assert table.shape == (129, 8) and table.dtype == np.int8
    assert pattern_count(8, 2) == 1 + 8 * 2 + 28 * 4 and code_bits(8, 2) == 8
    e = np.eye(8, dtype=np.int8)
    assert np.array_equal(table[0], np.zeros(8))
    assert np.array_equal(table[1], e[0]) and np.array_equal(table[2], -e[0]) and np.array_equal(table[16], -e[7])
    # pairs: positions (0,1) first, signs counted in binary with position 0 as the top bit
    assert np.array_equal(table[17:21], [e[0] + e[1], e[0] - e[1], -e[0] + e[1], -e[0] - e[1]])
    assert np.array_equal(table[21], e[0] + e[2])  # next combination: (0,2)
    assert np.array_equal(table[128], -e[6] - e[7])  # last combination (6,7), both negative
    assert len({row.tobytes() for row in table}) == 129
    assert np.array_equal(pattern_table(8, 3)[:129], table), "(n,k) must be a prefix of (n,k+1)"


@pytest.mark.parametrize("n,k", [(4, 1), (4, 4), (8, 2), (5, 3), (16, 2)])
def test_pattern_index_inverts_the_table(n, k):
    table = pattern_table(n, k)
    assert np.array_equal(pattern_index(tf.constant(table)).numpy(), np.arange(len(table)))


# -- structure and optimality ---------------------------------------------------------
@pytest.mark.parametrize("kwargs,shape", ODD_CASES)
def test_decode_of_encode_is_call_bit_for_bit_on_odd_shapes(kwargs, shape, rng):
    q = SparseTernary(**kwargs)
    w = rng.standard_normal(shape).astype(np.float32)
    encoding = q.encode(w)
    assert np.array_equal(q.decode(encoding), q(w).numpy())
    assert np.array_equal(q.decode(encoding), tf.function(q)(tf.constant(w)).numpy())
    assert encoding.arrays["codes"].shape == encoding.layout.grouped_shape[:2]
    assert np.array_equal(encoding.table, pattern_table(q.n, q.k))


@pytest.mark.parametrize("kwargs,shape", ODD_CASES)
def test_at_most_k_nonzeros_of_equal_magnitude_per_group(kwargs, shape, rng):
    q = SparseTernary(**kwargs)
    w = rng.standard_normal(shape).astype(np.float32)
    encoding = q.encode(w)
    out = _groups(q, q(w).numpy())
    if q.normalize:
        out = out - (encoding.arrays["mean"] * 2.0 ** -encoding.params["delta_frac"])[:, None, None]
    valid = encoding.layout.valid()
    nonzero = (out != 0) & valid
    assert nonzero.sum(axis=2).max() <= q.k
    assert nonzero.sum() > 0
    scopes = [np.s_[:]] if q.scale == "layer" else list(range(out.shape[0]))  # one delta per scope
    for scope in scopes:
        assert len(np.unique(np.abs(out[scope][nonzero[scope]]))) <= 1


@pytest.mark.parametrize("normalize", [False, True])
def test_encoder_is_l2_optimal_for_its_delta_against_brute_force(normalize, rng):
    q = SparseTernary(n=4, k=2, normalize=normalize)
    table = pattern_table(4, 2).astype(np.float64)
    w = (rng.standard_normal((16, 6)) * rng.uniform(0.1, 2.0, 6) + 0.3).astype(np.float32)
    encoding = q.encode(w)
    frac = encoding.params["delta_frac"]
    delta = encoding.arrays["delta"] * 2.0 ** -frac
    mean = encoding.arrays["mean"] * 2.0 ** -frac if normalize else np.zeros(6)
    groups = _groups(q, w).astype(np.float64) - mean[:, None, None]
    chosen = table[encoding.arrays["codes"]]
    for o in range(6):
        errors = ((groups[o][:, None, :] - delta[o] * table[None]) ** 2).sum(-1)  # (groups, patterns)
        got = ((groups[o] - delta[o] * chosen[o]) ** 2).sum(-1)
        assert np.allclose(got, errors.min(axis=1), rtol=0, atol=1e-9)


def test_delta_is_the_least_squares_scale_of_the_chosen_patterns(rng):
    q = SparseTernary(n=8, k=2)
    w = rng.standard_normal((64, 5)).astype(np.float32)
    encoding = q.encode(w)
    frac = encoding.params["delta_frac"]
    t = pattern_table(8, 2)[encoding.arrays["codes"]].astype(np.float64)  # (5, 8, 8)
    groups = _groups(q, w)
    best = (groups * t).sum(axis=(1, 2)) / (t * t).sum(axis=(1, 2))
    # the alternating least squares has converged: re-fitting delta moves it by < 1%
    assert np.allclose(encoding.arrays["delta"] * 2.0 ** -frac, best, rtol=0.01)


@pytest.mark.parametrize("scale", ["channel", "layer"])
def test_po2_delta_is_the_nearest_power_of_two_in_squared_error(scale, rng):
    """delta_format='po2': no delta array, one exponent per scale: the least-squares ``delta`` (read
    from a 24-bit fixed-format encoding) rounded to the power of two with the smaller squared error
    for its patterns (up from ``2**e`` exactly when ``delta >= 1.5 * 2**e``), and the stored patterns
    L2-optimal for that power of two."""
    w = (rng.standard_normal((64, 6)) * rng.uniform(0.01, 3.0, 6)).astype(np.float32)
    q = SparseTernary(n=8, k=2, scale=scale, delta_format="po2")
    encoding = q.encode(w)
    assert set(encoding.arrays) == {"codes"}
    assert encoding.params["delta_frac"].shape == ((6,) if scale == "channel" else (1,))
    fixed = SparseTernary(n=8, k=2, scale=scale, scale_bits=24).encode(w)
    least_squares = fixed.arrays["delta"] * 2.0 ** -fixed.params["delta_frac"]
    e = np.floor(np.log2(least_squares))
    assert np.array_equal(-encoding.params["delta_frac"], e + (least_squares >= 1.5 * 2.0 ** e))
    stored = np.broadcast_to(2.0 ** -encoding.params["delta_frac"].astype(np.float64), (6,))
    groups, table = _groups(q, w).astype(np.float64), pattern_table(8, 2).astype(np.float64)
    chosen = table[encoding.arrays["codes"]]
    for o in range(6):
        errors = ((groups[o][:, None, :] - stored[o] * table[None]) ** 2).sum(-1)
        assert np.allclose(((groups[o] - stored[o] * chosen[o]) ** 2).sum(-1), errors.min(axis=1), rtol=0, atol=1e-9)
    assert np.array_equal(q.decode(encoding), q(w).numpy())


def test_po2_delta_is_multiplication_free_and_refuses_normalize(rng):
    encoding = SparseTernary(n=8, k=2, delta_format="po2").encode(rng.standard_normal((64, 5)).astype(np.float32))
    cost = method_of(encoding).cost(encoding)
    assert cost.full_mults == 0 and cost.shift_adds > 0
    assert method_of(encoding).processor_multipliers(encoding) == (0, 0)
    fixed = SparseTernary(n=8, k=2).encode(rng.standard_normal((64, 5)).astype(np.float32))
    assert method_of(fixed).cost(fixed).full_mults == 5
    assert SparseTernary.from_config(SparseTernary(delta_format="po2").get_config()).delta_format == "po2"
    assert "delta_format" not in SparseTernary().get_config()
    with pytest.raises(ValueError, match="^delta_format='po2': not with normalize=True"):
        SparseTernary(normalize=True, delta_format="po2")


def test_encoder_is_deterministic_with_ties(rng):
    q = SparseTernary(n=8, k=2)
    w = (rng.integers(-2, 3, (40, 6)) / 2.0).astype(np.float32)
    first, second = q.encode(w), q.encode(w)
    assert np.array_equal(first.arrays["codes"], second.arrays["codes"])
    assert np.array_equal(q.decode(first), q(w).numpy())


# -- controls and options --------------------------------------------------------------
def test_active_k_caps_nonzeros_without_retrace_and_guards_encode(rng):
    q = SparseTernary(n=8, k=2, active_k=8)
    kernel = tf.Variable(rng.standard_normal((64, 4)).astype(np.float32))
    traces = []

    @tf.function
    def forward():
        traces.append(1)
        return q(kernel)

    def nonzeros():
        return (_groups(q, forward().numpy()) != 0).sum(axis=2)

    assert nonzeros().max() > 2
    with pytest.raises(ValueError, match="active_k=8 exceeds k=2"):
        q.encode(kernel)
    for active in (4, 2, 1):
        q.set_control("active_k", active)
        assert nonzeros().max() <= active
    assert len(traces) == 1
    assert q.get_config()["active_k"] == 1
    assert np.array_equal(q.decode(q.encode(kernel)), forward().numpy())


def test_normalize_removes_the_fan_in_mean(rng):
    w = (1.0 + 0.1 * rng.standard_normal((32, 4))).astype(np.float32)
    plain, normalized = SparseTernary(8, 2), SparseTernary(8, 2, normalize=True)
    encoding = normalized.encode(w)
    stored_mean = encoding.arrays["mean"] * 2.0 ** -encoding.params["delta_frac"]
    assert np.allclose(stored_mean, w.mean(axis=0), atol=1e-4)
    error_plain = np.abs(plain(w).numpy() - w).mean()
    error_normalized = np.abs(normalized(w).numpy() - w).mean()
    assert error_normalized < 0.2 * error_plain
    assert set(encoding.formats) == {"delta", "mean"} and encoding.formats["mean"].signed


# -- storage ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,shape,expected", [
    ({}, (64, 10), 640 + 10 * 16),  # 8 groups * 10 outputs * 8 bits, table not counted
    ({"scale": "layer"}, (64, 10), 640 + 16),
    ({"normalize": True, "scale_bits": 12}, (64, 10), 640 + 10 * 12 + 10 * 13),
    ({}, (37, 10), 10 * 5 * 8 + 10 * 16),  # 37 -> 5 groups, last one padded
    ({"n": 4, "k": 1}, (3, 3, 7, 5), 5 * 16 * 4 + 5 * 16),  # 9 patterns -> 4 bits; 63 -> 16 groups
    ({"n": 16, "k": 2, "kernel_layout": "depthwise"}, (3, 3, 4, 2), 8 * 1 * 10 + 8 * 16),  # 513 patterns -> 10 bits
    ({"delta_format": "po2"}, (64, 10), 640 + 10 * 8),  # an 8-bit exponent per output
    ({"delta_format": "po2", "scale": "layer"}, (64, 10), 640 + 8),
])
def test_memory_bits_by_hand(kwargs, shape, expected, rng):
    q = SparseTernary(**kwargs)
    assert q.memory_bits(shape) == expected
    assert q.encode(rng.standard_normal(shape).astype(np.float32)).memory_bits == expected


def test_table_is_reported_separately():
    q = SparseTernary(8, 2)
    assert q.table_bits((64, 10)) == 129 * 8 * 2
    assert q.code_bits == 8 and q.bits == 2 and q.max() == 1.0 and q.min() == -1.0


@pytest.mark.parametrize("kwargs,argument", [
    ({"n": 1}, "n"), ({"n": 17}, "n"), ({"k": 0}, "k"), ({"n": 4, "k": 5}, "k"),
    ({"n": 16, "k": 8}, "k"),  # more than 2**16 patterns
    ({"scale": "filter"}, "scale"), ({"normalize": "yes"}, "normalize"), ({"scale_bits": 1}, "scale_bits"),
    ({"iterations": 0}, "iterations"), ({"active_k": 0}, "active_k"), ({"n": 8, "active_k": 9}, "active_k"),
    ({"kernel_layout": "nchw"}, "kernel_layout"), ({"delta_format": "float"}, "delta_format"),
])
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{argument}="):
        SparseTernary(**kwargs)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 12), k=st.integers(1, 3), scale=st.sampled_from(["channel", "layer"]), normalize=st.booleans(),
       scale_bits=st.integers(2, 24), shape=st.sampled_from([(37, 3), (3, 3, 7, 2), (1, 4), (9,), (2, 2, 3, 1)]),
       seed=st.integers(0, 1000), ties=st.booleans(), po2=st.booleans())
def test_round_trip_over_settings(n, k, scale, normalize, scale_bits, shape, seed, ties, po2):
    q = SparseTernary(n=n, k=min(k, n), scale=scale, normalize=normalize and not po2, scale_bits=scale_bits,
                      delta_format="po2" if po2 else "fixed")
    w = np.random.default_rng(seed).standard_normal(shape)
    w = (np.round(w * 2) / 2 if ties else w).astype(np.float32)
    encoding = q.encode(w)
    assert np.array_equal(q.decode(encoding), q(w).numpy())
    assert encoding.memory_bits == q.memory_bits(shape)


def test_digits_mlp_reaches_accuracy(digits):
    _, accuracy = train_digits_mlp(lambda: SparseTernary(n=8, k=2), digits)
    assert accuracy > 0.9


@pytest.mark.parametrize("width", [2, 8, 9, 32])
def test_pairwise_ranks_equal_the_stable_sort_ranks(width, rng, monkeypatch):
    """The fast pairwise ranking gives the very permutation of the double stable argsort."""
    import tensorflow as tf

    from keras_wc.quantizers import ranking

    values = rng.integers(-3, 4, (40, 3, width)).astype(np.float32)  # many ties
    values[0, 0] = 0.0
    values[1, 0, ::2] = -0.0  # signed zeros tie with zeros
    valid = np.arange(width) < width - 1  # one padding entry per row
    fast = ranking.ascending_ranks(tf.constant(values), valid).numpy()
    monkeypatch.setattr(ranking, "PAIRWISE_MAX", 0)
    sorted_ranks = ranking.ascending_ranks(tf.constant(values), valid).numpy()
    np.testing.assert_array_equal(fast, sorted_ranks)
    assert np.all(fast[..., -1] == width - 1)
