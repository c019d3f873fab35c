"""The SQNAP HLS header library (``hls/sqnap_*.h``): C++ unit tests and a randomized bit-exact check.

* ``hls/tests/test_sqnap.cpp`` (hand-computed cases) is compiled with
  ``g++ -std=c++17 -Wall -Wextra -Werror`` against hls4ml's bundled ``ap_types`` and run.
* A C++ driver generated here runs every method's Dense and Conv2D kernels on random integer
  codes, scales and inputs read from a text file; the results are compared, bit for bit, with a
  plain Python-int implementation of ``docs/datapath.md`` written below. Convolution inputs are
  placed with ``FanInLayout.fan_in_index()`` (the quantizers' own fan-in order), so the C++ gather
  is checked against the layout contract, not against a copy of itself.
* Every binary is compiled once per module (``tmp_path_factory``).
"""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
HLS = ROOT / "hls"
CXXFLAGS = ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
HEADERS = ["sqnap_common.h", "sqnap_swc.h", "sqnap_dfp.h", "sqnap_po2.h", "sqnap_ternary.h", "sqnap_poly.h",
           "sqnap.h"]

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")


def _ap_types() -> Path:
    # located without importing hls4ml (which would import TensorFlow and its plugins)
    import importlib.util

    spec = importlib.util.find_spec("hls4ml")
    assert spec is not None and spec.submodule_search_locations, "hls4ml is not installed"
    path = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"
    assert (path / "ap_fixed.h").exists(), path
    return path


