// C++ unit tests of the SQNAP header library (hls/sqnap_*.h).
//
// Every expected value below is computed by hand from docs/datapath.md in the comment next to
// it. Results are compared as integers on the output grid (raw = value * 2**F).
// Build:  g++ -std=c++17 -Wall -Wextra -Werror -isystem <hls4ml ap_types> -I<hls> test_sqnap.cpp
// Run:    prints one "PASS name" / "FAIL name ..." line per check and "SQNAP_TESTS n_pass n_fail";
//         exit status 0 iff every check passed.
#include <cmath>
#include <cstdio>

#include "sqnap.h"

static int n_pass = 0, n_fail = 0;

static void check(const char *name, long long got, long long want) {
    if (got == want) {
        n_pass++;
        std::printf("PASS %s = %lld\n", name, got);
    } else {
        n_fail++;
        std::printf("FAIL %s: got %lld, want %lld\n", name, got, want);
    }
}

// raw integer of a result on its own grid (value * 2**(W-I))
template <int W, int I> long long raw(const ap_fixed<W, I> &v) {
    ap_int<W> r = 0;
    r.range(W - 1, 0) = v.range(W - 1, 0);
    return r.to_int64();
}

// The reciprocal of an odd D for W-bit dividends (keras_wc.datapath.arith.reciprocal; s <= 62 here).
template <int D, int W> struct recip_shift {
    static const unsigned value = W + (D <= 4 ? 2 : D <= 8 ? 3 : D <= 128 ? 7 : 0);
};
template <int D, int W>
struct recip : sqnap::reciprocal<D, 64, 0ULL, ((1ULL << recip_shift<D, W>::value) + D - 1) / D, recip_shift<D, W>::value> {};

// ---------------------------------------------------------------------------------------------
// shared helpers
static void test_common() {
    // div_round_odd against round-to-nearest of the exact quotient (no ties since D is odd), with the
    // reciprocal keras_wc.datapath.arith.reciprocal makes: s = W + ceil(log2 D), m = ceil(2**s / D)
    int bad = 0;
    for (int a = -2048; a <= 2047; a++) {
        long long w3 = std::llround(double(a) / 3.0), w5 = std::llround(double(a) / 5.0);
        long long w7 = std::llround(double(a) / 7.0), w127 = std::llround(double(a) / 127.0);
        ap_int<12> A = a;
        bad += sqnap::div_round_odd<recip<3, 12> >(A).to_int64() != w3;
        bad += sqnap::div_round_odd<recip<5, 12> >(A).to_int64() != w5;
        bad += sqnap::div_round_odd<recip<7, 12> >(A).to_int64() != w7;
        bad += sqnap::div_round_odd<recip<127, 12> >(A).to_int64() != w127;
    }
    check("div_round_odd every ap_int<12> x D in {3,5,7,127}: mismatches", bad, 0);
    // -37/7 = -5.29 -> -5 ; -39/7 = -5.57 -> -6 (C truncation would give -5) ; 39/7 -> 6
    check("div_round_odd<7>(-37)", sqnap::div_round_odd<recip<7, 10> >(ap_int<10>(-37)).to_int64(), -5);
    check("div_round_odd<7>(-39)", sqnap::div_round_odd<recip<7, 10> >(ap_int<10>(-39)).to_int64(), -6);
    check("div_round_odd<7>(39)", sqnap::div_round_odd<recip<7, 10> >(ap_int<10>(39)).to_int64(), 6);
    // most negative accumulator value: |A| = 2**(W-1) still handled (unsigned magnitude)
    check("div_round_odd<3>(-512) (ap_int<10> min)", sqnap::div_round_odd<recip<3, 10> >(ap_int<10>(-512)).to_int64(),
          -171);
    // a reciprocal wider than 62 bits (the HI word): 70-bit accumulator, D = 7
    typedef sqnap::reciprocal<7, 71, 292ULL, 2635249153387078803ULL, 73> wide7;  // m = ceil(2**73 / 7)
    ap_int<70> big = 1;
    big = (big << 68) + 12345;  // 2**68 + 12345
    ap_int<70> want = big / 7;   // 2**68 + 12345 = 7 * q + r, r < 3.5 -> rounds down
    check("div_round_odd<7> on 70 bits (HI word used)", (sqnap::div_round_odd<wide7>(big) - want).to_int64(), 0);
    // int_view: raw bits of ap_fixed / ap_ufixed
    ap_fixed<8, 3> xs = -3.25;  // raw = -3.25 * 32 = -104
    ap_ufixed<8, 3> xu = 3.25;  // raw = 104
    check("int_view<ap_fixed<8,3>>(-3.25)", sqnap::int_view<ap_fixed<8, 3> >::get(xs).to_int64(), -104);
    check("int_view<ap_ufixed<8,3>>(3.25)", sqnap::int_view<ap_ufixed<8, 3> >::get(xu).to_int64(), 104);
    check("int_view<ap_fixed<8,3>>::frac", sqnap::int_view<ap_fixed<8, 3> >::frac, 5);
    // from_grid with F < 0 (grid coarser than 1): A = -5, F = -3 -> value -40
    ap_fixed<16, 12> g = sqnap::from_grid<ap_fixed<16, 12>, -3>(ap_int<8>(-5));
    check("from_grid<F=-3>(-5) value", (long long)g.to_double(), -40);
}

