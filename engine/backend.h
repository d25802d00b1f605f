/* backend.h — what a backend is: a way to run a workload's kernel on some number of workers.
 *
 * A backend is a `const struct sl_backend`: a name, the route to parallelism it stands for,
 * capabilities, probe() (can it run here, and if not why) and run(). It knows nothing of
 * any workload beyond struct sl_workload's functions; a workload knows nothing of backends.
 * Adding one is one file and one line in the list in backend.c. Backends that need more
 * than a function call (mpi: ranks under mpirun; cuda: kernels in a dlopen'ed library) fit
 * the same slots: probe() finds their runtime, run() drives it and fills the same timing.
 */
#ifndef SL_BACKEND_H
#define SL_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "workload.h"

enum sl_affinity {
    SL_AFF_NONE = 0, /* the OS places workers (and may move them) */
    SL_AFF_CLOSE,    /* worker i pinned to the i-th allowed CPU */
    SL_AFF_SPREAD,   /* workers pinned evenly across the allowed CPUs */
};

enum sl_schedule {
    SL_SCHED_STATIC = 0, /* one contiguous share per worker */
    SL_SCHED_DYNAMIC,    /* chunks handed out as workers finish */
    SL_SCHED_GUIDED,     /* dynamic, with chunks shrinking as work runs out */
};

/* One run of a workload on a backend: what to run and how. */
struct sl_exec {
    const struct sl_workload *wl; /* the workload */
    void *state;                  /* its set-up state */
    sl_kernel_fn kernel;          /* the kernel variant to call */
    unsigned phases;              /* phases per run (barrier between phases) */
    unsigned workers;             /* threads / processes / ranks */
    enum sl_affinity affinity;    /* pinning of workers to CPUs */
    enum sl_schedule schedule;    /* how items are handed out (backends with SL_CAP_SCHEDULE) */
    uint64_t chunk;               /* items per chunk for dynamic/guided; 0 = automatic */
    const double *params;         /* the workload's parameters: workers with memories of their
                                   * own (mpi ranks) set up their own state from them */
    unsigned threads_per_rank;    /* mpi: OpenMP threads in each rank, workers / this = ranks
                                   * (0 means 1) */
    const char *hostfile;         /* mpi: where ranks may run (mpirun --hostfile), NULL = here */
    int oversubscribe;            /* 1: the job allowed more workers than cores */
};

/* What one run measured; the caller provides busy_ns with `workers` entries. Phase times are
 * consecutive and add up to the time spent in run(): */
struct sl_timing {
    uint64_t spawn_ns;        /* from the call until the last worker started */
    uint64_t compute_ns;      /* from then until the last worker finished its last item */
    uint64_t combine_ns;      /* from then until the result was complete (join, reduce, finish) */
    uint64_t *busy_ns;        /* per worker: time spent inside kernels (imbalance shows here) */
    int *cpus;                /* per worker: the CPU it finished on, -1 if unknown (NULL when
                               * the caller does not want them): where the work actually ran */
    uint64_t *wait_ns;        /* per worker: time spent waiting at barriers between phases
                               * (NULL when the caller does not want it; never part of busy) */
    struct sl_partial result; /* the combined result, finish() applied */
    /* Filled only by backends with workers elsewhere (mpi), else left 0 / NULL: */
    uint64_t launch_ns;       /* starting the workers, paid once per core count in prepare()
                               * and never part of a run's times */
    uint64_t comm_ns;         /* time inside communication calls in this run (mean per rank) */
    const char *const *hosts; /* per rank: the host it runs on (valid until the next run) */
    uint64_t remote_user_ns;  /* CPU time of workers the engine's getrusage cannot see (ranks */
    uint64_t remote_sys_ns;   /* are mpirun's children, maybe on other hosts), in this run */
    unsigned nhosts;          /* entries in hosts (ranks) */
};

