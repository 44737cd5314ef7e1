// SIMD row kernels (softmax family, norms, cross-entropy, RoPE) and AdamW; same vector vocabulary and
// instantiation as vector_simd_math.h, which must be included first.

// ---- Row helpers

// Loads a full vector or the zero-filled tail.
CK_INLINE vf h_load(const float *p, int64_t remaining) {
    return remaining >= CK_W ? v_loadu(p) : v_load_partial(p, remaining);
}
CK_INLINE void h_store_at(float *p, const vf *a, int64_t remaining) {
    if (remaining >= CK_W) v_storeu(p, *a);
    else v_store_partial(p, *a, remaining);
}
#define h_store(p, a, remaining) h_store_at(p, CK_REF(a), remaining)

// Reductions keep two accumulators: one dependent add chain per row would make them latency-bound.
CK_INLINE float h_max(int64_t n, const float *x) {
    vf max0 = v_set1(-INFINITY), max1 = max0;
    int64_t i = 0;
    for (; i + 2 * CK_W <= n; i += 2 * CK_W) {
        max0 = v_max(max0, v_loadu(x + i));
        max1 = v_max(max1, v_loadu(x + i + CK_W));
    }
    for (; i < n; i += CK_W)
        max0 = v_max(max0, v_blend(v_lanes(n - i), v_set1(-INFINITY), h_load(x + i, n - i)));
    return v_reduce_max(v_max(max0, max1));
}

// Σ exp(x − shift); stores the exponentials in out when out != NULL.
CK_INLINE float h_sum_exp(int64_t n, const float *x, float shift, float *out) {
    vf sum0 = v_zero(), sum1 = v_zero(), vshift = v_set1(shift);
    int64_t i = 0;
    for (; i + 2 * CK_W <= n; i += 2 * CK_W) {
        vf e0 = v_exp(v_sub(v_loadu(x + i), vshift)), e1 = v_exp(v_sub(v_loadu(x + i + CK_W), vshift));
        if (out) {
            v_storeu(out + i, e0);
            v_storeu(out + i + CK_W, e1);
        }
        sum0 = v_add(sum0, e0);
        sum1 = v_add(sum1, e1);
    }
    for (; i < n; i += CK_W) {
        vf e = v_blend(v_lanes(n - i), v_zero(), v_exp(v_sub(h_load(x + i, n - i), vshift)));
        if (out) h_store(out + i, e, n - i);
        sum0 = v_add(sum0, e);
    }
    return v_reduce_add(v_add(sum0, sum1));
}

CK_INLINE float h_logsumexp(int64_t n, const float *x) {
    float max = h_max(n, x);
    if (max == -INFINITY) return -INFINITY;
    return max + logf(h_sum_exp(n, x, max, NULL));
}

CK_INLINE void h_scale(int64_t n, float *y, float factor) {
    vf f = v_set1(factor);
    int64_t i = 0;
    for (; i + CK_W <= n; i += CK_W) v_storeu(y + i, v_mul(v_loadu(y + i), f));
    if (i < n) v_store_partial(y + i, v_mul(v_load_partial(y + i, n - i), f), n - i);
}

CK_INLINE float h_sum(int64_t n, const float *x) {
    vf sum0 = v_zero(), sum1 = v_zero();
    int64_t i = 0;
    for (; i + 2 * CK_W <= n; i += 2 * CK_W) {
        sum0 = v_add(sum0, v_loadu(x + i));
        sum1 = v_add(sum1, v_loadu(x + i + CK_W));
    }
    for (; i < n; i += CK_W) sum0 = v_add(sum0, h_load(x + i, n - i));
    return v_reduce_add(v_add(sum0, sum1));
}

