// x86 vector operations that stay fast in unoptimised (-O0) builds, shared by the AVX2 and AVX-512 files.
//
// Why this exists: SwiftPM debug builds compile this target at -O0 and the package may not add flags. The
// translation units are compiled for baseline x86-64 (AVX is enabled per function by target attributes), so
// clang's ABI passes __m256 and __m512 *arguments* in memory, by value. At -O0 every call with such an argument,
// including the always_inline intrinsics of <immintrin.h> once inlined, copies each vector argument to a
// temporary: a call to memcpy for 64-byte vectors. An intrinsic FMA cost three memcpy calls, and the kernels ran
// about 100× slower than at -O2.
//
// So nothing on a hot path passes a 256- or 512-bit vector to a function:
//  - the macros below use vector operators and the builtins the intrinsics themselves expand to (the same IR,
//    so optimised builds compile to the same code as with the intrinsics);
//  - intrinsics whose arguments are scalars, pointers or 128-bit vectors (_mm512_set1_ps, _mm512_loadu_ps,
//    _mm512_maskz_loadu_ps, _mm256_broadcast_ss, ...) are fine, and so are intrinsics that are macros;
//  - helper functions (CK_INLINE) take their vector arguments by address: CK_REF(x) makes one from a value.
// Results are returned in registers, which needs no copy. Other compilers get the intrinsics.
#ifndef CHARTER_CK_SIMD_X86_H
#define CHARTER_CK_SIMD_X86_H
#if defined(__x86_64__)
#include <immintrin.h>

// Inlined even at -O0. A CK_INLINE helper must have the same target attribute as its callers (or none, if it
// uses no vector instructions).
#define CK_INLINE static inline __attribute__((always_inline))

typedef float ck_f32x16_u __attribute__((__vector_size__(64), __aligned__(1)));
typedef float ck_f32x8_u __attribute__((__vector_size__(32), __aligned__(1)));
struct ck_f32x16_unaligned {
    ck_f32x16_u v;
} __attribute__((__packed__, __may_alias__));
struct ck_f32x8_unaligned {
    ck_f32x8_u v;
} __attribute__((__packed__, __may_alias__));

// ---- AVX-512 (__m512, __mmask16)

#define ck512_storeu(p, a) ((void)(((struct ck_f32x16_unaligned *)(p))->v = (a)))
#define ck512_add(a, b) ((__m512)((__v16sf)(a) + (__v16sf)(b)))
#define ck512_sub(a, b) ((__m512)((__v16sf)(a) - (__v16sf)(b)))
#define ck512_mul(a, b) ((__m512)((__v16sf)(a) * (__v16sf)(b)))
#define ck512_div(a, b) ((__m512)((__v16sf)(a) / (__v16sf)(b)))
#define ck512_and(a, b) ((__m512)((__v16su)(a) & (__v16su)(b)))
#define ck512_or(a, b) ((__m512)((__v16su)(a) | (__v16su)(b)))
#define ck512_xor(a, b) ((__m512)((__v16su)(a) ^ (__v16su)(b)))
// a·b + c, c − a·b, a·b − c, each rounded once.
#define ck512_fmadd(a, b, c)                                                                                   \
    ((__m512)__builtin_ia32_vfmaddps512_mask((__v16sf)(a), (__v16sf)(b), (__v16sf)(c), (__mmask16)-1,          \
                                             _MM_FROUND_CUR_DIRECTION))
#define ck512_fnmadd(a, b, c)                                                                                  \
    ((__m512)__builtin_ia32_vfmaddps512_mask((__v16sf)(a), -(__v16sf)(b), (__v16sf)(c), (__mmask16)-1,         \
                                             _MM_FROUND_CUR_DIRECTION))
#define ck512_fmsub(a, b, c)                                                                                   \
    ((__m512)__builtin_ia32_vfmaddps512_mask((__v16sf)(a), (__v16sf)(b), -(__v16sf)(c), (__mmask16)-1,         \
                                             _MM_FROUND_CUR_DIRECTION))
#define ck512_mask_storeu(p, m, a) __builtin_ia32_storeups512_mask((float *)(p), (__v16sf)(a), (__mmask16)(m))
#define ck512_scalef(a, b)                                                                                     \
    ((__m512)__builtin_ia32_scalefps512_mask((__v16sf)(a), (__v16sf)(b), (__v16sf)_mm512_undefined_ps(),       \
                                             (__mmask16)-1, _MM_FROUND_CUR_DIRECTION))
