/* analysis.c — group samples into points, compare points with their baselines, fit models.
 *
 * Speedups compare medians: the median is robust to the odd run disturbed by another
 * tenant, which a mean is not. Only verified runs enter a statistic; the others are counted.
 * The model is fitted to the per-core-count medians (one point per core count, so a single
 * disturbed run cannot pull it) and only when there are three core counts or more: a
 * two-parameter model through two points fits exactly whatever they are, and is no evidence.
 */
#include "analysis.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

/* A point is flagged noisy when its median cannot be taken as exact: the repeats vary by more
 * than NOISY_CV (coefficient of variation), or the CI of the median spans more than
 * NOISY_CI_SPAN (ci_hi / ci_lo). */
#define NOISY_CV 0.20
#define NOISY_CI_SPAN 1.5

static int same_point(const struct sl_apoint *p, const struct sl_sample *s)
{
    return p->cores == s->cores && p->size == s->size && strcmp(p->backend, s->backend) == 0;
}

const struct sl_apoint *sl_analysis_point(const struct sl_analysis *a, const char *backend,
                                          unsigned cores, double size)
{
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        if (p->cores == cores && p->size == size && strcmp(p->backend, backend) == 0)
            return p;
    }
    return NULL;
}

/* A backend's 1-core point at this size (strong) or at its smallest size (weak: the base),
 * with a verified median; NULL when there is none. */
static const struct sl_apoint *one_core_point(const struct sl_analysis *a, const char *backend,
                                              double size, int weak)
{
    const struct sl_apoint *best = NULL;
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        if (p->cores != 1 || strcmp(p->backend, backend) != 0 || !isfinite(p->wall.median))
            continue;
        if (!weak && p->size == size)
            return p;
        if (weak && (!best || p->size < best->size))
            best = p;
    }
    return best;
}

/* Per-run quantities taken as medians over a point's verified runs. */
static double get_util(const struct sl_sample *s) { return s->cpu_s / (s->wall_s * s->cores); }
static double get_imbalance(const struct sl_sample *s)
{
    return s->busy_mean_s > 0 ? s->busy_max_s / s->busy_mean_s : 1.0;
}

static int counts(const struct sl_apoint *p, const struct sl_sample *s)
{
    return s->verified && same_point(p, s);
}

/* Median of a double field (at byte offset off) or of get(sample) over point p's runs. */
static double point_median(const struct sl_apoint *p, const struct sl_sample *ss, size_t n,
                           double *scratch, size_t off, double (*get)(const struct sl_sample *))
{
    size_t k = 0;
    struct sl_summary sum;
    for (size_t i = 0; i < n; i++)
        if (counts(p, &ss[i]))
            scratch[k++] = get ? get(&ss[i]) : *(const double *)((const char *)&ss[i] + off);
    return sl_stats_summarize(scratch, k, &sum, NULL) == 0 ? sum.median : NAN;
}

/* For qsort: samples by wall time, ties by position, so one run is picked even when several
 * share the median time. */
