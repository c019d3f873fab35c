//Numpy array shape [10, 1]
//Min 26682.000000000000
//Max 40613.000000000000
//Number of zeros 0

#ifndef SQ_MAW18_H_
#define SQ_MAW18_H_

#ifndef __SYNTHESIS__
sq_maw18_t sq_maw18[10];
#else
sq_maw18_t sq_maw18[10] = {37203, 32851, 40613, 29097, 31598, 31324, 35729, 26682, 28782, 28798};

#endif

#endif
