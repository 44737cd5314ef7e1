// SIMD pieces of fused attention (see attention_kernels.h): masked softmax rows, the probability gradient and
// the small products between them. Same vector vocabulary and instantiation as vector_simd_math.h; needs the
// helpers of vector_simd_rows.h, so it is included after both.

// ---- Rows

// Lanes j .. j+CK_W−1 that are below limit and not padding.
CK_INLINE vm h_keys_valid(const uint8_t *mask, int64_t j, int64_t limit) {
    vm valid = v_lanes(limit - j);
    if (!mask) return valid;
    if (limit - j >= CK_W) return v_mask_and(valid, v_bytes_nonzero(mask + j));
    uint8_t tail[CK_W] = {0};  // never read mask bytes past the row
    memcpy(tail, mask + j, (size_t)(limit - j));
    return v_mask_and(valid, v_bytes_nonzero(tail));
}

static void CK_SUFFIX(attention_softmax_row)(int64_t n, int64_t limit, const uint8_t *mask, float *p, float *lse) {
    vf max = v_set1(-INFINITY);
    for (int64_t j = 0; j < limit; j += CK_W)
        max = v_max(max, v_blend(h_keys_valid(mask, j, limit), v_set1(-INFINITY), h_load(p + j, limit - j)));
    float row_max = v_reduce_max(max);
    if (row_max == -INFINITY) {
        memset(p, 0, (size_t)n * sizeof(float));
        *lse = -INFINITY;
        return;
    }
    vf shift = v_set1(row_max), sum = v_zero();
    for (int64_t j = 0; j < limit; j += CK_W) {
        vf e = v_blend(h_keys_valid(mask, j, limit), v_zero(), v_exp(v_sub(h_load(p + j, limit - j), shift)));
        h_store(p + j, e, limit - j);
        sum = v_add(sum, e);
    }
    if (limit < n) memset(p + limit, 0, (size_t)(n - limit) * sizeof(float));
    float total = v_reduce_add(sum);
    h_scale(limit, p, 1.0f / total);
    *lse = row_max + logf(total);
}

static void CK_SUFFIX(attention_probability_gradient_row)(int64_t n, int64_t limit, const uint8_t *mask, float lse,
                                                          float delta, float *scores, float *dp) {
    if (lse == -INFINITY) limit = 0;
    vf vlse = v_set1(lse), vdelta = v_set1(delta);
    for (int64_t j = 0; j < limit; j += CK_W) {
        int64_t remaining = limit - j;
        vf p = v_blend(h_keys_valid(mask, j, limit), v_zero(), v_exp(v_sub(h_load(scores + j, remaining), vlse)));
        h_store(scores + j, p, remaining);
        h_store(dp + j, v_mul(p, v_sub(h_load(dp + j, remaining), vdelta)), remaining);
    }
    if (limit < n) {
        memset(scores + limit, 0, (size_t)(n - limit) * sizeof(float));
        memset(dp + limit, 0, (size_t)(n - limit) * sizeof(float));
    }
}

// ---- Keys and values stored as IEEE halves (a half-precision KV cache), read while decoding

// CK_W halves at p widened to float32; fewer than CK_W: the rest zero, never reading past p + remaining.
CK_INLINE vf h_load_half(const uint16_t *p, int64_t remaining) {
    if (remaining >= CK_W) return v_load_half(p);
    uint16_t tail[CK_W] = {0};
    memcpy(tail, p, (size_t)remaining * sizeof(uint16_t));
    return v_load_half(tail);
}

// Scores of R query heads (rows of q, D apart) against n keys, each key row loaded once: per head h_dot's loads,
// products and sums in h_dot's order, so each score has the bits of scale · h_dot(D, q_h, key).
CK_INLINE void h_decode_scores(const int R, const int half, int64_t n, int64_t D, float scale, const float *q,
                               const float *k, const uint16_t *k16, float *out) {
    for (int64_t j = 0; j < n; j++) {
        vf sum0[CK_DECODE_HEADS], sum1[CK_DECODE_HEADS];
        for (int h = 0; h < R; h++) sum0[h] = sum1[h] = v_zero();
        int64_t i = 0;
        for (; i + 2 * CK_W <= D; i += 2 * CK_W) {
            const vf ka = half ? v_load_half(k16 + j * D + i) : v_loadu(k + j * D + i);
            const vf kb = half ? v_load_half(k16 + j * D + i + CK_W) : v_loadu(k + j * D + i + CK_W);
            for (int h = 0; h < R; h++) {
                sum0[h] = v_fmadd(v_loadu(q + h * D + i), ka, sum0[h]);
                sum1[h] = v_fmadd(v_loadu(q + h * D + i + CK_W), kb, sum1[h]);
            }
        }
        for (; i < D; i += CK_W) {
            const vf ka = half ? h_load_half(k16 + j * D + i, D - i) : h_load(k + j * D + i, D - i);
            for (int h = 0; h < R; h++) sum0[h] = v_fmadd(h_load(q + h * D + i, D - i), ka, sum0[h]);
        }
        for (int h = 0; h < R; h++) out[h * n + j] = scale * v_reduce_add(v_add(sum0[h], sum1[h]));
    }
}

