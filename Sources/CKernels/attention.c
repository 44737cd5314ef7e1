// Fused causal attention with grouped-query heads.
// Shapes: q, out, dout, dq (B, Hq, T, D); k, v, dk, dv (B, Hkv, S, D); lse (B, Hq, T); key_mask (B, S);
// segment_start (B, T).
// Query rows are processed in tiles so that only a tile × S block of scores ever exists (per-thread scratch);
// with a causal mask a tile only computes scores for the keys its last row can see. Kᵀ (and Vᵀ for the
// backward) is transposed once per kv head into scratch so that every product reads contiguous rows. Every unit
// of work is computed by one thread in a fixed order (ck_sgemm is serial inside a parallel body), so the results
// do not depend on the thread count. With segment starts (packed sequences) a tile also skips the keys before
// the first segment its rows belong to, so a packed row costs what its sequences cost one by one.
#include "attention_kernels.h"
#include "ck_vector.h"
#include "quant_internal.h"
#include "vector_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include "ck_simd_x86.h"
#include <immintrin.h>
static int ck_has_f16c(void);
#endif

// Query rows per tile: bounds the scores scratch (tile × S per thread) and gives the forward enough units to
// spread over threads; at T = S = 256, D = 64 causal, 32, 64 and 128 measured the same within noise.
#define CK_ATTENTION_TILE 32

typedef struct {
    int64_t Hq, Hkv, T, S, D;
    int64_t C;  // forward only: positions between one kv head's rows of k and v (C ≥ S; S when they are packed)
    const float *q, *k, *v, *out, *lse, *dout;
    const uint16_t *k16, *v16;  // forward only: half-precision k and v (then k and v are NULL)
    float scale;
    int causal;
    const uint8_t *key_mask;
    const int32_t *segment_start;
    float *out_w, *lse_w, *dq, *dk, *dv;
    ck_attention_row_kernels rows;
} attention_job;

// Keys visible to query row t: j < visible_keys(t), further restricted by key_mask.
static inline int64_t visible_keys(const attention_job *a, int64_t t) {
    if (!a->causal) return a->S;
    int64_t limit = t + 1 + a->S - a->T;
    return limit < 0 ? 0 : (limit > a->S ? a->S : limit);
}

// First key query row t of batch row b may see (its packed sequence's first token): 0 without segments.
static inline int64_t first_key(const attention_job *a, int64_t b, int64_t t) {
    if (!a->segment_start) return 0;
    int64_t start = a->segment_start[b * a->T + t];
    return start < 0 ? 0 : (start > a->S ? a->S : start);
}

// First key any of the rows [t0, t0 + rows) sees: the tile's products start there.
static inline int64_t tile_first_key(const attention_job *a, int64_t b, int64_t t0, int64_t rows) {
    int64_t first = a->S;
    for (int64_t r = 0; r < rows; r++) {
        int64_t start = first_key(a, b, t0 + r);
        first = start < first ? start : first;
    }
    return first;
}

// Softmax of one scores row whose columns are keys [lo, lo + n): keys before the row's own segment get
// probability 0, the rest go through the row kernel as a row of their own.
static inline void softmax_segment(const attention_job *a, int64_t n, int64_t limit, const uint8_t *mask,
                                   int64_t skip, float *p, float *lse) {
    if (limit < 0) limit = 0;
    if (skip > limit) skip = limit;
    if (skip > 0) memset(p, 0, (size_t)skip * sizeof(float));
    a->rows.softmax(n - skip, limit - skip, mask ? mask + skip : NULL, p + skip, lse);
}

static inline void probability_gradient_segment(const attention_job *a, int64_t n, int64_t limit,
                                                const uint8_t *mask, int64_t skip, float lse, float delta,
                                                float *scores, float *dp) {
    if (limit < 0) limit = 0;
    if (skip > limit) skip = limit;
    if (skip > 0) {
        memset(scores, 0, (size_t)skip * sizeof(float));
        memset(dp, 0, (size_t)skip * sizeof(float));
    }
    a->rows.probability_gradient(n - skip, limit - skip, mask ? mask + skip : NULL, lse, delta, scores + skip,
                                 dp + skip);
}

