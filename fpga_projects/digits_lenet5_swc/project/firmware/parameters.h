#ifndef PARAMETERS_H_
#define PARAMETERS_H_

#include "ap_fixed.h"
#include "ap_int.h"

#include "nnet_utils/nnet_code_gen.h"
#include "nnet_utils/nnet_helpers.h"
// hls-fpga-machine-learning insert includes
#include "nnet_utils/nnet_activation.h"
#include "nnet_utils/nnet_activation_stream.h"
#include "nnet_utils/sqnap_common.h"
#include "nnet_utils/sqnap_pool.h"
#include "nnet_utils/sqnap_swc.h"

// hls-fpga-machine-learning insert weights
#include "weights/sq_codes3.h"
#include "weights/sq_maw3.h"
#include "weights/sq_align3.h"
#include "weights/b3.h"
#include "weights/sq_codes7.h"
#include "weights/sq_maw7.h"
#include "weights/sq_align7.h"
#include "weights/b7.h"
#include "weights/sq_codes12.h"
#include "weights/sq_maw12.h"
#include "weights/sq_align12.h"
#include "weights/b12.h"
#include "weights/sq_codes15.h"
#include "weights/sq_maw15.h"
#include "weights/sq_align15.h"
#include "weights/b15.h"
#include "weights/sq_codes18.h"
#include "weights/sq_maw18.h"
#include "weights/sq_align18.h"
#include "weights/b18.h"


// hls-fpga-machine-learning insert layer-config
// input_quant
struct relu_config2 : nnet::activ_config {
    static const unsigned n_in = 64;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    typedef input_quant_table_t table_t;
};

// conv1
struct config3 {
    typedef layer3_accum_t accum_t;
    typedef ap_int<16> psum_t;
    typedef bias3_t bias_t;
    typedef sq_align3_t align_t;
    static const int frac = 16;
    static const int denominator = 7;
    static const unsigned n_align = 1;
    typedef sqnap::reciprocal<7, 33, 0ULL, 4908534053ULL, 35> reciprocal;
    typedef sq_codes3_t code_t;
    typedef sq_maw3_t maw_t;
    static const unsigned sw_bits = 4;
    static const bool sw_po2 = false;
    typedef sqnap::unscaled scaling;
    static const unsigned in_width = 8;
    static const unsigned out_width = 8;
    static const unsigned n_chan = 1;
    static const unsigned n_filt = 6;
    static const unsigned filt_width = 5;
    static const unsigned stride_width = 1;
    static const unsigned pad_left = 2;
    static const unsigned pad_right = 2;
    static const unsigned in_height = 8;
    static const unsigned out_height = 8;
    static const unsigned filt_height = 5;
    static const unsigned stride_height = 1;
    static const unsigned pad_top = 2;
    static const unsigned pad_bottom = 2;
    static const unsigned n_out = 6;
    static const unsigned n_groups = 1;
    static const unsigned group_size = 25;
    static const bool kernel_major = true;
    static const bool depthwise = false;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = sqnap::latency;
    static const unsigned outputs_per_round = 6;
    static const unsigned multiplier_limit = 12;
};

// conv1_act
struct relu_config5 : nnet::activ_config {
    static const unsigned n_in = 384;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    typedef conv1_act_table_t table_t;
};

// pool1
struct config6 {
    typedef ap_int<9> accum_t;
    static const unsigned in_height = 8;
    static const unsigned in_width = 8;
    static const unsigned n_chan = 6;
    static const unsigned out_height = 4;
    static const unsigned out_width = 4;
    static const unsigned pool_height = 2;
    static const unsigned pool_width = 2;
    static const unsigned stride_height = 2;
    static const unsigned stride_width = 2;
    static const unsigned pad_top = 0;
    static const unsigned pad_left = 0;
    static const unsigned shift = 0;
    static const int frac = 0;
    static const bool is_max = true;
    static const bool divide = false;
    static const unsigned reuse_factor = 1;
};

// conv2
struct config7 {
    typedef layer7_accum_t accum_t;
    typedef ap_int<16> psum_t;
    typedef bias7_t bias_t;
    typedef sq_align7_t align_t;
    static const int frac = 16;
    static const int denominator = 7;
    static const unsigned n_align = 1;
    typedef sqnap::reciprocal<7, 34, 0ULL, 9817068106ULL, 36> reciprocal;
    typedef sq_codes7_t code_t;
    typedef sq_maw7_t maw_t;
    static const unsigned sw_bits = 4;
    static const bool sw_po2 = false;
    typedef sqnap::unscaled scaling;
    static const unsigned in_width = 4;
    static const unsigned out_width = 4;
    static const unsigned n_chan = 6;
    static const unsigned n_filt = 16;
    static const unsigned filt_width = 5;
    static const unsigned stride_width = 1;
    static const unsigned pad_left = 2;
    static const unsigned pad_right = 2;
    static const unsigned in_height = 4;
    static const unsigned out_height = 4;
    static const unsigned filt_height = 5;
    static const unsigned stride_height = 1;
    static const unsigned pad_top = 2;
    static const unsigned pad_bottom = 2;
    static const unsigned n_out = 16;
    static const unsigned n_groups = 6;
    static const unsigned group_size = 25;
    static const bool kernel_major = true;
    static const bool depthwise = false;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = sqnap::latency;
    static const unsigned outputs_per_round = 16;
    static const unsigned multiplier_limit = 112;
};

