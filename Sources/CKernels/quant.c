// Quantized weights: ggml's block formats (quantize and dequantize, bit-exact to ggml's reference code), the
// activation quantizer, and the matrix product that picks a dot-product variant for the active kernel path and
// splits the weight rows across threads.
#include "ck_gemm.h"
#include "ck_threads.h"
#include "quant_internal.h"
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

// Every format these kernels know: its block, whether ck_q_quantize writes it, whether ck_qgemm multiplies it (else
// ck_q_dequantize only widens it, as GGUF files' F32 tensors are at load), and from how many input rows ck_qgemm
// multiplies it through the float32 GEMM instead of the integer kernels (ck_q_gemm_rows; measured below).
typedef struct {
    int type;
    int64_t size, bytes;
    int quantizer;
    int multiplied;
    int64_t gemmRows;
} ck_q_format;

static const ck_q_format ck_q_formats[] = {
    {CK_QTYPE_F16, 1, 2, 1, 1, 24},
    {CK_QTYPE_BF16, 1, 2, 1, 1, 16},
    {CK_QTYPE_Q8_0, 32, sizeof(ck_block_q8_0), 1, 1, 48},
    {CK_QTYPE_Q4_0, 32, sizeof(ck_block_q4_0), 1, 1, 40},
    {CK_QTYPE_Q4_1, 32, sizeof(ck_block_q4_1), 1, 1, 40},
    {CK_QTYPE_Q4_K, 256, sizeof(ck_block_q4_K), 0, 1, 24},
    {CK_QTYPE_Q5_K, 256, sizeof(ck_block_q5_K), 0, 1, 24},
    {CK_QTYPE_Q6_K, 256, sizeof(ck_block_q6_K), 0, 1, 16},
    {CK_QTYPE_F32, 1, 4, 0, 0, 16},
    {CK_QTYPE_Q5_0, 32, sizeof(ck_block_q5_0), 1, 1, 24},
    {CK_QTYPE_Q5_1, 32, sizeof(ck_block_q5_1), 1, 1, 24},
};

static const ck_q_format *ck_q_format_of(int type) {
    for (size_t i = 0; i < sizeof ck_q_formats / sizeof *ck_q_formats; i++)
        if (ck_q_formats[i].type == type) return &ck_q_formats[i];
    return NULL;
}

int64_t ck_q_block_size(int type) { return ck_q_format_of(type) ? ck_q_format_of(type)->size : 0; }
int64_t ck_q_block_bytes(int type) { return ck_q_format_of(type) ? ck_q_format_of(type)->bytes : 0; }
int ck_q_has_quantizer(int type) { return ck_q_format_of(type) ? ck_q_format_of(type)->quantizer : -1; }

static int ck_q_valid(int type, int64_t rows, int64_t columns) {
    const int64_t size = ck_q_block_size(type);
    return size > 0 && rows >= 0 && columns >= 0 && columns % size == 0;
}

// ---- ggml's quantize_row_*_ref and dequantize_row_*, one block at a time.

static void ck_quantize_q8_0(const float *x, ck_block_q8_0 *y) {
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
    y->d = ck_float_to_half(d);
    for (int j = 0; j < 32; j++) y->qs[j] = (int8_t)roundf(x[j] * id);
}

static void ck_quantize_q4_0(const float *x, ck_block_q4_0 *y) {
    // The signed value of largest magnitude maps to −8, so the grid reaches it exactly.
    float amax = 0, max = 0;
    for (int j = 0; j < 32; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    const float d = max / -8, id = d ? 1.0f / d : 0.0f;
    y->d = ck_float_to_half(d);
    for (int j = 0; j < 16; j++) {
        const int8_t low = (int8_t)(x[j] * id + 8.5f), high = (int8_t)(x[16 + j] * id + 8.5f);
        y->qs[j] = (uint8_t)((low < 15 ? low : 15) | (high < 15 ? high : 15) << 4);
    }
}

static void ck_quantize_q4_1(const float *x, ck_block_q4_1 *y) {
    float min = x[0], max = x[0];
    for (int j = 1; j < 32; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15, id = d ? 1.0f / d : 0.0f;
    y->d = ck_float_to_half(d);
    y->m = ck_float_to_half(min);
    for (int j = 0; j < 16; j++) {
        const int8_t low = (int8_t)((x[j] - min) * id + 0.5f), high = (int8_t)((x[16 + j] - min) * id + 0.5f);
        y->qs[j] = (uint8_t)((low < 15 ? low : 15) | (high < 15 ? high : 15) << 4);
    }
}

// Q5_0 and Q5_1: Q4_0's and Q4_1's grids with 32 levels; each q's fifth bit goes to bit j of the block's qh word
// (element j's), its low four bits to the nibbles as Q4's.
static void ck_q5_pack(const uint8_t q[32], uint8_t qh[4], uint8_t qs[16]) {
    uint32_t high = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 0x0F) | (q[j + 16] & 0x0F) << 4);
        high |= (uint32_t)((q[j] & 0x10) >> 4) << j | (uint32_t)((q[j + 16] & 0x10) >> 4) << (j + 16);
    }
    for (int b = 0; b < 4; b++) qh[b] = (uint8_t)(high >> (8 * b));
}

