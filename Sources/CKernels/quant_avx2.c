// AVX2 dot products for the quantized kernels, after ggml's vec_dot_q*_q8_* (ggml-cpu/arch/x86/quants.c): a block's
// 32 weight and 32 activation bytes meet in one 256-bit register pair; the signed × signed byte products are
// formed as |w| · (a with w's sign) so that vpmaddubsw (unsigned × signed) applies, pairs summed to 16 bits then to
// 32 with vpmaddwd, and the block's integer sums scaled by the product of the two block scales (for Q4_K, of the
// superblock's d, the sub-block's 6-bit scale and the activation block's d).
#include "quant_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_AVX2_Q __attribute__((target("avx2,fma,f16c")))

// Eight 32-bit sums of Σ w·a over byte lanes, w and a signed.
CK_AVX2_Q static inline __m256i ck_q_dot_i8(__m256i w, __m256i a) {
    const __m256i magnitudes = _mm256_sign_epi8(w, w), signedA = _mm256_sign_epi8(a, w);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(magnitudes, signedA), _mm256_set1_epi16(1));
}

// Eight 32-bit sums of Σ w·a, w unsigned (nibbles), a signed.
CK_AVX2_Q static inline __m256i ck_q_dot_u8(__m256i w, __m256i a) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1));
}

// The 32 nibbles of a Q4 block as bytes: low nibbles (elements 0..15) then high nibbles (16..31).
CK_AVX2_Q static inline __m256i ck_q_nibbles(const uint8_t *qs) {
    const __m128i packed = _mm_loadu_si128((const __m128i *)qs);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

CK_AVX2_Q static inline float ck_q_hsum(__m256 x) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

CK_AVX2_Q static float ck_qdot_q8_0_avx2(int64_t blocks, const void *w, const ck_q8_activation *a) {
    const ck_block_q8_0 *b = w;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; i++) {
        const __m256 scale = _mm256_set1_ps(_cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d);
        const __m256i dot = ck_q_dot_i8(_mm256_loadu_si256((const __m256i *)b[i].qs),
                                        _mm256_loadu_si256((const __m256i *)a[i].qs));
        acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot), acc);
    }
    return ck_q_hsum(acc);
}

CK_AVX2_Q static float ck_qdot_q4_0_avx2(int64_t blocks, const void *w, const ck_q8_activation *a) {
    const ck_block_q4_0 *b = w;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; i++) {
        const __m256 scale = _mm256_set1_ps(_cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d);
        const __m256i q = _mm256_sub_epi8(ck_q_nibbles(b[i].qs), _mm256_set1_epi8(8));
        const __m256i dot = ck_q_dot_i8(q, _mm256_loadu_si256((const __m256i *)a[i].qs));
        acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot), acc);
    }
    return ck_q_hsum(acc);
}

CK_AVX2_Q static float ck_qdot_q4_1_avx2(int64_t blocks, const void *w, const ck_q8_activation *a) {
    const ck_block_q4_1 *b = w;
    __m256 acc = _mm256_setzero_ps();
    float offsets = 0;
    for (int64_t i = 0; i < blocks; i++) {
        const __m256 scale = _mm256_set1_ps(_cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d);
        const __m256i dot = ck_q_dot_u8(ck_q_nibbles(b[i].qs), _mm256_loadu_si256((const __m256i *)a[i].qs));
        acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot), acc);
        offsets += _cvtsh_ss(ck_load_half(&b[i].m)) * a[i].s;
    }
    return ck_q_hsum(acc) + offsets;
}

#define CK_QROWS_INLINE __attribute__((always_inline)) static inline

