// Row kernels on rows × cols matrices: softmax, log-softmax, logsumexp, LayerNorm, RMSNorm, cross-entropy, RoPE, and
// the logits' statistics (entropy, argmax, mean). Each public function parallelises over rows; the per-row work is in
// a range function chosen by ISA (portable here, AVX2 / AVX-512 in vector_simd_rows.h), except the statistics, whose
// scalar double-precision arithmetic is the same on every path. Reductions over rows (dgamma, dbeta, the loss sum)
// use shape-determined blocks so the result does not depend on the thread count.
#include "ck_vector.h"
#include "vector_internal.h"
#include "vector_rows_kernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- Portable range functions (rows [begin, end) of the job in `a`)

static void softmax_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols;
        float *y = a->y + r * cols;
        float max = -INFINITY;
        for (int64_t c = 0; c < cols; c++) max = x[c] > max ? x[c] : max;
        float sum = 0;
        for (int64_t c = 0; c < cols; c++) {
            y[c] = expf(x[c] - max);
            sum += y[c];
        }
        float inv = 1.0f / sum;
        for (int64_t c = 0; c < cols; c++) y[c] *= inv;
    }
}

static float logsumexp_row_portable(int64_t cols, const float *x) {
    float max = -INFINITY;
    for (int64_t c = 0; c < cols; c++) max = x[c] > max ? x[c] : max;
    if (max == -INFINITY) return -INFINITY;  // every entry −inf: log 0, not NaN
    float sum = 0;
    for (int64_t c = 0; c < cols; c++) sum += expf(x[c] - max);
    return max + logf(sum);
}

static void log_softmax_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols;
        float *y = a->y + r * cols;
        float lse = logsumexp_row_portable(cols, x);
        for (int64_t c = 0; c < cols; c++) y[c] = x[c] - lse;
    }
}

static void logsumexp_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) a->out[r] = logsumexp_row_portable(a->cols, a->x + r * a->cols);
}

static void softmax_backward_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *y = a->y_in + r * cols, *dy = a->dy + r * cols;
        float *dx = a->dx + r * cols;
        float dot = 0;
        for (int64_t c = 0; c < cols; c++) dot += dy[c] * y[c];
        for (int64_t c = 0; c < cols; c++) dx[c] = y[c] * (dy[c] - dot);
    }
}

static void log_softmax_backward_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *y = a->y_in + r * cols, *dy = a->dy + r * cols;
        float *dx = a->dx + r * cols;
        float sum = 0;
        for (int64_t c = 0; c < cols; c++) sum += dy[c];
        for (int64_t c = 0; c < cols; c++) dx[c] = dy[c] - expf(y[c]) * sum;
    }
}

static void layernorm_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols;
        float *y = a->y + r * cols;
        float sum = 0;
        for (int64_t c = 0; c < cols; c++) sum += x[c];
        float mean = sum / (float)cols;
        // Two passes: the variance of centred values does not cancel catastrophically for large means.
        float squares = 0;
        for (int64_t c = 0; c < cols; c++) squares += (x[c] - mean) * (x[c] - mean);
        float rstd = 1.0f / sqrtf(squares / (float)cols + a->eps);
        for (int64_t c = 0; c < cols; c++) {
            float v = (x[c] - mean) * rstd;
            if (a->gamma) v *= a->gamma[c];
            if (a->beta) v += a->beta[c];
            y[c] = v;
        }
        a->mean[r] = mean;
        a->rstd[r] = rstd;
    }
}

// dx = rstd (g − mean(g) − x̂ mean(g x̂)) with g = dy·gamma, x̂ = (x − mean) rstd.
static void layernorm_backward_rows_portable(const ck_row_args *a, int64_t begin, int64_t end, float *dgamma,
                                             float *dbeta) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols, *dy = a->dy + r * cols;
        float *dx = a->dx + r * cols;
        float mean = a->mean[r], rstd = a->rstd[r];
        float sum_g = 0, sum_gx = 0;
        for (int64_t c = 0; c < cols; c++) {
            float xhat = (x[c] - mean) * rstd;
            float g = a->gamma ? dy[c] * a->gamma[c] : dy[c];
            sum_g += g;
            sum_gx += g * xhat;
            if (dgamma) dgamma[c] += dy[c] * xhat;
            if (dbeta) dbeta[c] += dy[c];
        }
        float mean_g = sum_g / (float)cols, mean_gx = sum_gx / (float)cols;
        for (int64_t c = 0; c < cols; c++) {
            float xhat = (x[c] - mean) * rstd;
            float g = a->gamma ? dy[c] * a->gamma[c] : dy[c];
            dx[c] = rstd * (g - mean_g - xhat * mean_gx);
        }
    }
}

