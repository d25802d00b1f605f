/* diagnosis.c — name the one cause that limits a backend, from measured figures only.
 *
 * The evidence is read at one point, the backend's widest core count on this host's CPUs
 * (the widest overall when every multi-core point is oversubscribed): that is where a cause
 * shows most and where the reader looks. Latency is read at the widest point overall, since
 * its lesson is precisely that more workers than cores still help.
 *
 * The rules are tried in the order of the table; each either holds and writes its sentence or
 * passes. Evidence that a busy machine cannot fake comes first: one worker with all the work
 * (a dependency chain), workers giving their CPU up (latency), measured barrier waits, the
 * work's bytes per flop, the same worker idle run after run. Then a guard: a compute kernel
 * that got well under one CPU on one worker means another tenant had the machine, and the
 * engine says so (cause "noisy") rather than blame start-up or speed for it. Every sentence
 * quotes the figure its rule tested, and the figure goes into the JSON beside it; a claim
 * resting on a noisy point says so.
 */
#include "diagnosis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "backend.h"

/* Thresholds, with why: */
#define DEP_IDLE 0.01         /* the other workers' kernel time under 1% of the busiest's:
                               * they had no items at all (a worker slowed by another tenant
                               * still has its share, and more kernel time, not less) */
#define STARTUP_SHARE 0.50    /* spawn + combine above half the wall: the work is too small
                               * (a busy machine delays thread starts by milliseconds, so a
                               * lower bar would blame start-up for another tenant's load)... */
#define STARTUP_EVERY 0.25    /* ...and above a quarter in every run: paid each time */
#define BARRIER_SHARE 0.20    /* waiting at barriers above 20% of wall */
#define LATENCY_UTIL 0.10     /* CPU use under a tenth of the cores: the workers wait... */
#define LATENCY_UTIL_1 0.25   /* ...and under a quarter of a core on one worker: the work itself
                               * waits (a starved compute kernel keeps its 1-core run busy) */
#define BW_FRACTION 0.60      /* 60% of the calibrated bandwidth: the memory is the limit */
#define BW_SUSPECT 1.05       /* above the calibrated bandwidth beyond noise: suspect */
#define BW_INTENSITY 0.5      /* flop per byte below which streaming work is memory-bound */
#define IMBALANCE 1.20        /* busiest worker 20% above the mean */
#define IDLE_SAME 0.75        /* the same worker the least busy in 3 runs of 4 */
#define BUSY_HOST_UTIL 0.70   /* a 1-worker run that does not wait gets ~100% of a CPU; under
                               * 70% another tenant had it, and every share of wall time
                               * (start-up, barriers) is inflated by waiting for a CPU */
#define FLOPS_FRACTION 0.50   /* half the peak FMA rate: compute-bound */
#define SCALES_WELL 0.80      /* parallel efficiency of 80% or more */
#define SERIAL_BUSY 1.25      /* workers that keep at most 1.25 cores busy between them... */
#define SERIAL_GIVEN 2.0      /* ...giving the CPU up at least twice as often as it is taken
                               * from them (a lock's waiters block: voluntary switches; another
                               * tenant's load preempts: involuntary ones)... */
#define SERIAL_SWITCHES 20    /* ...and often (a run that blocks a few times is not waiting
                               * its turn) */

struct ctx {
    const struct sl_analysis *a;
    const char *backend;
    const struct sl_apoint *w;    /* widest point on this host's CPUs (or widest overall) */
    const struct sl_apoint *wall; /* widest point overall */
    const struct sl_apoint *one;  /* the backend's 1-core point, or NULL */
    double startup_share;         /* (spawn + combine) / wall of w's median run */
    double barrier_share;         /* barrier wait / wall of w's median run */
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

static int rule_baseline(const struct ctx *c, struct sl_diagnosis *d)
{
    int serial = strcmp(c->backend, "serial") == 0, simd = strcmp(c->backend, "simd") == 0;
    /* A program group's baseline route (the plain loop) runs at 1 core only: it is the
     * reference, not a curve with a cause. */
    int group = !serial && !simd && strcmp(c->backend, c->a->baseline) == 0 && c->wall &&
                c->wall->cores == 1;
    if (!serial && !simd && !group)
        return 0;
    const struct sl_apoint *p = c->wall;
    double t = p ? p->wall.median : NAN;
    if (group) {
        say(d, "baseline", "median_s", t, 1);
        snprintf(d->sentence, sizeof d->sentence,
                 "%s is the group's reference: one process on one core (median %s); the "
                 "routes' gains 'vs %s' are against it",
                 c->backend, dur(t).s, c->backend);
    } else if (serial) {
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

/* How many workers of the median run did kernel work (more than DEP_IDLE of the busiest). */
static unsigned working(const struct sl_median_run *r)
{
    double max = 0;
    unsigned n = 0;
    for (unsigned i = 0; i < r->nbusy; i++)
        max = fmax(max, r->busy_s[i]);
    for (unsigned i = 0; i < r->nbusy; i++)
        n += r->busy_s[i] > DEP_IDLE * max;
    return n;
}

static int rule_dependency(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    const struct sl_median_run *r = &w->median_run;
    /* One worker with all the work at every multi-worker point: whatever gain the times
     * seem to show is noise (the 1-core run disturbed), so the speedup is quoted, not tested. */
    for (size_t i = 0; i < c->a->npoints; i++) {
        const struct sl_apoint *p = &c->a->points[i];
        if (strcmp(p->backend, c->backend) == 0 && p->cores > 1 && isfinite(p->wall.median) &&
            (p->median_run.nbusy < 2 || working(&p->median_run) != 1))
            return 0;
    }
    say(d, "dependency", "speedup", w->speedup, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "dependency chain: speedup %.2fx at %u cores (vs %s) because one worker did all "
             "the work and %u other%s had none (imbalance %.2f): one chain of dependent steps "
             "cannot be split, only independent chains can run in parallel",
             w->speedup, w->cores, w->baseline, r->nbusy - 1, r->nbusy == 2 ? "" : "s",
             r->imbalance);
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
    if (!(c->startup_share >= STARTUP_SHARE) || c->startup_share < c->barrier_share ||
        !(w->startup_min >= STARTUP_EVERY))
        return 0;
    if (by_messages(c)) { /* ranks are started once, apart: a run pays only its messages */
        say(d, "communication", "startup_share", c->startup_share, w->cores);
        snprintf(d->sentence, sizeof d->sentence,
                 "communication: reaching the %u ranks, their barrier and the gather of their "
                 "partials take %.0f%% of the wall time (%s of %s in the median run); the "
                 "ranks are kept warm (their launch is reported apart), so the work per run "
                 "is too small: speedup %.2fx; give each rank more work",
                 w->cores, 100 * c->startup_share,
                 dur(w->median_run.spawn_s + w->median_run.combine_s).s,
                 dur(w->median_run.wall_s).s, w->speedup);
        return 1;
    }
    say(d, "startup", "startup_share", c->startup_share, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "start-up overhead: starting and joining the %u workers takes %.0f%% of the wall "
             "time (%s of %s in the median run, at least %.0f%% in every run), so the work is "
             "too small for them: speedup %.2fx; give each worker more work or keep the "
             "workers warm",
             w->cores, 100 * c->startup_share,
             dur(w->median_run.spawn_s + w->median_run.combine_s).s,
             dur(w->median_run.wall_s).s, 100 * w->startup_min, w->speedup);
    return 1;
}

static int rule_synchronisation(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w;
    if (!(c->barrier_share >= BARRIER_SHARE) || c->barrier_share < c->startup_share)
        return 0;
    char per[80] = "";
    if (w->phases > 1)
        snprintf(per, sizeof per, ", %s at each of %u barriers",
                 dur(w->median_run.barrier_s / (w->phases - 1)).s, w->phases - 1);
    if (by_messages(c)) {
        say(d, "communication", "barrier_share", c->barrier_share, w->cores);
        snprintf(d->sentence, sizeof d->sentence,
                 "communication: at %u ranks each rank exchanges boundary messages and waits for "
                 "its neighbours between phases for %.0f%% of the wall time (%s of %s in the "
                 "median run%s), measured apart from kernel time: speedup %.2fx; fewer, larger "
                 "messages (fewer phases) would pay",
                 w->cores, 100 * c->barrier_share, dur(w->median_run.barrier_s).s,
                 dur(w->median_run.wall_s).s, per, w->speedup);
        return 1;
    }
    say(d, "synchronisation", "barrier_share", c->barrier_share, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "synchronisation: at %u cores each worker waits at the barriers between phases "
             "for %.0f%% of the wall time (%s of %s in the median run%s), measured apart from "
             "kernel time: speedup %.2fx; fewer, larger phases would wait less",
             w->cores, 100 * c->barrier_share, dur(w->median_run.barrier_s).s,
             dur(w->median_run.wall_s).s, per, w->speedup);
    return 1;
}

static int rule_latency(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->wall;
    char over[64];
    /* Waiting means blocking: the workers give the CPU up themselves (voluntary context
     * switches), where a starved kernel has it taken away (involuntary ones). */
    if (!(w->cpu_util < LATENCY_UTIL) || w->cores <= 1 ||
        (c->one && !(c->one->cpu_util < LATENCY_UTIL_1)) || !(w->vcsw > w->ivcsw))
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
    /* The median over runs (one run's busy times can be skewed by a preempted worker), and
     * the same worker idle in most runs: an uneven split, not another tenant. */
    /* And the median run (the one the per-worker chart and the sentence show) must be uneven
     * itself: with two repeats, one uneven run makes the median imbalance high while the run
     * shown is balanced, and the sentence would say "busy only 100% as long". */
    if (!(w->imbalance >= IMBALANCE) || r->nbusy < 2 || !(w->idle_share >= IDLE_SAME) ||
        !(r->imbalance >= IMBALANCE))
        return 0;
    unsigned id = w->idle_worker;
    double max = 0;
    for (unsigned i = 0; i < r->nbusy; i++)
        max = fmax(max, r->busy_s[i]);
    double ratio = id < r->nbusy && max > 0 ? r->busy_s[id] / max : NAN;
    say(d, "imbalance", "imbalance", w->imbalance, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "load imbalance: at %u cores the busiest worker ran %.2fx the mean (median "
             "imbalance %.2f); worker %u, the least busy in %.0f%% of the runs, was busy only "
             "%.0f%% as long as the busiest in the median run and idle the rest (speedup "
             "%.2fx): the work does not split evenly into %u shares",
             w->cores, w->imbalance, w->imbalance, id, 100 * w->idle_share, 100 * ratio,
             w->speedup, w->cores);
    return 1;
}

/* Workers that take turns: at several cores they keep no more CPUs busy than one worker did,
 * and they block (give the CPU up) far more often than they are preempted. That is a lock
 * held for the whole computation, Python's GIL above all: threads of CPU-bound Python code run
 * one at a time. A busy machine gives low CPU use too, but by preemption (involuntary
 * switches), and its 1-core run is starved as well. */
static int rule_serialised(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *w = c->w, *one = c->one;
    double busy = w->cpu_util * w->cores;
    if (w->cores < 2 || !one || !(one->cpu_util >= BUSY_HOST_UTIL) || !(busy <= SERIAL_BUSY) ||
        !(w->speedup <= SERIAL_BUSY) || !(w->vcsw >= SERIAL_SWITCHES) ||
        !(w->vcsw >= SERIAL_GIVEN * w->ivcsw) || c->startup_share >= STARTUP_SHARE ||
        c->barrier_share >= BARRIER_SHARE)
        return 0;
    say(d, "serialised", "cores_busy", busy, w->cores);
    snprintf(d->sentence, sizeof d->sentence,
             "serialised: at %u cores the %u workers kept only %.2f cores busy (CPU time over "
             "wall time; %.2f on 1 core) and gave the CPU up %.0f times a run against %.0f "
             "taken from them: they take turns at a lock held while they compute, as Python "
             "threads do at the GIL (speedup %.2fx); use processes, or code that releases the "
             "lock (NumPy, Numba nogil, a C extension)",
             w->cores, w->cores, busy, one->cpu_util, w->vcsw, w->ivcsw, w->speedup);
    return 1;
}

static int rule_busy_host(const struct ctx *c, struct sl_diagnosis *d)
{
    const struct sl_apoint *one = c->one;
    /* Only where the 1-core run is mostly kernel: a run made of start-up (a fork, a wait)
     * is idle in part by nature. */
    if (!one || !(one->cpu_util < BUSY_HOST_UTIL) || one->median_run.nbusy < 1 ||
        !(one->median_run.busy_s[0] >= 0.5 * one->median_run.wall_s))
        return 0;
    say(d, "noisy", "cpu_util", one->cpu_util, 1);
    snprintf(d->sentence, sizeof d->sentence,
             "the machine was busy: on 1 core %s got only %.0f%% of a CPU, so its times "
             "include waiting for a CPU and no cause can be named (speedup %.2fx at %u "
             "cores); measure again on a quieter machine",
             c->backend, 100 * one->cpu_util, c->w->speedup, c->w->cores);
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
    /* Structural evidence first (it holds however busy the machine is), then the guard
     * against a busy machine, then what a busy machine can fake (start-up shares, speed). */
    rule_baseline,    rule_insufficient,    rule_dependency, rule_latency,
    rule_synchronisation, rule_bandwidth,   rule_imbalance,  rule_serialised, rule_busy_host,
    rule_startup,     rule_compute,         rule_noisy,      rule_scales_well,
    rule_unexplained,
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
    if (c.w) {
        /* One real run, the one the phase chart draws, so the words agree with it. */
        const struct sl_median_run *r = &c.w->median_run;
        c.startup_share = r->wall_s > 0 ? (r->spawn_s + r->combine_s) / r->wall_s : 0;
        c.barrier_share = r->wall_s > 0 ? r->barrier_s / r->wall_s : 0;
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
