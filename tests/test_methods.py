"""The method registry: one object per method, consistent with its quantizer and its header."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from keras_wc.methods import Method, get_method, method_of, method_of_quantizer, register_method, registered_methods
from keras_wc.quantizers import DFP, QUANTIZERS, SWC, PolyApprox, Po2, SparseTernary, custom_objects

BUILT_IN = ("swc", "poly", "dfp", "po2", "ternary")


def test_every_built_in_method_is_registered_once():
    names = [m.name for m in registered_methods()]
    assert all(names.count(name) == 1 for name in BUILT_IN)
    assert {get_method(name).quantizer for name in BUILT_IN} == set(QUANTIZERS)


@pytest.mark.parametrize("name", BUILT_IN)
def test_method_matches_its_quantizer_and_header(name):
    method = get_method(name)
    quantizer = method.quantizer()
    assert quantizer.method == name and method_of_quantizer(quantizer) is method
    assert set(method.controls) == set(quantizer.controls)
    assert method.header.is_file()
    assert f"struct {method.core.split('::')[-1]}" in method.header.read_text()
    kernel = np.random.default_rng(0).normal(size=(3, 3, 2, 4)).astype(np.float32)
    encoding = quantizer.encode(kernel)
    assert method_of(encoding) is method
    assert method.frac(encoding).shape == (4,)
    assert [arg.name for arg in method.arguments(encoding)][0] == "codes"


def test_unknown_method_names_the_registered_ones():
    with pytest.raises(ValueError, match=r"method 'nope' is not registered; registered methods: \[.*'swc'"):
        get_method("nope")


def test_register_refuses_a_method_without_its_header(tmp_path):
    class Broken(Method):
        name, core, header = "broken", "sqnap::broken_core", Path(tmp_path / "missing.h")

    with pytest.raises(ValueError, match="header .*missing.h does not exist"):
        register_method(Broken())
    with pytest.raises(ValueError, match="is not registered"):
        get_method("broken")


def test_register_refuses_a_quantizer_of_another_method(tmp_path):
    header = tmp_path / "other.h"
    header.write_text("struct other_core {};\n")

    class Mismatch(Method):
        name, core, quantizer = "other", "sqnap::other_core", SWC

    Mismatch.header = header
    with pytest.raises(ValueError, match="quantizer SWC declares method='swc'"):
        register_method(Mismatch())


def test_custom_objects_cover_every_registered_quantizer():
    objects = custom_objects()
    for method in registered_methods():
        if method.quantizer is not None:
            assert objects[method.quantizer.__name__] is method.quantizer
            assert objects[f"keras_wc>{method.quantizer.__name__}"] is method.quantizer


SCALED_SUM_QUANTIZERS = {
    "swc_fixed": lambda: SWC(sw_bits=4, group="kernel"),
    "swc_po2": lambda: SWC(sw_bits=3, sw_format="po2", group="filter"),
    "swc_folded": lambda: SWC(sw_bits=4, group="kernel", fold_denominator=True),
    "poly_linear": lambda: PolyApprox(degree=1, levels=8, group="filter"),
    "poly_quadratic_layer": lambda: PolyApprox(degree=2, levels=4),
    "dfp": lambda: DFP(bits=6, per_channel=True),
    "po2": lambda: Po2(bits=4),
    "ternary": lambda: SparseTernary(n=8, k=2),
    "ternary_normalized": lambda: SparseTernary(n=4, k=1, normalize=True),
    "ternary_po2_layer": lambda: SparseTernary(n=8, k=2, delta_format="po2", scale="layer"),
}


@pytest.mark.parametrize("name", sorted(SCALED_SUM_QUANTIZERS))
def test_scaled_sums_reproduce_the_kernel(name):
    """The structure the RTL builds (constant sums times constant scales) is the emulator's kernel."""
    rng = np.random.default_rng(3)
    encoding = SCALED_SUM_QUANTIZERS[name]().encode(rng.normal(size=(3, 3, 5, 6)).astype(np.float32))
    method, layout = method_of(encoding), encoding.layout
    x = rng.integers(-128, 128, size=(4, layout.n_out, layout.n_groups, layout.group_size))
    x = np.where(np.broadcast_to(layout.valid(), x.shape), x, 0)
    expected, _ = method.kernel(x, encoding)
    sums = method.scaled_sums(encoding)
    assert sums.weights.shape[::2] == (layout.n_out, layout.padded_fan_in)
    assert sums.evaluate(x.reshape(4, layout.n_out, -1)).tolist() == expected.tolist()