// Outputs of R query heads: Σ_j P[h·n + j] · value j, each value row loaded once per block of columns; per head and
// lane the one-row tile's sum (h_matmul_tile: from 0, in key order, one FMA per key), so the same bits.
CK_INLINE void h_decode_values(const int R, const int half, int64_t n, int64_t D, const float *P, const float *v,
                               const uint16_t *v16, float *out) {
    for (int64_t c = 0; c < D; c += CK_NV * CK_W) {
        // Vectors of this block that hold columns (fewer than CK_NV only in a last block of a narrow head).
        const int vectors = D - c >= CK_NV * CK_W ? CK_NV : (int)((D - c + CK_W - 1) / CK_W);
        vf acc[CK_DECODE_HEADS][CK_NV];
        for (int h = 0; h < R; h++)
            for (int w = 0; w < CK_NV; w++) acc[h][w] = v_zero();
        for (int64_t j = 0; j < n; j++) {
            vf values[CK_NV];
            for (int w = 0; w < vectors; w++) {
                const int64_t left = D - c - w * CK_W;
                values[w] = half ? h_load_half(v16 + j * D + c + w * CK_W, left) : h_load(v + j * D + c + w * CK_W, left);
            }
            for (int h = 0; h < R; h++) {
                const vf p = v_set1(P[h * n + j]);
                for (int w = 0; w < vectors; w++) acc[h][w] = v_fmadd(p, values[w], acc[h][w]);
            }
        }
        for (int h = 0; h < R; h++)
            for (int w = 0; w < vectors; w++) h_store(out + h * D + c + w * CK_W, acc[h][w], D - c - w * CK_W);
    }
}

static void CK_SUFFIX(attention_decode_scores)(int64_t g, int64_t n, int64_t D, float scale, const float *q, const float *k,
                                               const uint16_t *k16, float *out) {
    const int half = k16 != NULL;
    switch (g) {
    case 1: half ? h_decode_scores(1, 1, n, D, scale, q, k, k16, out) : h_decode_scores(1, 0, n, D, scale, q, k, k16, out); break;
    case 2: half ? h_decode_scores(2, 1, n, D, scale, q, k, k16, out) : h_decode_scores(2, 0, n, D, scale, q, k, k16, out); break;
    case 3: half ? h_decode_scores(3, 1, n, D, scale, q, k, k16, out) : h_decode_scores(3, 0, n, D, scale, q, k, k16, out); break;
    default: half ? h_decode_scores(4, 1, n, D, scale, q, k, k16, out) : h_decode_scores(4, 0, n, D, scale, q, k, k16, out); break;
    }
}

static void CK_SUFFIX(attention_decode_values)(int64_t g, int64_t n, int64_t D, const float *P, const float *v,
                                               const uint16_t *v16, float *out) {
    const int half = v16 != NULL;
    switch (g) {
    case 1: half ? h_decode_values(1, 1, n, D, P, v, v16, out) : h_decode_values(1, 0, n, D, P, v, v16, out); break;
    case 2: half ? h_decode_values(2, 1, n, D, P, v, v16, out) : h_decode_values(2, 0, n, D, P, v, v16, out); break;
    case 3: half ? h_decode_values(3, 1, n, D, P, v, v16, out) : h_decode_values(3, 0, n, D, P, v, v16, out); break;
    default: half ? h_decode_values(4, 1, n, D, P, v, v16, out) : h_decode_values(4, 0, n, D, P, v, v16, out); break;
    }
}

// ---- Products

// One register tile of C = alpha X Y (+ C): R rows × CK_NV vectors of columns, n of them valid (all when full).
// X(r, k) = X[r·sr + k·sk] is read by broadcasts and Y rows are contiguous, so nothing is packed. R and full are
// constants at every call site; inlining turns the loops over them into straight-line register code.
CK_INLINE void h_matmul_tile(const int R, const int full, int64_t n, int64_t K, const vf *alpha, const float *X,
                             int64_t sr, int64_t sk, const float *Y, int64_t ldy, float *C, int64_t ldc,
                             int accumulate) {
    vf acc[CK_MR][CK_NV];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < CK_NV; v++) acc[r][v] = v_zero();
    // The k loop spells out its rows and vectors (the conditions are constants once inlined) rather than looping
    // over them: unoptimised builds then address yv and acc at constant offsets, with no loop counters in memory.
    _Static_assert(CK_MR <= 4 && CK_NV <= 4, "the k loop spells out up to 4 rows and 4 vectors");
