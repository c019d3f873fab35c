//Numpy array shape [1]
//Min 0.000000000000
//Max 0.000000000000
//Number of zeros 1

#ifndef SQ_S10_H_
#define SQ_S10_H_

#ifndef __SYNTHESIS__
sq_s10_t sq_s10[1];
#else
sq_s10_t sq_s10[1] = {0};

#endif

#endif
