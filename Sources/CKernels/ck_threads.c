// A tiny persistent thread pool with static partitioning, shared by every parallel kernel.
// Static chunks (not work stealing) keep floating-point reductions deterministic for a given thread count.
#include "ck_threads.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define CK_MAX_THREADS 256

static int ck_thread_count = 0;           // 0: not yet initialised
static _Thread_local int ck_in_parallel = 0;  // nested parallel regions run serially

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
    if (ck_thread_count == 0) ck_thread_count = ck_default_threads();
    return ck_thread_count;
}

void ck_set_num_threads(int count) {
    if (count < 1) count = 1;
    if (count > CK_MAX_THREADS) count = CK_MAX_THREADS;
    ck_thread_count = count;
}

typedef struct {
    ck_parallel_body body;
    void *context;
    int64_t begin, end;
} ck_task;

static void *ck_run_task(void *arg) {
    ck_task *task = (ck_task *)arg;
    ck_in_parallel = 1;
    task->body(task->context, task->begin, task->end);
    ck_in_parallel = 0;
    return NULL;
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
    ck_task tasks[CK_MAX_THREADS];
    pthread_t handles[CK_MAX_THREADS];
    int64_t chunk = count / threads, extra = count % threads, start = 0;
    for (int64_t t = 0; t < threads; t++) {
        int64_t size = chunk + (t < extra ? 1 : 0);
        tasks[t] = (ck_task){body, context, start, start + size};
        start += size;
    }
    for (int64_t t = 1; t < threads; t++) pthread_create(&handles[t], NULL, ck_run_task, &tasks[t]);
    ck_run_task(&tasks[0]);
    for (int64_t t = 1; t < threads; t++) pthread_join(handles[t], NULL);
}
