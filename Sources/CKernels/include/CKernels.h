// CKernels: the only C in Charter. Hot loops with runtime CPU dispatch, so that the package needs no
// machine-specific compiler flags: each kernel is compiled several times with __attribute__((target(...)))
// and the best variant the CPU supports is chosen at run time (__builtin_cpu_supports on x86_64).
#ifndef CHARTER_CKERNELS_H
#define CHARTER_CKERNELS_H

#include "ck_threads.h"
#include "ck_gemm.h"
#include "ck_vector.h"
#include "ck_quant.h"

#endif
