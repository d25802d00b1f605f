/* threads.c — `threads`: pthreads created for each run, a static split, a barrier per phase.
 *
 * The route of Python's `threading` (without a GIL in C): every run pays thread creation
 * and join, which is part of what it measures. Threads wait at a gate until all have been
 * created, so a failed pthread_create can abort cleanly instead of leaving a barrier short.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "sl.h"

struct team {
    const struct sl_exec *x;
    pthread_barrier_t barrier;  /* between phases */
    pthread_mutex_t mu;         /* guards go */
    pthread_cond_t cv;          /* signalled when go changes */
    int go;                     /* 0 wait, 1 start, -1 abort */
    struct sl_worker_rec *recs; /* one per worker */
};

struct worker {
    struct team *team;
    unsigned id;
};

static void barrier_wait(void *arg)
{
    pthread_barrier_wait(arg);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct team *t = w->team;
    pthread_mutex_lock(&t->mu);
    while (t->go == 0)
        pthread_cond_wait(&t->cv, &t->mu);
    int go = t->go;
    pthread_mutex_unlock(&t->mu);
    if (go < 0)
        return NULL;
    sl_affinity_apply(t->x->affinity, w->id, t->x->workers);
    sl_work_static(t->x, w->id, barrier_wait, &t->barrier, &t->recs[w->id]);
    return NULL;
}

static void release(struct team *t, int go)
{
    pthread_mutex_lock(&t->mu);
    t->go = go;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static int threads_run(const struct sl_exec *x, struct sl_timing *timing)
{
    uint64_t t0 = sl_now_ns();
    unsigned n = x->workers, created = 0;
    int rc = 0;
    struct team team = {.x = x, .go = 0};
    pthread_t *tids = calloc(n, sizeof *tids);
    struct worker *ws = calloc(n, sizeof *ws);
    team.recs = calloc(n, sizeof *team.recs);
    if (!tids || !ws || !team.recs) {
        rc = -SL_ENOMEM;
        goto out;
    }
    pthread_barrier_init(&team.barrier, NULL, n);
    pthread_mutex_init(&team.mu, NULL);
    pthread_cond_init(&team.cv, NULL);
    for (; created < n; created++) {
        ws[created] = (struct worker){&team, created};
        int e = pthread_create(&tids[created], NULL, worker_main, &ws[created]);
        if (e) {
            sl_backend_set_error("pthread_create failed for thread %u of %u: %s", created + 1,
                                 n, strerror(e));
            rc = -SL_ESYS;
            break;
        }
    }
    release(&team, rc ? -1 : 1);
    for (unsigned i = 0; i < created; i++)
        pthread_join(tids[i], NULL);
    if (rc == 0)
        sl_timing_collect(x, t0, team.recs, timing);
    pthread_barrier_destroy(&team.barrier);
    pthread_mutex_destroy(&team.mu);
    pthread_cond_destroy(&team.cv);
out:
    free(tids);
    free(ws);
    free(team.recs);
    return rc;
}

const struct sl_backend sl_be_threads = {
    .name = "threads",
    .route = "stands for Python threading; here C pthreads, with no GIL",
    .how = "C: pthreads created per run, static split, barrier per phase",
    .caps = SL_CAP_PARALLEL | SL_CAP_AFFINITY | SL_CAP_VARIANT,
    .variant = SL_VECTOR,
    .probe = sl_probe_always,
    .run = threads_run,
};
