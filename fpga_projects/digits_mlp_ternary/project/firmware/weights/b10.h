//Numpy array shape [10]
//Min -624.000000000000
//Max 424.000000000000
//Number of zeros 0

#ifndef B10_H_
#define B10_H_

#ifndef __SYNTHESIS__
bias10_t b10[10];
#else
bias10_t b10[10] = {-224, -208, -624, 104, 352, 256, -56, 424, 248, -136};

#endif

#endif
