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

/// ---- bf16 mixed precision: C = alpha · bf16(op(A)) · bf16(op(B)) + beta · C, in fp32.
///
/// ck_sgemm_bf16 / ck_sgemm_batched_bf16 take exactly ck_sgemm's arguments (fp32 A, B and C). Each element of A
/// and B is rounded to bfloat16 (ck_round_bf16) as it is packed; the products are summed in fp32 and alpha/beta
/// applied in fp32. Where they run, given the path (ck_set_path / CHARTER_KERNEL_PATH, which keep their meaning):
///  - path avx512 on a CPU with AVX512-BF16 (and AVX512BW): VDPBF16PS on bf16 pairs, "avx512bf16". This
///    instruction treats bf16 subnormals (|x| < 2^-126) as zero.
///  - any other path (portable, avx2, neon, avx512 without bf16 instructions): the path's float kernels on the
///    rounded values, "<path>+convert". The results equal the bf16 path's up to summation order.
/// So CHARTER_KERNEL_PATH=avx2 selects the converted path even on a bf16 CPU. The determinism of ck_sgemm holds:
/// the bits depend on the path and the shape only, not on the thread count.
void ck_sgemm_bf16(int transA, int transB, int64_t M, int64_t N, int64_t K,
                   float alpha, const float *A, int64_t lda,
                   const float *B, int64_t ldb,
                   float beta, float *C, int64_t ldc);
void ck_sgemm_batched_bf16(int transA, int transB, int64_t M, int64_t N, int64_t K,
                           float alpha, const float *A, int64_t lda, int64_t strideA,
                           const float *B, int64_t ldb, int64_t strideB,
                           float beta, float *C, int64_t ldc, int64_t strideC,
                           int64_t batch);
/// 1 if this CPU has AVX512-BF16 (VDPBF16PS) and the rest of the AVX-512 the bf16 kernel uses.
int ck_bf16_supported(void);
/// Where bf16 products run under the active path: "avx512bf16", or "avx2+convert", "portable+convert", ...
const char *ck_bf16_path_name(void);
/// x rounded to the nearest bfloat16, ties to even, returned as a float; NaN becomes the quiet NaN 0x7FC0.
/// The rounding of PyTorch's c10::BFloat16 (`tensor.to(torch.bfloat16)`), subnormals included.
float ck_round_bf16(float x);

/// The precision Tensors' matrix products use (a process-wide mode, like the thread count; the kernels above
/// never read it): CK_MATMUL_FP32 (the default) or CK_MATMUL_BF16.
typedef enum {
    CK_MATMUL_FP32 = 0,
    CK_MATMUL_BF16 = 1,
} ck_matmul_precision_mode;
void ck_set_matmul_precision(int precision);
int ck_matmul_precision(void);

#ifdef __cplusplus
}
#endif
#endif
