#ifndef DIGITS_MLP_TERNARY_H_
#define DIGITS_MLP_TERNARY_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"

#include "defines.h"


// Prototype of top level function for C-synthesis
void digits_mlp_ternary(
    input_t input_0[8*8*1],
    result_t layer10_out[10]
);

// hls-fpga-machine-learning insert emulator-defines


#endif
