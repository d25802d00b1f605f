/* analysis.h — from timed runs to answers: medians, speedups, efficiency, fitted models.
 *
 * Input is a flat list of samples (one per timed run) that the engine builds from its
 * measurements and the server rebuilds from stored rows (both through sl_sample_from_json);
 * output is one line per (backend, cores, size) point, one model and one diagnosis per
 * backend. Plain C over stats.h.
 *
 * Only claims the data can carry: runs whose result did not verify are counted but left out
 * of every statistic; the speedup drawn against the ideal line is parallel gain only (against
 * one core of the same kernel variant), the vectorisation gain is its own figure; a model is
 * fitted only to three or more core counts, and one that misses a measured point by more
 * than that point's confidence interval is marked untrusted.
 */
#ifndef SL_ANALYSIS_H
#define SL_ANALYSIS_H

#include <jansson.h>
#include <stddef.h>

#include "calibrate.h"
#include "diagnosis.h"
#include "sl.h"
#include "stats.h"
#include "workload.h"

#define SL_SAMPLE_WORKERS 64u /* per-worker times kept per sample (the median run's bars) */

/* One timed run, in seconds. */
struct sl_sample {
    char backend[SL_NAME_MAX]; /* backend name */
    unsigned cores;            /* workers */
    enum sl_variant variant;   /* kernel variant it ran */
    unsigned seq;              /* its position among the sweep's timed runs (1-based; 0 unknown) */
    double size;               /* value of the size parameter */
    double wall_s;             /* wall time */
    double cpu_s;              /* user + system CPU time (children included) */
    double spawn_s, compute_s, combine_s, overhead_s; /* phase times and overhead */
    double busy_max_s, busy_mean_s; /* busiest and mean worker kernel time */
    double wait_s;             /* mean per-worker time waiting at barriers between phases */
    unsigned phases;           /* phases per run (a barrier between each two; 0 unknown) */
    double busy_s[SL_SAMPLE_WORKERS]; /* each worker's kernel time (the first SL_SAMPLE_WORKERS) */
    unsigned nbusy;            /* entries of busy_s in use */
    double vcsw, ivcsw;        /* context switches */
    double maxrss_kb;          /* peak resident set: the engine's, or its largest child's (a
                                * program: the largest process of its tree that was waited for) */
    int verified;              /* 1 if the result verified */
    double work;               /* units of work in the run */
    double bytes, flops;       /* bytes moved and flops done by the run */
};

/* The one run whose wall time is a point's median (the lower median for an even count):
 * the phase chart and the per-worker bars draw it, so they agree with the median. */
struct sl_median_run {
    unsigned seq;              /* its sequence number (0 when there is no verified run) */
    double wall_s;             /* = spawn_s + compute_s + barrier_s + combine_s + other_s */
    double spawn_s;            /* starting the workers */
    double compute_s;          /* the compute phase minus the mean barrier wait: kernel time */
    double barrier_s;          /* mean per-worker barrier wait */
    double combine_s;          /* joining and combining */
    double other_s;            /* outside the backend's phases */
    double busy_s[SL_SAMPLE_WORKERS]; /* each worker's kernel time */
    unsigned nbusy;
    double imbalance;          /* busiest / mean worker kernel time of this run */
};

struct sl_apoint {
    char backend[SL_NAME_MAX]; /* backend */
    unsigned cores;            /* workers */
    enum sl_variant variant;   /* kernel variant */
    double size;               /* size parameter */
    struct sl_summary wall;    /* wall time statistics over the VERIFIED repetitions (s) */
    double speedup;            /* parallel gain: vs 1 core of the same kernel variant (baseline) */
    char baseline[48];         /* what speedup is against: "simd, 1 core" */
    double speedup_serial;     /* vs the serial backend (scalar kernel) at this size; NaN without */
    double speedup_self;       /* vs this backend at 1 core (weak: p * T(1, n) / T(p, p n)); NaN without */
    double efficiency;         /* speedup / cores */
    double efficiency_serial;  /* speedup_serial / cores */
    double karp_flatt;         /* serial fraction from speedup (NaN at 1 core) */
    double rate;               /* units of work per second (median) */
    double gbs, gflops;        /* achieved GB/s and GFLOP/s (0 when the workload moves none) */
    double bw_fraction;        /* gbs / calibrated read bandwidth at this core count (NaN if unknown) */
    double flops_fraction;     /* gflops / calibrated peak at this core count (NaN if unknown) */
    double cpu_util;           /* median CPU time / (wall * cores) */
    double imbalance;          /* median of busiest / mean worker time (1 = balanced) */
    unsigned idle_worker;      /* the worker most often the least busy of a run... */
    double idle_share;         /* ...and in which share of the runs (1: always the same one,
                                * an uneven split; near 1/cores: chance, e.g. preemption) */
    double spawn_s, compute_s, combine_s, overhead_s; /* medians */
    double barrier_s;          /* median of the mean per-worker barrier wait */
    unsigned phases;           /* phases per run (0 unknown: stored before schema version 4) */
    double startup_min;        /* lowest (spawn + combine) / wall of any run: start-up that is
                                * paid every time, not a thread started late once */
    double vcsw, ivcsw;        /* medians */
    double maxrss_kb;          /* median peak resident set (KiB) */
    unsigned n, verified;      /* runs, and how many verified (only those enter statistics) */
    int noisy;                 /* CV or CI width too large for the median to be taken as exact */
    char noise[48];            /* the figure that says so ("CV 25%", "CI spans 3.1x"), or "" */
    struct sl_median_run median_run;
};

