/* analysis.c — group samples into points, compare points with their baselines, fit models.
 *
 * Speedups compare medians: the median is robust to the odd run disturbed by another
 * tenant, which a mean is not. The model is fitted to every run, not to the medians, so
 * that noisy points weigh as much as their repetitions say.
 */
#include "analysis.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int same_point(const struct sl_apoint *p, const struct sl_sample *s)
{
    return p->cores == s->cores && p->size == s->size && strcmp(p->backend, s->backend) == 0;
}

static const struct sl_apoint *find_point(const struct sl_analysis *a, const char *backend,
                                          unsigned cores, double size)
{
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        if (p->cores == cores && p->size == size && strcmp(p->backend, backend) == 0)
            return p;
    }
    return NULL;
}

/* The smallest size (weak scaling's base) among a backend's 1-core points. */
static const struct sl_apoint *one_core_point(const struct sl_analysis *a, const char *backend,
                                              double size, int weak)
{
    const struct sl_apoint *best = NULL;
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        if (p->cores != 1 || strcmp(p->backend, backend) != 0)
            continue;
        if (!weak && p->size == size)
            return p;
        if (weak && (!best || p->size < best->size))
            best = p;
    }
    return best;
}

static double median_of(const double *x, size_t n)
{
    struct sl_summary s;
    return sl_stats_summarize(x, n, &s, NULL) == 0 ? s.median : NAN;
}

/* Per-run quantities taken as medians over a point's runs. */
static double get_util(const struct sl_sample *s) { return s->cpu_s / (s->wall_s * s->cores); }
static double get_imbalance(const struct sl_sample *s)
{
    return s->busy_mean_s > 0 ? s->busy_max_s / s->busy_mean_s : 1.0;
}

/* Median of a double field (at byte offset off) or of get(sample) over point p's runs. */
static double point_median(const struct sl_apoint *p, const struct sl_sample *ss, size_t n,
                           double *scratch, size_t off, double (*get)(const struct sl_sample *))
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (same_point(p, &ss[i]))
            scratch[k++] = get ? get(&ss[i]) : *(const double *)((const char *)&ss[i] + off);
    return median_of(scratch, k);
}

static void point_medians(struct sl_apoint *p, const struct sl_sample *ss, size_t n,
                          double *scratch)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (same_point(p, &ss[i]))
            scratch[k++] = ss[i].wall_s;
    sl_stats_summarize(scratch, k, &p->wall, NULL);
#define MEDIAN(field) point_median(p, ss, n, scratch, offsetof(struct sl_sample, field), NULL)
    p->cpu_util = point_median(p, ss, n, scratch, 0, get_util);
    p->imbalance = point_median(p, ss, n, scratch, 0, get_imbalance);
    p->spawn_s = MEDIAN(spawn_s);
    p->compute_s = MEDIAN(compute_s);
    p->combine_s = MEDIAN(combine_s);
    p->overhead_s = MEDIAN(overhead_s);
    p->vcsw = MEDIAN(vcsw);
    p->ivcsw = MEDIAN(ivcsw);
    double work = MEDIAN(work), bytes = MEDIAN(bytes), flops = MEDIAN(flops);
#undef MEDIAN
    double t = p->wall.median;
    p->rate = t > 0 ? work / t : NAN;
    p->gbs = t > 0 ? bytes / t / 1e9 : NAN;
    p->gflops = t > 0 ? flops / t / 1e9 : NAN;
}

static void compare(struct sl_analysis *a, const struct sl_calib *calib)
{
    for (size_t i = 0; i < a->npoints; i++) {
        struct sl_apoint *p = &a->points[i];
        double t = p->wall.median, cores = p->cores;
        const struct sl_apoint *ser = find_point(a, a->baseline, 1, p->size);
        const struct sl_apoint *self1 = one_core_point(a, p->backend, p->size, a->weak);
        p->speedup = ser ? ser->wall.median / t : NAN;
        /* Weak scaling compares p cores on p times the work with 1 core on the base size;
         * a one-core point at another size has no such partner. */
        if (a->weak && self1 && p->cores == 1 && self1->size != p->size)
            self1 = NULL;
        p->speedup_self = self1 ? (a->weak ? cores : 1.0) * self1->wall.median / t : NAN;
        p->efficiency = p->speedup_self / cores;
        p->efficiency_serial = p->speedup / cores;
        /* Karp-Flatt is a strong-scaling measure (fixed work); weak scaling has Gustafson. */
        p->karp_flatt = a->weak ? NAN : sl_stats_karp_flatt(p->speedup_self, cores);
        p->bw_fraction = p->flops_fraction = NAN;
        if (calib && p->gbs > 0) {
            double peak = p->cores > 1 ? calib->read_gbs_all : calib->read_gbs_1;
            p->bw_fraction = peak > 0 ? p->gbs / peak : NAN;
        }
        if (calib && p->gflops > 0) {
            double peak = p->cores > 1 ? calib->gflops_all : calib->gflops_1;
            p->flops_fraction = peak > 0 ? p->gflops / peak : NAN;
        }
    }
}

