//Numpy array shape [6, 1]
//Min 29778.000000000000
//Max 47238.000000000000
//Number of zeros 0

#ifndef SQ_MAW3_H_
#define SQ_MAW3_H_

#ifndef __SYNTHESIS__
sq_maw3_t sq_maw3[6];
#else
sq_maw3_t sq_maw3[6] = {29778, 46392, 40233, 42342, 42918, 47238};

#endif

#endif
