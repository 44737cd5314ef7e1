// AVX-512 dot products for the quantized kernels: two blocks per 512-bit register (each half scaled by its own
// block's scales). Byte products as in the AVX2 variant (|w| · (a with w's sign)), summed to 32 bits with VNNI's
// vpdpbusd where the CPU has it (checked at run time by the dispatcher), else vpmaddubsw + vpmaddwd. An odd last
// block takes the 256-bit route. Q4_K: each run of 32 nibble bytes is one register of two sub-blocks (low nibbles,
// high nibbles) against the matching pair of activation blocks. F16 and BF16 weights: 16 widened per step.
#include "quant_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_AVX512_Q __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define CK_AVX512_VNNI_Q __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

// Sixteen 32-bit sums over groups of four byte lanes of unsigned u × signed s.
#define CK_DOT_MADD(u, s) _mm512_madd_epi16(_mm512_maddubs_epi16((u), (s)), _mm512_set1_epi16(1))
#define CK_DOT_VNNI(u, s) _mm512_dpbusd_epi32(_mm512_setzero_si512(), (u), (s))

// Two blocks' 32 bytes each (at p and q) in one register.
#define CK_PAIR(p, q)                                                                                          \
    _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p))),                      \
                       _mm256_loadu_si256((const __m256i *)(q)), 1)

// Two Q4 blocks' nibbles: per 256-bit half, low nibbles (elements 0..15) then high nibbles (16..31).
#define CK_PAIR_NIBBLES(p, q)                                                                                  \
    _mm512_and_si512(                                                                                          \
        _mm512_inserti64x4(                                                                                    \
            _mm512_castsi256_si512(_mm256_set_m128i(_mm_srli_epi16(_mm_loadu_si128((const __m128i *)(p)), 4), \
                                                    _mm_loadu_si128((const __m128i *)(p)))),                   \
            _mm256_set_m128i(_mm_srli_epi16(_mm_loadu_si128((const __m128i *)(q)), 4),                         \
                             _mm_loadu_si128((const __m128i *)(q))),                                           \
            1),                                                                                                \
        _mm512_set1_epi8(0x0F))

// Block i's scale in the low eight lanes, block i + 1's in the high eight.
#define CK_PAIR_SCALE(s0, s1) _mm512_mask_blend_ps((__mmask16)0xFF00, _mm512_set1_ps(s0), _mm512_set1_ps(s1))

// Σ w·a for signed w (sign moved onto a so the unsigned × signed product applies).
#define CK_SIGNED_DOT(DOT, w, a)                                                                               \
    DOT(_mm512_abs_epi8(w), _mm512_mask_sub_epi8((a), _mm512_movepi8_mask(w), _mm512_setzero_si512(), (a)))

// One odd last block, 256 bits wide, with the plain AVX2 instructions.
#define CK_TAIL_SIGNED(w, a)                                                                                   \
    _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8((w), (w)), _mm256_sign_epi8((a), (w))),            \
                      _mm256_set1_epi16(1))
#define CK_TAIL_HSUM(v)                                                                                        \
    __extension__({                                                                                            \
        __m256 v_ = (v);                                                                                       \
        __m128 s_ = _mm_add_ps(_mm256_castps256_ps128(v_), _mm256_extractf128_ps(v_, 1));                     \
        s_ = _mm_add_ps(s_, _mm_movehl_ps(s_, s_));                                                            \
        _mm_cvtss_f32(_mm_add_ss(s_, _mm_movehdup_ps(s_)));                                                    \
    })

// The multi-row dot products: R input rows (a compile-time constant in each instantiation, so the R accumulators
// stay in registers) against one weight row. A weight block pair is loaded, unpacked and its half scales widened
// once; each row then loads its 64 activation bytes and its pair scales with one instruction each. Per row the
// operations are the one-row kernel's above, in its order (same scale products, same fma chain, same reduction,
// same tail and offset sums), so each output has the one-row kernel's bits.
#define CK_QROWS_BEGIN(BLOCK)                                                                                  \
    const BLOCK *b = w;                                                                                        \
    const int64_t blocks = a->blocks, pairs = blocks / 2;                                                      \
    const int8_t *qs = a->pairs + m0 * pairs * 64;                                                             \
    const float *ds = a->pairScales + m0 * pairs * 16;                                                         \
    __m512 acc[CK_Q_ROWS];                                                                                     \
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();                                                  \
    int64_t i = 0;

// Row r's term of the pair at i: scale · (integer dots), the scale being the weight scales × the row's scales.
#define CK_QROWS_ACCUMULATE(DOT_R)                                                                             \
    for (int r = 0; r < R; r++) {                                                                              \
        const __m512i x = _mm512_loadu_si512(qs + (r * pairs + i / 2) * 64);                                   \
        const __m512 scale = _mm512_mul_ps(weightScales, _mm512_loadu_ps(ds + (r * pairs + i / 2) * 16));      \
        acc[r] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(DOT_R), acc[r]);                                    \
    }

#define CK_QROWS_SWITCH(NAME, SUFFIX, TARGET)                                                                  \
    TARGET static void ck_qrows_##NAME##_##SUFFIX(const void *w, const ck_q8_rows *a, int64_t m0, int64_t rows, \
                                                  float *y, int64_t ldy) {                                     \
        switch (rows) {                                                                                        \
        case 2: ck_qrows_##NAME##_##SUFFIX##_r(w, a, m0, 2, y, ldy); break;                                    \
        case 3: ck_qrows_##NAME##_##SUFFIX##_r(w, a, m0, 3, y, ldy); break;                                    \
        case 4: ck_qrows_##NAME##_##SUFFIX##_r(w, a, m0, 4, y, ldy); break;                                    \
        case 5: ck_qrows_##NAME##_##SUFFIX##_r(w, a, m0, 5, y, ldy); break;                                    \
        case 6: ck_qrows_##NAME##_##SUFFIX##_r(w, a, m0, 6, y, ldy); break;                                    \
        case 7: ck_qrows_##NAME##_##SUFFIX##_r(w, a, m0, 7, y, ldy); break;                                    \
        default: ck_qrows_##NAME##_##SUFFIX##_r(w, a, m0, CK_Q_ROWS, y, ldy); break;                           \
        }                                                                                                      \
    }