static void rmsnorm_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols;
        float *y = a->y + r * cols;
        float squares = 0;
        for (int64_t c = 0; c < cols; c++) squares += x[c] * x[c];
        float rstd = 1.0f / sqrtf(squares / (float)cols + a->eps);
        for (int64_t c = 0; c < cols; c++) y[c] = a->gamma ? x[c] * rstd * a->gamma[c] : x[c] * rstd;
        a->rstd[r] = rstd;
    }
}

// dx = rstd (g − x rstd² mean(g x)) with g = dy·gamma.
static void rmsnorm_backward_rows_portable(const ck_row_args *a, int64_t begin, int64_t end, float *dgamma,
                                           float *unused) {
    (void)unused;
    int64_t cols = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * cols, *dy = a->dy + r * cols;
        float *dx = a->dx + r * cols;
        float rstd = a->rstd[r];
        float sum_gx = 0;
        for (int64_t c = 0; c < cols; c++) {
            float g = a->gamma ? dy[c] * a->gamma[c] : dy[c];
            sum_gx += g * x[c];
            if (dgamma) dgamma[c] += dy[c] * x[c] * rstd;
        }
        float k = rstd * rstd * sum_gx / (float)cols;
        for (int64_t c = 0; c < cols; c++) {
            float g = a->gamma ? dy[c] * a->gamma[c] : dy[c];
            dx[c] = rstd * (g - x[c] * k);
        }
    }
}

static double cross_entropy_rows_portable(const ck_row_args *a, int64_t begin, int64_t end, int64_t *kept) {
    int64_t vocab = a->cols;
    double loss = 0;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * vocab;
        float lse = logsumexp_row_portable(vocab, x);
        a->out[r] = lse;
        int32_t target = a->targets[r];
        if (target < 0 || target == a->ignore_index) continue;
        loss += (double)lse - (double)x[target];
        (*kept)++;
    }
    return loss;
}

static void cross_entropy_backward_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t vocab = a->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * vocab;
        float *dx = a->dx + r * vocab;
        int32_t target = a->targets[r];
        if (target < 0 || target == a->ignore_index) {
            memset(dx, 0, (size_t)vocab * sizeof(float));
            continue;
        }
        float lse = a->lse[r];
        for (int64_t c = 0; c < vocab; c++) dx[c] = a->scale * expf(x[c] - lse);
        dx[target] -= a->scale;
    }
}

static void rope_rows_portable(const ck_row_args *a, int64_t begin, int64_t end) {
    int64_t D = a->cols, half = D / 2, T = a->T;
    float sign = a->inverse ? -1.0f : 1.0f;
    for (int64_t r = begin; r < end; r++) {
        const float *x = a->x + r * D;
        float *y = a->y + r * D;
        const float *cos = a->cos + (r % T) * half, *sin = a->sin + (r % T) * half;
        for (int64_t i = 0; i < half; i++) {
            float lo = x[i], hi = x[i + half], c = cos[i], s = sign * sin[i];
            y[i] = lo * c - hi * s;
            y[i + half] = hi * c + lo * s;
        }
    }
}

// ---- Dispatch

#if defined(__x86_64__)
#define CK_PICK(name)                                                                                          \
    (ck_current_isa() == CK_ISA_AVX512 ? ck_##name##_avx512                                                    \
     : ck_current_isa() == CK_ISA_AVX2 ? ck_##name##_avx2                                                      \
                                       : name##_portable)
#else
#define CK_PICK(name) name##_portable
#endif

typedef struct {
    const ck_row_args *args;
    ck_row_range range;
} row_job;

static void row_body(void *context, int64_t begin, int64_t end) {
    row_job *job = context;
    job->range(job->args, begin, end);
}

static void run_rows(int64_t rows, const ck_row_args *args, ck_row_range range) {
    if (rows <= 0 || args->cols <= 0) return;
    row_job job = {args, range};
    ck_parallel_for(rows, ck_row_grain(args->cols), row_body, &job);
}

void ck_softmax_forward(int64_t rows, int64_t cols, const float *x, float *y) {
    ck_row_args args = {.cols = cols, .x = x, .y = y};
    run_rows(rows, &args, CK_PICK(softmax_rows));
}

void ck_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx) {
    ck_row_args args = {.cols = cols, .y_in = y, .dy = dy, .dx = dx};
    run_rows(rows, &args, CK_PICK(softmax_backward_rows));
}

