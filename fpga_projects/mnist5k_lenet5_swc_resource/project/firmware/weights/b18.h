//Numpy array shape [10]
//Min -1161216.000000000000
//Max 1089536.000000000000
//Number of zeros 0

#ifndef B18_H_
#define B18_H_

#ifndef __SYNTHESIS__
bias18_t b18[10];
#else
bias18_t b18[10] = {43008, 143360, -129024, -114688, 129024, 1089536, -1161216, -544768, 673792, -200704};

#endif

#endif
