#ifndef DIGITS_LENET5_SWC_H_
#define DIGITS_LENET5_SWC_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"

#include "defines.h"


// Prototype of top level function for C-synthesis
void digits_lenet5_swc(
    input_t input_0[8*8*1],
    result_t layer18_out[10]
);

// hls-fpga-machine-learning insert emulator-defines


#endif