// the shared epilogue's alignment shift: none (one entry for the whole layer)
static const ap_uint<1> align0[1] = {0};

// input used by several dense tests: ap_fixed<8,4> (fx = 4) with raw integers [5, 6, -1]
typedef ap_fixed<8, 4> in84_t;
static void load_x(in84_t x[3]) {
    x[0] = 5 / 16.0;
    x[1] = 6 / 16.0;
    x[2] = -1 / 16.0;
}

// ---------------------------------------------------------------------------------------------
// SWC fixed, sw_bits = 4 -> D = 7; maw_frac = 2; groups of 2 over n_in = 3 (last group padded)
struct swc_fixed_cfg {
    static const unsigned n_in = 3, n_out = 4, n_groups = 2, group_size = 2, reuse_factor = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_out;
    static const unsigned sw_bits = 4;
    static const bool sw_po2 = false;
    static const int maw_frac = 2;
    static const int frac = 2, denominator = 7;  // F = frac + fx; D = 2**(sw_bits-1)-1
    typedef recip<7, 24> reciprocal;             // for the 24-bit accum_t
    static const unsigned n_align = 1;
    typedef sqnap::unscaled scaling;
    typedef ap_uint<1> align_t;
    typedef ap_int<4> code_t;
    typedef ap_uint<8> maw_t;
    typedef ap_int<16> bias_t;
    typedef ap_int<12> psum_t;
    typedef ap_int<24> accum_t;
};
// Resource: 3 outputs per round, so the second of two rounds computes output 3 alone.
struct swc_fixed_resource_cfg : swc_fixed_cfg {
    static const unsigned strategy = sqnap::resource, outputs_per_round = 3, reuse_factor = 2;
};
template <class CFG> static void test_swc_fixed() {
    in84_t x[3];
    load_x(x);  // raw [5, 6, -1 | pad 0]
    const ap_int<4> codes[4 * 4] = {3, -7, 2, 0,   // o0
                                    1, -7, 0, 0,   // o1
                                    0, -7, 0, 0,   // o2
                                    7, 0, 0, 0};   // o3
    const ap_uint<8> maw[4 * 2] = {9, 4, 1, 5, 1, 0, 1, 0};
    const ap_int<16> bias[4] = {0, 0, 3, 4};
    ap_fixed<24, 18> res[4];  // grid F = maw_frac + fx = 6
    sqnap::dense<sqnap::swc_core, in84_t, ap_fixed<24, 18>, CFG>(x, res, codes, maw, align0, bias);
    // o0: P0 = 3*5 - 7*6 = -27, P1 = 2*(-1) = -2; A = 9*(-27) + 4*(-2) = -251; -251/7 = -35.86 -> -36
    check("swc fixed o0 round(-251/7)", raw(res[0]), -36);
    // o1: P0 = 5 - 42 = -37; A = -37; -37/7 = -5.29 -> -5 (floor division would give -6)
    check("swc fixed o1 round(-37/7)", raw(res[1]), -5);
    // o2: A = -42 + bias 3 = -39; -39/7 = -5.57 -> -6 (truncating division would give -5)
    check("swc fixed o2 round(-39/7)", raw(res[2]), -6);
    // o3: A = 35 + 4 = 39 -> 5.57 -> 6
    check("swc fixed o3 round(39/7)", raw(res[3]), 6);
}

