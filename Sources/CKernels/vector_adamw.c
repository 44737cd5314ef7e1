// AdamW step over one parameter tensor: a single streaming pass over param, grad, m and v.
#include "ck_vector.h"
#include "vector_internal.h"
#include <math.h>

static void adamw_portable(const ck_adamw_args *a, int64_t begin, int64_t end) {
    float decay = 1.0f - a->lr * a->weight_decay;
    for (int64_t i = begin; i < end; i++) {
        float g = a->grad[i];
        float m = a->beta1 * a->m[i] + (1.0f - a->beta1) * g;
        float v = a->beta2 * a->v[i] + (1.0f - a->beta2) * g * g;
        a->m[i] = m;
        a->v[i] = v;
        // p − lr·wd·p folded into one multiply (the Adam term does not read p).
        a->param[i] = a->param[i] * decay - a->lr * (m * a->inv_bc1) / (sqrtf(v * a->inv_bc2) + a->eps);
    }
}

static void adamw_body(void *context, int64_t begin, int64_t end) {
    switch (ck_current_isa()) {
#if defined(__x86_64__)
    case CK_ISA_AVX512: ck_adamw_range_avx512(context, begin, end); return;
    case CK_ISA_AVX2: ck_adamw_range_avx2(context, begin, end); return;
#endif
    default: adamw_portable(context, begin, end); return;
    }
}

void ck_adamw_step(int64_t n, float *param, const float *grad, float *m, float *v, float lr, float beta1,
                   float beta2, float eps, float weight_decay, float bias_correction1, float bias_correction2) {
    if (n <= 0) return;
    ck_adamw_args job = {param, m, v, grad, lr, beta1, beta2, eps, weight_decay,
                     1.0f / bias_correction1, 1.0f / bias_correction2};
    ck_parallel_for(n, 2 * CK_ELEMENTWISE_GRAIN, adamw_body, &job);
}