struct sl_abackend {
    char backend[SL_NAME_MAX]; /* backend */
    struct sl_fit fit;         /* Amdahl (+ overhead) fit of median time vs cores; ok only with
                                * >= 3 core counts (strong scaling) */
    int fit_trusted;           /* the fit predicts every measured median within its CI */
    struct {
        unsigned cores;
        double predicted_s, median_s;
    } worst_miss;              /* the point the fit misses most (relative), when fit.ok */
    char fit_missing[320];     /* why there is no fit and what to add, or "" */
    double gustafson;          /* weak scaling: serial fraction from the largest core count (else NaN) */
    unsigned best_cores;       /* measured core count with the lowest median time */
    double best_speedup;       /* its parallel speedup */
    char best_baseline[48];    /* what that speedup is against */
    struct sl_diagnosis diagnosis; /* the one cause that limits this backend */
};

/* serial vs simd on one core at one size: the gain of the vector kernel, its own figure. */
struct sl_vectorisation {
    double size, serial_s, simd_s, gain;
};

struct sl_analysis {
    int weak;                  /* weak scaling */
    char baseline[SL_NAME_MAX]; /* the curve speedups are measured against at 1 core ("serial") */
    struct sl_apoint *points;  /* in order of first appearance */
    size_t npoints;
    struct sl_abackend *backends;
    size_t nbackends;
    struct sl_vectorisation *vec; /* one per size where serial and simd ran */
    size_t nvec;
    double ci_level_min;       /* the lowest real CI level of any point (NaN without points) */
    unsigned excluded_unverified; /* timed runs left out because their result did not verify */
    int have_calib;            /* calib is set */
    struct sl_calib calib;     /* the calibration compared against */
    char calib_note[200];      /* why it is suspect, or "" */
    int calib_suspect;         /* more threads read slower than one, beyond noise */
    unsigned host_cpus;        /* CPUs of the host that analyses (oversubscription in words) */
};

/* Fill s from a measurement as the engine writes it in JSON (and the store gives it back).
 * Returns 0, or -SL_EINVAL when backend, cores or wall_ns is missing. */
int sl_sample_from_json(const json_t *m, struct sl_sample *s);

/* Analyse n samples. calib may be NULL. Returns NULL on out of memory; free with
 * sl_analysis_free. */
struct sl_analysis *sl_analysis_new(const struct sl_sample *samples, size_t n, int weak,
                                    const struct sl_calib *calib);
void sl_analysis_free(struct sl_analysis *a);
/* The same, with speedups against `baseline` at 1 core instead of "serial" (a program
 * group's baseline route); "" or NULL for none. */
struct sl_analysis *sl_analysis_new_baseline(const struct sl_sample *ss, size_t n, int weak,
                                             const struct sl_calib *calib, const char *baseline);

/* The point of backend at cores and size, or NULL. */
const struct sl_apoint *sl_analysis_point(const struct sl_analysis *a, const char *backend,
                                          unsigned cores, double size);

/* The analysis as JSON (new reference); see docs of the contract in the README. NaN and
 * infinity become null. */
json_t *sl_analysis_to_json(const struct sl_analysis *a);

/* A number for JSON: a real, or null when not finite (new reference). */
json_t *sl_json_number(double v);

#endif /* SL_ANALYSIS_H */
