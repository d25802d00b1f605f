/* openmp.c — `openmp`: a parallel region over the items, schedule static, dynamic or guided.
 *
 * The route of Numba's prange and Cython's prange (both OpenMP underneath). libgomp keeps
 * its team alive between regions, so a run pays a region entry rather than a spawn: a
 * futex wake-up once the idle threads have gone to sleep, which the engine makes them do
 * after a short spin (ompenv.h) so that they never compete with the next backend's run. Static uses the same contiguous split as the
 * other backends; dynamic and guided hand out chunks of `chunk` items through the runtime's
 * own `omp for` scheduler. Phases are separated by `omp barrier`.
 */
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "sl.h"

static void run_chunks(const struct sl_exec *x, unsigned ph, uint64_t n, uint64_t chunk,
                       struct sl_worker_rec *rec)
{
    long long nchunks = (long long)((n + chunk - 1) / chunk);
    /* One `omp for` per schedule: the clause cannot be chosen at run time without
     * schedule(runtime), which would read the environment. */
#define CHUNK_BODY                                                                            \
    {                                                                                         \
        uint64_t b = (uint64_t)c * chunk, e = b + chunk < n ? b + chunk : n;                  \
        uint64_t t = sl_now_ns();                                                             \
        x->kernel(x->state, ph, b, e, &rec->part);                                            \
        rec->busy_ns += sl_now_ns() - t;                                                      \
    }
    if (x->schedule == SL_SCHED_GUIDED) {
#pragma omp for schedule(guided) nowait
        for (long long c = 0; c < nchunks; c++)
            CHUNK_BODY
    } else {
#pragma omp for schedule(dynamic, 1) nowait
        for (long long c = 0; c < nchunks; c++)
            CHUNK_BODY
    }
#undef CHUNK_BODY
}

static int openmp_run(const struct sl_exec *x, struct sl_timing *t)
{
    unsigned n = x->workers;
    struct sl_worker_rec *recs = calloc(n, sizeof *recs);
    if (!recs)
        return -SL_ENOMEM;
    int short_team = 0;
    uint64_t t0 = sl_now_ns();
#pragma omp parallel num_threads(n)
    {
        unsigned id = (unsigned)omp_get_thread_num();
        struct sl_worker_rec *rec = &recs[id];
        if ((unsigned)omp_get_num_threads() != n) {
#pragma omp atomic write
            short_team = 1;
        }
        sl_affinity_apply(x->affinity, id, n);
        rec->start_ns = sl_now_ns();
        for (unsigned ph = 0; ph < x->phases; ph++) {
            uint64_t items = x->wl->items(x->state, ph);
            if (x->schedule == SL_SCHED_STATIC) {
                uint64_t b, e;
                sl_split(items, n, id, &b, &e);
                if (b < e) {
                    uint64_t t1 = sl_now_ns();
                    x->kernel(x->state, ph, b, e, &rec->part);
                    rec->busy_ns += sl_now_ns() - t1;
                }
            } else {
                run_chunks(x, ph, items, x->chunk ? x->chunk : sl_auto_chunk(items, n), rec);
            }
            if (x->phases > 1) {
                uint64_t w0 = sl_now_ns();
#pragma omp barrier
                rec->wait_ns += sl_now_ns() - w0;
            }
        }
        rec->end_ns = sl_now_ns();
        rec->cpu = sched_getcpu();
    }
    if (short_team) {
        sl_backend_set_error("OpenMP gave fewer than the %u threads asked for (OMP_THREAD_LIMIT?)",
                             n);
        free(recs);
        return -SL_ELIMIT;
    }
    sl_timing_collect(x, t0, recs, t);
    free(recs);
    return 0;
}

static int openmp_probe(char *why, size_t len)
{
    /* The team may be capped by OMP_THREAD_LIMIT; runs that ask for more fail clearly. */
    omp_set_dynamic(0);
    if (omp_get_thread_limit() < 2) {
        snprintf(why, len, "OMP_THREAD_LIMIT=%d allows no parallel team", omp_get_thread_limit());
        return -SL_EUNAVAIL;
    }
    return 0;
}

const struct sl_backend sl_be_openmp = {
    .name = "openmp",
    .route = "stands for Numba prange / Cython + OpenMP; here OpenMP in C",
    .how = "C: OpenMP parallel region, schedule static/dynamic/guided; the runtime keeps its team, idle threads spin briefly then sleep",
    .caps = SL_CAP_PARALLEL | SL_CAP_SCHEDULE | SL_CAP_AFFINITY | SL_CAP_VARIANT,
    .variant = SL_VECTOR,
    .probe = openmp_probe,
    .run = openmp_run,
};
