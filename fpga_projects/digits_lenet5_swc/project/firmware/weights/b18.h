//Numpy array shape [10]
//Min -716800.000000000000
//Max 1161216.000000000000
//Number of zeros 0

#ifndef B18_H_
#define B18_H_

#ifndef __SYNTHESIS__
bias18_t b18[10];
#else
bias18_t b18[10] = {143360, -530432, -716800, 272384, -215040, -315392, 430080, -258048, 1161216, 14336};

#endif

#endif