CK_INLINE float h_dot(int64_t n, const float *a, const float *b) {
    vf sum0 = v_zero(), sum1 = v_zero();
    int64_t i = 0;
    for (; i + 2 * CK_W <= n; i += 2 * CK_W) {
        sum0 = v_fmadd(v_loadu(a + i), v_loadu(b + i), sum0);
        sum1 = v_fmadd(v_loadu(a + i + CK_W), v_loadu(b + i + CK_W), sum1);
    }
    for (; i < n; i += CK_W) sum0 = v_fmadd(h_load(a + i, n - i), h_load(b + i, n - i), sum0);
    return v_reduce_add(v_add(sum0, sum1));
}

// ---- Row kernels (see vector_rows.c for the formulas)

void CK_SUFFIX(ck_softmax_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols;
        float *y = a->y + r * cols;
        float sum = h_sum_exp(cols, x, h_max(cols, x), y);
        h_scale(cols, y, 1.0f / sum);
    }
}

void CK_SUFFIX(ck_log_softmax_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols;
        float *y = a->y + r * cols;
        vf lse = v_set1(h_logsumexp(cols, x));
        int64_t i = 0;
        for (; i + CK_W <= cols; i += CK_W) v_storeu(y + i, v_sub(v_loadu(x + i), lse));
        if (i < cols) v_store_partial(y + i, v_sub(v_load_partial(x + i, cols - i), lse), cols - i);
    }
}

void CK_SUFFIX(ck_logsumexp_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) a->out[r] = h_logsumexp(a->cols, a->x + r * a->cols);
}

void CK_SUFFIX(ck_softmax_backward_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *y = a->y_in + r * cols, *dy = a->dy + r * cols;
        float *dx = a->dx + r * cols;
        vf dot = v_set1(h_dot(cols, dy, y));
        int64_t i = 0;
        for (; i + CK_W <= cols; i += CK_W) v_storeu(dx + i, v_mul(v_loadu(y + i), v_sub(v_loadu(dy + i), dot)));
        if (i < cols) {
            int64_t n = cols - i;
            v_store_partial(dx + i, v_mul(v_load_partial(y + i, n), v_sub(v_load_partial(dy + i, n), dot)), n);
        }
    }
}

void CK_SUFFIX(ck_log_softmax_backward_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *y = a->y_in + r * cols, *dy = a->dy + r * cols;
        float *dx = a->dx + r * cols;
        vf sum = v_set1(h_sum(cols, dy));
        int64_t i = 0;
        for (; i + CK_W <= cols; i += CK_W)
            v_storeu(dx + i, v_fnmadd(v_exp(v_loadu(y + i)), sum, v_loadu(dy + i)));
        if (i < cols) {
            int64_t n = cols - i;
            v_store_partial(dx + i, v_fnmadd(v_exp(v_load_partial(y + i, n)), sum, v_load_partial(dy + i, n)), n);
        }
    }
}

// y = (x − mean) rstd gamma + beta; NULL gamma/beta read as 1/0 through the `ones`/`zeros` vectors.
void CK_SUFFIX(ck_layernorm_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols;
        float *y = a->y + r * cols;
        float mean = h_sum(cols, x) / (float)cols;
        vf vmean = v_set1(mean), squares0 = v_zero(), squares1 = v_zero();
        int64_t i = 0;
        for (; i + 2 * CK_W <= cols; i += 2 * CK_W) {
            vf d0 = v_sub(v_loadu(x + i), vmean), d1 = v_sub(v_loadu(x + i + CK_W), vmean);
            squares0 = v_fmadd(d0, d0, squares0);
            squares1 = v_fmadd(d1, d1, squares1);
        }
        for (; i < cols; i += CK_W) {
            vf d = v_blend(v_lanes(cols - i), v_zero(), v_sub(h_load(x + i, cols - i), vmean));
            squares0 = v_fmadd(d, d, squares0);
        }
        float rstd = 1.0f / sqrtf(v_reduce_add(v_add(squares0, squares1)) / (float)cols + a->eps);
        vf vrstd = v_set1(rstd);
        for (i = 0; i < cols; i += CK_W) {
            int64_t n = cols - i;
            vf xhat = v_mul(v_sub(n >= CK_W ? v_loadu(x + i) : v_load_partial(x + i, n), vmean), vrstd);
            vf g = a->gamma ? (n >= CK_W ? v_loadu(a->gamma + i) : v_load_partial(a->gamma + i, n)) : v_set1(1.0f);
            vf b = a->beta ? (n >= CK_W ? v_loadu(a->beta + i) : v_load_partial(a->beta + i, n)) : v_zero();
            vf out = v_fmadd(xhat, g, b);
            if (n >= CK_W) v_storeu(y + i, out);
            else v_store_partial(y + i, out, n);
        }
        a->mean[r] = mean;
        a->rstd[r] = rstd;
    }
}

