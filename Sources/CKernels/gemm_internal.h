// Private to the GEMM files: the per-path kernel table and the packing routines every path shares.
#ifndef CHARTER_GEMM_INTERNAL_H
#define CHARTER_GEMM_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

/// Computes one MR×NR tile of C from packed panels:  C[0:m, 0:n] = alpha · a·b + beta · C[0:m, 0:n].
/// a: kc × MR (k-major, MR values per k), b: kc × NR (NR values per k), both zero-padded past m and n and
/// 64-byte aligned. Only the m×n corner of C is touched; beta == 0 never reads C.
typedef void (*ck_micro_kernel)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                                int64_t m, int64_t n, float alpha, float beta);

/// Packs `count` rows of length kc into panels of `width` rows interleaved per k (panel layout of
/// ck_micro_kernel). Element (x, k) of the source is src[k*ld + x] when `contiguous` (x runs along memory),
/// else src[x*ld + k]. Each panel is width·kc floats; rows past `count` in the last panel are zero.
typedef void (*ck_pack_routine)(int contiguous, int64_t count, int64_t kc, const float *src, int64_t ld,
                                float *dst);

/// C[0:m, 0:n] = alpha · op(A)·op(B) + beta · C for a few rows (m <= CK_SKINNY_ROWS, or CK_SKINNY_DOT_ROWS with
/// transB), read straight from A and B: with so few rows, packing B would cost more than the product (a
/// matrix-vector product when m = 1). Not for transA && transB. Each element's sum is done in an order fixed by k
/// alone, whatever the column range or the other rows, so splitting the columns across threads, or multiplying the
/// rows one at a time, does not change the bits.
typedef void (*ck_skinny_kernel)(int transA, int transB, int64_t m, int64_t n, int64_t K, float alpha,
                                 const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                                 int64_t ldc);
#define CK_SKINNY_ROWS 4
/// Rows of A one pass of the dot-product form (transB) takes: all of a decode batch of 8, so the weights (B) are
/// streamed from memory once per product instead of once per 4 rows.
#define CK_SKINNY_DOT_ROWS 8

/// One instruction-set path: micro-tile shape, kernels, and cache blocking tuned for its register file.
typedef struct {
    int64_t mr, nr;   // micro-tile: rows of C (broadcast from A) × columns of C (vector loads of B)
    int64_t mc;       // rows of A packed at once (the A block stays in L3, one MR panel in L1)
    int64_t kc;       // depth of one packed block
    // Columns of B packed at once. The A block is streamed once per B block, so wide blocks pay off even
    // past L2: the kernel walks B panels in order and the prefetcher keeps up (measured on Zen 4).
    int64_t nc;
    ck_micro_kernel kernel;
    ck_pack_routine pack_a;  // packs MR-row panels of op(A)
    ck_pack_routine pack_b;  // packs NR-column panels of op(B)
    ck_skinny_kernel skinny;
    // 0: packed panels hold floats (w·kc per panel of w rows). 1: they hold bf16 pairs (see ck_bf16_pair), each
    // k-pair of a row one 32-bit word, w·⌈kc/2⌉ words per panel; the micro-kernel multiplies pairs (VDPBF16PS).
    int bf16_pairs;
} ck_gemm_kernels;

const ck_gemm_kernels *ck_gemm_kernels_portable(void);
#if defined(__x86_64__)
const ck_gemm_kernels *ck_gemm_kernels_avx2(void);
const ck_gemm_kernels *ck_gemm_kernels_avx512(void);
const ck_gemm_kernels *ck_gemm_kernels_avx512bf16(void);
#endif
#if defined(__aarch64__)
const ck_gemm_kernels *ck_gemm_kernels_neon(void);
#endif

