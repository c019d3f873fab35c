// sqnap_common.h -- shared machinery of the SQNAP accelerator (keras_wc).
//
// Arithmetic (docs/datapath.md): every kernel works on INTEGERS.
//   * An activation `x` of type ap_fixed<W,I> (or ap_ufixed / ap_int / ap_uint) is used through
//     its raw integer bits  x_int = x * 2**fx,  fx = W - I  (int_view<>).
//   * Inside a group the per-weight terms are shift-adds only (Term policies below):
//       mul_term      c * x          (code of <= a few bits: a shift-add)
//       po2_term      sign(c) * (x << (BASE + DIR*|c|)),  0 for c == 0
//       sq_term       k*k * x        (poly S2)
//       sign_term     t * x, t in {-1,0,1}  (ternary: add / subtract / skip)
//   * The integer accumulator A (CONFIG_T::accum_t, an ap_int<>) is exact; the layer result is
//     A * 2**-F, F = (weight fractional length) + fx, written into res_T by from_grid<>.
//   * div_round_odd<R>(A): round-to-nearest of A / D for an odd constant D (SWC fixed) by the
//     multiplication of |A| + (D-1)/2 with a reciprocal constant R (no divider). Ties cannot happen.
//
// Entry points, generic over the method (a Core struct in the method's own header):
//   dense<Core>, conv2d<Core>, conv1d<Core>                 : io_parallel
//   dense_stream<Core>, conv2d_stream<Core>, conv1d_stream<Core> : io_stream
// Loop skeletons shared by every method:
//   dense_driver<Core>  : raw-integer fan-in vector of the Dense input, then Core::outputs.
//   conv2d_driver<Core> : for each output pixel, gather the receptive field (zero padding for
//                         `same`, strides, kernel_major order, depthwise) into fan-in vector(s),
//                         then Core::outputs. Conv1D uses the same driver (conv1d_as_2d).
//   dense_stream<Core>, conv2d_stream<Core>, conv1d_stream<Core> : the io_stream wrappers (hls4ml
//                         streams of pixel packs, data_T::size values each): read the whole input
//                         into a local buffer, compute with the io_parallel machinery above, write
//                         the outputs pack by pack (conv: one output pixel per reuse_factor cycles).
//   A Core is a struct with
//     template<class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
//     static void outputs(const x_t fan[NV][PAD], res_T res[N_OUT], unsigned o0, weights..., align, bias)
//   that forms the integer A of outputs o = o0 .. o0 + CONFIG_T::outputs_per_round - 1 (those
//   below N_OUT) and writes res[o] = finish<data_T, res_T, CONFIG_T>(A, o, align, bias).
//   NV = number of fan-in vectors (1, or n_chan for depthwise), output o reads vector
//   fan_vector_of<NV, N_OUT>(o).
//
// Two architectures per layer (CONFIG_T::strategy, hls4ml's Strategy):
//   latency  : every output of a pixel in one round (outputs_per_round = n_out), the pixel (or
//              the Dense) pipelined at II = reuse_factor; the weights are constants folded into
//              the datapath (shift-add trees); its `mul` operations -- the full multiplications,
//              products by codes being shift_add_term -- are limited to CONFIG_T::multiplier_limit
//              = ceil(full multiplications / reuse_factor) by ALLOCATION, as hls4ml's Latency kernels.
//   resource : the SQNAP processor. The weight arrays are ROMs reshaped so that one word holds
//              one round's codes (ARRAY_RESHAPE cyclic, depth = number of rounds); a pipelined
//              Rounds loop (II = 1) computes outputs_per_round = ceil(n_out / reuse_factor)
//              outputs per cycle on that many processing elements, each fan-in wide, with one
//              full multiplier per group (SWC, poly) or per output (ternary) — the rest of the
//              products are code x input shift-adds on codes read from the ROM.
//
// Weights reach the cores as compile-time constants: the top passes hls4ml's weight arrays (file-scope,
// literal initializers under __SYNTHESIS__) to the layer's one non-inlined function -- its process
// under the DATAFLOW top: conv2d_driver, dense_schedule<>::run, dense_stream, conv2d_stream -- and
// every function from there to the core is INLINE (tests/test_hls_strategy.py checks both).
//
// HLS pragmas are written through SQNAP_PRAGMA(HLS ...) (C99 _Pragma), emitted when __SYNTHESIS__
// (Vivado/Vitis HLS) or SQNAP_EMIT_PRAGMAS is defined, so that plain g++ -Wall (C simulation)
// does not warn about unknown pragmas. No dynamic memory, no recursion, static sizes only.
#ifndef SQNAP_COMMON_H_
#define SQNAP_COMMON_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"

// SQNAP_PRAGMA(HLS ...) is `#pragma HLS ...` exactly as written: '#' stringizes its argument
// WITHOUT expanding macros in it. (A two-level stringize would expand it first, and the vendor
// ap_common.h defines INLINE as `inline __attribute__((always_inline))` under __SYNTHESIS__.)
#if defined(__SYNTHESIS__) || defined(SQNAP_EMIT_PRAGMAS)
#define SQNAP_PRAGMA(...) _Pragma(#__VA_ARGS__)
#else
#define SQNAP_PRAGMA(...)
#endif
// DATA_PACK for a struct written to an hls::stream: Vivado HLS only (Vitis HLS aggregates structs
// itself and has no DATA_PACK), as hls4ml's PRAGMA_DATA_PACK.
#if (defined(__SYNTHESIS__) && !defined(__VITIS_HLS__)) || defined(SQNAP_EMIT_PRAGMAS)
#define SQNAP_DATA_PACK(v) SQNAP_PRAGMA(HLS DATA_PACK variable=v)
#else
#define SQNAP_DATA_PACK(v)
#endif

