// AVX-512 GEMM path. A 12×32 micro-tile keeps 24 zmm accumulators (of 32 registers): per k it loads two
// vectors of B and broadcasts 12 values of A straight into the FMAs, so loads stay well under the FMA rate.
// Zen 4 issues one 512-bit FMA per cycle with 4-cycle latency; 24 independent chains hide that latency.
#include "gemm_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512vl,fma")))

enum { AVX512_MR = 12, AVX512_NR = 32 };

CK_AVX512 static void ck_kernel_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                                       int64_t m, int64_t n, float alpha, float beta) {
    __m512 acc[AVX512_MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX512_MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < AVX512_MR; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
        }
        a += AVX512_MR;
        b += AVX512_NR;
    }
    // Masks cover the valid columns, so partial tiles use the same arithmetic as full ones.
    __mmask16 mask0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    __mmask16 mask1 = n >= 32 ? (__mmask16)0xFFFF : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX512_MR; r++) {
        if (r >= m) break;
        float *row = c + r * ldc;
        __m512 x0 = _mm512_mul_ps(valpha, acc[r][0]), x1 = _mm512_mul_ps(valpha, acc[r][1]);
        if (beta != 0) {
            x0 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mask0, row), x0);
            x1 = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mask1, row + 16), x1);
        }
        _mm512_mask_storeu_ps(row, mask0, x0);
        _mm512_mask_storeu_ps(row + 16, mask1, x1);
    }
}

CK_AVX512 static void ck_pack_a_avx512(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                       float *dst) {
    ck_pack_panels(AVX512_MR, contiguous, count, kc, src, ld, dst);
}

CK_AVX512 static void ck_pack_b_avx512(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                       float *dst) {
    ck_pack_panels(AVX512_NR, contiguous, count, kc, src, ld, dst);
}

const ck_gemm_kernels *ck_gemm_kernels_avx512(void) {
    static const ck_gemm_kernels kernels = {
        .mr = AVX512_MR, .nr = AVX512_NR, .mc = 3072, .kc = 384, .nc = 480,
        .kernel = ck_kernel_avx512, .pack_a = ck_pack_a_avx512, .pack_b = ck_pack_b_avx512,
    };
    return &kernels;
}
#endif
