// Portable dot products for the quantized kernels: plain C over whole blocks (integer sums within a block, one
// float multiply-add per block), the definition the vector variants are tested against.
#include "quant_internal.h"

static float ck_qdot_q8_0_portable(int64_t blocks, const void *w, const ck_q8_activation *a) {
    const ck_block_q8_0 *b = w;
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++) {
        int32_t dot = 0;
        for (int j = 0; j < 32; j++) dot += b[i].qs[j] * a[i].qs[j];
        sum += ck_half_to_float(ck_load_half(&b[i].d)) * a[i].d * (float)dot;
    }
    return sum;
}

static float ck_qdot_q4_0_portable(int64_t blocks, const void *w, const ck_q8_activation *a) {
    const ck_block_q4_0 *b = w;
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++) {
        int32_t dot = 0;
        for (int j = 0; j < 16; j++) {
            dot += ((b[i].qs[j] & 0x0F) - 8) * a[i].qs[j];
            dot += ((b[i].qs[j] >> 4) - 8) * a[i].qs[j + 16];
        }
        sum += ck_half_to_float(ck_load_half(&b[i].d)) * a[i].d * (float)dot;
    }
    return sum;
}

static float ck_qdot_q4_1_portable(int64_t blocks, const void *w, const ck_q8_activation *a) {
    // Σ (d·q + m)·(da·qa) = d·da·Σ q·qa + m·(da·Σ qa), the last factor being the activation block's s.
    const ck_block_q4_1 *b = w;
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++) {
        int32_t dot = 0;
        for (int j = 0; j < 16; j++) {
            dot += (b[i].qs[j] & 0x0F) * a[i].qs[j];
            dot += (b[i].qs[j] >> 4) * a[i].qs[j + 16];
        }
        sum += ck_half_to_float(ck_load_half(&b[i].d)) * a[i].d * (float)dot
             + ck_half_to_float(ck_load_half(&b[i].m)) * a[i].s;
    }
    return sum;
}

