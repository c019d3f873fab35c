// sqnap_dfp.h -- DFP (dynamic fixed point) core of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, docs/methods.md), integers only, x = raw input integers:
//   per weight  c (codes[o][g][i], signed `bits`-bit integers)
//   A_o = sum_i c_i * x_i
// Per-channel DFP: the outputs' different fractional lengths are put on one grid by the shared
// epilogue's per-output left shift align[o] (finish<> in sqnap_common.h): the stored codes keep
// their own width. Codes of <= 4 bits are shift-adds (LUTs); wider codes are full
// multiplications (DSPs): the C++ is the same, the synthesis tool maps it by width.
#ifndef SQNAP_DFP_H_
#define SQNAP_DFP_H_

#include "sqnap_common.h"

namespace sqnap {

struct dfp_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT],
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups * CONFIG_T::group_size],
                        const typename CONFIG_T::align_t align[CONFIG_T::n_align],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_HLS(INLINE)
        typedef typename CONFIG_T::accum_t accum_t;
        // loop Outputs
        for (unsigned o = 0; o < N_OUT; o++) {
            SQNAP_HLS(UNROLL)
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            accum_t acc = fan_sum<mul_term, accum_t, CONFIG_T::n_groups, CONFIG_T::group_size>(fan[v], codes, o);
            res[o] = finish<data_T, res_T, CONFIG_T>(acc, o, align, bias);
        }
    }
};

}  // namespace sqnap

#endif