#define CK_QROWS_INLINE __attribute__((always_inline)) static inline

// Sixteen F16 or BF16 weights at p widened to float32: vcvtph2ps, or the bfloat16 bits moved to the top of each lane.
#define CK_WIDEN16_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define CK_WIDEN16_BF16(p)                                                                                     \
    _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16))

// Q4_K's 32 nibble bytes at p as a pair of sub-blocks: the low nibbles (sub-block 2p) in the low 256 bits, the high
// nibbles (sub-block 2p + 1) in the high 256 bits, the activation pair layout CK_PAIR builds.
#define CK_Q4_K_NIBBLES(p)                                                                                     \
    __extension__({                                                                                            \
        const __m256i packed_ = _mm256_loadu_si256((const __m256i *)(p));                                      \
        _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(packed_), _mm256_srli_epi16(packed_, 4), 1), \
                         _mm512_set1_epi8(0x0F));                                                              \
    })

// Sub-blocks j and j + 1's weight scales (lanes j, j + 1 of `scales`) as [s_j ×8, s_{j+1} ×8], the lane layout of
// an activation pair's scales.
#define CK_Q4_K_PAIR_SCALES(scales, j)                                                                         \
    _mm512_permutexvar_ps(_mm512_set_epi32((j) + 1, (j) + 1, (j) + 1, (j) + 1, (j) + 1, (j) + 1, (j) + 1, (j) + 1, \
                                           (j), (j), (j), (j), (j), (j), (j), (j)),                            \
                          (scales))

// F16 (NAME h) and BF16 (NAME b) rows against float32 x: ck_NAMEdot_SUFFIX for one input row, ck_NAMErows_SUFFIX
// for 2..8 (each group of 32 weights widened once for all the rows; per row the one-row operations in their order).
#define CK_DEFINE_WIDE_AVX512(NAME, SUFFIX, TARGET, WIDEN16, WIDEN1)                                            \
    TARGET static float ck_##NAME##dot_##SUFFIX(int64_t K, const uint16_t *w, const float *x) {                 \
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();                                          \
        int64_t k = 0;                                                                                          \
        for (; k + 32 <= K; k += 32) {                                                                          \
            acc0 = _mm512_fmadd_ps(WIDEN16(w + k), _mm512_loadu_ps(x + k), acc0);                               \
            acc1 = _mm512_fmadd_ps(WIDEN16(w + k + 16), _mm512_loadu_ps(x + k + 16), acc1);                     \
        }                                                                                                       \
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));                                            \
        for (; k < K; k++) sum += WIDEN1(w[k]) * x[k];                                                          \
        return sum;                                                                                             \
    }                                                                                                           \
    TARGET CK_QROWS_INLINE void ck_##NAME##rows_##SUFFIX##_r(int64_t K, const uint16_t *w, const float *x, int64_t ldx, \
                                                            const int R, float *y, int64_t ldy) {               \
        __m512 acc0[CK_Q_ROWS], acc1[CK_Q_ROWS];                                                                \
        for (int r = 0; r < R; r++) acc0[r] = _mm512_setzero_ps(), acc1[r] = _mm512_setzero_ps();               \
        int64_t k = 0;                                                                                          \
        for (; k + 32 <= K; k += 32) {                                                                          \
            _mm_prefetch((const char *)(w + k) + CK_WIDE_PREFETCH_BYTES, _MM_HINT_T0);                          \
            const __m512 w0 = WIDEN16(w + k), w1 = WIDEN16(w + k + 16);                                         \
            for (int r = 0; r < R; r++) {                                                                       \
                acc0[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + r * ldx + k), acc0[r]);                       \
                acc1[r] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + r * ldx + k + 16), acc1[r]);                  \
            }                                                                                                   \
        }                                                                                                       \
        for (int r = 0; r < R; r++) {                                                                           \
            float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r]));                                  \
            for (int64_t j = k; j < K; j++) sum += WIDEN1(w[j]) * x[r * ldx + j];                               \
            y[r * ldy] = sum;                                                                                   \
        }                                                                                                       \
    }                                                                                                           \
    TARGET static void ck_##NAME##rows_##SUFFIX(int64_t K, const uint16_t *w, const float *x, int64_t ldx, int64_t rows, \
                                               float *y, int64_t ldy) {                                         \
        switch (rows) {                                                                                         \
        case 2: ck_##NAME##rows_##SUFFIX##_r(K, w, x, ldx, 2, y, ldy); break;                                   \
        case 3: ck_##NAME##rows_##SUFFIX##_r(K, w, x, ldx, 3, y, ldy); break;                                   \
        case 4: ck_##NAME##rows_##SUFFIX##_r(K, w, x, ldx, 4, y, ldy); break;                                   \
        case 5: ck_##NAME##rows_##SUFFIX##_r(K, w, x, ldx, 5, y, ldy); break;                                   \
        case 6: ck_##NAME##rows_##SUFFIX##_r(K, w, x, ldx, 6, y, ldy); break;                                   \
        case 7: ck_##NAME##rows_##SUFFIX##_r(K, w, x, ldx, 7, y, ldy); break;                                   \
        default: ck_##NAME##rows_##SUFFIX##_r(K, w, x, ldx, CK_Q_ROWS, y, ldy); break;                          \
        }                                                                                                       \
    }

