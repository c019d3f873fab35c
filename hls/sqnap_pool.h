// sqnap_pool.h -- pooling on integers (keras_wc's PoolSpec, docs/datapath.md "Pooling").
//
// One kernel for MaxPooling1D/2D, AveragePooling1D/2D and the global poolings (one window per
// map), io_parallel and io_stream. Only real pixels take part (Keras excludes "same" padding):
//   max:     the largest raw integer of the window's real pixels (exact);
//   average: S = sum of the window's n real pixels (exact, CONFIG_T::accum_t);
//            divide == false:  result = S on a grid CONFIG_T::frac bits finer than the input
//                              (every window has the same n = 2**frac: exact);
//            divide == true:   result = round_div_even(S << shift, n) on a grid shift (= frac)
//                              bits finer (half to even, per-window n).
// The result R is written into res_T as R * 2**-(fx + frac) (from_grid<>), exact.
//
// CONFIG_T: in_height, in_width, n_chan, out_height, out_width, pool_height, pool_width,
// stride_height, stride_width, pad_top, pad_left, is_max, divide, shift, frac, reuse_factor,
// accum_t (ap_int<>).
#ifndef SQNAP_POOL_H_
#define SQNAP_POOL_H_

#include "sqnap_common.h"

namespace sqnap {

// round(a / n) to the nearest integer, ties to even, for n >= 1 and any sign of a (floor
// division: C++'s truncating '/' is corrected for negative a). n is a compile-time constant
// once the window loops are unrolled.
template <int W> inline ap_int<W> div_round_even(const ap_int<W> &a, unsigned n) {
    SQNAP_PRAGMA(HLS INLINE)
    ap_int<W + 1> q = a / ap_int<W + 1>(n);
    ap_int<W + 2> r = ap_int<W + 2>(a) - ap_int<W + 2>(q) * n;
    if (r < 0) {
        q -= 1;
        r += n;
    }
    const bool up = 2 * r > ap_int<W + 3>(n) || (2 * r == ap_int<W + 3>(n) && q[0] == 1);
    return ap_int<W>(up ? ap_int<W + 1>(q + 1) : q);
}

// The pooled value of channel c of the window at input column ix0 (col0 = ix0 * n_chan) of an
// output row (its window_rows, sqnap_common.h).
template <class data_T, class res_T, class CONFIG_T, class Source>
inline res_T pool_value(const Source &src, const bool row_inside[CONFIG_T::pool_height],
                        const unsigned row_handle[CONFIG_T::pool_height], int ix0, int col0, unsigned c) {
    SQNAP_PRAGMA(HLS INLINE)
    typedef typename CONFIG_T::accum_t acc_t;
    acc_t acc = 0;
    unsigned count = 0;
// loop PoolY
    for (unsigned ky = 0; ky < CONFIG_T::pool_height; ky++) {
        SQNAP_PRAGMA(HLS UNROLL)
    // loop PoolX
        for (unsigned kx = 0; kx < CONFIG_T::pool_width; kx++) {
            SQNAP_PRAGMA(HLS UNROLL)
            const int ix = ix0 + int(kx);
            if (!row_inside[ky] || ix < 0 || ix >= int(CONFIG_T::in_width)) continue;
            const acc_t x =
                int_view<data_T>::get(src.get(row_handle[ky], unsigned(col0 + int(kx * CONFIG_T::n_chan + c))));
            if (CONFIG_T::is_max)
                acc = (count == 0 || x > acc) ? x : acc;
            else
                acc += x;
            count++;
        }
    }
    if (!CONFIG_T::is_max && CONFIG_T::divide) acc = div_round_even(acc_t(acc << CONFIG_T::shift), count);
    return from_grid<res_T, int_view<data_T>::frac + CONFIG_T::frac>(acc);
}

// One output pixel (every channel) into the sink; the window moves stride_width columns on.
template <class data_T, class res_T, class CONFIG_T, class Source, class Sink>
inline void pool_output(const Source &src, const bool row_inside[CONFIG_T::pool_height],
                        const unsigned row_handle[CONFIG_T::pool_height], int &ix0, int &col0, Sink &sink) {
    SQNAP_PRAGMA(HLS INLINE)
    res_T out[CONFIG_T::n_chan];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=out complete)
// loop PoolChan
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
        SQNAP_PRAGMA(HLS UNROLL)
        out[c] = pool_value<data_T, res_T, CONFIG_T>(src, row_inside, row_handle, ix0, col0, c);
    }
    sink.put(out);
    ix0 += CONFIG_T::stride_width;
    col0 += CONFIG_T::stride_width * CONFIG_T::n_chan;
}

// The output pixels of one output row (its window_rows), one per reuse_factor cycles.
template <class data_T, class res_T> struct pool_row {
    template <class CONFIG_T, class Source, class Sink>
    static void run(const Source &src, const bool row_inside[CONFIG_T::pool_height],
                    const unsigned row_handle[CONFIG_T::pool_height], Sink &sink) {
        SQNAP_PRAGMA(HLS INLINE)
        int ix0 = -int(CONFIG_T::pad_left), col0 = -int(CONFIG_T::pad_left * CONFIG_T::n_chan);
    // loop PoolOutX
        for (unsigned ox = 0; ox < CONFIG_T::out_width; ox++) {
            SQNAP_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
            pool_output<data_T, res_T, CONFIG_T>(src, row_inside, row_handle, ix0, col0, sink);
        }
    }
};

// io_parallel: output pixels in raster order, channel-last, one pixel per reuse_factor cycles.
template <class data_T, class res_T, class CONFIG_T>
void pool2d(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
            res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_chan]) {
    const map_source<data_T, CONFIG_T::in_width, CONFIG_T::n_chan> src(data);
    map_rows rows;
    map_sink<res_T, CONFIG_T::n_chan> sink(res);
    output_rows<pool_row<data_T, res_T>, CONFIG_T, CONFIG_T::pool_height>(src, rows, sink);
}

// io_stream: a line buffer of pool_height rows (sqnap_common.h's row_source), output rows in raster
// order as soon as their windows' rows have arrived; each pixel written as n_chan / res_T::size packs.
template <class data_T, class res_T, class CONFIG_T>
void pool2d_stream(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    const unsigned KH = CONFIG_T::pool_height, SH = CONFIG_T::stride_height;
    const unsigned N_ROW = CONFIG_T::in_width * CONFIG_T::n_chan;
    in_t buffer[KH][N_ROW];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=buffer complete dim=0)
    const row_source<in_t, KH, CONFIG_T::in_width, CONFIG_T::n_chan> src(buffer);
    line_rows<(KH > SH ? KH : SH), KH, CONFIG_T::in_height, N_ROW, data_T, in_t> rows(data, buffer);
    stream_sink<res_T, CONFIG_T::n_chan> sink(res);
    output_rows<pool_row<in_t, out_t>, CONFIG_T, CONFIG_T::pool_height>(src, rows, sink);
    rows.drain();
}

}  // namespace sqnap

#endif