namespace sqnap {

// ----------------------------------------------------------------------------------------
// compile-time helpers
template <bool C, class A, class B> struct select { typedef A type; };
template <class A, class B> struct select<false, A, B> { typedef B type; };

// Index of a per-output array of N entries (N == 1: shared by the layer).
template <unsigned N> inline unsigned per_out_index(unsigned o) { return N == 1 ? 0u : o; }

// Fan-in vector read by output o (depthwise: o = c*MULT + m reads vector c).
template <unsigned NV, unsigned N_OUT> inline unsigned fan_vector_of(unsigned o) {
    return NV == 1 ? 0u : o / (N_OUT / NV);
}

// ----------------------------------------------------------------------------------------
// integer view of an activation type: type (raw integer), frac (fx), get(x) (raw bits)
template <class T> struct int_view;
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N> struct int_view<ap_fixed<W, I, Q, O, N> > {
    typedef ap_int<W> type;
    static const int frac = W - I;
    static type get(const ap_fixed<W, I, Q, O, N> &x) {
        SQNAP_PRAGMA(HLS INLINE)
        type r = 0;
        r.range(W - 1, 0) = x.range(W - 1, 0);
        return r;
    }
};
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N> struct int_view<ap_ufixed<W, I, Q, O, N> > {
    typedef ap_uint<W> type;
    static const int frac = W - I;
    static type get(const ap_ufixed<W, I, Q, O, N> &x) {
        SQNAP_PRAGMA(HLS INLINE)
        type r = 0;
        r.range(W - 1, 0) = x.range(W - 1, 0);
        return r;
    }
};
template <int W> struct int_view<ap_int<W> > {
    typedef ap_int<W> type;
    static const int frac = 0;
    static type get(const ap_int<W> &x) { return x; }
};
template <int W> struct int_view<ap_uint<W> > {
    typedef ap_uint<W> type;
    static const int frac = 0;
    static type get(const ap_uint<W> &x) { return x; }
};

// CONFIG_T::strategy (hls4ml's Strategy of the layer)
enum strategy_t { latency = 0, resource = 1 };

// The values one Resource round reads from an array of PER_OUTPUT values per output: the factor
// of its cyclic ROM reshape (one ROM word per round). whole_array<N>: an array every round reads.
template <class CONFIG_T, unsigned PER_OUTPUT> struct round_words {
    static const unsigned value = CONFIG_T::outputs_per_round * PER_OUTPUT;
};
template <unsigned N> struct whole_array {
    static const unsigned value = N;
};
// The epilogue's per-output arrays (bias; align when it is per output) of a Resource core, as ROMs of
// one round's values per word: SQNAP_EPILOGUE_ROMS, written inside a core's
// `if (CONFIG_T::strategy == resource)` block, whose last two arguments are `align` and `bias`.
#define SQNAP_EPILOGUE_ROMS                                                                    \
    SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=bias cyclic factor=CONFIG_T::outputs_per_round)    \
    if (CONFIG_T::n_align > 1) {                                                               \
        SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=align cyclic factor=CONFIG_T::outputs_per_round) \
    }

// ----------------------------------------------------------------------------------------
// results and rounding

// The value A * 2**-F as res_T. The raw bits of A are reinterpreted as ap_fixed<W, W-F> (exact,
// F may be negative or exceed W), then converted to res_T with res_T's own quantization and
// overflow modes (exact whenever res_T holds the accumulator grid, as the writer guarantees).
template <class res_T, int F, int W> inline res_T from_grid(const ap_int<W> &a) {
    SQNAP_PRAGMA(HLS INLINE)
    ap_fixed<W, W - F> v = 0;
    v.range(W - 1, 0) = a.range(W - 1, 0);
    res_T r = v;
    return r;
}

// A reciprocal of the odd constant D for unsigned dividends below 2**W: n / D == (n * m) >> SHIFT
// (truncated), m = HI * 2**62 + LO of BITS bits, from keras_wc.datapath.arith.reciprocal (exact for
// every such n: Granlund and Montgomery 1994). Emitted per layer as CONFIG_T::reciprocal.
template <int D, unsigned BITS, unsigned long long HI, unsigned long long LO, unsigned SHIFT> struct reciprocal {
    static const int divisor = D;
    static const unsigned bits = BITS, shift = SHIFT;
    static ap_uint<BITS> multiplier() {
        SQNAP_PRAGMA(HLS INLINE)
        ap_uint<BITS> m = HI;
        m = (m << 62) | ap_uint<BITS>(LO);
        return m;
    }
};

