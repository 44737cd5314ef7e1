// AVX-512 instantiation of vector_simd_math.h and vector_simd_rows.h: 16 float lanes, k-register masks.
// Only AVX-512F instructions are used explicitly (bit operations go through the integer forms).
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
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,fma")
#endif

#define CK_W 16
#define CK_SUFFIX(name) name##_avx512
#define CK_MR 4  // attention product register tile: 4 × 64 floats: 16 accumulators of the 32 zmm registers
#define CK_NV 4
typedef __m512 vf;
typedef __mmask16 vm;

static inline vf v_set1(float a) { return _mm512_set1_ps(a); }
static inline vf v_zero(void) { return _mm512_setzero_ps(); }
static inline vf v_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_storeu(float *p, vf a) { _mm512_storeu_ps(p, a); }
static inline vm v_lanes(int64_t n) { return n <= 0 ? (vm)0 : n >= CK_W ? (vm)0xFFFF : (vm)((1u << n) - 1u); }
static inline vf v_load_partial(const float *p, int64_t n) { return _mm512_maskz_loadu_ps(v_lanes(n), p); }
static inline void v_store_partial(float *p, vf a, int64_t n) { _mm512_mask_storeu_ps(p, v_lanes(n), a); }
static inline vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf v_sqrt(vf a) { return _mm512_sqrt_ps(a); }
static inline vf v_fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf v_fnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
static inline vf v_fmsub(vf a, vf b, vf c) { return _mm512_fmsub_ps(a, b, c); }
// Same NaN convention as AVX2 (second operand returned), relied on by v_clamp.
static inline vf v_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf v_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf v_round(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vf v_bits_and(vf a, int32_t bits) {
    return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(bits)));
}
static inline vf v_abs(vf a) { return v_bits_and(a, 0x7FFFFFFF); }
static inline vf v_sign(vf a) { return v_bits_and(a, (int32_t)0x80000000u); }
static inline vf v_or(vf a, vf b) {
    return _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)));
}
static inline vf v_xor(vf a, vf b) {
    return _mm512_castsi512_ps(_mm512_xor_epi32(_mm512_castps_si512(a), _mm512_castps_si512(b)));
}
static inline vm v_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline vm v_le(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
static inline vm v_eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline vm v_isnan(vf a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
static inline vm v_mask_and(vm a, vm b) { return (vm)(a & b); }
static inline vf v_blend(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, a, b); }  // m ? b : a
static inline vm v_bytes_nonzero(const uint8_t *p) {  // CK_W bytes
    __m512i wide = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm512_test_epi32_mask(wide, wide);
}

// p · 2^n; scalef rounds once, overflowing to inf and underflowing through the denormals.
static inline vf v_ldexp(vf p, vf n) { return _mm512_scalef_ps(p, n); }

// x = m · 2^e with m in [1, 2) for positive finite x; getexp/getmant normalise denormals themselves.
static inline vf v_frexp(vf x, vf *e) {
    *e = _mm512_getexp_ps(x);
    return _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
}

static inline float v_reduce_add(vf a) { return _mm512_reduce_add_ps(a); }
static inline float v_reduce_max(vf a) { return _mm512_reduce_max_ps(a); }

#include "vector_simd_math.h"
#include "vector_simd_rows.h"
#include "attention_simd.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