/// The packing loop shared by every path; each path wraps it with a constant width so the compiler
/// specialises (and vectorises, under the path's target attribute) the copy.
static inline __attribute__((always_inline)) void ck_pack_panels(int64_t width, int contiguous, int64_t count,
                                                                 int64_t kc, const float *src, int64_t ld,
                                                                 float *dst) {
    for (int64_t x0 = 0; x0 < count; x0 += width) {
        int64_t rows = count - x0 < width ? count - x0 : width;
        if (contiguous) {
            // Each k contributes `rows` adjacent floats: a short copy per k.
            const float *from = src + x0;
            if (rows == width) {
                for (int64_t k = 0; k < kc; k++)
                    for (int64_t r = 0; r < width; r++) dst[k * width + r] = from[k * ld + r];
            } else {
                for (int64_t k = 0; k < kc; k++) {
                    for (int64_t r = 0; r < rows; r++) dst[k * width + r] = from[k * ld + r];
                    for (int64_t r = rows; r < width; r++) dst[k * width + r] = 0;
                }
            }
        } else {
            // Each row x is contiguous in k: walk `rows` streams in step, writing one k-slice at a time.
            const float *from = src + x0 * ld;
            if (rows == width) {
                for (int64_t k = 0; k < kc; k++)
                    for (int64_t r = 0; r < width; r++) dst[k * width + r] = from[r * ld + k];
            } else {
                for (int64_t k = 0; k < kc; k++) {
                    for (int64_t r = 0; r < rows; r++) dst[k * width + r] = from[r * ld + k];
                    for (int64_t r = rows; r < width; r++) dst[k * width + r] = 0;
                }
            }
        }
        dst += width * kc;
    }
}

/// C[r, j] = alpha · dot(A row r, B row j) + beta · C[r, j] for `rows` × `cols` (constants after inlining).
static inline __attribute__((always_inline)) void ck_skinny_dots(int64_t rows, int64_t cols, int64_t K,
                                                                 float alpha, const float *A, int64_t lda,
                                                                 const float *B, int64_t ldb, float beta,
                                                                 float *C, int64_t ldc) {
    // Only the rows × cols × 16 sums in use are zeroed (an initializer would clear all 8 × 4 × 16 on every call).
    float acc[CK_SKINNY_DOT_ROWS][4][16];
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cols; j++)
            for (int64_t l = 0; l < 16; l++) acc[r][j][l] = 0;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16)
#pragma clang loop unroll(full)
        for (int64_t r = 0; r < rows; r++)
#pragma clang loop unroll(full)
            for (int64_t j = 0; j < cols; j++)
#pragma clang loop unroll(full)
                for (int64_t l = 0; l < 16; l++) acc[r][j][l] += A[r * lda + k + l] * B[j * ldb + k + l];
    for (int64_t l = 0; k + l < K; l++)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < cols; j++) acc[r][j][l] += A[r * lda + k + l] * B[j * ldb + k + l];
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < cols; j++) {
            float sum = 0;
            for (int64_t l = 0; l < 16; l++) sum += acc[r][j][l];
            float *c = C + r * ldc + j;
            *c = alpha * sum + (beta == 0 ? 0 : beta * *c);
        }
    }
}

/// The dot-product form (transB; transA excluded) for `rows` (a constant after inlining, at most
/// CK_SKINNY_DOT_ROWS) rows: columns of op(B) are rows of B and rows of A are contiguous, so each C element is one
/// dot product, kept as 16 partial sums added in a fixed order at the end. Four columns at a time give the FMAs
/// independent chains; above 4 rows, two columns keep rows × columns accumulators within the register file.
static inline __attribute__((always_inline)) void ck_skinny_dot_rows(int64_t rows, int64_t n, int64_t K, float alpha,
                                                                     const float *A, int64_t lda, const float *B,
                                                                     int64_t ldb, float beta, float *C, int64_t ldc) {
    int64_t j = 0;
    if (rows > 4) {
        for (; j + 2 <= n; j += 2) ck_skinny_dots(rows, 2, K, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc);
    } else {
        for (; j + 4 <= n; j += 4) ck_skinny_dots(rows, 4, K, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc);
    }
    for (; j < n; j++) ck_skinny_dots(rows, 1, K, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc);
}