static int by_wall(const void *x, const void *y)
{
    const struct sl_sample *a = *(const struct sl_sample *const *)x;
    const struct sl_sample *b = *(const struct sl_sample *const *)y;
    if (a->wall_s != b->wall_s)
        return a->wall_s < b->wall_s ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* The run whose wall time is the (lower) median, broken into phases that add up to it. */
static void median_run(struct sl_apoint *p, const struct sl_sample *ss, size_t n)
{
    struct sl_median_run *r = &p->median_run;
    const struct sl_sample *pick = NULL, **runs = malloc((n ? n : 1) * sizeof *runs);
    size_t k = 0;
    memset(r, 0, sizeof *r);
    r->imbalance = NAN;
    for (size_t i = 0; runs && i < n; i++)
        if (counts(p, &ss[i]))
            runs[k++] = &ss[i];
    if (k) {
        qsort(runs, k, sizeof *runs, by_wall);
        pick = runs[(k - 1) / 2];
    }
    free(runs);
    if (!pick)
        return;
    double compute = pick->compute_s - pick->wait_s;
    r->seq = pick->seq;
    r->wall_s = pick->wall_s;
    r->spawn_s = pick->spawn_s;
    r->barrier_s = pick->compute_s > pick->wait_s ? pick->wait_s : pick->compute_s;
    r->compute_s = compute > 0 ? compute : 0;
    r->combine_s = pick->combine_s;
    double other = pick->wall_s - pick->spawn_s - pick->compute_s - pick->combine_s;
    r->other_s = other > 0 ? other : 0;
    r->nbusy = pick->nbusy;
    memcpy(r->busy_s, pick->busy_s, sizeof r->busy_s);
    r->imbalance = get_imbalance(pick);
}

/* Which worker is the least busy run after run: an uneven split idles the same one every
 * time, while a worker slowed by another tenant is a different one each time. */
static void idle_worker(struct sl_apoint *p, const struct sl_sample *ss, size_t n)
{
    unsigned count[SL_SAMPLE_WORKERS] = {0}, runs = 0;
    p->idle_worker = 0;
    p->idle_share = NAN;
    for (size_t i = 0; i < n; i++) {
        const struct sl_sample *s = &ss[i];
        if (!counts(p, s) || s->nbusy < 2)
            continue;
        unsigned id = 0;
        for (unsigned w = 1; w < s->nbusy; w++)
            if (s->busy_s[w] < s->busy_s[id])
                id = w;
        count[id]++;
        runs++;
    }
    if (!runs)
        return;
    for (unsigned w = 1; w < SL_SAMPLE_WORKERS; w++)
        if (count[w] > count[p->idle_worker])
            p->idle_worker = w;
    p->idle_share = (double)count[p->idle_worker] / runs;
}

static void noise_of(struct sl_apoint *p)
{
    const struct sl_summary *w = &p->wall;
    p->noisy = 0;
    p->noise[0] = '\0';
    if (w->n < 2)
        return;
    double span = w->ci_lo > 0 ? w->ci_hi / w->ci_lo : INFINITY;
    if (w->cv > NOISY_CV) {
        p->noisy = 1;
        snprintf(p->noise, sizeof p->noise, "CV %.0f%%", 100 * w->cv);
    } else if (span > NOISY_CI_SPAN) {
        p->noisy = 1;
        snprintf(p->noise, sizeof p->noise, "CI spans %.1fx", span);
    }
}

static void point_medians(struct sl_apoint *p, const struct sl_sample *ss, size_t n,
                          double *scratch)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (counts(p, &ss[i]))
            scratch[k++] = ss[i].wall_s;
    if (sl_stats_summarize(scratch, k, &p->wall, NULL) != 0) {
        memset(&p->wall, 0, sizeof p->wall);
        p->wall.median = p->wall.mean = p->wall.min = p->wall.max = NAN;
        p->wall.stddev = p->wall.cv = p->wall.ci_lo = p->wall.ci_hi = p->wall.ci_level = NAN;
    }
#define MEDIAN(field) point_median(p, ss, n, scratch, offsetof(struct sl_sample, field), NULL)
    p->cpu_util = point_median(p, ss, n, scratch, 0, get_util);
    p->imbalance = point_median(p, ss, n, scratch, 0, get_imbalance);
    p->spawn_s = MEDIAN(spawn_s);
    p->compute_s = MEDIAN(compute_s);
    p->combine_s = MEDIAN(combine_s);
    p->overhead_s = MEDIAN(overhead_s);
    p->barrier_s = MEDIAN(wait_s);
    p->startup_min = NAN;
    for (size_t i = 0; i < n; i++)
        if (counts(p, &ss[i]) && ss[i].wall_s > 0) {
            double share = (ss[i].spawn_s + ss[i].combine_s) / ss[i].wall_s;
            p->startup_min = isnan(p->startup_min) ? share : fmin(p->startup_min, share);
        }
    p->vcsw = MEDIAN(vcsw);
    p->ivcsw = MEDIAN(ivcsw);
    p->maxrss_kb = MEDIAN(maxrss_kb);
    double work = MEDIAN(work), bytes = MEDIAN(bytes), flops = MEDIAN(flops);
#undef MEDIAN
    double t = p->wall.median;
    p->rate = t > 0 ? work / t : NAN;
    p->gbs = t > 0 ? bytes / t / 1e9 : NAN;
    p->gflops = t > 0 ? flops / t / 1e9 : NAN;
    noise_of(p);
    median_run(p, ss, n);
    idle_worker(p, ss, n);
}

