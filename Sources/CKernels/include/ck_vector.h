#ifndef CHARTER_CK_VECTOR_H
#define CHARTER_CK_VECTOR_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Vectorised elementwise, row-wise and fused kernels with the same runtime dispatch as ck_gemm.h
// (ck_set_path forces a path for these too). All arrays are contiguous float32 unless stated.
// "rows × cols" means a row-major matrix; row kernels are parallelised over rows when large.
// Outputs may alias inputs where marked (y may alias x).
// Results are bit-identical from run to run; reductions across rows (dgamma, dbeta, the cross-entropy sum) use
// blocks fixed by the shape, so they also do not change with the thread count.

// ---- Elementwise: n values. y may alias x.
void ck_vexp(int64_t n, const float *x, float *y);
void ck_vlog(int64_t n, const float *x, float *y);
void ck_vtanh(int64_t n, const float *x, float *y);
void ck_vsigmoid(int64_t n, const float *x, float *y);
/// GELU, tanh approximation: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
void ck_gelu_tanh_forward(int64_t n, const float *x, float *y);
/// dx = dy · d/dx gelu_tanh(x). dx may alias dy.
void ck_gelu_tanh_backward(int64_t n, const float *x, const float *dy, float *dx);
/// GELU, exact: 0.5 x (1 + erf(x / √2)).
void ck_gelu_erf_forward(int64_t n, const float *x, float *y);
void ck_gelu_erf_backward(int64_t n, const float *x, const float *dy, float *dx);
/// SiLU: x · σ(x).
void ck_silu_forward(int64_t n, const float *x, float *y);
void ck_silu_backward(int64_t n, const float *x, const float *dy, float *dx);

// ---- Row kernels on rows × cols.
/// A row whose entries are all −inf gives NaN, as in PyTorch (ck_logsumexp_rows gives −inf for it).
void ck_softmax_forward(int64_t rows, int64_t cols, const float *x, float *y);
/// dx = y ⊙ (dy − Σ dy⊙y). dx may alias dy.
void ck_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx);
void ck_log_softmax_forward(int64_t rows, int64_t cols, const float *x, float *y);
/// y is the log-softmax output: dx = dy − exp(y) · Σ dy. dx may alias dy.
void ck_log_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx);
/// out[r] = log Σ_c exp(x[r, c]) (stable).
void ck_logsumexp_rows(int64_t rows, int64_t cols, const float *x, float *out);

/// LayerNorm over each row: y = (x − mean) · rstd · gamma + beta. gamma/beta may be NULL (1 and 0).
/// mean and rstd (rows values each) are written for the backward pass.
void ck_layernorm_forward(int64_t rows, int64_t cols, const float *x, const float *gamma, const float *beta,
                          float eps, float *y, float *mean, float *rstd);
/// dx is overwritten; dgamma/dbeta (cols values) are ACCUMULATED into (+=) when not NULL.
/// Deterministic: the per-thread partial sums of dgamma/dbeta are combined in a fixed order.
void ck_layernorm_backward(int64_t rows, int64_t cols, const float *x, const float *gamma,
                           const float *mean, const float *rstd, const float *dy,
                           float *dx, float *dgamma, float *dbeta);
/// RMSNorm (Llama): y = x · rsqrt(mean(x²) + eps) · gamma. gamma may be NULL. rstd (rows) written.
void ck_rmsnorm_forward(int64_t rows, int64_t cols, const float *x, const float *gamma, float eps,
                        float *y, float *rstd);
/// dx overwritten; dgamma accumulated (+=) when not NULL; deterministic as above.
void ck_rmsnorm_backward(int64_t rows, int64_t cols, const float *x, const float *gamma, const float *rstd,
                         const float *dy, float *dx, float *dgamma);

// ---- Cross-entropy from logits (rows × vocab) with int32 targets; a target < 0 or == ignore_index is ignored.
/// Returns the SUM of −log softmax(logits)[target] over kept rows, writes lse[r] (log-sum-exp of each row)
/// and *kept (number of kept rows). Out-of-range targets (>= vocab) are a caller error (checked in Swift).
double ck_cross_entropy_forward(int64_t rows, int64_t vocab, const float *logits, const int32_t *targets,
                                int32_t ignore_index, float *lse, int64_t *kept);
/// dlogits (overwritten) = scale · (softmax(logits) − onehot(target)) for kept rows, 0 for ignored rows.
/// dlogits may alias logits.
void ck_cross_entropy_backward(int64_t rows, int64_t vocab, const float *logits, const int32_t *targets,
                               int32_t ignore_index, const float *lse, float scale, float *dlogits);

