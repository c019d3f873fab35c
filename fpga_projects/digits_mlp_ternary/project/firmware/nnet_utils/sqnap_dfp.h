// sqnap_dfp.h -- DFP (dynamic fixed point) kernels of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, METHODS.md section 3), integers only, x = raw input integers:
//   per weight  c (codes[o][g][i], signed `bits`-bit integers), layer fractional length fl
//   A_o = (sum_i c_i * x_i) << shift_o  +  bias_o
//   result_o = A_o * 2**-F,  F = frac + fx
// Per-layer DFP: frac = fl, shift = {0} (n_shift = 1). Per-channel DFP: frac = max_o fl_o and
// shift_o = align[o] = frac - fl_o (n_shift = n_out): every output is first aligned onto the
// common grid 2**-(frac+fx), then the bias round(b_o * 2**(frac+fx)) is added (datapath.md).
// Codes of <= 4 bits are shift-adds (LUTs); wider codes are full multiplications (DSPs): the
// C++ is the same, the synthesis tool maps it by width.
#ifndef SQNAP_DFP_H_
#define SQNAP_DFP_H_

#include "sqnap_common.h"

namespace sqnap {

struct dfp_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT],
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups * CONFIG_T::group_size],
                        const typename CONFIG_T::shift_t shift[CONFIG_T::n_shift],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_HLS(INLINE)
        const int F = CONFIG_T::frac + int_view<data_T>::frac;
        typedef typename CONFIG_T::accum_t accum_t;
        // loop Outputs
        for (unsigned o = 0; o < N_OUT; o++) {
            SQNAP_HLS(UNROLL)
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            accum_t acc = fan_sum<mul_term, accum_t, CONFIG_T::n_groups, CONFIG_T::group_size>(fan[v], codes, o);
            acc = acc << shift[per_out_index<CONFIG_T::n_shift>(o)];
            acc += bias[o];
            res[o] = from_grid<res_T, F>(acc);
        }
    }
};

template <class data_T, class res_T, typename CONFIG_T>
void dense_dfp(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
               const typename CONFIG_T::code_t codes[CONFIG_T::n_out * CONFIG_T::n_groups * CONFIG_T::group_size],
               const typename CONFIG_T::shift_t shift[CONFIG_T::n_shift],
               const typename CONFIG_T::bias_t bias[CONFIG_T::n_out]) {
    SQNAP_HLS(PIPELINE II=CONFIG_T::reuse_factor)
    dense_driver<dfp_core, data_T, res_T, CONFIG_T>(data, res, codes, shift, bias);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv2d_dfp(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_filt],
                const typename CONFIG_T::code_t codes[CONFIG_T::n_filt * CONFIG_T::n_groups * CONFIG_T::group_size],
                const typename CONFIG_T::shift_t shift[CONFIG_T::n_shift],
                const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
    conv2d_driver<dfp_core, data_T, res_T, CONFIG_T>(data, res, codes, shift, bias);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d_dfp(const data_T data[CONFIG_T::in_width * CONFIG_T::n_chan],
                res_T res[CONFIG_T::out_width * CONFIG_T::n_filt],
                const typename CONFIG_T::code_t codes[CONFIG_T::n_filt * CONFIG_T::n_groups * CONFIG_T::group_size],
                const typename CONFIG_T::shift_t shift[CONFIG_T::n_shift],
                const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
    conv2d_driver<dfp_core, data_T, res_T, conv1d_as_2d<CONFIG_T> >(data, res, codes, shift, bias);
}

}  // namespace sqnap

#endif
