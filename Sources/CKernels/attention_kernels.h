// The pieces of fused attention, one set per ISA: masked softmax rows, the probability gradient and the small
// products (ck_sgemm on the portable path, register-tiled SIMD kernels on x86).
#ifndef CHARTER_ATTENTION_KERNELS_H
#define CHARTER_ATTENTION_KERNELS_H
#include <stdint.h>

typedef struct {
    /// Scores row p (n values, already scaled) → probabilities in place. Keys j >= limit and keys with
    /// mask[j] == 0 get probability 0; *lse receives the log-sum-exp of the kept scores (−inf and an all-zero
    /// row when nothing is kept).
    void (*softmax)(int64_t n, int64_t limit, const uint8_t *mask, float *p, float *lse);
    /// Recomputes probabilities p = exp(scores − lse) in place (0 where masked) and turns dp into
    /// dS = p ⊙ (dp − delta). A row with lse = −inf is all zeros.
    void (*probability_gradient)(int64_t n, int64_t limit, const uint8_t *mask, float lse, float delta,
                                 float *scores, float *dp);
    float (*dot)(int64_t n, const float *a, const float *b);
    /// A decoding step (one query row) of g ≤ CK_DECODE_HEADS query heads that share a kv head: each key and value row
    /// is read once for all of them. Keys and values are n rows D apart, float32 (k, v) or IEEE halves (k16, v16;
    /// the other pointer NULL). decode_scores: out[h·n + j] = scale · dot(D, q + h·D, key j), with dot's bits;
    /// decode_values: out[h·D + d] = Σ_j P[h·n + j] · value j [d], with the bits of matmul(0, 1, D, n, 1, P + h·n, n,
    /// values, D, out + h·D, D, 0, …): each head's arithmetic does not depend on g. NULL on the portable path.
    void (*decode_scores)(int64_t g, int64_t n, int64_t D, float scale, const float *q, const float *k, const uint16_t *k16,
                          float *out);
    void (*decode_values)(int64_t g, int64_t n, int64_t D, const float *P, const float *v, const uint16_t *v16, float *out);
    /// C (rows × n) = alpha X Y (+ C when accumulate): X is rows × K with row stride ldx, or stored K × rows
    /// when transposed_x; Y is K × n with row stride ldy; C has row stride ldc. `band` (with `diagonal`, the
    /// number of keys the first query row sees) lets a causal product skip work, see ck_attention_band.
    void (*matmul)(int transposed_x, int64_t rows, int64_t n, int64_t K, float alpha, const float *X, int64_t ldx,
                   const float *Y, int64_t ldy, float *C, int64_t ldc, int accumulate, int band, int64_t diagonal);
} ck_attention_row_kernels;

/// Query heads one decode_scores / decode_values call takes at most.
#define CK_DECODE_HEADS 4

/// Work a causal product may skip (an optimisation only: computing everything is always correct). Query row r
/// of a tile sees keys j < r + diagonal.
typedef enum {
    CK_BAND_NONE = 0,
    /// Output columns are keys (scores rows × keys): columns no row of a register tile sees are never read.
    CK_BAND_COLUMNS = 1,
    /// The reduction runs over keys (P · V, dS · K): entries past the last visible key are zero.
    CK_BAND_REDUCTION_END = 2,
    /// Output rows are keys and the reduction runs over query rows (Pᵀ · dO, dSᵀ · Q): query rows before the
    /// first one that sees the tile's first key contribute zero.
    CK_BAND_REDUCTION_START = 3,
} ck_attention_band;

#if defined(__x86_64__)
extern const ck_attention_row_kernels ck_attention_rows_avx2;
extern const ck_attention_row_kernels ck_attention_rows_avx512;
#endif

#endif
