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

// The pooled value of channel c at output pixel (oy, ox).
template <class data_T, class res_T, class CONFIG_T, class Source>
inline res_T pool_value(const Source &src, unsigned oy, unsigned ox, unsigned c) {
    SQNAP_PRAGMA(HLS INLINE)
    typedef typename CONFIG_T::accum_t acc_t;
    acc_t acc = 0;
    unsigned count = 0;
// loop PoolY
    for (unsigned ky = 0; ky < CONFIG_T::pool_height; ky++) {
    // loop PoolX
        for (unsigned kx = 0; kx < CONFIG_T::pool_width; kx++) {
            const int iy = int(oy * CONFIG_T::stride_height + ky) - int(CONFIG_T::pad_top);
            const int ix = int(ox * CONFIG_T::stride_width + kx) - int(CONFIG_T::pad_left);
            if (iy < 0 || iy >= int(CONFIG_T::in_height) || ix < 0 || ix >= int(CONFIG_T::in_width)) continue;
            const acc_t x = int_view<data_T>::get(src.get(unsigned(iy), unsigned(ix), c));
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

// One output pixel: every channel.
template <class data_T, class res_T, class CONFIG_T, class Source>
inline void pool_pixel(const Source &src, unsigned oy, unsigned ox, res_T out[CONFIG_T::n_chan]) {
    SQNAP_PRAGMA(HLS INLINE)
// loop PoolChan
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
        SQNAP_PRAGMA(HLS UNROLL)
        out[c] = pool_value<data_T, res_T, CONFIG_T>(src, oy, ox, c);
    }
}

// io_parallel: output pixels in raster order, channel-last, one pixel per reuse_factor cycles.
template <class data_T, class res_T, class CONFIG_T>
void pool2d(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
            res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_chan]) {
    const unsigned C = CONFIG_T::n_chan;
    const map_source<data_T, CONFIG_T::in_width, C> src(data);
// loop PoolOutY
    for (unsigned oy = 0; oy < CONFIG_T::out_height; oy++) {
    // loop PoolOutX
        for (unsigned ox = 0; ox < CONFIG_T::out_width; ox++) {
            SQNAP_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
            res_T out[C];
            SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=out complete)
            pool_pixel<data_T, res_T, CONFIG_T>(src, oy, ox, out);
        // loop PoolStore
            for (unsigned c = 0; c < C; c++) {
                SQNAP_PRAGMA(HLS UNROLL)
                res[(oy * CONFIG_T::out_width + ox) * C + c] = out[c];
            }
        }
    }
}

// io_stream: a line buffer of pool_height rows (sqnap_common.h's row_source), output rows in raster
// order as soon as their windows' rows have arrived; each pixel written as n_chan / res_T::size packs.
template <class data_T, class res_T, class CONFIG_T>
void pool2d_stream(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    const unsigned KH = CONFIG_T::pool_height, SH = CONFIG_T::stride_height, H = CONFIG_T::in_height;
    const unsigned N_ROW = CONFIG_T::in_width * CONFIG_T::n_chan;
    in_t rows[KH][N_ROW];
    SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=rows complete dim=0)
    unsigned loaded = 0;
    const row_source<in_t, KH, CONFIG_T::in_width, CONFIG_T::n_chan> src(rows);
// loop PoolStreamOutY
    for (unsigned oy = 0; oy < CONFIG_T::out_height; oy++) {
        load_rows<(KH > SH ? KH : SH), KH, H, N_ROW>(data, rows, loaded, last_row_of<KH, SH, CONFIG_T::pad_top>(oy));
    // loop PoolStreamOutX
        for (unsigned ox = 0; ox < CONFIG_T::out_width; ox++) {
            SQNAP_PRAGMA(HLS PIPELINE II=CONFIG_T::reuse_factor)
            out_t y[CONFIG_T::n_chan];
            SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=y complete)
            pool_pixel<in_t, out_t, CONFIG_T>(src, oy, ox, y);
            write_packs<res_T, CONFIG_T::n_chan>(res, y);
        }
    }
    drain_rows<H, N_ROW>(data, loaded);
}

}  // namespace sqnap

#endif
