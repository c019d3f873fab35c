// sqnap_swc.h -- SWC (scaling-weight-based compression) core of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, docs/methods.md), integers only, x = raw input integers:
//   per weight  c (codes[o][g][i]),  per group  M (maw[o][g], unsigned)
//   sw_po2 == false (fixed):  P_g = sum_{i in g} c_i * x_i                      (shift-adds, shift_add_term)
//   sw_po2 == true  (po2):    P_g = sum_{i in g} sign_i * (x_i << (J - j_i)),  code sign*(j+1),
//                             J = 2**(sw_bits-1) - 2, code 0 = pruned          (shifts only)
//   A = sum_g M_g * P_g          -- ONE full multiplication per group
// The shared epilogue (finish<> in sqnap_common.h) aligns A, adds the bias and, for the fixed
// format, divides by the odd constant D = 2**(sw_bits-1) - 1 (CONFIG_T::denominator).
#ifndef SQNAP_SWC_H_
#define SQNAP_SWC_H_

#include "sqnap_common.h"

namespace sqnap {

struct swc_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT], unsigned o0,
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups * CONFIG_T::group_size],
                        const typename CONFIG_T::maw_t maw[N_OUT * CONFIG_T::n_groups],
                        const typename CONFIG_T::align_t align[CONFIG_T::n_align],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_PRAGMA(HLS INLINE)
        const unsigned NG = CONFIG_T::n_groups, GS = CONFIG_T::group_size;
        const int J = (1 << (CONFIG_T::sw_bits - 1)) - 2;
        typedef typename select<CONFIG_T::sw_po2, po2_term<J + 1, -1>, shift_add_term>::type Term;
        typedef typename CONFIG_T::accum_t accum_t;
        typedef typename CONFIG_T::psum_t psum_t;
        const unsigned U = CONFIG_T::outputs_per_round;
        typedef round_words<CONFIG_T, NG * GS> code_words;
        typedef round_words<CONFIG_T, NG> maw_words;
        static_assert(code_words::value <= N_OUT * NG * GS && maw_words::value <= N_OUT * NG, "ROM word > array");
        if (CONFIG_T::strategy == resource) {  // ROMs: one word = one round's codes / MAWs
            SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=codes cyclic factor=code_words::value)
            SQNAP_PRAGMA(HLS ARRAY_RESHAPE variable=maw cyclic factor=maw_words::value)
            SQNAP_EPILOGUE_ROMS
        }
    // loop Outputs
        for (unsigned u = 0; u < U; u++) {
            SQNAP_PRAGMA(HLS UNROLL)
            const unsigned o = o0 + u;
            if (o >= N_OUT) continue;
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            accum_t acc = 0;
        // loop Groups
            for (unsigned g = 0; g < NG; g++) {
                SQNAP_PRAGMA(HLS UNROLL)
                psum_t p = group_sum<Term, psum_t, GS>(fan[v], g * GS, codes, (o * NG + g) * GS);
                acc += maw[o * NG + g] * p;  // the full multiplication of group g
            }
            res[o] = finish<data_T, res_T, CONFIG_T>(acc, o, align, bias);
        }
    }
};

}  // namespace sqnap

#endif