// SWC po2, sw_bits = 3 -> J = 2, code sign*(j+1) = sign*2**-j -> x << (J - j) = x << (3 - |c|)
struct swc_po2_cfg : swc_fixed_cfg {
    static const unsigned n_out = 1, n_groups = 1, group_size = 3, outputs_per_round = 1;
    static const unsigned sw_bits = 3;
    static const bool sw_po2 = true;
    static const int maw_frac = 1;
    static const int frac = 3, denominator = 1;  // maw_frac + J; po2 has no division
    typedef ap_int<3> code_t;
};
static void test_swc_po2() {
    in84_t x[3];
    load_x(x);
    const ap_int<3> codes[3] = {1, -3, 2};
    const ap_uint<8> maw[1] = {3};
    const ap_int<16> bias[1] = {0};
    ap_fixed<24, 17> res[1];  // grid F = maw_frac + fx + J = 1 + 4 + 2 = 7
    sqnap::dense<sqnap::swc_core, in84_t, ap_fixed<24, 17>, swc_po2_cfg>(x, res, codes, maw, align0, bias);
    // P = (5 << 2) - (6 << 0) + (-1 << 1) = 20 - 6 - 2 = 12; A = 3 * 12 = 36.
    // Check by floats: 1.5 * (5/16*1 - 6/16*(1/4) - 1/16*(1/2)) = 18/64 = 36/128.
    check("swc po2 A", raw(res[0]), 36);
}

// ---------------------------------------------------------------------------------------------
// DFP per channel: fl = [3, 1] -> frac = 3, shift = [0, 2]; input ap_ufixed<6,2> (fx = 4)
struct dfp_cfg {
    static const unsigned n_in = 2, n_out = 2, n_groups = 1, group_size = 2, reuse_factor = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_out;
    static const unsigned n_align = 2;
    typedef sqnap::unscaled scaling;
    static const int frac = 3, denominator = 1;
    typedef ap_int<5> code_t;
    typedef ap_uint<2> align_t;
    typedef ap_int<12> bias_t;
    typedef ap_int<16> accum_t;
};
static void test_dfp() {
    ap_ufixed<6, 2> x[2];
    x[0] = 3 / 16.0;   // raw 3
    x[1] = 10 / 16.0;  // raw 10
    const ap_int<5> codes[4] = {5, -2, -8, 7};
    const ap_uint<2> align[2] = {0, 2};
    const ap_int<12> bias[2] = {0, 1};  // on the common grid 2**-(frac+fx) = 2**-7, added after the shift
    ap_fixed<20, 13> res[2];            // grid F = frac + fx = 7
    sqnap::dense<sqnap::dfp_core, ap_ufixed<6, 2>, ap_fixed<20, 13>, dfp_cfg>(x, res, codes, align, bias);
    // o0: 5*3 - 2*10 = -5 (fl 3, no shift)
    check("dfp o0", raw(res[0]), -5);
    // o1: -8*3 + 7*10 = 46 on grid 2**-5, << 2 -> 184 on grid 2**-7, + bias 1 -> 185
    check("dfp o1 per-channel shift then bias", raw(res[1]), 185);
}