/* A calibrated limit at `cores`: the 1-thread figure at 1, the all-threads figure from
 * threads_all on, linear in between (the share of the machine's limit those cores can use). */
static double limit_at(double one, double all, unsigned threads_all, unsigned cores)
{
    if (cores <= 1 || threads_all <= 1)
        return cores <= 1 ? one : all;
    if (cores >= threads_all)
        return all;
    return one + (all - one) * (double)(cores - 1) / (double)(threads_all - 1);
}

/* The 1-core point speedup is measured against: for the scalar kernel `serial`, for the
 * vector kernel `simd`, else the backend's own 1-core point. */
static const struct sl_apoint *reference(const struct sl_analysis *a, const struct sl_apoint *p)
{
    const struct sl_apoint *r =
        one_core_point(a, p->variant == SL_SCALAR ? "serial" : "simd", p->size, a->weak);
    if (!r || r->variant != p->variant)
        r = one_core_point(a, p->backend, p->size, a->weak);
    return r;
}

static void compare(struct sl_analysis *a)
{
    const struct sl_calib *calib = a->have_calib ? &a->calib : NULL;
    for (size_t i = 0; i < a->npoints; i++) {
        struct sl_apoint *p = &a->points[i];
        double t = p->wall.median, cores = p->cores, scale = a->weak ? cores : 1.0;
        const struct sl_apoint *ser = one_core_point(a, a->baseline, p->size, a->weak);
        const struct sl_apoint *self1 = one_core_point(a, p->backend, p->size, a->weak);
        const struct sl_apoint *ref = reference(a, p);
        /* Weak scaling compares p cores on p times the work with 1 core on the base size;
         * a one-core point at another size has no such partner. */
        if (a->weak && p->cores == 1) {
            if (self1 && self1->size != p->size)
                self1 = NULL;
            if (ref && ref->size != p->size)
                ref = NULL;
            if (ser && ser->size != p->size)
                ser = NULL;
        }
        p->speedup_serial = ser ? scale * ser->wall.median / t : NAN;
        p->speedup_self = self1 ? scale * self1->wall.median / t : NAN;
        p->speedup = ref ? scale * ref->wall.median / t : NAN;
        if (ref)
            snprintf(p->baseline, sizeof p->baseline, "%s, 1 core", ref->backend);
        else
            p->baseline[0] = '\0';
        p->efficiency = p->speedup / cores;
        p->efficiency_serial = p->speedup_serial / cores;
        /* Karp-Flatt is a strong-scaling measure (fixed work); weak scaling has Gustafson. */
        p->karp_flatt = a->weak ? NAN : sl_stats_karp_flatt(p->speedup, cores);
        p->bw_fraction = p->flops_fraction = NAN;
        if (calib && p->gbs > 0) {
            double peak = limit_at(calib->read_gbs_1, calib->read_gbs_all, calib->threads,
                                   p->cores);
            p->bw_fraction = peak > 0 ? p->gbs / peak : NAN;
        }
        if (calib && p->gflops > 0) {
            double peak = limit_at(calib->gflops_1, calib->gflops_all, calib->threads, p->cores);
            p->flops_fraction = peak > 0 ? p->gflops / peak : NAN;
        }
    }
}

/* "1,2" into buf: the core counts of a backend's points. */
static unsigned core_counts(const struct sl_analysis *a, const char *backend, char *buf,
                            size_t len, unsigned *maxc)
{
    unsigned k = 0;
    size_t used = 0;
    buf[0] = '\0';
    *maxc = 0;
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        if (strcmp(p->backend, backend) != 0 || !isfinite(p->wall.median))
            continue;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(a->points[j].backend, backend) == 0 && a->points[j].cores == p->cores &&
                    isfinite(a->points[j].wall.median);
        if (seen)
            continue;
        k++;
        *maxc = p->cores > *maxc ? p->cores : *maxc;
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%u", used ? "," : "", p->cores);
    }
    return k;
}

