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

// every weight its own operand, +/-1: add or subtract (the shared per-weight core with sign_term)
struct binary_po2_core : per_weight_core<sign_term> {};

}  // namespace sqnap

#endif