// ---------------------------------------------------------------------------------------------
// Po2: e_min = -3; code sign*(e - e_min + 1), 0 = zero -> x << (|c| - 1)
struct po2_cfg {
    static const unsigned n_in = 3, n_out = 2, n_groups = 1, group_size = 3, reuse_factor = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_out;
    static const int e_min = -3;
    static const int frac = 3, denominator = 1;  // frac = -e_min
    static const unsigned n_align = 1;
    typedef sqnap::unscaled scaling;
    typedef ap_uint<1> align_t;
    typedef ap_int<4> code_t;
    typedef ap_int<12> bias_t;
    typedef ap_int<16> accum_t;
};
static void test_po2() {
    in84_t x[3];
    load_x(x);  // raw [5, 6, -1]
    const ap_int<4> codes[6] = {0, 1, -4,   // o0: zero, +2**-3, -2**0
                                3, 0, 0};   // o1: +2**-1
    const ap_int<12> bias[2] = {0, -1};
    ap_fixed<20, 13> res[2];  // grid F = fx - e_min = 7
    sqnap::dense<sqnap::po2_core, in84_t, ap_fixed<20, 13>, po2_cfg>(x, res, codes, align0, bias);
    // o0: 0 + (6 << 0) - (-1 << 3) = 6 + 8 = 14 (= 6/16/8 + 1/16 = 14/128)
    check("po2 o0 (zero code, negative input)", raw(res[0]), 14);
    // o1: (5 << 2) - 1 = 19
    check("po2 o1", raw(res[1]), 19);
}

// ---------------------------------------------------------------------------------------------
// SparseTernary (4,1): a 9-pattern ROM of this test's own: 0 = 0000, 1..4 = +e_(i-1), 5..8 = -e_(i-5)
struct tern_cfg {
    static const unsigned n_in = 8, n_out = 2, n_groups = 2, group_size = 4, reuse_factor = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_out;
    static const unsigned n_patterns = 9, n_delta = 2, n_mean = 2;
    static const bool normalize = false, unit_delta = false;
    static const int delta_frac = 3;
    static const int frac = 3, denominator = 1;
    static const unsigned n_align = 1;
    typedef sqnap::unscaled scaling;
    typedef ap_uint<1> align_t;
    typedef ap_uint<4> code_t;
    typedef ap_int<2> table_t;
    typedef ap_uint<6> delta_t;
    typedef ap_int<6> mean_t;
    typedef ap_int<12> bias_t;
    typedef ap_int<12> psum_t;
    typedef ap_int<20> accum_t;
};
struct tern_norm_cfg : tern_cfg {
    static const bool normalize = true;
};
struct tern_po2_cfg : tern_cfg {  // power-of-two delta: delta[] is never read
    static const bool unit_delta = true;
};
static const ap_int<2> tern_table[9][4] = {{0, 0, 0, 0},  {1, 0, 0, 0},  {0, 1, 0, 0},  {0, 0, 1, 0}, {0, 0, 0, 1},
                                           {-1, 0, 0, 0}, {0, -1, 0, 0}, {0, 0, -1, 0}, {0, 0, 0, -1}};
