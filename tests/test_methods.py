"""The method registry: one object per method, consistent with its quantizer and its header."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from keras_wc.methods import Method, get_method, method_of, method_of_quantizer, register_method, registered_methods
from keras_wc.quantizers import QUANTIZERS, SWC, custom_objects

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
