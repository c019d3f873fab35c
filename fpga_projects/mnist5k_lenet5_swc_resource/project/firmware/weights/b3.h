//Numpy array shape [6]
//Min -5963776.000000000000
//Max 1835008.000000000000
//Number of zeros 1

#ifndef B3_H_
#define B3_H_

#ifndef __SYNTHESIS__
bias3_t b3[6];
#else
bias3_t b3[6] = {-5963776, 917504, 1835008, -4415488, 0, 172032};

#endif

#endif
