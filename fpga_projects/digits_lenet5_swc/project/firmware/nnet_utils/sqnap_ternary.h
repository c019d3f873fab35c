// sqnap_ternary.h -- structured sparse ternary ((n,k) pattern code) kernels of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, METHODS.md section 4), integers only, x = raw input integers:
//   per group (n = group_size weights) one pattern index codes[o][g]; the pattern ROM
//   table[code][i] in {-1, 0, +1} is Encoding.table written by the backend as a static const
//   array (the canonical order is the quantizer's, so it is not re-derived here).
//   P_o = sum_g sum_i table[codes[o][g]][i] * x_i        -- look-up, add/subtract only
//   A_o = bias_o + delta_o * P_o  (+ mean_o * sum_i x_i  when CONFIG_T::normalize)
//         -- ONE full multiplication by delta per output (plus one by mean when normalized;
//            sum_i x_i is input-only and shared by every output of the fan-in vector)
//   result_o = A_o * 2**-F,  F = delta_frac + fx   (bias: round(b * 2**(delta_frac+fx)))
// delta / mean hold n_delta / n_mean entries: n_out (per output unit) or 1 (per layer).
#ifndef SQNAP_TERNARY_H_
#define SQNAP_TERNARY_H_

#include "sqnap_common.h"

namespace sqnap {

struct ternary_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT],
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups],
                        const typename CONFIG_T::table_t table[CONFIG_T::n_patterns][CONFIG_T::group_size],
                        const typename CONFIG_T::delta_t delta[CONFIG_T::n_delta],
                        const typename CONFIG_T::mean_t mean[CONFIG_T::n_mean],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_HLS(INLINE)
        SQNAP_HLS(ARRAY_PARTITION variable=table complete dim=2)
        const unsigned NG = CONFIG_T::n_groups, GS = CONFIG_T::group_size;
        const int F = CONFIG_T::delta_frac + int_view<data_T>::frac;
        typedef typename CONFIG_T::accum_t accum_t;
        typedef typename CONFIG_T::psum_t psum_t;
        psum_t sum_x[NV];  // input-only: computed once per fan-in vector (normalize)
        SQNAP_HLS(ARRAY_PARTITION variable=sum_x complete)
        // loop SumX
        for (unsigned v = 0; v < NV; v++) {
            SQNAP_HLS(UNROLL)
            sum_x[v] = CONFIG_T::normalize ? input_sum<psum_t, NG * GS>(fan[v], 0) : psum_t(0);
        }
        // loop Outputs
        for (unsigned o = 0; o < N_OUT; o++) {
            SQNAP_HLS(UNROLL)
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            psum_t p = 0;
            // loop Groups
            for (unsigned g = 0; g < NG; g++) {
                SQNAP_HLS(UNROLL)
                const unsigned pattern = codes[o * NG + g];  // ROM look-up
                p += group_sum<sign_term, psum_t, GS>(fan[v], g * GS, table[pattern], 0);
            }
            accum_t acc = bias[o];
            acc += delta[per_out_index<CONFIG_T::n_delta>(o)] * p;  // the full multiplication
            if (CONFIG_T::normalize) acc += mean[per_out_index<CONFIG_T::n_mean>(o)] * sum_x[v];
            res[o] = from_grid<res_T, F>(acc);
        }
    }
};

template <class data_T, class res_T, typename CONFIG_T>
void dense_ternary(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
                   const typename CONFIG_T::code_t codes[CONFIG_T::n_out * CONFIG_T::n_groups],
                   const typename CONFIG_T::table_t table[CONFIG_T::n_patterns][CONFIG_T::group_size],
                   const typename CONFIG_T::delta_t delta[CONFIG_T::n_delta],
                   const typename CONFIG_T::mean_t mean[CONFIG_T::n_mean],
                   const typename CONFIG_T::bias_t bias[CONFIG_T::n_out]) {
    SQNAP_HLS(PIPELINE II=CONFIG_T::reuse_factor)
    dense_driver<ternary_core, data_T, res_T, CONFIG_T>(data, res, codes, table, delta, mean, bias);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv2d_ternary(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                    res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_filt],
                    const typename CONFIG_T::code_t codes[CONFIG_T::n_filt * CONFIG_T::n_groups],
                    const typename CONFIG_T::table_t table[CONFIG_T::n_patterns][CONFIG_T::group_size],
                    const typename CONFIG_T::delta_t delta[CONFIG_T::n_delta],
                    const typename CONFIG_T::mean_t mean[CONFIG_T::n_mean],
                    const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
    conv2d_driver<ternary_core, data_T, res_T, CONFIG_T>(data, res, codes, table, delta, mean, bias);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d_ternary(const data_T data[CONFIG_T::in_width * CONFIG_T::n_chan],
                    res_T res[CONFIG_T::out_width * CONFIG_T::n_filt],
                    const typename CONFIG_T::code_t codes[CONFIG_T::n_filt * CONFIG_T::n_groups],
                    const typename CONFIG_T::table_t table[CONFIG_T::n_patterns][CONFIG_T::group_size],
                    const typename CONFIG_T::delta_t delta[CONFIG_T::n_delta],
                    const typename CONFIG_T::mean_t mean[CONFIG_T::n_mean],
                    const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
    conv2d_driver<ternary_core, data_T, res_T, conv1d_as_2d<CONFIG_T> >(data, res, codes, table, delta, mean, bias);
}

}  // namespace sqnap

#endif
