// Shared plumbing of the vector, row and attention kernels (private to CKernels).
#ifndef CHARTER_VECTOR_INTERNAL_H
#define CHARTER_VECTOR_INTERNAL_H
#include "ck_gemm.h"
#include "ck_threads.h"
#include <stdint.h>

// Elementwise calls below this many values run on the calling thread: waking the pool costs more than it saves.
#define CK_ELEMENTWISE_GRAIN 16384

// Row kernels hand each task at least this many values (rows × cols).
#define CK_ROW_GRAIN_VALUES 16384

static inline int64_t ck_row_grain(int64_t cols) {
    int64_t grain = CK_ROW_GRAIN_VALUES / (cols > 0 ? cols : 1);
    return grain > 0 ? grain : 1;
}

// Which SIMD family the current call runs on; AVX-512 and AVX2 variants exist only on x86_64.
typedef enum { CK_ISA_PORTABLE = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 } ck_isa;

static inline ck_isa ck_current_isa(void) {
#if defined(__x86_64__)
    switch (ck_active_path()) {
    case CK_PATH_AVX512: return CK_ISA_AVX512;
    case CK_PATH_AVX2: return CK_ISA_AVX2;
    default: return CK_ISA_PORTABLE;
    }
#else
    return CK_ISA_PORTABLE;
#endif
}

// Reductions whose result must not depend on the thread count (dgamma, dbeta, the cross-entropy sum) split
// rows into a fixed number of blocks decided by the shape alone; each block writes its own partial and the
// partials are added in block order afterwards.
#define CK_MAX_REDUCTION_BLOCKS 64

static inline int64_t ck_reduction_blocks(int64_t rows, int64_t cols) {
    int64_t per = ck_row_grain(cols);
    int64_t blocks = (rows + per - 1) / per;
    if (blocks > CK_MAX_REDUCTION_BLOCKS) blocks = CK_MAX_REDUCTION_BLOCKS;
    return blocks < 1 ? 1 : blocks;
}

static inline int64_t ck_block_begin(int64_t block, int64_t blocks, int64_t rows) {
    return rows * block / blocks;
}

// AdamW over a range of one tensor (vector_adamw.c, SIMD variants in vector_simd_rows.h).
typedef struct {
    float *param, *m, *v;
    const float *grad;
    float lr, beta1, beta2, eps, weight_decay, inv_bc1, inv_bc2;
} ck_adamw_args;

#if defined(__x86_64__)
void ck_adamw_range_avx2(const ck_adamw_args *a, int64_t begin, int64_t end);
void ck_adamw_range_avx512(const ck_adamw_args *a, int64_t begin, int64_t end);
#endif

#endif
