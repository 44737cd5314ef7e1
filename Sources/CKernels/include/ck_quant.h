#ifndef CHARTER_CK_QUANT_H
#define CHARTER_CK_QUANT_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// ggml's tensor formats these kernels decode, numbered as ggml's `enum ggml_type` (and GGUF tensor infos); all but
/// F32 are also multiplied (ck_qgemm). Block layouts are ggml's, byte for byte: a row of K elements is
/// K / block size blocks, stored back to back.
typedef enum {
    CK_QTYPE_F32 = 0,   // 1 element: an IEEE single (decoded only)
    CK_QTYPE_F16 = 1,   // 1 element: an IEEE half
    CK_QTYPE_Q4_0 = 2,  // 32 elements in 18 bytes: d (f16), 16 bytes of nibbles; x = d·(q − 8)
    CK_QTYPE_Q4_1 = 3,  // 32 elements in 20 bytes: d, m (f16), 16 bytes of nibbles; x = d·q + m
    CK_QTYPE_Q5_0 = 6,  // 32 elements in 22 bytes: d (f16), 4 bytes of fifth bits, 16 bytes of nibbles; x = d·(q − 16)
    CK_QTYPE_Q5_1 = 7,  // 32 elements in 24 bytes: d, m (f16), 4 bytes of fifth bits, 16 bytes of nibbles; x = d·q + m
    CK_QTYPE_Q8_0 = 8,  // 32 elements in 34 bytes: d (f16), 32 signed bytes; x = d·q
    CK_QTYPE_Q4_K = 12, // 256 elements in 144 bytes: d, dmin (f16), 12 bytes of 6-bit scales and mins, 128 bytes of
                        // nibbles; x = d·scale_j·q − dmin·min_j in sub-block j of 32
    CK_QTYPE_Q5_K = 13, // 256 elements in 176 bytes: Q4_K's fields and 32 bytes of fifth bits; q in 0…31
    CK_QTYPE_Q6_K = 14, // 256 elements in 210 bytes: 128 bytes of low nibbles, 64 of top bit pairs, 16 signed 8-bit
                        // scales, d (f16); x = d·scale_j·(q − 32) in sub-block j of 16, q in 0…63
    CK_QTYPE_BF16 = 30, // 1 element: a bfloat16 (a float's upper 16 bits)
} ck_qtype;

/// Elements per block of `type` (0 for a type these kernels do not know).
int64_t ck_q_block_size(int type);
/// Bytes per block of `type` (0 for a type these kernels do not know).
int64_t ck_q_block_bytes(int type);
/// Whether ck_q_quantize writes `type` (1), or not (0: the k-quants, whose blocks are multiplied as a GGUF file stores
/// them because ggml's quantizers search scales iteratively; F32, which is only decoded), or the type is unknown (-1).
int ck_q_has_quantizer(int type);

/// Quantizes `rows` rows of `columns` floats into `type` blocks, bit-exact to ggml's `quantize_row_*_ref` (and the
/// `gguf` package's `gguf.quants.quantize`). F16 and BF16 round to nearest even (BF16's NaN as ggml's
/// ggml_compute_fp32_to_bf16). Returns 0, or -1 when the type is unknown or has no quantizer here (ck_q_has_quantizer
/// is 0) or `columns` is not a multiple of its block size.
int ck_q_quantize(int type, const float *x, int64_t rows, int64_t columns, void *blocks);

/// Decodes `rows` rows of `columns` elements of `type` to float32, bit-exact to ggml's `dequantize_row_*` (and the
/// `gguf` package's `gguf.quants.dequantize`): the same float32 products and sums in the same order, halves widened
/// exactly. Every type above. Returns 0, or -1 when the type is unknown or `columns` is not a multiple of its block size.
int ck_q_dequantize(int type, const void *blocks, int64_t rows, int64_t columns, float *y);

/// An activation block as the integer dot products read it (ggml's block_q8_1 with float scales): 32 values
/// quantized to q = round(x / d) with d = max|x| / 127, and s = d · Σq (the block sum Q4_1's and Q5_1's offsets multiply).
typedef struct {
    float d;
    float s;
    int8_t qs[32];
} ck_q8_activation;

/// Quantizes `count` (a multiple of 32) floats into count / 32 activation blocks; the same scalar code on every
/// path, so the paths multiply the same integers.
void ck_q_quantize_activations(const float *x, int64_t count, ck_q8_activation *blocks);

/// y[m, n] = Σ_k x[m, k] · W[n, k] for m < M, n < N: x is M × K float32 (row stride ldx), W is N rows of K
/// elements in `type` blocks, y is M × N (row stride ldy). Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K multiply
/// x quantized per 32-element block (ck_q_quantize_activations) with integer dot products, as ggml's
/// vec_dot_q*_q8_* (Q5_0: d·d_x·Σ (q − 16)·q_x per block; Q5_1 and Q4_1: d·d_x·Σ q·q_x + m·s_x; Q4_K's and Q5_K's sub-block j meets one activation block: d·scale_j·d_x·Σ q·q_x −
/// dmin·min_j·s_x; an activation block spans two Q6_K sub-blocks of 16: d·d_x·(scale_lo·Σ_lo (q − 32)·q_x +
/// scale_hi·Σ_hi (q − 32)·q_x), an exact integer per block); F16 and BF16 multiply x as float32 against the widened
/// weights.
/// From ck_q_gemm_rows(type) rows of x on (prefill) the product is instead the float32 GEMM (ck_sgemm) on W decoded a
/// slab of rows at a time, with x unquantized, as ggml's BLAS backend multiplies batches.
/// Below that (a batch's decoding step, a short prompt) each weight row meets up to 8 rows of x at once, its blocks
/// decoded once for all of them; each y element is still the one-row product's sequence of operations, so a row's
/// result does not depend on M.
/// Multithreaded over the rows of W (ck_get_num_threads()); each y element is one fixed sequence of operations, so
/// the bits depend on the path, not on the thread count. Returns 0, or -1 for an unknown type, a type it does not
/// multiply (F32) or a K that is not a multiple of the block size (nothing is written then).
int ck_qgemm(int type, int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const void *w, float *y,
             int64_t ldy);

/// The number of rows of x from which ck_qgemm multiplies `type` weights through the float32 GEMM: 48 for Q8_0, 40 for
/// Q4_0 and Q4_1, 24 for F16, Q5_0, Q5_1, Q4_K and Q5_K, 16 for BF16, Q6_K and unknown types (the measured crossovers of
/// the two routes; quant.c).
int64_t ck_q_gemm_rows(int type);

/// The quantized kernels' variant on the active path: "avx512_vnni", "avx512", "avx2" or "portable" (arm64 runs
/// the portable code; the AVX-512 variants need AVX-512BW, and fall back to AVX2 without it).
const char *ck_q_kernel_name(void);

/// Whether the AVX-512 variant may use VNNI when the CPU has it (default 1). Tests turn it off to compare the
/// vpmaddubsw variant with the others; returns the previous setting.
int ck_q_allow_vnni(int allowed);

#ifdef __cplusplus
}
#endif
#endif
