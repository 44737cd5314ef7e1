// NEON GEMM path (arm64). An 8×12 micro-tile is 24 q-register accumulators (of 32): per k, three B vectors
// and two A vectors, with each A value selected by lane inside the FMA (no separate broadcasts).
#include "gemm_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

enum { NEON_MR = 8, NEON_NR = 12 };

static void ck_kernel_neon(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t m,
                           int64_t n, float alpha, float beta) {
    float32x4_t acc[NEON_MR][3];
    for (int r = 0; r < NEON_MR; r++) acc[r][0] = acc[r][1] = acc[r][2] = vdupq_n_f32(0);
    for (int64_t k = 0; k < kc; k++) {
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
#define CK_NEON_ROW(r, av, lane)                                   \
        acc[r][0] = vfmaq_laneq_f32(acc[r][0], b0, av, lane);      \
        acc[r][1] = vfmaq_laneq_f32(acc[r][1], b1, av, lane);      \
        acc[r][2] = vfmaq_laneq_f32(acc[r][2], b2, av, lane);
        CK_NEON_ROW(0, a0, 0) CK_NEON_ROW(1, a0, 1) CK_NEON_ROW(2, a0, 2) CK_NEON_ROW(3, a0, 3)
        CK_NEON_ROW(4, a1, 0) CK_NEON_ROW(5, a1, 1) CK_NEON_ROW(6, a1, 2) CK_NEON_ROW(7, a1, 3)
#undef CK_NEON_ROW
        a += NEON_MR;
        b += NEON_NR;
    }
    float32x4_t valpha = vdupq_n_f32(alpha);
    for (int64_t r = 0; r < m; r++) {
        float *row = c + r * ldc;
        if (n == NEON_NR) {
            for (int v = 0; v < 3; v++) {
                float32x4_t x = vmulq_f32(valpha, acc[r][v]);
                if (beta != 0) x = vfmaq_n_f32(x, vld1q_f32(row + 4 * v), beta);
                vst1q_f32(row + 4 * v, x);
            }
        } else {
            // Partial tile: spill the row and finish lane by lane with the same multiply-then-FMA rounding.
            float tile[NEON_NR];
            for (int v = 0; v < 3; v++) vst1q_f32(tile + 4 * v, vmulq_f32(valpha, acc[r][v]));
            for (int64_t j = 0; j < n; j++) row[j] = beta == 0 ? tile[j] : __builtin_fmaf(beta, row[j], tile[j]);
        }
    }
}

static void ck_pack_a_neon(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld, float *dst) {
    ck_pack_panels(NEON_MR, contiguous, count, kc, src, ld, dst);
}

static void ck_pack_b_neon(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld, float *dst) {
    ck_pack_panels(NEON_NR, contiguous, count, kc, src, ld, dst);
}

static void ck_skinny_neon(int transA, int transB, int64_t m, int64_t n, int64_t K, float alpha,
                       const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                       int64_t ldc) {
    ck_skinny_generic(transA, transB, m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const ck_gemm_kernels *ck_gemm_kernels_neon(void) {
    static const ck_gemm_kernels kernels = {
        .mr = NEON_MR, .nr = NEON_NR, .mc = 1536, .kc = 256, .nc = 480,
        .kernel = ck_kernel_neon, .pack_a = ck_pack_a_neon, .pack_b = ck_pack_b_neon,
        .skinny = ck_skinny_neon,
    };
    return &kernels;
}
#endif
