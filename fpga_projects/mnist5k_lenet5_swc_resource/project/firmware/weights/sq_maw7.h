//Numpy array shape [16, 1]
//Min 40532.000000000000
//Max 54201.000000000000
//Number of zeros 0

#ifndef SQ_MAW7_H_
#define SQ_MAW7_H_

#ifndef __SYNTHESIS__
sq_maw7_t sq_maw7[16];
#else
sq_maw7_t sq_maw7[16] = {51373, 46483, 45924, 40532, 43199, 46628, 43329, 50831, 45139, 43845, 54201, 44781, 46856, 49705, 52930, 43115};

#endif

#endif
