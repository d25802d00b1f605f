/* diagnosis.c — name the one cause that limits a backend, from measured figures only.
 *
 * The evidence is read at one point, the backend's widest core count on this host's CPUs
 * (the widest overall when every multi-core point is oversubscribed): that is where a cause
 * shows most and where the reader looks. Latency is read at the widest point overall, since
 * its lesson is precisely that more workers than cores still help.
 *
 * The rules are tried in the order of the table; each either holds and writes its sentence or
 * passes. The order puts the causes that leave no doubt first: a dependency chain (one worker
 * did everything, nothing gained) explains every other symptom, start-up or barrier shares
 * of wall time are measured directly, low CPU use means waiting. Every sentence quotes the
 * figure its rule tested, and the figure goes into the JSON beside it.
 */
#include "diagnosis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "backend.h"

/* Thresholds, with why: */
#define DEP_SPEEDUP 1.10      /* "gains nothing": within the noise of one core */
#define DEP_IMBALANCE 0.90    /* busiest/mean >= 0.9 * cores: one worker did (nearly) all */
#define STARTUP_SHARE 0.30    /* spawn + combine above 30% of wall: the work is too small */
#define BARRIER_SHARE 0.20    /* waiting at barriers above 20% of wall */
#define LATENCY_UTIL 0.25     /* CPU use under a quarter of the cores: the workers wait... */
#define LATENCY_UTIL_1 0.50   /* ...and under half of one core on one worker: the work itself
                               * waits (a starved compute kernel keeps its 1-core run busy) */
#define BW_FRACTION 0.60      /* 60% of the calibrated bandwidth: the memory is the limit */
#define BW_SUSPECT 1.05       /* above the calibrated bandwidth beyond noise: suspect */
#define BW_INTENSITY 0.5      /* flop per byte below which streaming work is memory-bound */
#define IMBALANCE 1.20        /* busiest worker 20% above the mean */
#define FLOPS_FRACTION 0.50   /* half the peak FMA rate: compute-bound */
#define SCALES_WELL 0.80      /* parallel efficiency of 80% or more */

struct ctx {
    const struct sl_analysis *a;
    const char *backend;
    const struct sl_apoint *w;    /* widest point on this host's CPUs (or widest overall) */
    const struct sl_apoint *wall; /* widest point overall */
    const struct sl_apoint *one;  /* the backend's 1-core point, or NULL */
    double startup_share;         /* (spawn + combine) / wall at w */
    double barrier_share;         /* barrier wait / wall at w */
};

/* A duration for a sentence, in the unit that keeps it readable: "21.3 ms", "275 us". */
struct dur {
    char s[24];
};
static struct dur dur(double seconds)
{
    struct dur d;
    if (!isfinite(seconds))
        snprintf(d.s, sizeof d.s, "?");
    else if (seconds >= 1)
        snprintf(d.s, sizeof d.s, "%.3g s", seconds);
    else if (seconds >= 1e-3)
        snprintf(d.s, sizeof d.s, "%.3g ms", 1e3 * seconds);
    else
        snprintf(d.s, sizeof d.s, "%.3g us", 1e6 * seconds);
    return d;
}

static void say(struct sl_diagnosis *d, const char *cause, const char *figure, double value,
                unsigned cores)
{
    d->cause = cause;
    d->figure = figure;
    d->value = value;
    d->cores = cores;
}

static const char *oversubscribed(const struct ctx *c, unsigned cores, char *buf, size_t len)
{
    buf[0] = '\0';
    if (c->a->host_cpus && cores > c->a->host_cpus)
        snprintf(buf, len, ", oversubscribed on this %u-CPU host", c->a->host_cpus);
    return buf;
}

/* The worker of the median run with the least kernel time, and the ratio busy / busiest. */
static unsigned idlest(const struct sl_median_run *r, double *ratio)
{
    unsigned id = 0;
    double max = 0;
    for (unsigned i = 0; i < r->nbusy; i++) {
        if (r->busy_s[i] < r->busy_s[id])
            id = i;
        max = fmax(max, r->busy_s[i]);
    }
    *ratio = max > 0 ? r->busy_s[id] / max : 1.0;
    return id;
}

