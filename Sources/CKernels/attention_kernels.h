// Per-row pieces of fused attention that run between the ck_sgemm products, one set per ISA.
#ifndef CHARTER_ATTENTION_KERNELS_H
#define CHARTER_ATTENTION_KERNELS_H
#include <stdint.h>

typedef struct {
    /// Scores row p (n values, already scaled) → probabilities in place. Keys j >= limit and keys with
    /// mask[j] == 0 get probability 0; *lse receives the log-sum-exp of the kept scores (−inf and an all-zero
    /// row when nothing is kept).
    void (*softmax)(int64_t n, int64_t limit, const uint8_t *mask, float *p, float *lse);
    /// Recomputes probabilities p = exp(scores − lse) in place (0 where masked) and turns dp into
    /// dS = p ⊙ (dp − delta). A row with lse = −inf is all zeros.
    void (*probability_gradient)(int64_t n, int64_t limit, const uint8_t *mask, float lse, float delta,
                                 float *scores, float *dp);
    float (*dot)(int64_t n, const float *a, const float *b);
} ck_attention_row_kernels;

#if defined(__x86_64__)
extern const ck_attention_row_kernels ck_attention_rows_avx2;
extern const ck_attention_row_kernels ck_attention_rows_avx512;
#endif

#endif
