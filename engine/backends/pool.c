/* pool.c — `pool`: a persistent pool of threads taking chunks of work as they free up.
 *
 * The route of concurrent.futures / joblib with warm workers: the threads are started once
 * (in prepare(), untimed) and reused by every run, so a run pays only a wake-up and not a
 * spawn. Work is handed out in chunks from a shared atomic counter (dynamic scheduling), so
 * uneven work balances itself at the price of one atomic operation per chunk.
 * Phases are separated by a barrier; the counter of phase k+1 is reset during phase k by
 * worker 0, when nobody can still be using it (everyone has passed the barrier of k-1).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "sl.h"

static struct {
    pthread_mutex_t mu;          /* guards everything below but next[] */
    pthread_cond_t work_cv;      /* workers wait here for a new generation */
    pthread_cond_t done_cv;      /* the caller waits here for done == n */
    pthread_t *tids;             /* n threads, or NULL when no pool exists */
    unsigned n;                  /* pool size */
    unsigned long generation;    /* incremented for each run (and for stop) */
    unsigned done;               /* workers finished with the current generation */
    int stop;                    /* 1: threads exit */
    const struct sl_exec *x;     /* the current run */
    struct sl_worker_rec *recs;  /* its records, one per worker */
    pthread_barrier_t barrier;   /* between phases, n parties */
    _Atomic uint64_t next[2];    /* next unclaimed item of the current and next phase */
} pool = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work_cv = PTHREAD_COND_INITIALIZER,
    .done_cv = PTHREAD_COND_INITIALIZER,
};

static void barrier_wait(void *arg)
{
    pthread_barrier_wait(arg);
}

static void work_dynamic(const struct sl_exec *x, unsigned id, struct sl_worker_rec *rec)
{
    memset(&rec->part, 0, sizeof rec->part);
    rec->busy_ns = rec->wait_ns = 0;
    rec->start_ns = sl_now_ns();
    for (unsigned ph = 0; ph < x->phases; ph++) {
        uint64_t n = x->wl->items(x->state, ph);
        uint64_t chunk = x->chunk ? x->chunk : sl_auto_chunk(n, x->workers);
        _Atomic uint64_t *next = &pool.next[ph & 1];
        if (id == 0)
            atomic_store_explicit(&pool.next[(ph + 1) & 1], 0, memory_order_relaxed);
        for (;;) {
            uint64_t b = atomic_fetch_add_explicit(next, chunk, memory_order_relaxed);
            if (b >= n)
                break;
            uint64_t e = n - b < chunk ? n : b + chunk;
            uint64_t t = sl_now_ns();
            x->kernel(x->state, ph, b, e, &rec->part);
            rec->busy_ns += sl_now_ns() - t;
        }
        if (x->phases > 1)
            sl_barrier_timed(barrier_wait, &pool.barrier, rec);
    }
    rec->end_ns = sl_now_ns();
    rec->cpu = sched_getcpu();
}

static void *pool_main(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (pool.generation == seen && !pool.stop)
            pthread_cond_wait(&pool.work_cv, &pool.mu);
        if (pool.stop)
            break;
        seen = pool.generation;
        const struct sl_exec *x = pool.x;
        pthread_mutex_unlock(&pool.mu);

        sl_affinity_apply(x->affinity, id, x->workers);
        work_dynamic(x, id, &pool.recs[id]);

        pthread_mutex_lock(&pool.mu);
        if (++pool.done == pool.n)
            pthread_cond_signal(&pool.done_cv);
    }
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

static void pool_shutdown(void)
{
    pthread_mutex_lock(&pool.mu);
    if (!pool.tids) {
        pthread_mutex_unlock(&pool.mu);
        return;
    }
    pool.stop = 1;
    pthread_cond_broadcast(&pool.work_cv);
    pthread_mutex_unlock(&pool.mu);
    for (unsigned i = 0; i < pool.n; i++)
        pthread_join(pool.tids[i], NULL);
    pthread_barrier_destroy(&pool.barrier);
    free(pool.tids);
    pool.tids = NULL;
    pool.n = 0;
    pool.stop = 0;
}

static int pool_start(unsigned workers)
{
    if (pool.tids && pool.n == workers)
        return 0;
    pool_shutdown();
    pool.tids = calloc(workers, sizeof *pool.tids);
    if (!pool.tids)
        return -SL_ENOMEM;
    pthread_barrier_init(&pool.barrier, NULL, workers);
    pool.generation = 0;
    for (unsigned i = 0; i < workers; i++) {
        if (pthread_create(&pool.tids[i], NULL, pool_main, (void *)(uintptr_t)i) != 0) {
            pool.n = i;
            pool_shutdown();
            sl_backend_set_error("could not start pool thread %u of %u", i + 1, workers);
            return -SL_ESYS;
        }
        pool.n = i + 1;
    }
    return 0;
}

static int pool_prepare(const struct sl_exec *x)
{
    return pool_start(x->workers);
}

static int pool_run(const struct sl_exec *x, struct sl_timing *t)
{
    int rc = pool_start(x->workers);
    if (rc)
        return rc;
    struct sl_worker_rec *recs = calloc(x->workers, sizeof *recs);
    if (!recs)
        return -SL_ENOMEM;
    uint64_t t0 = sl_now_ns();
    atomic_store(&pool.next[0], 0);
    pthread_mutex_lock(&pool.mu);
    pool.x = x;
    pool.recs = recs;
    pool.done = 0;
    pool.generation++;
    pthread_cond_broadcast(&pool.work_cv);
    while (pool.done < pool.n)
        pthread_cond_wait(&pool.done_cv, &pool.mu);
    pool.x = NULL;
    pthread_mutex_unlock(&pool.mu);
    sl_timing_collect(x, t0, recs, t);
    free(recs);
    return 0;
}

const struct sl_backend sl_be_pool = {
    .name = "pool",
    .route = "stands for concurrent.futures / joblib with warm workers; here a C thread pool",
    .how = "C: persistent threads started once, dynamic chunks from an atomic counter",
    .caps = SL_CAP_PARALLEL | SL_CAP_AFFINITY | SL_CAP_VARIANT,
    .variant = SL_VECTOR,
    .probe = sl_probe_always,
    .prepare = pool_prepare,
    .run = pool_run,
    .shutdown = pool_shutdown,
};
