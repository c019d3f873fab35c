// sqnap.h -- umbrella header of the SQNAP accelerator library (keras_wc).
// Includes every method's kernels; each header's top comment states its integer arithmetic
// (the contract is docs/datapath.md; the API is docs/hls_api.md and hls/README.md).
#ifndef SQNAP_H_
#define SQNAP_H_

#include "sqnap_common.h"
#include "sqnap_dfp.h"
#include "sqnap_po2.h"
#include "sqnap_poly.h"
#include "sqnap_swc.h"
#include "sqnap_ternary.h"

#endif