// round(a / D) to nearest for the odd constant D = R::divisor > 1 (no ties exist), with no divider:
// the magnitude plus (D-1)/2 times the constant R::multiplier(), shifted right by R::shift — one
// constant multiplication. |a| <= 2**(W-1), so the dividend |a| + (D-1)/2 stays below 2**W (the
// width R was made for). -37/7 = -5.29 -> -5 and -39/7 = -5.57 -> -6.
template <class R, int W> inline ap_int<W> div_round_odd(const ap_int<W> &a) {
    SQNAP_PRAGMA(HLS INLINE)
    static_assert(R::divisor > 1 && (R::divisor % 2) == 1, "div_round_odd: D must be odd and above 1");
    const bool neg = a < 0;
    ap_uint<W> mag = neg ? ap_uint<W>(-a) : ap_uint<W>(a);
    ap_uint<W + 1> num = mag;
    num += (R::divisor - 1) / 2;
    ap_uint<W + 1 + R::bits> product = num * R::multiplier();  // the constant multiplication
    ap_uint<W> q = product >> R::shift;
    ap_int<W> r = q;
    return neg ? ap_int<W>(-r) : r;
}

// The epilogue's division by CONFIG_T::denominator: none when it is 1 (then CONFIG_T needs no
// reciprocal), else div_round_odd by CONFIG_T::reciprocal.
template <bool BY_ONE> struct division {
    template <class CONFIG_T, int W> static ap_int<W> apply(const ap_int<W> &a) {
        SQNAP_PRAGMA(HLS INLINE)
        return div_round_odd<typename CONFIG_T::reciprocal>(a);
    }
};
template <> struct division<true> {
    template <class CONFIG_T, int W> static ap_int<W> apply(const ap_int<W> &a) { return a; }
};

// CONFIG_T::scaling of a layer without a folded BatchNormalization: R unchanged. (A folded one is
// a struct of the layer's config whose apply(R, o) returns R * scale[o] + offset[o], exactly.)
struct unscaled {
    template <class R> static R apply(const R &r, unsigned) { return r; }
};

// The epilogue shared by every Core (the datapath's CompressedSpec arithmetic, docs/datapath.md):
//   A' = (A << align[o]) + bias[o]      align: onto the layer's common grid (per-channel DFP
//                                       fractional lengths, extra bits of an off-grid float bias)
//   R  = round(A' / D)                  D = CONFIG_T::denominator (odd; 1: no division), by the
//                                       constant multiplication of CONFIG_T::reciprocal
//   S  = CONFIG_T::scaling::apply(R, o) a folded BatchNormalization (R * scale[o] + offset[o]), or R
//   result = S * 2**-F,  F = CONFIG_T::frac + fx
// A and A' are exact in CONFIG_T::accum_t (sized for A'), S in the scaling's result type; the
// stored codes keep their own widths.
template <class data_T, class res_T, class CONFIG_T>
inline res_T finish(typename CONFIG_T::accum_t acc, unsigned o,
                    const typename CONFIG_T::align_t align[CONFIG_T::n_align],
                    const typename CONFIG_T::bias_t bias[]) {
    SQNAP_PRAGMA(HLS INLINE)
    acc = acc << align[per_out_index<CONFIG_T::n_align>(o)];
    acc += bias[o];
    acc = division<CONFIG_T::denominator == 1>::template apply<CONFIG_T>(acc);
    return from_grid<res_T, CONFIG_T::frac + int_view<data_T>::frac>(CONFIG_T::scaling::apply(acc, o));
}

// ----------------------------------------------------------------------------------------
// per-weight terms (shift-add only)
struct mul_term {  // c * x: a full multiplication (DFP codes of more than 4 bits)
    template <class P, class C, class X> static P apply(const C &c, const X &x) {
        SQNAP_PRAGMA(HLS INLINE)
        P r = c * x;
        return r;
    }
};
// c * x with no multiplier: x shifted by each set bit of |c| and added, negated for c < 0 (an
// adder per set bit of a constant code; per code bit for a code read from ROM). C is an ap_int /
// ap_uint code type. Every `*` of the datapath is then a full multiplication of the cost model,
// which the Latency architecture's ALLOCATION limit counts.
struct shift_add_term {
    template <class P, class C, class X> static P apply(const C &c, const X &x) {
        SQNAP_PRAGMA(HLS INLINE)
        const int B = C::width;
        const ap_int<B + 1> code = c;
        const bool neg = code < 0;
        const ap_uint<B> mag = neg ? ap_uint<B>(-code) : ap_uint<B>(code);
        P v = x;
        P r = 0;
    // loop CodeBits
        for (int b = 0; b < B; b++) {
            SQNAP_PRAGMA(HLS UNROLL)
            if (mag[b]) r += v << b;
        }
        return neg ? P(-r) : r;
    }
};
struct sq_term {  // c*c * x (poly S2: k**2 * x_i) as two shift-add stages, k * (k * x)
    template <class P, class C, class X> static P apply(const C &c, const X &x) {
        SQNAP_PRAGMA(HLS INLINE)
        return shift_add_term::apply<P>(c, shift_add_term::apply<P>(c, x));
    }
};
struct sign_term {  // t * x, t in {-1, 0, 1}: add, subtract or skip
    template <class P, class C, class X> static P apply(const C &t, const X &x) {
        SQNAP_PRAGMA(HLS INLINE)
        P v = x;
        P r = 0;
        if (t > 0) r = v;
        if (t < 0) r = -v;
        return r;
    }
};
// sign(c) * (x << (BASE + DIR*|c|)), 0 when c == 0.
//   SWC po2: BASE = J+1, DIR = -1 (code sign*(j+1) -> shift J-j);  Po2: BASE = -1, DIR = +1.
template <int BASE, int DIR> struct po2_term {
    template <class P, class C, class X> static P apply(const C &c, const X &x) {
        SQNAP_PRAGMA(HLS INLINE)
        const int m = c < 0 ? -int(c) : int(c);
        P v = x;
        v = v << (BASE + DIR * m);
        P r = 0;
        if (c > 0) r = v;
        if (c < 0) r = -v;
        return r;
    }
};

