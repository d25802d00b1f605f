/* analysis.h — from timed runs to answers: medians, speedups, efficiency, fitted models.
 *
 * Input is a flat list of samples (one per timed run) that the engine builds from its
 * measurements and the server can rebuild from stored rows; output is one line per
 * (backend, cores, size) point and one model per backend. Plain C over stats.h.
 */
#ifndef SL_ANALYSIS_H
#define SL_ANALYSIS_H

#include <jansson.h>
#include <stddef.h>

#include "calibrate.h"
#include "sl.h"
#include "stats.h"

/* One timed run, in seconds. */
struct sl_sample {
    char backend[SL_NAME_MAX]; /* backend name */
    unsigned cores;            /* workers */
    double size;               /* value of the size parameter */
    double wall_s;             /* wall time */
    double cpu_s;              /* user + system CPU time */
    double spawn_s, compute_s, combine_s, overhead_s; /* phase times and overhead */
    double busy_max_s, busy_mean_s; /* busiest and mean worker kernel time */
    double vcsw, ivcsw;        /* context switches */
    int verified;              /* 1 if the result verified */
    double work;               /* units of work in the run */
    double bytes, flops;       /* bytes moved and flops done by the run */
};

struct sl_apoint {
    char backend[SL_NAME_MAX]; /* backend */
    unsigned cores;            /* workers */
    double size;               /* size parameter */
    struct sl_summary wall;    /* wall time statistics over the repetitions (s) */
    double speedup;            /* vs the serial backend at this size (NaN without serial) */
    double speedup_self;       /* vs this backend at 1 core (weak: p * T(1, n) / T(p, p n)); NaN without */
    double efficiency;         /* speedup_self / cores */
    double efficiency_serial;  /* speedup / cores */
    double karp_flatt;         /* serial fraction from speedup_self (NaN at 1 core) */
    double rate;               /* units of work per second (median) */
    double gbs, gflops;        /* achieved GB/s and GFLOP/s (0 when the workload moves none) */
    double bw_fraction;        /* gbs / this host's calibrated read bandwidth (NaN if unknown) */
    double flops_fraction;     /* gflops / calibrated peak (NaN if unknown) */
    double cpu_util;           /* median CPU time / (wall * cores) */
    double imbalance;          /* median of busiest / mean worker time (1 = balanced) */
    double spawn_s, compute_s, combine_s, overhead_s; /* medians */
    double vcsw, ivcsw;        /* medians */
    unsigned n, verified;      /* runs, and how many verified */
};

struct sl_abackend {
    char backend[SL_NAME_MAX]; /* backend */
    struct sl_fit fit;         /* Amdahl (+ overhead) fit of wall time vs cores (strong scaling) */
    double gustafson;          /* weak scaling: serial fraction from the largest core count (else NaN) */
    unsigned best_cores;       /* measured core count with the lowest median time */
    double best_speedup;       /* its speedup vs serial (or vs itself when serial is absent) */
};

struct sl_analysis {
    int weak;                  /* weak scaling */
    char baseline[SL_NAME_MAX]; /* the curve speedups are measured against at 1 core ("serial") */
    struct sl_apoint *points;  /* in order of first appearance */
    size_t npoints;
    struct sl_abackend *backends;
    size_t nbackends;
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

/* The analysis as JSON (new reference): {"points": [...], "backends": [...]}. NaN and
 * infinity become null. */
json_t *sl_analysis_to_json(const struct sl_analysis *a);

/* A number for JSON: a real, or null when not finite (new reference). */
json_t *sl_json_number(double v);

#endif /* SL_ANALYSIS_H */
