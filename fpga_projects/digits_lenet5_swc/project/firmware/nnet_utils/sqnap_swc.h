// sqnap_swc.h -- SWC (scaling-weight-based compression) kernels of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, METHODS.md section 1), integers only, x = raw input integers:
//   per weight  c (codes[o][g][i]),  per group  M (maw[o][g], unsigned),  D = 2**(sw_bits-1)-1
//   sw_po2 == false (fixed):  P_g = sum_{i in g} c_i * x_i                      (shift-adds)
//   sw_po2 == true  (po2):    P_g = sum_{i in g} sign_i * (x_i << (J - j_i)),  code sign*(j+1),
//                             J = 2**(sw_bits-1) - 2, code 0 = pruned          (shifts only)
//   A = bias + sum_g M_g * P_g          -- ONE full multiplication per group
//   fixed: R = round(A / D) (nearest; D odd so no ties; exact for D == 1); po2: R = A
//   result = R * 2**-F,  F = maw_frac + fx  (+ J for po2)
// The bias is an integer on the accumulator grid (fixed: round(b * D * 2**(maw_frac+fx));
// po2: round(b * 2**(maw_frac+fx+J))), added before the division.
#ifndef SQNAP_SWC_H_
#define SQNAP_SWC_H_

#include "sqnap_common.h"

namespace sqnap {

struct swc_core {
    template <class data_T, class res_T, class CONFIG_T, unsigned NV, unsigned N_OUT>
    static void outputs(const typename int_view<data_T>::type fan[NV][CONFIG_T::n_groups * CONFIG_T::group_size],
                        res_T res[N_OUT],
                        const typename CONFIG_T::code_t codes[N_OUT * CONFIG_T::n_groups * CONFIG_T::group_size],
                        const typename CONFIG_T::maw_t maw[N_OUT * CONFIG_T::n_groups],
                        const typename CONFIG_T::bias_t bias[N_OUT]) {
        SQNAP_HLS(INLINE)
        const unsigned NG = CONFIG_T::n_groups, GS = CONFIG_T::group_size;
        const int D = (1 << (CONFIG_T::sw_bits - 1)) - 1;
        const int J = (1 << (CONFIG_T::sw_bits - 1)) - 2;
        const int F = CONFIG_T::maw_frac + int_view<data_T>::frac + (CONFIG_T::sw_po2 ? J : 0);
        typedef typename select<CONFIG_T::sw_po2, po2_term<J + 1, -1>, mul_term>::type Term;
        typedef typename CONFIG_T::accum_t accum_t;
        typedef typename CONFIG_T::psum_t psum_t;
    // loop Outputs
        for (unsigned o = 0; o < N_OUT; o++) {
            SQNAP_HLS(UNROLL)
            const unsigned v = fan_vector_of<NV, N_OUT>(o);
            accum_t acc = bias[o];
        // loop Groups
            for (unsigned g = 0; g < NG; g++) {
                SQNAP_HLS(UNROLL)
                psum_t p = group_sum<Term, psum_t, GS>(fan[v], g * GS, codes, (o * NG + g) * GS);
                acc += maw[o * NG + g] * p;  // the full multiplication of group g
            }
            if (!CONFIG_T::sw_po2) acc = div_round_odd<(CONFIG_T::sw_po2 ? 1 : D)>(acc);
            res[o] = from_grid<res_T, F>(acc);
        }
    }
};

template <class data_T, class res_T, typename CONFIG_T>
void dense_swc(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
               const typename CONFIG_T::code_t codes[CONFIG_T::n_out * CONFIG_T::n_groups * CONFIG_T::group_size],
               const typename CONFIG_T::maw_t maw[CONFIG_T::n_out * CONFIG_T::n_groups],
               const typename CONFIG_T::bias_t bias[CONFIG_T::n_out]) {
    SQNAP_HLS(PIPELINE II=CONFIG_T::reuse_factor)
    dense_driver<swc_core, data_T, res_T, CONFIG_T>(data, res, codes, maw, bias);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv2d_swc(const data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_filt],
                const typename CONFIG_T::code_t codes[CONFIG_T::n_filt * CONFIG_T::n_groups * CONFIG_T::group_size],
                const typename CONFIG_T::maw_t maw[CONFIG_T::n_filt * CONFIG_T::n_groups],
                const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
    conv2d_driver<swc_core, data_T, res_T, CONFIG_T>(data, res, codes, maw, bias);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d_swc(const data_T data[CONFIG_T::in_width * CONFIG_T::n_chan],
                res_T res[CONFIG_T::out_width * CONFIG_T::n_filt],
                const typename CONFIG_T::code_t codes[CONFIG_T::n_filt * CONFIG_T::n_groups * CONFIG_T::group_size],
                const typename CONFIG_T::maw_t maw[CONFIG_T::n_filt * CONFIG_T::n_groups],
                const typename CONFIG_T::bias_t bias[CONFIG_T::n_filt]) {
    conv2d_driver<swc_core, data_T, res_T, conv1d_as_2d<CONFIG_T> >(data, res, codes, maw, bias);
}

}  // namespace sqnap

#endif