// ---- Portable row kernels

static void softmax_row_portable(int64_t n, int64_t limit, const uint8_t *mask, float *p, float *lse) {
    float max = -INFINITY;
    for (int64_t j = 0; j < limit; j++)
        if (!mask || mask[j]) max = p[j] > max ? p[j] : max;
    if (max == -INFINITY) {
        memset(p, 0, (size_t)n * sizeof(float));
        *lse = -INFINITY;
        return;
    }
    float sum = 0;
    for (int64_t j = 0; j < limit; j++) {
        float e = (!mask || mask[j]) ? expf(p[j] - max) : 0.0f;
        p[j] = e;
        sum += e;
    }
    for (int64_t j = limit; j < n; j++) p[j] = 0;
    float inv = 1.0f / sum;
    for (int64_t j = 0; j < limit; j++) p[j] *= inv;
    *lse = max + logf(sum);
}

static void probability_gradient_row_portable(int64_t n, int64_t limit, const uint8_t *mask, float lse,
                                              float delta, float *scores, float *dp) {
    if (lse == -INFINITY) limit = 0;  // fully masked row: no probability mass, no gradient
    for (int64_t j = 0; j < limit; j++) {
        float p = (!mask || mask[j]) ? expf(scores[j] - lse) : 0.0f;
        scores[j] = p;
        dp[j] = p * (dp[j] - delta);
    }
    for (int64_t j = limit; j < n; j++) scores[j] = dp[j] = 0;
}

static float dot_portable(int64_t n, const float *a, const float *b) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

// ck_sgemm computes the whole product; the causal band is only an optimisation.
static void matmul_portable(int transposed_x, int64_t rows, int64_t n, int64_t K, float alpha, const float *X,
                            int64_t ldx, const float *Y, int64_t ldy, float *C, int64_t ldc, int accumulate, int band,
                            int64_t diagonal) {
    (void)band;
    (void)diagonal;
    ck_sgemm(transposed_x, 0, rows, n, K, alpha, X, ldx, Y, ldy, accumulate ? 1.0f : 0.0f, C, ldc);
}

static ck_attention_row_kernels row_kernels(void) {
#if defined(__x86_64__)
    switch (ck_current_isa()) {
    case CK_ISA_AVX512: return ck_attention_rows_avx512;
    case CK_ISA_AVX2: {
        ck_attention_row_kernels rows = ck_attention_rows_avx2;
        if (!ck_has_f16c()) rows.decode_scores = NULL, rows.decode_values = NULL;  // their half loads are F16C's
        return rows;
    }
    default: break;
    }
#endif
    return (ck_attention_row_kernels){softmax_row_portable, probability_gradient_row_portable, dot_portable, NULL, NULL,
                                      matmul_portable};
}

// ---- Forward: one unit is one tile of query rows of one query head. Tiles are independent, so the forward
// splits finer than the backward (which owns a kv head's dK/dV), e.g. for a single sequence or decoding.

static int64_t tile_count(int64_t T) { return (T + CK_ATTENTION_TILE - 1) / CK_ATTENTION_TILE; }

// (S, D) rows of one kv head → (D, S), in 16 × 16 blocks that stay in L1 (measured 1.7× faster than walking
// whole columns; SIMD gathers were no faster).
static void transpose_keys(int64_t S, int64_t D, const float *k, float *kt) {
    for (int64_t j0 = 0; j0 < S; j0 += 16) {
        int64_t j1 = j0 + 16 < S ? j0 + 16 : S;
        for (int64_t d0 = 0; d0 < D; d0 += 16) {
            int64_t d1 = d0 + 16 < D ? d0 + 16 : D;
            for (int64_t d = d0; d < d1; d++)
                for (int64_t j = j0; j < j1; j++) kt[d * S + j] = k[j * D + d];
        }
    }
}

