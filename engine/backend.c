/* backend.c — the list of backends and what their implementations share: the static worker
 * loop, CPU pinning, timing collection and the last error.
 */
#include "backend.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sl.h"

extern const struct sl_backend sl_be_serial, sl_be_simd, sl_be_threads, sl_be_processes,
    sl_be_pool, sl_be_openmp, sl_be_mpi;

const struct sl_backend *const sl_backends[] = {
    &sl_be_serial, &sl_be_simd,   &sl_be_threads,
    &sl_be_processes, &sl_be_pool, &sl_be_openmp,
    &sl_be_mpi,
    NULL,
};

const struct sl_backend *sl_backend_find(const char *name)
{
    for (const struct sl_backend *const *b = sl_backends; *b; b++)
        if (strcmp((*b)->name, name) == 0)
            return *b;
    return NULL;
}

void sl_backends_shutdown(void)
{
    for (const struct sl_backend *const *b = sl_backends; *b; b++)
        if ((*b)->shutdown)
            (*b)->shutdown();
}

int sl_probe_always(char *why, size_t len)
{
    (void)why;
    (void)len;
    return 0;
}

static _Thread_local char last_error[256];

const char *sl_backend_last_error(void)
{
    return last_error[0] ? last_error : "no error recorded";
}

void sl_backend_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

/* The CPUs the process was started with, captured once, before any pinning. */
static cpu_set_t start_set;
static int start_cpus[CPU_SETSIZE];
static unsigned start_ncpus;
static pthread_once_t start_once = PTHREAD_ONCE_INIT;

static void capture_start_set(void)
{
    if (sched_getaffinity(0, sizeof start_set, &start_set) != 0) {
        CPU_ZERO(&start_set);
        CPU_SET(0, &start_set);
    }
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &start_set))
            start_cpus[start_ncpus++] = c;
}

void sl_affinity_apply(enum sl_affinity mode, unsigned id, unsigned n)
{
    pthread_once(&start_once, capture_start_set);
    cpu_set_t set;
    if (mode == SL_AFF_NONE || start_ncpus == 0) {
        set = start_set;
    } else {
        unsigned slot = mode == SL_AFF_CLOSE ? id % start_ncpus
                                             : (unsigned)((uint64_t)id * start_ncpus / n) % start_ncpus;
        CPU_ZERO(&set);
        CPU_SET(start_cpus[slot], &set);
    }
    /* Failure (a CPU taken away by a cgroup meanwhile) leaves the worker unpinned: the run
     * is still valid, only less controlled. */
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void sl_work_static(const struct sl_exec *x, unsigned id, void (*barrier)(void *), void *arg,
                    struct sl_worker_rec *rec)
{
    memset(&rec->part, 0, sizeof rec->part);
    rec->busy_ns = rec->wait_ns = 0;
    rec->start_ns = sl_now_ns();
    for (unsigned ph = 0; ph < x->phases; ph++) {
        uint64_t b, e, n = x->wl->items(x->state, ph);
        sl_split(n, x->workers, id, &b, &e);
        if (b < e) {
            uint64_t t = sl_now_ns();
            x->kernel(x->state, ph, b, e, &rec->part);
            rec->busy_ns += sl_now_ns() - t;
        }
        if (x->phases > 1 && barrier)
            sl_barrier_timed(barrier, arg, rec);
    }
    rec->end_ns = sl_now_ns();
    rec->cpu = sched_getcpu();
}

void sl_barrier_timed(void (*wait)(void *), void *arg, struct sl_worker_rec *rec)
{
    uint64_t t = sl_now_ns();
    wait(arg);
    rec->wait_ns += sl_now_ns() - t;
}

uint64_t sl_auto_chunk(uint64_t items, unsigned workers)
{
    /* Four chunks per worker: enough to even out a slow worker, few enough that each chunk
     * amortises what it must re-read (matmul re-streams all of B for every chunk). */
    uint64_t c = items / ((uint64_t)workers * 4);
    return c ? c : 1;
}

void sl_timing_collect(const struct sl_exec *x, uint64_t t0, const struct sl_worker_rec *recs,
                       struct sl_timing *t)
{
    uint64_t last_start = t0, last_end = t0;
    memset(&t->result, 0, sizeof t->result);
    for (unsigned i = 0; i < x->workers; i++) {
        if (recs[i].start_ns > last_start)
            last_start = recs[i].start_ns;
        if (recs[i].end_ns > last_end)
            last_end = recs[i].end_ns;
        t->busy_ns[i] = recs[i].busy_ns;
        if (t->wait_ns)
            t->wait_ns[i] = recs[i].wait_ns;
        if (t->cpus)
            t->cpus[i] = recs[i].cpu;
        sl_workload_combine(x->wl, &t->result, &recs[i].part);
    }
    if (x->wl->finish)
        x->wl->finish(x->state, &t->result);
    uint64_t now = sl_now_ns();
    if (last_end < last_start)
        last_end = last_start;
    t->spawn_ns = last_start - t0;
    t->compute_ns = last_end - last_start;
    t->combine_ns = now > last_end ? now - last_end : 0;
}