// Q5_0's and Q5_1's fifth bits as bytes (ggml's bytes_from_bits_32): 0xFF in byte lane j where bit j of the block's
// qh word is set. Lanes 0..7 take the word's byte 0, …, lanes 24..31 its byte 3; each lane ORs in every bit but its
// own (j mod 8), so it is all ones exactly when that bit is set.
CK_AVX2_Q CK_QROWS_INLINE __m256i ck_q5_high_bytes(const uint8_t *qh) {
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)ck_q5_high_bits(qh)),
                                               _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                                 0x0101010101010101, 0));
    return _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7FBFDFEFF7FBFDFE)), _mm256_set1_epi64x(-1));
}

// Q5_0 and Q5_1 (`offset`, a compile-time constant: Q5_1's d·q + m, else Q5_0's d·(q − 16)), after ggml's
// vec_dot_q5_0_q8_0 and vec_dot_q5_1_q8_1: R input rows (x: R rows of `blocks` activation blocks) against one weight
// row; each block's nibbles and fifth bits are joined (and Q5_0's sign split off) once for all the rows, and R = 1
// is the one-row kernel, so every row of a batch gets the one-row bits. Q5_0 is then Q4_0's signed product, with
// q − 16 formed as the nibble OR 0xF0 where the fifth bit is clear; Q5_1 is Q4_1's unsigned one plus m·s_x.
CK_AVX2_Q CK_QROWS_INLINE void ck_q5_rows_avx2(const void *w, const ck_q8_activation *x, int64_t blocks, const int R,
                                               const int offset, float *y, int64_t ldy) {
    const int64_t stride = offset ? sizeof(ck_block_q5_1) : sizeof(ck_block_q5_0);
    __m256 acc[CK_Q_ROWS];
    float offsets[CK_Q_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps(), offsets[r] = 0;
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *block = (const uint8_t *)w + i * stride;
        const float d = _cvtsh_ss(ck_load_half(block));
        const __m256i high = ck_q5_high_bytes(block + (offset ? 4 : 2)), nibbles = ck_q_nibbles(block + (offset ? 8 : 6));
        if (offset) {
            const __m256i q = _mm256_or_si256(nibbles, _mm256_and_si256(high, _mm256_set1_epi8(0x10)));
            for (int r = 0; r < R; r++) {
                const ck_q8_activation *row = x + r * blocks + i;
                const __m256i dot = ck_q_dot_u8(q, _mm256_loadu_si256((const __m256i *)row->qs));
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * row->d), _mm256_cvtepi32_ps(dot), acc[r]);
            }
            const float m = _cvtsh_ss(ck_load_half(block + 2));
            for (int r = 0; r < R; r++) offsets[r] += m * x[r * blocks + i].s;
        } else {
            const __m256i q = _mm256_or_si256(nibbles, _mm256_andnot_si256(high, _mm256_set1_epi8((char)0xF0)));
            const __m256i magnitudes = _mm256_sign_epi8(q, q);
            for (int r = 0; r < R; r++) {
                const ck_q8_activation *row = x + r * blocks + i;
                const __m256i signedA = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)row->qs), q);
                const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(magnitudes, signedA), _mm256_set1_epi16(1));
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * row->d), _mm256_cvtepi32_ps(dot), acc[r]);
            }
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = offset ? ck_q_hsum(acc[r]) + offsets[r] : ck_q_hsum(acc[r]);
}

CK_AVX2_Q static float ck_qdot_q5_0_avx2(int64_t blocks, const void *w, const ck_q8_activation *a) {
    float y;
    ck_q5_rows_avx2(w, a, blocks, 1, 0, &y, 1);
    return y;
}

CK_AVX2_Q static float ck_qdot_q5_1_avx2(int64_t blocks, const void *w, const ck_q8_activation *a) {
    float y;
    ck_q5_rows_avx2(w, a, blocks, 1, 1, &y, 1);
    return y;
}