static void test_ternary() {
    typedef ap_fixed<8, 6> in_t;  // fx = 2
    in_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (i + 1) / 4.0;  // raw [1..8]
    const ap_uint<4> codes[4] = {3, 8,   // o0: pattern 3 = +e2 (x2 = 3), pattern 8 = -e3 (x7 = 8)
                                 0, 1};  // o1: pattern 0 = nothing, pattern 1 = +e0 (x4 = 5)
    const ap_uint<6> delta[2] = {5, 2};
    const ap_int<6> mean[2] = {-1, 3};
    const ap_int<12> bias[2] = {0, 7};
    ap_fixed<24, 19> res[2];  // grid F = delta_frac + fx = 5
    sqnap::dense<sqnap::ternary_core, in_t, ap_fixed<24, 19>, tern_cfg>(x, res, codes, tern_table, delta, mean, align0, bias);
    // o0: P = 3 - 8 = -5, A = 5 * -5 = -25
    check("ternary o0 table[3],table[8]", raw(res[0]), -25);
    // o1: P = 5, A = 2*5 + 7 = 17
    check("ternary o1 table[0],table[1] + bias", raw(res[1]), 17);
    sqnap::dense<sqnap::ternary_core, in_t, ap_fixed<24, 19>, tern_norm_cfg>(x, res, codes, tern_table, delta, mean, align0, bias);
    // normalize: + mean * sum x, sum x = 36: o0 = -25 - 36 = -61, o1 = 17 + 3*36 = 125
    check("ternary normalize o0", raw(res[0]), -61);
    check("ternary normalize o1", raw(res[1]), 125);
    sqnap::dense<sqnap::ternary_core, in_t, ap_fixed<24, 19>, tern_po2_cfg>(x, res, codes, tern_table, delta, mean, align0, bias);
    // unit delta: A = P: o0 = -5, o1 = 5 + 7 = 12
    check("ternary unit delta o0", raw(res[0]), -5);
    check("ternary unit delta o1", raw(res[1]), 12);
}

// ---------------------------------------------------------------------------------------------
// PolyApprox degree 2, per-output coefficients, groups of 3; input ap_int<8> (fx = 0)
struct poly2_cfg {
    static const unsigned n_in = 6, n_out = 1, n_groups = 2, group_size = 3, reuse_factor = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_out;
    static const unsigned degree = 2, n_coef_out = 1 * 1;  // one output: per-output == shared
    static const int coef_frac = 2;
    static const int frac = 2, denominator = 1;
    static const unsigned n_align = 1;
    typedef sqnap::unscaled scaling;
    typedef ap_uint<1> align_t;
    typedef ap_uint<2> code_t;
    typedef ap_int<4> coef_t;
    typedef ap_int<12> bias_t;
    typedef ap_int<12> psum_t;
    typedef ap_int<20> accum_t;
};
// degree 1 with coefficients shared by the layer (group "layer": n_coef_out = 1, one group)
struct poly1_layer_cfg {
    static const unsigned n_in = 6, n_out = 2, n_groups = 1, group_size = 6, reuse_factor = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_out;
    static const unsigned degree = 1, n_coef_out = 1;
    static const int coef_frac = 2;
    static const int frac = 2, denominator = 1;
    static const unsigned n_align = 1;
    typedef sqnap::unscaled scaling;
    typedef ap_uint<1> align_t;
    typedef ap_uint<2> code_t;
    typedef ap_int<4> coef_t;
    typedef ap_int<12> bias_t;
    typedef ap_int<12> psum_t;
    typedef ap_int<20> accum_t;
};
// degree 1, per-output coefficients, 2 groups (exercises the non-shared S0 path)
struct poly1_cfg : poly1_layer_cfg {
    static const unsigned n_groups = 2, group_size = 3, n_coef_out = 2;
};
static void test_poly() {
    ap_int<8> x[6] = {1, 2, 3, 4, 5, 6};
    {
        const ap_uint<2> k[6] = {0, 1, 2, 3, 0, 1};
        const ap_int<4> coef[6] = {1, -2, 3, -1, 0, 1};  // g0: a,b,c = 1,-2,3 ; g1: -1,0,1
        const ap_int<12> bias[1] = {0};
        ap_fixed<24, 22> res[1];  // F = coef_frac + 0 = 2
        sqnap::dense<sqnap::poly_core, ap_int<8>, ap_fixed<24, 22>, poly2_cfg>(x, res, k, coef, align0, bias);
        // g0: S0 = 6, S1 = 0+2+6 = 8, S2 = 0+2+12 = 14 -> 6 - 16 + 42 = 32
        // g1: S0 = 15, S1 = 12+0+6 = 18, S2 = 36+0+6 = 42 -> -15 + 0 + 42 = 27 ; A = 59
        check("poly deg2 S0/S1/S2", raw(res[0]), 59);
    }
    {
        const ap_uint<2> k[12] = {0, 1, 2, 3, 0, 1,   // o0
                                  3, 3, 3, 0, 0, 0};  // o1
        const ap_int<4> coef[2] = {2, -1};            // a = 2, b = -1 shared by the layer
        const ap_int<12> bias[2] = {0, -4};
        ap_fixed<24, 22> res[2];
        sqnap::dense<sqnap::poly_core, ap_int<8>, ap_fixed<24, 22>, poly1_layer_cfg>(x, res, k, coef, align0, bias);
        // shared a*S0 = 2*21 = 42. o0: S1 = 0+2+6+12+0+6 = 26 -> 16 ; o1: S1 = 18 -> 24 - 4 = 20
        check("poly deg1 layer-shared o0", raw(res[0]), 16);
        check("poly deg1 layer-shared o1", raw(res[1]), 20);
        const ap_int<4> coef2[8] = {2, -1, 1, 1,    // o0: g0 (2,-1), g1 (1,1)
                                    0, 1, -3, 2};   // o1: g0 (0,1),  g1 (-3,2)
        sqnap::dense<sqnap::poly_core, ap_int<8>, ap_fixed<24, 22>, poly1_cfg>(x, res, k, coef2, align0, bias);
        // o0: g0 S0=6, S1=8 -> 12-8 = 4 ; g1 S0=15, S1=18 -> 15+18 = 33 ; A = 37
        // o1: g0 S0=6, S1=3*6=18 -> 18 ; g1 S0=15, S1=0 -> -45 ; A = -27 - 4 = -31
        check("poly deg1 per-output o0", raw(res[0]), 37);
        check("poly deg1 per-output o1", raw(res[1]), -31);
    }
}

