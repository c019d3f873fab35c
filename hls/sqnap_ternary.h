// sqnap_ternary.h -- structured sparse ternary ((n,k) pattern code) core of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, docs/methods.md), integers only, x = raw input integers:
//   per group (n = group_size weights) one pattern index codes[o][g]; the pattern ROM
//   table[code][i] in {-1, 0, +1} is Encoding.table written by the backend as a static const
//   array (the canonical order is the quantizer's, so it is not re-derived here).
//   P_o = sum_g sum_i table[codes[o][g]][i] * x_i        -- look-up, add/subtract only
//   A_o = delta_o * P_o  (+ mean_o * sum_i x_i  when CONFIG_T::normalize)
//         -- ONE full multiplication by delta per output (plus one by mean when normalized;
//            sum_i x_i is input-only and shared by every output of the fan-in vector)
//   CONFIG_T::unit_delta (a power-of-two delta): A_o = P_o, no multiplication; delta's exponent
//   is the output's fractional length, applied by the alignment shift in finish<>.
// delta / mean hold n_delta / n_mean entries: n_out (per output unit) or 1 (per layer).
// The shared epilogue (finish<> in sqnap_common.h) aligns A_o and adds the bias.
#ifndef SQNAP_TERNARY_H_
#define SQNAP_TERNARY_H_

#include "sqnap_common.h"

namespace sqnap {

struct ternary_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT], unsigned o0,
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups],
                        const typename CONFIG_T::table_t table[CONFIG_T::n_patterns][CONFIG_T::group_size],
                        const typename CONFIG_T::delta_t delta[CONFIG_T::n_delta],
                        const typename CONFIG_T::mean_t mean[CONFIG_T::n_mean],
                        const typename CONFIG_T::align_t align[CONFIG_T::n_align],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_PRAGMA(HLS INLINE)
        SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=table complete dim=0)
        const unsigned NG = CONFIG_T::n_groups, GS = CONFIG_T::group_size;
        typedef typename CONFIG_T::accum_t accum_t;
        typedef typename CONFIG_T::psum_t psum_t;
        psum_t sum_x[NV];  // input-only: computed once per fan-in vector (normalize)
        SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=sum_x complete)
        // loop SumX
        for (unsigned v = 0; v < NV; v++) {
            SQNAP_PRAGMA(HLS UNROLL)
            sum_x[v] = CONFIG_T::normalize ? input_sum<psum_t, NG * GS>(fan[v], 0) : psum_t(0);
        }
        const unsigned U = CONFIG_T::outputs_per_round;
        typedef round_words<CONFIG_T, NG> code_words;
        typedef round_words<CONFIG_T, 1> output_words;
        static_assert(code_words::value <= N_OUT * NG && output_words::value <= N_OUT, "ROM word > array");
        if (CONFIG_T::strategy == resource) {  // ROM: one word = one round's pattern indices
            SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=codes cyclic factor=code_words::value)
            SQNAP_EPILOGUE_ROMS
        }
        if (CONFIG_T::strategy == resource && CONFIG_T::n_delta > 1) {
            SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=delta cyclic factor=output_words::value)
        }
        if (CONFIG_T::strategy == resource && CONFIG_T::n_mean > 1) {
            SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=mean cyclic factor=output_words::value)
        }
        // loop Outputs
        for (unsigned u = 0; u < U; u++) {
            SQNAP_PRAGMA(HLS UNROLL)
            const unsigned o = o0 + u;
            if (o >= N_OUT) continue;
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            psum_t p = 0;
            // loop Groups
            for (unsigned g = 0; g < NG; g++) {
                SQNAP_PRAGMA(HLS UNROLL)
                const unsigned pattern = codes[o * NG + g];  // ROM look-up
                p += group_sum<sign_term, psum_t, GS>(fan[v], g * GS, table[pattern], 0);
            }
            accum_t acc;
            if (CONFIG_T::unit_delta) acc = p;
            else acc = delta[per_out_index<CONFIG_T::n_delta>(o)] * p;  // the full multiplication
            if (CONFIG_T::normalize) acc += mean[per_out_index<CONFIG_T::n_mean>(o)] * sum_x[v];
            res[o] = finish<data_T, res_T, CONFIG_T>(acc, o, align, bias);
        }
    }
};

}  // namespace sqnap

#endif