static int rule_baseline(const struct ctx *c, struct sl_diagnosis *d)
{
    int serial = strcmp(c->backend, "serial") == 0, simd = strcmp(c->backend, "simd") == 0;
    if (!serial && !simd)
        return 0;
    const struct sl_apoint *p = c->wall;
    double t = p ? p->wall.median : NAN;
    if (serial) {
        say(d, "baseline", "median_s", t, 1);
        snprintf(d->sentence, sizeof d->sentence,
                 "serial is the reference: the scalar kernel on one core (median %s); "
                 "gains 'vs serial' include the vectorisation gain", dur(t).s);
    } else if (p && isfinite(p->speedup_serial)) {
        say(d, "baseline", "vectorisation_gain", p->speedup_serial, 1);
        snprintf(d->sentence, sizeof d->sentence,
                 "simd is the reference of the vector kernel on one core (median %s): "
                 "%.2fx over serial is the vectorisation gain, not parallelism",
                 dur(t).s, p->speedup_serial);
    } else {
        say(d, "baseline", "median_s", t, 1);
        snprintf(d->sentence, sizeof d->sentence,
                 "simd is the reference of the vector kernel on one core (median %s)",
                 dur(t).s);
    }
    return 1;
}

static int rule_insufficient(const struct ctx *c, struct sl_diagnosis *d)
{
    if (c->w && c->w->cores > 1 && isfinite(c->w->speedup))
        return 0;
    say(d, "insufficient", NULL, NAN, 0);
    if (!c->w || c->w->cores <= 1)
        snprintf(d->sentence, sizeof d->sentence,
                 "only one core count with verified runs: measure at 1 and 2 cores or more "
                 "to see how %s scales", c->backend);
    else
        snprintf(d->sentence, sizeof d->sentence,
                 "no 1-core run of %s (or of simd/serial) to compare with: add 1 to the core "
                 "counts", c->backend);
    return 1;
}

static int rule_dependency(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    double imb = isfinite(w->median_run.imbalance) ? w->median_run.imbalance : w->imbalance;
    if (!(w->speedup <= DEP_SPEEDUP) || !(imb >= DEP_IMBALANCE * w->cores))
        return 0;
    say(d, "dependency", "speedup", w->speedup, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "dependency chain: speedup %.2fx at %u cores (vs %s) because one worker did all "
             "the work (imbalance %.2f of %u possible): one chain of dependent steps cannot be "
             "split, only independent chains can run in parallel",
             w->speedup, w->cores, w->baseline, imb, w->cores);
    return 1;
}

/* 1 when the backend's workers exchange messages (mpi): what threads would spend at barriers
 * and in start-up, they spend communicating, and the sentence says so. */
static int by_messages(const struct ctx *c)
{
    const struct sl_backend *be = sl_backend_find(c->backend);
    return be && (be->caps & SL_CAP_MESSAGES);
}

static int rule_startup(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    if (!(c->startup_share >= STARTUP_SHARE) || c->startup_share < c->barrier_share)
        return 0;
    if (by_messages(c)) { /* ranks are started once, apart: a run pays only its messages */
        say(d, "communication", "startup_share", c->startup_share, w->cores);
        snprintf(d->sentence, sizeof d->sentence,
                 "communication: reaching the %u ranks, their barrier and the gather of their "
                 "partials take %.0f%% of the wall time (%s of %s); the ranks are kept warm "
                 "(their launch is reported apart), so the work per run is too small: speedup "
                 "%.2fx; give each rank more work",
                 w->cores, 100 * c->startup_share, dur(w->spawn_s + w->combine_s).s,
                 dur(w->wall.median).s, w->speedup);
        return 1;
    }
    say(d, "startup", "startup_share", c->startup_share, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "start-up overhead: starting and joining the %u workers takes %.0f%% of the wall "
             "time (%s of %s), so the work is too small for them: speedup %.2fx; give "
             "each worker more work or keep the workers warm",
             w->cores, 100 * c->startup_share, dur(w->spawn_s + w->combine_s).s,
             dur(w->wall.median).s, w->speedup);
    return 1;
}