// Eight F16 or BF16 weights widened to float32 (bf16 a compile-time constant in every caller): vcvtph2ps, or the
// bfloat16 bits moved to the top of each 32-bit lane.
CK_AVX2_Q CK_QROWS_INLINE __m256 ck_q_widen8(const uint16_t *w, const int bf16) {
    const __m128i halves = _mm_loadu_si128((const __m128i *)w);
    return bf16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(halves), 16)) : _mm256_cvtph_ps(halves);
}

CK_AVX2_Q CK_QROWS_INLINE float ck_q_widen1(uint16_t w, const int bf16) { return bf16 ? ck_bf16_to_float(w) : _cvtsh_ss(w); }

CK_AVX2_Q CK_QROWS_INLINE float ck_wide_dot_avx2(int64_t K, const uint16_t *w, const float *x, const int bf16) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        acc0 = _mm256_fmadd_ps(ck_q_widen8(w + k, bf16), _mm256_loadu_ps(x + k), acc0);
        acc1 = _mm256_fmadd_ps(ck_q_widen8(w + k + 8, bf16), _mm256_loadu_ps(x + k + 8), acc1);
    }
    float sum = ck_q_hsum(_mm256_add_ps(acc0, acc1));
    for (; k < K; k++) sum += ck_q_widen1(w[k], bf16) * x[k];
    return sum;
}

CK_AVX2_Q static float ck_hdot_avx2(int64_t K, const uint16_t *w, const float *x) { return ck_wide_dot_avx2(K, w, x, 0); }
CK_AVX2_Q static float ck_bdot_avx2(int64_t K, const uint16_t *w, const float *x) { return ck_wide_dot_avx2(K, w, x, 1); }

// Eight 6-bit Q4_K scales (or mins) times their superblock's d (or dmin), as floats.
CK_AVX2_Q CK_QROWS_INLINE __m256 ck_q4_K_widen(const uint8_t *values, uint16_t half) {
    return _mm256_mul_ps(_mm256_set1_ps(_cvtsh_ss(half)),
                         _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)values))));
}

