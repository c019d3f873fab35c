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
typedef nnet::array<ap_ufixed<8,1,AP_RND_CONV,AP_SAT,0>, 1*1> input_t;
typedef nnet::array<ap_ufixed<8,1,AP_RND_CONV,AP_SAT,0>, 1*1> layer2_t;
typedef ap_fixed<18,8> input_quant_table_t;
typedef ap_int<31> layer3_accum_t;
typedef nnet::array<ap_fixed<28,5>, 6*1> layer3_t;
typedef ap_int<4> sq_codes3_t;
typedef ap_uint<16> sq_maw3_t;
typedef ap_uint<1> sq_align3_t;
typedef ap_int<31> bias3_t;
typedef nnet::array<ap_ufixed<8,3,AP_RND_CONV,AP_SAT,0>, 6*1> layer5_t;
typedef ap_fixed<18,8> conv1_act_table_t;
typedef ap_fixed<32,16> model_default_t;
typedef nnet::array<ap_ufixed<8,3>, 6*1> layer6_t;
typedef ap_int<34> layer7_accum_t;
typedef nnet::array<ap_fixed<31,9>, 16*1> layer7_t;
typedef ap_int<4> sq_codes7_t;
typedef ap_uint<16> sq_maw7_t;
typedef ap_uint<1> sq_align7_t;
typedef ap_int<34> bias7_t;
typedef nnet::array<ap_ufixed<8,3,AP_RND_CONV,AP_SAT,0>, 16*1> layer9_t;
typedef ap_fixed<18,8> conv2_act_table_t;
typedef nnet::array<ap_ufixed<8,3>, 16*1> layer10_t;
typedef ap_int<34> layer12_accum_t;
typedef nnet::array<ap_fixed<32,10>, 120*1> layer12_t;
typedef ap_int<4> sq_codes12_t;
typedef ap_uint<16> sq_maw12_t;
typedef ap_uint<1> sq_align12_t;
typedef ap_int<34> bias12_t;
typedef nnet::array<ap_ufixed<8,3,AP_RND_CONV,AP_SAT,0>, 120*1> layer14_t;
typedef ap_fixed<18,8> fc1_act_table_t;
typedef ap_int<32> layer15_accum_t;
typedef nnet::array<ap_fixed<30,9>, 84*1> layer15_t;
typedef ap_int<4> sq_codes15_t;
typedef ap_uint<16> sq_maw15_t;
typedef ap_uint<1> sq_align15_t;
typedef ap_int<32> bias15_t;
typedef nnet::array<ap_ufixed<8,3,AP_RND_CONV,AP_SAT,0>, 84*1> layer17_t;
typedef ap_fixed<18,8> fc2_act_table_t;
typedef ap_int<33> layer18_accum_t;
typedef nnet::array<ap_fixed<30,8>, 10*1> result_t;
typedef ap_int<4> sq_codes18_t;
typedef ap_uint<16> sq_maw18_t;
typedef ap_uint<1> sq_align18_t;
typedef ap_int<33> bias18_t;

// hls-fpga-machine-learning insert emulator-defines


#endif
