// AVX2 + FMA GEMM path. A 6×16 micro-tile is 12 ymm accumulators (of 16 registers), two B vectors and one
// broadcast: the largest tile that fits without spills; 12 chains cover two FMA pipes × 4-cycle latency.
#include "gemm_internal.h"

#if defined(__x86_64__)
#include "ck_simd_x86.h"
#include <immintrin.h>

#define CK_AVX2 __attribute__((target("avx2,fma")))

enum { AVX2_MR = 6, AVX2_NR = 16 };

CK_AVX2 static void ck_kernel_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t m,
                                   int64_t n, float alpha, float beta) {
    __m256 acc[AVX2_MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX2_MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    // The C tile is touched only after the k loop; fetching it now overlaps its cache misses with the FMAs.
    for (int64_t r = 0; r < m; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);
    }
    // Rows spelled out for unoptimised builds, as in the AVX-512 kernel.
    _Static_assert(AVX2_MR == 6, "the k loop spells out 6 rows");
#define CK_ROW(r)                                                                                              \
    {                                                                                                          \
        const __m256 ar = _mm256_broadcast_ss(a + r);                                                          \
        acc[r][0] = ck256_fmadd(ar, b0, acc[r][0]);                                                            \
        acc[r][1] = ck256_fmadd(ar, b1, acc[r][1]);                                                            \
    }
    for (int64_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        CK_ROW(0) CK_ROW(1) CK_ROW(2) CK_ROW(3) CK_ROW(4) CK_ROW(5)
        a += AVX2_MR;
        b += AVX2_NR;
    }
#undef CK_ROW
    // Lane masks (all ones = lane valid) for masked loads/stores of partial tiles.
    __m256i lanes = ck256_lane_index();
    __m256i mask0 = ck256_cmpgt_epi32(ck256_set1_epi32((int)(n < 16 ? n : 16)), lanes);
    __m256i mask1 = ck256_cmpgt_epi32(ck256_set1_epi32((int)(n < 16 ? n : 16) - 8), lanes);
    __m256 valpha = ck256_set1(alpha), vbeta = ck256_set1(beta);
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX2_MR; r++) {
        if (r >= m) break;
        float *row = c + r * ldc;
        __m256 x0 = ck256_mul(valpha, acc[r][0]), x1 = ck256_mul(valpha, acc[r][1]);
        if (n == AVX2_NR) {  // full tiles avoid the masked moves, which are slow on AMD
            if (beta != 0) {
                x0 = ck256_fmadd(vbeta, _mm256_loadu_ps(row), x0);
                x1 = ck256_fmadd(vbeta, _mm256_loadu_ps(row + 8), x1);
            }
            ck256_storeu(row, x0);
            ck256_storeu(row + 8, x1);
            continue;
        }
        if (beta != 0) {
            x0 = ck256_fmadd(vbeta, ck256_maskload(row, mask0), x0);
            x1 = ck256_fmadd(vbeta, ck256_maskload(row + 8, mask1), x1);
        }
        ck256_maskstore(row, mask0, x0);
        ck256_maskstore(row + 8, mask1, x1);
    }
}