// Q4_K and Q5_K (`five`, a compile-time constant: Q4_K's fields plus fifth bits, bit j of qh[l] for element 32j + l):
// R input rows (x: R rows of `blocks` activation blocks) against one weight row of blocks / 8 superblocks. Per
// superblock the scales and mins are unpacked and multiplied by d and dmin once, and each run of 32 nibble bytes
// (sub-blocks 2p and 2p + 1) is split once for all the rows; R = 1 is the one-row kernel, so every row of a batch
// gets the one-row bits. Per sub-block pair: t = s_odd·dot_odd + s_even·dot_even (s = d·scale·d_x), added to the
// row's accumulator; the mins' terms dmin·min·s_x are summed in scalar and subtracted at the end.
CK_AVX2_Q CK_QROWS_INLINE void ck_k_rows_avx2(const void *w, const ck_q8_activation *x, int64_t blocks, const int R,
                                              const int five, float *y, int64_t ldy) {
    const int64_t stride = five ? sizeof(ck_block_q5_K) : sizeof(ck_block_q4_K);
    __m256 acc[CK_Q_ROWS];
    float offsets[CK_Q_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps(), offsets[r] = 0;
    for (int64_t i = 0; i < blocks / 8; i++) {
        const uint8_t *block = (const uint8_t *)w + i * stride, *nibbles = block + (five ? 48 : 16);
        uint8_t scales[16];
        ck_q4_K_scales(block + 4, scales, scales + 8);
        float weightScales[8], weightMins[8];
        _mm256_storeu_ps(weightScales, ck_q4_K_widen(scales, ck_load_half(block)));
        _mm256_storeu_ps(weightMins, ck_q4_K_widen(scales + 8, ck_load_half(block + 2)));
        // Q5_K: the fifth bits of sub-blocks 2p and 2p + 1 are bits 0 and 1 of each byte once shifted right by 2p.
        __m256i high = five ? _mm256_loadu_si256((const __m256i *)(block + 16)) : _mm256_setzero_si256();
        for (int p = 0; p < 4; p++) {
            const __m256i packed = _mm256_loadu_si256((const __m256i *)(nibbles + 32 * p));
            __m256i even = _mm256_and_si256(packed, _mm256_set1_epi8(0x0F));
            __m256i odd = _mm256_and_si256(_mm256_srli_epi16(packed, 4), _mm256_set1_epi8(0x0F));
            if (five) {
                even = _mm256_or_si256(even, _mm256_and_si256(_mm256_slli_epi16(high, 4), _mm256_set1_epi8(0x10)));
                odd = _mm256_or_si256(odd, _mm256_and_si256(_mm256_slli_epi16(high, 3), _mm256_set1_epi8(0x10)));
                high = _mm256_srli_epi16(high, 2);
            }
            for (int r = 0; r < R; r++) {
                const ck_q8_activation *a = x + r * blocks + 8 * i + 2 * p;
                const __m256 evenDot = _mm256_cvtepi32_ps(ck_q_dot_u8(even, _mm256_loadu_si256((const __m256i *)a[0].qs)));
                const __m256 oddDot = _mm256_cvtepi32_ps(ck_q_dot_u8(odd, _mm256_loadu_si256((const __m256i *)a[1].qs)));
                const __m256 t = _mm256_fmadd_ps(_mm256_set1_ps(weightScales[2 * p + 1] * a[1].d), oddDot,
                                                 _mm256_mul_ps(_mm256_set1_ps(weightScales[2 * p] * a[0].d), evenDot));
                acc[r] = _mm256_add_ps(acc[r], t);
            }
        }
        for (int r = 0; r < R; r++)
            for (int j = 0; j < 8; j++) offsets[r] += weightMins[j] * x[r * blocks + 8 * i + j].s;
    }
    for (int r = 0; r < R; r++) y[r * ldy] = ck_q_hsum(acc[r]) - offsets[r];
}

CK_AVX2_Q static float ck_qdot_q4_K_avx2(int64_t blocks, const void *w, const ck_q8_activation *a) {
    float y;
    ck_k_rows_avx2(w, a, blocks, 1, 0, &y, 1);
    return y;
}

CK_AVX2_Q static float ck_qdot_q5_K_avx2(int64_t blocks, const void *w, const ck_q8_activation *a) {
    float y;
    ck_k_rows_avx2(w, a, blocks, 1, 1, &y, 1);
    return y;
}

// Q6_K: R input rows against one weight row, after ggml's vec_dot_q6_K_q8_K. Per half of a superblock the 64 ql and
// 32 qh bytes become four registers of q − 32 (signed, −32…31), one per activation block, with their magnitudes, once
// for all the rows. An activation block spans two sub-blocks of 16: vpmaddubsw gives sixteen pair sums (eight per
// sub-block), vpmaddwd multiplies them by the sub-blocks' scales [scale_lo ×8, scale_hi ×8] and adds pairs, so the
// eight 32-bit lanes hold integers whose sum is scale_lo·Σ_lo (q − 32)·q_x + scale_hi·Σ_hi (q − 32)·q_x; then one
// fma by d·d_x per block.
CK_AVX2_Q CK_QROWS_INLINE void ck_q6_K_rows_avx2(const void *w, const ck_q8_activation *x, int64_t blocks, const int R,
                                                 float *y, int64_t ldy) {
    const ck_block_q6_K *b = w;
    __m256 acc[CK_Q_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F), top2 = _mm256_set1_epi8(0x30), bias = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < blocks / 8; i++) {
        const float d = _cvtsh_ss(ck_load_half(&b[i].d));
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(b[i].ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(b[i].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(b[i].qh + 32 * h));
            // Block k's top bits are bits 2k, 2k + 1 of qh, moved to bits 4 and 5.
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), top2));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), top2));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(qh, top2));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), top2));
            // The half's eight scales as 16-bit integers in both 128-bit lanes; block k takes scale 2k in the low
            // lane (its first 16 elements) and 2k + 1 in the high lane.
            const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b[i].scales + 8 * h))));
            for (int k = 0; k < 4; k++) {
                const __m256i signedQ = _mm256_sub_epi8(q[k], bias), magnitudes = _mm256_sign_epi8(signedQ, signedQ);
                const char lo = (char)(4 * k), hi = (char)(4 * k + 2);
                const __m256i pick = _mm256_setr_epi8(lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1,
                                                      hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1);
                const __m256i blockScales = _mm256_shuffle_epi8(scales, pick);
                for (int r = 0; r < R; r++) {
                    const ck_q8_activation *a = x + r * blocks + 8 * i + 4 * h + k;
                    const __m256i signedA = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)a->qs), signedQ);
                    const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(magnitudes, signedA), blockScales);
                    acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(dot), acc[r]);
                }
            }
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = ck_q_hsum(acc[r]);
}

