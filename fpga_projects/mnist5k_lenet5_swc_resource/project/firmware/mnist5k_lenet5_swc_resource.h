#ifndef MNIST5K_LENET5_SWC_RESOURCE_H_
#define MNIST5K_LENET5_SWC_RESOURCE_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"

#include "defines.h"


// Prototype of top level function for C-synthesis
void mnist5k_lenet5_swc_resource(
    hls::stream<input_t> &image,
    hls::stream<result_t> &layer18_out
);

// hls-fpga-machine-learning insert emulator-defines


#endif
