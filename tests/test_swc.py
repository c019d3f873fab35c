"""SWC structure: each group is ``M_g * s`` with a quantized MAW and ``s`` on the declared grid."""

from __future__ import annotations

import numpy as np
import pytest

from keras_wc import SWC


def _quantized_maw(maw: np.ndarray, maw_bits: int) -> np.ndarray:
    """Independent model of the MAW storage: unsigned fixed point, one fractional length."""
    frac = maw_bits - 1 - int(np.floor(np.log2(maw.max())))
    return np.clip(np.round(maw * 2.0 ** frac), 0, 2 ** maw_bits - 1) / 2.0 ** frac


def _groups(w: np.ndarray, quantizer: SWC) -> np.ndarray:
    """``(n_out, n_groups, group_size)`` with padding as NaN (so it can be dropped)."""
    layout = quantizer.layout_for(w.shape)
    grouped = np.asarray(layout.to_groups(w.astype(np.float64), _np_ops()), np.float64)
    grouped[:, ~layout.valid()] = np.nan
    return grouped


def _np_ops():
    from keras_wc.quantizers.ops import NP
    return NP


CASES = [
    dict(sw_bits=4, maw_bits=16, group="kernel", sw_format="fixed", prune_threshold=0.0),
    dict(sw_bits=3, maw_bits=10, group="filter", sw_format="fixed", prune_threshold=0.4),
    dict(sw_bits=5, maw_bits=12, group=16, sw_format="fixed", prune_threshold=0.2),
    dict(sw_bits=4, maw_bits=16, group="kernel", sw_format="po2", prune_threshold=0.0),
    dict(sw_bits=3, maw_bits=8, group=7, sw_format="po2", prune_threshold=0.3),
    dict(sw_bits=2, maw_bits=8, group="filter", sw_format="po2", prune_threshold=0.0),
]


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: "-".join(str(v) for v in k.values()))
@pytest.mark.parametrize("shape", [(5, 5, 6, 4), (3, 3, 7, 3), (3, 5, 2)])
def test_group_values_are_maw_times_scaling_weight_on_grid(kwargs, shape, rng):
    quantizer = SWC(**kwargs)
    w = rng.standard_normal(shape).astype(np.float32)
    w[..., 0] *= 1e-3  # one output unit with a much smaller range than the layer
    latent, out = _groups(w, quantizer), _groups(quantizer(w).numpy(), quantizer)
    maw = np.nanmax(np.abs(latent), axis=2)
    maw_hat = _quantized_maw(maw, quantizer.maw_bits)
    lost = maw_hat == 0  # a MAW below the layer's MAW resolution: the whole group is 0
    assert np.all(np.nan_to_num(out)[lost] == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaling = out / maw_hat[..., None]
    real = ~np.isnan(out) & ~lost[..., None]
    s = scaling[real]
    threshold = kwargs["prune_threshold"]
    if kwargs["sw_format"] == "fixed":
        d = 2 ** (quantizer.sw_bits - 1) - 1
        codes = np.round(s * d)
        np.testing.assert_allclose(s * d, codes, atol=1e-4)  # s = c / D
        expected = np.clip(np.round(latent / maw[..., None] * d), -d, d)[real]
        expected[np.abs(expected) / d < threshold] = 0
        np.testing.assert_array_equal(codes, expected)
    else:
        nonzero = s[s != 0]
        exponents = np.log2(np.abs(nonzero))
        np.testing.assert_array_equal(exponents, np.round(exponents))  # s = +-2**-j exactly
        assert exponents.max(initial=0) <= 0 and exponents.min(initial=0) >= -quantizer.max_shift
    # the threshold applies to the rounded s (1e-6: s is recovered through float32 divisions)
    assert np.all((np.abs(s) >= threshold * (1 - 1e-6)) | (s == 0))
    # the MAW itself is representable: the largest weight of each group keeps |s| = 1
    top = np.nanargmax(np.abs(latent), axis=2)
    top_s = np.take_along_axis(scaling, top[..., None], axis=2)[..., 0]
    assert np.all(np.abs(top_s[maw_hat > 0]) == 1.0)


def test_group_kernel_on_5x5_conv_shares_one_maw_per_slice(rng):
    w = rng.standard_normal((5, 5, 3, 4)).astype(np.float32)
    quantizer = SWC(sw_bits=4, maw_bits=16, group="kernel")
    encoding = quantizer.encode(w)
    assert encoding.layout.group_size == 25 and encoding.layout.n_groups == 3
    assert encoding.arrays["maw"].shape == (4, 3)
    out = quantizer(w).numpy()
    frac = encoding.params["maw_frac"]
    for i in range(3):
        for o in range(4):
            slice_max = np.abs(w[:, :, i, o]).max()
            m_hat = encoding.arrays["maw"][o, i] / 2.0 ** frac
            assert abs(m_hat - slice_max) <= 2.0 ** -frac  # this slice's own MAW
            assert np.abs(out[:, :, i, o]).max() == np.float32(m_hat)
            assert np.all(np.abs(out[:, :, i, o]) <= np.float32(m_hat))


def test_group_kernel_on_dense_kernel_is_a_clear_error():
    with pytest.raises(ValueError, match="group='kernel' needs a convolution kernel"):
        SWC(group="kernel")(np.ones((16, 4), np.float32))
    with pytest.raises(ValueError, match="group='kernel'"):
        SWC(group="kernel").memory_bits((16, 4))


def test_pruning_control_changes_output_without_new_quantizer(rng):
    w = rng.standard_normal((5, 5, 2, 2)).astype(np.float32)
    quantizer = SWC(sw_bits=4, group="kernel")
    dense_zeros = np.count_nonzero(quantizer(w).numpy() == 0)
    quantizer.set_control("prune_threshold", 0.5)
    assert np.count_nonzero(quantizer(w).numpy() == 0) > dense_zeros
    assert quantizer.get_config()["prune_threshold"] == 0.5


# -- sw_bits as a training control (precision scaling) ------------------------------------------
@pytest.mark.parametrize("sw_format", ["fixed", "po2"])
def test_lowering_sw_bits_takes_effect_without_retrace(sw_format, rng):
    import tensorflow as tf

    w = rng.standard_normal((32, 4)).astype(np.float32)
    quantizer = SWC(sw_bits=6, maw_bits=10, group=8, sw_format=sw_format)
    traces = []

    @tf.function
    def forward(x):
        traces.append(1)
        return quantizer(x)

    forward(w)
    quantizer.sw_bits = 3
    lowered = forward(w).numpy()
    assert len(traces) == 1
    # the traced function now computes exactly what a fresh 3-bit quantizer computes
    fresh = SWC(sw_bits=3, maw_bits=10, group=8, sw_format=sw_format)
    np.testing.assert_array_equal(lowered, fresh(w).numpy())
    encoding = quantizer.encode(w)
    assert quantizer.bits == quantizer.sw_bits == 3 and "bits" in quantizer.controls
    assert encoding.config["sw_bits"] == 3 and encoding.storage["codes"] == (32 * 4, 3)
    assert np.abs(encoding.arrays["codes"]).max() <= 3  # fixed: D = 3; po2: max_shift + 1 = 3
    assert encoding.memory_bits == quantizer.memory_bits((32, 4)) == 32 * 4 * 3 + 4 * 4 * 10


def test_decode_uses_the_sw_bits_of_the_encoding(rng):
    w = rng.standard_normal((5, 5, 2, 3)).astype(np.float32)
    quantizer = SWC(sw_bits=5)
    expected, encoding = quantizer(w).numpy(), quantizer.encode(w)
    quantizer.sw_bits = 2  # D changes from 15 to 1: an old encoding must still decode as 5-bit
    np.testing.assert_array_equal(quantizer.decode(encoding), expected)


def test_sw_bits_control_keeps_its_constraints():
    quantizer = SWC(sw_bits=4, maw_bits=6, group=4)
    with pytest.raises(ValueError, match="sw_bits=7"):
        quantizer.sw_bits = 7  # above maw_bits
    with pytest.raises(ValueError, match="sw_bits=1"):
        quantizer.set_control("bits", 1)
    assert quantizer.sw_bits == 4
    assert SWC.from_config(quantizer.get_config()).get_config() == quantizer.get_config()


# -- MAW freezing (FreezeAssignments) --------------------------------------------------------------
def test_frozen_maw_stays_while_scaling_weights_move(rng):
    w = rng.standard_normal((5, 5, 2, 3)).astype(np.float32)
    quantizer = SWC(sw_bits=4, group="kernel")
    before = quantizer.encode(w)
    quantizer.freeze(w)
    assert quantizer.frozen and quantizer.encode(w).arrays["maw"].tolist() == before.arrays["maw"].tolist()
    moved = (w * rng.uniform(0.5, 1.5, w.shape)).astype(np.float32)
    frozen = quantizer.encode(moved)
    np.testing.assert_array_equal(frozen.arrays["maw"], before.arrays["maw"])
    assert frozen.params == before.params
    assert not np.array_equal(frozen.arrays["codes"], before.arrays["codes"])
    np.testing.assert_array_equal(quantizer.decode(frozen), quantizer(moved).numpy())
    # a weight above its frozen MAW saturates at s = +-1
    assert np.abs(frozen.arrays["codes"]).max() == quantizer.denominator
    # the frozen state round-trips through the config; unfreezing returns to max |w|
    again = SWC.from_config(quantizer.get_config())
    assert again.frozen and len(quantizer.get_config()["frozen_maw"]) == 3 * 2
    np.testing.assert_array_equal(again(moved).numpy(), quantizer(moved).numpy())
    quantizer.unfreeze()
    assert not quantizer.frozen and "frozen_maw" not in quantizer.get_config()
    np.testing.assert_array_equal(quantizer(moved).numpy(), SWC(sw_bits=4, group="kernel")(moved).numpy())


def test_bad_frozen_maw_is_a_clear_error():
    with pytest.raises(ValueError, match="frozen_maw"):
        SWC(group=4, frozen_maw=[0.5, -1.0])


@pytest.mark.parametrize("sw_bits, group", [(4, "kernel"), (3, "filter"), (5, 6)])
def test_folded_denominator_stores_maw_over_d_and_divides_by_nothing(sw_bits, group, rng):
    """fold_denominator=True: the same codes, the MAW stored as M/D on its own grid, no division by D."""
    from keras_wc.methods import method_of

    w = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    plain, folded = SWC(sw_bits=sw_bits, group=group), SWC(sw_bits=sw_bits, group=group, fold_denominator=True)
    unfolded_encoding, encoding = plain.encode(w), folded.encode(w)
    np.testing.assert_array_equal(encoding.arrays["codes"], unfolded_encoding.arrays["codes"])
    d = 2 ** (sw_bits - 1) - 1
    maw = unfolded_encoding.arrays["maw"] / 2.0 ** unfolded_encoding.params["maw_frac"]  # M on its own grid
    stored = encoding.arrays["maw"] / 2.0 ** encoding.params["maw_frac"]
    np.testing.assert_allclose(stored, maw / d, rtol=2.0 ** -(folded.maw_bits - 2))
    assert encoding.arrays["maw"].max() >= 2 ** (folded.maw_bits - 1)  # the grid fits M/D, not M
    method = method_of(encoding)
    assert method.denominator(encoding) == 1 and method.denominator(unfolded_encoding) == d
    live_groups = int(np.count_nonzero((encoding.arrays["codes"] != 0).any(axis=2) & (encoding.arrays["maw"] != 0)))
    assert method.cost(encoding).full_mults == live_groups  # one per group, no reciprocal
    assert method.cost(unfolded_encoding).full_mults == live_groups + 5
    # the fake-quantized weights are M' * c exactly, within the MAW's precision of the unfolded ones
    np.testing.assert_array_equal(folded(w).numpy(), folded.decode(encoding))
    np.testing.assert_allclose(folded(w).numpy(), plain(w).numpy(), atol=np.abs(w).max() * 2.0 ** -12)
    assert SWC.from_config(folded.get_config()).fold_denominator
    assert "fold_denominator" not in plain.get_config()


def test_folded_denominator_is_for_the_fixed_format_only():
    with pytest.raises(ValueError, match="fold_denominator=True: allowed only with sw_format='fixed'"):
        SWC(sw_format="po2", fold_denominator=True)
    with pytest.raises(ValueError, match="fold_denominator"):
        SWC(fold_denominator="yes")
