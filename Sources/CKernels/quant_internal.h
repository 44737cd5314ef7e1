// Private to the quantized-kernel files: ggml's block layouts, half-precision conversions, and the per-path table
// of dot products.
#ifndef CHARTER_QUANT_INTERNAL_H
#define CHARTER_QUANT_INTERNAL_H
#include "ck_quant.h"
#include <stdint.h>
#include <string.h>

// ggml's blocks (ggml-common.h), byte for byte: the scales are IEEE halves, little-endian.
typedef struct {
    uint16_t d;
    int8_t qs[32];
} ck_block_q8_0;
typedef struct {
    uint16_t d;
    uint8_t qs[16];  // byte j: element j in the low nibble, element j + 16 in the high one
} ck_block_q4_0;
typedef struct {
    uint16_t d, m;
    uint8_t qs[16];
} ck_block_q4_1;
typedef struct {
    uint16_t d;
    uint8_t qh[4];   // bit j (little-endian): element j's fifth bit
    uint8_t qs[16];  // as Q4_0's: element j's low four bits in the low nibble of byte j, element j + 16's in the high one
} ck_block_q5_0;
typedef struct {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[16];
} ck_block_q5_1;
/// Q4_K's superblock: 256 elements in 8 sub-blocks of 32, element = d·scale_j·q − dmin·min_j with 6-bit scales and
/// mins packed in 12 bytes (ck_q4_K_scales). Nibble byte 32p + l: element 64p + l (sub-block 2p) in the low nibble,
/// element 64p + 32 + l (sub-block 2p + 1) in the high one.
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qs[128];
} ck_block_q4_K;
/// Q5_K's superblock: Q4_K's with a fifth bit per element, element 32j + l's in bit j of qh[l];
/// element = d·scale_j·q − dmin·min_j, q in 0…31.
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[32];
    uint8_t qs[128];
} ck_block_q5_K;
/// Q6_K's superblock: 256 elements in 16 sub-blocks of 16, element = d·scales[j]·(q − 32) with q in 0…63 and a signed
/// 8-bit scale per sub-block. Each half h of 128 elements reads ql[64h…64h + 63] and qh[32h…32h + 31]: element
/// 128h + 32k + l (k < 4, l < 32) has its low four bits in the low (k < 2) or high (k ≥ 2) nibble of
/// ql[64h + 32·(k mod 2) + l] and its top two in bits 2k, 2k + 1 of qh[32h + l].
typedef struct {
    uint8_t ql[128];
    uint8_t qh[64];
    int8_t scales[16];
    uint16_t d;
} ck_block_q6_K;
_Static_assert(sizeof(ck_block_q5_K) == 176, "ggml's block_q5_K is 176 bytes");
_Static_assert(sizeof(ck_block_q6_K) == 210, "ggml's block_q6_K is 210 bytes");
_Static_assert(sizeof(ck_block_q8_0) == 34, "ggml's block_q8_0 is 34 bytes");
_Static_assert(sizeof(ck_block_q4_K) == 144, "ggml's block_q4_K is 144 bytes");
_Static_assert(sizeof(ck_block_q4_0) == 18, "ggml's block_q4_0 is 18 bytes");
_Static_assert(sizeof(ck_block_q4_1) == 20, "ggml's block_q4_1 is 20 bytes");
_Static_assert(sizeof(ck_block_q5_0) == 22, "ggml's block_q5_0 is 22 bytes");
_Static_assert(sizeof(ck_block_q5_1) == 24, "ggml's block_q5_1 is 24 bytes");

