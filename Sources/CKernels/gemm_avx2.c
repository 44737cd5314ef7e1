// AVX2 + FMA GEMM path. A 6×16 micro-tile is 12 ymm accumulators (of 16 registers), two B vectors and one
// broadcast: the largest tile that fits without spills; 12 chains cover two FMA pipes × 4-cycle latency.
#include "gemm_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_AVX2 __attribute__((target("avx2,fma")))

enum { AVX2_MR = 6, AVX2_NR = 16 };

CK_AVX2 static void ck_kernel_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t m,
                                   int64_t n, float alpha, float beta) {
    __m256 acc[AVX2_MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX2_MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma clang loop unroll(full)
        for (int r = 0; r < AVX2_MR; r++) {
            __m256 ar = _mm256_broadcast_ss(a + r);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
        a += AVX2_MR;
        b += AVX2_NR;
    }
    // Lane masks (all ones = lane valid) for masked loads/stores of partial tiles.
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 16 ? n : 16)), lanes);
    __m256i mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 16 ? n : 16) - 8), lanes);
    __m256 valpha = _mm256_set1_ps(alpha), vbeta = _mm256_set1_ps(beta);
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX2_MR; r++) {
        if (r >= m) break;
        float *row = c + r * ldc;
        __m256 x0 = _mm256_mul_ps(valpha, acc[r][0]), x1 = _mm256_mul_ps(valpha, acc[r][1]);
        if (beta != 0) {
            x0 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(row, mask0), x0);
            x1 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(row + 8, mask1), x1);
        }
        _mm256_maskstore_ps(row, mask0, x0);
        _mm256_maskstore_ps(row + 8, mask1, x1);
    }
}

CK_AVX2 static void ck_pack_a_avx2(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                   float *dst) {
    ck_pack_panels(AVX2_MR, contiguous, count, kc, src, ld, dst);
}

CK_AVX2 static void ck_pack_b_avx2(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                   float *dst) {
    ck_pack_panels(AVX2_NR, contiguous, count, kc, src, ld, dst);
}

const ck_gemm_kernels *ck_gemm_kernels_avx2(void) {
    static const ck_gemm_kernels kernels = {
        .mr = AVX2_MR, .nr = AVX2_NR, .mc = 3072, .kc = 384, .nc = 480,
        .kernel = ck_kernel_avx2, .pack_a = ck_pack_a_avx2, .pack_b = ck_pack_b_avx2,
    };
    return &kernels;
}
#endif
