//Numpy array shape [6]
//Min -4415488.000000000000
//Max -57344.000000000000
//Number of zeros 0

#ifndef B3_H_
#define B3_H_

#ifndef __SYNTHESIS__
bias3_t b3[6];
#else
bias3_t b3[6] = {-1777664, -4415488, -2351104, -2121728, -3211264, -57344};

#endif

#endif