#define ck512_getexp(a)                                                                                        \
    ((__m512)__builtin_ia32_getexpps512_mask((__v16sf)(a), (__v16sf)_mm512_undefined_ps(), (__mmask16)-1,      \
                                             _MM_FROUND_CUR_DIRECTION))
// Lanes of a that are nonzero.
#define ck512_test_epi32(a) _mm512_cmp_epi32_mask((a), _mm512_setzero_si512(), _MM_CMPINT_NE)
#if defined(__clang__)
#define ck512_sqrt(a) ((__m512)__builtin_ia32_sqrtps512((__v16sf)(a), _MM_FROUND_CUR_DIRECTION))
#define ck512_max(a, b) ((__m512)__builtin_ia32_maxps512((__v16sf)(a), (__v16sf)(b), _MM_FROUND_CUR_DIRECTION))
#define ck512_min(a, b) ((__m512)__builtin_ia32_minps512((__v16sf)(a), (__v16sf)(b), _MM_FROUND_CUR_DIRECTION))
#define ck512_blend(m, a, b) ((__m512)__builtin_ia32_selectps_512((__mmask16)(m), (__v16sf)(b), (__v16sf)(a)))
#define ck512_reduce_add(a) __builtin_ia32_reduce_fadd_ps512(-0.0f, (__v16sf)(a))
#define ck512_reduce_max(a) __builtin_ia32_reduce_fmax_ps512((__v16sf)(a))
#define ck512_unpacklo_ps(a, b)                                                                                \
    ((__m512)__builtin_shufflevector((__v16sf)(a), (__v16sf)(b), 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, \
                                     28, 13, 29))
#define ck512_unpackhi_ps(a, b)                                                                                \
    ((__m512)__builtin_shufflevector((__v16sf)(a), (__v16sf)(b), 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27,   \
                                     14, 30, 15, 31))
#define ck512_unpacklo_pd(a, b)                                                                                \
    ((__m512d)__builtin_shufflevector((__v8df)(a), (__v8df)(b), 0, 8, 2, 10, 4, 12, 6, 14))
#define ck512_unpackhi_pd(a, b)                                                                                \
    ((__m512d)__builtin_shufflevector((__v8df)(a), (__v8df)(b), 1, 9, 3, 11, 5, 13, 7, 15))
#else
#define ck512_sqrt(a) _mm512_sqrt_ps(a)
#define ck512_max(a, b) _mm512_max_ps(a, b)
#define ck512_min(a, b) _mm512_min_ps(a, b)
#define ck512_blend(m, a, b) _mm512_mask_blend_ps(m, a, b)
#define ck512_reduce_add(a) _mm512_reduce_add_ps(a)
#define ck512_reduce_max(a) _mm512_reduce_max_ps(a)
#define ck512_unpacklo_ps(a, b) _mm512_unpacklo_ps(a, b)
#define ck512_unpackhi_ps(a, b) _mm512_unpackhi_ps(a, b)
#define ck512_unpacklo_pd(a, b) _mm512_unpacklo_pd(a, b)
#define ck512_unpackhi_pd(a, b) _mm512_unpackhi_pd(a, b)
#endif

// ---- AVX2 + FMA (__m256, __m256i)

// _mm256_set1_ps and _mm256_set1_epi32 pass eight separate lanes to _mm256_set_ps, which unoptimised builds
// assemble one insert at a time; eight copies of one variable compile to a broadcast.
#define ck256_set1(x)                                                                                          \
    __extension__({                                                                                            \
        const float ck_lane_ = (x);                                                                            \
        (__m256){ck_lane_, ck_lane_, ck_lane_, ck_lane_, ck_lane_, ck_lane_, ck_lane_, ck_lane_};              \
    })
#define ck256_set1_epi32(x)                                                                                    \
    __extension__({                                                                                            \
        const int ck_lane_ = (x);                                                                              \
        (__m256i)(__v8si){ck_lane_, ck_lane_, ck_lane_, ck_lane_, ck_lane_, ck_lane_, ck_lane_, ck_lane_};     \
    })
