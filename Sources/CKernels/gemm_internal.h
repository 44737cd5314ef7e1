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

/// One instruction-set path: micro-tile shape, kernels, and cache blocking tuned for its register file.
typedef struct {
    int64_t mr, nr;   // micro-tile: rows of C (broadcast from A) × columns of C (vector loads of B)
    int64_t mc;       // rows of A packed at once (the A block stays in L3, one MR panel in L1)
    int64_t kc;       // depth of one packed block
    int64_t nc;       // columns of B packed at once (the kc×nc block stays in L2)
    ck_micro_kernel kernel;
    ck_pack_routine pack_a;  // packs MR-row panels of op(A)
    ck_pack_routine pack_b;  // packs NR-column panels of op(B)
} ck_gemm_kernels;

const ck_gemm_kernels *ck_gemm_kernels_portable(void);
#if defined(__x86_64__)
const ck_gemm_kernels *ck_gemm_kernels_avx2(void);
const ck_gemm_kernels *ck_gemm_kernels_avx512(void);
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

#endif
