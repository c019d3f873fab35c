// sqnap_poly.h -- polynomial weight approximation core of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, docs/methods.md), integers only, x = raw input integers:
//   per weight the bucket index k (codes[o][g][i], unsigned), per group the coefficients
//   coef[co][g][0..degree] = (a, b[, c]) (signed), co = o, or 0 when shared by the layer
//   (n_coef_out == 1, group "layer").
//   S0_g = sum_{i in g} x_i            -- input-only: computed ONCE per fan-in vector and group,
//                                         reused by every output (data reuse)
//   S1_g = sum_{i in g} k_i * x_i      -- shift-adds (k is a small integer)
//   S2_g = sum_{i in g} k_i**2 * x_i   -- shift-adds (degree 2 only)
//   A_o = sum_g a_g*S0_g + b_g*S1_g (+ c_g*S2_g)   -- degree+1 full mults per group
//   With shared coefficients (n_coef_out == 1) the term sum_g a_g*S0_g is also computed once
//   per fan-in vector and shared by all outputs.
// The shared epilogue (finish<> in sqnap_common.h) aligns A_o and adds the bias.
#ifndef SQNAP_POLY_H_
#define SQNAP_POLY_H_

#include "sqnap_common.h"

namespace sqnap {

struct poly_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT], unsigned o0,
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups * CONFIG_T::group_size],
                        const typename CONFIG_T::coef_t coef[CONFIG_T::n_coef_out * CONFIG_T::n_groups * (CONFIG_T::degree + 1)],
                        const typename CONFIG_T::align_t align[CONFIG_T::n_align],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_PRAGMA(HLS INLINE)
        static_assert(CONFIG_T::degree == 1 || CONFIG_T::degree == 2, "poly: degree must be 1 or 2");
        const unsigned NG = CONFIG_T::n_groups, GS = CONFIG_T::group_size, NC = CONFIG_T::degree + 1;
        const bool shared = CONFIG_T::n_coef_out == 1;
        typedef typename CONFIG_T::accum_t accum_t;
        typedef typename CONFIG_T::psum_t psum_t;
        psum_t s0[NV][NG];
        SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=s0 complete dim=0)
        accum_t a_s0[NV];  // sum_g a_g*S0_g when the coefficients are shared by the layer
        SQNAP_PRAGMA(HLS ARRAY_PARTITION variable=a_s0 complete)
        // loop SharedS0
        for (unsigned v = 0; v < NV; v++) {
            SQNAP_PRAGMA(HLS UNROLL)
            a_s0[v] = 0;
            for (unsigned g = 0; g < NG; g++) {
                SQNAP_PRAGMA(HLS UNROLL)
                s0[v][g] = input_sum<psum_t, GS>(fan[v], g * GS);
                if (shared) a_s0[v] += coef[g * NC] * s0[v][g];
            }
        }
        const unsigned U = CONFIG_T::outputs_per_round;
        typedef round_words<CONFIG_T, NG * GS> code_words;
        typedef typename select<shared, whole_array<NG * NC>, round_words<CONFIG_T, NG * NC> >::type coef_words;
        static_assert(code_words::value <= N_OUT * NG * GS && coef_words::value <= CONFIG_T::n_coef_out * NG * NC,
                      "ROM word > array");
        if (CONFIG_T::strategy == resource) {  // ROMs: one word = one round's codes / coefficients
            SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=codes cyclic factor=code_words::value)
            SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=coef cyclic factor=coef_words::value)
            SQNAP_EPILOGUE_ROMS
        }
        // loop Outputs
        for (unsigned u = 0; u < U; u++) {
            SQNAP_PRAGMA(HLS UNROLL)
            const unsigned o = o0 + u;
            if (o >= N_OUT) continue;
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            const unsigned co = per_out_index<CONFIG_T::n_coef_out>(o);
            accum_t acc = 0;
            if (shared) acc += a_s0[v];
            // loop Groups
            for (unsigned g = 0; g < NG; g++) {
                SQNAP_PRAGMA(HLS UNROLL)
                const unsigned cb = (co * NG + g) * NC;
                const unsigned kb = (o * NG + g) * GS;
                if (!shared) acc += coef[cb] * s0[v][g];
                psum_t s1 = group_sum<shift_add_term, psum_t, GS>(fan[v], g * GS, codes, kb);
                acc += coef[cb + 1] * s1;
                if (CONFIG_T::degree == 2) {
                    psum_t s2 = group_sum<sq_term, psum_t, GS>(fan[v], g * GS, codes, kb);
                    acc += coef[cb + (NC - 1)] * s2;
                }
            }
            res[o] = finish<data_T, res_T, CONFIG_T>(acc, o, align, bias);
        }
    }
};

}  // namespace sqnap

#endif
