// extension_binary.h -- the C++ core of the BinaryPo2 extension method (tests/extension_binary.py).
//
// Arithmetic, integers only, x = raw input integers: per weight c in {-1, +1}
//   A_o = sum_i c_i * x_i            -- add / subtract only
// The per-filter scale 2**e_o is a per-output grid: the shared epilogue (sqnap::finish in
// sqnap_common.h) shifts A_o onto the layer's common grid, adds the bias and writes the result.
#ifndef EXTENSION_BINARY_H_
#define EXTENSION_BINARY_H_

#include "sqnap_common.h"

namespace sqnap {

struct binary_po2_core {
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
            accum_t acc = fan_sum<sign_term, accum_t, CONFIG_T::n_groups, CONFIG_T::group_size>(fan[v], codes, o);
            res[o] = finish<data_T, res_T, CONFIG_T>(acc, o, align, bias);
        }
    }
};

}  // namespace sqnap

#endif