/* Fit T(p) to the medians, then check it against every measured point's CI. */
static void fit_backend(const struct sl_analysis *a, struct sl_abackend *be, double *p, double *t)
{
    char list[96];
    unsigned maxc, k = core_counts(a, be->backend, list, sizeof list, &maxc);
    memset(&be->fit, 0, sizeof be->fit);
    be->fit_trusted = 0;
    be->fit_missing[0] = '\0';
    if (a->weak) {
        snprintf(be->fit_missing, sizeof be->fit_missing,
                 "weak scaling: no Amdahl model (Gustafson's serial fraction instead)");
        return;
    }
    if (k < 3) {
        unsigned next = maxc ? 2 * maxc : 2;
        char over[64] = "";
        if (a->host_cpus && next > a->host_cpus)
            snprintf(over, sizeof over, ", oversubscribed on this %u-CPU host", a->host_cpus);
        if (strcmp(be->backend, "serial") == 0 || strcmp(be->backend, "simd") == 0)
            snprintf(be->fit_missing, sizeof be->fit_missing,
                     "%s runs on one core: it is the reference, not a scaling curve", be->backend);
        else if (k <= 1 && maxc <= 1)
            snprintf(be->fit_missing, sizeof be->fit_missing,
                     "1 core count measured (%s): a model needs at least 3 (e.g. 1,2,%u%s)",
                     list[0] ? list : "none", next < 4 ? 4 : next, over);
        else
            snprintf(be->fit_missing, sizeof be->fit_missing,
                     "%u core count%s measured (%s): add %s (e.g. %u%s) to fit a model", k,
                     k == 1 ? "" : "s", list, k == 2 ? "a third" : "two more", next, over);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *pt = &a->points[i];
        if (strcmp(pt->backend, be->backend) == 0 && isfinite(pt->wall.median)) {
            p[n] = pt->cores;
            t[n++] = pt->wall.median;
        }
    }
    sl_stats_fit_amdahl(p, t, n, &be->fit);
    if (!be->fit.ok)
        return;
    be->fit_trusted = 1;
    double worst = -1;
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *pt = &a->points[i];
        if (strcmp(pt->backend, be->backend) != 0 || !isfinite(pt->wall.median))
            continue;
        double pred = sl_stats_fit_eval(&be->fit, pt->cores), m = pt->wall.median;
        double miss = fabs(pred - m) / m;
        if (miss > worst) {
            worst = miss;
            be->worst_miss.cores = pt->cores;
            be->worst_miss.predicted_s = pred;
            be->worst_miss.median_s = m;
        }
        /* Outside the CI of the median, with a hair of slack for rounding. */
        if (pred < pt->wall.ci_lo * (1 - 1e-9) || pred > pt->wall.ci_hi * (1 + 1e-9))
            be->fit_trusted = 0;
    }
}

static void summarise_backends(struct sl_analysis *a, size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p), *t = malloc((n ? n : 1) * sizeof *t);
    for (size_t b = 0; b < a->nbackends; b++) {
        struct sl_abackend *be = &a->backends[b];
        double best_t = INFINITY;
        const struct sl_apoint *best = NULL, *widest = NULL;
        for (size_t i = 0; i < a->npoints; i++) {
            const struct sl_apoint *pt = &a->points[i];
            if (strcmp(pt->backend, be->backend) != 0 || !isfinite(pt->wall.median))
                continue;
            if (pt->wall.median < best_t && !a->weak) {
                best_t = pt->wall.median;
                best = pt;
            }
            if (!widest || pt->cores > widest->cores)
                widest = pt;
        }
        if (a->weak) /* weak: "best" is the widest run (the most work per second) */
            best = widest;
        be->best_cores = best ? best->cores : 0;
        be->best_speedup = best ? best->speedup : NAN;
        snprintf(be->best_baseline, sizeof be->best_baseline, "%s", best ? best->baseline : "");
        be->gustafson = a->weak && widest ? sl_stats_gustafson_fraction(widest->speedup,
                                                                        widest->cores)
                                          : NAN;
        if (p && t)
            fit_backend(a, be, p, t);
        sl_diagnose(a, be);
    }
    free(p);
    free(t);
}

