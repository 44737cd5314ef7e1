// AVX-512 GEMM path. A 12×32 micro-tile keeps 24 zmm accumulators (of 32 registers): per k it loads two
// vectors of B and broadcasts 12 values of A straight into the FMAs, so loads stay well under the FMA rate.
// Zen 4 issues one 512-bit FMA per cycle with 4-cycle latency; 24 independent chains hide that latency.
#include "gemm_internal.h"

#if defined(__x86_64__)
#include "ck_simd_x86.h"
#include <immintrin.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512vl,fma")))

enum { AVX512_MR = 12, AVX512_NR = 32 };

CK_AVX512 static void ck_kernel_avx512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                                       int64_t m, int64_t n, float alpha, float beta) {
    __m512 acc[AVX512_MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX512_MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    // The C tile is touched only after the k loop; fetching it now overlaps its cache misses with the FMAs.
    for (int64_t r = 0; r < m; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 31), _MM_HINT_T0);
    }
    // The rows are spelled out rather than left to a loop the optimiser unrolls, so that unoptimised (debug)
    // builds address the accumulators at constant offsets instead of recomputing acc[r] around each FMA.
    _Static_assert(AVX512_MR == 12, "the k loop spells out 12 rows");
#define CK_ROW(r)                                                                                              \
    {                                                                                                          \
        const __m512 ar = _mm512_set1_ps(a[r]);                                                                \
        acc[r][0] = ck512_fmadd(ar, b0, acc[r][0]);                                                            \
        acc[r][1] = ck512_fmadd(ar, b1, acc[r][1]);                                                            \
    }
    for (int64_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        CK_ROW(0) CK_ROW(1) CK_ROW(2) CK_ROW(3) CK_ROW(4) CK_ROW(5)
        CK_ROW(6) CK_ROW(7) CK_ROW(8) CK_ROW(9) CK_ROW(10) CK_ROW(11)
        a += AVX512_MR;
        b += AVX512_NR;
    }
#undef CK_ROW
    // Masks cover the valid columns, so partial tiles use the same arithmetic as full ones.
    __mmask16 mask0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    __mmask16 mask1 = n >= 32 ? (__mmask16)0xFFFF : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX512_MR; r++) {
        if (r >= m) break;
        float *row = c + r * ldc;
        __m512 x0 = ck512_mul(valpha, acc[r][0]), x1 = ck512_mul(valpha, acc[r][1]);
        if (beta != 0) {
            x0 = ck512_fmadd(vbeta, _mm512_maskz_loadu_ps(mask0, row), x0);
            x1 = ck512_fmadd(vbeta, _mm512_maskz_loadu_ps(mask1, row + 16), x1);
        }
        ck512_mask_storeu(row, mask0, x0);
        ck512_mask_storeu(row + 16, mask1, x1);
    }
}

// Packs panels of `width` (a multiple of 16, or 12) rows; see ck_pack_routine. The copy is explicit
// because the compiler's version of ck_pack_panels uses scalar moves or scatters here.
CK_AVX512 static inline __attribute__((always_inline)) void ck_pack_avx512(
    int64_t width, int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld, float *dst) {
    if (contiguous) {
        // Row k of every panel is adjacent in memory (src[k*ld + x]): read each source row once, left to
        // right, scattering its pieces over the panels; masks zero-fill the last panel past `count`.
        const int64_t panels = (count + width - 1) / width;
        for (int64_t k = 0; k < kc; k++) {
            const float *from = src + k * ld;
            float *to = dst + k * width;
            for (int64_t p = 0; p < panels; p++)
                for (int64_t v = 0; v < width; v += 16)
                    ck512_mask_storeu(to + p * width * kc + v, ck_mask16(width - v),
                                      _mm512_maskz_loadu_ps(ck_mask16(count - p * width - v), from + p * width + v));
        }
        return;
    }
    for (int64_t x0 = 0; x0 < count; x0 += width) {
        // Rows of the panel are contiguous in k: transpose 16 rows × 16 k at a time.
        const int64_t rows = count - x0 < width ? count - x0 : width;
        const float *from = src + x0 * ld;
        int64_t k = 0;
        for (; k + 16 <= kc; k += 16) {
            for (int64_t v = 0; v < width; v += 16) {
                __m512 x[16];
                for (int64_t r = 0; r < 16; r++) {
                    if (v + r >= rows) {
                        x[r] = _mm512_setzero_ps();
                        continue;
                    }
                    x[r] = _mm512_loadu_ps(from + (v + r) * ld + k);
                    // 32 row streams are more than the hardware prefetcher tracks; 12 are not (measured).
                    if (width > 16) _mm_prefetch((const char *)(from + (v + r) * ld + k + 64), _MM_HINT_T0);
                }
                ck_transpose16(x);
                __mmask16 lanes = ck_mask16(width - v);
                for (int64_t j = 0; j < 16; j++) ck512_mask_storeu(dst + (k + j) * width + v, lanes, x[j]);
            }
        }
        for (; k < kc; k++) {
            for (int64_t r = 0; r < rows; r++) dst[k * width + r] = from[r * ld + k];
            for (int64_t r = rows; r < width; r++) dst[k * width + r] = 0;
        }
        dst += width * kc;
    }
}

CK_AVX512 static void ck_pack_a_avx512(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                       float *dst) {
    ck_pack_avx512(AVX512_MR, contiguous, count, kc, src, ld, dst);
}

CK_AVX512 static void ck_pack_b_avx512(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                       float *dst) {
    ck_pack_avx512(AVX512_NR, contiguous, count, kc, src, ld, dst);
}