CK_AVX2_Q static float ck_qdot_q6_K_avx2(int64_t blocks, const void *w, const ck_q8_activation *a) {
    float y;
    ck_q6_K_rows_avx2(w, a, blocks, 1, &y, 1);
    return y;
}

// The multi-row dot products: R input rows (a compile-time constant per instantiation) against one weight row. A
// weight block is loaded, unpacked (and its sign split off) and its half scale widened once; each row then runs the
// one-row kernel's operations above on it, in its order, so each output has the one-row kernel's bits.

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_signed(const void *w, int64_t stride, int q4, const ck_q8_rows *a, int64_t m0,
                                               const int R, float *y, int64_t ldy) {
    const int64_t blocks = a->blocks;
    const ck_q8_activation *x = a->a + m0 * blocks;
    __m256 acc[CK_Q_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *block = (const uint8_t *)w + i * stride;
        const float d = _cvtsh_ss(ck_load_half(block));
        const __m256i q = q4 ? _mm256_sub_epi8(ck_q_nibbles(block + 2), _mm256_set1_epi8(8))
                             : _mm256_loadu_si256((const __m256i *)(block + 2));
        const __m256i magnitudes = _mm256_sign_epi8(q, q);
        for (int r = 0; r < R; r++) {
            const ck_q8_activation *row = x + r * blocks + i;
            const __m256i signedA = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)row->qs), q);
            const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(magnitudes, signedA), _mm256_set1_epi16(1));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * row->d), _mm256_cvtepi32_ps(dot), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = ck_q_hsum(acc[r]);
}

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_q8_0_avx2_r(const void *w, const ck_q8_rows *a, int64_t m0, const int R,
                                                    float *y, int64_t ldy) {
    ck_qrows_signed(w, sizeof(ck_block_q8_0), 0, a, m0, R, y, ldy);
}

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_q4_0_avx2_r(const void *w, const ck_q8_rows *a, int64_t m0, const int R,
                                                    float *y, int64_t ldy) {
    ck_qrows_signed(w, sizeof(ck_block_q4_0), 1, a, m0, R, y, ldy);
}

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_q4_1_avx2_r(const void *w, const ck_q8_rows *a, int64_t m0, const int R,
                                                    float *y, int64_t ldy) {
    const ck_block_q4_1 *b = w;
    const int64_t blocks = a->blocks;
    const ck_q8_activation *x = a->a + m0 * blocks;
    const float *sums = a->sums + m0;
    __m256 acc[CK_Q_ROWS];
    float offsets[CK_Q_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps(), offsets[r] = 0;
    for (int64_t i = 0; i < blocks; i++) {
        const float d = _cvtsh_ss(ck_load_half(&b[i].d)), m = _cvtsh_ss(ck_load_half(&b[i].m));
        const __m256i q = ck_q_nibbles(b[i].qs);
        for (int r = 0; r < R; r++) {
            const ck_q8_activation *row = x + r * blocks + i;
            const __m256i dot = ck_q_dot_u8(q, _mm256_loadu_si256((const __m256i *)row->qs));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * row->d), _mm256_cvtepi32_ps(dot), acc[r]);
        }
        for (int r = 0; r < R; r++) offsets[r] += m * sums[i * a->M + r];
    }
    for (int r = 0; r < R; r++) y[r * ldy] = ck_q_hsum(acc[r]) + offsets[r];
}

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_q5_0_avx2_r(const void *w, const ck_q8_rows *a, int64_t m0, const int R,
                                                    float *y, int64_t ldy) {
    ck_q5_rows_avx2(w, a->a + m0 * a->blocks, a->blocks, R, 0, y, ldy);
}

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_q5_1_avx2_r(const void *w, const ck_q8_rows *a, int64_t m0, const int R,
                                                    float *y, int64_t ldy) {
    ck_q5_rows_avx2(w, a->a + m0 * a->blocks, a->blocks, R, 1, y, ldy);
}

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_q4_K_avx2_r(const void *w, const ck_q8_rows *a, int64_t m0, const int R,
                                                    float *y, int64_t ldy) {
    ck_k_rows_avx2(w, a->a + m0 * a->blocks, a->blocks, R, 0, y, ldy);
}

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_q5_K_avx2_r(const void *w, const ck_q8_rows *a, int64_t m0, const int R,
                                                    float *y, int64_t ldy) {
    ck_k_rows_avx2(w, a->a + m0 * a->blocks, a->blocks, R, 1, y, ldy);
}