static void vectorisation(struct sl_analysis *a)
{
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *s = &a->points[i];
        if (s->cores != 1 || strcmp(s->backend, "serial") != 0 || !isfinite(s->wall.median))
            continue;
        const struct sl_apoint *v = sl_analysis_point(a, "simd", 1, s->size);
        if (!v || !isfinite(v->wall.median))
            continue;
        a->vec[a->nvec++] = (struct sl_vectorisation){
            .size = s->size, .serial_s = s->wall.median, .simd_s = v->wall.median,
            .gain = s->wall.median / v->wall.median};
    }
}

struct sl_analysis *sl_analysis_new(const struct sl_sample *ss, size_t n, int weak,
                                    const struct sl_calib *calib)
{
    return sl_analysis_new_baseline(ss, n, weak, calib, "serial");
}

struct sl_analysis *sl_analysis_new_baseline(const struct sl_sample *ss, size_t n, int weak,
                                             const struct sl_calib *calib, const char *baseline)
{
    struct sl_analysis *a = calloc(1, sizeof *a);
    double *scratch = malloc((n ? n : 1) * sizeof *scratch);
    if (!a || !scratch)
        goto fail;
    a->weak = weak;
    snprintf(a->baseline, sizeof a->baseline, "%s", baseline ? baseline : "");
    a->host_cpus = sl_cpus_allowed();
    a->points = calloc(n ? n : 1, sizeof *a->points);
    a->backends = calloc(n ? n : 1, sizeof *a->backends);
    a->vec = calloc(n ? n : 1, sizeof *a->vec);
    if (!a->points || !a->backends || !a->vec)
        goto fail;
    if (calib) {
        a->have_calib = 1;
        a->calib = *calib;
        a->calib_suspect = sl_calibrate_check(calib, a->calib_note, sizeof a->calib_note) != 0;
    }
    for (size_t i = 0; i < n; i++) {
        const struct sl_sample *s = &ss[i];
        struct sl_apoint *p = NULL;
        for (size_t j = 0; j < a->npoints && !p; j++)
            if (same_point(&a->points[j], s))
                p = &a->points[j];
        if (!p) {
            p = &a->points[a->npoints++];
            snprintf(p->backend, sizeof p->backend, "%s", s->backend);
            p->cores = s->cores;
            p->size = s->size;
            p->variant = s->variant;
            p->phases = s->phases;
        }
        p->n++;
        p->verified += s->verified ? 1 : 0;
        a->excluded_unverified += s->verified ? 0 : 1;
        size_t b = 0;
        while (b < a->nbackends && strcmp(a->backends[b].backend, s->backend) != 0)
            b++;
        if (b == a->nbackends)
            snprintf(a->backends[a->nbackends++].backend, SL_NAME_MAX, "%s", s->backend);
    }
    a->ci_level_min = NAN;
    for (size_t i = 0; i < a->npoints; i++) {
        point_medians(&a->points[i], ss, n, scratch);
        double l = a->points[i].wall.ci_level;
        if (isfinite(l) && !(a->ci_level_min <= l))
            a->ci_level_min = l;
    }
    compare(a);
    vectorisation(a);
    summarise_backends(a, n);
    free(scratch);
    return a;
fail:
    free(scratch);
    sl_analysis_free(a);
    return NULL;
}

