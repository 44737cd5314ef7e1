// AVX2 dot products for the quantized kernels, after ggml's vec_dot_q*_q8_* (ggml-cpu/arch/x86/quants.c): a block's
// 32 weight and 32 activation bytes meet in one 256-bit register pair; the signed × signed byte products are
// formed as |w| · (a with w's sign) so that vpmaddubsw (unsigned × signed) applies, pairs summed to 16 bits then to
// 32 with vpmaddwd, and the block's integer sums scaled by the product of the two block scales.
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

CK_AVX2_Q static float ck_hdot_avx2(int64_t K, const uint16_t *w, const float *x) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + k))), _mm256_loadu_ps(x + k), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + k + 8))),
                               _mm256_loadu_ps(x + k + 8), acc1);
    }
    float sum = ck_q_hsum(_mm256_add_ps(acc0, acc1));
    for (; k < K; k++) sum += _cvtsh_ss(w[k]) * x[k];
    return sum;
}

const ck_quant_kernels *ck_quant_kernels_avx2(void) {
    static const ck_quant_kernels kernels = {
        .name = "avx2", .q8_0 = ck_qdot_q8_0_avx2, .q4_0 = ck_qdot_q4_0_avx2, .q4_1 = ck_qdot_q4_1_avx2,
        .f16 = ck_hdot_avx2,
    };
    return &kernels;
}
#endif