// P = sum_{i<GS} Term(c[c0+i], x[x0+i]): the shift-add sum of one group.
template <class Term, class P, unsigned GS, class X, class C>
inline P group_sum(const X *x, unsigned x0, const C *c, unsigned c0) {
    SQNAP_PRAGMA(HLS INLINE)
    P p = 0;
// loop GroupSum
    for (unsigned i = 0; i < GS; i++) {
        SQNAP_PRAGMA(HLS UNROLL)
        p += Term::template apply<P>(c[c0 + i], x[x0 + i]);
    }
    return p;
}

// sum over all groups of one output's fan-in: sum_g group_sum(g) (DFP, Po2: no group scale).
template <class Term, class P, unsigned NG, unsigned GS, class X, class C>
inline P fan_sum(const X *x, const C *c, unsigned o) {
    SQNAP_PRAGMA(HLS INLINE)
    P a = 0;
    // loop FanGroups
    for (unsigned g = 0; g < NG; g++) {
        SQNAP_PRAGMA(HLS UNROLL)
        a += group_sum<Term, P, GS>(x, g * GS, c, (o * NG + g) * GS);
    }
    return a;
}

// A Core whose every weight is its own operand, with no per-group scale:
//   A_o = sum_i Term(c_i, x_i)       (DFP: mul_term; Po2: po2_term<-1, 1>; binary: sign_term)
template <class Term> struct per_weight_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT], unsigned o0,
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups * CONFIG_T::group_size],
                        const typename CONFIG_T::align_t align[CONFIG_T::n_align],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_PRAGMA(HLS INLINE)
        typedef typename CONFIG_T::accum_t accum_t;
        const unsigned U = CONFIG_T::outputs_per_round;
        typedef round_words<CONFIG_T, CONFIG_T::n_groups * CONFIG_T::group_size> code_words;
        static_assert(code_words::value <= N_OUT * CONFIG_T::n_groups * CONFIG_T::group_size, "ROM word > array");
        if (CONFIG_T::strategy == resource) {  // ROM: one word = one round's codes
            SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=codes cyclic factor=code_words::value)
            SQNAP_EPILOGUE_ROMS
        }
        // loop Outputs
        for (unsigned u = 0; u < U; u++) {
            SQNAP_PRAGMA(HLS UNROLL)
            const unsigned o = o0 + u;
            if (o >= N_OUT) continue;
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            accum_t acc = fan_sum<Term, accum_t, CONFIG_T::n_groups, CONFIG_T::group_size>(fan[v], codes, o);
            res[o] = finish<data_T, res_T, CONFIG_T>(acc, o, align, bias);
        }
    }
};

// sum_{i<N} x[x0+i]: input-only sums (poly S0, ternary sum x), shared by all outputs.
template <class P, unsigned N, class X> inline P input_sum(const X *x, unsigned x0) {
    SQNAP_PRAGMA(HLS INLINE)
    P s = 0;
    // loop InputSum
    for (unsigned i = 0; i < N; i++) {
        SQNAP_PRAGMA(HLS UNROLL)
        s += x[x0 + i];
    }
    return s;
}

// ----------------------------------------------------------------------------------------
// receptive-field gather
//
// Conv geometry fields of G (see hls/README.md): in_height, in_width, n_chan, out_height,
// out_width, n_filt, filt_height, filt_width, stride_height, stride_width, pad_top, pad_left,
// kernel_major, depthwise, n_groups, group_size. Fan-in order:
//   auto:          j = (ky*KW + kx)*C + c
//   kernel_major:  j = c*(KH*KW) + ky*KW + kx
//   depthwise:     vector c, j = ky*KW + kx
// Positions outside the input (`same` padding) and padded positions j >= fan_in hold 0.
template <class P, unsigned N, class T> void read_packs(hls::stream<P> &in, T buf[N]);
template <class P, unsigned N, class T> void write_packs(hls::stream<P> &out, const T vals[N]);

// Where a window reads its input. A source maps an input row iy (inside the map) to a row handle
// once per output row -- outside the pipelined pixel loop, so that loop computes no row address --
// and reads value `col` = ix * n_chan + c of a handled row.
// map_source: the whole channel-last map (io_parallel), handle = iy * W * C.
template <class T, unsigned W, unsigned C> struct map_source {
    const T *data;
    explicit map_source(const T *d) : data(d) {}
    unsigned row(unsigned iy) const {
        SQNAP_PRAGMA(HLS INLINE)
        return iy * (W * C);
    }
    T get(unsigned handle, unsigned col) const {
        SQNAP_PRAGMA(HLS INLINE)
        return data[handle + col];
    }
};

