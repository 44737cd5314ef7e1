// Elementwise kernel variants shared between vector_math.c (portable, dispatch) and the x86 files.
#ifndef CHARTER_VECTOR_MATH_KERNELS_H
#define CHARTER_VECTOR_MATH_KERNELS_H
#include <math.h>
#include <stdint.h>

typedef void (*ck_unary_kernel)(int64_t n, const float *x, float *y);
typedef void (*ck_binary_kernel)(int64_t n, const float *x, const float *dy, float *dx);

#define CK_GELU_K0 0.7978845608028654f   // √(2/π)
#define CK_GELU_K1 0.044715f
#define CK_INV_SQRT2 0.70710678118654752f
#define CK_INV_SQRT_2PI 0.39894228040143268f

// erfc(a) = exp(−a²) · t · Q(t), t = 1 / (1 + a/2), for a in [0, 9.5] (beyond, erfc(a) < 1e-39); relative error
// of the fit 3.1e-9 (weighted least squares with Lawson iterations, Chebyshev nodes in t). One formula over the
// whole range: 2Φ(x) = erfc(−x/√2) is erfc(a) or 2 − erfc(a), neither of which cancels.
#define CK_ERFC_Q0 0.28208655599108223f
#define CK_ERFC_Q1 0.28229755222280045f
#define CK_ERFC_Q2 0.24473202985568762f
#define CK_ERFC_Q3 0.18811108785494277f
#define CK_ERFC_Q4 0.045949209230917727f
#define CK_ERFC_Q5 0.056331465407814793f
#define CK_ERFC_Q6 -0.054842423533479116f
#define CK_ERFC_Q7 -0.25529778196745284f
#define CK_ERFC_Q8 0.35864616755060758f
#define CK_ERFC_Q9 -0.18231839103885122f
#define CK_ERFC_Q10 0.0343045315600847f

// exp(−x²/2) with x² split exactly into hi + lo, so the rounding of x² (relative 6e-8, times x²/2 in the
// exponent) does not reach the result: exp(−hi/2 − lo/2) ≈ exp(−hi/2) (1 − lo/2).
static inline float ck_exp_minus_half_square_scalar(float x) {
    float hi = x * x;
    float lo = fmaf(x, x, -hi);
    return expf(-0.5f * hi) * (1.0f - 0.5f * lo);
}

// erfc(−x/√2) = 2 Φ(x), accurate in relative terms over the whole line.
static inline float ck_twice_normal_cdf_scalar(float x) {
    // |x| beyond 20 saturates to 0 or 2; clamping keeps x² finite (NaN passes through the comparisons).
    float v = x < -20.0f ? -20.0f : (x > 20.0f ? 20.0f : x);
    float a = fabsf(v) * CK_INV_SQRT2;
    float t = 1.0f / (1.0f + 0.5f * a);
    float q = CK_ERFC_Q10;
    q = fmaf(q, t, CK_ERFC_Q9);
    q = fmaf(q, t, CK_ERFC_Q8);
    q = fmaf(q, t, CK_ERFC_Q7);
    q = fmaf(q, t, CK_ERFC_Q6);
    q = fmaf(q, t, CK_ERFC_Q5);
    q = fmaf(q, t, CK_ERFC_Q4);
    q = fmaf(q, t, CK_ERFC_Q3);
    q = fmaf(q, t, CK_ERFC_Q2);
    q = fmaf(q, t, CK_ERFC_Q1);
    q = fmaf(q, t, CK_ERFC_Q0);
    float erfc = ck_exp_minus_half_square_scalar(v) * t * q;
    return v <= 0.0f ? erfc : 2.0f - erfc;
}

static inline float ck_gelu_erf_scalar(float x) {
    float c = ck_twice_normal_cdf_scalar(x);
    return c == 0.0f ? 0.0f : 0.5f * x * c;  // c == 0 only for x ≤ −20 (x = −inf would give NaN)
}

// d/dx x Φ(x) = Φ(x) + x φ(x).
static inline float ck_gelu_erf_derivative_scalar(float x) {
    float v = x < -20.0f ? -20.0f : (x > 20.0f ? 20.0f : x);
    return 0.5f * ck_twice_normal_cdf_scalar(v) + v * CK_INV_SQRT_2PI * ck_exp_minus_half_square_scalar(v);
}

#if defined(__x86_64__)
// SIMD variants (vector_simd_math.h), one per ISA.
#define CK_DECLARE_ELEMENTWISE(isa)                                                                            \
    void ck_exp_##isa(int64_t n, const float *x, float *y);                                                    \
    void ck_log_##isa(int64_t n, const float *x, float *y);                                                    \
    void ck_tanh_##isa(int64_t n, const float *x, float *y);                                                   \
    void ck_sigmoid_##isa(int64_t n, const float *x, float *y);                                                \
    void ck_gelu_tanh_forward_##isa(int64_t n, const float *x, float *y);                                      \
    void ck_gelu_tanh_backward_##isa(int64_t n, const float *x, const float *dy, float *dx);                   \
    void ck_gelu_erf_forward_##isa(int64_t n, const float *x, float *y);                                       \
    void ck_gelu_erf_backward_##isa(int64_t n, const float *x, const float *dy, float *dx);                    \
    void ck_silu_forward_##isa(int64_t n, const float *x, float *y);                                           \
    void ck_silu_backward_##isa(int64_t n, const float *x, const float *dy, float *dx);
CK_DECLARE_ELEMENTWISE(avx2)
CK_DECLARE_ELEMENTWISE(avx512)
#endif

#endif
