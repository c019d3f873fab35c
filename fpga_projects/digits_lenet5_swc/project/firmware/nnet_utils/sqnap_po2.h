// sqnap_po2.h -- Po2 (power-of-two weights, with an exact zero) core of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, docs/methods.md), integers only, x = raw input integers:
//   per weight code c (codes[o][g][i]): 0 = exact zero (hls4ml's exponent type has none),
//   c = sign * (e - e_min + 1) for w = sign * 2**e.
//   A_o = sum_i sign_i * (x_i << (|c_i| - 1))     -- shifts and adds only
// The shared epilogue (finish<> in sqnap_common.h) aligns A_o and adds the bias.
#ifndef SQNAP_PO2_H_
#define SQNAP_PO2_H_

#include "sqnap_common.h"

namespace sqnap {

struct po2_core {
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
            accum_t acc = fan_sum<po2_term<-1, 1>, accum_t, CONFIG_T::n_groups, CONFIG_T::group_size>(fan[v], codes, o);
            res[o] = finish<data_T, res_T, CONFIG_T>(acc, o, align, bias);
        }
    }
};

}  // namespace sqnap

#endif
