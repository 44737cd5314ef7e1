// Elementwise transcendental kernels: exp, log, tanh, sigmoid, GELU (tanh and erf forms), SiLU.
// The portable variants use libm (exact GELU adds the erfc fit of vector_math_kernels.h); the x86 variants
// (vector_simd_math.h) use their own polynomial approximations. Each public function picks a variant at call
// time and splits large n across the pool.
#include "ck_vector.h"
#include "vector_internal.h"
#include "vector_math_kernels.h"
#include <math.h>

// ---- Portable variants

static void exp_portable(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
}

static void log_portable(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = logf(x[i]);
}

static void tanh_portable(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

static void sigmoid_portable(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

// 0.5 (1 + tanh(u)) = σ(2u), so gelu_tanh(x) = x σ(2u): no cancellation for negative x.
static void gelu_tanh_forward_portable(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float u = CK_GELU_K0 * (v + CK_GELU_K1 * v * v * v);
        float e = expf(-2.0f * u);
        // e overflows only where the true result is below 1e-37; x / inf would be NaN for x = −inf.
        y[i] = isinf(e) ? 0.0f : v / (1.0f + e);
    }
}

static void gelu_tanh_backward_portable(int64_t n, const float *x, const float *dy, float *dx) {
    for (int64_t i = 0; i < n; i++) {
        // Beyond |x| = 10 the derivative is 0 or 1 to float precision; clamping keeps e finite (NaN passes).
        float v = x[i] < -10.0f ? -10.0f : (x[i] > 10.0f ? 10.0f : x[i]);
        float u = CK_GELU_K0 * (v + CK_GELU_K1 * v * v * v);
        float du = CK_GELU_K0 * (1.0f + 3.0f * CK_GELU_K1 * v * v);
        float e = expf(-2.0f * u);
        float s = 1.0f / (1.0f + e);
        // σ'(2u) = e s², exact where 1 − s would cancel; e s first keeps the product finite.
        float slope = e * s * s;
        dx[i] = dy[i] * (s + 2.0f * v * du * slope);
    }
}

static void gelu_erf_forward_portable(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = ck_gelu_erf_scalar(x[i]);
}

static void gelu_erf_backward_portable(int64_t n, const float *x, const float *dy, float *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * ck_gelu_erf_derivative_scalar(x[i]);
}

static void silu_forward_portable(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) {
        float e = expf(-x[i]);
        y[i] = isinf(e) ? 0.0f : x[i] / (1.0f + e);
    }
}

static void silu_backward_portable(int64_t n, const float *x, const float *dy, float *dx) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] < -80.0f ? -80.0f : (x[i] > 80.0f ? 80.0f : x[i]);
        float e = expf(-v);
        float s = 1.0f / (1.0f + e);
        float slope = e * s * s;  // σ'(x) without the 1 − s cancellation
        dx[i] = dy[i] * (s + v * slope);
    }
}

// ---- Dispatch: one table row per kernel, one column per ISA (NULL: fall back to portable).

typedef struct {
    ck_unary_kernel kernel;
    const float *x;
    float *y;
} unary_job;

static void unary_body(void *context, int64_t begin, int64_t end) {
    unary_job *job = context;
    job->kernel(end - begin, job->x + begin, job->y + begin);
}

static void run_unary(int64_t n, const float *x, float *y, const ck_unary_kernel variants[3]) {
    ck_unary_kernel kernel = variants[ck_current_isa()];
    if (!kernel) kernel = variants[CK_ISA_PORTABLE];
    if (n < 2 * CK_ELEMENTWISE_GRAIN) {
        if (n > 0) kernel(n, x, y);
        return;
    }
    unary_job job = {kernel, x, y};
    ck_parallel_for(n, CK_ELEMENTWISE_GRAIN, unary_body, &job);
}

typedef struct {
    ck_binary_kernel kernel;
    const float *x, *dy;
    float *dx;
} binary_job;

static void binary_body(void *context, int64_t begin, int64_t end) {
    binary_job *job = context;
    job->kernel(end - begin, job->x + begin, job->dy + begin, job->dx + begin);
}

static void run_binary(int64_t n, const float *x, const float *dy, float *dx, const ck_binary_kernel variants[3]) {
    ck_binary_kernel kernel = variants[ck_current_isa()];
    if (!kernel) kernel = variants[CK_ISA_PORTABLE];
    if (n < 2 * CK_ELEMENTWISE_GRAIN) {
        if (n > 0) kernel(n, x, dy, dx);
        return;
    }
    binary_job job = {kernel, x, dy, dx};
    ck_parallel_for(n, CK_ELEMENTWISE_GRAIN, binary_body, &job);
}

#if defined(__x86_64__)
#define CK_VARIANTS(name) {name##_portable, ck_##name##_avx2, ck_##name##_avx512}
#else
#define CK_VARIANTS(name) {name##_portable, NULL, NULL}
#endif

void ck_vexp(int64_t n, const float *x, float *y) {
    static const ck_unary_kernel variants[3] = CK_VARIANTS(exp);
    run_unary(n, x, y, variants);
}

void ck_vlog(int64_t n, const float *x, float *y) {
    static const ck_unary_kernel variants[3] = CK_VARIANTS(log);
    run_unary(n, x, y, variants);
}

void ck_vtanh(int64_t n, const float *x, float *y) {
    static const ck_unary_kernel variants[3] = CK_VARIANTS(tanh);
    run_unary(n, x, y, variants);
}

void ck_vsigmoid(int64_t n, const float *x, float *y) {
    static const ck_unary_kernel variants[3] = CK_VARIANTS(sigmoid);
    run_unary(n, x, y, variants);
}

void ck_gelu_tanh_forward(int64_t n, const float *x, float *y) {
    static const ck_unary_kernel variants[3] = CK_VARIANTS(gelu_tanh_forward);
    run_unary(n, x, y, variants);
}

void ck_gelu_tanh_backward(int64_t n, const float *x, const float *dy, float *dx) {
    static const ck_binary_kernel variants[3] = CK_VARIANTS(gelu_tanh_backward);
    run_binary(n, x, dy, dx, variants);
}

void ck_gelu_erf_forward(int64_t n, const float *x, float *y) {
    static const ck_unary_kernel variants[3] = CK_VARIANTS(gelu_erf_forward);
    run_unary(n, x, y, variants);
}

void ck_gelu_erf_backward(int64_t n, const float *x, const float *dy, float *dx) {
    static const ck_binary_kernel variants[3] = CK_VARIANTS(gelu_erf_backward);
    run_binary(n, x, dy, dx, variants);
}

void ck_silu_forward(int64_t n, const float *x, float *y) {
    static const ck_unary_kernel variants[3] = CK_VARIANTS(silu_forward);
    run_unary(n, x, y, variants);
}

void ck_silu_backward(int64_t n, const float *x, const float *dy, float *dx) {
    static const ck_binary_kernel variants[3] = CK_VARIANTS(silu_backward);
    run_binary(n, x, dy, dx, variants);
}