void CK_SUFFIX(ck_layernorm_backward_rows)(const ck_row_args *a, int64_t begin, int64_t end, float *dgamma,
                                           float *dbeta) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols, *dy = a->dy + r * cols;
        float *dx = a->dx + r * cols;
        vf mean = v_set1(a->mean[r]), rstd = v_set1(a->rstd[r]);
        vf sum_g = v_zero(), sum_gx = v_zero();
        // Zero-filled tails contribute nothing: dy is zero there.
        for (int64_t i = 0; i < cols; i += CK_W) {
            int64_t n = cols - i;
            vf xhat = v_mul(v_sub(h_load(x + i, n), mean), rstd);
            vf d = h_load(dy + i, n);
            vf g = a->gamma ? v_mul(d, h_load(a->gamma + i, n)) : d;
            sum_g = v_add(sum_g, g);
            sum_gx = v_fmadd(g, xhat, sum_gx);
            if (dgamma) h_store(dgamma + i, v_fmadd(d, xhat, h_load(dgamma + i, n)), n);
            if (dbeta) h_store(dbeta + i, v_add(d, h_load(dbeta + i, n)), n);
        }
        vf mean_g = v_set1(v_reduce_add(sum_g) / (float)cols);
        vf mean_gx = v_set1(v_reduce_add(sum_gx) / (float)cols);
        for (int64_t i = 0; i < cols; i += CK_W) {
            int64_t n = cols - i;
            vf xhat = v_mul(v_sub(h_load(x + i, n), mean), rstd);
            vf d = h_load(dy + i, n);
            vf g = a->gamma ? v_mul(d, h_load(a->gamma + i, n)) : d;
            h_store(dx + i, v_mul(rstd, v_fnmadd(xhat, mean_gx, v_sub(g, mean_g))), n);
        }
    }
}

void CK_SUFFIX(ck_rmsnorm_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols;
        float *y = a->y + r * cols;
        float rstd = 1.0f / sqrtf(h_dot(cols, x, x) / (float)cols + a->eps);
        vf vrstd = v_set1(rstd);
        for (int64_t i = 0; i < cols; i += CK_W) {
            int64_t n = cols - i;
            vf out = v_mul(h_load(x + i, n), vrstd);
            if (a->gamma) out = v_mul(out, h_load(a->gamma + i, n));
            h_store(y + i, out, n);
        }
        a->rstd[r] = rstd;
    }
}

void CK_SUFFIX(ck_rmsnorm_backward_rows)(const ck_row_args *a, int64_t begin, int64_t end, float *dgamma,
                                         float *unused) {
    (void)unused;
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols, *dy = a->dy + r * cols;
        float *dx = a->dx + r * cols;
        float rstd = a->rstd[r];
        vf vrstd = v_set1(rstd), sum_gx = v_zero();
        for (int64_t i = 0; i < cols; i += CK_W) {
            int64_t n = cols - i;
            vf xv = h_load(x + i, n), d = h_load(dy + i, n);
            vf g = a->gamma ? v_mul(d, h_load(a->gamma + i, n)) : d;
            sum_gx = v_fmadd(g, xv, sum_gx);
            if (dgamma) h_store(dgamma + i, v_fmadd(v_mul(d, xv), vrstd, h_load(dgamma + i, n)), n);
        }
        vf k = v_set1(rstd * rstd * v_reduce_add(sum_gx) / (float)cols);
        for (int64_t i = 0; i < cols; i += CK_W) {
            int64_t n = cols - i;
            vf xv = h_load(x + i, n), d = h_load(dy + i, n);
            vf g = a->gamma ? v_mul(d, h_load(a->gamma + i, n)) : d;
            h_store(dx + i, v_mul(vrstd, v_fnmadd(xv, k, g)), n);
        }
    }
}