// row_source: the io_stream line buffer rows[R][W*C], the last R input rows only (R = the window
// height); input row iy lives in rows[iy % R], its handle. load_rows/drain_rows fill it from the stream.
template <class T, unsigned R, unsigned W, unsigned C> struct row_source {
    const T (*rows)[W * C];
    explicit row_source(const T r[R][W * C]) : rows(r) {}
    unsigned row(unsigned iy) const {
        SQNAP_PRAGMA(HLS INLINE)
        return iy % R;
    }
    T get(unsigned handle, unsigned col) const {
        SQNAP_PRAGMA(HLS INLINE)
        return rows[handle][col];
    }
};

// The window rows of an output row whose windows start at input row iy0 (may be negative with
// padding): per window row ky, whether input row iy0 + ky is inside the map, and its handle.
template <unsigned KH, unsigned H, class Source>
void window_rows(const Source &src, int iy0, bool inside[KH], unsigned handle[KH]) {
    SQNAP_PRAGMA(HLS INLINE)
// loop WindowRows
    for (unsigned ky = 0; ky < KH; ky++) {
        SQNAP_PRAGMA(HLS UNROLL)
        const int iy = iy0 + int(ky);
        inside[ky] = iy >= 0 && iy < int(H);
        handle[ky] = inside[ky] ? src.row(unsigned(iy)) : 0u;
    }
}

// Read input rows from the stream into the line buffer until row `last` (clamped to H - 1) is
// in; `loaded` counts the rows read so far. NEW bounds the rows one call may need.
template <unsigned NEW, unsigned R, unsigned H, unsigned N_ROW, class P, class T>
void load_rows(hls::stream<P> &in, T rows[R][N_ROW], unsigned &loaded, int last) {
    SQNAP_PRAGMA(HLS INLINE)
    const int upto = last < int(H) - 1 ? last : int(H) - 1;
// loop LoadRows
    for (unsigned r = 0; r < NEW; r++) {
        if (int(loaded) <= upto) {
            read_packs<P, N_ROW>(in, rows[loaded % R]);
            loaded++;
        }
    }
}

// Read (and drop) the input rows no window needed (a `valid` remainder at the bottom).
template <unsigned H, unsigned N_ROW, class P> void drain_rows(hls::stream<P> &in, unsigned loaded) {
    SQNAP_PRAGMA(HLS INLINE)
    typename P::value_type skipped[N_ROW];
// loop DrainRows
    for (unsigned r = 0; r < H; r++) {
        if (r >= loaded) read_packs<P, N_ROW>(in, skipped);
    }
}

// What an output row needs before its windows are read: map_rows (io_parallel: the whole map is
// there) or line_rows (io_stream: the line buffer read from the stream up to the windows' last row;
// drain() then drops the rows no window needs).
struct map_rows {
    void load(int) {}
};
template <unsigned NEW, unsigned R, unsigned H, unsigned N_ROW, class P, class T> struct line_rows {
    hls::stream<P> &in;
    T (*rows)[N_ROW];
    unsigned loaded;
    line_rows(hls::stream<P> &s, T r[R][N_ROW]) : in(s), rows(r), loaded(0) {}
    void load(int last) {
        SQNAP_PRAGMA(HLS INLINE)
        load_rows<NEW, R, H, N_ROW>(in, rows, loaded, last);
    }
    void drain() {
        SQNAP_PRAGMA(HLS INLINE)
        drain_rows<H, N_ROW>(in, loaded);
    }
};

template <class G> struct conv_shape {
    static const unsigned nv = G::depthwise ? G::n_chan : 1;
    static const unsigned pad = G::n_groups * G::group_size;
};

// The receptive field of the window at input column ix0 (col0 = ix0 * n_chan, kept by the caller
// as a running value) of an output row (its window_rows) into the fan-in vector(s). Every index is
// a sum of the running values and constants: no multiplication in the pixel loop.
template <class data_T, class G, class Source>
void gather(const Source &src, const bool row_inside[G::filt_height], const unsigned row_handle[G::filt_height],
            int ix0, int col0, typename int_view<data_T>::type fan[conv_shape<G>::nv][conv_shape<G>::pad]) {
    SQNAP_PRAGMA(HLS INLINE)
    typedef typename int_view<data_T>::type x_t;
    const unsigned NV = conv_shape<G>::nv, PAD = conv_shape<G>::pad;
    const unsigned KH = G::filt_height, KW = G::filt_width, C = G::n_chan;
// loop ClearV
    for (unsigned v = 0; v < NV; v++) {
    // loop ClearJ
        for (unsigned j = 0; j < PAD; j++) {
            SQNAP_PRAGMA(HLS UNROLL)
            fan[v][j] = 0;
        }
    }
// loop KernelY
    for (unsigned ky = 0; ky < KH; ky++) {
        SQNAP_PRAGMA(HLS UNROLL)
    // loop KernelX
        for (unsigned kx = 0; kx < KW; kx++) {
            SQNAP_PRAGMA(HLS UNROLL)
            const int ix = ix0 + int(kx);
            const bool inside = row_inside[ky] && ix >= 0 && ix < int(G::in_width);
        // loop Chan
            for (unsigned c = 0; c < C; c++) {
                SQNAP_PRAGMA(HLS UNROLL)
                x_t x = 0;
                if (inside) x = int_view<data_T>::get(src.get(row_handle[ky], unsigned(col0 + int(kx * C + c))));
                const unsigned k = ky * KW + kx;
                if (G::depthwise)
                    fan[G::depthwise ? c : 0][k] = x;
                else if (G::kernel_major)
                    fan[0][c * (KH * KW) + k] = x;
                else
                    fan[0][k * C + c] = x;
            }
        }
    }
}

