//Numpy array shape [1]
//Min 0.000000000000
//Max 0.000000000000
//Number of zeros 1

#ifndef SQ_ALIGN12_H_
#define SQ_ALIGN12_H_

#ifndef __SYNTHESIS__
sq_align12_t sq_align12[1];
#else
sq_align12_t sq_align12[1] = {0};

#endif

#endif