def _compile(src: Path, exe: Path, extra=()) -> Path:
    # ap_types is a third-party header set: -isystem keeps its own warnings out, so -Werror
    # applies to the SQNAP headers and the tests only.
    cmd = ["g++", *CXXFLAGS, *extra, "-isystem", str(_ap_types()), "-I", str(HLS), str(src), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"compilation failed:\n{' '.join(cmd)}\n{proc.stderr[:4000]}"
    return exe


# ------------------------------------------------------------------------------------------
# hand-computed unit tests


@pytest.fixture(scope="module")
def unit_binary(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sqnap_unit")
    return _compile(HLS / "tests" / "test_sqnap.cpp", out / "test_sqnap")


def test_cpp_unit_tests_pass(unit_binary):
    proc = subprocess.run([str(unit_binary)], capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    failures = [line for line in lines if line.startswith("FAIL")]
    assert not failures, "\n".join(failures)
    summary = [line for line in lines if line.startswith("SQNAP_TESTS")]
    assert summary, proc.stdout[-2000:]
    n_pass, n_fail = map(int, summary[-1].split()[1:])
    assert n_fail == 0 and proc.returncode == 0
    assert n_pass >= 70
    # a few of the hand-computed values, visible here as well
    assert "PASS swc fixed o2 round(-39/7) = -6" in lines
    assert "PASS swc fixed o1 round(-37/7) = -5" in lines
    assert "PASS po2 o0 (zero code, negative input) = 14" in lines
    assert "PASS poly deg2 S0/S1/S2 = 59" in lines
    assert "PASS ternary normalize o1 = 125" in lines


@pytest.mark.parametrize("header", HEADERS)
def test_each_header_is_self_contained(header, tmp_path):
    src = tmp_path / "inc.cpp"
    src.write_text(f'#include "{header}"\n#include "{header}"\nint main() {{ return 0; }}\n')
    _compile(src, tmp_path / "inc")


def test_pragmas_emitted_for_synthesis(tmp_path):
    """SQNAP_PRAGMA(HLS ...) becomes real ``#pragma HLS`` lines when emitted (as under __SYNTHESIS__)."""
    cmd = ["g++", "-std=c++17", "-E", "-DSQNAP_EMIT_PRAGMAS", "-isystem", str(_ap_types()), "-I", str(HLS),
           "-x", "c++", str(HLS / "sqnap.h")]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "#pragma HLS PIPELINE II=CONFIG_T::reuse_factor" in text
    assert "#pragma HLS UNROLL" in text
    assert "#pragma HLS ARRAY_PARTITION variable=fan complete dim=0" in text
    assert "#pragma HLS ARRAY_PARTITION variable=table complete dim=0" in text  # decoded in logic
    # Latency pixels share their full multipliers; Resource rounds read the epilogue arrays as ROM words
    assert text.count("#pragma HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit") == 2
    assert "#pragma HLS ARRAY_RESHAPE variable=bias cyclic factor=CONFIG_T::outputs_per_round" in text
    assert "#pragma HLS ARRAY_PARTITION variable=x complete" in text  # io_stream buffers
    assert "#pragma HLS PIPELINE\n" in text or "#pragma HLS PIPELINE\r\n" in text  # stream read loop
    assert "#pragma HLS DATA_PACK variable=pack" in text
    plain = subprocess.run(cmd[:3] + cmd[4:], capture_output=True, text=True, check=True).stdout
    assert "#pragma HLS" not in plain


# ------------------------------------------------------------------------------------------
# randomized, bit-exact against a Python-int reference of docs/datapath.md

DATA_TYPES = {"s10_4": ("ap_fixed<10,4>", True, 10, 6), "u8_3": ("ap_ufixed<8,3>", False, 8, 5)}
SAMPLES = 6


def _same_pad(n_in, k, s):
    n_out = -(-n_in // s)
    total = max((n_out - 1) * s + k - n_in, 0)
    return n_out, total // 2


def _cases():
    """Fixed geometries (compile-time in C++); the values are drawn at random."""
    dense = dict(kind="dense", n_in=13, n_out=5)
    conv = dict(kind="conv2d", in_h=6, in_w=5, n_chan=3, kh=3, kw=3, stride=2, padding="same", n_filt=4)
    conv_valid = dict(kind="conv2d", in_h=5, in_w=6, n_chan=2, kh=2, kw=3, stride=1, padding="valid", n_filt=3)
    dw = dict(kind="conv2d", in_h=5, in_w=5, n_chan=3, kh=3, kw=3, stride=2, padding="same", n_filt=6,
              depthwise=True)
    latency = [
        dict(name="swc_fixed_dense", method="swc", sw_bits=4, sw_po2=False, group=4, data="s10_4", **dense),
        dict(name="swc_po2_dense", method="swc", sw_bits=3, sw_po2=True, group=6, data="s10_4", **dense),
        dict(name="swc_fixed_conv_kernel", method="swc", sw_bits=5, sw_po2=False, group="kernel", data="u8_3",
             **conv),
        dict(name="swc_po2_conv", method="swc", sw_bits=4, sw_po2=True, group=5, data="s10_4", **conv_valid),
        dict(name="dfp_dense_per_channel", method="dfp", bits=6, per_channel=True, data="s10_4", **dense),
        dict(name="dfp_conv", method="dfp", bits=8, per_channel=False, data="u8_3", **conv),
        dict(name="dfp_depthwise", method="dfp", bits=4, per_channel=True, data="s10_4", **dw),
        dict(name="po2_dense", method="po2", bits=4, e_min=-5, data="s10_4", **dense),
        dict(name="po2_conv", method="po2", bits=3, e_min=1, data="u8_3", **conv_valid),
        dict(name="ternary_dense_8_2", method="ternary", n=8, k=2, normalize=False, shared_delta=False,
             unit_delta=False, data="s10_4", **dense),
        dict(name="ternary_dense_8_2_po2", method="ternary", n=8, k=2, normalize=False, shared_delta=False,
             unit_delta=True, data="s10_4", **dense),
        dict(name="ternary_conv_4_1_norm", method="ternary", n=4, k=1, normalize=True, shared_delta=True,
             unit_delta=False, data="u8_3", **conv),
        dict(name="poly2_dense", method="poly", degree=2, levels=8, group=5, shared=False, data="s10_4", **dense),
        dict(name="poly1_conv_layer", method="poly", degree=1, levels=16, group="layer", shared=True, data="u8_3",
             **conv),
        dict(name="poly2_conv_kernel", method="poly", degree=2, levels=4, group="kernel", shared=False,
             data="s10_4", **conv_valid),
    ]
    # the Resource architecture: per_round outputs per round, the last round partly empty
    per_round = {"swc_fixed_dense": 2, "swc_po2_conv": 2, "dfp_depthwise": 4, "po2_dense": 3,
                 "ternary_conv_4_1_norm": 3, "ternary_dense_8_2": 4,
                 "ternary_dense_8_2_po2": 3, "poly1_conv_layer": 3, "poly2_dense": 2}
    resource = [dict(case, name=f"{case['name']}_resource", per_round=per_round[case["name"]])
                for case in latency if case["name"] in per_round]
    return latency + resource


def _geometry(case):
    """Fill in fan-in/group sizes and output shapes; returns the FanInLayout of the kernel."""
    from keras_wc.quantizers.layout import FanInLayout

    if case["kind"] == "dense":
        shape = (case["n_in"], case["n_out"])
        layout_kind = "auto"
    else:
        if case["padding"] == "same":
            case["out_h"], case["pad_top"] = _same_pad(case["in_h"], case["kh"], case["stride"])
            case["out_w"], case["pad_left"] = _same_pad(case["in_w"], case["kw"], case["stride"])
        else:
            case["out_h"] = (case["in_h"] - case["kh"]) // case["stride"] + 1
            case["out_w"] = (case["in_w"] - case["kw"]) // case["stride"] + 1
            case["pad_top"] = case["pad_left"] = 0
        if case.get("depthwise"):
            shape = (case["kh"], case["kw"], case["n_chan"], case["n_filt"] // case["n_chan"])
            layout_kind = "depthwise"
        else:
            shape = (case["kh"], case["kw"], case["n_chan"], case["n_filt"])
            layout_kind = "auto"
    group = case.get("group", "filter")
    if case["method"] == "ternary":
        group = case["n"]
    layout = FanInLayout(shape, "filter" if group == "layer" else group, layout_kind)
    case["kernel_major"] = group == "kernel"
    case["n_out_units"] = layout.n_out
    case["n_groups"], case["group_size"] = layout.n_groups, layout.group_size
    case["fan_in"] = layout.fan_in
    return layout


def _pattern_table(n, k):
    """All ternary patterns with at most k non-zeros (this test's own order: the ROM is data)."""
    from itertools import combinations, product

    rows = []
    for j in range(k + 1):
        for pos in combinations(range(n), j):
            for signs in product((1, -1), repeat=j):
                row = [0] * n
                for p, s in zip(pos, signs):
                    row[p] = s
                rows.append(row)
    return np.array(rows, dtype=np.int64)


def _draw(case, rng):
    """Random integer arrays of the encoding (padding positions zero) and inputs."""
    n_out, ng, gs, fan_in = case["n_out_units"], case["n_groups"], case["group_size"], case["fan_in"]
    valid = (np.arange(ng * gs) < fan_in).reshape(ng, gs)
    arrays = {}
    m = case["method"]
    if m == "swc":
        top = (1 << (case["sw_bits"] - 1)) - 1 if not case["sw_po2"] else (1 << (case["sw_bits"] - 1)) - 1
        arrays["codes"] = rng.integers(-top, top + 1, (n_out, ng, gs)) * valid
        arrays["maw"] = rng.integers(0, 1 << 10, (n_out, ng))
        case["maw_frac"] = 7
    elif m == "dfp":
        half = 1 << (case["bits"] - 1)
        arrays["codes"] = rng.integers(-half, half, (n_out, ng, gs)) * valid
        if case["per_channel"]:
            fl = rng.integers(2, 7, n_out)
        else:
            fl = np.array([5])
        case["frac"] = int(fl.max())
        arrays["align"] = case["frac"] - fl  # the shared epilogue's per-output shift
        case["fl"] = fl
    elif m == "po2":
        top = (1 << (case["bits"] - 1)) - 1
        arrays["codes"] = rng.integers(-top, top + 1, (n_out, ng, gs)) * valid
    elif m == "ternary":
        table = _pattern_table(case["n"], case["k"])
        case["table"] = table
        arrays["codes"] = rng.integers(0, len(table), (n_out, ng))
        n_scale = 1 if case["shared_delta"] else n_out
        arrays["delta"] = rng.integers(0, 1 << 9, n_scale)
        arrays["mean"] = rng.integers(-200, 201, n_out if case["normalize"] else 1)
        case["delta_frac"] = 8
        if case["unit_delta"]:  # power-of-two deltas: the per-output alignment shifts, delta[] unread
            arrays["align"] = rng.integers(0, 6, n_out)
    elif m == "poly":
        arrays["codes"] = rng.integers(0, case["levels"], (n_out, ng, gs)) * valid
        n_coef_out = 1 if case["shared"] else n_out
        arrays["coef"] = rng.integers(-2000, 2001, (n_coef_out, ng, case["degree"] + 1))
        case["coef_frac"] = 9
    arrays.setdefault("align", np.zeros(1, np.int64))  # one shift for the layer: none
    arrays["bias"] = rng.integers(-5000, 5001, n_out)
    _, signed, width, _ = DATA_TYPES[case["data"]]
    n_x = case["n_in"] if case["kind"] == "dense" else case["in_h"] * case["in_w"] * case["n_chan"]
    low, high = (-(1 << (width - 1)), 1 << (width - 1)) if signed else (0, 1 << width)
    x = rng.integers(low, high, (SAMPLES, n_x))
    x[0] = high - 1  # extremes: largest and smallest representable inputs
    x[1] = low
    return arrays, x


def _fan_vectors(case, layout, xs):
    """Per output pixel and output unit, the padded fan-in vector of raw inputs, via fan_in_index."""
    index = layout.fan_in_index()  # (n_out, padded) -> flat kernel index or -1
    shape = layout.shape
    if case["kind"] == "dense":
        pad = np.concatenate([xs, np.zeros(index.shape[1] - xs.size, np.int64)])
        return [[pad for _ in range(case["n_out_units"])]]
    pixels = []
    image = xs.reshape(case["in_h"], case["in_w"], case["n_chan"])
    for oy in range(case["out_h"]):
        for ox in range(case["out_w"]):
            per_out = []
            for o in range(case["n_out_units"]):
                vec = np.zeros(index.shape[1], np.int64)
                for j, flat in enumerate(index[o]):
                    if flat < 0:
                        continue
                    ky, kx, c, _ = np.unravel_index(flat, shape)
                    iy = oy * case["stride"] - case["pad_top"] + ky
                    ix = ox * case["stride"] - case["pad_left"] + kx
                    if 0 <= iy < case["in_h"] and 0 <= ix < case["in_w"]:
                        vec[j] = image[iy, ix, c]
                per_out.append(vec)
            pixels.append(per_out)
    return pixels


def _reference(case, arrays, vec, o):
    """The integer result on the output grid (docs/datapath.md), Python ints only."""
    ng, gs = case["n_groups"], case["group_size"]
    x = [int(v) for v in vec]
    m = case["method"]
    bias = int(arrays["bias"][o])
    if m == "swc":
        acc = bias
        j_max = (1 << (case["sw_bits"] - 1)) - 2
        for g in range(ng):
            p = 0
            for i in range(gs):
                c, xi = int(arrays["codes"][o, g, i]), x[g * gs + i]
                if case["sw_po2"]:
                    p += 0 if c == 0 else (1 if c > 0 else -1) * xi * 2 ** (j_max - (abs(c) - 1))
                else:
                    p += c * xi
            acc += int(arrays["maw"][o, g]) * p
        if case["sw_po2"]:
            return acc
        d = (1 << (case["sw_bits"] - 1)) - 1
        return round(Fraction(acc, d))  # nearest; D odd -> no ties
    if m == "dfp":
        acc = sum(int(c) * xi for c, xi in zip(arrays["codes"][o].reshape(-1), x))
        shift = int(arrays["align"][o if case["per_channel"] else 0])
        return acc * 2 ** shift + bias  # aligned onto the common grid, then the bias
    if m == "po2":
        acc = bias
        for c, xi in zip(arrays["codes"][o].reshape(-1), x):
            c = int(c)
            acc += 0 if c == 0 else (1 if c > 0 else -1) * xi * 2 ** (abs(c) - 1)
        return acc
    if m == "ternary":
        p = 0
        for g in range(ng):
            pattern = case["table"][int(arrays["codes"][o, g])]
            p += sum(int(t) * x[g * gs + i] for i, t in enumerate(pattern))
        delta = 1 if case["unit_delta"] else int(arrays["delta"][0 if case["shared_delta"] else o])
        acc = delta * p
        if case["normalize"]:
            acc += int(arrays["mean"][o]) * sum(x)
        return acc * 2 ** int(arrays["align"][o if case["unit_delta"] else 0]) + bias
    if m == "poly":
        acc = bias
        co = 0 if case["shared"] else o
        for g in range(ng):
            xs = x[g * gs:(g + 1) * gs]
            ks = [int(k) for k in arrays["codes"][o, g]]
            s0 = sum(xs)
            s1 = sum(k * xi for k, xi in zip(ks, xs))
            s2 = sum(k * k * xi for k, xi in zip(ks, xs))
            coef = [int(c) for c in arrays["coef"][co, g]]
            acc += coef[0] * s0 + coef[1] * s1 + (coef[2] * s2 if case["degree"] == 2 else 0)
        return acc
    raise AssertionError(m)


def _grid_frac(case):
    fx = DATA_TYPES[case["data"]][3]
    m = case["method"]
    if m == "swc":
        return case["maw_frac"] + fx + (((1 << (case["sw_bits"] - 1)) - 2) if case["sw_po2"] else 0)
    if m == "dfp":
        return case["frac"] + fx
    if m == "po2":
        return fx - case["e_min"]
    if m == "ternary":
        return case["delta_frac"] + fx
    return case["coef_frac"] + fx


# order in which the driver reads each method's arrays (the core's arguments, then align and bias)
_ARRAYS = {"swc": ["codes", "maw", "align", "bias"], "dfp": ["codes", "align", "bias"],
           "po2": ["codes", "align", "bias"],
           "ternary": ["codes", "table", "delta", "mean", "align", "bias"], "poly": ["codes", "coef", "align", "bias"]}
_TYPES = {"codes": "code_t", "maw": "maw_t", "align": "align_t", "bias": "bias_t", "table": "table_t",
          "delta": "delta_t", "mean": "mean_t", "coef": "coef_t"}


def _config(case, k):
    from keras_wc.hls.templates import reciprocal_lines  # the converter's own reciprocal member

    m = case["method"]
    lines = [f"struct cfg{k} {{"]
    u = lambda name, v: lines.append(f"  static const unsigned {name} = {int(v)};")  # noqa: E731
    i = lambda name, v: lines.append(f"  static const int {name} = {int(v)};")  # noqa: E731
    b = lambda name, v: lines.append(f"  static const bool {name} = {'true' if v else 'false'};")  # noqa: E731
    t = lambda name, v: lines.append(f"  typedef {v} {name};")  # noqa: E731
    u("n_groups", case["n_groups"])
    u("group_size", case["group_size"])
    u("reuse_factor", 1)
    lines.append(f"  static const unsigned strategy = sqnap::{'resource' if case.get('per_round') else 'latency'};")
    u("outputs_per_round", case.get("per_round") or case["n_out_units"])
    if case["kind"] == "dense":
        u("n_in", case["n_in"])
        u("n_out", case["n_out"])
    else:
        for name, key in [("in_height", "in_h"), ("in_width", "in_w"), ("n_chan", "n_chan"), ("out_height", "out_h"),
                          ("out_width", "out_w"), ("n_filt", "n_filt"), ("filt_height", "kh"), ("filt_width", "kw"),
                          ("stride_height", "stride"), ("stride_width", "stride"), ("pad_top", "pad_top"),
                          ("pad_left", "pad_left")]:
            u(name, case[key])
        b("kernel_major", case["kernel_major"])
        b("depthwise", case.get("depthwise", False))
    t("accum_t", "ap_int<56>")
    t("psum_t", "ap_int<40>")
    t("bias_t", "ap_int<16>")
    t("align_t", "ap_uint<4>")  # the shared epilogue: A' = (A << align) + bias, round(A' / D), grid frac + fx
    i("frac", _grid_frac(case) - DATA_TYPES[case["data"]][3])
    denominator = (1 << (case["sw_bits"] - 1)) - 1 if m == "swc" and not case["sw_po2"] else 1
    i("denominator", denominator)
    lines.extend("  " + line for line in reciprocal_lines(denominator, 56))
    per_output_align = case.get("per_channel", False) or case.get("unit_delta", False)
    u("n_align", case["n_out_units"] if per_output_align else 1)
    t("scaling", "sqnap::unscaled")
    if m == "swc":
        u("sw_bits", case["sw_bits"])
        b("sw_po2", case["sw_po2"])
        i("maw_frac", case["maw_frac"])
        t("code_t", f"ap_int<{case['sw_bits']}>")
        t("maw_t", "ap_uint<10>")
    elif m == "dfp":
        t("code_t", f"ap_int<{case['bits']}>")
    elif m == "po2":
        i("e_min", case["e_min"])
        t("code_t", f"ap_int<{case['bits']}>")
    elif m == "ternary":
        u("n_patterns", len(case["table"]))
        u("n_delta", 1 if case["shared_delta"] else case["n_out_units"])
        u("n_mean", case["n_out_units"] if case["normalize"] else 1)
        b("normalize", case["normalize"])
        b("unit_delta", case["unit_delta"])
        i("delta_frac", case["delta_frac"])
        t("code_t", "ap_uint<9>")
        t("table_t", "ap_int<2>")
        t("delta_t", "ap_uint<9>")
        t("mean_t", "ap_int<9>")
    elif m == "poly":
        u("degree", case["degree"])
        u("n_coef_out", 1 if case["shared"] else case["n_out_units"])
        i("coef_frac", case["coef_frac"])
        t("code_t", "ap_uint<4>")
        t("coef_t", "ap_int<12>")
    lines.append("};")
    return "\n".join(lines)


def _array_sizes(case, arrays):
    sizes = {}
    for name in _ARRAYS[case["method"]]:
        sizes[name] = case["table"].size if name == "table" else arrays[name].size
    return sizes


def _driver(cases, draws):
    out = ["#include <cstdio>", '#include "sqnap.h"', "",
           "template <class T> static void set_raw(T &v, long long r) {",
           "  ap_int<T::width> a = int(r); v.range(T::width - 1, 0) = a.range(T::width - 1, 0); }",
           "template <class T> static void read_int(T &v) {",
           "  long long r; if (std::scanf(\"%lld\", &r) != 1) r = 0; v = int(r); }",
           "template <int W, int I> static long long raw(const ap_fixed<W, I> &v) {",
           "  ap_int<W> r = 0; r.range(W - 1, 0) = v.range(W - 1, 0); return r.to_int64(); }",
           "// a stream pack with hls4ml's nnet::array interface (the headers need no nnet_types.h)",
           "template <class T, unsigned N> struct pk {",
           "  typedef T value_type; static const unsigned size = N; T data[N];",
           "  T &operator[](unsigned i) { return data[i]; }",
           "  const T &operator[](unsigned i) const { return data[i]; } };",
           ""]
    for k, (case, (arrays, x)) in enumerate(zip(cases, draws)):
        out.append(_config(case, k))
        m = case["method"]
        ctype = DATA_TYPES[case["data"]][0]
        f = _grid_frac(case)
        n_x = x.shape[1]
        n_res = case["n_out"] if case["kind"] == "dense" else case["out_h"] * case["out_w"] * case["n_filt"]
        out.append(f"static void run{k}() {{")
        out.append(f"  typedef cfg{k} C; typedef {ctype} data_t; typedef ap_fixed<60, {60 - f}> res_t;")
        args = []
        for name, size in _array_sizes(case, arrays).items():
            if name == "table":
                n, rows = case["n"], len(case["table"])
                out.append(f"  static C::table_t table[{rows}][{n}];")
                out.append(f"  for (int r = 0; r < {rows}; r++) for (int i = 0; i < {n}; i++) read_int(table[r][i]);")
            else:
                out.append(f"  static C::{_TYPES[name]} {name}[{size}];")
                out.append(f"  for (int i = 0; i < {size}; i++) read_int({name}[i]);")
            args.append(name)
        out.append(f"  static data_t x[{n_x}]; static res_t res[{n_res}];")
        out.append(f"  for (int s = 0; s < {x.shape[0]}; s++) {{")
        out.append(f"    for (int i = 0; i < {n_x}; i++) {{ long long r; if (std::scanf(\"%lld\", &r) != 1) r = 0; "
                   "set_raw(x[i], r); }")
        kind = "dense" if case["kind"] == "dense" else "conv2d"
        fn = f"sqnap::{kind}<sqnap::{m}_core, data_t, res_t, C>"
        out.append(f"    {fn}(x, res, {', '.join(args)});")
        out.append(f"    for (int i = 0; i < {n_res}; i++) std::printf(\"%lld \", raw(res[i]));")
        # the io_stream wrapper on the same input: dense reads one value per pack (several reads),
        # conv one pixel (n_chan values) per pack; results follow a '|' on the same line
        in_pack, out_pack = (1, case["n_out"]) if kind == "dense" else (case["n_chan"], case["n_filt"])
        out.append(f"    typedef pk<data_t, {in_pack}> in_p; typedef pk<res_t, {out_pack}> out_p;")
        out.append("    hls::stream<in_p> sin; hls::stream<out_p> sout;")
        out.append(f"    for (int i = 0; i < {n_x // in_pack}; i++) {{ in_p p; "
                   f"for (int k = 0; k < {in_pack}; k++) p[k] = x[i * {in_pack} + k]; sin.write(p); }}")
        out.append(f"    sqnap::{kind}_stream<sqnap::{m}_core, in_p, out_p, C>(sin, sout, {', '.join(args)});")
        out.append("    std::printf(\"| \");")
        out.append(f"    for (int i = 0; i < {n_res // out_pack}; i++) {{ out_p p = sout.read(); "
                   f"for (int k = 0; k < {out_pack}; k++) std::printf(\"%lld \", raw(p[k])); }}")
        out.append("    if (!sin.empty() || !sout.empty()) std::printf(\"STREAM-LEFTOVER\");")
        out.append("    std::printf(\"\\n\");")
        out.append("  }")
        out.append("}")
    out.append("int main() {")
    out.extend(f"  run{k}();" for k in range(len(cases)))
    out.append("  return 0;\n}")
    return "\n".join(out) + "\n"


def _stdin(cases, draws):
    chunks = []
    for case, (arrays, x) in zip(cases, draws):
        for name in _ARRAYS[case["method"]]:
            values = case["table"] if name == "table" else arrays[name]
            chunks.append(" ".join(str(int(v)) for v in np.asarray(values).reshape(-1)))
        chunks.append(" ".join(str(int(v)) for v in x.reshape(-1)))
    return "\n".join(chunks) + "\n"


@pytest.fixture(scope="module")
def random_run(tmp_path_factory):
    rng = np.random.default_rng(20240611)
    cases = _cases()
    layouts = [_geometry(c) for c in cases]
    draws = [_draw(c, rng) for c in cases]
    out = tmp_path_factory.mktemp("sqnap_random")
    (out / "driver.cpp").write_text(_driver(cases, draws))
    exe = _compile(out / "driver.cpp", out / "driver")
    proc = subprocess.run([str(exe)], input=_stdin(cases, draws), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = [[int(v) for v in line.split("|")[0].split()] for line in lines]
    stream_rows = [line.split("|")[1].split() for line in lines]
    results = {}
    for case, layout, draw in zip(cases, layouts, draws):
        results[case["name"]] = (case, layout, draw, rows[:SAMPLES], stream_rows[:SAMPLES])
        rows, stream_rows = rows[SAMPLES:], stream_rows[SAMPLES:]
    return results


@pytest.mark.parametrize("name", [c["name"] for c in _cases()])
def test_random_bit_exact_with_python_reference(random_run, name):
    case, layout, (arrays, xs), rows, _ = random_run[name]
    n_units = case["n_out_units"]
    checked = 0
    for s in range(SAMPLES):
        got = rows[s]
        pixels = _fan_vectors(case, layout, xs[s])
        want = [_reference(case, arrays, vecs[o], o) for vecs in pixels for o in range(n_units)]
        assert len(got) == len(want)
        bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
        assert not bad, f"{name} sample {s}: first mismatches (index, C++, Python) {bad[:5]}"
        checked += len(want)
    assert checked >= SAMPLES * n_units
    # the values are not trivially zero
    assert any(v != 0 for row in rows for v in row)


@pytest.mark.parametrize("name", [c["name"] for c in _cases()])
def test_stream_wrapper_matches_parallel(random_run, name):
    """``sqnap::<dense|conv2d>_stream<core>`` (io_stream) gives the io_parallel kernel's results."""
    case, _, _, rows, stream_rows = random_run[name]
    for s in range(SAMPLES):
        assert "STREAM-LEFTOVER" not in stream_rows[s], f"{name} sample {s}: stream not fully consumed/produced"
        assert [int(v) for v in stream_rows[s]] == rows[s], f"{name} sample {s}: io_stream differs from io_parallel"
