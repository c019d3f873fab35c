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

struct po2_core : per_weight_core<po2_term<-1, 1> > {};

}  // namespace sqnap

#endif