#define CK_DEFINE_QROWS_AVX512(SUFFIX, TARGET, DOT)                                                            \
    TARGET CK_QROWS_INLINE void ck_qrows_q8_0_##SUFFIX##_r(const void *w, const ck_q8_rows *a, int64_t m0,     \
                                                           const int R, float *y, int64_t ldy) {               \
        CK_QROWS_BEGIN(ck_block_q8_0)                                                                          \
        for (; i + 2 <= blocks; i += 2) {                                                                      \
            const __m512 weightScales =                                                                        \
                CK_PAIR_SCALE(_cvtsh_ss(ck_load_half(&b[i].d)), _cvtsh_ss(ck_load_half(&b[i + 1].d)));         \
            const __m512i q = CK_PAIR(b[i].qs, b[i + 1].qs);                                                   \
            const __m512i magnitudes = _mm512_abs_epi8(q);                                                     \
            const __mmask64 negative = _mm512_movepi8_mask(q);                                                 \
            CK_QROWS_ACCUMULATE(DOT(magnitudes, _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x))) \
        }                                                                                                      \
        for (int r = 0; r < R; r++) {                                                                          \
            const ck_q8_activation *x = a->a + (m0 + r) * blocks;                                              \
            float sum = _mm512_reduce_add_ps(acc[r]);                                                          \
            if (i < blocks) {                                                                                  \
                const __m256i dot = CK_TAIL_SIGNED(_mm256_loadu_si256((const __m256i *)b[i].qs),               \
                                                   _mm256_loadu_si256((const __m256i *)x[i].qs));              \
                sum += _cvtsh_ss(ck_load_half(&b[i].d)) * x[i].d * CK_TAIL_HSUM(_mm256_cvtepi32_ps(dot));      \
            }                                                                                                  \
            y[r * ldy] = sum;                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    TARGET CK_QROWS_INLINE void ck_qrows_q4_0_##SUFFIX##_r(const void *w, const ck_q8_rows *a, int64_t m0,     \
                                                           const int R, float *y, int64_t ldy) {               \
        CK_QROWS_BEGIN(ck_block_q4_0)                                                                          \
        for (; i + 2 <= blocks; i += 2) {                                                                      \
            const __m512 weightScales =                                                                        \
                CK_PAIR_SCALE(_cvtsh_ss(ck_load_half(&b[i].d)), _cvtsh_ss(ck_load_half(&b[i + 1].d)));         \
            const __m512i q = _mm512_sub_epi8(CK_PAIR_NIBBLES(b[i].qs, b[i + 1].qs), _mm512_set1_epi8(8));     \
            const __m512i magnitudes = _mm512_abs_epi8(q);                                                     \
            const __mmask64 negative = _mm512_movepi8_mask(q);                                                 \
            CK_QROWS_ACCUMULATE(DOT(magnitudes, _mm512_mask_sub_epi8(x, negative, _mm512_setzero_si512(), x))) \
        }                                                                                                      \
        for (int r = 0; r < R; r++) {                                                                          \
            const ck_q8_activation *x = a->a + (m0 + r) * blocks;                                              \
            float sum = _mm512_reduce_add_ps(acc[r]);                                                          \
            if (i < blocks) {                                                                                  \
                const __m128i packed = _mm_loadu_si128((const __m128i *)b[i].qs);                              \
                const __m256i q = _mm256_sub_epi8(                                                             \
                    _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F)), \
                    _mm256_set1_epi8(8));                                                                      \
                const __m256i dot = CK_TAIL_SIGNED(q, _mm256_loadu_si256((const __m256i *)x[i].qs));           \
                sum += _cvtsh_ss(ck_load_half(&b[i].d)) * x[i].d * CK_TAIL_HSUM(_mm256_cvtepi32_ps(dot));      \
            }                                                                                                  \
            y[r * ldy] = sum;                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    TARGET CK_QROWS_INLINE void ck_qrows_q4_1_##SUFFIX##_r(const void *w, const ck_q8_rows *a, int64_t m0,     \
                                                           const int R, float *y, int64_t ldy) {               \
        CK_QROWS_BEGIN(ck_block_q4_1)                                                                          \
        const float *sums = a->sums + m0;                                                                      \
        float offsets[CK_Q_ROWS];                                                                              \
        for (int r = 0; r < R; r++) offsets[r] = 0;                                                            \
        for (; i + 2 <= blocks; i += 2) {                                                                      \
            const __m512 weightScales =                                                                        \
                CK_PAIR_SCALE(_cvtsh_ss(ck_load_half(&b[i].d)), _cvtsh_ss(ck_load_half(&b[i + 1].d)));         \
            const __m512i q = CK_PAIR_NIBBLES(b[i].qs, b[i + 1].qs);                                           \
            CK_QROWS_ACCUMULATE(DOT(q, x))                                                                     \
            const float m = _cvtsh_ss(ck_load_half(&b[i].m)), mNext = _cvtsh_ss(ck_load_half(&b[i + 1].m));    \
            for (int r = 0; r < R; r++) offsets[r] += m * sums[i * a->M + r];                                  \
            for (int r = 0; r < R; r++) offsets[r] += mNext * sums[(i + 1) * a->M + r];                        \
        }                                                                                                      \
        for (int r = 0; r < R; r++) {                                                                          \
            const ck_q8_activation *x = a->a + (m0 + r) * blocks;                                              \
            float sum = _mm512_reduce_add_ps(acc[r]);                                                          \
            if (i < blocks) {                                                                                  \
                const __m128i packed = _mm_loadu_si128((const __m128i *)b[i].qs);                              \
                const __m256i q =                                                                              \
                    _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F)); \
                const __m256i dot = _mm256_madd_epi16(                                                         \
                    _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)x[i].qs)), _mm256_set1_epi16(1)); \
                sum += _cvtsh_ss(ck_load_half(&b[i].d)) * x[i].d * CK_TAIL_HSUM(_mm256_cvtepi32_ps(dot));      \
                offsets[r] += _cvtsh_ss(ck_load_half(&b[i].m)) * x[i].s;                                       \
            }                                                                                                  \
            y[r * ldy] = sum + offsets[r];                                                                     \
        }                                                                                                      \
    }                                                                                                          \
    CK_QROWS_SWITCH(q8_0, SUFFIX, TARGET)                                                                      \
    CK_QROWS_SWITCH(q4_0, SUFFIX, TARGET)                                                                      \
    CK_QROWS_SWITCH(q4_1, SUFFIX, TARGET)                                                                       \
    TARGET CK_QROWS_INLINE void ck_qrows_q4_K_##SUFFIX##_r(const void *w, const ck_q8_rows *a, int64_t m0,      \
                                                           const int R, float *y, int64_t ldy) {                \
        ck_k_rows_##SUFFIX(w, NULL, a, m0, a->blocks, R, 1, 0, y, ldy);                                        \
    }                                                                                                           \
    CK_QROWS_SWITCH(q4_K, SUFFIX, TARGET)                                                                       \
    TARGET CK_QROWS_INLINE void ck_qrows_q5_K_##SUFFIX##_r(const void *w, const ck_q8_rows *a, int64_t m0,      \
                                                           const int R, float *y, int64_t ldy) {                \
        ck_k_rows_##SUFFIX(w, NULL, a, m0, a->blocks, R, 1, 1, y, ldy);                                        \
    }                                                                                                           \
    CK_QROWS_SWITCH(q5_K, SUFFIX, TARGET)                                                                       \
    TARGET CK_QROWS_INLINE void ck_qrows_q6_K_##SUFFIX##_r(const void *w, const ck_q8_rows *a, int64_t m0,      \
                                                           const int R, float *y, int64_t ldy) {                \
        ck_q6_K_rows_##SUFFIX(w, NULL, a, m0, a->blocks, R, 1, y, ldy);                                        \
    }                                                                                                           \
    CK_QROWS_SWITCH(q6_K, SUFFIX, TARGET)

