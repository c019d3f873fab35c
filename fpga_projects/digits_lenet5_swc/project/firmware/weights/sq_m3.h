//Numpy array shape [6, 1]
//Min 36788.000000000000
//Max 53762.000000000000
//Number of zeros 0

#ifndef SQ_M3_H_
#define SQ_M3_H_

#ifndef __SYNTHESIS__
sq_m3_t sq_m3[6];
#else
sq_m3_t sq_m3[6] = {48744, 53762, 53588, 46744, 36788, 46839};

#endif

#endif