static void fit_backends(struct sl_analysis *a, const struct sl_sample *ss, size_t n)
{
    double *p = malloc(n * sizeof *p), *t = malloc(n * sizeof *t);
    for (size_t b = 0; b < a->nbackends; b++) {
        struct sl_abackend *be = &a->backends[b];
        size_t k = 0;
        double best_t = INFINITY;
        const struct sl_apoint *best = NULL, *widest = NULL;
        for (size_t i = 0; i < a->npoints; i++) {
            const struct sl_apoint *pt = &a->points[i];
            if (strcmp(pt->backend, be->backend) != 0)
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
        be->best_speedup = best ? (isfinite(best->speedup) ? best->speedup : best->speedup_self)
                                : NAN;
        be->gustafson = a->weak && widest ? sl_stats_gustafson_fraction(widest->speedup_self,
                                                                        widest->cores)
                                          : NAN;
        memset(&be->fit, 0, sizeof be->fit);
        if (!p || !t || a->weak)
            continue;
        for (size_t i = 0; i < n; i++)
            if (strcmp(ss[i].backend, be->backend) == 0) {
                p[k] = ss[i].cores;
                t[k++] = ss[i].wall_s;
            }
        sl_stats_fit_amdahl(p, t, k, &be->fit);
    }
    free(p);
    free(t);
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
    a->points = calloc(n ? n : 1, sizeof *a->points);
    a->backends = calloc(n ? n : 1, sizeof *a->backends);
    if (!a->points || !a->backends)
        goto fail;
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
        }
        p->n++;
        p->verified += s->verified ? 1 : 0;
        size_t b = 0;
        while (b < a->nbackends && strcmp(a->backends[b].backend, s->backend) != 0)
            b++;
        if (b == a->nbackends)
            snprintf(a->backends[a->nbackends++].backend, SL_NAME_MAX, "%s", s->backend);
    }
    for (size_t i = 0; i < a->npoints; i++)
        point_medians(&a->points[i], ss, n, scratch);
    compare(a, calib);
    fit_backends(a, ss, n);
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
    free(a);
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

int sl_sample_from_json(const json_t *m, struct sl_sample *s)
{
    const char *be = json_string_value(json_object_get(m, "backend"));
    const json_t *busy = json_object_get(m, "busy_ns");
    if (!be || !json_is_integer(json_object_get(m, "cores")) ||
        !json_is_number(json_object_get(m, "wall_ns")))
        return -SL_EINVAL;
    memset(s, 0, sizeof *s);
    snprintf(s->backend, sizeof s->backend, "%s", be);
    s->cores = (unsigned)json_integer_value(json_object_get(m, "cores"));
    s->size = num(m, "size");
    s->wall_s = num(m, "wall_ns") * 1e-9;
    s->cpu_s = (num(m, "user_ns") + num(m, "sys_ns")) * 1e-9;
    s->spawn_s = num(m, "spawn_ns") * 1e-9;
    s->compute_s = num(m, "compute_ns") * 1e-9;
    s->combine_s = num(m, "combine_ns") * 1e-9;
    s->overhead_s = num(m, "overhead_ns") * 1e-9;
    double bmax = 0, bsum = 0;
    size_t i, n = json_array_size(busy);
    const json_t *v;
    json_array_foreach(busy, i, v) {
        double b = json_number_value(v);
        bsum += b;
        bmax = fmax(bmax, b);
    }
    s->busy_max_s = bmax * 1e-9;
    s->busy_mean_s = n ? bsum / (double)n * 1e-9 : 0;
    s->vcsw = num(m, "vcsw");
    s->ivcsw = num(m, "ivcsw");
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

json_t *sl_analysis_to_json(const struct sl_analysis *a)
{
    json_t *o = json_object(), *pts = json_array(), *bes = json_array();
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        json_t *j = json_object();
        json_object_set_new(j, "backend", json_string(p->backend));
        json_object_set_new(j, "cores", json_integer(p->cores));
        json_object_set_new(j, "size", json_real(p->size));
        json_object_set_new(j, "wall_s", summary_json(&p->wall));
        json_object_set_new(j, "speedup", sl_json_number(p->speedup));
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
        json_object_set_new(j, "vcsw", sl_json_number(p->vcsw));
        json_object_set_new(j, "ivcsw", sl_json_number(p->ivcsw));
        json_object_set_new(j, "runs", json_integer(p->n));
        json_object_set_new(j, "verified", json_integer(p->verified));
        json_array_append_new(pts, j);
    }
    for (size_t i = 0; i < a->nbackends; i++) {
        const struct sl_abackend *b = &a->backends[i];
        json_t *j = json_object(), *fit = json_null();
        if (b->fit.ok) {
            fit = json_object();
            json_object_set_new(fit, "model", json_string(b->fit.overhead ? "a + b/p + c*p"
                                                                          : "a + b/p"));
            json_object_set_new(fit, "a", sl_json_number(b->fit.a));
            json_object_set_new(fit, "b", sl_json_number(b->fit.b));
            json_object_set_new(fit, "c", sl_json_number(b->fit.c));
            json_object_set_new(fit, "serial_fraction", sl_json_number(b->fit.serial_fraction));
            json_object_set_new(fit, "best_cores", sl_json_number(b->fit.best_p));
            json_object_set_new(fit, "best_speedup", sl_json_number(b->fit.best_speedup));
            json_object_set_new(fit, "rms_rel", sl_json_number(b->fit.rms_rel));
        }
        json_object_set_new(j, "backend", json_string(b->backend));
        json_object_set_new(j, "fit", fit);
        json_object_set_new(j, "gustafson_serial_fraction", sl_json_number(b->gustafson));
        json_object_set_new(j, "best_cores_measured", json_integer(b->best_cores));
        json_object_set_new(j, "best_speedup_measured", sl_json_number(b->best_speedup));
        json_array_append_new(bes, j);
    }
    json_object_set_new(o, "scaling", json_string(a->weak ? "weak" : "strong"));
    json_object_set_new(o, "points", pts);
    json_object_set_new(o, "backends", bes);
    return o;
}
