// A small persistent thread pool with static partitioning, shared by every parallel kernel.
// Static chunks (not work stealing) keep floating-point reductions deterministic for a given thread count.
// Workers are created once and wait for the next region by spinning briefly (regions often come back to
// back, and a futex wake costs microseconds) and then sleeping on a condition variable, so idle workers
// don't burn a core that other processes need.
#include "ck_threads.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#define ck_cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define ck_cpu_relax() __asm__ __volatile__("yield")
#else
#define ck_cpu_relax() ((void)0)
#endif

#define CK_MAX_THREADS 256
// How long a waiting thread spins before it sleeps: long enough to bridge the gap between two kernels of
// one training step, short enough not to steal a core for long.
#define CK_SPIN_NANOSECONDS 200000

static _Atomic int ck_thread_count = 0;             // 0: not yet initialised
static _Thread_local int ck_in_parallel = 0;        // nested parallel regions run serially

static int ck_default_threads(void) {
    const char *env = getenv("CHARTER_THREADS");
    if (env && *env) {
        int n = atoi(env);
        if (n >= 1) return n > CK_MAX_THREADS ? CK_MAX_THREADS : n;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) cpus = 1;
    return cpus > CK_MAX_THREADS ? CK_MAX_THREADS : (int)cpus;
}

int ck_get_num_threads(void) {
    int count = atomic_load_explicit(&ck_thread_count, memory_order_relaxed);
    if (count == 0) {
        count = ck_default_threads();
        atomic_store_explicit(&ck_thread_count, count, memory_order_relaxed);
    }
    return count;
}

void ck_set_num_threads(int count) {
    if (count < 1) count = 1;
    if (count > CK_MAX_THREADS) count = CK_MAX_THREADS;
    atomic_store_explicit(&ck_thread_count, count, memory_order_relaxed);
}

// The pool runs one region at a time; `submit` queues callers from different threads.
static struct {
    pthread_mutex_t submit;
    pthread_mutex_t lock;           // guards `sleepers` and the two condition variables
    pthread_cond_t wake, done;
    int sleepers;                   // workers blocked on `wake`
    int workers;                    // worker threads created so far (the caller is not one)
    // (region sequence number << 9) | participants, bumped once per region; workers wait for it to change.
    // Carrying the participant count in the same word lets a worker that sits out one region tell so
    // without reading fields that the next region may already be overwriting.
    _Atomic uint64_t generation;
    _Atomic int64_t pending;        // participating workers still running the current region
    // The current region, written before `generation` is bumped.
    ck_parallel_body body;
    void *context;
    int64_t count, participants;
    int callerCPU;                  // the CPU the submitting thread ran on (-1: unknown)
} ck_pool = {
    .submit = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

static uint64_t ck_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Thread `index` of `participants` gets the index-th contiguous chunk of [0, count).
static void ck_run_chunk(int64_t index) {
    int64_t count = ck_pool.count, participants = ck_pool.participants;
    int64_t chunk = count / participants, extra = count % participants;
    int64_t begin = index * chunk + (index < extra ? index : extra);
    int64_t end = begin + chunk + (index < extra ? 1 : 0);
    if (begin < end) ck_pool.body(ck_pool.context, begin, end);
}

typedef struct {
    int64_t index;
    uint64_t seen;  // generation current when the worker was created
} ck_worker_start;

// A worker that finds itself on the submitting thread's CPU moves off it. When every CPU is busy (a shared
// machine), Linux may place a new or woken worker on its waker's CPU and leave it there for seconds, both
// threads being cache-hot: the region then runs on one CPU at half speed (whole `charter bench gemm` runs did so
// on the busy 2-CPU benchmark VM). The worker excludes that CPU from its affinity, which moves it at once, then
// restores its affinity, so it stays free to go anywhere. At most once per 10 ms.
static void ck_leave_caller_cpu(uint64_t *lastMove) {
#if defined(__linux__)
    int here = sched_getcpu();
    if (here < 0 || here != ck_pool.callerCPU) return;
    uint64_t now = ck_now_ns();
    if (now - *lastMove < 10000000u) return;
    *lastMove = now;
    cpu_set_t allowed, elsewhere;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    elsewhere = allowed;
    CPU_CLR(here, &elsewhere);
    if (CPU_COUNT(&elsewhere) == 0 || sched_setaffinity(0, sizeof elsewhere, &elsewhere) != 0) return;
    sched_setaffinity(0, sizeof allowed, &allowed);
#else
    (void)lastMove;
#endif
}

static void *ck_worker_main(void *arg) {
    ck_worker_start start = *(ck_worker_start *)arg;
    free(arg);
    ck_in_parallel = 1;  // a worker only ever runs region bodies
    uint64_t seen = start.seen, lastMove = 0;
    for (;;) {
        uint64_t deadline = ck_now_ns() + CK_SPIN_NANOSECONDS;
        for (int spins = 0; atomic_load_explicit(&ck_pool.generation, memory_order_acquire) == seen; spins++) {
            ck_cpu_relax();
            if ((spins & 255) == 255 && ck_now_ns() > deadline) {
                pthread_mutex_lock(&ck_pool.lock);
                ck_pool.sleepers++;
                while (atomic_load_explicit(&ck_pool.generation, memory_order_acquire) == seen)
                    pthread_cond_wait(&ck_pool.wake, &ck_pool.lock);
                ck_pool.sleepers--;
                pthread_mutex_unlock(&ck_pool.lock);
            }
        }
        seen = atomic_load_explicit(&ck_pool.generation, memory_order_acquire);
        if (start.index >= (int64_t)(seen & 511)) continue;
        ck_leave_caller_cpu(&lastMove);
        ck_run_chunk(start.index);
        if (atomic_fetch_sub_explicit(&ck_pool.pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&ck_pool.lock);
            pthread_cond_broadcast(&ck_pool.done);
            pthread_mutex_unlock(&ck_pool.lock);
        }
    }
    return NULL;
}

// A forked child has only the forking thread: forget the parent's workers (the child creates its own on
// its first parallel region) and reset the locks, which the parent may have held at the fork.
static void ck_pool_after_fork(void) {
    pthread_mutex_init(&ck_pool.submit, NULL);
    pthread_mutex_init(&ck_pool.lock, NULL);
    pthread_cond_init(&ck_pool.wake, NULL);
    pthread_cond_init(&ck_pool.done, NULL);
    ck_pool.sleepers = 0;
    ck_pool.workers = 0;
    atomic_store(&ck_pool.pending, 0);
}

static void ck_pool_register_fork_handler(void) { pthread_atfork(NULL, NULL, ck_pool_after_fork); }

// Creates workers until `wanted` exist (called with `submit` held). Returns how many exist.
static int ck_grow_pool(int wanted) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ck_pool_register_fork_handler);
    while (ck_pool.workers < wanted) {
        ck_worker_start *start = malloc(sizeof *start);
        if (!start) break;
        start->index = ck_pool.workers + 1;
        start->seen = atomic_load_explicit(&ck_pool.generation, memory_order_relaxed);
        pthread_t handle;
        if (pthread_create(&handle, NULL, ck_worker_main, start) != 0) {
            free(start);
            break;
        }
        pthread_detach(handle);
        ck_pool.workers++;
    }
    return ck_pool.workers;
}