void ck_log_softmax_forward(int64_t rows, int64_t cols, const float *x, float *y) {
    ck_row_args args = {.cols = cols, .x = x, .y = y};
    run_rows(rows, &args, CK_PICK(log_softmax_rows));
}

void ck_log_softmax_backward(int64_t rows, int64_t cols, const float *y, const float *dy, float *dx) {
    ck_row_args args = {.cols = cols, .y_in = y, .dy = dy, .dx = dx};
    run_rows(rows, &args, CK_PICK(log_softmax_backward_rows));
}

void ck_logsumexp_rows(int64_t rows, int64_t cols, const float *x, float *out) {
    if (cols <= 0) {
        for (int64_t r = 0; r < rows; r++) out[r] = -INFINITY;  // log of an empty sum
        return;
    }
    ck_row_args args = {.cols = cols, .x = x, .out = out};
    run_rows(rows, &args, CK_PICK(logsumexp_rows));
}

void ck_layernorm_forward(int64_t rows, int64_t cols, const float *x, const float *gamma, const float *beta,
                          float eps, float *y, float *mean, float *rstd) {
    ck_row_args args = {.cols = cols, .x = x, .gamma = gamma, .beta = beta, .eps = eps, .y = y,
                        .mean = mean, .rstd = rstd};
    run_rows(rows, &args, CK_PICK(layernorm_rows));
}

void ck_rmsnorm_forward(int64_t rows, int64_t cols, const float *x, const float *gamma, float eps, float *y,
                        float *rstd) {
    ck_row_args args = {.cols = cols, .x = x, .gamma = gamma, .eps = eps, .y = y, .rstd = rstd};
    run_rows(rows, &args, CK_PICK(rmsnorm_rows));
}

// Backward of the norms: blocks of rows each accumulate their own dgamma/dbeta partial (zeroed), then the
// partials are added into the caller's arrays in block order.
typedef struct {
    const ck_row_args *args;
    ck_norm_backward_range range;
    int64_t rows, blocks;
    float *partial_gamma, *partial_beta;  // blocks × cols each, or NULL
} norm_backward_job;

static void norm_backward_body(void *context, int64_t begin, int64_t end) {
    norm_backward_job *job = context;
    int64_t cols = job->args->cols;
    for (int64_t block = begin; block < end; block++) {
        float *dgamma = job->partial_gamma ? job->partial_gamma + block * cols : NULL;
        float *dbeta = job->partial_beta ? job->partial_beta + block * cols : NULL;
        job->range(job->args, ck_block_begin(block, job->blocks, job->rows),
                   ck_block_begin(block + 1, job->blocks, job->rows), dgamma, dbeta);
    }
}

static void run_norm_backward(int64_t rows, const ck_row_args *args, ck_norm_backward_range range, float *dgamma,
                              float *dbeta) {
    int64_t cols = args->cols;
    if (rows <= 0 || cols <= 0) return;
    int64_t blocks = ck_reduction_blocks(rows, cols);
    int64_t arrays = (dgamma ? 1 : 0) + (dbeta ? 1 : 0);
    float *scratch = arrays ? calloc((size_t)(arrays * blocks * cols), sizeof(float)) : NULL;
    norm_backward_job job = {args, range, rows, blocks, NULL, NULL};
    if (dgamma) job.partial_gamma = scratch;
    if (dbeta) job.partial_beta = scratch + (dgamma ? blocks * cols : 0);
    ck_parallel_for(blocks, 1, norm_backward_body, &job);
    for (int64_t block = 0; block < blocks; block++) {
        for (int64_t c = 0; c < cols; c++) {
            if (dgamma) dgamma[c] += job.partial_gamma[block * cols + c];
            if (dbeta) dbeta[c] += job.partial_beta[block * cols + c];
        }
    }
    free(scratch);
}

void ck_layernorm_backward(int64_t rows, int64_t cols, const float *x, const float *gamma, const float *mean,
                           const float *rstd, const float *dy, float *dx, float *dgamma, float *dbeta) {
    ck_row_args args = {.cols = cols, .x = x, .gamma = gamma, .mean = (float *)mean, .rstd = (float *)rstd,
                        .dy = dy, .dx = dx};
    run_norm_backward(rows, &args, CK_PICK(layernorm_backward_rows), dgamma, dbeta);
}