// conv2_act
struct relu_config9 : nnet::activ_config {
    static const unsigned n_in = 256;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    typedef conv2_act_table_t table_t;
};

// pool2
struct config10 {
    typedef ap_int<9> accum_t;
    static const unsigned in_height = 4;
    static const unsigned in_width = 4;
    static const unsigned n_chan = 16;
    static const unsigned out_height = 2;
    static const unsigned out_width = 2;
    static const unsigned pool_height = 2;
    static const unsigned pool_width = 2;
    static const unsigned stride_height = 2;
    static const unsigned stride_width = 2;
    static const unsigned pad_top = 0;
    static const unsigned pad_left = 0;
    static const unsigned shift = 0;
    static const int frac = 0;
    static const bool is_max = true;
    static const bool divide = false;
    static const unsigned reuse_factor = 1;
};

// fc1
struct config12 {
    typedef layer12_accum_t accum_t;
    typedef ap_int<17> psum_t;
    typedef bias12_t bias_t;
    typedef sq_align12_t align_t;
    static const int frac = 16;
    static const int denominator = 7;
    static const unsigned n_align = 1;
    typedef sqnap::reciprocal<7, 33, 0ULL, 4908534053ULL, 35> reciprocal;
    typedef sq_codes12_t code_t;
    typedef sq_maw12_t maw_t;
    static const unsigned sw_bits = 4;
    static const bool sw_po2 = false;
    typedef sqnap::unscaled scaling;
    static const unsigned n_in = 64;
    static const unsigned n_out = 120;
    static const unsigned n_groups = 1;
    static const unsigned group_size = 64;
    static const bool kernel_major = false;
    static const bool depthwise = false;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = sqnap::latency;
    static const unsigned outputs_per_round = 120;
    static const unsigned multiplier_limit = 240;
};

// fc1_act
struct relu_config14 : nnet::activ_config {
    static const unsigned n_in = 120;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    typedef fc1_act_table_t table_t;
};

// fc2
struct config15 {
    typedef layer15_accum_t accum_t;
    typedef ap_int<18> psum_t;
    typedef bias15_t bias_t;
    typedef sq_align15_t align_t;
    static const int frac = 16;
    static const int denominator = 7;
    static const unsigned n_align = 1;
    typedef sqnap::reciprocal<7, 34, 0ULL, 9817068106ULL, 36> reciprocal;
    typedef sq_codes15_t code_t;
    typedef sq_maw15_t maw_t;
    static const unsigned sw_bits = 4;
    static const bool sw_po2 = false;
    typedef sqnap::unscaled scaling;
    static const unsigned n_in = 120;
    static const unsigned n_out = 84;
    static const unsigned n_groups = 1;
    static const unsigned group_size = 120;
    static const bool kernel_major = false;
    static const bool depthwise = false;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = sqnap::latency;
    static const unsigned outputs_per_round = 84;
    static const unsigned multiplier_limit = 168;
};

// fc2_act
struct relu_config17 : nnet::activ_config {
    static const unsigned n_in = 84;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    typedef fc2_act_table_t table_t;
};

// logits
struct config18 {
    typedef layer18_accum_t accum_t;
    typedef ap_int<17> psum_t;
    typedef bias18_t bias_t;
    typedef sq_align18_t align_t;
    static const int frac = 16;
    static const int denominator = 7;
    static const unsigned n_align = 1;
    typedef sqnap::reciprocal<7, 33, 0ULL, 4908534053ULL, 35> reciprocal;
    typedef sq_codes18_t code_t;
    typedef sq_maw18_t maw_t;
    static const unsigned sw_bits = 4;
    static const bool sw_po2 = false;
    typedef sqnap::unscaled scaling;
    static const unsigned n_in = 84;
    static const unsigned n_out = 10;
    static const unsigned n_groups = 1;
    static const unsigned group_size = 84;
    static const bool kernel_major = false;
    static const bool depthwise = false;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = sqnap::latency;
    static const unsigned outputs_per_round = 10;
    static const unsigned multiplier_limit = 20;
};



#endif