#define ck256_lane_index() ((__m256i)(__v8si){0, 1, 2, 3, 4, 5, 6, 7})  // _mm256_setr_epi32(0, 1, ..., 7)
#define ck256_storeu(p, a) ((void)(((struct ck_f32x8_unaligned *)(p))->v = (a)))
#define ck256_add(a, b) ((__m256)((__v8sf)(a) + (__v8sf)(b)))
#define ck256_sub(a, b) ((__m256)((__v8sf)(a) - (__v8sf)(b)))
#define ck256_mul(a, b) ((__m256)((__v8sf)(a) * (__v8sf)(b)))
#define ck256_div(a, b) ((__m256)((__v8sf)(a) / (__v8sf)(b)))
#define ck256_and(a, b) ((__m256)((__v8su)(a) & (__v8su)(b)))
#define ck256_andnot(a, b) ((__m256)(~(__v8su)(a) & (__v8su)(b)))  // ~a & b
#define ck256_or(a, b) ((__m256)((__v8su)(a) | (__v8su)(b)))
#define ck256_xor(a, b) ((__m256)((__v8su)(a) ^ (__v8su)(b)))
#define ck256_fmadd(a, b, c) ((__m256)__builtin_ia32_vfmaddps256((__v8sf)(a), (__v8sf)(b), (__v8sf)(c)))
#define ck256_fnmadd(a, b, c) ((__m256)__builtin_ia32_vfmaddps256(-(__v8sf)(a), (__v8sf)(b), (__v8sf)(c)))
#define ck256_fmsub(a, b, c) ((__m256)__builtin_ia32_vfmaddps256((__v8sf)(a), (__v8sf)(b), -(__v8sf)(c)))
#define ck256_sqrt(a) ((__m256)__builtin_ia32_sqrtps256((__v8sf)(a)))
#define ck256_max(a, b) ((__m256)__builtin_ia32_maxps256((__v8sf)(a), (__v8sf)(b)))
#define ck256_min(a, b) ((__m256)__builtin_ia32_minps256((__v8sf)(a), (__v8sf)(b)))
#define ck256_blendv(a, b, m) ((__m256)__builtin_ia32_blendvps256((__v8sf)(a), (__v8sf)(b), (__v8sf)(m)))  // m ? b : a
#define ck256_maskload(p, m) ((__m256)__builtin_ia32_maskloadps256((const __v8sf *)(p), (__v8si)(m)))
#define ck256_maskstore(p, m, a) __builtin_ia32_maskstoreps256((__v8sf *)(p), (__v8si)(m), (__v8sf)(a))
#define ck256_cmpgt_epi32(a, b) ((__m256i)((__v8si)(a) > (__v8si)(b)))
#define ck256_cmpeq_epi32(a, b) ((__m256i)((__v8si)(a) == (__v8si)(b)))
#define ck256_add_epi32(a, b) ((__m256i)((__v8su)(a) + (__v8su)(b)))
#define ck256_sub_epi32(a, b) ((__m256i)((__v8su)(a) - (__v8su)(b)))
#define ck256_and_si256(a, b) ((__m256i)((__v4du)(a) & (__v4du)(b)))
#define ck256_or_si256(a, b) ((__m256i)((__v4du)(a) | (__v4du)(b)))
#define ck256_xor_si256(a, b) ((__m256i)((__v4du)(a) ^ (__v4du)(b)))
#define ck256_srai_epi32(a, n) ((__m256i)__builtin_ia32_psradi256((__v8si)(a), (n)))
#define ck256_srli_epi32(a, n) ((__m256i)__builtin_ia32_psrldi256((__v8si)(a), (n)))
#define ck256_slli_epi32(a, n) ((__m256i)__builtin_ia32_pslldi256((__v8si)(a), (n)))
#define ck256_cvtps_epi32(a) ((__m256i)__builtin_ia32_cvtps2dq256((__v8sf)(a)))
#if defined(__clang__)
#define ck256_cvtepi32_ps(a) ((__m256)__builtin_convertvector((__v8si)(a), __v8sf))
#define ck256_low128(a) ((__m128)__builtin_shufflevector((__v8sf)(a), (__v8sf)(a), 0, 1, 2, 3))
#define ck256_unpacklo_ps(a, b) ((__m256)__builtin_shufflevector((__v8sf)(a), (__v8sf)(b), 0, 8, 1, 9, 4, 12, 5, 13))
#define ck256_unpackhi_ps(a, b)                                                                                \
    ((__m256)__builtin_shufflevector((__v8sf)(a), (__v8sf)(b), 2, 10, 3, 11, 6, 14, 7, 15))
#else
#define ck256_cvtepi32_ps(a) _mm256_cvtepi32_ps(a)
#define ck256_low128(a) _mm256_castps256_ps128(a)
#define ck256_unpacklo_ps(a, b) _mm256_unpacklo_ps(a, b)
#define ck256_unpackhi_ps(a, b) _mm256_unpackhi_ps(a, b)
#endif

#endif
#endif