// Transposes an 8×8 block in registers: afterwards x[k] holds element k of every input row.
CK_AVX2 CK_INLINE void ck_transpose8(__m256 x[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = ck256_unpacklo_ps(x[i], x[i + 1]);      // rows i, i+1 at k = 0, 1 (and 4, 5 in the high lane)
        t[i + 1] = ck256_unpackhi_ps(x[i], x[i + 1]);  // ... at k = 2, 3 (6, 7)
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);      // rows i..i+3 at k = 0 (4)
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);  // k = 1 (5)
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);  // k = 2 (6)
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);  // k = 3 (7)
    }
    for (int j = 0; j < 4; j++) {
        x[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
        x[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
}

// All-ones in the first `count` lanes (count may be <= 0 or >= 8), for maskload/maskstore.
CK_AVX2 CK_INLINE __m256i ck_mask8(int64_t count) {
    int32_t clamped = count < 0 ? 0 : count > 8 ? 8 : (int32_t)count;
    return ck256_cmpgt_epi32(ck256_set1_epi32(clamped), ck256_lane_index());
}

// Stores the first `count` (1..8) lanes of x at p. Masked stores (vmaskmovps) are microcoded and slow on AMD:
// a full store, or a 4-, 2- and 1-lane store, costs less than one of them.
CK_AVX2 CK_INLINE void ck_store_first(float *p, int64_t count, const __m256 *x) {
    if (count == 8) {
        ck256_storeu(p, *x);
        return;
    }
    __m128 part = ck256_low128(*x);
    int64_t done = 0;
    if (count >= 4) {
        _mm_storeu_ps(p, part);
        part = _mm256_extractf128_ps(*x, 1);
        done = 4;
    }
    if (count - done >= 2) {
        _mm_storel_pi((__m64 *)(p + done), part);
        part = _mm_movehl_ps(part, part);
        done += 2;
    }
    if (count - done == 1) _mm_store_ss(p + done, part);
}

// Packs panels of `width` rows (6 or 16); see ck_pack_routine and the AVX-512 version for the strategy.
// A 6-wide panel is written with 8-lane stores in increasing address order, each one's two extra lanes
// overwritten by the next; only the last store of a run keeps to its 6 lanes.
CK_AVX2 static inline __attribute__((always_inline)) void ck_pack_avx2(
    int64_t width, int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld, float *dst) {
    if (contiguous) {
        // Row k of the panels is adjacent in memory (src[k*ld + x]). A few panels at a time (about 256 bytes of
        // each source row), k by k: all the panels at once would write to as many pages per k as there are
        // panels, and one panel at a time would read a new cache line per k.
        const int64_t panels = (count + width - 1) / width, group = width % 8 == 0 ? 64 / width : 8;
        for (int64_t p0 = 0; p0 < panels; p0 += group) {
            for (int64_t k = 0; k < kc; k++) {
                const float *from = src + k * ld;
                float *to = dst + k * width;
                for (int64_t p = p0; p < p0 + group && p < panels; p++) {
                    const int64_t rows = count - p * width;  // valid values from this panel's start
                    if (width % 8 == 0 && rows >= width) {
                        for (int64_t v = 0; v < width; v += 8)
                            ck256_storeu(to + p * width * kc + v, _mm256_loadu_ps(from + p * width + v));
                    } else if (width % 8 != 0 && rows >= 8 && k + 1 < kc) {
                        // 8 readable values: store all 8, the extra ones landing where k + 1 goes next.
                        ck256_storeu(to + p * width * kc, _mm256_loadu_ps(from + p * width));
                    } else {
                        // The last k of a narrow panel, or the last panel past `count` (zero-filled; the masked
                        // loads touch only its valid values).
                        for (int64_t v = 0; v < width; v += 8) {
                            __m256 x = ck256_maskload(from + p * width + v, ck_mask8(rows - v));
                            ck_store_first(to + p * width * kc + v, width - v < 8 ? width - v : 8, &x);
                        }
                    }
                }
            }
        }
        return;
    }
    for (int64_t x0 = 0; x0 < count; x0 += width) {
        const int64_t rows = count - x0 < width ? count - x0 : width;
        const float *from = src + x0 * ld;
        int64_t k = 0;
        for (; k + 8 <= kc; k += 8) {
            for (int64_t v = 0; v < width; v += 8) {
                __m256 x[8];
                for (int64_t r = 0; r < 8; r++)
                    x[r] = v + r < rows ? _mm256_loadu_ps(from + (v + r) * ld + k) : _mm256_setzero_ps();
                ck_transpose8(x);
                if (width - v >= 8) {
                    for (int64_t j = 0; j < 8; j++) ck256_storeu(dst + (k + j) * width + v, x[j]);
                } else {
                    for (int64_t j = 0; j < 7; j++) ck256_storeu(dst + (k + j) * width + v, x[j]);
                    ck_store_first(dst + (k + 7) * width + v, width - v, &x[7]);
                }
            }
        }
        for (; k < kc; k++) {
            for (int64_t r = 0; r < rows; r++) dst[k * width + r] = from[r * ld + k];
            for (int64_t r = rows; r < width; r++) dst[k * width + r] = 0;
        }
        dst += width * kc;
    }
}

CK_AVX2 static void ck_pack_a_avx2(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                   float *dst) {
    ck_pack_avx2(AVX2_MR, contiguous, count, kc, src, ld, dst);
}

CK_AVX2 static void ck_pack_b_avx2(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                   float *dst) {
    ck_pack_avx2(AVX2_NR, contiguous, count, kc, src, ld, dst);
}

// C[0:4, 0] of the dot-product form (transB): the dot products of 4 rows of A with one row of B, with the
// arithmetic of ck_skinny_dots (so the same bits): lane l of 16 partial sums per element — lanes 0–7 in one ymm,
// 8–15 in another — gathers the products at k ≡ l (mod 16) in k order, the depth tail adding 0·0 in the lanes past
// it (which leaves each partial sum's value as it is), then the 16 are added from lane 0 up. 8 accumulators, 2 B
// vectors and A read by the FMAs: no spills in 16 registers, where the generic code's 8 × 2 × 16 lanes spill.
CK_AVX2 static void ck_dots4x1_avx2(int64_t K, float alpha, const float *A, int64_t lda, const float *b, float beta,
                                    float *C, int64_t ldc) {
    __m256 lo0 = _mm256_setzero_ps(), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
    const float *a0 = A, *a1 = A + lda, *a2 = A + 2 * lda, *a3 = A + 3 * lda;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        const __m256 blo = _mm256_loadu_ps(b + k), bhi = _mm256_loadu_ps(b + k + 8);
        lo0 = ck256_fmadd(_mm256_loadu_ps(a0 + k), blo, lo0);
        hi0 = ck256_fmadd(_mm256_loadu_ps(a0 + k + 8), bhi, hi0);
        lo1 = ck256_fmadd(_mm256_loadu_ps(a1 + k), blo, lo1);
        hi1 = ck256_fmadd(_mm256_loadu_ps(a1 + k + 8), bhi, hi1);
        lo2 = ck256_fmadd(_mm256_loadu_ps(a2 + k), blo, lo2);
        hi2 = ck256_fmadd(_mm256_loadu_ps(a2 + k + 8), bhi, hi2);
        lo3 = ck256_fmadd(_mm256_loadu_ps(a3 + k), blo, lo3);
        hi3 = ck256_fmadd(_mm256_loadu_ps(a3 + k + 8), bhi, hi3);
    }
    if (k < K) {
        const int64_t tail = K - k;
        const __m256i index = ck256_lane_index();
        const __m256i maskLo = (__m256i)((__v8si)index < (__v8si)ck256_set1_epi32((int)tail));
        const __m256i maskHi = (__m256i)((__v8si)index < (__v8si)ck256_set1_epi32((int)tail - 8));
        const __m256 blo = ck256_maskload(b + k, maskLo), bhi = ck256_maskload(b + k + 8, maskHi);
        lo0 = ck256_fmadd(ck256_maskload(a0 + k, maskLo), blo, lo0);
        hi0 = ck256_fmadd(ck256_maskload(a0 + k + 8, maskHi), bhi, hi0);
        lo1 = ck256_fmadd(ck256_maskload(a1 + k, maskLo), blo, lo1);
        hi1 = ck256_fmadd(ck256_maskload(a1 + k + 8, maskHi), bhi, hi1);
        lo2 = ck256_fmadd(ck256_maskload(a2 + k, maskLo), blo, lo2);
        hi2 = ck256_fmadd(ck256_maskload(a2 + k + 8, maskHi), bhi, hi2);
        lo3 = ck256_fmadd(ck256_maskload(a3 + k, maskLo), blo, lo3);
        hi3 = ck256_fmadd(ck256_maskload(a3 + k + 8, maskHi), bhi, hi3);
    }
    float lanes[4][16];
    ck256_storeu(lanes[0], lo0), ck256_storeu(lanes[0] + 8, hi0);
    ck256_storeu(lanes[1], lo1), ck256_storeu(lanes[1] + 8, hi1);
    ck256_storeu(lanes[2], lo2), ck256_storeu(lanes[2] + 8, hi2);
    ck256_storeu(lanes[3], lo3), ck256_storeu(lanes[3] + 8, hi3);
    for (int64_t r = 0; r < 4; r++) {
        float sum = 0;
        for (int64_t l = 0; l < 16; l++) sum += lanes[r][l];
        float *c = C + r * ldc;
        *c = alpha * sum + (beta == 0 ? 0 : beta * *c);  // as ck_skinny_dots writes it
    }
}

CK_AVX2 static void ck_skinny_avx2(int transA, int transB, int64_t m, int64_t n, int64_t K, float alpha,
                       const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                       int64_t ldc) {
    if (transB && m >= 4) {
        // Column by column, every group of 4 rows in turn, so each row of B comes from memory once and from L1
        // for the next group; the rows past the last group of 4 by the generic dots.
        const int64_t groups = m / 4, rest = m - 4 * groups;
        for (int64_t j = 0; j < n; j++) {
            const float *b = B + j * ldb;
            for (int64_t g = 0; g < groups; g++) ck_dots4x1_avx2(K, alpha, A + 4 * g * lda, lda, b, beta, C + 4 * g * ldc + j, ldc);
            const float *a = A + 4 * groups * lda;
            float *c = C + 4 * groups * ldc + j;
            switch (rest) {
            case 1: ck_skinny_dots(1, 1, K, alpha, a, lda, b, ldb, beta, c, ldc); break;
            case 2: ck_skinny_dots(2, 1, K, alpha, a, lda, b, ldb, beta, c, ldc); break;
            case 3: ck_skinny_dots(3, 1, K, alpha, a, lda, b, ldb, beta, c, ldc); break;
            default: break;
            }
        }
        return;
    }
    ck_skinny_generic(transA, transB, m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const ck_gemm_kernels *ck_gemm_kernels_avx2(void) {
    static const ck_gemm_kernels kernels = {
        .mr = AVX2_MR, .nr = AVX2_NR, .mc = 3072, .kc = 384, .nc = 1536,
        .kernel = ck_kernel_avx2, .pack_a = ck_pack_a_avx2, .pack_b = ck_pack_b_avx2,
        .skinny = ck_skinny_avx2,
    };
    return &kernels;
}
#endif