// Q5_0 and Q5_1 (`offset`, a compile-time constant: Q5_1's d·q + m, else Q5_0's d·(q − 16)): Q4_0's and Q4_1's
// sums with the fifth bit (bit j of the block's qh word, element j's) above each nibble.
static inline float ck_qdot_q5_portable(int64_t blocks, const void *w, const ck_q8_activation *a, const int offset) {
    const int64_t stride = offset ? sizeof(ck_block_q5_1) : sizeof(ck_block_q5_0);
    const int bias = offset ? 0 : 16;
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *block = (const uint8_t *)w + i * stride, *qs = block + (offset ? 8 : 6);
        const uint32_t qh = ck_q5_high_bits(block + (offset ? 4 : 2));
        int32_t dot = 0;
        for (int j = 0; j < 16; j++) {
            dot += (((qs[j] & 0x0F) | ((qh >> j) & 1) << 4) - bias) * a[i].qs[j];
            dot += (((qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - bias) * a[i].qs[j + 16];
        }
        const float d = ck_half_to_float(ck_load_half(block));
        if (offset) sum += d * a[i].d * (float)dot + ck_half_to_float(ck_load_half(block + 2)) * a[i].s;
        else sum += d * a[i].d * (float)dot;
    }
    return sum;
}

static float ck_qdot_q5_0_portable(int64_t blocks, const void *w, const ck_q8_activation *a) {
    return ck_qdot_q5_portable(blocks, w, a, 0);
}

static float ck_qdot_q5_1_portable(int64_t blocks, const void *w, const ck_q8_activation *a) {
    return ck_qdot_q5_portable(blocks, w, a, 1);
}

// Q4_K and Q5_K (`five`: Q4_K's fields plus fifth bits, bit j of qh[l] for element 32j + l): sub-block j (32
// elements) meets activation block j, Σ (d·sc·q − dmin·m)·(da·qa) = d·sc·da·Σ q·qa − dmin·m·s.
static inline float ck_qdot_k_portable(int64_t blocks, const uint8_t *w, const ck_q8_activation *a, const int five) {
    const int64_t stride = five ? sizeof(ck_block_q5_K) : sizeof(ck_block_q4_K);
    float sum = 0;
    for (int64_t i = 0; i < blocks / 8; i++, a += 8) {
        const uint8_t *block = w + i * stride, *qh = block + 16, *nibbles = block + (five ? 48 : 16);
        const float d = ck_half_to_float(ck_load_half(block)), dmin = ck_half_to_float(ck_load_half(block + 2));
        uint8_t scales[8], mins[8];
        ck_q4_K_scales(block + 4, scales, mins);
        for (int j = 0; j < 8; j++) {
            const uint8_t *qs = nibbles + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            int32_t dot = 0;
            for (int l = 0; l < 32; l++) {
                const int q = ((qs[l] >> shift) & 0x0F) | (five ? ((qh[l] >> j) & 1) << 4 : 0);
                dot += q * a[j].qs[l];
            }
            sum += d * scales[j] * a[j].d * (float)dot - dmin * mins[j] * a[j].s;
        }
    }
    return sum;
}

static float ck_qdot_q4_K_portable(int64_t blocks, const void *w, const ck_q8_activation *a) {
    return ck_qdot_k_portable(blocks, w, a, 0);
}

static float ck_qdot_q5_K_portable(int64_t blocks, const void *w, const ck_q8_activation *a) {
    return ck_qdot_k_portable(blocks, w, a, 1);
}

static float ck_qdot_q6_K_portable(int64_t blocks, const void *w, const ck_q8_activation *a) {
    // Activation block 4h + k covers the 16-element sub-blocks 2(4h + k) and 2(4h + k) + 1:
    // Σ d·sc·(q − 32)·(da·qa) = d·da·(sc_lo·Σ_lo (q − 32)·qa + sc_hi·Σ_hi (q − 32)·qa), the bracket an exact integer.
    const ck_block_q6_K *b = w;
    float sum = 0;
    for (int64_t i = 0; i < blocks / 8; i++) {
        const float d = ck_half_to_float(ck_load_half(&b[i].d));
        for (int j = 0; j < 8; j++, a++) {
            const int h = j / 4, k = j % 4;
            int32_t dot[2] = {0, 0};
            for (int l = 0; l < 32; l++) dot[l / 16] += (ck_q6_K_q(b[i].ql + 64 * h, b[i].qh + 32 * h, k, l) - 32) * a->qs[l];
            sum += d * a->d * (float)(b[i].scales[2 * j] * dot[0] + b[i].scales[2 * j + 1] * dot[1]);
        }
    }
    return sum;
}

// F16 and BF16 rows: eight partial sums over k mod 8, added at the end.
static inline float ck_wide_dot_portable(int64_t K, const uint16_t *w, const float *x, float (*widen)(uint16_t)) {
    float partial[8] = {0};
    int64_t k = 0;
    for (; k + 8 <= K; k += 8)
        for (int l = 0; l < 8; l++) partial[l] += widen(w[k + l]) * x[k + l];
    for (int l = 0; k + l < K; l++) partial[l] += widen(w[k + l]) * x[k + l];
    float sum = 0;
    for (int l = 0; l < 8; l++) sum += partial[l];
    return sum;
}

static float ck_hdot_portable(int64_t K, const uint16_t *w, const float *x) {
    return ck_wide_dot_portable(K, w, x, ck_half_to_float);
}

static float ck_bdot_portable(int64_t K, const uint16_t *w, const float *x) {
    return ck_wide_dot_portable(K, w, x, ck_bf16_to_float);
}

static void ck_q_decode_portable(int type, const void *blocks, int64_t count, float *y) {
    ck_q_decode_rows(type, blocks, count, y);
}

const ck_quant_kernels *ck_quant_kernels_portable(void) {
    static const ck_quant_kernels kernels = {
        .name = "portable", .q8_0 = ck_qdot_q8_0_portable, .q4_0 = ck_qdot_q4_0_portable,
        .q4_1 = ck_qdot_q4_1_portable, .q5_0 = ck_qdot_q5_0_portable, .q5_1 = ck_qdot_q5_1_portable,
        .q4_K = ck_qdot_q4_K_portable, .q5_K = ck_qdot_q5_K_portable,
        .q6_K = ck_qdot_q6_K_portable, .f16 = ck_hdot_portable,
        .bf16 = ck_bdot_portable, .decode = ck_q_decode_portable,
    };
    return &kernels;
}