static int rule_synchronisation(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    if (!(c->barrier_share >= BARRIER_SHARE))
        return 0;
    if (by_messages(c)) {
        say(d, "communication", "barrier_share", c->barrier_share, w->cores);
        snprintf(d->sentence, sizeof d->sentence,
                 "communication: at %u ranks each rank exchanges boundary messages and waits for "
                 "its neighbours between phases for %.0f%% of the wall time (%s of %s), "
                 "measured apart from kernel time: speedup %.2fx; fewer, larger messages (fewer "
                 "phases) would pay",
                 w->cores, 100 * c->barrier_share, dur(w->barrier_s).s, dur(w->wall.median).s,
                 w->speedup);
        return 1;
    }
    say(d, "synchronisation", "barrier_share", c->barrier_share, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "synchronisation: at %u cores each worker waits at the barriers between phases "
             "for %.0f%% of the wall time (%s of %s), measured apart from kernel time: "
             "speedup %.2fx; fewer, larger phases would wait less",
             w->cores, 100 * c->barrier_share, dur(w->barrier_s).s, dur(w->wall.median).s,
             w->speedup);
    return 1;
}

static int rule_latency(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->wall;
    char over[64];
    if (!(w->cpu_util < LATENCY_UTIL) || w->cores <= 1 ||
        (c->one && !(c->one->cpu_util < LATENCY_UTIL_1)))
        return 0;
    say(d, "latency", "cpu_util", w->cpu_util, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "latency-bound: CPU use is %.1f%% of the %u workers' time: they wait rather than "
             "compute, so more workers than cores still help (speedup %.2fx at %u workers%s)",
             100 * w->cpu_util, w->cores, w->speedup, w->cores,
             oversubscribed(c, w->cores, over, sizeof over));
    return 1;
}

static int rule_bandwidth(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    const struct sl_analysis *a = c->a;
    if (!(w->gbs > 0))
        return 0;
    if (a->have_calib && isfinite(w->bw_fraction)) {
        if (w->bw_fraction < BW_FRACTION)
            return 0;
        say(d, "bandwidth", "bw_fraction", w->bw_fraction, w->cores);
        if (w->bw_fraction > BW_SUSPECT || a->calib_suspect)
            snprintf(d->sentence, sizeof d->sentence,
                     "memory bandwidth: %.1f GB/s at %u cores reads as %.0f%% of the calibrated "
                     "bandwidth at %u threads, which is not possible: the calibration is "
                     "suspect%s%s; run calibrate again on an idle machine",
                     w->gbs, w->cores, 100 * w->bw_fraction, w->cores,
                     a->calib_note[0] ? " (" : "", a->calib_note[0] ? a->calib_note : "");
        else
            snprintf(d->sentence, sizeof d->sentence,
                     "memory bandwidth: %.1f GB/s at %u cores is %.0f%% of this host's "
                     "calibrated read bandwidth at %u threads: more cores cannot read memory "
                     "faster (speedup %.2fx)",
                     w->gbs, w->cores, 100 * w->bw_fraction, w->cores, w->speedup);
        return 1;
    }
    /* Below the calibrated limit, or no calibration: only the work's own shape (flop per
     * byte) can say it streams memory. Under a calibration, work that still scales well is
     * left to the rules below. */
    double flops = isfinite(w->gflops) ? w->gflops : 0, intensity = flops / w->gbs;
    if (intensity > BW_INTENSITY)
        return 0;
    if (a->have_calib && isfinite(w->bw_fraction)) {
        if (w->efficiency >= SCALES_WELL)
            return 0;
        say(d, "bandwidth", "bw_fraction", w->bw_fraction, w->cores);
        snprintf(d->sentence, sizeof d->sentence,
                 "memory-bound work (%.2f flop per byte) at %.0f%% of the calibrated read "
                 "bandwidth at %u cores (%.1f GB/s; speedup %.2fx): the memory, shared by the "
                 "cores, holds it back before the limit is reached",
                 intensity, 100 * w->bw_fraction, w->cores, w->gbs, w->speedup);
        return 1;
    }
    say(d, "bandwidth", "gbs", w->gbs, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "looks memory-bound: %.1f GB/s at %u cores with %.2f flop per byte moved (speedup "
             "%.2fx); run 'scalelab-engine calibrate' to compare with this host's bandwidth",
             w->gbs, w->cores, intensity, w->speedup);
    return 1;
}

