// Portable GEMM path: plain C that the compiler vectorises for the baseline ISA (SSE2 on x86_64).
// A 4×8 tile is 8 SSE accumulators, leaving registers for the B row and the broadcast A value.
#include "gemm_internal.h"

enum { PORTABLE_MR = 4, PORTABLE_NR = 8 };

static void ck_kernel_portable(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t m,
                               int64_t n, float alpha, float beta) {
    // Whole-tile loops with constant bounds, so that the accumulators live in registers; the partial-tile
    // bounds m and n appear only in the write-back.
    float acc[PORTABLE_MR][PORTABLE_NR];
#pragma clang loop unroll(full)
    for (int r = 0; r < PORTABLE_MR; r++)
#pragma clang loop unroll(full)
        for (int j = 0; j < PORTABLE_NR; j++) acc[r][j] = 0;
    for (int64_t k = 0; k < kc; k++) {
#pragma clang loop unroll(full)
        for (int r = 0; r < PORTABLE_MR; r++)
#pragma clang loop unroll(full)
            for (int j = 0; j < PORTABLE_NR; j++) acc[r][j] += a[r] * b[j];
        a += PORTABLE_MR;
        b += PORTABLE_NR;
    }
    for (int64_t r = 0; r < m; r++) {
        float *row = c + r * ldc;
        if (beta == 0) {
            for (int64_t j = 0; j < n; j++) row[j] = alpha * acc[r][j];
        } else {
            for (int64_t j = 0; j < n; j++) row[j] = alpha * acc[r][j] + beta * row[j];
        }
    }
}

static void ck_pack_a_portable(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                               float *dst) {
    ck_pack_panels(PORTABLE_MR, contiguous, count, kc, src, ld, dst);
}

static void ck_pack_b_portable(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                               float *dst) {
    ck_pack_panels(PORTABLE_NR, contiguous, count, kc, src, ld, dst);
}

static void ck_skinny_portable(int transA, int transB, int64_t m, int64_t n, int64_t K, float alpha,
                       const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                       int64_t ldc) {
    ck_skinny_generic(transA, transB, m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const ck_gemm_kernels *ck_gemm_kernels_portable(void) {
    static const ck_gemm_kernels kernels = {
        .mr = PORTABLE_MR, .nr = PORTABLE_NR, .mc = 256, .kc = 256, .nc = 512,
        .kernel = ck_kernel_portable, .pack_a = ck_pack_a_portable, .pack_b = ck_pack_b_portable,
        .skinny = ck_skinny_portable,
    };
    return &kernels;
}