void ck_parallel_for(int64_t count, int64_t grain, ck_parallel_body body, void *context) {
    if (count <= 0) return;
    if (grain < 1) grain = 1;
    int64_t threads = ck_get_num_threads();
    int64_t maxChunks = (count + grain - 1) / grain;
    if (threads > maxChunks) threads = maxChunks;
    if (threads <= 1 || ck_in_parallel) {
        body(context, 0, count);
        return;
    }
    pthread_mutex_lock(&ck_pool.submit);
    int64_t workers = ck_grow_pool((int)threads - 1);
    if (threads > workers + 1) threads = workers + 1;
    ck_pool.body = body;
    ck_pool.context = context;
    ck_pool.count = count;
    ck_pool.participants = threads;
#if defined(__linux__)
    ck_pool.callerCPU = sched_getcpu();
#else
    ck_pool.callerCPU = -1;
#endif
    atomic_store_explicit(&ck_pool.pending, threads - 1, memory_order_relaxed);
    uint64_t previous = atomic_load_explicit(&ck_pool.generation, memory_order_relaxed);
    atomic_store_explicit(&ck_pool.generation, ((previous >> 9) + 1) << 9 | (uint64_t)threads,
                          memory_order_release);
    pthread_mutex_lock(&ck_pool.lock);
    if (ck_pool.sleepers > 0) pthread_cond_broadcast(&ck_pool.wake);
    pthread_mutex_unlock(&ck_pool.lock);

    ck_in_parallel = 1;
    ck_run_chunk(0);
    ck_in_parallel = 0;

    uint64_t deadline = ck_now_ns() + CK_SPIN_NANOSECONDS;
    for (int spins = 0; atomic_load_explicit(&ck_pool.pending, memory_order_acquire) != 0; spins++) {
        ck_cpu_relax();
        if ((spins & 255) == 255 && ck_now_ns() > deadline) {
            pthread_mutex_lock(&ck_pool.lock);
            while (atomic_load_explicit(&ck_pool.pending, memory_order_acquire) != 0)
                pthread_cond_wait(&ck_pool.done, &ck_pool.lock);
            pthread_mutex_unlock(&ck_pool.lock);
        }
    }
    pthread_mutex_unlock(&ck_pool.submit);
}