// Conv1D geometry seen as a Conv2D of height 1.
template <class C1> struct conv1d_as_2d : C1 {
    static const unsigned in_height = 1;
    static const unsigned out_height = 1;
    static const unsigned filt_height = 1;
    static const unsigned stride_height = 1;
    static const unsigned pad_top = 0;
};

// ----------------------------------------------------------------------------------------
// loop skeletons

// All N_OUT outputs of one fan-in: ceil(N_OUT / outputs_per_round) rounds of Core::outputs.
// latency: one round, inside the caller's pipelined region; resource: the Rounds loop is the
// pipeline (II = 1, one ROM word per round), so outputs_per_round processing elements serve
// every output.
template <class Core, class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT, class... W>
void all_outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                 res_T res[N_OUT], const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    const unsigned U = CONFIG_T::outputs_per_round, ROUNDS = (N_OUT + U - 1) / U;
    static_assert(U >= 1 && U <= N_OUT, "outputs_per_round must be in 1..n_out");
    static_assert(CONFIG_T::strategy == resource || U == N_OUT, "latency computes every output in one round");
// loop Rounds
    for (unsigned r = 0; r < ROUNDS; r++) {
        if (CONFIG_T::strategy == resource) {
            SQNAP_PRAGMA(HLS PIPELINE II=1)
        }
        Core::template outputs<data_T, res_T, CONFIG_T, NV, N_OUT>(fan, res, r * U, w...);
    }
}

// Dense, io_parallel: one pipelined call, II = reuse_factor.
template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
void dense_driver(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out], const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    typedef typename int_view<data_T>::type x_t;
    const unsigned PAD = CONFIG_T::n_groups * CONFIG_T::group_size;
    static_assert(PAD >= CONFIG_T::n_in, "n_groups*group_size must cover n_in");
    x_t fan[1][PAD];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=fan complete dim=0)
// loop Load
    for (unsigned j = 0; j < PAD; j++) {
        SQNAP_PRAGMA(HLS UNROLL)
        fan[0][j] = j < CONFIG_T::n_in ? x_t(int_view<data_T>::get(data[j < CONFIG_T::n_in ? j : 0])) : x_t(0);
    }
    all_outputs<Core, data_T, res_T, CONFIG_T, 1, CONFIG_T::n_out>(fan, res, w...);
}

// One output pixel of a Conv2D / depthwise Conv2D (the window at column ix0 of an output row):
// gather the receptive field from the input (a map_source or a row_source), then Core::outputs
// into out[n_filt].
template <class Core, class data_T, class res_T, class CONFIG_T, class Source, class... W>
void conv_pixel(const Source &src, const bool row_inside[CONFIG_T::filt_height],
                const unsigned row_handle[CONFIG_T::filt_height], int ix0, int col0, res_T out[CONFIG_T::n_filt],
                const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    typedef typename int_view<data_T>::type x_t;
    const unsigned NV = conv_shape<CONFIG_T>::nv, PAD = conv_shape<CONFIG_T>::pad;
    static_assert(CONFIG_T::depthwise || PAD >= CONFIG_T::filt_height * CONFIG_T::filt_width * CONFIG_T::n_chan,
                  "n_groups*group_size must cover the fan-in");
    static_assert(!CONFIG_T::depthwise ||
                      (CONFIG_T::n_filt % CONFIG_T::n_chan == 0 && PAD >= CONFIG_T::filt_height * CONFIG_T::filt_width),
                  "depthwise: n_filt = n_chan*depth_multiplier, fan-in filt_height*filt_width");
    x_t fan[NV][PAD];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=fan complete dim=0)
    gather<data_T, CONFIG_T>(src, row_inside, row_handle, ix0, col0, fan);
    all_outputs<Core, data_T, res_T, CONFIG_T, NV, CONFIG_T::n_filt>(fan, out, w...);
}

// Where a conv's output pixels go, in raster order: map_sink, the channel-last output array of
// io_parallel (the next pixel's offset kept as a running value); stream_sink, n / P::size packs.
template <class T, unsigned N> struct map_sink {
    T *res;
    unsigned next;
    explicit map_sink(T *r) : res(r), next(0) {}
    void put(const T out[N]) {
        SQNAP_PRAGMA(HLS INLINE)
    // loop Store
        for (unsigned f = 0; f < N; f++) {
            SQNAP_PRAGMA(HLS UNROLL)
            res[next + f] = out[f];
        }
        next += N;
    }
};
template <class P, unsigned N> struct stream_sink {
    hls::stream<P> &res;
    explicit stream_sink(hls::stream<P> &r) : res(r) {}
    void put(const typename P::value_type out[N]) {
        SQNAP_PRAGMA(HLS INLINE)
        write_packs<P, N>(res, out);
    }
};

