// AVX2 + FMA instantiation of vector_simd_math.h and vector_simd_rows.h: 8 float lanes, masks as all-ones lanes.
#if defined(__x86_64__)
#include "attention_kernels.h"
#include "ck_simd_x86.h"
#include "vector_internal.h"
#include "vector_math_kernels.h"
#include "vector_rows_kernels.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

#define CK_W 8
#define CK_SUFFIX(name) name##_avx2
#define CK_MR 4  // attention product register tile: 4 × 16 floats: 8 accumulators of the 16 ymm registers
#define CK_NV 2
typedef __m256 vf;
typedef __m256 vm;  // comparison result: each lane all ones or all zeros
#define CK_REF(x) ((const vf[]){x})  // a vector argument by address

// The vocabulary is macros and CK_INLINE functions without vector parameters: see ck_simd_x86.h.
#define v_set1(a) ck256_set1(a)
#define v_zero() _mm256_setzero_ps()
#define v_loadu(p) _mm256_loadu_ps(p)
#define v_storeu(p, a) ck256_storeu(p, a)
CK_INLINE vm v_lanes(int64_t n) {  // lanes [0, n) set
    __m256i index = ck256_lane_index();
    int count = n > CK_W ? CK_W : (int)n;
    return (vm)ck256_cmpgt_epi32(ck256_set1_epi32(count), index);
}
#define v_load_partial(p, n) ck256_maskload(p, v_lanes(n))  // lanes >= n are zero
#define v_store_partial(p, a, n) ck256_maskstore(p, v_lanes(n), a)
#define v_add(a, b) ck256_add(a, b)
#define v_sub(a, b) ck256_sub(a, b)
#define v_mul(a, b) ck256_mul(a, b)
#define v_div(a, b) ck256_div(a, b)
#define v_sqrt(a) ck256_sqrt(a)
#define v_fmadd(a, b, c) ck256_fmadd(a, b, c)    // a b + c
#define v_fnmadd(a, b, c) ck256_fnmadd(a, b, c)  // c − a b
#define v_fmsub(a, b, c) ck256_fmsub(a, b, c)    // a b − c
// max/min return the second operand when either is NaN; callers put the value last to propagate NaN.
#define v_max(a, b) ck256_max(a, b)
#define v_min(a, b) ck256_min(a, b)
#define v_round(a) _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define v_abs(a) ck256_andnot(ck256_set1(-0.0f), a)
#define v_sign(a) ck256_and(ck256_set1(-0.0f), a)
#define v_or(a, b) ck256_or(a, b)
#define v_xor(a, b) ck256_xor(a, b)
#define v_lt(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define v_le(a, b) _mm256_cmp_ps(a, b, _CMP_LE_OQ)
#define v_eq(a, b) _mm256_cmp_ps(a, b, _CMP_EQ_OQ)
#define v_isnan(a) _mm256_cmp_ps(a, a, _CMP_UNORD_Q)
#define v_mask_and(a, b) ck256_and(a, b)
#define v_blend(m, a, b) ck256_blendv(a, b, m)  // m ? b : a
CK_INLINE vm v_bytes_nonzero(const uint8_t *p) {  // CK_W bytes
    __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    __m256i zero = ck256_cmpeq_epi32(wide, _mm256_setzero_si256());
    return (vm)ck256_xor_si256(zero, ck256_set1_epi32(-1));
}

// p · 2^n for integral n in [−150, 128]: two factors 2^(n/2) keep each power normal, so results that
// overflow become inf and results in the denormal range are rounded once.
CK_INLINE vf v_ldexp_at(const vf *p, const vf *n) {
    __m256i ni = ck256_cvtps_epi32(*n);
    __m256i half = ck256_srai_epi32(ni, 1);
    __m256i rest = ck256_sub_epi32(ni, half);
    __m256 first = (__m256)ck256_slli_epi32(ck256_add_epi32(half, ck256_set1_epi32(127)), 23);
    __m256 second = (__m256)ck256_slli_epi32(ck256_add_epi32(rest, ck256_set1_epi32(127)), 23);
    return ck256_mul(ck256_mul(*p, first), second);
}
#define v_ldexp(p, n) v_ldexp_at(CK_REF(p), CK_REF(n))

// x = m · 2^e with m in [1, 2) for positive finite x, denormals included (other inputs: unspecified).
CK_INLINE vf v_frexp_at(const vf *px, vf *e) {
    const vf x = *px;
    vm tiny = _mm256_cmp_ps(x, ck256_set1(1.17549435e-38f), _CMP_LT_OQ);
    vf scaled = ck256_blendv(x, ck256_mul(x, ck256_set1(8388608.0f)), tiny);  // × 2^23
    __m256i bits = (__m256i)scaled;
    __m256i exponent = ck256_sub_epi32(ck256_srli_epi32(bits, 23), ck256_set1_epi32(127));
    *e = ck256_sub(ck256_cvtepi32_ps(exponent), ck256_and(tiny, ck256_set1(23.0f)));
    __m256i mantissa = ck256_or_si256(ck256_and_si256(bits, ck256_set1_epi32(0x007FFFFF)),
                                      ck256_set1_epi32(0x3F800000));
    return (__m256)mantissa;
}
#define v_frexp(x, e) v_frexp_at(CK_REF(x), e)

CK_INLINE float v_reduce_add_at(const vf *a) {
    __m128 sum = _mm_add_ps(ck256_low128(*a), _mm256_extractf128_ps(*a, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}
#define v_reduce_add(a) v_reduce_add_at(CK_REF(a))

CK_INLINE float v_reduce_max_at(const vf *a) {
    __m128 max = _mm_max_ps(ck256_low128(*a), _mm256_extractf128_ps(*a, 1));
    max = _mm_max_ps(max, _mm_movehl_ps(max, max));
    max = _mm_max_ss(max, _mm_movehdup_ps(max));
    return _mm_cvtss_f32(max);
}
#define v_reduce_max(a) v_reduce_max_at(CK_REF(a))

// Eight IEEE halves at p widened to float32 (exact; F16C, which every AVX2 CPU has — the dispatcher checks).
#define v_load_half(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))

#include "vector_simd_math.h"
#include "vector_simd_rows.h"
#include "attention_simd.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