// C[0:R, 0:W] of the dot-product form (transB) for R rows of A (a decode batch of R ≤ 8) and W columns, in
// registers: R·W ≤ 16 accumulators, lane l of accumulator W·r + j summing row r's products with column j at
// k ≡ l (mod 16) in k order (the tail with a masked FMA that leaves the other lanes as they are). A 16×16 transpose
// then puts lane l of all 16 accumulators in one vector, and adding those vectors from lane 0 up is ck_skinny_dots'
// "sum += acc[l]" for 16 elements at once (the unused accumulators stay zero): the same bits as ck_skinny_dots(R, W,
// …), and so as each row alone. The generic code keeps its accumulators on the stack around the reduction; here the
// loop is R·W FMAs on R + W loads. R and W are constants after inlining.
CK_AVX512 static inline __attribute__((always_inline)) void ck_dots_avx512(const int R, const int W, int64_t K, float alpha,
                                                                           const float *A, int64_t lda, const float *B,
                                                                           int64_t ldb, float beta, float *C, int64_t ldc) {
    __m512 acc[16], b[16];
#pragma clang loop unroll(full)
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
#pragma clang loop unroll(full)
        for (int j = 0; j < W; j++) b[j] = _mm512_loadu_ps(B + j * ldb + k);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            const __m512 ar = _mm512_loadu_ps(A + r * lda + k);
#pragma clang loop unroll(full)
            for (int j = 0; j < W; j++) acc[W * r + j] = ck512_fmadd(ar, b[j], acc[W * r + j]);
        }
    }
    if (k < K) {
        const __mmask16 mask = ck_mask16(K - k);
#pragma clang loop unroll(full)
        for (int j = 0; j < W; j++) b[j] = _mm512_maskz_loadu_ps(mask, B + j * ldb + k);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            const __m512 ar = _mm512_maskz_loadu_ps(mask, A + r * lda + k);
#pragma clang loop unroll(full)
            for (int j = 0; j < W; j++)
                acc[W * r + j] = (__m512)__builtin_ia32_vfmaddps512_mask3((__v16sf)ar, (__v16sf)b[j], (__v16sf)acc[W * r + j],
                                                                          mask, _MM_FROUND_CUR_DIRECTION);
        }
    }
    ck_transpose16(acc);
    __m512 sum = _mm512_setzero_ps();
#pragma clang loop unroll(full)
    for (int l = 0; l < 16; l++) sum = ck512_add(sum, acc[l]);
    float sums[16];
    ck512_storeu(sums, sum);
    for (int r = 0; r < R; r++) {
        for (int j = 0; j < W; j++) {
            float *c = C + r * ldc + j;
            *c = alpha * sums[W * r + j] + (beta == 0 ? 0 : beta * *c);  // as ck_skinny_dots writes it
        }
    }
}

// R rows (a constant after inlining) against every row of B, W = 16 / R columns at a time, the last columns by
// ck_skinny_dots (the same per-element arithmetic).
CK_AVX512 static inline __attribute__((always_inline)) void ck_dot_rows_avx512(const int R, int64_t n, int64_t K, float alpha,
                                                                               const float *A, int64_t lda, const float *B,
                                                                               int64_t ldb, float beta, float *C, int64_t ldc) {
    const int W = 16 / R;
    int64_t j = 0;
    for (; j + W <= n; j += W) ck_dots_avx512(R, W, K, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc);
    for (; j < n; j++) ck_skinny_dots(R, 1, K, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc);
}

CK_AVX512 static void ck_skinny_avx512(int transA, int transB, int64_t m, int64_t n, int64_t K, float alpha,
                       const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                       int64_t ldc) {
    int64_t r0 = 0;
    if (transB) {
        for (; r0 + 8 <= m; r0 += 8) ck_dot_rows_avx512(8, n, K, alpha, A + r0 * lda, lda, B, ldb, beta, C + r0 * ldc, ldc);
        const float *a = A + r0 * lda;
        float *c = C + r0 * ldc;
        switch (m - r0) {  // one row stays on the generic code (four columns at a time, no transpose)
        case 0: return;
        case 2: ck_dot_rows_avx512(2, n, K, alpha, a, lda, B, ldb, beta, c, ldc); return;
        case 3: ck_dot_rows_avx512(3, n, K, alpha, a, lda, B, ldb, beta, c, ldc); return;
        case 4: ck_dot_rows_avx512(4, n, K, alpha, a, lda, B, ldb, beta, c, ldc); return;
        case 5: ck_dot_rows_avx512(5, n, K, alpha, a, lda, B, ldb, beta, c, ldc); return;
        case 6: ck_dot_rows_avx512(6, n, K, alpha, a, lda, B, ldb, beta, c, ldc); return;
        case 7: ck_dot_rows_avx512(7, n, K, alpha, a, lda, B, ldb, beta, c, ldc); return;
        default: break;
        }
    }
    ck_skinny_generic(transA, transB, m - r0, n, K, alpha, A + r0 * lda, lda, B, ldb, beta, C + r0 * ldc, ldc);
}

const ck_gemm_kernels *ck_gemm_kernels_avx512(void) {
    static const ck_gemm_kernels kernels = {
        .mr = AVX512_MR, .nr = AVX512_NR, .mc = 3072, .kc = 384, .nc = 1536,
        .kernel = ck_kernel_avx512, .pack_a = ck_pack_a_avx512, .pack_b = ck_pack_b_avx512,
        .skinny = ck_skinny_avx512,
    };
    return &kernels;
}
#endif