// One output pixel into the sink; the window moves stride_width columns on.
template <class Core, class data_T, class res_T, class CONFIG_T, class Source, class Sink, class... W>
void conv_output(const Source &src, const bool row_inside[CONFIG_T::filt_height],
                 const unsigned row_handle[CONFIG_T::filt_height], int &ix0, int &col0, Sink &sink, const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    res_T out[CONFIG_T::n_filt];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=out complete)
    conv_pixel<Core, data_T, res_T, CONFIG_T>(src, row_inside, row_handle, ix0, col0, out, w...);
    sink.put(out);
    ix0 += CONFIG_T::stride_width;
    col0 += CONFIG_T::stride_width * CONFIG_T::n_chan;
}

// The output pixels of one output row (its window_rows) of a Conv2D, scheduled by the layer's
// strategy. latency: the pixel loop pipelined at II = reuse_factor, its mul operations (the full
// multiplications: index arithmetic is running sums) limited to multiplier_limit by ALLOCATION;
// resource: not pipelined -- each pixel's Rounds loop is. (Two specializations rather than
// pragmas under `if`, so that each pragma's scope is the loop body itself.)
template <class Core, class data_T, class res_T, unsigned STRATEGY> struct conv_row {
    template <class CONFIG_T, class Source, class Sink, class... W>
    static void run(const Source &src, const bool row_inside[CONFIG_T::filt_height],
                    const unsigned row_handle[CONFIG_T::filt_height], Sink &sink, const W &...w) {
        SQNAP_PRAGMA(HLS INLINE)
        int ix0 = -int(CONFIG_T::pad_left), col0 = -int(CONFIG_T::pad_left * CONFIG_T::n_chan);
    // loop OutX
        for (unsigned ox = 0; ox < CONFIG_T::out_width; ox++) {
            SQNAP_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
            SQNAP_PRAGMA(HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit)
            conv_output<Core, data_T, res_T, CONFIG_T>(src, row_inside, row_handle, ix0, col0, sink, w...);
        }
    }
};
template <class Core, class data_T, class res_T> struct conv_row<Core, data_T, res_T, resource> {
    template <class CONFIG_T, class Source, class Sink, class... W>
    static void run(const Source &src, const bool row_inside[CONFIG_T::filt_height],
                    const unsigned row_handle[CONFIG_T::filt_height], Sink &sink, const W &...w) {
        SQNAP_PRAGMA(HLS INLINE)
        int ix0 = -int(CONFIG_T::pad_left), col0 = -int(CONFIG_T::pad_left * CONFIG_T::n_chan);
    // loop OutX
        for (unsigned ox = 0; ox < CONFIG_T::out_width; ox++) {
            conv_output<Core, data_T, res_T, CONFIG_T>(src, row_inside, row_handle, ix0, col0, sink, w...);
        }
    }
};

// Every output row of a window layer (a conv, or pooling: sqnap_pool.h) of window height KH: its
// input rows loaded (Rows), its window rows resolved once, then Row::run computes its pixels into
// the sink. Output rows in raster order.
template <class Row, class G, unsigned KH, class Source, class Rows, class Sink, class... W>
void output_rows(const Source &src, Rows &rows, Sink &sink, const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    bool row_inside[KH];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=row_inside complete)
    unsigned row_handle[KH];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=row_handle complete)
    int iy0 = -int(G::pad_top);
// loop OutY
    for (unsigned oy = 0; oy < G::out_height; oy++) {
        rows.load(iy0 + int(KH) - 1);
        window_rows<KH, G::in_height>(src, iy0, row_inside, row_handle);
        Row::template run<G>(src, row_inside, row_handle, sink, w...);
        iy0 += G::stride_height;
    }
}

// Conv2D / depthwise Conv2D, io_parallel: channel-last (res[(oy*out_width + ox)*n_filt + f]);
// latency: one pixel per reuse_factor cycles; resource: one pixel per ceil(n_filt /
// outputs_per_round) rounds.
template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
void conv2d_driver(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                   res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_filt], const W &...w) {
    const map_source<data_T, CONFIG_T::in_width, CONFIG_T::n_chan> src(data);
    map_rows rows;
    map_sink<res_T, CONFIG_T::n_filt> sink(res);
    output_rows<conv_row<Core, data_T, res_T, CONFIG_T::strategy>, CONFIG_T, CONFIG_T::filt_height>(src, rows, sink,
                                                                                                  w...);
}

// ----------------------------------------------------------------------------------------
// io_parallel entry points: one per layer kind, generic over the method's Core. The weights
// W... are the method's arrays in its argument order, then align, then bias (docs/hls_api.md).

// The Dense computation as scheduled by its strategy. latency: one pipelined region, II =
// reuse_factor; resource: the Rounds loop inside dense_driver is the pipeline.
template <unsigned STRATEGY> struct dense_schedule {
    template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
    static void run(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out], const W &...w) {
        SQNAP_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
        SQNAP_PRAGMA(HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit)
        dense_driver<Core, data_T, res_T, CONFIG_T>(data, res, w...);
    }
};
template <> struct dense_schedule<resource> {
    template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
    static void run(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out], const W &...w) {
        dense_driver<Core, data_T, res_T, CONFIG_T>(data, res, w...);
    }
};

