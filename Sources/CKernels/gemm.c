// GEMM dispatcher: picks the instruction-set path, splits C into per-thread rectangles, and runs the
// Goto/BLIS blocked algorithm on each rectangle with the path's packing routines and micro-kernel.
//
// Loop nest per rectangle (rows × cols of C), innermost last:
//   rows in MC blocks → k in KC blocks (pack A block) → cols in NC blocks (pack B block)
//   → MR row panels (one A panel stays in L1) → NR column panels (streamed) → micro-kernel.
// K is never split across threads and the KC blocking depends only on K, so every element of C is
// computed by the same sequence of roundings whatever the thread count: results are bit-identical
// across thread counts, not just across runs.
//
// The bf16 products (ck_sgemm_bf16) run the same loop nest: on the AVX512-BF16 kernel table, whose packing
// rounds to bf16 pairs, or on the active path's float kernels with each packed block rounded to bf16 in place
// (the "converted" path, for CPUs without bf16 instructions).
#include "ck_gemm.h"
#include "ck_threads.h"
#include "gemm_internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---- Path selection.

int ck_path_supported(int path) {
    switch (path) {
    case CK_PATH_AUTO:
    case CK_PATH_PORTABLE: return 1;
#if defined(__x86_64__)
    case CK_PATH_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CK_PATH_AVX512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#elif defined(__aarch64__)
    case CK_PATH_NEON: return 1;
#endif
    default: return 0;
    }
}

static int ck_best_path(void) {
    if (ck_path_supported(CK_PATH_AVX512)) return CK_PATH_AVX512;
    if (ck_path_supported(CK_PATH_AVX2)) return CK_PATH_AVX2;
    if (ck_path_supported(CK_PATH_NEON)) return CK_PATH_NEON;
    return CK_PATH_PORTABLE;
}

// The path AUTO stands for: CHARTER_KERNEL_PATH when it names a supported path, else the best.
static int ck_default_path(void) {
    const char *env = getenv("CHARTER_KERNEL_PATH");
    if (env && *env) {
        for (int path = CK_PATH_PORTABLE; path <= CK_PATH_NEON; path++)
            if (strcmp(env, ck_path_name(path)) == 0 && ck_path_supported(path)) return path;
    }
    return ck_best_path();
}

static _Atomic int ck_current_path = 0;  // 0: not yet chosen

int ck_set_path(int path) {
    if (!ck_path_supported(path)) return -1;
    atomic_store_explicit(&ck_current_path, path == CK_PATH_AUTO ? ck_default_path() : path,
                          memory_order_relaxed);
    return 0;
}

int ck_active_path(void) {
    int path = atomic_load_explicit(&ck_current_path, memory_order_relaxed);
    if (path == 0) {
        path = ck_default_path();
        atomic_store_explicit(&ck_current_path, path, memory_order_relaxed);
    }
    return path;
}

const char *ck_path_name(int path) {
    switch (path) {
    case CK_PATH_PORTABLE: return "portable";
    case CK_PATH_AVX2: return "avx2";
    case CK_PATH_AVX512: return "avx512";
    case CK_PATH_NEON: return "neon";
    default: return "auto";
    }
}

