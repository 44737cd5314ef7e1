// Reference GEMM: correct on every CPU, slow. The dispatched, packed kernels replace the body of ck_sgemm.
#include "ck_gemm.h"
#include "ck_threads.h"
#include <stddef.h>

int ck_path_supported(int path) {
    switch (path) {
    case CK_PATH_AUTO:
    case CK_PATH_PORTABLE: return 1;
#if defined(__x86_64__)
    case CK_PATH_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CK_PATH_AVX512: return __builtin_cpu_supports("avx512f");
#elif defined(__aarch64__)
    case CK_PATH_NEON: return 1;
#endif
    default: return 0;
    }
}

static int ck_best_path(void) {
    if (ck_path_supported(CK_PATH_AVX512)) return CK_PATH_AVX512;
    if (ck_path_supported(CK_PATH_AVX2)) return CK_PATH_AVX2;
    if (ck_path_supported(CK_PATH_NEON)) return CK_PATH_NEON;
    return CK_PATH_PORTABLE;
}

static int ck_current_path = 0;  // 0: not yet chosen
int ck_set_path(int path) {
    if (!ck_path_supported(path)) return -1;
    ck_current_path = path == CK_PATH_AUTO ? ck_best_path() : path;
    return 0;
}
int ck_active_path(void) {
    if (ck_current_path == 0) ck_current_path = ck_best_path();
    return ck_current_path;
}
const char *ck_path_name(int path) {
    switch (path) {
    case CK_PATH_PORTABLE: return "portable";
    case CK_PATH_AVX2: return "avx2";
    case CK_PATH_AVX512: return "avx512";
    case CK_PATH_NEON: return "neon";
    default: return "auto";
    }
}

void ck_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K,
              float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb,
              float beta, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            float sum = 0;
            for (int64_t p = 0; p < K; p++) {
                float a = transA ? A[p * lda + i] : A[i * lda + p];
                float b = transB ? B[j * ldb + p] : B[p * ldb + j];
                sum += a * b;
            }
            C[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * C[i * ldc + j]);
        }
    }
}

void ck_sgemm_batched(int transA, int transB, int64_t M, int64_t N, int64_t K,
                      float alpha, const float *A, int64_t lda, int64_t strideA,
                      const float *B, int64_t ldb, int64_t strideB,
                      float beta, float *C, int64_t ldc, int64_t strideC,
                      int64_t batch) {
    for (int64_t b = 0; b < batch; b++)
        ck_sgemm(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb,
                 beta, C + b * strideC, ldc);
}
