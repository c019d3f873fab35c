//Numpy array shape [1]
//Min 0.000000000000
//Max 0.000000000000
//Number of zeros 1

#ifndef SQ_ALIGN18_H_
#define SQ_ALIGN18_H_

#ifndef __SYNTHESIS__
sq_align18_t sq_align18[1];
#else
sq_align18_t sq_align18[1] = {0};

#endif

#endif