int ck_bf16_supported(void) {
#if defined(__x86_64__)
    return ck_path_supported(CK_PATH_AVX512) && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

// The bf16 products use VDPBF16PS when the active path is AVX-512 and the CPU has it.
static int ck_bf16_native(void) { return ck_active_path() == CK_PATH_AVX512 && ck_bf16_supported(); }

const char *ck_bf16_path_name(void) {
    switch (ck_active_path()) {
    case CK_PATH_AVX512: return ck_bf16_supported() ? "avx512bf16" : "avx512+convert";
    case CK_PATH_AVX2: return "avx2+convert";
    case CK_PATH_NEON: return "neon+convert";
    default: return "portable+convert";
    }
}

float ck_round_bf16(float x) {
    union { uint32_t u; float f; } v = {ck_bf16_bits(x)};
    return v.f;
}

static _Atomic int ck_precision = CK_MATMUL_FP32;

void ck_set_matmul_precision(int precision) {
    atomic_store_explicit(&ck_precision, precision == CK_MATMUL_BF16 ? CK_MATMUL_BF16 : CK_MATMUL_FP32,
                          memory_order_relaxed);
}

int ck_matmul_precision(void) { return atomic_load_explicit(&ck_precision, memory_order_relaxed); }

static const ck_gemm_kernels *ck_active_kernels(void) {
    switch (ck_active_path()) {
#if defined(__x86_64__)
    case CK_PATH_AVX512: return ck_gemm_kernels_avx512();
    case CK_PATH_AVX2: return ck_gemm_kernels_avx2();
#endif
#if defined(__aarch64__)
    case CK_PATH_NEON: return ck_gemm_kernels_neon();
#endif
    default: return ck_gemm_kernels_portable();
    }
}

// ---- Per-thread packing buffers, kept between calls (reallocating them each call costs page faults that
// dominate small products) and freed when the thread exits.

typedef struct {
    float *data;
    size_t capacity;  // floats
} ck_scratch;

static pthread_key_t ck_scratch_key;
static pthread_once_t ck_scratch_once = PTHREAD_ONCE_INIT;

static void ck_scratch_free(void *pointer) {
    ck_scratch *scratch = pointer;
    free(scratch->data);
    free(scratch);
}

static void ck_scratch_make_key(void) { pthread_key_create(&ck_scratch_key, ck_scratch_free); }

// Returns a 64-byte aligned buffer of at least `floats` floats, or NULL when out of memory.
static float *ck_scratch_get(size_t floats) {
    pthread_once(&ck_scratch_once, ck_scratch_make_key);
    ck_scratch *scratch = pthread_getspecific(ck_scratch_key);
    if (!scratch) {
        scratch = calloc(1, sizeof *scratch);
        if (!scratch) return NULL;
        pthread_setspecific(ck_scratch_key, scratch);
    }
    if (scratch->capacity < floats) {
        free(scratch->data);
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        scratch->data = aligned_alloc(64, bytes);
        scratch->capacity = scratch->data ? floats : 0;
    }
    return scratch->data;
}

// ---- The serial blocked product on one rectangle of C.

typedef struct {
    const ck_gemm_kernels *kernels;
    int roundOperands;            // bf16 on float kernels: round each packed block (and the unpacked operands)
    int transA, transB;
    int64_t M, N, K;
    float alpha, beta;
    const float *A, *B;
    float *C;
    int64_t lda, ldb, ldc;
    int64_t strideA, strideB, strideC;
    int64_t kc;                   // depth of a packed block, from K alone (see the top of the file)
    int64_t nc;                   // columns of a packed B block (ck_plan_columns)
    int64_t rowTiles, colTiles;   // each product's C is split into rowTiles × colTiles rectangles
    int skinny;                   // few rows: multiply straight from A and B, no packing
    int64_t tasks;                // batch × rowTiles × colTiles
    _Atomic int64_t next;         // the next unclaimed task
} ck_gemm_job;

static int64_t ck_min(int64_t a, int64_t b) { return a < b ? a : b; }

// Plain loops for when no packing buffer can be had; slow but never wrong.
static void ck_gemm_unpacked(const ck_gemm_job *job, const float *A, const float *B, float *C, int64_t row0,
                             int64_t row1, int64_t col0, int64_t col1) {
    for (int64_t i = row0; i < row1; i++) {
        for (int64_t j = col0; j < col1; j++) {
            float sum = 0;
            for (int64_t p = 0; p < job->K; p++) {
                float a = job->transA ? A[p * job->lda + i] : A[i * job->lda + p];
                float b = job->transB ? B[j * job->ldb + p] : B[p * job->ldb + j];
                if (job->roundOperands || job->kernels->bf16_pairs) a = ck_round_bf16(a), b = ck_round_bf16(b);
                sum += a * b;
            }
            float *c = C + i * job->ldc + j;
            *c = job->alpha * sum + (job->beta == 0 ? 0 : job->beta * *c);
        }
    }
}

// Rounds a packed block to bf16 in place (the converted bf16 path).
static void ck_round_block(float *block, int64_t count) {
    uint32_t *bits = (uint32_t *)block;
    for (int64_t i = 0; i < count; i++) {
        union { float f; uint32_t u; } v = {.u = bits[i]};
        bits[i] = ck_bf16_bits(v.f);
    }
}

static void ck_gemm_rectangle(const ck_gemm_job *job, const float *A, const float *B, float *C, int64_t row0,
                              int64_t row1, int64_t col0, int64_t col1) {
    const ck_gemm_kernels *kern = job->kernels;
    const int64_t MR = kern->mr, NR = kern->nr, K = job->K, KC = job->kc;
    const int64_t MC = ck_min(kern->mc, (row1 - row0 + MR - 1) / MR * MR);
    int64_t NC = ck_min(kern->nc, (col1 - col0 + NR - 1) / NR * NR);
    if (job->nc < kern->nc) {  // L2-sized blocks (ck_plan_columns), made equal so that the last is not a sliver
        const int64_t blocks = (col1 - col0 + job->nc - 1) / job->nc;
        NC = ((col1 - col0 + blocks - 1) / blocks + NR - 1) / NR * NR;
    }
    // Floats (or bf16 pair words) per packed row of depth kc.
#define CK_PANEL_DEPTH(kc) (kern->bf16_pairs ? ((kc) + 1) / 2 : (kc))
    const int64_t offsetB = (MC * CK_PANEL_DEPTH(KC) + 15) / 16 * 16;  // keeps the B panels 64-byte aligned
    float *packedA = ck_scratch_get((size_t)(offsetB + NC * CK_PANEL_DEPTH(KC)));
    if (!packedA) {
        ck_gemm_unpacked(job, A, B, C, row0, row1, col0, col1);
        return;
    }
    float *packedB = packedA + offsetB;
    // op(A)[i, p] sits at A[i*lda + p], or at A[p*lda + i] when transposed; likewise for B.
    const int64_t aRow = job->transA ? 1 : job->lda, aDepth = job->transA ? job->lda : 1;
    const int64_t bCol = job->transB ? job->ldb : 1, bDepth = job->transB ? 1 : job->ldb;

    for (int64_t ic = row0; ic < row1; ic += MC) {
        const int64_t mc = ck_min(MC, row1 - ic);
        for (int64_t pc = 0; pc < K; pc += KC) {
            const int64_t kc = ck_min(KC, K - pc);
            // The first K block applies beta; the later ones accumulate onto it.
            const float beta = pc == 0 ? job->beta : 1.0f;
            const int64_t depth = CK_PANEL_DEPTH(kc);
            kern->pack_a(job->transA, mc, kc, A + ic * aRow + pc * aDepth, job->lda, packedA);
            if (job->roundOperands) ck_round_block(packedA, (mc + MR - 1) / MR * MR * kc);
            for (int64_t jc = col0; jc < col1; jc += NC) {
                const int64_t nc = ck_min(NC, col1 - jc);
                kern->pack_b(!job->transB, nc, kc, B + pc * bDepth + jc * bCol, job->ldb, packedB);
                if (job->roundOperands) ck_round_block(packedB, (nc + NR - 1) / NR * NR * kc);
                for (int64_t ir = 0; ir < mc; ir += MR) {
                    const float *panelA = packedA + ir * depth;
                    float *rowC = C + (ic + ir) * job->ldc + jc;
                    const int64_t m = ck_min(MR, mc - ir);
                    for (int64_t jr = 0; jr < nc; jr += NR)
                        kern->kernel(kc, panelA, packedB + jr * depth, rowC + jr, job->ldc, m, ck_min(NR, nc - jr),
                                     job->alpha, beta);
                }
            }
        }
    }
#undef CK_PANEL_DEPTH
}

// C = beta * C for the products that multiply nothing (K == 0 or alpha == 0); beta == 0 writes zeros.
static void ck_gemm_scale(const ck_gemm_job *job, float *C, int64_t row0, int64_t row1, int64_t col0,
                          int64_t col1) {
    for (int64_t i = row0; i < row1; i++) {
        float *row = C + i * job->ldc;
        if (job->beta == 0) {
            for (int64_t j = col0; j < col1; j++) row[j] = 0;
        } else if (job->beta != 1) {
            for (int64_t j = col0; j < col1; j++) row[j] *= job->beta;
        }
    }
}

// Splits [0, extent) into `parts` ranges on multiples of `unit` (whole micro-tiles) and returns the i-th.
static void ck_split(int64_t extent, int64_t unit, int64_t parts, int64_t i, int64_t *begin, int64_t *end) {
    int64_t units = (extent + unit - 1) / unit;
    *begin = ck_min(extent, units * i / parts * unit);
    *end = ck_min(extent, units * (i + 1) / parts * unit);
}

static void ck_gemm_task(const ck_gemm_job *job, int64_t task) {
    const int64_t tilesPerProduct = job->rowTiles * job->colTiles;
    int64_t product = task / tilesPerProduct, tile = task % tilesPerProduct;
    int64_t row0, row1, col0, col1;
    ck_split(job->M, job->kernels->mr, job->rowTiles, tile / job->colTiles, &row0, &row1);
    ck_split(job->N, job->kernels->nr, job->colTiles, tile % job->colTiles, &col0, &col1);
    if (row0 >= row1 || col0 >= col1) return;
    const float *A = job->A + product * job->strideA;
    const float *B = job->B + product * job->strideB;
    float *C = job->C + product * job->strideC;
    if (job->K == 0 || job->alpha == 0) {
        ck_gemm_scale(job, C, row0, row1, col0, col1);
    } else if (job->skinny) {
        const int64_t aRow = job->transA ? 1 : job->lda, bCol = job->transB ? job->ldb : 1;
        job->kernels->skinny(job->transA, job->transB, row1 - row0, col1 - col0, job->K, job->alpha,
                             A + row0 * aRow, job->lda, B + col0 * bCol, job->ldb, job->beta,
                             C + row0 * job->ldc + col0, job->ldc);
    } else {
        ck_gemm_rectangle(job, A, B, C, row0, row1, col0, col1);
    }
}

// Tasks are (product, row tile, col tile) triples numbered row-major. Each thread claims the next task
// until none is left, so a thread that the OS preempts (the machine is shared) hands its share to the
// others. Which thread computes a tile does not change its bits (see the top of the file), so this
// dynamic schedule keeps the results deterministic.
static void ck_gemm_worker(void *context, int64_t begin, int64_t end) {
    (void)begin, (void)end;
    ck_gemm_job *job = context;
    for (;;) {
        int64_t task = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (task >= job->tasks) return;
        ck_gemm_task(job, task);
    }
}

// Chooses how many rectangles each product's C is cut into, and their rows × cols grid. Products of more
// than ~10 ms per thread get two tasks per thread, so that the dynamic schedule can rebalance when the OS
// preempts a thread (a time slice is a few ms); each extra rectangle costs one more packing of its share
// of A or B, which is why shorter products get one (on Zen 4, two threads: 2048×768×768 ran 7% faster as
// two rectangles than as four, 1024³ 2% faster, 2048³ the same).
static void ck_plan_tiles(ck_gemm_job *job, int64_t batch) {
    job->rowTiles = job->colTiles = 1;
    const int64_t threads = ck_get_num_threads();
    const double work = (double)job->M * (double)job->N * (double)job->K * (double)batch;  // multiply-adds
    // Below ~100k multiply-adds a product is over before a second thread would have woken up.
    if (threads <= 1 || work < 1e5) return;
    const int64_t tasks = work >= 1e9 * (double)threads ? 2 * threads : threads;
    const int64_t tiles = (tasks + batch - 1) / batch;
    if (tiles <= 1) return;
    const int64_t MR = job->kernels->mr, NR = job->kernels->nr;
    const int64_t rowUnits = (job->M + MR - 1) / MR, colUnits = (job->N + NR - 1) / NR;
    double bestCost = 0;
    for (int64_t rows = 1; rows <= tiles; rows++) {
        if (tiles % rows) continue;
        int64_t cols = tiles / rows;
        // Work of the largest rectangle in micro-tiles, plus the packing each rectangle repeats: cutting
        // rows makes every rectangle pack all of B's columns, cutting columns all of A's rows.
        double area = (double)((rowUnits + rows - 1) / rows * MR) * (double)((colUnits + cols - 1) / cols * NR);
        double packing = (double)((job->M + rows - 1) / rows + (job->N + cols - 1) / cols);
        double cost = area * (double)job->K / 16.0 + packing * (double)job->K;
        if (bestCost == 0 || cost < bestCost) {
            bestCost = cost;
            job->rowTiles = rows;
            job->colTiles = cols;
        }
    }
}

// A depth block of at most kern->kc, with the K blocks made equal so the last one is not a sliver (and even for
// bf16 pairs, so that only the last block can have a padded pair).
static int64_t ck_plan_depth(const ck_gemm_kernels *kern, int64_t K) {
    if (K <= kern->kc) return K < 1 ? 1 : K;
    int64_t blocks = (K + kern->kc - 1) / kern->kc;
    int64_t depth = (K + blocks - 1) / blocks;
    return kern->bf16_pairs ? (depth + 1) / 2 * 2 : depth;
}

// The core's L2 in bytes (0: unknown), read once.
static int64_t ck_l2_bytes(void) {
    static _Atomic int64_t cached = -1;
    int64_t bytes = atomic_load_explicit(&cached, memory_order_relaxed);
    if (bytes < 0) {
#if defined(_SC_LEVEL2_CACHE_SIZE)
        long size = sysconf(_SC_LEVEL2_CACHE_SIZE);
        bytes = size > 0 ? size : 0;
#else
        bytes = 0;
#endif
        atomic_store_explicit(&cached, bytes, memory_order_relaxed);
    }
    return bytes;
}

// Columns of B packed at once for depth blocks of kc. The kernel table's nc was measured on Zen 4, whose L3 feeds
// a B block streamed from past L2 fast enough. Intel's mesh L3 does not: on a 2-core Emerald Rapids Xeon (2 MB L2;
// 20 rounds alternating with the table's 1536) the AVX2 path ran 2048×3072×768 19% faster with the B block in half
// of L2 (nc 672), the benchmark table's other shapes within ±4%, and the AVX-512 path 1–6% faster on every shape it
// changes. So on Intel the block is cut to half the L2 (and
// ck_gemm_rectangle makes the blocks equal); elsewhere the table's nc stands, as measured. Which columns share a
// block does not change any element's sequence of roundings.
static int64_t ck_plan_columns(const ck_gemm_kernels *kern, int64_t kc) {
    int64_t nc = kern->nc;
#if defined(__x86_64__)
    const int64_t l2 = ck_l2_bytes();
    if (l2 > 0 && __builtin_cpu_is("intel")) {
        const int64_t bytesPerColumn = (kern->bf16_pairs ? (kc + 1) / 2 : kc) * (int64_t)sizeof(float);
        const int64_t fit = l2 / 2 / bytesPerColumn / kern->nr * kern->nr;
        nc = ck_min(nc, fit > kern->nr ? fit : kern->nr);
    }
#endif
    return nc;
}

// precision: CK_MATMUL_FP32 or CK_MATMUL_BF16.
static void ck_gemm_run(int precision, int transA, int transB, int64_t M, int64_t N, int64_t K,
                        float alpha, const float *A, int64_t lda, int64_t strideA,
                        const float *B, int64_t ldb, int64_t strideB,
                        float beta, float *C, int64_t ldc, int64_t strideC,
                        int64_t batch) {
    if (M <= 0 || N <= 0 || batch <= 0) return;
    if (K < 0) K = 0;
    const int bf16 = precision == CK_MATMUL_BF16;
#if defined(__x86_64__)
    const ck_gemm_kernels *kernels = bf16 && ck_bf16_native() ? ck_gemm_kernels_avx512bf16() : ck_active_kernels();
#else
    const ck_gemm_kernels *kernels = ck_active_kernels();
#endif
    ck_gemm_job job = {
        .kernels = kernels, .roundOperands = bf16 && !kernels->bf16_pairs,
        .transA = transA != 0, .transB = transB != 0,
        .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .A = A, .B = B, .C = C,
        .lda = lda, .ldb = ldb, .ldc = ldc, .strideA = strideA, .strideB = strideB, .strideC = strideC,
    };
    job.kc = ck_plan_depth(job.kernels, K);
    job.nc = ck_plan_columns(job.kernels, job.kc);
    // Measured crossover with the packed path on Zen 4: ~6 rows for row-streamed B, ~12 for dot products (16 with
    // AVX-512's 8-row dot kernel). The dot products stop at 8 all the same: their per-element sums (16 partial sums)
    // differ in the last bits from the packed kernels' (k in order), and the prefix cache feeds at least 10 tokens so
    // that a cached prompt's rows take the same path as in a whole prefill.
    // (The skinny kernels read unrounded operands: bf16 products always pack.)
    job.skinny = job.kernels->skinny && !bf16 && !(job.transA && job.transB) && M <= (job.transB ? 8 : 4);
    ck_plan_tiles(&job, batch);
    job.tasks = batch * job.rowTiles * job.colTiles;
    atomic_init(&job.next, 0);
    ck_parallel_for(ck_min(job.tasks, ck_get_num_threads()), 1, ck_gemm_worker, &job);
}

void ck_sgemm_batched(int transA, int transB, int64_t M, int64_t N, int64_t K,
                      float alpha, const float *A, int64_t lda, int64_t strideA,
                      const float *B, int64_t ldb, int64_t strideB,
                      float beta, float *C, int64_t ldc, int64_t strideC,
                      int64_t batch) {
    ck_gemm_run(CK_MATMUL_FP32, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                strideC, batch);
}

void ck_sgemm_batched_bf16(int transA, int transB, int64_t M, int64_t N, int64_t K,
                           float alpha, const float *A, int64_t lda, int64_t strideA,
                           const float *B, int64_t ldb, int64_t strideB,
                           float beta, float *C, int64_t ldc, int64_t strideC,
                           int64_t batch) {
    ck_gemm_run(CK_MATMUL_BF16, transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                strideC, batch);
}

void ck_sgemm_bf16(int transA, int transB, int64_t M, int64_t N, int64_t K,
                   float alpha, const float *A, int64_t lda,
                   const float *B, int64_t ldb,
                   float beta, float *C, int64_t ldc) {
    ck_sgemm_batched_bf16(transA, transB, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

void ck_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K,
              float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb,
              float beta, float *C, int64_t ldc) {
    ck_sgemm_batched(transA, transB, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}
