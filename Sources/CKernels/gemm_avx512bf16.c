// AVX512-BF16 GEMM path for the bf16 matmul mode: operands rounded to bf16 while they are packed, products
// accumulated in fp32 by VDPBF16PS. One VDPBF16PS does the work of two FMAs (16 lanes × a pair of k), and the
// packed panels are half the bytes of float ones.
//
// Packed layout: each k-pair of a panel row is one 32-bit word holding bf16(k even) in its low half and
// bf16(k odd) in its high half (ck_bf16_pair). A panel of w rows is ⌈kc/2⌉ groups of w words; an odd kc pads
// the last odd k with zero. The micro-kernel broadcasts one A word and multiplies it against 16 B words:
// acc[j] += a[2p]·b[2p, j] + a[2p+1]·b[2p+1, j]. VDPBF16PS treats bf16 subnormals (|x| < 2^-126) as zero.
#include "gemm_internal.h"

#if defined(__x86_64__)
#include "ck_simd_x86.h"
#include <immintrin.h>

#define CK_AVX512BF16 __attribute__((target("avx512f,avx512vl,avx512bw,avx512bf16,fma")))

enum { BF16_MR = 12, BF16_NR = 32 };

// ck_bf16_bits on 16 lanes: the rounded bits in the top half of each 32-bit lane, the low half zero.
// A macro over vector operators, not a function taking a vector, so debug builds stay fast (ck_simd_x86.h).
#define ck512_bf16_bits(x)                                                                                     \
    __extension__({                                                                                            \
        const __v16su u_ = (__v16su)(x);                                                                       \
        const __v16su nan_ = (__v16su)((u_ & 0x7fffffffu) > 0x7f800000u);                                      \
        const __v16su rounded_ = (u_ + 0x7fffu + ((u_ >> 16) & 1u)) & 0xffff0000u;                             \
        (__m512i)((rounded_ & ~nan_) | (0x7fc00000u & nan_));                                                  \
    })

// 16 pair words from the even-k and odd-k values of 16 rows.
#define ck512_bf16_pairs(even, odd) ((__m512i)(((__v16su)ck512_bf16_bits(even) >> 16) | (__v16su)ck512_bf16_bits(odd)))

CK_AVX512BF16 static void ck_kernel_avx512bf16(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                                               int64_t m, int64_t n, float alpha, float beta) {
    const uint32_t *aw = (const uint32_t *)a, *bw = (const uint32_t *)b;
    __m512 acc[BF16_MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < BF16_MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t r = 0; r < m; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 31), _MM_HINT_T0);
    }
    _Static_assert(BF16_MR == 12, "the k loop spells out 12 rows");
#define CK_ROW(r)                                                                                              \
    {                                                                                                          \
        const __m512i ar = _mm512_set1_epi32((int)aw[r]);                                                      \
        acc[r][0] = (__m512)__builtin_ia32_dpbf16ps_512((__v16sf)acc[r][0], (__v32bf)ar, (__v32bf)b0);         \
        acc[r][1] = (__m512)__builtin_ia32_dpbf16ps_512((__v16sf)acc[r][1], (__v32bf)ar, (__v32bf)b1);         \
    }
    const int64_t pairs = (kc + 1) / 2;
    for (int64_t p = 0; p < pairs; p++) {
        const __m512i b0 = _mm512_load_si512(bw), b1 = _mm512_load_si512(bw + 16);
        CK_ROW(0) CK_ROW(1) CK_ROW(2) CK_ROW(3) CK_ROW(4) CK_ROW(5)
        CK_ROW(6) CK_ROW(7) CK_ROW(8) CK_ROW(9) CK_ROW(10) CK_ROW(11)
        aw += BF16_MR;
        bw += BF16_NR;
    }
#undef CK_ROW
    // The write-back of the float kernel: alpha and beta in fp32, masks for partial tiles.
    __mmask16 mask0 = ck_mask16(n), mask1 = ck_mask16(n - 16);
    __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
