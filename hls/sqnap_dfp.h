// sqnap_dfp.h -- DFP (dynamic fixed point) core of the SQNAP accelerator.
//
// Arithmetic (docs/datapath.md, docs/methods.md), integers only, x = raw input integers:
//   per weight  c (codes[o][g][i], signed `bits`-bit integers)
//   A_o = sum_i c_i * x_i
// Per-channel DFP: the outputs' different fractional lengths are put on one grid by the shared
// epilogue's per-output left shift align[o] (finish<> in sqnap_common.h): the stored codes keep
// their own width. Codes of <= 4 bits are shift-adds (shift_add_term: no multiplier); wider codes are
// full multiplications (mul_term), as the cost model counts them.
#ifndef SQNAP_DFP_H_
#define SQNAP_DFP_H_

#include "sqnap_common.h"

namespace sqnap {

// The product of a DFP code: shift-adds up to SHIFT_ADD_MAX_BITS (keras_wc.methods.dfp) code bits.
struct dfp_term {
    template <class P, class C, class X> static P apply(const C &c, const X &x) {
        SQNAP_PRAGMA(HLS INLINE)
        return select<(C::width <= 4), shift_add_term, mul_term>::type::template apply<P>(c, x);
    }
};

struct dfp_core : per_weight_core<dfp_term> {};

}  // namespace sqnap

#endif