CK_AVX2_Q CK_QROWS_INLINE void ck_qrows_q6_K_avx2_r(const void *w, const ck_q8_rows *a, int64_t m0, const int R,
                                                    float *y, int64_t ldy) {
    ck_q6_K_rows_avx2(w, a->a + m0 * a->blocks, a->blocks, R, y, ldy);
}

// F16 and BF16: four rows at a time at most (two accumulators each, in the sixteen ymm registers).
CK_AVX2_Q CK_QROWS_INLINE void ck_wide_rows_avx2_r(int64_t K, const uint16_t *w, const float *x, int64_t ldx, const int R,
                                                   float *y, int64_t ldy, const int bf16) {
    __m256 acc0[4], acc1[4];
    for (int r = 0; r < R; r++) acc0[r] = _mm256_setzero_ps(), acc1[r] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        _mm_prefetch((const char *)(w + k) + CK_WIDE_PREFETCH_BYTES, _MM_HINT_T0);
        const __m256 w0 = ck_q_widen8(w + k, bf16), w1 = ck_q_widen8(w + k + 8, bf16);
        for (int r = 0; r < R; r++) {
            acc0[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + r * ldx + k), acc0[r]);
            acc1[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + r * ldx + k + 8), acc1[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        float sum = ck_q_hsum(_mm256_add_ps(acc0[r], acc1[r]));
        for (int64_t j = k; j < K; j++) sum += ck_q_widen1(w[j], bf16) * x[r * ldx + j];
        y[r * ldy] = sum;
    }
}

CK_AVX2_Q CK_QROWS_INLINE void ck_wide_rows_avx2(int64_t K, const uint16_t *w, const float *x, int64_t ldx, int64_t rows,
                                                 float *y, int64_t ldy, const int bf16) {
    for (int64_t r0 = 0; r0 < rows; r0 += 4) {
        switch (rows - r0) {
        case 1: y[r0 * ldy] = ck_wide_dot_avx2(K, w, x + r0 * ldx, bf16); break;
        case 2: ck_wide_rows_avx2_r(K, w, x + r0 * ldx, ldx, 2, y + r0 * ldy, ldy, bf16); break;
        case 3: ck_wide_rows_avx2_r(K, w, x + r0 * ldx, ldx, 3, y + r0 * ldy, ldy, bf16); break;
        default: ck_wide_rows_avx2_r(K, w, x + r0 * ldx, ldx, 4, y + r0 * ldy, ldy, bf16); break;
        }
    }
}

