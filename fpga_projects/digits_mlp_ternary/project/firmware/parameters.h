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
#include "nnet_utils/sqnap_dfp.h"
#include "nnet_utils/sqnap_ternary.h"

// hls-fpga-machine-learning insert weights
#include "weights/sq_codes4.h"
#include "weights/sq_delta4.h"
#include "weights/sq_align4.h"
#include "weights/b4.h"
#include "weights/sq_codes7.h"
#include "weights/sq_delta7.h"
#include "weights/sq_align7.h"
#include "weights/b7.h"
#include "weights/sq_codes10.h"
#include "weights/sq_align10.h"
#include "weights/b10.h"


// hls-fpga-machine-learning insert layer-config
// input_quant
struct relu_config2 : nnet::activ_config {
    static const unsigned n_in = 64;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    typedef input_quant_table_t table_t;
};

// fc1
struct config4 {
    typedef layer4_accum_t accum_t;
    typedef ap_int<13> psum_t;
    typedef bias4_t bias_t;
    typedef sq_align4_t align_t;
    static const int frac = 16;
    static const int denominator = 1;
    static const unsigned n_align = 1;
    typedef sq_codes4_t code_t;
    typedef ap_int<2> table_t;
    static const unsigned n_patterns = 129;
    typedef sq_delta4_t delta_t;
    static const unsigned n_delta = 64;
    typedef ap_int<2> mean_t;
    static const unsigned n_mean = 1;
    static const bool normalize = false;
    static const bool unit_delta = false;
    typedef sqnap::unscaled scaling;
    static const unsigned n_in = 64;
    static const unsigned n_out = 64;
    static const unsigned n_groups = 8;
    static const unsigned group_size = 8;
    static const bool kernel_major = false;
    static const bool depthwise = false;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = sqnap::latency;
    static const unsigned outputs_per_round = 64;
    static const unsigned multiplier_limit = 64;
};

// fc1_act
struct relu_config6 : nnet::activ_config {
    static const unsigned n_in = 64;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    typedef fc1_act_table_t table_t;
};

// fc2
struct config7 {
    typedef layer7_accum_t accum_t;
    typedef ap_int<13> psum_t;
    typedef bias7_t bias_t;
    typedef sq_align7_t align_t;
    static const int frac = 16;
    static const int denominator = 1;
    static const unsigned n_align = 1;
    typedef sq_codes7_t code_t;
    typedef ap_int<2> table_t;
    static const unsigned n_patterns = 129;
    typedef sq_delta7_t delta_t;
    static const unsigned n_delta = 32;
    typedef ap_int<2> mean_t;
    static const unsigned n_mean = 1;
    static const bool normalize = false;
    static const bool unit_delta = false;
    typedef sqnap::unscaled scaling;
    static const unsigned n_in = 64;
    static const unsigned n_out = 32;
    static const unsigned n_groups = 8;
    static const unsigned group_size = 8;
    static const bool kernel_major = false;
    static const bool depthwise = false;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = sqnap::latency;
    static const unsigned outputs_per_round = 32;
    static const unsigned multiplier_limit = 32;
};

// fc2_act
struct relu_config9 : nnet::activ_config {
    static const unsigned n_in = 32;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    typedef fc2_act_table_t table_t;
};

// logits
struct config10 {
    typedef layer10_accum_t accum_t;
    typedef ap_int<20> psum_t;
    typedef bias10_t bias_t;
    typedef sq_align10_t align_t;
    static const int frac = 7;
    static const int denominator = 1;
    static const unsigned n_align = 1;
    typedef sq_codes10_t code_t;
    typedef sqnap::unscaled scaling;
    static const unsigned n_in = 32;
    static const unsigned n_out = 10;
    static const unsigned n_groups = 1;
    static const unsigned group_size = 32;
    static const bool kernel_major = false;
    static const bool depthwise = false;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = sqnap::latency;
    static const unsigned outputs_per_round = 10;
    static const unsigned multiplier_limit = 283;
};



#endif
