// AVX2 + FMA instantiation of vector_simd_math.h and vector_simd_rows.h: 8 float lanes, masks as all-ones lanes.
#if defined(__x86_64__)
#include "attention_kernels.h"
#include "vector_internal.h"
#include "vector_math_kernels.h"
#include "vector_rows_kernels.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

#define CK_W 8
#define CK_SUFFIX(name) name##_avx2
#define CK_MR 4  // attention product register tile: 4 × 16 floats: 8 accumulators of the 16 ymm registers
#define CK_NV 2
typedef __m256 vf;
typedef __m256 vm;  // comparison result: each lane all ones or all zeros

static inline vf v_set1(float a) { return _mm256_set1_ps(a); }
static inline vf v_zero(void) { return _mm256_setzero_ps(); }
static inline vf v_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_storeu(float *p, vf a) { _mm256_storeu_ps(p, a); }
static inline vm v_lanes(int64_t n) {  // lanes [0, n) set
    __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int count = n > CK_W ? CK_W : (int)n;
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(count), index));
}
static inline vf v_load_partial(const float *p, int64_t n) {  // lanes >= n are zero
    return _mm256_maskload_ps(p, _mm256_castps_si256(v_lanes(n)));
}
static inline void v_store_partial(float *p, vf a, int64_t n) {
    _mm256_maskstore_ps(p, _mm256_castps_si256(v_lanes(n)), a);
}
static inline vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf v_sqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf v_fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }   // a b + c
static inline vf v_fnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); } // c − a b
static inline vf v_fmsub(vf a, vf b, vf c) { return _mm256_fmsub_ps(a, b, c); }   // a b − c
// max/min return the second operand when either is NaN; callers put the value last to propagate NaN.
static inline vf v_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf v_round(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vf v_abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline vf v_sign(vf a) { return _mm256_and_ps(_mm256_set1_ps(-0.0f), a); }
static inline vf v_or(vf a, vf b) { return _mm256_or_ps(a, b); }
static inline vf v_xor(vf a, vf b) { return _mm256_xor_ps(a, b); }
static inline vm v_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline vm v_le(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
static inline vm v_eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static inline vm v_isnan(vf a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
static inline vm v_mask_and(vm a, vm b) { return _mm256_and_ps(a, b); }
static inline vf v_blend(vm m, vf a, vf b) { return _mm256_blendv_ps(a, b, m); }  // m ? b : a
static inline vm v_bytes_nonzero(const uint8_t *p) {  // CK_W bytes
    __m256i wide = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    __m256i zero = _mm256_cmpeq_epi32(wide, _mm256_setzero_si256());
    return _mm256_castsi256_ps(_mm256_xor_si256(zero, _mm256_set1_epi32(-1)));
}

// p · 2^n for integral n in [−150, 128]: two factors 2^(n/2) keep each power normal, so results that
// overflow become inf and results in the denormal range are rounded once.
static inline vf v_ldexp(vf p, vf n) {
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i half = _mm256_srai_epi32(ni, 1);
    __m256i rest = _mm256_sub_epi32(ni, half);
    __m256 first = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    __m256 second = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, first), second);
}

// x = m · 2^e with m in [1, 2) for positive finite x, denormals included (other inputs: unspecified).
static inline vf v_frexp(vf x, vf *e) {
    vm tiny = _mm256_cmp_ps(x, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
    vf scaled = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(8388608.0f)), tiny);  // × 2^23
    __m256i bits = _mm256_castps_si256(scaled);
    __m256i exponent = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
    *e = _mm256_sub_ps(_mm256_cvtepi32_ps(exponent), _mm256_and_ps(tiny, _mm256_set1_ps(23.0f)));
    __m256i mantissa = _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)),
                                       _mm256_set1_epi32(0x3F800000));
    return _mm256_castsi256_ps(mantissa);
}

static inline float v_reduce_add(vf a) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

static inline float v_reduce_max(vf a) {
    __m128 max = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    max = _mm_max_ps(max, _mm_movehl_ps(max, max));
    max = _mm_max_ss(max, _mm_movehdup_ps(max));
    return _mm_cvtss_f32(max);
}

#include "vector_simd_math.h"
#include "vector_simd_rows.h"
#include "attention_simd.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