// Below this many query rows (decoding) scores are dot products against K's rows: transposing K would cost
// more than the product.
#define CK_ATTENTION_MIN_ROWS_FOR_TRANSPOSE 4

// k and v are the unit's kv head's S rows (D apart); kt holds its Kᵀ, or is NULL when T is below
// CK_ATTENTION_MIN_ROWS_FOR_TRANSPOSE. The tile's scores cover keys [lo, keys): lo is the first key any of its rows
// sees (0 without segments).
static void forward_tile(const attention_job *a, int64_t head, int64_t t0, const float *k, const float *v,
                         const float *kt, float *scores) {
    int64_t T = a->T, S = a->S, D = a->D;
    int64_t b = head / a->Hq;
    const uint8_t *mask = a->key_mask ? a->key_mask + b * S : NULL;
    int64_t rows = T - t0 < CK_ATTENTION_TILE ? T - t0 : CK_ATTENTION_TILE;
    int64_t keys = visible_keys(a, t0 + rows - 1);
    int64_t lo = tile_first_key(a, b, t0, rows);
    const float *q = a->q + (head * T + t0) * D;
    float *out = a->out_w + (head * T + t0) * D;
    float *lse = a->lse_w + head * T + t0;
    if (keys <= lo) {
        memset(out, 0, (size_t)(rows * D) * sizeof(float));
        for (int64_t r = 0; r < rows; r++) lse[r] = -INFINITY;
        return;
    }
    int64_t width = keys - lo;               // score columns: keys lo ..< keys
    int64_t diagonal = t0 + 1 + S - T - lo;  // columns seen by the tile's first row
    int band = a->causal ? CK_BAND_COLUMNS : CK_BAND_NONE;
    if (kt) {
        a->rows.matmul(0, rows, width, D, a->scale, q, D, kt + lo, S, scores, width, 0, band, diagonal);
    } else {
        for (int64_t r = 0; r < rows; r++) {
            int64_t limit = visible_keys(a, t0 + r);  // the softmax reads no further
            for (int64_t j = first_key(a, b, t0 + r); j < limit; j++)
                scores[r * width + j - lo] = a->scale * a->rows.dot(D, q + r * D, k + j * D);
        }
    }
    for (int64_t r = 0; r < rows; r++)
        softmax_segment(a, width, visible_keys(a, t0 + r) - lo, mask ? mask + lo : NULL,
                        first_key(a, b, t0 + r) - lo, scores + r * width, lse + r);
    band = a->causal ? CK_BAND_REDUCTION_END : CK_BAND_NONE;
    a->rows.matmul(0, rows, D, width, 1, scores, width, v + lo * D, D, out, D, 0, band, diagonal);
}

// A decoding step (T = 1) of g consecutive query heads from `head` on that share a kv head (keys and values: its S
// rows, as float32 or halves): forward_tile's computation for each, with each key and value row read once for all.
static void forward_decode(const attention_job *a, int64_t head, int64_t g, const float *k, const float *v,
                           const uint16_t *k16, const uint16_t *v16, float *scores) {
    int64_t D = a->D, b = head / a->Hq;
    const uint8_t *mask = a->key_mask ? a->key_mask + b * a->S : NULL;
    int64_t keys = visible_keys(a, 0), lo = first_key(a, b, 0);
    float *out = a->out_w + head * D, *lse = a->lse_w + head;
    if (keys <= lo) {
        memset(out, 0, (size_t)(g * D) * sizeof(float));
        for (int64_t h = 0; h < g; h++) lse[h] = -INFINITY;
        return;
    }
    int64_t width = keys - lo;
    a->rows.decode_scores(g, width, D, a->scale, a->q + head * D, k ? k + lo * D : NULL, k16 ? k16 + lo * D : NULL, scores);
    for (int64_t h = 0; h < g; h++) softmax_segment(a, width, width, mask ? mask + lo : NULL, 0, scores + h * width, lse + h);
    a->rows.decode_values(g, width, D, scores, v ? v + lo * D : NULL, v16 ? v16 + lo * D : NULL, out);
}

