#ifndef CHARTER_CK_THREADS_H
#define CHARTER_CK_THREADS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Number of worker threads used by every parallel kernel (including the caller's thread).
/// Defaults to the CHARTER_THREADS environment variable, else the number of online CPUs.
int ck_get_num_threads(void);
/// Sets the thread count (>= 1). Takes effect for the next kernel call.
void ck_set_num_threads(int count);

/// Runs body(context, index) for index in [0, count) split across the pool; returns when all are done.
/// The split is static (contiguous chunks per thread), so results never depend on scheduling.
/// A call from inside a body runs the whole range serially on the calling thread; calls from several
/// threads at once take turns. The pool's threads persist between calls (created on first use).
typedef void (*ck_parallel_body)(void *context, int64_t begin, int64_t end);
void ck_parallel_for(int64_t count, int64_t grain, ck_parallel_body body, void *context);

#ifdef __cplusplus
}
#endif
#endif
