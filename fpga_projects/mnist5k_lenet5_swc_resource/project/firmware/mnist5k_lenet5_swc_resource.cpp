#include <iostream>

#include "mnist5k_lenet5_swc_resource.h"
#include "parameters.h"


void mnist5k_lenet5_swc_resource(
    hls::stream<input_t> &image,
    hls::stream<result_t> &layer18_out
) {

    // hls-fpga-machine-learning insert IO
    #pragma HLS INTERFACE axis port=image,layer18_out 
    #pragma HLS DATAFLOW

    // hls-fpga-machine-learning insert load weights
#ifndef __SYNTHESIS__
    static bool loaded_weights = false;
    if (!loaded_weights) {
        nnet::load_weights_from_txt<sq_codes3_t, 150>(sq_codes3, "sq_codes3.txt");
        nnet::load_weights_from_txt<sq_maw3_t, 6>(sq_maw3, "sq_maw3.txt");
        nnet::load_weights_from_txt<sq_align3_t, 1>(sq_align3, "sq_align3.txt");
        nnet::load_weights_from_txt<bias3_t, 6>(b3, "b3.txt");
        nnet::load_weights_from_txt<sq_codes7_t, 2400>(sq_codes7, "sq_codes7.txt");
        nnet::load_weights_from_txt<sq_maw7_t, 16>(sq_maw7, "sq_maw7.txt");
        nnet::load_weights_from_txt<sq_align7_t, 1>(sq_align7, "sq_align7.txt");
        nnet::load_weights_from_txt<bias7_t, 16>(b7, "b7.txt");
        nnet::load_weights_from_txt<sq_codes12_t, 48000>(sq_codes12, "sq_codes12.txt");
        nnet::load_weights_from_txt<sq_maw12_t, 120>(sq_maw12, "sq_maw12.txt");
        nnet::load_weights_from_txt<sq_align12_t, 1>(sq_align12, "sq_align12.txt");
        nnet::load_weights_from_txt<bias12_t, 120>(b12, "b12.txt");
        nnet::load_weights_from_txt<sq_codes15_t, 10080>(sq_codes15, "sq_codes15.txt");
        nnet::load_weights_from_txt<sq_maw15_t, 84>(sq_maw15, "sq_maw15.txt");
        nnet::load_weights_from_txt<sq_align15_t, 1>(sq_align15, "sq_align15.txt");
        nnet::load_weights_from_txt<bias15_t, 84>(b15, "b15.txt");
        nnet::load_weights_from_txt<sq_codes18_t, 840>(sq_codes18, "sq_codes18.txt");
        nnet::load_weights_from_txt<sq_maw18_t, 10>(sq_maw18, "sq_maw18.txt");
        nnet::load_weights_from_txt<sq_align18_t, 1>(sq_align18, "sq_align18.txt");
        nnet::load_weights_from_txt<bias18_t, 10>(b18, "b18.txt");
        loaded_weights = true;    }
#endif
    // ****************************************
    // NETWORK INSTANTIATION
    // ****************************************

    // hls-fpga-machine-learning insert layers

    hls::stream<layer2_t> layer2_out("layer2_out");
    #pragma HLS STREAM variable=layer2_out depth=784

    hls::stream<layer3_t> layer3_out("layer3_out");
    #pragma HLS STREAM variable=layer3_out depth=784

    hls::stream<layer5_t> layer5_out("layer5_out");
    #pragma HLS STREAM variable=layer5_out depth=784

    hls::stream<layer6_t> layer6_out("layer6_out");
    #pragma HLS STREAM variable=layer6_out depth=196

    hls::stream<layer7_t> layer7_out("layer7_out");
    #pragma HLS STREAM variable=layer7_out depth=100

    hls::stream<layer9_t> layer9_out("layer9_out");
    #pragma HLS STREAM variable=layer9_out depth=100

    hls::stream<layer10_t> layer10_out("layer10_out");
    #pragma HLS STREAM variable=layer10_out depth=25

    auto& layer11_out = layer10_out;
    hls::stream<layer12_t> layer12_out("layer12_out");
    #pragma HLS STREAM variable=layer12_out depth=1

    hls::stream<layer14_t> layer14_out("layer14_out");
    #pragma HLS STREAM variable=layer14_out depth=1

    hls::stream<layer15_t> layer15_out("layer15_out");
    #pragma HLS STREAM variable=layer15_out depth=1

    hls::stream<layer17_t> layer17_out("layer17_out");
    #pragma HLS STREAM variable=layer17_out depth=1

    nnet::relu<input_t, layer2_t, relu_config2>(image, layer2_out); // input_quant

    sqnap::conv2d_stream<sqnap::swc_core, layer2_t, layer3_t, config3>(layer2_out, layer3_out, sq_codes3, sq_maw3, sq_align3, b3); // conv1

    nnet::relu<layer3_t, layer5_t, relu_config5>(layer3_out, layer5_out); // conv1_act

    sqnap::pool2d_stream<layer5_t, layer6_t, config6>(layer5_out, layer6_out); // pool1

    sqnap::conv2d_stream<sqnap::swc_core, layer6_t, layer7_t, config7>(layer6_out, layer7_out, sq_codes7, sq_maw7, sq_align7, b7); // conv2

    nnet::relu<layer7_t, layer9_t, relu_config9>(layer7_out, layer9_out); // conv2_act

    sqnap::pool2d_stream<layer9_t, layer10_t, config10>(layer9_out, layer10_out); // pool2

    sqnap::dense_stream<sqnap::swc_core, layer10_t, layer12_t, config12>(layer11_out, layer12_out, sq_codes12, sq_maw12, sq_align12, b12); // fc1

    nnet::relu<layer12_t, layer14_t, relu_config14>(layer12_out, layer14_out); // fc1_act

    sqnap::dense_stream<sqnap::swc_core, layer14_t, layer15_t, config15>(layer14_out, layer15_out, sq_codes15, sq_maw15, sq_align15, b15); // fc2

    nnet::relu<layer15_t, layer17_t, relu_config17>(layer15_out, layer17_out); // fc2_act

    sqnap::dense_stream<sqnap::swc_core, layer17_t, result_t, config18>(layer17_out, layer18_out, sq_codes18, sq_maw18, sq_align18, b18); // logits

}