static void forward_body(void *context, int64_t begin, int64_t end) {
    const attention_job *a = context;
    int64_t tiles = tile_count(a->T), group = a->Hq / a->Hkv, S = a->S, D = a->D;
    int transpose = a->T >= CK_ATTENTION_MIN_ROWS_FOR_TRANSPOSE;
    // A decoding step reads its heads' keys and values as they are stored, a group of heads at a time; otherwise
    // half-precision keys and values are widened into float32 scratch once per kv head.
    int decode = a->T == 1 && a->rows.decode_scores, widen = a->k16 && !decode;
    int64_t rows = decode ? CK_DECODE_HEADS : CK_ATTENTION_TILE;
    float *scores = malloc((size_t)(rows * S + (transpose ? D * S : 0) + (widen ? 2 * S * D : 0)) * sizeof(float));
    float *kt = transpose ? scores + rows * S : NULL;
    float *widened = widen ? scores + rows * S + (transpose ? D * S : 0) : NULL;  // K then V, S × D each
    const float *k = NULL, *v = NULL;
    const uint16_t *k16 = NULL, *v16 = NULL;
    int64_t current_kv = -1;  // consecutive units mostly share a kv head: widen and transpose only when it changes
    for (int64_t unit = begin; unit < end;) {
        int64_t head = unit / tiles;
        int64_t kv = head / group;  // head = b·Hq + h uses kv head b·Hkv + h/group
        if (kv != current_kv) {
            if (widen) {
                ck_halves_to_floats(S * D, a->k16 + kv * a->C * D, widened);
                ck_halves_to_floats(S * D, a->v16 + kv * a->C * D, widened + S * D);
                k = widened, v = widened + S * D;
            } else if (a->k16) {
                k16 = a->k16 + kv * a->C * D, v16 = a->v16 + kv * a->C * D;
            } else {
                k = a->k + kv * a->C * D, v = a->v + kv * a->C * D;
            }
            if (transpose) transpose_keys(S, D, k, kt);
            current_kv = kv;
        }
        if (decode) {  // unit = head: the next heads of this kv head in this chunk go with it
            int64_t g = 1;
            while (g < CK_DECODE_HEADS && unit + g < end && (head + g) / group == kv) g++;
            forward_decode(a, head, g, k, v, k16, v16, scores);
            unit += g;
        } else {
            forward_tile(a, head, (unit % tiles) * CK_ATTENTION_TILE, k, v, kt, scores);
            unit++;
        }
    }
    free(scores);
}

// The forward over B sequences, keys and values as float32 (k, v) or as halves (k16, v16; the others NULL).
static void forward_run(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t C, int64_t D, const float *q,
                        const float *k, const float *v, const uint16_t *k16, const uint16_t *v16, float scale, int causal,
                        const uint8_t *key_mask, const int32_t *segment_start, float *out, float *lse) {
    if (B <= 0 || Hq <= 0 || Hkv <= 0 || T <= 0) return;
    if (S <= 0) {  // nothing to attend to
        memset(out, 0, (size_t)(B * Hq * T * D) * sizeof(float));
        for (int64_t i = 0; i < B * Hq * T; i++) lse[i] = -INFINITY;
        return;
    }
    attention_job job = {.Hq = Hq, .Hkv = Hkv, .T = T, .S = S, .C = C < S ? S : C, .D = D, .q = q, .k = k, .v = v, .k16 = k16,
                         .v16 = v16, .scale = scale, .causal = causal, .key_mask = key_mask, .segment_start = segment_start,
                         .out_w = out, .lse_w = lse, .rows = row_kernels()};
    ck_parallel_for(B * Hq * tile_count(T), 1, forward_body, &job);
}

void ck_attention_forward(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t D, const float *q,
                          const float *k, const float *v, float scale, int causal, const uint8_t *key_mask,
                          const int32_t *segment_start, float *out, float *lse) {
    forward_run(B, Hq, Hkv, T, S, S, D, q, k, v, NULL, NULL, scale, causal, key_mask, segment_start, out, lse);
}

