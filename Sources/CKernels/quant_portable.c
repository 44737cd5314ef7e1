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

static float ck_hdot_portable(int64_t K, const uint16_t *w, const float *x) {
    float partial[8] = {0};
    int64_t k = 0;
    for (; k + 8 <= K; k += 8)
        for (int l = 0; l < 8; l++) partial[l] += ck_half_to_float(w[k + l]) * x[k + l];
    for (int l = 0; k + l < K; l++) partial[l] += ck_half_to_float(w[k + l]) * x[k + l];
    float sum = 0;
    for (int l = 0; l < 8; l++) sum += partial[l];
    return sum;
}

const ck_quant_kernels *ck_quant_kernels_portable(void) {
    static const ck_quant_kernels kernels = {
        .name = "portable", .q8_0 = ck_qdot_q8_0_portable, .q4_0 = ck_qdot_q4_0_portable,
        .q4_1 = ck_qdot_q4_1_portable, .f16 = ck_hdot_portable,
    };
    return &kernels;
}