void sl_analysis_free(struct sl_analysis *a)
{
    if (!a)
        return;
    free(a->points);
    free(a->backends);
    free(a->vec);
    free(a);
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* Sum and maximum of a JSON array of numbers; the first SL_SAMPLE_WORKERS values in keep. */
static size_t array_stats(const json_t *arr, double *sum, double *max, double *keep)
{
    size_t i, n = json_array_size(arr);
    const json_t *v;
    *sum = *max = 0;
    json_array_foreach(arr, i, v) {
        double b = json_number_value(v);
        *sum += b;
        *max = fmax(*max, b);
        if (keep && i < SL_SAMPLE_WORKERS)
            keep[i] = b * 1e-9;
    }
    return n;
}

int sl_sample_from_json(const json_t *m, struct sl_sample *s)
{
    const char *be = json_string_value(json_object_get(m, "backend"));
    const char *variant = json_string_value(json_object_get(m, "variant"));
    if (!be || !json_is_integer(json_object_get(m, "cores")) ||
        !json_is_number(json_object_get(m, "wall_ns")))
        return -SL_EINVAL;
    memset(s, 0, sizeof *s);
    snprintf(s->backend, sizeof s->backend, "%s", be);
    s->cores = (unsigned)json_integer_value(json_object_get(m, "cores"));
    /* Rows stored before the variant was recorded: serial ran the scalar kernel, every
     * other backend the vector one (the engine's defaults then). */
    if (variant)
        s->variant = strcmp(variant, "scalar") == 0 ? SL_SCALAR : SL_VECTOR;
    else
        s->variant = strcmp(be, "serial") == 0 ? SL_SCALAR : SL_VECTOR;
    s->seq = (unsigned)num(m, "seq");
    s->size = num(m, "size");
    s->wall_s = num(m, "wall_ns") * 1e-9;
    s->cpu_s = (num(m, "user_ns") + num(m, "sys_ns")) * 1e-9;
    s->spawn_s = num(m, "spawn_ns") * 1e-9;
    s->compute_s = num(m, "compute_ns") * 1e-9;
    s->combine_s = num(m, "combine_ns") * 1e-9;
    s->overhead_s = num(m, "overhead_ns") * 1e-9;
    double bsum, bmax, wsum, wmax;
    size_t n = array_stats(json_object_get(m, "busy_ns"), &bsum, &bmax, s->busy_s);
    s->nbusy = n < SL_SAMPLE_WORKERS ? (unsigned)n : SL_SAMPLE_WORKERS;
    s->busy_max_s = bmax * 1e-9;
    s->busy_mean_s = n ? bsum / (double)n * 1e-9 : 0;
    size_t nw = array_stats(json_object_get(m, "wait_ns"), &wsum, &wmax, NULL);
    s->wait_s = nw ? wsum / (double)nw * 1e-9 : 0;
    s->phases = (unsigned)num(m, "phases");
    s->vcsw = num(m, "vcsw");
    s->ivcsw = num(m, "ivcsw");
    s->maxrss_kb = num(m, "maxrss_kb");
    s->verified = json_is_true(json_object_get(m, "verified"));
    s->work = num(m, "work");
    s->bytes = num(m, "bytes");
    s->flops = num(m, "flops");
    return 0;
}

json_t *sl_json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *summary_json(const struct sl_summary *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)s->n));
    json_object_set_new(o, "median", sl_json_number(s->median));
    json_object_set_new(o, "mean", sl_json_number(s->mean));
    json_object_set_new(o, "min", sl_json_number(s->min));
    json_object_set_new(o, "max", sl_json_number(s->max));
    json_object_set_new(o, "stddev", sl_json_number(s->stddev));
    json_object_set_new(o, "cv", sl_json_number(s->cv));
    json_object_set_new(o, "ci_lo", sl_json_number(s->ci_lo));
    json_object_set_new(o, "ci_hi", sl_json_number(s->ci_hi));
    json_object_set_new(o, "ci_level", sl_json_number(s->ci_level));
    json_object_set_new(o, "outliers", json_integer((json_int_t)s->outliers));
    return o;
}