void ck_attention_forward_strided(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t C, int64_t D,
                                  const float *q, const float *k, const float *v, float scale, int causal,
                                  const uint8_t *key_mask, const int32_t *segment_start, float *out, float *lse) {
    forward_run(B, Hq, Hkv, T, S, C, D, q, k, v, NULL, NULL, scale, causal, key_mask, segment_start, out, lse);
}

void ck_attention_forward_strided_half(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t C, int64_t D,
                                       const float *q, const uint16_t *k, const uint16_t *v, float scale, int causal,
                                       const uint8_t *key_mask, const int32_t *segment_start, float *out, float *lse) {
    forward_run(B, Hq, Hkv, T, S, C, D, q, NULL, NULL, k, v, scale, causal, key_mask, segment_start, out, lse);
}

// ---- Half-precision conversions (the KV cache's storage)

#if defined(__x86_64__)
#if defined(__clang__)
#define CK_F16C_STORE(p, a) ck256_storeu(p, a)
#define CK_F16C_ROUND(a) ((__m128i)__builtin_ia32_vcvtps2ph256((__v8sf)(a), 0))
#else
#define CK_F16C_STORE(p, a) _mm256_storeu_ps(p, a)
#define CK_F16C_ROUND(a) _mm256_cvtps_ph(a, 0)
#endif

__attribute__((target("avx,f16c"))) static void floats_to_halves_f16c(int64_t n, const float *x, uint16_t *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(y + i), CK_F16C_ROUND(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = ck_float_to_half(x[i]);
}

__attribute__((target("avx,f16c"))) static void halves_to_floats_f16c(int64_t n, const uint16_t *x, float *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) CK_F16C_STORE(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++) y[i] = ck_half_to_float(x[i]);
}

static int ck_has_f16c(void) {
    static int cached = -1;  // benign race: every thread computes the same value
    if (cached < 0) cached = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
    return cached;
}
#endif

void ck_floats_to_halves(int64_t n, const float *x, uint16_t *y) {
#if defined(__x86_64__)
    if (ck_has_f16c()) return floats_to_halves_f16c(n, x, y);
#endif
    for (int64_t i = 0; i < n; i++) y[i] = ck_float_to_half(x[i]);
}

void ck_halves_to_floats(int64_t n, const uint16_t *x, float *y) {
#if defined(__x86_64__)
    if (ck_has_f16c()) return halves_to_floats_f16c(n, x, y);
#endif
    for (int64_t i = 0; i < n; i++) y[i] = ck_half_to_float(x[i]);
}

// ---- Backward: dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)), dQ = scale dS K, dK = scale dSᵀ Q.
// One unit is one (batch, kv head): it owns that head's dK and dV and adds its query heads' tiles into them in
// a fixed order (GQA sums over the group deterministically).

typedef struct {
    float *scores, *dp;  // tile × S each
    float *kt, *vt;      // D × S each
} backward_scratch;