/* Capabilities. */
#define SL_CAP_PARALLEL 1u /* uses more than one core */
#define SL_CAP_SCHEDULE 2u /* honours schedule and chunk */
#define SL_CAP_AFFINITY 4u /* honours affinity */
#define SL_CAP_VARIANT 8u  /* runs either kernel variant (else its variant is fixed) */
#define SL_CAP_MESSAGES 16u /* workers are processes that exchange messages (mpi): their waits
                             * between phases and their per-run costs are communication */

struct sl_backend {
    const char *name;             /* "threads" */
    const char *route;            /* the Python route it stands for, and what it is here in C */
    const char *how;              /* how it works, one line */
    unsigned caps;                /* SL_CAP_* */
    enum sl_variant variant;      /* the variant it runs by default (the only one without SL_CAP_VARIANT) */
    /* 0 if it can run here; otherwise a negative SL_E* code and the reason in why. */
    int (*probe)(char *why, size_t len);
    /* Optional, untimed, before every run: get ready to run x (the pool starts or resizes its
     * threads; mpi starts its ranks for x->workers once and sets up their copy of the state).
     * Returns 0 or a negative SL_E* code with the reason in sl_backend_last_error(). */
    int (*prepare)(const struct sl_exec *x);
    /* Run once; fills t. Returns 0, or a negative SL_E* code with the reason available from
     * sl_backend_last_error(). */
    int (*run)(const struct sl_exec *x, struct sl_timing *t);
    /* Optional: release what is kept between runs (threads, ranks). Safe to call twice. */
    void (*shutdown)(void);
};

/* The backends, NULL-terminated. */
extern const struct sl_backend *const sl_backends[];

/* The backend called name, or NULL. */
const struct sl_backend *sl_backend_find(const char *name);

/* Release what backends keep between runs (pool threads, mpi ranks). Safe to call twice. */
void sl_backends_shutdown(void);

/* A probe for backends that can always run. */
int sl_probe_always(char *why, size_t len);

/* A message about the last failed run() on this thread ("worker 2 killed by signal 11"). */
const char *sl_backend_last_error(void);

/* --- shared by the backend implementations (backend.c) --- */

/* Per-worker record written by the worker, read by the backend after the run. */
struct sl_worker_rec {
    uint64_t start_ns;        /* when the worker began (after spawn and pinning) */
    uint64_t end_ns;          /* when it finished its last item */
    uint64_t busy_ns;         /* time inside kernels */
    uint64_t wait_ns;         /* time waiting at barriers between phases */
    int cpu;                  /* the CPU it finished on (sched_getcpu), -1 if unknown */
    struct sl_partial part;   /* its partial result */
};

/* Pin the calling thread according to mode for worker id of n (SL_AFF_NONE restores the
 * CPUs the process started with, so reused threads forget an earlier pinning). */
void sl_affinity_apply(enum sl_affinity mode, unsigned id, unsigned n);

/* Run worker id's static share of every phase, calling barrier(arg) between phases (when
 * there is more than one). Fills rec (start, end, busy, wait, partial). */
void sl_work_static(const struct sl_exec *x, unsigned id, void (*barrier)(void *), void *arg,
                    struct sl_worker_rec *rec);

/* Chunk size for dynamic schedules when x->chunk is 0: about 4 chunks per worker. */
uint64_t sl_auto_chunk(uint64_t items, unsigned workers);

/* Fold the worker records into t (phase times from t0, busy, combined partial, finish()). */
void sl_timing_collect(const struct sl_exec *x, uint64_t t0, const struct sl_worker_rec *recs,
                       struct sl_timing *t);

/* Wait at a barrier through wait(arg), adding the time spent there to rec->wait_ns: the time
 * a worker spends waiting for the slowest one of a phase, which is not kernel time. */
void sl_barrier_timed(void (*wait)(void *), void *arg, struct sl_worker_rec *rec);

/* Record a message for sl_backend_last_error(). */
void sl_backend_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SL_BACKEND_H */