#define CK_LOAD(v)                                                                                             \
    if (v < CK_NV) yv[v] = full ? v_loadu(y + v * CK_W) : v_load_partial(y + v * CK_W, n - v * CK_W);
#define CK_FMA(r, v)                                                                                           \
    if (v < CK_NV) acc[r][v] = v_fmadd(xr, yv[v], acc[r][v]);
#define CK_ROW(r)                                                                                              \
    if (r < R) {                                                                                               \
        const vf xr = v_set1(x[r * sr]);                                                                       \
        CK_FMA(r, 0) CK_FMA(r, 1) CK_FMA(r, 2) CK_FMA(r, 3)                                                    \
    }
    for (int64_t k = 0; k < K; k++) {
        const float *y = Y + k * ldy, *x = X + k * sk;
        vf yv[CK_NV];
        CK_LOAD(0) CK_LOAD(1) CK_LOAD(2) CK_LOAD(3)
        CK_ROW(0) CK_ROW(1) CK_ROW(2) CK_ROW(3)
    }
#undef CK_ROW
#undef CK_FMA
#undef CK_LOAD
    for (int r = 0; r < R; r++) {
        float *c = C + r * ldc;
        for (int v = 0; v < CK_NV; v++) {
            int64_t left = full ? CK_W : n - v * CK_W;
            if (left <= 0) break;
            vf out = v_mul(*alpha, acc[r][v]);
            if (accumulate) out = v_add(out, h_load(c + v * CK_W, left));
            h_store(c + v * CK_W, out, left);
        }
    }
}

// Register tiles of `rows` rows [r, r + rows) of C = alpha X Y (+ C), restricted by the causal band.
CK_INLINE void h_matmul_rows(const int R, int64_t r, int64_t n, int64_t K, const vf *alpha, const float *X,
                             int64_t sr, int64_t sk, const float *Y, int64_t ldy, float *C, int64_t ldc,
                             int accumulate, int band, int64_t diagonal) {
    int64_t columns = n, k_begin = 0, k_end = K;
    if (band == CK_BAND_COLUMNS) columns = r + R - 1 + diagonal < n ? r + R - 1 + diagonal : n;
    if (band == CK_BAND_REDUCTION_END) k_end = r + R - 1 + diagonal < K ? r + R - 1 + diagonal : K;
    if (band == CK_BAND_REDUCTION_START) k_begin = r + 1 - diagonal > 0 ? r + 1 - diagonal : 0;
    if (columns <= 0 || (accumulate && k_end <= k_begin)) return;
    if (k_end < k_begin) k_end = k_begin;  // nothing to add: the tile stores zeros
    const int64_t block = CK_NV * CK_W;
    X += r * sr + k_begin * sk;
    Y += k_begin * ldy;
    C += r * ldc;
    int64_t c = 0;
    for (; c + block <= columns; c += block)
        h_matmul_tile(R, 1, block, k_end - k_begin, alpha, X, sr, sk, Y + c, ldy, C + c, ldc, accumulate);
    if (c < columns)
        h_matmul_tile(R, 0, columns - c, k_end - k_begin, alpha, X, sr, sk, Y + c, ldy, C + c, ldc, accumulate);
}

// C (rows × n) = alpha X Y (+ C when accumulate), X rows × K (or stored K × rows when transposed_x), Y K × n.
static void CK_SUFFIX(attention_matmul)(int transposed_x, int64_t rows, int64_t n, int64_t K, float alpha,
                                        const float *X, int64_t ldx, const float *Y, int64_t ldy, float *C,
                                        int64_t ldc, int accumulate, int band, int64_t diagonal) {
    int64_t sr = transposed_x ? 1 : ldx, sk = transposed_x ? ldx : 1;
    vf va = v_set1(alpha);
    int64_t r = 0;
    for (; r + CK_MR <= rows; r += CK_MR)
        h_matmul_rows(CK_MR, r, n, K, &va, X, sr, sk, Y, ldy, C, ldc, accumulate, band, diagonal);
    for (; r < rows; r++) h_matmul_rows(1, r, n, K, &va, X, sr, sk, Y, ldy, C, ldc, accumulate, band, diagonal);
}

const ck_attention_row_kernels CK_SUFFIX(ck_attention_rows) = {
    CK_SUFFIX(attention_softmax_row), CK_SUFFIX(attention_probability_gradient_row), h_dot,
    CK_SUFFIX(attention_decode_scores), CK_SUFFIX(attention_decode_values), CK_SUFFIX(attention_matmul)};