/// The row-streamed form (B not transposed) in plain C for `rows` (a constant after inlining) rows; each path
/// instantiates it under its target attribute so the compiler vectorises it with that path's registers.
static inline __attribute__((always_inline)) void ck_skinny_rows(int64_t rows, int transA, int64_t n, int64_t K,
                                                                 float alpha, const float *A, int64_t lda,
                                                                 const float *B, int64_t ldb, float beta, float *C,
                                                                 int64_t ldc) {
    // Rows of B are contiguous: for each k, add a[r, k] · B[k, block] to an L1-resident accumulator row,
    // streaming B row by row (narrow column strips down B would miss the TLB on every row).
    enum { BLOCK = 256 };
    const int64_t aRow = transA ? 1 : lda, aDepth = transA ? lda : 1;  // op(A)[r, k]
    float acc[CK_SKINNY_ROWS][BLOCK];
    for (int64_t j0 = 0; j0 < n; j0 += BLOCK) {
        const int64_t w = n - j0 < BLOCK ? n - j0 : BLOCK;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < w; j++) acc[r][j] = 0;
        int64_t k = 0;
        // Four k per pass over the accumulators: the same sequence of FMAs per element as one k at a
        // time, with a quarter of the loads and stores of `acc`.
        for (; k + 4 <= K; k += 4) {
            const float *b0 = B + k * ldb + j0, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
#pragma clang loop unroll(full)
            for (int64_t r = 0; r < rows; r++) {
                const float *a = A + r * aRow + k * aDepth;
                const float a0 = a[0], a1 = a[aDepth], a2 = a[2 * aDepth], a3 = a[3 * aDepth];
                for (int64_t j = 0; j < w; j++) {
                    float t = acc[r][j];
                    t += a0 * b0[j];
                    t += a1 * b1[j];
                    t += a2 * b2[j];
                    t += a3 * b3[j];
                    acc[r][j] = t;
                }
            }
        }
        for (; k < K; k++) {
            const float *b = B + k * ldb + j0;
            for (int64_t r = 0; r < rows; r++) {
                const float a = A[r * aRow + k * aDepth];
                for (int64_t j = 0; j < w; j++) acc[r][j] += a * b[j];
            }
        }
        for (int64_t r = 0; r < rows; r++) {
            float *c = C + r * ldc + j0;
            for (int64_t j = 0; j < w; j++) c[j] = alpha * acc[r][j] + (beta == 0 ? 0 : beta * c[j]);
        }
    }
}

