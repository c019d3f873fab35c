// sqnap_po2.h -- Po2 (power-of-two weights, with an exact zero) kernels of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, METHODS.md section 3), integers only, x = raw input integers:
//   per weight code c (codes[o][g][i]): 0 = exact zero (hls4ml's exponent type has none),
//   c = sign * (e - e_min + 1) for w = sign * 2**e.
//   A_o = bias_o + sum_i sign_i * (x_i << (|c_i| - 1))     -- shifts and adds only
//   result_o = A_o * 2**-F,  F = fx - e_min   (bias: round(b * 2**(fx-e_min)))
#ifndef SQNAP_PO2_H_
#define SQNAP_PO2_H_

#include "sqnap_common.h"

namespace sqnap {

struct po2_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT],
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups * CONFIG_T::group_size],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_HLS(INLINE)
        const int F = int_view<data_T>::frac - CONFIG_T::e_min;
        typedef typename CONFIG_T::accum_t accum_t;
        // loop Outputs
        for (unsigned o = 0; o < N_OUT; o++) {
            SQNAP_HLS(UNROLL)
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            accum_t acc = bias[o];
            acc += fan_sum<po2_term<-1, 1>, accum_t, CONFIG_T::n_groups, CONFIG_T::group_size>(fan[v], codes, o);
            res[o] = from_grid<res_T, F>(acc);
        }
    }
};

template <class data_T, class res_T, typename CONFIG_T>
void dense_po2(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
               const typename CONFIG_T::code_t codes[CONFIG_T::n_out * CONFIG_T::n_groups * CONFIG_T::group_size],
               const typename CONFIG_T::bias_t bias[CONFIG_T::n_out]) {
    SQNAP_HLS(PIPELINE II=CONFIG_T::reuse_factor)
    dense_driver<po2_core, data_T, res_T, CONFIG_T>(data, res, codes, bias);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv2d_po2(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_filt],
                const typename CONFIG_T::code_t codes[CONFIG_T::n_filt * CONFIG_T::n_groups * CONFIG_T::group_size],
                const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
    conv2d_driver<po2_core, data_T, res_T, CONFIG_T>(data, res, codes, bias);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d_po2(const data_T data[CONFIG_T::in_width * CONFIG_T::n_chan],
                res_T res[CONFIG_T::out_width * CONFIG_T::n_filt],
                const typename CONFIG_T::code_t codes[CONFIG_T::n_filt * CONFIG_T::n_groups * CONFIG_T::group_size],
                const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
    conv2d_driver<po2_core, data_T, res_T, conv1d_as_2d<CONFIG_T> >(data, res, codes, bias);
}

}  // namespace sqnap

#endif
