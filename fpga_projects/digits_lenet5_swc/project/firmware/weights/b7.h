//Numpy array shape [16]
//Min -709632.000000000000
//Max 336896.000000000000
//Number of zeros 0

#ifndef B7_H_
#define B7_H_

#ifndef __SYNTHESIS__
bias7_t b7[16];
#else
bias7_t b7[16] = {-236544, -293888, -50176, 336896, -301056, -236544, -415744, -293888, -293888, -444416, -465920, 7168, -35840, -451584, -401408, -709632};

#endif

#endif