static json_t *median_run_json(const struct sl_median_run *r)
{
    json_t *o = json_object(), *busy = json_array();
    for (unsigned i = 0; i < r->nbusy; i++)
        json_array_append_new(busy, json_real(r->busy_s[i]));
    json_object_set_new(o, "seq", json_integer(r->seq));
    json_object_set_new(o, "wall_s", sl_json_number(r->wall_s));
    json_object_set_new(o, "spawn_s", sl_json_number(r->spawn_s));
    json_object_set_new(o, "compute_s", sl_json_number(r->compute_s));
    json_object_set_new(o, "barrier_s", sl_json_number(r->barrier_s));
    json_object_set_new(o, "combine_s", sl_json_number(r->combine_s));
    json_object_set_new(o, "other_s", sl_json_number(r->other_s));
    json_object_set_new(o, "busy_s", busy);
    json_object_set_new(o, "imbalance", sl_json_number(r->imbalance));
    return o;
}

static json_t *string_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *point_json(const struct sl_apoint *p)
{
    json_t *j = json_object();
    json_object_set_new(j, "backend", json_string(p->backend));
    json_object_set_new(j, "cores", json_integer(p->cores));
    json_object_set_new(j, "variant", json_string(sl_variant_name(p->variant)));
    json_object_set_new(j, "size", json_real(p->size));
    json_object_set_new(j, "wall_s", summary_json(&p->wall));
    json_object_set_new(j, "speedup", sl_json_number(p->speedup));
    json_object_set_new(j, "baseline", string_or_null(p->baseline));
    json_object_set_new(j, "speedup_serial", sl_json_number(p->speedup_serial));
    json_object_set_new(j, "speedup_self", sl_json_number(p->speedup_self));
    json_object_set_new(j, "efficiency", sl_json_number(p->efficiency));
    json_object_set_new(j, "efficiency_serial", sl_json_number(p->efficiency_serial));
    json_object_set_new(j, "karp_flatt", sl_json_number(p->karp_flatt));
    json_object_set_new(j, "rate", sl_json_number(p->rate));
    json_object_set_new(j, "gbs", sl_json_number(p->gbs));
    json_object_set_new(j, "gflops", sl_json_number(p->gflops));
    json_object_set_new(j, "bw_fraction", sl_json_number(p->bw_fraction));
    json_object_set_new(j, "flops_fraction", sl_json_number(p->flops_fraction));
    json_object_set_new(j, "cpu_util", sl_json_number(p->cpu_util));
    json_object_set_new(j, "imbalance", sl_json_number(p->imbalance));
    json_object_set_new(j, "spawn_s", sl_json_number(p->spawn_s));
    json_object_set_new(j, "compute_s", sl_json_number(p->compute_s));
    json_object_set_new(j, "combine_s", sl_json_number(p->combine_s));
    json_object_set_new(j, "overhead_s", sl_json_number(p->overhead_s));
    json_object_set_new(j, "barrier_s", sl_json_number(p->barrier_s));
    json_object_set_new(j, "phases", p->phases ? json_integer(p->phases) : json_null());
    json_object_set_new(j, "vcsw", sl_json_number(p->vcsw));
    json_object_set_new(j, "ivcsw", sl_json_number(p->ivcsw));
    json_object_set_new(j, "maxrss_kb", sl_json_number(p->maxrss_kb));
    json_object_set_new(j, "runs", json_integer(p->n));
    json_object_set_new(j, "verified", json_integer(p->verified));
    json_object_set_new(j, "excluded", json_integer(p->n - p->verified));
    json_object_set_new(j, "noisy", json_boolean(p->noisy));
    json_object_set_new(j, "noise", string_or_null(p->noise));
    json_object_set_new(j, "median_run", median_run_json(&p->median_run));
    return j;
}

static json_t *fit_json(const struct sl_abackend *b)
{
    if (!b->fit.ok)
        return json_null();
    json_t *fit = json_object(), *miss = json_object();
    json_object_set_new(fit, "model", json_string(b->fit.overhead ? "a + b/p + c*p" : "a + b/p"));
    json_object_set_new(fit, "a", sl_json_number(b->fit.a));
    json_object_set_new(fit, "b", sl_json_number(b->fit.b));
    json_object_set_new(fit, "c", sl_json_number(b->fit.c));
    json_object_set_new(fit, "serial_fraction", sl_json_number(b->fit.serial_fraction));
    json_object_set_new(fit, "best_cores", sl_json_number(b->fit.best_p));
    json_object_set_new(fit, "best_speedup", sl_json_number(b->fit.best_speedup));
    json_object_set_new(fit, "rms_rel", sl_json_number(b->fit.rms_rel));
    json_object_set_new(fit, "trusted", json_boolean(b->fit_trusted));
    json_object_set_new(miss, "cores", json_integer(b->worst_miss.cores));
    json_object_set_new(miss, "predicted_s", sl_json_number(b->worst_miss.predicted_s));
    json_object_set_new(miss, "median_s", sl_json_number(b->worst_miss.median_s));
    json_object_set_new(fit, "worst_miss", miss);
    return fit;
}

