// Row-kernel variants shared between vector_rows.c (portable, dispatch) and the x86 file.
#ifndef CHARTER_VECTOR_ROWS_KERNELS_H
#define CHARTER_VECTOR_ROWS_KERNELS_H
#include <stdint.h>

// Arguments of every row kernel; each kernel reads the fields it documents in ck_vector.h.
typedef struct {
    int64_t cols;                 // row length (vocab for cross-entropy, D for RoPE)
    const float *x;               // input rows (logits for cross-entropy)
    const float *y_in;            // forward output read by softmax backward passes
    const float *dy;              // upstream gradient rows
    float *y;                     // output rows
    float *dx;                    // gradient rows
    float *out;                   // one value per row (logsumexp, cross-entropy lse)
    const float *gamma, *beta;    // norm affine parameters (either may be NULL)
    float *mean, *rstd;           // norm statistics per row (read-only in the backward passes)
    float eps;
    const int32_t *targets;       // cross-entropy
    int32_t ignore_index;
    const float *lse;             // cross-entropy backward
    float scale;
    int64_t T;                    // RoPE: positions per group
    const float *cos, *sin;       // RoPE tables (T, cols/2)
    int inverse;
} ck_row_args;

typedef void (*ck_row_range)(const ck_row_args *args, int64_t begin, int64_t end);
// dgamma/dbeta point at a zeroed partial for this range of rows (NULL when not wanted).
typedef void (*ck_norm_backward_range)(const ck_row_args *args, int64_t begin, int64_t end, float *dgamma,
                                       float *dbeta);
// Returns the loss sum over kept rows of the range and increments *kept.
typedef double (*ck_cross_entropy_range)(const ck_row_args *args, int64_t begin, int64_t end, int64_t *kept);

#if defined(__x86_64__)
#define CK_DECLARE_ROWS(isa)                                                                                   \
    void ck_softmax_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);                              \
    void ck_log_softmax_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);                          \
    void ck_logsumexp_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);                            \
    void ck_softmax_backward_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);                     \
    void ck_log_softmax_backward_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);                 \
    void ck_layernorm_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);                            \
    void ck_layernorm_backward_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end, float *dgamma,     \
                                          float *dbeta);                                                       \
    void ck_rmsnorm_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);                              \
    void ck_rmsnorm_backward_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end, float *dgamma,       \
                                        float *unused);                                                        \
    double ck_cross_entropy_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end, int64_t *kept);       \
    void ck_cross_entropy_backward_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);               \
    void ck_rope_rows_##isa(const ck_row_args *a, int64_t begin, int64_t end);
CK_DECLARE_ROWS(avx2)
CK_DECLARE_ROWS(avx512)
#endif

#endif