void ck_rmsnorm_backward(int64_t rows, int64_t cols, const float *x, const float *gamma, const float *rstd,
                         const float *dy, float *dx, float *dgamma) {
    ck_row_args args = {.cols = cols, .x = x, .gamma = gamma, .rstd = (float *)rstd, .dy = dy, .dx = dx};
    run_norm_backward(rows, &args, CK_PICK(rmsnorm_backward_rows), dgamma, NULL);
}

typedef struct {
    const ck_row_args *args;
    ck_cross_entropy_range range;
    int64_t rows, blocks;
    double loss[CK_MAX_REDUCTION_BLOCKS];
    int64_t kept[CK_MAX_REDUCTION_BLOCKS];
} cross_entropy_job;

static void cross_entropy_body(void *context, int64_t begin, int64_t end) {
    cross_entropy_job *job = context;
    for (int64_t block = begin; block < end; block++) {
        job->kept[block] = 0;
        job->loss[block] = job->range(job->args, ck_block_begin(block, job->blocks, job->rows),
                                      ck_block_begin(block + 1, job->blocks, job->rows), &job->kept[block]);
    }
}

double ck_cross_entropy_forward(int64_t rows, int64_t vocab, const float *logits, const int32_t *targets,
                                int32_t ignore_index, float *lse, int64_t *kept) {
    *kept = 0;
    if (rows <= 0 || vocab <= 0) return 0;
    ck_row_args args = {.cols = vocab, .x = logits, .targets = targets, .ignore_index = ignore_index, .out = lse};
    cross_entropy_job job = {.args = &args, .range = CK_PICK(cross_entropy_rows), .rows = rows,
                             .blocks = ck_reduction_blocks(rows, vocab)};
    ck_parallel_for(job.blocks, 1, cross_entropy_body, &job);
    double loss = 0;
    for (int64_t block = 0; block < job.blocks; block++) {
        loss += job.loss[block];
        *kept += job.kept[block];
    }
    return loss;
}

void ck_cross_entropy_backward(int64_t rows, int64_t vocab, const float *logits, const int32_t *targets,
                               int32_t ignore_index, const float *lse, float scale, float *dlogits) {
    ck_row_args args = {.cols = vocab, .x = logits, .targets = targets, .ignore_index = ignore_index, .lse = lse,
                        .scale = scale, .dx = dlogits};
    run_rows(rows, &args, CK_PICK(cross_entropy_backward_rows));
}

typedef struct {
    int64_t vocab;
    const float *logits;
    double *entropy, *mean;
    int32_t *argmax;
} logit_statistics_job;

static void logit_statistics_body(void *context, int64_t begin, int64_t end) {
#pragma STDC FP_CONTRACT OFF
    const logit_statistics_job *job = context;
    const int64_t vocab = job->vocab;
    for (int64_t r = begin; r < end; r++) {
        const float *x = job->logits + r * vocab;
        float largest = -INFINITY;
        int64_t best = 0;
        double sum = 0;
        for (int64_t v = 0; v < vocab; v++) {
            sum += (double)x[v];
            if (x[v] > largest) largest = x[v], best = v;
        }
        double normalizer = 0, weighted = 0;
        for (int64_t v = 0; v < vocab; v++) {
            const float difference = x[v] - largest;
            const double shifted = (double)difference, e = exp(shifted);
            normalizer += e;
            const double term = e * shifted;
            weighted += term;
        }
        job->entropy[r] = log(normalizer) - weighted / normalizer;
        job->argmax[r] = (int32_t)best;
        job->mean[r] = sum / (double)vocab;
    }
}

void ck_logit_statistics(int64_t rows, int64_t vocab, const float *logits, double *entropy, int32_t *argmax,
                         double *mean) {
    if (rows <= 0 || vocab <= 0) return;
    logit_statistics_job job = {.vocab = vocab, .logits = logits, .entropy = entropy, .mean = mean, .argmax = argmax};
    ck_parallel_for(rows, ck_row_grain(vocab), logit_statistics_body, &job);
}

void ck_rope(int64_t groups, int64_t T, int64_t D, const float *x, const float *cos, const float *sin, float *y,
             int inverse) {
    ck_row_args args = {.cols = D, .T = T, .x = x, .cos = cos, .sin = sin, .y = y, .inverse = inverse};
    run_rows(groups * T, &args, CK_PICK(rope_rows));
}
