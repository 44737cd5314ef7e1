#ifndef CHARTER_CK_GEMM_H
#define CHARTER_CK_GEMM_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set paths a kernel can run on.
typedef enum {
    CK_PATH_AUTO = 0,      // best the CPU supports
    CK_PATH_PORTABLE = 1,  // plain C, any CPU
    CK_PATH_AVX2 = 2,      // x86_64 AVX2 + FMA
    CK_PATH_AVX512 = 3,    // x86_64 AVX-512F
    CK_PATH_NEON = 4,      // arm64 NEON
} ck_path;

/// 1 if this CPU can run `path`.
int ck_path_supported(int path);
/// Forces a path for all kernels (tests); CK_PATH_AUTO restores the default. Returns 0, or -1 if unsupported.
/// The default is the environment variable CHARTER_KERNEL_PATH=portable|avx2|avx512|neon when it names a
/// supported path (read at first use), else the best path the CPU supports.
int ck_set_path(int path);
/// The path kernels currently run on (never CK_PATH_AUTO).
int ck_active_path(void);
/// A short name of a path: "portable", "avx2", "avx512", "neon".
const char *ck_path_name(int path);

/// Row-major single-precision GEMM:  C = alpha * op(A) · op(B) + beta * C
/// op(A) is M×K (A stored K×M when transA != 0), op(B) is K×N (B stored N×K when transB != 0).
/// lda/ldb/ldc are row strides in elements. beta == 0 means C is overwritten (never read: NaNs in C are ignored).
/// Multithreaded over ck_get_num_threads(); deterministic for a fixed thread count (K is never split across
/// threads, so in fact the bits do not depend on the thread count either, only on the path and the shape).
void ck_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K,
              float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb,
              float beta, float *C, int64_t ldc);

/// Batched GEMM: for b in [0, batch): C_b = alpha * op(A_b) op(B_b) + beta * C_b,
/// with X_b = X + b * strideX. A stride of 0 broadcasts one matrix over the batch.
/// Parallelised over batch and tiles together, so many small products (attention heads) use both cores.
void ck_sgemm_batched(int transA, int transB, int64_t M, int64_t N, int64_t K,
                      float alpha, const float *A, int64_t lda, int64_t strideA,
                      const float *B, int64_t ldb, int64_t strideB,
                      float beta, float *C, int64_t ldc, int64_t strideC,
                      int64_t batch);

#ifdef __cplusplus
}
#endif
#endif