/// Dispatches ck_skinny_dot_rows (transB) over groups of up to CK_SKINNY_DOT_ROWS rows, or ck_skinny_rows over
/// groups of up to CK_SKINNY_ROWS, with the row count made constant.
static inline __attribute__((always_inline)) void ck_skinny_generic(int transA, int transB, int64_t m, int64_t n,
                                                                    int64_t K, float alpha, const float *A,
                                                                    int64_t lda, const float *B, int64_t ldb,
                                                                    float beta, float *C, int64_t ldc) {
    if (transB) {
        // Up to CK_SKINNY_DOT_ROWS rows per pass over B (each element's sum is the same whatever the grouping).
        for (int64_t r0 = 0; r0 < m; r0 += CK_SKINNY_DOT_ROWS) {
            const float *a = A + r0 * lda;
            float *c = C + r0 * ldc;
            switch (m - r0 < CK_SKINNY_DOT_ROWS ? m - r0 : CK_SKINNY_DOT_ROWS) {
            case 1: ck_skinny_dot_rows(1, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            case 2: ck_skinny_dot_rows(2, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            case 3: ck_skinny_dot_rows(3, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            case 4: ck_skinny_dot_rows(4, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            case 5: ck_skinny_dot_rows(5, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            case 6: ck_skinny_dot_rows(6, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            case 7: ck_skinny_dot_rows(7, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            default: ck_skinny_dot_rows(8, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            }
        }
        return;
    }
    const int64_t aRow = transA ? 1 : lda;
    for (int64_t r0 = 0; r0 < m; r0 += CK_SKINNY_ROWS) {
        const float *a = A + r0 * aRow;
        float *c = C + r0 * ldc;
        switch (m - r0 < CK_SKINNY_ROWS ? m - r0 : CK_SKINNY_ROWS) {
        case 1: ck_skinny_rows(1, transA, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
        case 2: ck_skinny_rows(2, transA, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
        case 3: ck_skinny_rows(3, transA, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
        default: ck_skinny_rows(4, transA, n, K, alpha, a, lda, B, ldb, beta, c, ldc); break;
        }
    }
}

/// The bits of x rounded to bfloat16 (to nearest, ties to even), in the top 16 bits with the low 16 cleared;
/// NaN becomes the quiet NaN 0x7FC0. The same rounding as PyTorch's c10::BFloat16 (round_to_nearest_even), so
/// subnormals are rounded like any other value, and values that round past the largest bf16 become infinity.
static inline uint32_t ck_bf16_bits(float x) {
    union { float f; uint32_t u; } v = {x};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return 0x7fc00000u;
    return (v.u + 0x7fffu + ((v.u >> 16) & 1u)) & 0xffff0000u;
}

/// Two consecutive k of one row as bf16, the even k in the low half: the operand layout VDPBF16PS multiplies.
static inline uint32_t ck_bf16_pair(float even, float odd) { return (ck_bf16_bits(even) >> 16) | ck_bf16_bits(odd); }

#if defined(__x86_64__)
#include "ck_simd_x86.h"
#include <immintrin.h>

// The helpers below are shared by the AVX-512 float and bf16 paths (which add features to this set).
#define CK_GEMM_AVX512 __attribute__((target("avx512f,avx512vl,fma")))

// Transposes a 16×16 block in registers: afterwards x[k] holds element k of every input row.
// Two rounds of in-lane unpacks, then two of 128-bit lane shuffles: 64 shuffles for 256 values.
CK_GEMM_AVX512 CK_INLINE void ck_transpose16(__m512 x[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = ck512_unpacklo_ps(x[i], x[i + 1]);      // rows i, i+1 interleaved at k = 4g, 4g+1
        t[i + 1] = ck512_unpackhi_ps(x[i], x[i + 1]);  // ... at k = 4g+2, 4g+3
    }
    for (int i = 0; i < 16; i += 4) {
        for (int h = 0; h < 2; h++) {
            __m512d lo = (__m512d)t[i + h], hi = (__m512d)t[i + 2 + h];
            u[i + 2 * h] = (__m512)ck512_unpacklo_pd(lo, hi);      // rows i..i+3 at k = 4g + 2h
            u[i + 2 * h + 1] = (__m512)ck512_unpackhi_pd(lo, hi);  // ... at k = 4g + 2h + 1
        }
    }
    // u[4q + j] holds rows 4q..4q+3 at k = 4g + j in 128-bit lane g; gather the lanes of equal k.
    for (int j = 0; j < 4; j++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);       // rows 0-7 at k = j, 8+j
        __m512 v1 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xdd);       // rows 0-7 at k = 4+j, 12+j
        __m512 v2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);  // rows 8-15 at k = j, 8+j
        __m512 v3 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xdd);  // rows 8-15 at k = 4+j, 12+j
        x[j] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        x[8 + j] = _mm512_shuffle_f32x4(v0, v2, 0xdd);
        x[4 + j] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        x[12 + j] = _mm512_shuffle_f32x4(v1, v3, 0xdd);
    }
}

// The first `count` lanes (count may be <= 0 or >= 16).
CK_INLINE __mmask16 ck_mask16(int64_t count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

#endif

#endif
