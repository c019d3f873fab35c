//Numpy array shape [6, 1]
//Min 36788.000000000000
//Max 53762.000000000000
//Number of zeros 0

#ifndef SQ_MAW3_H_
#define SQ_MAW3_H_

#ifndef __SYNTHESIS__
sq_maw3_t sq_maw3[6];
#else
sq_maw3_t sq_maw3[6] = {48744, 53762, 53588, 46744, 36788, 46839};

#endif

#endif