// Q5_0 and Q5_1 (`offset`, a compile-time constant: Q5_1's d·q + m, else Q5_0's d·(q − 16)): R input rows against
// one weight row, a block pair per step as Q4_0's and Q4_1's kernels take it. The pair's two qh words are one 64-bit
// mask, bit k for byte lane k of CK_PAIR_NIBBLES' layout, so the fifth bit is a masked add of 16 (Q5_0: a masked
// subtract of 16 where it is clear, giving q − 16, signed as Q4_0's weights are); Q5_1 adds m·s_x in scalar, as Q4_1.
// The one-row kernel (R = 1, `paired` 0) reads the activation blocks themselves, the multi-row kernel (`paired` 1)
// the same bytes and scales from ck_q8_rows' pair layout; the same operations in the same order either way, and an
// odd last block takes the 256-bit route.
#define CK_DEFINE_Q5_AVX512(SUFFIX, TARGET, DOT)                                                                         \
    TARGET CK_QROWS_INLINE void ck_q5_rows_##SUFFIX(const void *w, const ck_q8_activation *x, const ck_q8_rows *rows,    \
                                                    int64_t m0, int64_t blocks, const int R, const int paired,           \
                                                    const int offset, float *y, int64_t ldy) {                           \
        const int64_t stride = offset ? sizeof(ck_block_q5_1) : sizeof(ck_block_q5_0), pairs = blocks / 2;              \
        const int highAt = offset ? 4 : 2, nibblesAt = offset ? 8 : 6;                                                   \
        __m512 acc[CK_Q_ROWS];                                                                                           \
        float offsets[CK_Q_ROWS];                                                                                        \
        for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps(), offsets[r] = 0;                                        \
        int64_t i = 0;                                                                                                   \
        for (; i + 2 <= blocks; i += 2) {                                                                                \
            const uint8_t *b0 = (const uint8_t *)w + i * stride, *b1 = b0 + stride;                                      \
            const __m512 weightScales = CK_PAIR_SCALE(_cvtsh_ss(ck_load_half(b0)), _cvtsh_ss(ck_load_half(b1)));         \
            const __mmask64 fifth = (__mmask64)ck_q5_high_bits(b0 + highAt) | (__mmask64)ck_q5_high_bits(b1 + highAt) << 32; \
            const __m512i nibbles = CK_PAIR_NIBBLES(b0 + nibblesAt, b1 + nibblesAt);                                     \
            const __m512i q = offset ? _mm512_mask_add_epi8(nibbles, fifth, nibbles, _mm512_set1_epi8(16))               \
                                     : _mm512_mask_sub_epi8(nibbles, ~fifth, nibbles, _mm512_set1_epi8(16));             \
            const __m512i magnitudes = offset ? q : _mm512_abs_epi8(q);                                                  \
            const __mmask64 negative = offset ? 0 : _mm512_movepi8_mask(q);                                             \
            for (int r = 0; r < R; r++) {                                                                                \
                __m512i xq;                                                                                              \
                __m512 xScale;                                                                                           \
                if (paired) {                                                                                            \
                    const int64_t pair = (m0 + r) * pairs + i / 2;                                                       \
                    xq = _mm512_loadu_si512(rows->pairs + pair * 64);                                                    \
                    xScale = _mm512_loadu_ps(rows->pairScales + pair * 16);                                              \
                } else {                                                                                                 \
                    xq = CK_PAIR(x[i].qs, x[i + 1].qs);                                                                  \
                    xScale = CK_PAIR_SCALE(x[i].d, x[i + 1].d);                                                          \
                }                                                                                                        \
                const __m512i dot = DOT(magnitudes, offset ? xq : _mm512_mask_sub_epi8(xq, negative, _mm512_setzero_si512(), xq)); \
                acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(weightScales, xScale), _mm512_cvtepi32_ps(dot), acc[r]);          \
            }                                                                                                            \
            if (offset) {                                                                                                \
                const float m = _cvtsh_ss(ck_load_half(b0 + 2)), mNext = _cvtsh_ss(ck_load_half(b1 + 2));                \
                for (int r = 0; r < R; r++) offsets[r] += m * (paired ? rows->sums[i * rows->M + m0 + r] : x[i].s);     \
                for (int r = 0; r < R; r++)                                                                              \
                    offsets[r] += mNext * (paired ? rows->sums[(i + 1) * rows->M + m0 + r] : x[i + 1].s);                \
            }                                                                                                            \
        }                                                                                                                \
        for (int r = 0; r < R; r++) {                                                                                    \
            const ck_q8_activation *row = paired ? rows->a + (m0 + r) * blocks : x;                                      \
            float sum = _mm512_reduce_add_ps(acc[r]);                                                                    \
            if (i < blocks) {                                                                                            \
                const uint8_t *b = (const uint8_t *)w + i * stride;                                                      \
                const __m128i packed = _mm_loadu_si128((const __m128i *)(b + nibblesAt));                                \
                const __m256i nibbles =                                                                                  \
                    _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));      \
                const __mmask32 fifth = (__mmask32)ck_q5_high_bits(b + highAt);                                          \
                const __m256i a = _mm256_loadu_si256((const __m256i *)row[i].qs);                                        \
                const __m256i dot =                                                                                      \
                    offset ? _mm256_madd_epi16(_mm256_maddubs_epi16(                                                     \
                                 _mm256_mask_add_epi8(nibbles, fifth, nibbles, _mm256_set1_epi8(16)), a), _mm256_set1_epi16(1)) \
                           : CK_TAIL_SIGNED(_mm256_mask_sub_epi8(nibbles, ~fifth, nibbles, _mm256_set1_epi8(16)), a);    \
                sum += _cvtsh_ss(ck_load_half(b)) * row[i].d * CK_TAIL_HSUM(_mm256_cvtepi32_ps(dot));                    \
                if (offset) offsets[r] += _cvtsh_ss(ck_load_half(b + 2)) * row[i].s;                                     \
            }                                                                                                            \
            y[r * ldy] = offset ? sum + offsets[r] : sum;                                                                \
        }                                                                                                                \
    }                                                                                                                    \
    TARGET static float ck_qdot_q5_0_##SUFFIX(int64_t blocks, const void *w, const ck_q8_activation *a) {                \
        float y;                                                                                                         \
        ck_q5_rows_##SUFFIX(w, a, NULL, 0, blocks, 1, 0, 0, &y, 1);                                                      \
        return y;                                                                                                        \
    }                                                                                                                    \
    TARGET static float ck_qdot_q5_1_##SUFFIX(int64_t blocks, const void *w, const ck_q8_activation *a) {                \
        float y;                                                                                                         \
        ck_q5_rows_##SUFFIX(w, a, NULL, 0, blocks, 1, 0, 1, &y, 1);                                                      \
        return y;                                                                                                        \
    }                                                                                                                    \
    TARGET CK_QROWS_INLINE void ck_qrows_q5_0_##SUFFIX##_r(const void *w, const ck_q8_rows *a, int64_t m0,               \
                                                           const int R, float *y, int64_t ldy) {                         \
        ck_q5_rows_##SUFFIX(w, NULL, a, m0, a->blocks, R, 1, 0, y, ldy);                                                 \
    }                                                                                                                    \
    CK_QROWS_SWITCH(q5_0, SUFFIX, TARGET)                                                                                \
    TARGET CK_QROWS_INLINE void ck_qrows_q5_1_##SUFFIX##_r(const void *w, const ck_q8_rows *a, int64_t m0,               \
                                                           const int R, float *y, int64_t ldy) {                         \
        ck_q5_rows_##SUFFIX(w, NULL, a, m0, a->blocks, R, 1, 1, y, ldy);                                                 \
    }                                                                                                                    \
    CK_QROWS_SWITCH(q5_1, SUFFIX, TARGET)