/// Per row of logits (rows × vocab): the entropy of its softmax, computed relative to the row's largest logit in double
/// precision (Σ e·s over Σ e with s = logit − largest widened after the float subtraction, e = exp(s), summed in vocab
/// order), the index of its largest logit (the first of equals) and the mean of its logits (a double sum in order).
/// Rows are split across threads; each row's arithmetic is the same whatever the split.
void ck_logit_statistics(int64_t rows, int64_t vocab, const float *logits, double *entropy, int32_t *argmax,
                         double *mean);

// ---- Rotary position embedding (HF "rotate_half" convention) on x: (groups, T, D), D even.
/// cos, sin: (T, D/2) tables for the positions of x. y = x·cos + rotate_half(x)·sin, i.e. for i < D/2:
///   y[i] = x[i] cos[i] − x[i + D/2] sin[i],  y[i + D/2] = x[i + D/2] cos[i] + x[i] sin[i].
/// inverse != 0 applies the transpose (sin negated), which is the backward pass. y may alias x.
void ck_rope(int64_t groups, int64_t T, int64_t D, const float *x, const float *cos, const float *sin,
             float *y, int inverse);

// ---- Causal scaled-dot-product attention with grouped-query heads, fused (no T×S matrix is kept).
/// q: (B, Hq, T, D), k and v: (B, Hkv, S, D), Hq a multiple of Hkv (query head h uses kv head h / (Hq/Hkv)).
/// causal != 0: query t attends keys j <= t + (S − T) (queries are the last T positions).
/// key_mask: NULL or (B, S) bytes, 0 = padding key never attended.
/// segment_start: NULL or (B, T): query t attends no key before segment_start[b·T + t] (the first token of its
/// sequence in a packed row), so packed sequences never see each other.
/// out: (B, Hq, T, D); lse: (B, Hq, T) log-sum-exp of the scaled, masked scores (−INFINITY for a fully
/// masked row, whose output is 0). Parallel over (B, Hkv).
void ck_attention_forward(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t D,
                          const float *q, const float *k, const float *v, float scale, int causal,
                          const uint8_t *key_mask, const int32_t *segment_start, float *out, float *lse);
/// ck_attention_forward over k and v whose kv heads are C ≥ S positions apart: (B, Hkv, C, D) buffers of which the
/// first S positions of each head are read (a KV cache with room to grow). The same arithmetic in the same order.
void ck_attention_forward_strided(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t C, int64_t D,
                                  const float *q, const float *k, const float *v, float scale, int causal,
                                  const uint8_t *key_mask, const int32_t *segment_start, float *out, float *lse);
/// ck_attention_forward_strided over keys and values stored as IEEE half floats (a half-precision KV cache): each kv
/// head's S positions are widened to float32 (exactly) once per run of units that use it, then attended with the
/// float32 arithmetic, so the result has the bits of ck_attention_forward_strided on the widened values.
void ck_attention_forward_strided_half(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t C, int64_t D,
                                       const float *q, const uint16_t *k, const uint16_t *v, float scale, int causal,
                                       const uint8_t *key_mask, const int32_t *segment_start, float *out, float *lse);
/// n float32 values → IEEE half floats, rounded to nearest even (F16C's vcvtps2ph where the CPU has it, else the same
/// rounding in C: numpy's and ggml's), and back (exact).
void ck_floats_to_halves(int64_t n, const float *x, uint16_t *y);
void ck_halves_to_floats(int64_t n, const uint16_t *x, float *y);
/// Gradients given dout: dq (B,Hq,T,D), dk and dv (B,Hkv,S,D) are OVERWRITTEN. Recomputes probabilities
/// from lse. Deterministic for a fixed thread count.
void ck_attention_backward(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t D,
                           const float *q, const float *k, const float *v, float scale, int causal,
                           const uint8_t *key_mask, const int32_t *segment_start, const float *out,
                           const float *lse, const float *dout, float *dq, float *dk, float *dv);

// ---- AdamW (decoupled weight decay, Loshchilov & Hutter 2019), one tensor of n values, updated in place:
///   m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²;  p -= lr · wd · p;
///   p -= lr · (m / bc1) / (sqrt(v / bc2) + eps)     with bc1 = 1 − β1^t, bc2 = 1 − β2^t given by the caller.
void ck_adamw_step(int64_t n, float *param, const float *grad, float *m, float *v, float lr, float beta1,
                   float beta2, float eps, float weight_decay, float bias_correction1, float bias_correction2);

#ifdef __cplusplus
}
#endif
#endif