// ---------------------------------------------------------------------------------------------
// Conv gather. Input 3x3x2, raw x[(y*3+x)*2 + c] = 10*(y*3+x) + c + 1; DFP codes one-hot so that
// each filter reads back one fan-in position. Kernel 3x3, stride 2, 'same': out 2x2, TF padding
// total = (2-1)*2 + 3 - 3 = 2 -> pad_top = pad_left = 1.
struct conv_same_cfg {
    static const unsigned in_height = 3, in_width = 3, n_chan = 2, out_height = 2, out_width = 2, n_filt = 4;
    static const unsigned filt_height = 3, filt_width = 3, stride_height = 2, stride_width = 2;
    static const unsigned pad_top = 1, pad_left = 1;
    static const bool kernel_major = false, depthwise = false;
    static const unsigned n_groups = 1, group_size = 18, reuse_factor = 1, n_align = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_filt;
    typedef sqnap::unscaled scaling;
    static const int frac = 0, denominator = 1;
    typedef ap_int<2> code_t;
    typedef ap_uint<1> align_t;
    typedef ap_int<8> bias_t;
    typedef ap_int<16> accum_t;
};
struct conv_same_km_cfg : conv_same_cfg {
    static const bool kernel_major = true;
};
template <class CFG> static void run_conv_same(const char *tag, unsigned j0, unsigned j1, unsigned j2) {
    ap_int<8> x[18];
    for (int p = 0; p < 9; p++)
        for (int c = 0; c < 2; c++) x[p * 2 + c] = 10 * p + c + 1;
    ap_int<2> codes[4 * 18];
    for (int i = 0; i < 72; i++) codes[i] = 0;
    codes[0 * 18 + j0] = 1;                            // filter 0 reads (ky=0,kx=0,c=0)
    codes[1 * 18 + j1] = 1;                            // filter 1 reads (ky=1,kx=1,c=1)
    codes[2 * 18 + j2] = 1;                            // filter 2 reads (ky=2,kx=2,c=0)
    for (int j = 0; j < 18; j++) codes[3 * 18 + j] = 1;  // filter 3: window sum
    const ap_uint<1> align[1] = {0};
    const ap_int<8> bias[4] = {0, 0, 0, 0};
    ap_fixed<16, 16> res[2 * 2 * 4];
    sqnap::conv2d<sqnap::dfp_core, ap_int<8>, ap_fixed<16, 16>, CFG>(x, res, codes, align, bias);
    char name[96];
    // expected[pixel][filter]; pixel (oy,ox) covers iy = 2*oy-1..2*oy+1, ix likewise
    const long long want[4][4] = {
        {0, 2, 41, 172},    // (0,0): (-1,-1) pad ; (0,0,c1) = 2 ; (1,1,c0) = 41 ; p in {0,1,3,4}: 20p+3
        {0, 22, 0, 0},      // (0,1): (-1,1) pad ; (0,2,c1) = 22 ; (1,3) pad ; filter 3 below
        {0, 62, 0, 0},      // (1,0): (1,-1) pad ; (2,0,c1) = 62 ; (3,1) pad
        {41, 82, 0, 492}};  // (1,1): (1,1,c0) = 41 ; (2,2,c1) = 82 ; (3,3) pad ; p in {4,5,7,8}
    // filter 3 at (0,1): p in {1,2,4,5} -> 20*12+12 = 252 ; at (1,0): p in {3,4,6,7} -> 20*20+12 = 412
    const long long want3[4] = {172, 252, 412, 492};
    for (int px = 0; px < 4; px++) {
        for (int f = 0; f < 3; f++) {
            std::snprintf(name, sizeof name, "%s pixel %d filter %d", tag, px, f);
            check(name, raw(res[px * 4 + f]), want[px][f]);
        }
        std::snprintf(name, sizeof name, "%s pixel %d filter 3 (window sum)", tag, px);
        check(name, raw(res[px * 4 + 3]), want3[px]);
    }
}

