// AVX-512 instantiation of vector_simd_math.h and vector_simd_rows.h: 16 float lanes, k-register masks.
// Only AVX-512F instructions are used explicitly (bit operations go through the integer forms).
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
#define CK_REF(x) ((const vf[]){x})  // a vector argument by address

// The vocabulary is macros and CK_INLINE functions without vector parameters: see ck_simd_x86.h.
#define v_set1(a) _mm512_set1_ps(a)
#define v_zero() _mm512_setzero_ps()
#define v_loadu(p) _mm512_loadu_ps(p)
#define v_storeu(p, a) ck512_storeu(p, a)
CK_INLINE vm v_lanes(int64_t n) { return n <= 0 ? (vm)0 : n >= CK_W ? (vm)0xFFFF : (vm)((1u << n) - 1u); }
#define v_load_partial(p, n) _mm512_maskz_loadu_ps(v_lanes(n), p)
#define v_store_partial(p, a, n) ck512_mask_storeu(p, v_lanes(n), a)
#define v_add(a, b) ck512_add(a, b)
#define v_sub(a, b) ck512_sub(a, b)
#define v_mul(a, b) ck512_mul(a, b)
#define v_div(a, b) ck512_div(a, b)
#define v_sqrt(a) ck512_sqrt(a)
#define v_fmadd(a, b, c) ck512_fmadd(a, b, c)
#define v_fnmadd(a, b, c) ck512_fnmadd(a, b, c)
#define v_fmsub(a, b, c) ck512_fmsub(a, b, c)
// Same NaN convention as AVX2 (second operand returned), relied on by v_clamp.
#define v_max(a, b) ck512_max(a, b)
#define v_min(a, b) ck512_min(a, b)
#define v_round(a) _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define v_bits_and(a, bits) ck512_and(a, _mm512_set1_epi32(bits))
#define v_abs(a) v_bits_and(a, 0x7FFFFFFF)
#define v_sign(a) v_bits_and(a, (int32_t)0x80000000u)
#define v_or(a, b) ck512_or(a, b)
#define v_xor(a, b) ck512_xor(a, b)
#define v_lt(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define v_le(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ)
#define v_eq(a, b) _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ)
#define v_isnan(a) _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)
#define v_mask_and(a, b) ((vm)((a) & (b)))
#define v_blend(m, a, b) ck512_blend(m, a, b)  // m ? b : a
CK_INLINE vm v_bytes_nonzero(const uint8_t *p) {  // CK_W bytes
    return ck512_test_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p)));
}

// p · 2^n; scalef rounds once, overflowing to inf and underflowing through the denormals.
#define v_ldexp(p, n) ck512_scalef(p, n)

// x = m · 2^e with m in [1, 2) for positive finite x; getexp/getmant normalise denormals themselves.
CK_INLINE vf v_frexp_at(const vf *x, vf *e) {
    *e = ck512_getexp(*x);
    return _mm512_getmant_ps(*x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
}
#define v_frexp(x, e) v_frexp_at(CK_REF(x), e)

#define v_reduce_add(a) ck512_reduce_add(a)
#define v_reduce_max(a) ck512_reduce_max(a)

// Sixteen IEEE halves at p widened to float32 (exact; vcvtph2ps is AVX-512F).
#if defined(__clang__)
#define v_load_half(p)                                                                                         \
    ((__m512)__builtin_ia32_vcvtph2ps512_mask((__v16hi)_mm256_loadu_si256((const __m256i *)(p)),               \
                                              (__v16sf)_mm512_setzero_ps(), (__mmask16)-1, _MM_FROUND_CUR_DIRECTION))
#else
#define v_load_half(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#endif

#include "vector_simd_math.h"
#include "vector_simd_rows.h"
#include "attention_simd.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