// Dense.
template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
void dense(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out], const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    dense_schedule<CONFIG_T::strategy>::template run<Core, data_T, res_T, CONFIG_T>(data, res, w...);
}

// Conv2D / depthwise Conv2D: output pixels in raster order, one per reuse_factor cycles.
template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
void conv2d(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
            res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_filt], const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    conv2d_driver<Core, data_T, res_T, CONFIG_T>(data, res, w...);
}

// Conv1D: the Conv2D driver on a height-1 geometry.
template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
void conv1d(const data_T data[CONFIG_T::in_width * CONFIG_T::n_chan],
            res_T res[CONFIG_T::out_width * CONFIG_T::n_filt], const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    conv2d_driver<Core, data_T, res_T, conv1d_as_2d<CONFIG_T> >(data, res, w...);
}

// ----------------------------------------------------------------------------------------
// io_stream wrappers
//
// hls4ml's io_stream passes activations as hls::stream<P> of packs P (nnet::array<T, N>: a
// `value_type`, a `static const unsigned size` and operator[]), channel-last: one pack per pixel
// with size = n_chan for conv layers; a Dense input may arrive in several packs (after an
// in-place Flatten of an image: one pack per pixel), n_in % size == 0.
//
// Conv and pooling layers keep only the last filt_height input rows (row_source above) and emit
// each output row as soon as its windows' input rows have arrived: input and compute overlap, and
// on-chip activation storage is filt_height * in_width * n_chan values (the conv's
// line buffer), not the whole map. A Dense layer needs its whole input vector.

// Read n packs of P into buf (n * P::size values), one pack per cycle.
template <class P, unsigned N, class T> void read_packs(hls::stream<P> &in, T buf[N]) {
    SQNAP_PRAGMA(HLS INLINE)
    static_assert(N % P::size == 0, "stream pack size must divide the number of values");
// loop ReadPacks
    for (unsigned i = 0; i < N / P::size; i++) {
        SQNAP_PRAGMA(HLS PIPELINE)
        const P pack = in.read();
    // loop Unpack
        for (unsigned k = 0; k < P::size; k++) {
            SQNAP_PRAGMA(HLS UNROLL)
            buf[i * P::size + k] = pack[k];
        }
    }
}

// Write the N values of vals as N / P::size packs.
template <class P, unsigned N, class T> void write_packs(hls::stream<P> &out, const T vals[N]) {
    SQNAP_PRAGMA(HLS INLINE)
    static_assert(N % P::size == 0, "stream pack size must divide the number of values");
// loop WritePacks
    for (unsigned i = 0; i < N / P::size; i++) {
        P pack;
        SQNAP_DATA_PACK(pack)
    // loop Pack
        for (unsigned k = 0; k < P::size; k++) {
            SQNAP_PRAGMA(HLS UNROLL)
            pack[k] = vals[i * P::size + k];
        }
        out.write(pack);
    }
}

// Dense, io_stream: n_in / data_T::size packs in, n_out / res_T::size packs out.
template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
void dense_stream(hls::stream<data_T> &data, hls::stream<res_T> &res, const W &...w) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    in_t x[CONFIG_T::n_in];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=x complete)
    out_t y[CONFIG_T::n_out];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=y complete)
    read_packs<data_T, CONFIG_T::n_in>(data, x);
    dense_schedule<CONFIG_T::strategy>::template run<Core, in_t, out_t, CONFIG_T>(x, y, w...);
    write_packs<res_T, CONFIG_T::n_out>(res, y);
}

// Conv2D / depthwise Conv2D, io_stream, through a line buffer of filt_height rows: output rows in
// raster order, each after the input rows its windows need; one output pixel per reuse_factor
// cycles (latency) or per ceil(n_filt / outputs_per_round) rounds (resource), written as it is done (n_filt / res_T::size packs per pixel; hls4ml: res_T::size = n_filt).
template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
void conv2d_stream(hls::stream<data_T> &data, hls::stream<res_T> &res, const W &...w) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    const unsigned KH = CONFIG_T::filt_height, SH = CONFIG_T::stride_height;
    const unsigned N_ROW = CONFIG_T::in_width * CONFIG_T::n_chan;
    in_t buffer[KH][N_ROW];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=buffer complete dim=0)
    const row_source<in_t, KH, CONFIG_T::in_width, CONFIG_T::n_chan> src(buffer);
    line_rows<(KH > SH ? KH : SH), KH, CONFIG_T::in_height, N_ROW, data_T, in_t> rows(data, buffer);
    stream_sink<res_T, CONFIG_T::n_filt> sink(res);
    output_rows<conv_row<Core, in_t, out_t, CONFIG_T::strategy>, CONFIG_T, CONFIG_T::filt_height>(src, rows, sink,
                                                                                                w...);
    rows.drain();
}

// Conv1D / depthwise Conv1D, io_stream.
template <class Core, class data_T, class res_T, class CONFIG_T, class... W>
void conv1d_stream(hls::stream<data_T> &data, hls::stream<res_T> &res, const W &...w) {
    SQNAP_PRAGMA(HLS INLINE)
    conv2d_stream<Core, data_T, res_T, conv1d_as_2d<CONFIG_T> >(data, res, w...);
}

}  // namespace sqnap

#endif