#pragma clang loop unroll(full)
    for (int r = 0; r < BF16_MR; r++) {
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

// Packs panels of `width` (12 or 32) rows as bf16 pairs; see ck_pack_routine and the top of the file.
CK_AVX512BF16 static inline __attribute__((always_inline)) void ck_pack_avx512bf16(
    int64_t width, int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld, float *into) {
    uint32_t *dst = (uint32_t *)into;
    const int64_t pairs = (kc + 1) / 2;
    if (contiguous) {
        // Element (x, k) at src[k*ld + x]: two source rows (k even, k odd) make one row of pair words.
        const int64_t panels = (count + width - 1) / width;
        for (int64_t p = 0; p < pairs; p++) {
            const float *even = src + 2 * p * ld, *odd = even + ld;
            const int hasOdd = 2 * p + 1 < kc;
            uint32_t *to = dst + p * width;
            for (int64_t q = 0; q < panels; q++) {
                for (int64_t v = 0; v < width; v += 16) {
                    const __mmask16 valid = ck_mask16(count - q * width - v);
                    const __m512 x0 = _mm512_maskz_loadu_ps(valid, even + q * width + v);
                    const __m512 x1 = hasOdd ? _mm512_maskz_loadu_ps(valid, odd + q * width + v) : _mm512_setzero_ps();
                    ck512_mask_storeu(to + q * width * pairs + v, ck_mask16(width - v), ck512_bf16_pairs(x0, x1));
                }
            }
        }
        return;
    }
    // Element (x, k) at src[x*ld + k]: 32 k of a row round to 16 pair words in order (the high halves of the
    // rounded lanes, gathered by one word permute); 16 rows of those are transposed so each k-pair's words
    // lie across the rows, as the panel wants them.
    const __m512i oddHalves = (__m512i)(__v32hu){1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
                                                 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63};
    for (int64_t x0 = 0; x0 < count; x0 += width) {
        const int64_t rows = count - x0 < width ? count - x0 : width;
        const float *from = src + x0 * ld;
        int64_t k = 0;
        for (; k + 32 <= kc; k += 32) {
            for (int64_t v = 0; v < width; v += 16) {
                __m512 x[16];
                for (int64_t r = 0; r < 16; r++) {
                    if (v + r >= rows) {
                        x[r] = _mm512_setzero_ps();
                        continue;
                    }
                    const float *row = from + (v + r) * ld + k;
                    const __m512i low = ck512_bf16_bits(_mm512_loadu_ps(row));
                    const __m512i high = ck512_bf16_bits(_mm512_loadu_ps(row + 16));
                    x[r] = (__m512)__builtin_ia32_vpermi2varhi512((__v32hi)low, (__v32hi)oddHalves, (__v32hi)high);
                    if (width > 16) _mm_prefetch((const char *)(row + 64), _MM_HINT_T0);
                }
                ck_transpose16(x);
                const __mmask16 lanes = ck_mask16(width - v);
                for (int64_t j = 0; j < 16; j++) ck512_mask_storeu(dst + (k / 2 + j) * width + v, lanes, x[j]);
            }
        }
        for (; k < kc; k += 2) {
            for (int64_t r = 0; r < width; r++)
                dst[k / 2 * width + r] = r >= rows ? 0 : ck_bf16_pair(from[r * ld + k], k + 1 < kc ? from[r * ld + k + 1] : 0);
        }
        dst += width * pairs;
    }
}

CK_AVX512BF16 static void ck_pack_a_avx512bf16(int contiguous, int64_t count, int64_t kc, const float *src,
                                               int64_t ld, float *dst) {
    ck_pack_avx512bf16(BF16_MR, contiguous, count, kc, src, ld, dst);
}

CK_AVX512BF16 static void ck_pack_b_avx512bf16(int contiguous, int64_t count, int64_t kc, const float *src,
                                               int64_t ld, float *dst) {
    ck_pack_avx512bf16(BF16_NR, contiguous, count, kc, src, ld, dst);
}

const ck_gemm_kernels *ck_gemm_kernels_avx512bf16(void) {
    // Twice the float path's depth: a pair word per k-pair keeps the A panel (12 × 384 words) and a B panel
    // (32 × 384 words) at the bytes of the float path's.
    static const ck_gemm_kernels kernels = {
        .mr = BF16_MR, .nr = BF16_NR, .mc = 3072, .kc = 768, .nc = 1536,
        .kernel = ck_kernel_avx512bf16, .pack_a = ck_pack_a_avx512bf16, .pack_b = ck_pack_b_avx512bf16,
        .skinny = 0, .bf16_pairs = 1,
    };
    return &kernels;
}
#endif