double CK_SUFFIX(ck_cross_entropy_rows)(const ck_row_args *a, int64_t begin, int64_t end, int64_t *kept) {
    int64_t vocab = a->cols;
    double loss = 0;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * vocab;
        float lse = h_logsumexp(vocab, x);
        a->out[r] = lse;
        int32_t target = a->targets[r];
        if (target < 0 || target == a->ignore_index) continue;
        loss += (double)lse - (double)x[target];
        (*kept)++;
    }
    return loss;
}

void CK_SUFFIX(ck_cross_entropy_backward_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t vocab = a->cols;
    vf scale = v_set1(a->scale);
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * vocab;
        float *dx = a->dx + r * vocab;
        int32_t target = a->targets[r];
        if (target < 0 || target == a->ignore_index) {
            memset(dx, 0, (size_t)vocab * sizeof(float));
            continue;
        }
        vf lse = v_set1(a->lse[r]);
        for (int64_t i = 0; i < vocab; i += CK_W) {
            int64_t n = vocab - i;
            h_store(dx + i, v_mul(scale, v_exp(v_sub(h_load(x + i, n), lse))), n);
        }
        dx[target] -= a->scale;
    }
}

void CK_SUFFIX(ck_rope_rows)(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t D = a->cols, half = D / 2, T = a->T;
    vf sign = v_set1(a->inverse ? -1.0f : 1.0f);
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * D;
        float *y = a->y + r * D;
        const float *cos = a->cos + (r % T) * half, *sin = a->sin + (r % T) * half;
        for (int64_t i = 0; i < half; i += CK_W) {
            int64_t n = half - i;
            vf lo = h_load(x + i, n), hi = h_load(x + half + i, n);
            vf c = h_load(cos + i, n), s = v_mul(sign, h_load(sin + i, n));
            h_store(y + i, v_fnmadd(hi, s, v_mul(lo, c)), n);
            h_store(y + half + i, v_fmadd(lo, s, v_mul(hi, c)), n);
        }
    }
}

// ---- AdamW

void CK_SUFFIX(ck_adamw_range)(const ck_adamw_args *a, int64_t begin, int64_t end) {
    vf beta1 = v_set1(a->beta1), beta2 = v_set1(a->beta2);
    vf one_minus_beta1 = v_set1(1.0f - a->beta1), one_minus_beta2 = v_set1(1.0f - a->beta2);
    vf decay = v_set1(1.0f - a->lr * a->weight_decay), lr = v_set1(a->lr), eps = v_set1(a->eps);
    vf inv_bc1 = v_set1(a->inv_bc1), inv_bc2 = v_set1(a->inv_bc2);
    for (int64_t i = begin; i < end; i += CK_W) {
        int64_t n = end - i;
        vf g = h_load(a->grad + i, n);
        vf m = v_fmadd(beta1, h_load(a->m + i, n), v_mul(one_minus_beta1, g));
        vf v = v_fmadd(beta2, h_load(a->v + i, n), v_mul(v_mul(one_minus_beta2, g), g));
        vf step = v_div(v_mul(lr, v_mul(m, inv_bc1)), v_add(v_sqrt(v_mul(v, inv_bc2)), eps));
        h_store(a->m + i, m, n);
        h_store(a->v + i, v, n);
        h_store(a->param + i, v_fmsub(h_load(a->param + i, n), decay, step), n);
    }
}