static inline uint32_t ck_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float ck_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// Exact half → float (the FP16 library's fp16_ieee_to_fp32_value, which ggml uses without F16C).
static inline float ck_half_to_float(uint16_t h) {
    const uint32_t w = (uint32_t)h << 16, sign = w & 0x80000000u, twice = w + w;
    const float normalized = ck_from_bits((twice >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    const float denormalized = ck_from_bits((twice >> 17) | (126u << 23)) - 0.5f;
    return ck_from_bits(sign | (twice < (1u << 27) ? ck_bits(denormalized) : ck_bits(normalized)));
}

// Float → half, rounding to nearest even (the FP16 library's fp16_ieee_from_fp32_value, as ggml and numpy round).
static inline uint16_t ck_float_to_half(float f) {
    float base = (__builtin_fabsf(f) * 0x1.0p+112f) * 0x1.0p-110f;
    const uint32_t w = ck_bits(f), twice = w + w, sign = w & 0x80000000u;
    uint32_t bias = twice & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = ck_from_bits((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = ck_bits(base);
    const uint32_t nonsign = ((bits >> 13) & 0x00007C00u) + (bits & 0x00000FFFu);
    return (uint16_t)((sign >> 16) | (twice > 0xFF000000u ? 0x7E00u : nonsign));
}

// Float → bfloat16 as ggml's ggml_compute_fp32_to_bf16: round to nearest even (subnormals too, overflow to
// infinity); a NaN keeps its sign and top payload bits and is made quiet. (gemm_internal.h's ck_bf16_bits rounds
// the same way but returns PyTorch's canonical NaN, which the bf16 GEMM needs; these bytes must be ggml's.)
static inline uint16_t ck_float_to_bf16(float f) {
    const uint32_t u = ck_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// bfloat16 → float: the upper half of the float's bits.
static inline float ck_bf16_to_float(uint16_t h) { return ck_from_bits((uint32_t)h << 16); }

// Q4_K's 8 sub-block scales and 8 mins (6 bits each) from the superblock's 12 packed bytes, as ggml's
// get_scale_min_k4 defines them: bytes 0..3 hold scales 0..3 and bytes 4..7 mins 0..3 in their low six bits; scales
// and mins 4..7 take their low four bits from the low and high nibbles of bytes 8..11 and their top two from the
// spare top bits of bytes 0..3 (scales) and 4..7 (mins). Four bytes at a time (little-endian words).
static inline void ck_q4_K_scales(const uint8_t packed[12], uint8_t scales[8], uint8_t mins[8]) {
    uint32_t word[3];
    memcpy(word, packed, 12);
    const uint32_t low6 = 0x3f3f3f3fu, low4 = 0x0f0f0f0fu, low2 = 0x03030303u;
    const uint32_t scales03 = word[0] & low6, mins03 = word[1] & low6;
    const uint32_t scales47 = (word[2] & low4) | ((word[0] >> 6) & low2) << 4;
    const uint32_t mins47 = ((word[2] >> 4) & low4) | ((word[1] >> 6) & low2) << 4;
    memcpy(scales, &scales03, 4);
    memcpy(scales + 4, &scales47, 4);
    memcpy(mins, &mins03, 4);
    memcpy(mins + 4, &mins47, 4);
}

static inline uint16_t ck_load_half(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

// Q5_0's and Q5_1's 32 fifth bits as one little-endian word (bit j: element j's), as ggml reads them (memcpy).
static inline uint32_t ck_q5_high_bits(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

// Q6_K element 128h + 32k + l's six-bit q (0…63), k < 4, l < 32: the half's ql and qh as ck_block_q6_K describes them.
static inline int ck_q6_K_q(const uint8_t *ql, const uint8_t *qh, int k, int l) {
    return ((ql[32 * (k & 1) + l] >> (4 * (k >> 1))) & 0x0F) | ((qh[l] >> (2 * k)) & 3) << 4;
}

// ggml's dequantize_row_q4_K/q5_K (`five`, a compile-time constant in every caller) for one superblock: per sub-block
// (d·scale)·q − dmin·min as a product and a difference, each rounded (two statements, so no fused multiply-add), in
// loops of constant shifts that the compiler vectorises for each path's instruction set (every instantiation gives
// the same bits: the same two IEEE operations per element).
__attribute__((always_inline)) static inline void ck_q_decode_k4(const uint8_t *block, const int five, float *y) {
    const float d = ck_half_to_float(ck_load_half(block)), dmin = ck_half_to_float(ck_load_half(block + 2));
    const uint8_t *qh = block + 16, *nibbles = block + (five ? 48 : 16);
    uint8_t scales[8], mins[8];
    ck_q4_K_scales(block + 4, scales, mins);
    for (int p = 0; p < 4; p++) {
        const float scale0 = d * scales[2 * p], offset0 = dmin * mins[2 * p];
        const float scale1 = d * scales[2 * p + 1], offset1 = dmin * mins[2 * p + 1];
        const uint8_t *qs = nibbles + 32 * p;
        for (int l = 0; l < 32; l++) {
            const int q0 = (qs[l] & 0x0F) | (five ? ((qh[l] >> (2 * p)) & 1) << 4 : 0);
            const int q1 = (qs[l] >> 4) | (five ? ((qh[l] >> (2 * p + 1)) & 1) << 4 : 0);
            const float scaled0 = scale0 * (float)q0, scaled1 = scale1 * (float)q1;
            y[64 * p + l] = scaled0 - offset0;
            y[64 * p + 32 + l] = scaled1 - offset1;
        }
    }
}

// ggml's dequantize_row_q6_K for one superblock: (d·scale)·(q − 32), in ggml's order (d·scale is exact), in loops of
// 16 elements sharing their four scales, vectorised as ck_q_decode_k4 is.
__attribute__((always_inline)) static inline void ck_q_decode_q6_K(const ck_block_q6_K *b, float *y) {
    const float d = ck_half_to_float(ck_load_half(&b->d));
    for (int h = 0; h < 2; h++, y += 128) {
        const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        for (int half = 0; half < 2; half++) {
            const int8_t *sc = b->scales + 8 * h + half;
            const float s0 = d * sc[0], s1 = d * sc[2], s2 = d * sc[4], s3 = d * sc[6];
            for (int l = 16 * half; l < 16 * half + 16; l++) {
                y[l] = s0 * (float)(((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32);
                y[l + 32] = s1 * (float)(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
                y[l + 64] = s2 * (float)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                y[l + 96] = s3 * (float)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
    }
}

// ggml's dequantize_row_q5_0 and dequantize_row_q5_1 (`offset`, a compile-time constant in every caller: Q5_1's
// d·q + m, else Q5_0's d·(q − 16)) for one block: Q5_1's product and sum as two statements (no fused multiply-add),
// vectorised for each path's instruction set as ck_q_decode_k4 is.
__attribute__((always_inline)) static inline void ck_q_decode_q5(const uint8_t *block, const int offset, float *y) {
    const float d = ck_half_to_float(ck_load_half(block)), m = offset ? ck_half_to_float(ck_load_half(block + 2)) : 0;
    const uint32_t qh = ck_q5_high_bits(block + (offset ? 4 : 2));
    const uint8_t *qs = block + (offset ? 8 : 6);
    for (int j = 0; j < 16; j++) {
        const int low = (qs[j] & 0x0F) | ((qh >> j) & 1) << 4, high = (qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
        if (offset) {
            const float scaledLow = low * d, scaledHigh = high * d;
            y[j] = scaledLow + m;
            y[j + 16] = scaledHigh + m;
        } else {
            y[j] = (low - 16) * d;
            y[j + 16] = (high - 16) * d;
        }
    }
}

/// Whether the prefill slabs decode `type` through the active path's vectorised decoder (ck_quant_kernels.decode):
/// the k-quants, Q5_0 and Q5_1, whose bit unpacking the compiler vectorises only with the path's instruction set.
static inline int ck_q_decoded_per_path(int type) {
    return type == CK_QTYPE_Q4_K || type == CK_QTYPE_Q5_K || type == CK_QTYPE_Q6_K || type == CK_QTYPE_Q5_0 || type == CK_QTYPE_Q5_1;
}

// Those formats' rows (`count` elements, a multiple of the block size) decoded with the helpers above; each path
// instantiates it for its instruction set (ck_quant_kernels.decode), and ck_q_dequantize calls it too.
__attribute__((always_inline)) static inline void ck_q_decode_rows(int type, const void *blocks, int64_t count, float *y) {
    if (type == CK_QTYPE_Q5_0 || type == CK_QTYPE_Q5_1) {
        const int offset = type == CK_QTYPE_Q5_1;
        const int64_t bytes = offset ? sizeof(ck_block_q5_1) : sizeof(ck_block_q5_0);
        for (int64_t i = 0; i < count / 32; i++, y += 32) {
            if (offset) ck_q_decode_q5((const uint8_t *)blocks + i * bytes, 1, y);
            else ck_q_decode_q5((const uint8_t *)blocks + i * bytes, 0, y);
        }
        return;
    }
    for (int64_t i = 0; i < count / 256; i++, y += 256) {
        switch (type) {
        case CK_QTYPE_Q4_K: ck_q_decode_k4((const uint8_t *)blocks + i * sizeof(ck_block_q4_K), 0, y); break;
        case CK_QTYPE_Q5_K: ck_q_decode_k4((const uint8_t *)blocks + i * sizeof(ck_block_q5_K), 1, y); break;
        default: ck_q_decode_q6_K((const ck_block_q6_K *)blocks + i, y); break;
        }
    }
}
typedef void (*ck_qdecode)(int type, const void *blocks, int64_t count, float *y);

/// Dot product of one weight row with the `blocks` activation blocks (32 elements each) of one input row; the
/// weight row holds `blocks` blocks of a 32-element format, or blocks / 8 superblocks of a 256-element one.
typedef float (*ck_qdot)(int64_t blocks, const void *w, const ck_q8_activation *a);
/// Dot product of one F16 or BF16 weight row of K elements with K floats.
typedef float (*ck_hdot)(int64_t K, const uint16_t *w, const float *x);

/// Most input rows one call of a multi-row dot product takes.
enum { CK_Q_ROWS = 8 };

/// How far ahead (bytes) the multi-row F16 and BF16 kernels prefetch their weight row into L1. A batched decoding
/// step streams every weight once; on the 2-core Zen 4 VM the hardware prefetcher alone left the 8-row F16 kernel
/// waiting on the weight loads (45% of its samples on one vcvtph2ps), and 1 KiB ahead gave 1.17–1.30× batch-8 decode
/// tokens/s on AVX-512 and 1.04–1.30× on AVX2. The one-row kernels do not prefetch: there it made batch-1 decoding slower.
enum { CK_WIDE_PREFETCH_BYTES = 1024 };

/// The M input rows' activation blocks, and the same values laid out for the multi-row dot products (built once
/// per ck_qgemm call): each row's block pairs as 64 contiguous bytes (one 512-bit load), each pair's scales as a
/// vector [d_i ×8, d_{i+1} ×8], and the block sums s transposed so that the rows of one block sit side by side.
typedef struct {
    int64_t M, blocks;
    const ck_q8_activation *a;  // (M, blocks)
    const int8_t *pairs;        // (M, blocks / 2, 64): blocks 2p and 2p + 1's qs back to back
    const float *pairScales;    // (M, blocks / 2, 16): block 2p's d in lanes 0..7, block 2p + 1's in 8..15
    const float *sums;          // (blocks, M): block i's s for each row
} ck_q8_rows;

/// y[r · ldy] = the one-row dot product of one weight row with input row m0 + r, for r < rows (2 ≤ rows ≤
/// CK_Q_ROWS): each weight block pair is decoded once for all the rows, and every output runs the one-row
/// kernel's operations in the one-row kernel's order, so the bits are the same.
typedef void (*ck_qdot_rows)(const void *w, const ck_q8_rows *a, int64_t m0, int64_t rows, float *y, int64_t ldy);

/// y[r · ldy] = the one-row F16 (BF16) dot product of one weight row with x's row r (row stride ldx), for r < rows
/// (2 ≤ rows ≤ CK_Q_ROWS): each group of halves is widened once for all the rows, the one-row kernel's operations
/// and order otherwise, so the bits are the same.
typedef void (*ck_hdot_rows)(int64_t K, const uint16_t *w, const float *x, int64_t ldx, int64_t rows, float *y,
                             int64_t ldy);

/// One instruction-set variant of the dot products. The multi-row entries are NULL where the variant has none
/// (the product then calls the one-row kernel per input row).
typedef struct {
    const char *name;
    ck_qdot q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K, q6_K;
    ck_hdot f16, bf16;
    ck_qdot_rows q8_0_rows, q4_0_rows, q4_1_rows, q5_0_rows, q5_1_rows, q4_K_rows, q5_K_rows, q6_K_rows;
    ck_hdot_rows f16_rows, bf16_rows;
    ck_qdecode decode;  // the k-quants' and Q5_0's and Q5_1's decoding (ck_q_decode_rows) for the prefill slabs
} ck_quant_kernels;

const ck_quant_kernels *ck_quant_kernels_portable(void);
#if defined(__x86_64__)
const ck_quant_kernels *ck_quant_kernels_avx2(void);
const ck_quant_kernels *ck_quant_kernels_avx512(void);
const ck_quant_kernels *ck_quant_kernels_avx512_vnni(void);
#endif

#endif
