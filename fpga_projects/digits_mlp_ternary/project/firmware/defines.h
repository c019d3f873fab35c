#ifndef DEFINES_H_
#define DEFINES_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "nnet_utils/nnet_types.h"
#include <array>
#include <cstddef>
#include <cstdio>
#include <tuple>
#include <tuple>


// hls-fpga-machine-learning insert numbers

// hls-fpga-machine-learning insert layer-precision
typedef ap_ufixed<8,1,AP_RND_CONV,AP_SAT,0> input_t;
typedef ap_ufixed<8,1,AP_RND_CONV,AP_SAT,0> layer2_t;
typedef ap_fixed<18,8> input_quant_table_t;
typedef ap_int<29> layer4_accum_t;
typedef ap_fixed<29,6> layer4_t;
typedef ap_uint<8> sq_codes4_t;
typedef ap_uint<16> sq_delta4_t;
typedef ap_uint<1> sq_align4_t;
typedef ap_int<29> bias4_t;
typedef ap_ufixed<8,3,AP_RND_CONV,AP_SAT,0> layer6_t;
typedef ap_fixed<18,8> fc1_act_table_t;
typedef ap_int<29> layer7_accum_t;
typedef ap_fixed<29,8> layer7_t;
typedef ap_uint<8> sq_codes7_t;
typedef ap_uint<16> sq_delta7_t;
typedef ap_uint<1> sq_align7_t;
typedef ap_int<29> bias7_t;
typedef ap_ufixed<8,3,AP_RND_CONV,AP_SAT,0> layer9_t;
typedef ap_fixed<18,8> fc2_act_table_t;
typedef ap_int<20> layer10_accum_t;
typedef ap_fixed<20,8> result_t;
typedef ap_int<8> sq_codes10_t;
typedef ap_uint<1> sq_align10_t;
typedef ap_int<20> bias10_t;

// hls-fpga-machine-learning insert emulator-defines


#endif