CK_AVX2_Q static void ck_hrows_avx2(int64_t K, const uint16_t *w, const float *x, int64_t ldx, int64_t rows, float *y,
                                    int64_t ldy) {
    ck_wide_rows_avx2(K, w, x, ldx, rows, y, ldy, 0);
}

CK_AVX2_Q static void ck_brows_avx2(int64_t K, const uint16_t *w, const float *x, int64_t ldx, int64_t rows, float *y,
                                    int64_t ldy) {
    ck_wide_rows_avx2(K, w, x, ldx, rows, y, ldy, 1);
}

#define CK_QROWS_SWITCH(NAME)                                                                                  \
    CK_AVX2_Q static void ck_qrows_##NAME##_avx2(const void *w, const ck_q8_rows *a, int64_t m0, int64_t rows, \
                                                 float *y, int64_t ldy) {                                      \
        switch (rows) {                                                                                        \
        case 2: ck_qrows_##NAME##_avx2_r(w, a, m0, 2, y, ldy); break;                                          \
        case 3: ck_qrows_##NAME##_avx2_r(w, a, m0, 3, y, ldy); break;                                          \
        case 4: ck_qrows_##NAME##_avx2_r(w, a, m0, 4, y, ldy); break;                                          \
        case 5: ck_qrows_##NAME##_avx2_r(w, a, m0, 5, y, ldy); break;                                          \
        case 6: ck_qrows_##NAME##_avx2_r(w, a, m0, 6, y, ldy); break;                                          \
        case 7: ck_qrows_##NAME##_avx2_r(w, a, m0, 7, y, ldy); break;                                          \
        default: ck_qrows_##NAME##_avx2_r(w, a, m0, CK_Q_ROWS, y, ldy); break;                                 \
        }                                                                                                      \
    }
CK_QROWS_SWITCH(q8_0)
CK_QROWS_SWITCH(q4_0)
CK_QROWS_SWITCH(q4_1)
CK_QROWS_SWITCH(q5_0)
CK_QROWS_SWITCH(q5_1)
CK_QROWS_SWITCH(q4_K)
CK_QROWS_SWITCH(q5_K)
CK_QROWS_SWITCH(q6_K)

CK_AVX2_Q static void ck_q_decode_avx2(int type, const void *blocks, int64_t count, float *y) {
    ck_q_decode_rows(type, blocks, count, y);
}

const ck_quant_kernels *ck_quant_kernels_avx2(void) {
    static const ck_quant_kernels kernels = {
        .name = "avx2", .q8_0 = ck_qdot_q8_0_avx2, .q4_0 = ck_qdot_q4_0_avx2, .q4_1 = ck_qdot_q4_1_avx2,
        .q5_0 = ck_qdot_q5_0_avx2, .q5_1 = ck_qdot_q5_1_avx2,
        .q4_K = ck_qdot_q4_K_avx2, .q5_K = ck_qdot_q5_K_avx2, .q6_K = ck_qdot_q6_K_avx2, .f16 = ck_hdot_avx2,
        .bf16 = ck_bdot_avx2, .q8_0_rows = ck_qrows_q8_0_avx2, .q4_0_rows = ck_qrows_q4_0_avx2,
        .q4_1_rows = ck_qrows_q4_1_avx2, .q5_0_rows = ck_qrows_q5_0_avx2, .q5_1_rows = ck_qrows_q5_1_avx2, .q4_K_rows = ck_qrows_q4_K_avx2, .q5_K_rows = ck_qrows_q5_K_avx2,
        .q6_K_rows = ck_qrows_q6_K_avx2, .decode = ck_q_decode_avx2,
        .f16_rows = ck_hrows_avx2, .bf16_rows = ck_brows_avx2,
    };
    return &kernels;
}
#endif
