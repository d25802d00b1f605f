/* sweep.h — the measurement protocol: run a job's points, interleaved, and report each run.
 *
 * A point is (backend, cores, size). The sweep sets up the workload's state once per size
 * (first-touched by as many workers as will read it), runs `warmup` untimed runs of every
 * point, then `repeats` rounds; each round runs every point once, in an order rotated from
 * round to round, so that drift of the machine (another tenant, the clock, the heat) spreads
 * over all points instead of favouring the ones measured first.
 */
#ifndef SL_SWEEP_H
#define SL_SWEEP_H

#include <jansson.h>
#include <stdint.h>

#include "analysis.h"
#include "job.h"

/* A point's source is a backend running the job's workload, or (in a program job) one of
 * the user's programs; exactly one of be and cmd is set. */
struct sl_point {
    const struct sl_backend *be; /* backend, or NULL */
    const struct sl_command *cmd; /* program, or NULL */
    unsigned cores;              /* workers */
    enum sl_variant variant;     /* kernel variant it runs */
    unsigned size;               /* index into the sweep's sizes */
};

/* One timed run. Times in ns; counters are deltas over the run (self + waited children). */
struct sl_measurement {
    unsigned seq;             /* 1-based position among the timed runs */
    unsigned total;           /* number of timed runs in the sweep */
    unsigned point;           /* index of its point */
    unsigned rep;             /* repetition of that point, 0-based */
    const char *backend;      /* backend name */
    unsigned cores;           /* workers */
    enum sl_variant variant;  /* kernel variant */
    double size;              /* value of the workload's size parameter at this point */
    uint64_t wall_ns;         /* CLOCK_MONOTONIC around the backend's run() */
    uint64_t user_ns, sys_ns; /* CPU time (getrusage) */
    long vcsw, ivcsw;         /* voluntary / involuntary context switches */
    long minflt, majflt;      /* page faults */
    long maxrss_kb;           /* peak resident set (engine or its largest child) */
    uint64_t spawn_ns;        /* phase times from the backend (see struct sl_timing) */
    uint64_t compute_ns;
    uint64_t combine_ns;
    uint64_t overhead_ns;     /* wall_ns minus the busiest worker's kernel time */
    const uint64_t *busy_ns;  /* per worker kernel time, `cores` entries (valid in the callback) */
    uint64_t launch_ns;       /* mpi: starting this point's ranks (once, untimed; else 0) */
    uint64_t comm_ns;         /* mpi: time inside MPI calls, mean per rank (else 0) */
    const char *const *hosts; /* mpi: per rank, its host (valid in the callback); else NULL */
    unsigned nhosts;          /* entries in hosts: ranks (0 for backends without ranks) */
    const uint64_t *wait_ns;  /* per worker barrier wait, `cores` entries (valid in the callback) */
    const int *cpus;          /* per worker the CPU it finished on, -1 unknown (valid in the callback);
                               * for mpi ranks on other hosts, a CPU of that host */
    struct sl_partial result; /* the raw result */
    double value;             /* the result as a human reads it */
    int verified;             /* 1 if it verified (and matched the other backends when exact) */
    char message[1024];       /* why not, when verified == 0 (a failed program: its stderr's tail) */
    struct sl_shape shape;    /* work, bytes and flops of one run at this size */
    const struct sl_command_result *program; /* a program's run (exit, report, output), else NULL */
    int keep_output;          /* 1: the JSON carries the program's output (a point's last run, or a failed one) */
};

/* The name of a point's source: its backend's or its program's. */
const char *sl_point_name(const struct sl_point *p);

struct sl_sweep;

/* Plan a sweep for a checked job. Returns NULL on out of memory. Free with sl_sweep_free. */
struct sl_sweep *sl_sweep_new(const struct sl_job *job);
void sl_sweep_free(struct sl_sweep *s);

unsigned sl_sweep_npoints(const struct sl_sweep *s);
const struct sl_point *sl_sweep_point(const struct sl_sweep *s, unsigned i);
/* Value of the size parameter for size index i. */
double sl_sweep_size(const struct sl_sweep *s, unsigned i);
/* Timed runs and all runs (warm-up included). */
unsigned sl_sweep_timed_runs(const struct sl_sweep *s);
unsigned sl_sweep_all_runs(const struct sl_sweep *s);

/* Called for every timed run; return non-zero to stop the sweep. */
typedef int (*sl_measure_fn)(void *ctx, const struct sl_measurement *m);
/* Called after every run, warm-up included: done of total. */
typedef void (*sl_progress_fn)(void *ctx, unsigned done, unsigned total, const char *what);

/* Run the sweep. Returns 0, 1 if a callback stopped it, or a negative SL_E* code with a
 * sentence in err (set-up failed, a backend failed to run). */
int sl_sweep_run(struct sl_sweep *s, sl_measure_fn on_measure, sl_progress_fn on_progress,
                 void *ctx, char *err, size_t errlen);

/* The analysis's view of a measurement (times in seconds, busy max and mean). */
void sl_measurement_to_sample(const struct sl_measurement *m, struct sl_sample *s);

/* A measurement as a JSON object (new reference), "type": "measurement". */
json_t *sl_measurement_to_json(const struct sl_measurement *m);

#endif /* SL_SWEEP_H */