// The one-row dot products, F16/BF16's, and the multi-row ones above, for one instruction set. Q4_K's and Q5_K's are
// one template, ck_k_rows_SUFFIX (`five` adds Q5_K's fifth bits): R input rows against one weight row of superblocks,
// each superblock's scales and mins unpacked and widened once and each run of 32 nibble bytes split once for all the
// rows. The one-row kernel (R = 1, `paired` 0) reads the activation blocks themselves; the multi-row kernel
// (`paired` 1) reads the same bytes and scales from ck_q8_rows' pair layout with one load each. Per sub-block pair
// the term is (weight scales · activation scales) · dot, two pairs summed before they reach the accumulator; the
// mins' terms dmin·min·s are summed in scalar and subtracted at the end; same operations in the same order either
// way. Q6_K's template, ck_q6_K_rows_SUFFIX, reads the pair layout the same way: per half superblock the 64 ql and
// 32 qh bytes become two registers of q − 32 (one per activation block pair), signed as Q8_0's weights are; the
// 32-bit dot lanes (four per 16-element sub-block) meet d·scale_j · d_x in float, one fma per pair.
#define CK_DEFINE_QUANT_AVX512(SUFFIX, TARGET, DOT)                                                            \
    TARGET static float ck_qdot_q8_0_##SUFFIX(int64_t blocks, const void *w, const ck_q8_activation *a) {      \
        const ck_block_q8_0 *b = w;                                                                            \
        __m512 acc = _mm512_setzero_ps();                                                                      \
        int64_t i = 0;                                                                                         \
        for (; i + 2 <= blocks; i += 2) {                                                                      \
            const __m512 scale = CK_PAIR_SCALE(_cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d,                      \
                                               _cvtsh_ss(ck_load_half(&b[i + 1].d)) * a[i + 1].d);             \
            const __m512i dot = CK_SIGNED_DOT(DOT, CK_PAIR(b[i].qs, b[i + 1].qs), CK_PAIR(a[i].qs, a[i + 1].qs)); \
            acc = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(dot), acc);                                        \
        }                                                                                                      \
        float sum = _mm512_reduce_add_ps(acc);                                                                 \
        if (i < blocks) {                                                                                      \
            const __m256i dot = CK_TAIL_SIGNED(_mm256_loadu_si256((const __m256i *)b[i].qs),                   \
                                               _mm256_loadu_si256((const __m256i *)a[i].qs));                  \
            sum += _cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d * CK_TAIL_HSUM(_mm256_cvtepi32_ps(dot));          \
        }                                                                                                      \
        return sum;                                                                                            \
    }                                                                                                          \
    TARGET static float ck_qdot_q4_0_##SUFFIX(int64_t blocks, const void *w, const ck_q8_activation *a) {      \
        const ck_block_q4_0 *b = w;                                                                            \
        __m512 acc = _mm512_setzero_ps();                                                                      \
        int64_t i = 0;                                                                                         \
        for (; i + 2 <= blocks; i += 2) {                                                                      \
            const __m512 scale = CK_PAIR_SCALE(_cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d,                      \
                                               _cvtsh_ss(ck_load_half(&b[i + 1].d)) * a[i + 1].d);             \
            const __m512i q = _mm512_sub_epi8(CK_PAIR_NIBBLES(b[i].qs, b[i + 1].qs), _mm512_set1_epi8(8));     \
            const __m512i dot = CK_SIGNED_DOT(DOT, q, CK_PAIR(a[i].qs, a[i + 1].qs));                          \
            acc = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(dot), acc);                                        \
        }                                                                                                      \
        float sum = _mm512_reduce_add_ps(acc);                                                                 \
        if (i < blocks) {                                                                                      \
            const __m128i packed = _mm_loadu_si128((const __m128i *)b[i].qs);                                  \
            const __m256i q = _mm256_sub_epi8(                                                                 \
                _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F)), \
                _mm256_set1_epi8(8));                                                                          \
            const __m256i dot = CK_TAIL_SIGNED(q, _mm256_loadu_si256((const __m256i *)a[i].qs));               \
            sum += _cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d * CK_TAIL_HSUM(_mm256_cvtepi32_ps(dot));          \
        }                                                                                                      \
        return sum;                                                                                            \
    }                                                                                                          \
    TARGET static float ck_qdot_q4_1_##SUFFIX(int64_t blocks, const void *w, const ck_q8_activation *a) {      \
        const ck_block_q4_1 *b = w;                                                                            \
        __m512 acc = _mm512_setzero_ps();                                                                      \
        float offsets = 0;                                                                                     \
        int64_t i = 0;                                                                                         \
        for (; i + 2 <= blocks; i += 2) {                                                                      \
            const __m512 scale = CK_PAIR_SCALE(_cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d,                      \
                                               _cvtsh_ss(ck_load_half(&b[i + 1].d)) * a[i + 1].d);             \
            const __m512i dot = DOT(CK_PAIR_NIBBLES(b[i].qs, b[i + 1].qs), CK_PAIR(a[i].qs, a[i + 1].qs));     \
            acc = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(dot), acc);                                        \
            offsets += _cvtsh_ss(ck_load_half(&b[i].m)) * a[i].s;                                              \
            offsets += _cvtsh_ss(ck_load_half(&b[i + 1].m)) * a[i + 1].s;                                      \
        }                                                                                                      \
        float sum = _mm512_reduce_add_ps(acc);                                                                 \
        if (i < blocks) {                                                                                      \
            const __m128i packed = _mm_loadu_si128((const __m128i *)b[i].qs);                                  \
            const __m256i q =                                                                                  \
                _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F)); \
            const __m256i dot = _mm256_madd_epi16(                                                             \
                _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)a[i].qs)), _mm256_set1_epi16(1));  \
            sum += _cvtsh_ss(ck_load_half(&b[i].d)) * a[i].d * CK_TAIL_HSUM(_mm256_cvtepi32_ps(dot));          \
            offsets += _cvtsh_ss(ck_load_half(&b[i].m)) * a[i].s;                                              \
        }                                                                                                      \
        return sum + offsets;                                                                                  \
    }                                                                                                          \
    TARGET CK_QROWS_INLINE void ck_k_rows_##SUFFIX(const void *w, const ck_q8_activation *x, const ck_q8_rows *rows,     \
                                                   int64_t m0, int64_t blocks, const int R, const int paired,            \
                                                   const int five, float *y, int64_t ldy) {                              \
        const int64_t stride = five ? sizeof(ck_block_q5_K) : sizeof(ck_block_q4_K);                                     \
        const int64_t pairs = blocks / 2;                                                                                \
        __m512 acc[CK_Q_ROWS];                                                                                           \
        float offsets[CK_Q_ROWS];                                                                                        \
        for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps(), offsets[r] = 0;                                        \
        for (int64_t i = 0; i < blocks / 8; i++) {                                                                       \
            const uint8_t *block = (const uint8_t *)w + i * stride, *nibbles = block + (five ? 48 : 16);                 \
            uint8_t scales[16];                                                                                          \
            ck_q4_K_scales(block + 4, scales, scales + 8);                                                               \
            const __m512 weightScales = _mm512_castps256_ps512(_mm256_mul_ps(                                            \
                _mm256_set1_ps(_cvtsh_ss(ck_load_half(block))),                                                          \
                _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)scales)))));                    \
            float weightMins[8];                                                                                         \
            _mm256_storeu_ps(weightMins, _mm256_mul_ps(                                                                  \
                _mm256_set1_ps(_cvtsh_ss(ck_load_half(block + 2))),                                                      \
                _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(scales + 8))))));              \
            /* Q5_K: the fifth bits, qh in the low half and qh >> 1 in the high half, so that bit 0 of each byte is      \
               sub-block 2p's bit (low half) and 2p + 1's (high half) once shifted right by 2p. */                       \
            __m512i high = _mm512_setzero_si512();                                                                       \
            if (five) {                                                                                                  \
                const __m256i qh = _mm256_loadu_si256((const __m256i *)(block + 16));                                    \
                high = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 1), 1);                      \
            }                                                                                                            \
            for (int p = 0; p < 4; p += 2) {                                                                             \
                __m512i q0 = CK_Q4_K_NIBBLES(nibbles + 32 * p), q1 = CK_Q4_K_NIBBLES(nibbles + 32 * p + 32);             \
                if (five) {                                                                                              \
                    q0 = _mm512_or_si512(q0, _mm512_and_si512(_mm512_slli_epi16(high, 4), _mm512_set1_epi8(0x10)));      \
                    q1 = _mm512_or_si512(q1, _mm512_and_si512(_mm512_slli_epi16(high, 2), _mm512_set1_epi8(0x10)));      \
                    high = _mm512_srli_epi16(high, 4);                                                                   \
                }                                                                                                        \
                const __m512 scale0 = CK_Q4_K_PAIR_SCALES(weightScales, 2 * p);                                          \
                const __m512 scale1 = CK_Q4_K_PAIR_SCALES(weightScales, 2 * p + 2);                                      \
                for (int r = 0; r < R; r++) {                                                                            \
                    __m512i x0, x1;                                                                                      \
                    __m512 xScale0, xScale1;                                                                             \
                    if (paired) {                                                                                        \
                        const int64_t pair = (m0 + r) * pairs + 4 * i + p;                                               \
                        x0 = _mm512_loadu_si512(rows->pairs + pair * 64);                                                \
                        x1 = _mm512_loadu_si512(rows->pairs + pair * 64 + 64);                                           \
                        xScale0 = _mm512_loadu_ps(rows->pairScales + pair * 16);                                         \
                        xScale1 = _mm512_loadu_ps(rows->pairScales + pair * 16 + 16);                                    \
                    } else {                                                                                             \
                        const ck_q8_activation *a = x + 8 * i + 2 * p;                                                   \
                        x0 = CK_PAIR(a[0].qs, a[1].qs), x1 = CK_PAIR(a[2].qs, a[3].qs);                                  \
                        xScale0 = CK_PAIR_SCALE(a[0].d, a[1].d), xScale1 = CK_PAIR_SCALE(a[2].d, a[3].d);                \
                    }                                                                                                    \
                    const __m512 dot0 = _mm512_cvtepi32_ps(DOT(q0, x0)), dot1 = _mm512_cvtepi32_ps(DOT(q1, x1));         \
                    const __m512 term = _mm512_fmadd_ps(_mm512_mul_ps(scale1, xScale1), dot1,                            \
                                                        _mm512_mul_ps(_mm512_mul_ps(scale0, xScale0), dot0));            \
                    acc[r] = _mm512_add_ps(acc[r], term);                                                                \
                }                                                                                                        \
            }                                                                                                            \
            for (int r = 0; r < R; r++)                                                                                  \
                for (int j = 0; j < 8; j++)                                                                              \
                    offsets[r] += weightMins[j] * (paired ? rows->sums[(8 * i + j) * rows->M + m0 + r] : x[8 * i + j].s); \
        }                                                                                                                \
        for (int r = 0; r < R; r++) y[r * ldy] = _mm512_reduce_add_ps(acc[r]) - offsets[r];                              \
    }                                                                                                                    \
    TARGET static float ck_qdot_q4_K_##SUFFIX(int64_t blocks, const void *w, const ck_q8_activation *a) {                \
        float y;                                                                                                         \
        ck_k_rows_##SUFFIX(w, a, NULL, 0, blocks, 1, 0, 0, &y, 1);                                                       \
        return y;                                                                                                        \
    }                                                                                                                    \
    TARGET static float ck_qdot_q5_K_##SUFFIX(int64_t blocks, const void *w, const ck_q8_activation *a) {                \
        float y;                                                                                                         \
        ck_k_rows_##SUFFIX(w, a, NULL, 0, blocks, 1, 0, 1, &y, 1);                                                       \
        return y;                                                                                                        \
    }                                                                                                                    \
    TARGET CK_QROWS_INLINE void ck_q6_K_rows_##SUFFIX(const void *w, const ck_q8_activation *x, const ck_q8_rows *rows,  \
                                                      int64_t m0, int64_t blocks, const int R, const int paired,         \
                                                      float *y, int64_t ldy) {                                           \
        const ck_block_q6_K *b = w;                                                                                      \
        const int64_t pairs = blocks / 2;                                                                                \
        const __m512i low4 = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30), bias = _mm512_set1_epi8(32);         \
        __m512 acc[CK_Q_ROWS];                                                                                           \
        for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();                                                        \
        for (int64_t i = 0; i < blocks / 8; i++) {                                                                       \
            const __m512 weightScales = _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(ck_load_half(&b[i].d))),                  \
                _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b[i].scales))));                \
            for (int h = 0; h < 2; h++) {                                                                                \
                /* The half's 64 ql bytes in one register (blocks 4h and 4h + 1's low nibbles, 4h + 2 and 4h + 3's       \
                   high ones); qh and qh >> 2 side by side, so that one shift and mask give each pair its top bits. */   \
                const __m512i ql = _mm512_loadu_si512(b[i].ql + 64 * h);                                                 \
                const __m256i qh256 = _mm256_loadu_si256((const __m256i *)(b[i].qh + 32 * h));                           \
                const __m512i qh = _mm512_inserti64x4(_mm512_castsi256_si512(qh256), _mm256_srli_epi16(qh256, 2), 1);    \
                __m512i q[2];                                                                                            \
                q[0] = _mm512_or_si512(_mm512_and_si512(ql, low4), _mm512_and_si512(_mm512_slli_epi16(qh, 4), top2));    \
                q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4), _mm512_and_si512(qh, top2));    \
                for (int t = 0; t < 2; t++) {                                                                            \
                    /* Pair t of the half: activation blocks 4h + 2t and 4h + 2t + 1, sub-blocks 8h + 4t … 8h + 4t + 3   \
                       in lanes of four. */                                                                              \
                    const __m512i signedQ = _mm512_sub_epi8(q[t], bias), magnitudes = _mm512_abs_epi8(signedQ);          \
                    const __mmask64 negative = _mm512_movepi8_mask(signedQ);                                             \
                    const int s = 8 * h + 4 * t;                                                                         \
                    const __m512 scale = _mm512_permutexvar_ps(                                                          \
                        _mm512_set_epi32(s + 3, s + 3, s + 3, s + 3, s + 2, s + 2, s + 2, s + 2, s + 1, s + 1, s + 1, s + 1, s, s, s, s), \
                        weightScales);                                                                                   \
                    for (int r = 0; r < R; r++) {                                                                        \
                        __m512i xq;                                                                                      \
                        __m512 xScale;                                                                                   \
                        if (paired) {                                                                                    \
                            const int64_t pair = (m0 + r) * pairs + 4 * i + 2 * h + t;                                   \
                            xq = _mm512_loadu_si512(rows->pairs + pair * 64);                                            \
                            xScale = _mm512_loadu_ps(rows->pairScales + pair * 16);                                      \
                        } else {                                                                                         \
                            const ck_q8_activation *a = x + 8 * i + 4 * h + 2 * t;                                       \
                            xq = CK_PAIR(a[0].qs, a[1].qs);                                                              \
                            xScale = CK_PAIR_SCALE(a[0].d, a[1].d);                                                      \
                        }                                                                                                \
                        const __m512i dot = DOT(magnitudes, _mm512_mask_sub_epi8(xq, negative, _mm512_setzero_si512(), xq)); \
                        acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(scale, xScale), _mm512_cvtepi32_ps(dot), acc[r]);         \
                    }                                                                                                    \
                }                                                                                                        \
            }                                                                                                            \
        }                                                                                                                \
        for (int r = 0; r < R; r++) y[r * ldy] = _mm512_reduce_add_ps(acc[r]);                                           \
    }                                                                                                                    \
    TARGET static float ck_qdot_q6_K_##SUFFIX(int64_t blocks, const void *w, const ck_q8_activation *a) {                \
        float y;                                                                                                         \
        ck_q6_K_rows_##SUFFIX(w, a, NULL, 0, blocks, 1, 0, &y, 1);                                                       \
        return y;                                                                                                        \
    }                                                                                                                    \
    CK_DEFINE_QROWS_AVX512(SUFFIX, TARGET, DOT)                                                                \
    CK_DEFINE_Q5_AVX512(SUFFIX, TARGET, DOT)                                                                   \
    TARGET static void ck_q_decode_##SUFFIX(int type, const void *blocks, int64_t count, float *y) {         \
        ck_q_decode_rows(type, blocks, count, y);                                                            \
    }                                                                                                          \
    CK_DEFINE_WIDE_AVX512(h, SUFFIX, TARGET, CK_WIDEN16_F16, _cvtsh_ss)                                        \
    CK_DEFINE_WIDE_AVX512(b, SUFFIX, TARGET, CK_WIDEN16_BF16, ck_bf16_to_float)                                \
    const ck_quant_kernels *ck_quant_kernels_##SUFFIX(void) {                                                  \
        static const ck_quant_kernels kernels = {                                                              \
            .name = #SUFFIX, .q8_0 = ck_qdot_q8_0_##SUFFIX, .q4_0 = ck_qdot_q4_0_##SUFFIX,                      \
            .q4_1 = ck_qdot_q4_1_##SUFFIX, .q4_K = ck_qdot_q4_K_##SUFFIX, .q5_K = ck_qdot_q5_K_##SUFFIX,        \
            .q5_0 = ck_qdot_q5_0_##SUFFIX, .q5_1 = ck_qdot_q5_1_##SUFFIX,                                       \
            .q5_0_rows = ck_qrows_q5_0_##SUFFIX, .q5_1_rows = ck_qrows_q5_1_##SUFFIX,                           \
            .q6_K = ck_qdot_q6_K_##SUFFIX, .f16 = ck_hdot_##SUFFIX,                                             \
            .bf16 = ck_bdot_##SUFFIX, .q8_0_rows = ck_qrows_q8_0_##SUFFIX, .q4_0_rows = ck_qrows_q4_0_##SUFFIX, \
            .q4_1_rows = ck_qrows_q4_1_##SUFFIX, .q4_K_rows = ck_qrows_q4_K_##SUFFIX,                           \
            .q5_K_rows = ck_qrows_q5_K_##SUFFIX, .q6_K_rows = ck_qrows_q6_K_##SUFFIX,                           \
            .decode = ck_q_decode_##SUFFIX,                                                                 \
            .f16_rows = ck_hrows_##SUFFIX, .bf16_rows = ck_brows_##SUFFIX,                                      \
        };                                                                                                     \
        return &kernels;                                                                                       \
    }

CK_DEFINE_QUANT_AVX512(avx512, CK_AVX512_Q, CK_DOT_MADD)
CK_DEFINE_QUANT_AVX512(avx512_vnni, CK_AVX512_VNNI_Q, CK_DOT_VNNI)
#endif