static int rule_imbalance(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    const struct sl_median_run *r = &w->median_run;
    double imb = isfinite(r->imbalance) ? r->imbalance : w->imbalance, ratio;
    if (!(imb >= IMBALANCE) || r->nbusy < 2)
        return 0;
    unsigned id = idlest(r, &ratio);
    say(d, "imbalance", "imbalance", imb, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "load imbalance: at %u cores the busiest worker ran %.2fx the mean (imbalance "
             "%.2f); worker %u was busy only %.0f%% as long and idle the rest (speedup %.2fx): "
             "the work does not split evenly into %u shares",
             w->cores, imb, imb, id, 100 * ratio, w->speedup, w->cores);
    return 1;
}

static int rule_compute(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    if (!(w->flops_fraction >= FLOPS_FRACTION))
        return 0;
    say(d, "compute", "flops_fraction", w->flops_fraction, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "compute-bound: %.1f GFLOP/s at %u cores is %.0f%% of this host's calibrated peak "
             "FMA rate (speedup %.2fx)",
             w->gflops, w->cores, 100 * w->flops_fraction, w->speedup);
    return 1;
}

static int rule_noisy(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    if (!w->noisy)
        return 0;
    say(d, "noisy", "cv", w->wall.cv, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "too noisy to name a cause: at %u cores the repeats vary too much (%s; speedup "
             "%.2fx): add repeats or measure on a quieter machine",
             w->cores, w->noise, w->speedup);
    return 1;
}

static int rule_scales_well(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    if (!(w->efficiency >= SCALES_WELL))
        return 0;
    say(d, "scales_well", "efficiency", w->efficiency, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "scales well: speedup %.2fx on %u cores against %s, efficiency %.0f%%",
             w->speedup, w->cores, w->baseline, 100 * w->efficiency);
    return 1;
}

/* Nothing stands out: name the loss and the figures that were too small to explain it. */
static int rule_unexplained(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    say(d, "compute", "efficiency", w->efficiency, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "efficiency %.0f%% at %u cores (speedup %.2fx) and no measured overhead explains "
             "it (start-up %.0f%%, barriers %.0f%% of wall, imbalance %.2f): the kernels "
             "themselves ran slower on more cores (shared caches, clock, another tenant)",
             100 * w->efficiency, w->cores, w->speedup, 100 * c->startup_share,
             100 * c->barrier_share, w->imbalance);
    return 1;
}

static int (*const rules[])(const struct ctx *, struct sl_diagnosis *) = {
    rule_baseline,   rule_insufficient, rule_dependency, rule_startup,    rule_synchronisation,
    rule_latency,    rule_bandwidth,    rule_imbalance,  rule_compute,    rule_noisy,
    rule_scales_well, rule_unexplained,
};

void sl_diagnose(const struct sl_analysis *a, struct sl_abackend *b)
{
    struct ctx c = {.a = a, .backend = b->backend};
    const struct sl_apoint *host_w = NULL;
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        if (strcmp(p->backend, b->backend) != 0 || !isfinite(p->wall.median))
            continue;
        if (!c.wall || p->cores > c.wall->cores)
            c.wall = p;
        if (p->cores == 1 && !c.one)
            c.one = p;
        if ((!a->host_cpus || p->cores <= a->host_cpus) && (!host_w || p->cores > host_w->cores))
            host_w = p;
    }
    c.w = host_w && host_w->cores > 1 ? host_w : c.wall;
    if (c.w && c.w->wall.median > 0) {
        c.startup_share = (c.w->spawn_s + c.w->combine_s) / c.w->wall.median;
        c.barrier_share = c.w->barrier_s / c.w->wall.median;
    }
    memset(&b->diagnosis, 0, sizeof b->diagnosis);
    b->diagnosis.value = NAN;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i](&c, &b->diagnosis))
            break;
    /* A claim resting on a noisy point says so (the "noisy" cause already does). */
    const char *cause = b->diagnosis.cause;
    if (c.w && c.w->noisy && cause && strcmp(cause, "noisy") != 0 &&
        strcmp(cause, "baseline") != 0 && strcmp(cause, "insufficient") != 0) {
        size_t len = strlen(b->diagnosis.sentence);
        snprintf(b->diagnosis.sentence + len, sizeof b->diagnosis.sentence - len,
                 " (read with care: the %u-core time is noisy, %s)", c.w->cores, c.w->noise);
    }
}