static void ck_quantize_q5_0(const float *x, ck_block_q5_0 *y) {
    // As Q4_0: the signed value of largest magnitude maps to −16.
    float amax = 0, max = 0;
    for (int j = 0; j < 32; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    const float d = max / -16, id = d ? 1.0f / d : 0.0f;
    y->d = ck_float_to_half(d);
    uint8_t q[32];
    for (int j = 0; j < 32; j++) {
        const float scaled = x[j] * id;  // its own statement, as ggml's: no fused multiply-add where contraction is on
        const int8_t level = (int8_t)(scaled + 16.5f);
        q[j] = (uint8_t)(level < 31 ? level : 31);
    }
    ck_q5_pack(q, y->qh, y->qs);
}

static void ck_quantize_q5_1(const float *x, ck_block_q5_1 *y) {
    float min = x[0], max = x[0];
    for (int j = 1; j < 32; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31, id = d ? 1.0f / d : 0.0f;
    y->d = ck_float_to_half(d);
    y->m = ck_float_to_half(min);
    uint8_t q[32];
    for (int j = 0; j < 32; j++) {
        const float scaled = (x[j] - min) * id;
        q[j] = (uint8_t)(scaled + 0.5f);
    }
    ck_q5_pack(q, y->qh, y->qs);
}

int ck_q_quantize(int type, const float *x, int64_t rows, int64_t columns, void *blocks) {
    if (!ck_q_valid(type, rows, columns) || ck_q_has_quantizer(type) != 1) return -1;
    const int64_t count = rows * columns;
    switch (type) {
    case CK_QTYPE_F16: {
        uint16_t *y = blocks;
        for (int64_t i = 0; i < count; i++) y[i] = ck_float_to_half(x[i]);
        break;
    }
    case CK_QTYPE_BF16: {
        uint16_t *y = blocks;
        for (int64_t i = 0; i < count; i++) y[i] = ck_float_to_bf16(x[i]);
        break;
    }
    case CK_QTYPE_Q8_0:
        for (int64_t i = 0; i < count / 32; i++) ck_quantize_q8_0(x + 32 * i, (ck_block_q8_0 *)blocks + i);
        break;
    case CK_QTYPE_Q4_0:
        for (int64_t i = 0; i < count / 32; i++) ck_quantize_q4_0(x + 32 * i, (ck_block_q4_0 *)blocks + i);
        break;
    case CK_QTYPE_Q4_1:
        for (int64_t i = 0; i < count / 32; i++) ck_quantize_q4_1(x + 32 * i, (ck_block_q4_1 *)blocks + i);
        break;
    case CK_QTYPE_Q5_0:
        for (int64_t i = 0; i < count / 32; i++) ck_quantize_q5_0(x + 32 * i, (ck_block_q5_0 *)blocks + i);
        break;
    case CK_QTYPE_Q5_1:
        for (int64_t i = 0; i < count / 32; i++) ck_quantize_q5_1(x + 32 * i, (ck_block_q5_1 *)blocks + i);
        break;
    }
    return 0;
}

int ck_q_dequantize(int type, const void *blocks, int64_t rows, int64_t columns, float *y) {
    if (!ck_q_valid(type, rows, columns)) return -1;
    const int64_t count = rows * columns;
    switch (type) {
    case CK_QTYPE_F32: memcpy(y, blocks, (size_t)count * sizeof(float)); break;
    case CK_QTYPE_F16: {
        const uint8_t *x = blocks;
        for (int64_t i = 0; i < count; i++) y[i] = ck_half_to_float(ck_load_half(x + 2 * i));
        break;
    }
    case CK_QTYPE_BF16: {
        const uint8_t *x = blocks;
        for (int64_t i = 0; i < count; i++) y[i] = ck_bf16_to_float(ck_load_half(x + 2 * i));
        break;
    }
    case CK_QTYPE_Q8_0:
        for (int64_t i = 0; i < count / 32; i++, y += 32) {
            const ck_block_q8_0 *b = (const ck_block_q8_0 *)blocks + i;
            const float d = ck_half_to_float(ck_load_half(&b->d));
            for (int j = 0; j < 32; j++) y[j] = b->qs[j] * d;
        }
        break;
    case CK_QTYPE_Q4_0:
        for (int64_t i = 0; i < count / 32; i++, y += 32) {
            const ck_block_q4_0 *b = (const ck_block_q4_0 *)blocks + i;
            const float d = ck_half_to_float(ck_load_half(&b->d));
            for (int j = 0; j < 16; j++) {
                y[j] = ((b->qs[j] & 0x0F) - 8) * d;
                y[j + 16] = ((b->qs[j] >> 4) - 8) * d;
            }
        }
        break;
    case CK_QTYPE_Q4_1:
        for (int64_t i = 0; i < count / 32; i++, y += 32) {
            const ck_block_q4_1 *b = (const ck_block_q4_1 *)blocks + i;
            const float d = ck_half_to_float(ck_load_half(&b->d)), m = ck_half_to_float(ck_load_half(&b->m));
            for (int j = 0; j < 16; j++) {
                // The product and the sum as two statements: no fused multiply-add where the compiler may contract.
                const float low = (b->qs[j] & 0x0F) * d, high = (b->qs[j] >> 4) * d;
                y[j] = low + m;
                y[j + 16] = high + m;
            }
        }
        break;
    case CK_QTYPE_Q5_0:
    case CK_QTYPE_Q5_1:
    case CK_QTYPE_Q4_K:
    case CK_QTYPE_Q5_K:
    case CK_QTYPE_Q6_K: ck_q_decode_rows(type, blocks, count, y); break;
    }
    return 0;
}

// roundf(v) (halves away from zero) for |v| < 2^24, without the libm call that kept the loop below scalar: v minus
// its truncation is exact. Checked against roundf on every float of magnitude ≤ 200.
static inline int ck_round_to_int(float v) {
    const int truncated = (int)v;
    const float rest = v - (float)truncated;
    return truncated + (rest >= 0.5f) - (rest <= -0.5f);
}

void ck_q_quantize_activations(const float *x, int64_t count, ck_q8_activation *blocks) {
    for (int64_t i = 0; i < count / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            blocks[i].qs[j] = (int8_t)ck_round_to_int(x[j] * id);
            sum += blocks[i].qs[j];
        }
        blocks[i].d = d;
        blocks[i].s = d * (float)sum;
    }
}

// ---- Dispatch.

static _Atomic int ck_q_vnni_allowed = 1;

int ck_q_allow_vnni(int allowed) {
    return atomic_exchange_explicit(&ck_q_vnni_allowed, allowed != 0, memory_order_relaxed);
}

static const ck_quant_kernels *ck_quant_active(void) {
#if defined(__x86_64__)
    switch (ck_active_path()) {
    case CK_PATH_AVX512:
        if (__builtin_cpu_supports("avx512bw")) {
            const int vnni = atomic_load_explicit(&ck_q_vnni_allowed, memory_order_relaxed);
            return vnni && __builtin_cpu_supports("avx512vnni") ? ck_quant_kernels_avx512_vnni() : ck_quant_kernels_avx512();
        }
        // AVX-512F without byte operations: the AVX2 variant.
        // fallthrough
    case CK_PATH_AVX2:
        if (__builtin_cpu_supports("f16c")) return ck_quant_kernels_avx2();
        break;
    default: break;
    }
#endif
    return ck_quant_kernels_portable();
}

const char *ck_q_kernel_name(void) { return ck_quant_active()->name; }

// A format's entries of a variant's table: the integer dot products for the block formats, the float ones for the
// formats whose activations stay float32 (F16, BF16). A NULL multi-row entry means one row at a time.
typedef struct {
    ck_qdot dot;
    ck_qdot_rows dotRows;
    ck_hdot floatDot;
    ck_hdot_rows floatDotRows;
} ck_quant_entry;

static ck_quant_entry ck_quant_entry_for(const ck_quant_kernels *k, int type) {
    switch (type) {
    case CK_QTYPE_F16: return (ck_quant_entry){.floatDot = k->f16, .floatDotRows = k->f16_rows};
    case CK_QTYPE_BF16: return (ck_quant_entry){.floatDot = k->bf16, .floatDotRows = k->bf16_rows};
    case CK_QTYPE_Q8_0: return (ck_quant_entry){.dot = k->q8_0, .dotRows = k->q8_0_rows};
    case CK_QTYPE_Q4_0: return (ck_quant_entry){.dot = k->q4_0, .dotRows = k->q4_0_rows};
    case CK_QTYPE_Q4_1: return (ck_quant_entry){.dot = k->q4_1, .dotRows = k->q4_1_rows};
    case CK_QTYPE_Q5_0: return (ck_quant_entry){.dot = k->q5_0, .dotRows = k->q5_0_rows};
    case CK_QTYPE_Q5_1: return (ck_quant_entry){.dot = k->q5_1, .dotRows = k->q5_1_rows};
    case CK_QTYPE_Q4_K: return (ck_quant_entry){.dot = k->q4_K, .dotRows = k->q4_K_rows};
    case CK_QTYPE_Q5_K: return (ck_quant_entry){.dot = k->q5_K, .dotRows = k->q5_K_rows};
    case CK_QTYPE_Q6_K: return (ck_quant_entry){.dot = k->q6_K, .dotRows = k->q6_K_rows};
    default: return (ck_quant_entry){0};
    }
}

// Whether `type` multiplies float32 activations (else x is quantized to ck_q8_activation blocks first).
static int ck_q_float_activations(int type) { return type == CK_QTYPE_F16 || type == CK_QTYPE_BF16; }

// ---- The product: weight rows in tiles across threads; within a tile, input rows in chunks so a few weight rows
// stay in L1 while the chunk's activation blocks stream past them.

enum { CK_Q_TILE_ROWS = 8, CK_Q_INPUT_CHUNK = 64 };

typedef struct {
    ck_quant_entry kernels;
    int floatActivations;
    int64_t M, N, K;
    const float *x;
    int64_t ldx;
    const ck_q8_activation *activations;  // M rows of K / 32 blocks (nil for F16 and BF16)
    const ck_q8_rows *rows;               // the same, laid out for the multi-row kernels (nil when not used)
    const uint8_t *w;
    int64_t rowBytes;
    float *y;
    int64_t ldy;
} ck_qgemm_job;

static void ck_qgemm_tiles(void *context, int64_t begin, int64_t end) {
    const ck_qgemm_job *job = context;
    const int64_t blocks = job->K / 32;
    const ck_qdot dot = job->kernels.dot;
    const ck_hdot floatDot = job->kernels.floatDot;
    const int f16 = job->floatActivations;  // F16 or BF16
    if (f16 ? job->M > 1 && job->kernels.floatDotRows : job->rows != NULL) {
        // Input rows CK_Q_ROWS at a time through the multi-row kernel; a single row (and a last chunk of one) takes
        // the one-row kernel, which gives the same bits.
        const ck_qdot_rows dotRows = job->kernels.dotRows;
        for (int64_t n = begin * CK_Q_TILE_ROWS; n < end * CK_Q_TILE_ROWS && n < job->N; n++) {
            const uint8_t *row = job->w + n * job->rowBytes;
            for (int64_t m0 = 0; m0 < job->M; m0 += CK_Q_ROWS) {
                const int64_t count = job->M - m0 < CK_Q_ROWS ? job->M - m0 : CK_Q_ROWS;
                float *y = job->y + m0 * job->ldy + n;
                if (f16 && count == 1) *y = floatDot(job->K, (const uint16_t *)row, job->x + m0 * job->ldx);
                else if (f16) job->kernels.floatDotRows(job->K, (const uint16_t *)row, job->x + m0 * job->ldx, job->ldx, count, y, job->ldy);
                else if (count == 1) *y = dot(blocks, row, job->activations + m0 * blocks);
                else dotRows(row, job->rows, m0, count, y, job->ldy);
            }
        }
        return;
    }
    for (int64_t tile = begin; tile < end; tile++) {
        const int64_t n0 = tile * CK_Q_TILE_ROWS;
        const int64_t n1 = n0 + CK_Q_TILE_ROWS < job->N ? n0 + CK_Q_TILE_ROWS : job->N;
        for (int64_t m0 = 0; m0 < job->M; m0 += CK_Q_INPUT_CHUNK) {
            const int64_t m1 = m0 + CK_Q_INPUT_CHUNK < job->M ? m0 + CK_Q_INPUT_CHUNK : job->M;
            for (int64_t n = n0; n < n1; n++) {
                const uint8_t *row = job->w + n * job->rowBytes;
                for (int64_t m = m0; m < m1; m++) {
                    job->y[m * job->ldy + n] = f16 ? floatDot(job->K, (const uint16_t *)row, job->x + m * job->ldx)
                                                   : dot(blocks, row, job->activations + m * blocks);
                }
            }
        }
    }
}

typedef struct {
    const float *x;
    int64_t ldx, K;
    ck_q8_activation *activations;
} ck_quantize_job;

static void ck_quantize_rows(void *context, int64_t begin, int64_t end) {
    const ck_quantize_job *job = context;
    for (int64_t m = begin; m < end; m++)
        ck_q_quantize_activations(job->x + m * job->ldx, job->K, job->activations + m * (job->K / 32));
}

// The activation blocks laid out for the multi-row kernels (ck_q8_rows); one allocation, freed by the caller.
static void *ck_q8_rows_make(const ck_q8_activation *activations, int64_t M, int64_t blocks, ck_q8_rows *rows) {
    const int64_t pairs = blocks / 2;
    uint8_t *memory = malloc((size_t)(M * pairs * (64 + 16 * sizeof(float)) + blocks * M * sizeof(float)) + 1);
    if (!memory) return NULL;
    int8_t *bytes = (int8_t *)memory;
    float *pairScales = (float *)(memory + M * pairs * 64), *sums = pairScales + M * pairs * 16;
    for (int64_t m = 0; m < M; m++) {
        const ck_q8_activation *a = activations + m * blocks;
        for (int64_t p = 0; p < pairs; p++) {
            int8_t *pairBytes = bytes + (m * pairs + p) * 64;
            float *scales = pairScales + (m * pairs + p) * 16;
            memcpy(pairBytes, a[2 * p].qs, 32);
            memcpy(pairBytes + 32, a[2 * p + 1].qs, 32);
            for (int l = 0; l < 8; l++) scales[l] = a[2 * p].d, scales[8 + l] = a[2 * p + 1].d;
        }
        for (int64_t i = 0; i < blocks; i++) sums[i * M + m] = a[i].s;
    }
    *rows = (ck_q8_rows){.M = M, .blocks = blocks, .a = activations, .pairs = bytes, .pairScales = pairScales, .sums = sums};
    return memory;
}

// From ck_q_gemm_rows(type) input rows on (a prefill; the formats table's last column), the weights are decoded a
// slab of rows at a time and multiplied by the float32 GEMM, as ggml's BLAS backend does for batches: the decoding
// is paid once per slab for all M rows. Below it the multi-row integer kernels (8 input rows per decoded weight row) are faster. Timed on the 2-core Zen 4
// (2026-12-08; N 1536, K 768, best of 5 runs of each route, 1 thread on the AVX-512 and AVX2 paths, 2 threads at
// 16-64 rows for some types): the integer route of Q8_0 was 1.1–3.0× faster at 16–48 rows and slower on AVX2 at 64;
// Q4_0's and Q4_1's 1.2–2.6× at 16–32, level at 40–48; F16's, Q5_0's, Q5_1's, Q4_K's and Q5_K's 1.0–1.9× at 16, level
// or slower on one path at 24; BF16's and (on AVX2) Q6_K's no faster at 16. Each threshold keeps the integer route
// only at row counts where it was at least level on both paths.
enum { CK_Q_SLAB_ELEMENTS = 256 * 1024, CK_Q_QUANTIZE_ON_CALLER = 32 * 1024 };

int64_t ck_q_gemm_rows(int type) { return ck_q_format_of(type) ? ck_q_format_of(type)->gemmRows : 16; }

typedef struct {
    int type;
    const uint8_t *w;
    int64_t rowBytes, K;
    float *slab;
} ck_decode_job;

static void ck_decode_rows(void *context, int64_t begin, int64_t end) {
    const ck_decode_job *job = context;
    const uint8_t *w = job->w + begin * job->rowBytes;
    float *slab = job->slab + begin * job->K;
    // The k-quants, Q5_0 and Q5_1 through the active path's vectorised decoder (the same bits as ck_q_dequantize's).
    if (ck_q_decoded_per_path(job->type)) ck_quant_active()->decode(job->type, w, (end - begin) * job->K, slab);
    else ck_q_dequantize(job->type, w, end - begin, job->K, slab);
}

static int ck_qgemm_dequantized(int type, int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const uint8_t *w,
                                int64_t rowBytes, float *y, int64_t ldy) {
    const int64_t slabRows = K > 0 && CK_Q_SLAB_ELEMENTS / K > 0 ? CK_Q_SLAB_ELEMENTS / K : 1;
    const int64_t rows = slabRows < N ? slabRows : N;
    float *slab = malloc((size_t)(rows * (K > 0 ? K : 1)) * sizeof(float));
    if (!slab) return -1;
    for (int64_t n0 = 0; n0 < N; n0 += rows) {
        const int64_t count = n0 + rows < N ? rows : N - n0;
        ck_decode_job job = {.type = type, .w = w + n0 * rowBytes, .rowBytes = rowBytes, .K = K, .slab = slab};
        ck_parallel_for(count, 16, ck_decode_rows, &job);
        ck_sgemm(0, 1, M, count, K, 1, x, ldx, slab, K, 0, y + n0, ldy);
    }
    free(slab);
    return 0;
}

int ck_qgemm(int type, int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const void *w, float *y,
             int64_t ldy) {
    if (!ck_q_valid(type, N, K) || !ck_q_format_of(type)->multiplied || M < 0) return -1;
    if (M == 0 || N == 0) return 0;
    if (M >= ck_q_gemm_rows(type))
        return ck_qgemm_dequantized(type, M, N, K, x, ldx, w, K / ck_q_block_size(type) * ck_q_block_bytes(type), y, ldy);
    ck_qgemm_job job = {
        .kernels = ck_quant_entry_for(ck_quant_active(), type), .floatActivations = ck_q_float_activations(type), .M = M, .N = N, .K = K, .x = x, .ldx = ldx, .w = w,
        .rowBytes = K / ck_q_block_size(type) * ck_q_block_bytes(type), .y = y, .ldy = ldy,
    };
    ck_q8_activation *activations = NULL;
    if (!job.floatActivations) {
        if (K == 0) {
            for (int64_t m = 0; m < M; m++)
                for (int64_t n = 0; n < N; n++) y[m * ldy + n] = 0;
            return 0;
        }
        activations = malloc((size_t)(M * (K / 32)) * sizeof *activations);
        if (!activations) return -1;
        ck_quantize_job quantize = {.x = x, .ldx = ldx, .K = K, .activations = activations};
        // A batch's few rows of a small model: less work than handing it to the thread pool costs.
        if (M * K <= CK_Q_QUANTIZE_ON_CALLER) ck_quantize_rows(&quantize, 0, M);
        else ck_parallel_for(M, 1, ck_quantize_rows, &quantize);
        job.activations = activations;
    }
    ck_q8_rows rows;
    void *rowsMemory = NULL;
    if (!job.floatActivations && M > 1 && job.kernels.dotRows) {
        rowsMemory = ck_q8_rows_make(activations, M, K / 32, &rows);
        if (!rowsMemory) {
            free(activations);
            return -1;
        }
        job.rows = &rows;
    }
    ck_parallel_for((N + CK_Q_TILE_ROWS - 1) / CK_Q_TILE_ROWS, 1, ck_qgemm_tiles, &job);
    free(rowsMemory);
    free(activations);
    return 0;
}