static void backward_item(const attention_job *a, int64_t item, const backward_scratch *w) {
    int64_t T = a->T, S = a->S, D = a->D, group = a->Hq / a->Hkv;
    int64_t b = item / a->Hkv;
    const float *k = a->k + item * S * D;
    float *dk = a->dk + item * S * D, *dv = a->dv + item * S * D;
    const uint8_t *mask = a->key_mask ? a->key_mask + b * S : NULL;
    float *scores = w->scores, *dp = w->dp;
    transpose_keys(S, D, k, w->kt);
    transpose_keys(S, D, a->v + item * S * D, w->vt);
    memset(dk, 0, (size_t)(S * D) * sizeof(float));
    memset(dv, 0, (size_t)(S * D) * sizeof(float));
    for (int64_t g = 0; g < group; g++) {
        int64_t head = item * group + g;
        for (int64_t t0 = 0; t0 < T; t0 += CK_ATTENTION_TILE) {
            int64_t rows = T - t0 < CK_ATTENTION_TILE ? T - t0 : CK_ATTENTION_TILE;
            int64_t keys = visible_keys(a, t0 + rows - 1);
            int64_t lo = tile_first_key(a, b, t0, rows);  // columns are keys lo ..< keys, as in the forward
            int64_t offset = (head * T + t0) * D;
            const float *q = a->q + offset, *out = a->out + offset, *dout = a->dout + offset;
            const float *lse = a->lse + head * T + t0;
            float *dq = a->dq + offset;
            if (keys <= lo) {
                memset(dq, 0, (size_t)(rows * D) * sizeof(float));
                continue;
            }
            int64_t width = keys - lo;
            int64_t diagonal = t0 + 1 + S - T - lo;
            int columns = a->causal ? CK_BAND_COLUMNS : CK_BAND_NONE;
            int reduction_end = a->causal ? CK_BAND_REDUCTION_END : CK_BAND_NONE;
            int reduction_start = a->causal ? CK_BAND_REDUCTION_START : CK_BAND_NONE;
            a->rows.matmul(0, rows, width, D, a->scale, q, D, w->kt + lo, S, scores, width, 0, columns, diagonal);
            a->rows.matmul(0, rows, width, D, 1, dout, D, w->vt + lo, S, dp, width, 0, columns, diagonal);
            for (int64_t r = 0; r < rows; r++) {
                float delta = a->rows.dot(D, dout + r * D, out + r * D);
                probability_gradient_segment(a, width, visible_keys(a, t0 + r) - lo, mask ? mask + lo : NULL,
                                             first_key(a, b, t0 + r) - lo, lse[r], delta, scores + r * width,
                                             dp + r * width);
            }
            // scores now holds P and dp holds dS (rows × width).
            a->rows.matmul(1, width, D, rows, 1, scores, width, dout, D, dv + lo * D, D, 1, reduction_start, diagonal);
            a->rows.matmul(0, rows, D, width, a->scale, dp, width, k + lo * D, D, dq, D, 0, reduction_end, diagonal);
            a->rows.matmul(1, width, D, rows, a->scale, dp, width, q, D, dk + lo * D, D, 1, reduction_start, diagonal);
        }
    }
}

static void backward_body(void *context, int64_t begin, int64_t end) {
    const attention_job *a = context;
    size_t tile = (size_t)(CK_ATTENTION_TILE * a->S), transposed = (size_t)(a->D * a->S);
    float *memory = malloc((2 * tile + 2 * transposed) * sizeof(float));
    backward_scratch w = {memory, memory + tile, memory + 2 * tile, memory + 2 * tile + transposed};
    for (int64_t item = begin; item < end; item++) backward_item(a, item, &w);
    free(memory);
}

void ck_attention_backward(int64_t B, int64_t Hq, int64_t Hkv, int64_t T, int64_t S, int64_t D, const float *q,
                           const float *k, const float *v, float scale, int causal, const uint8_t *key_mask,
                           const int32_t *segment_start, const float *out, const float *lse, const float *dout,
                           float *dq, float *dk, float *dv) {
    if (B <= 0 || Hq <= 0 || Hkv <= 0) return;
    attention_job job = {.Hq = Hq, .Hkv = Hkv, .T = T, .S = S, .D = D, .q = q, .k = k, .v = v, .out = out,
                         .lse = lse, .dout = dout, .scale = scale, .causal = causal, .key_mask = key_mask,
                         .segment_start = segment_start,
                         .dq = dq, .dk = dk, .dv = dv, .rows = row_kernels()};
    if (S <= 0 || T <= 0) {
        if (T > 0) memset(dq, 0, (size_t)(B * Hq * T * D) * sizeof(float));
        if (S > 0) {
            memset(dk, 0, (size_t)(B * Hkv * S * D) * sizeof(float));
            memset(dv, 0, (size_t)(B * Hkv * S * D) * sizeof(float));
        }
        return;
    }
    ck_parallel_for(B * Hkv, 1, backward_body, &job);
}
