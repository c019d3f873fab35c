//Numpy array shape [10, 1]
//Min 45573.000000000000
//Max 59355.000000000000
//Number of zeros 0

#ifndef SQ_MAW18_H_
#define SQ_MAW18_H_

#ifndef __SYNTHESIS__
sq_maw18_t sq_maw18[10];
#else
sq_maw18_t sq_maw18[10] = {51106, 51725, 45573, 46949, 55340, 49538, 58291, 49863, 47275, 59355};

#endif

#endif
