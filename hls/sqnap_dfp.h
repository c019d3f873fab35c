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

struct dfp_core : per_weight_core<mul_term> {};

}  // namespace sqnap

#endif