// Depthwise: 3x3x2 input, 2x2 kernel, valid, stride 1, depth_multiplier 2 -> n_filt 4, out 2x2.
struct dw_cfg {
    static const unsigned in_height = 3, in_width = 3, n_chan = 2, out_height = 2, out_width = 2, n_filt = 4;
    static const unsigned filt_height = 2, filt_width = 2, stride_height = 1, stride_width = 1;
    static const unsigned pad_top = 0, pad_left = 0;
    static const bool kernel_major = false, depthwise = true;
    static const unsigned n_groups = 1, group_size = 4, reuse_factor = 1, n_align = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_filt;
    typedef sqnap::unscaled scaling;
    static const int frac = 0, denominator = 1;
    typedef ap_int<3> code_t;
    typedef ap_uint<1> align_t;
    typedef ap_int<8> bias_t;
    typedef ap_int<16> accum_t;
};
struct dw_resource_cfg : dw_cfg {  // one output per round: 4 rounds per pixel
    static const unsigned strategy = sqnap::resource, outputs_per_round = 1, reuse_factor = 4;
};
struct conv_same_resource_cfg : conv_same_cfg {  // 3 outputs per round: rounds of 3 and 1
    static const unsigned strategy = sqnap::resource, outputs_per_round = 3, reuse_factor = 2;
};
template <class CFG> static void test_depthwise() {
    ap_int<8> x[18];
    for (int p = 0; p < 9; p++)
        for (int c = 0; c < 2; c++) x[p * 2 + c] = 10 * p + c + 1;
    // output o = c*2 + m, fan-in j = ky*2 + kx over input channel c
    const ap_int<3> codes[16] = {1, 0, 0, 0,   // o0 (c0): x(oy, ox, c0)
                                 0, 0, 0, 1,   // o1 (c0): x(oy+1, ox+1, c0)
                                 1, 1, 1, 1,   // o2 (c1): 2x2 window sum of c1
                                 0, 2, 0, 0};  // o3 (c1): 2 * x(oy, ox+1, c1)
    const ap_uint<1> align[1] = {0};
    const ap_int<8> bias[4] = {0, 0, 0, 0};
    ap_fixed<16, 16> res[16];
    sqnap::conv2d<sqnap::dfp_core, ap_int<8>, ap_fixed<16, 16>, CFG>(x, res, codes, align, bias);
    // pixel (0,0): 1 ; p4 c0 = 41 ; c1 at p {0,1,3,4} = 2+12+32+42 = 88 ; 2*12 = 24
    check("depthwise (0,0) o0", raw(res[0]), 1);
    check("depthwise (0,0) o1", raw(res[1]), 41);
    check("depthwise (0,0) o2", raw(res[2]), 88);
    check("depthwise (0,0) o3", raw(res[3]), 24);
    // pixel (1,1): p4 c0 = 41 ; p8 c0 = 81 ; c1 at p {4,5,7,8} = 42+52+72+82 = 248 ; 2*52 = 104
    check("depthwise (1,1) o0", raw(res[12]), 41);
    check("depthwise (1,1) o1", raw(res[13]), 81);
    check("depthwise (1,1) o2", raw(res[14]), 248);
    check("depthwise (1,1) o3", raw(res[15]), 104);
}