static json_t *diagnosis_json(const struct sl_diagnosis *d)
{
    json_t *o = json_object(), *fig = json_null();
    if (d->figure) {
        fig = json_object();
        json_object_set_new(fig, "name", json_string(d->figure));
        json_object_set_new(fig, "value", sl_json_number(d->value));
        json_object_set_new(fig, "cores", d->cores ? json_integer(d->cores) : json_null());
    }
    json_object_set_new(o, "cause", json_string(d->cause ? d->cause : "insufficient"));
    json_object_set_new(o, "sentence", json_string(d->sentence));
    json_object_set_new(o, "figure", fig);
    return o;
}

static json_t *calibration_json(const struct sl_analysis *a)
{
    if (!a->have_calib)
        return json_null();
    const struct sl_calib *c = &a->calib;
    json_t *o = json_object();
    json_object_set_new(o, "read_gbs_1", sl_json_number(c->read_gbs_1));
    json_object_set_new(o, "read_gbs_all", sl_json_number(c->read_gbs_all));
    json_object_set_new(o, "gflops_1", sl_json_number(c->gflops_1));
    json_object_set_new(o, "gflops_all", sl_json_number(c->gflops_all));
    json_object_set_new(o, "threads_all", json_integer(c->threads));
    json_object_set_new(o, "status", json_string(a->calib_suspect ? "suspect" : "ok"));
    json_object_set_new(o, "note", string_or_null(a->calib_note));
    return o;
}

json_t *sl_analysis_to_json(const struct sl_analysis *a)
{
    json_t *o = json_object(), *pts = json_array(), *bes = json_array(), *vec = json_array();
    for (size_t i = 0; i < a->npoints; i++)
        json_array_append_new(pts, point_json(&a->points[i]));
    for (size_t i = 0; i < a->nbackends; i++) {
        const struct sl_abackend *b = &a->backends[i];
        json_t *j = json_object();
        json_object_set_new(j, "backend", json_string(b->backend));
        json_object_set_new(j, "fit", fit_json(b));
        json_object_set_new(j, "fit_missing", string_or_null(b->fit_missing));
        json_object_set_new(j, "gustafson_serial_fraction", sl_json_number(b->gustafson));
        json_object_set_new(j, "best_cores_measured", json_integer(b->best_cores));
        json_object_set_new(j, "best_speedup_measured", sl_json_number(b->best_speedup));
        json_object_set_new(j, "best_baseline", string_or_null(b->best_baseline));
        json_object_set_new(j, "diagnosis", diagnosis_json(&b->diagnosis));
        json_array_append_new(bes, j);
    }
    for (size_t i = 0; i < a->nvec; i++)
        json_array_append_new(vec, json_pack("{s:f, s:o, s:o, s:o}", "size", a->vec[i].size,
                                             "serial_s", sl_json_number(a->vec[i].serial_s),
                                             "simd_s", sl_json_number(a->vec[i].simd_s),
                                             "gain", sl_json_number(a->vec[i].gain)));
    json_object_set_new(o, "scaling", json_string(a->weak ? "weak" : "strong"));
    json_object_set_new(o, "ci_level_min", sl_json_number(a->ci_level_min));
    json_object_set_new(o, "excluded_unverified", json_integer(a->excluded_unverified));
    json_object_set_new(o, "calibration", calibration_json(a));
    json_object_set_new(o, "vectorisation", vec);
    json_object_set_new(o, "points", pts);
    json_object_set_new(o, "backends", bes);
    return o;
}