// Conv1D: width 5, one channel, kernel 3, stride 2, 'same' -> out 3, pad_left 1.
struct conv1d_cfg {
    static const unsigned in_width = 5, n_chan = 1, out_width = 3, n_filt = 1;
    static const unsigned filt_width = 3, stride_width = 2, pad_left = 1;
    static const bool kernel_major = false, depthwise = false;
    static const unsigned n_groups = 1, group_size = 3, reuse_factor = 1, n_align = 1;
    static const unsigned strategy = sqnap::latency, outputs_per_round = n_filt;
    typedef sqnap::unscaled scaling;
    static const int frac = 0, denominator = 1;
    typedef ap_int<8> code_t;
    typedef ap_uint<1> align_t;
    typedef ap_int<8> bias_t;
    typedef ap_int<16> accum_t;
};
static void test_conv1d() {
    ap_int<8> x[5] = {1, 2, 3, 4, 5};
    const ap_int<8> codes[3] = {1, 10, 100};
    const ap_uint<1> align[1] = {0};
    const ap_int<8> bias[1] = {0};
    ap_fixed<16, 16> res[3];
    sqnap::conv1d<sqnap::dfp_core, ap_int<8>, ap_fixed<16, 16>, conv1d_cfg>(x, res, codes, align, bias);
    // out[ox] = x[2ox-1] + 10 x[2ox] + 100 x[2ox+1]: 0+10+200, 2+30+400, 4+50+0
    check("conv1d same stride 2 out0", raw(res[0]), 210);
    check("conv1d same stride 2 out1", raw(res[1]), 432);
    check("conv1d same stride 2 out2", raw(res[2]), 54);
}

int main() {
    test_common();
    test_swc_fixed<swc_fixed_cfg>();
    test_swc_fixed<swc_fixed_resource_cfg>();
    test_swc_po2();
    test_dfp();
    test_po2();
    test_ternary();
    test_poly();
    // auto order j = (ky*3+kx)*2 + c: (0,0,0) -> 0, (1,1,1) -> 9, (2,2,0) -> 16
    run_conv_same<conv_same_cfg>("conv2d same s2 auto", 0, 9, 16);
    // kernel_major j = c*9 + ky*3 + kx: (0,0,0) -> 0, (1,1,1) -> 13, (2,2,0) -> 8
    run_conv_same<conv_same_km_cfg>("conv2d same s2 kernel_major", 0, 13, 8);
    run_conv_same<conv_same_resource_cfg>("conv2d same s2 auto, resource", 0, 9, 16);
    test_depthwise<dw_cfg>();
    test_depthwise<dw_resource_cfg>();
    test_conv1d();
    std::printf("SQNAP_TESTS %d %d\n", n_pass, n_fail);
    return n_fail == 0 ? 0 : 1;
}
