/* test_analysis.c — from hand-made samples to medians, speedups, efficiency, fits and JSON. */

/*
 * Samples are built by hand with round numbers so that every expected value can be worked
 * out on paper; the working is written next to each assertion. Samples of different points
 * are interleaved, as a sweep produces them, so grouping by point is exercised too.
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "calibrate.h"
#include "sl.h"

#define EPS 1e-9

static void assert_near(double got, double want, double tol, const char *what)
{
    cr_assert(fabs(got - want) <= tol, "%s: got %.17g, want %.17g (tol %g)", what, got, want,
              tol);
}

static void assert_nan(double got, const char *what)
{
    cr_assert(isnan(got), "%s: got %.17g, want NaN", what, got);
}

/* One verified run that keeps every core busy, balanced, moving nothing. */
static struct sl_sample sample(const char *backend, unsigned cores, double size, double wall)
{
    struct sl_sample s;
    memset(&s, 0, sizeof s);
    snprintf(s.backend, sizeof s.backend, "%s", backend);
    s.cores = cores;
    s.size = size;
    s.wall_s = wall;
    s.cpu_s = wall * cores;
    s.compute_s = wall;
    s.busy_max_s = s.busy_mean_s = wall;
    s.verified = 1;
    s.work = 1000;
    return s;
}

static const struct sl_apoint *point(const struct sl_analysis *a, const char *backend,
                                     unsigned cores)
{
    for (size_t i = 0; i < a->npoints; i++)
        if (a->points[i].cores == cores && strcmp(a->points[i].backend, backend) == 0)
            return &a->points[i];
    cr_assert_fail("no point for %s at %u cores", backend, cores);
    return NULL;
}

static const struct sl_abackend *backend(const struct sl_analysis *a, const char *name)
{
    for (size_t i = 0; i < a->nbackends; i++)
        if (strcmp(a->backends[i].backend, name) == 0)
            return &a->backends[i];
    cr_assert_fail("no backend entry for %s", name);
    return NULL;
}

/* The strong-scaling sweep of the brief, interleaved by repetition:
 *   serial  1 core: 1.0 1.1 0.9   (median 1.0)
 *   threads 1 core: 1.0 1.0 1.0   (median 1.0)
 *   threads 2 core: 0.5 0.52 0.48 (median 0.5)
 *   threads 4 core: 0.3 0.3 0.3   (median 0.3) */
static size_t strong_samples(struct sl_sample *ss, int with_serial)
{
    const double ser[] = {1.0, 1.1, 0.9}, t1[] = {1.0, 1.0, 1.0}, t2[] = {0.5, 0.52, 0.48},
                 t4[] = {0.3, 0.3, 0.3};
    size_t n = 0;
    for (int r = 0; r < 3; r++) {
        if (with_serial)
            ss[n++] = sample("serial", 1, 1e6, ser[r]);
        ss[n++] = sample("threads", 1, 1e6, t1[r]);
        ss[n++] = sample("threads", 2, 1e6, t2[r]);
        ss[n++] = sample("threads", 4, 1e6, t4[r]);
    }
    return n;
}

Test(analysis, strong_scaling_points)
{
    struct sl_sample ss[12];
    size_t n = strong_samples(ss, 1);
    struct sl_analysis *a = sl_analysis_new(ss, n, 0, NULL);
    cr_assert_not_null(a, "analysis of 12 samples");
    cr_assert_eq(a->weak, 0, "strong scaling is recorded");
    cr_assert_eq(a->npoints, 4, "4 points (serial/1, threads/1, threads/2, threads/4), got %zu",
                 a->npoints);
    cr_assert_eq(a->nbackends, 2, "2 backends, got %zu", a->nbackends);
    cr_assert_str_eq(a->backends[0].backend, "serial", "backends in order of first appearance");
    cr_assert_str_eq(a->backends[1].backend, "threads", "backends in order of first appearance");
    const unsigned order_cores[] = {1, 1, 2, 4};
    const char *order_be[] = {"serial", "threads", "threads", "threads"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(a->points[i].backend, order_be[i], "points[%zu] backend in order", i);
        cr_assert_eq(a->points[i].cores, order_cores[i], "points[%zu] cores in order", i);
        cr_assert_eq(a->points[i].n, 3, "points[%zu] has 3 runs", i);
        cr_assert_eq(a->points[i].verified, 3, "points[%zu] has 3 verified runs", i);
        cr_assert_eq(a->points[i].size, 1e6, "points[%zu] keeps the size", i);
    }

    const struct sl_apoint *s1 = point(a, "serial", 1), *t1 = point(a, "threads", 1),
                           *t2 = point(a, "threads", 2), *t4 = point(a, "threads", 4);
    assert_near(s1->wall.median, 1.0, EPS, "serial median of 1.0 1.1 0.9");
    assert_near(s1->wall.min, 0.9, EPS, "serial min");
    assert_near(s1->wall.max, 1.1, EPS, "serial max");
    assert_near(t1->wall.median, 1.0, EPS, "threads/1 median");
    assert_near(t2->wall.median, 0.5, EPS, "threads/2 median of 0.5 0.52 0.48");
    assert_near(t4->wall.median, 0.3, EPS, "threads/4 median");
    cr_assert(t2->wall.ci_lo <= 0.5 && 0.5 <= t2->wall.ci_hi,
              "threads/2 CI [%g, %g] holds its median", t2->wall.ci_lo, t2->wall.ci_hi);

    /* Serial against itself. */
    assert_near(s1->speedup, 1.0, EPS, "serial speedup vs serial");
    assert_nan(s1->karp_flatt, "serial karp_flatt at 1 core");

    /* threads at 1 core: same time as serial. */
    assert_near(t1->speedup, 1.0, EPS, "threads/1 speedup: 1.0 / 1.0");
    assert_near(t1->speedup_self, 1.0, EPS, "threads/1 speedup_self");
    assert_near(t1->efficiency, 1.0, EPS, "threads/1 efficiency");
    assert_nan(t1->karp_flatt, "threads/1 karp_flatt is undefined at 1 core");

    /* threads at 2 cores: 1.0 / 0.5 = 2, efficiency 2 / 2 = 1, Karp-Flatt (1/2 - 1/2)/... = 0. */
    assert_near(t2->speedup, 2.0, EPS, "threads/2 speedup vs serial: 1.0 / 0.5");
    assert_near(t2->speedup_self, 2.0, EPS, "threads/2 speedup_self: 1.0 / 0.5");
    assert_near(t2->efficiency, 1.0, EPS, "threads/2 efficiency: 2 / 2");
    assert_near(t2->efficiency_serial, 1.0, EPS, "threads/2 efficiency_serial: 2 / 2");
    assert_near(t2->karp_flatt, 0.0, EPS, "threads/2 karp_flatt: (1/2 - 1/2) / (1 - 1/2)");

    /* threads at 4 cores: S = 1 / 0.3 = 3.333, E = S / 4 = 0.8333,
     * Karp-Flatt = (0.3 - 0.25) / 0.75 = 0.06667. */
    const double s4 = 1.0 / 0.3;
    assert_near(t4->speedup, s4, EPS, "threads/4 speedup vs serial: 1 / 0.3");
    assert_near(t4->speedup_self, s4, EPS, "threads/4 speedup_self: 1 / 0.3");
    assert_near(t4->efficiency, s4 / 4, EPS, "threads/4 efficiency: (1/0.3) / 4");
    assert_near(t4->efficiency_serial, s4 / 4, EPS, "threads/4 efficiency_serial");
    assert_near(t4->karp_flatt, (1 / s4 - 0.25) / 0.75, EPS, "threads/4 karp_flatt");
    assert_near(t4->karp_flatt, 0.05 / 0.75, EPS, "threads/4 karp_flatt by hand: 0.0667");

    /* Balanced, fully busy runs. */
    assert_near(t4->cpu_util, 1.0, EPS, "threads/4 cpu_util of fully busy runs");
    assert_near(t4->imbalance, 1.0, EPS, "threads/4 imbalance of balanced runs");
    sl_analysis_free(a);
}

Test(analysis, strong_scaling_fits)
{
    struct sl_sample ss[12];
    size_t n = strong_samples(ss, 1);
    struct sl_analysis *a = sl_analysis_new(ss, n, 0, NULL);
    cr_assert_not_null(a, "analysis of 12 samples");
    const struct sl_abackend *ser = backend(a, "serial"), *thr = backend(a, "threads");

    cr_assert_eq(ser->fit.ok, 0, "serial runs only at 1 core: no fit");
    cr_assert_eq(ser->best_cores, 1, "serial's best core count is 1");
    assert_near(ser->best_speedup, 1.0, EPS, "serial's best speedup is 1");
    assert_nan(ser->gustafson, "no Gustafson fraction under strong scaling");

    cr_assert_eq(thr->fit.ok, 1, "threads at 1, 2, 4 cores gets an Amdahl fit");
    cr_assert_eq(thr->fit.overhead, 0, "3 distinct core counts: no overhead term");
    /* Least squares on relative residuals of T = a + b/p through the three MEDIANS (1, 1.0),
     * (2, 0.5), (4, 0.3), solved by hand from the 2x2 normal equations of the rows
     * (1/t, 1/(p t)) = 1: a = 0.0692521, b = 0.9030471, a / (a + b) = 0.0712251. */
    assert_near(thr->fit.serial_fraction, 0.0712251, 1e-6, "threads serial_fraction a/(a+b)");
    assert_near(thr->fit.a, 0.0692521, 1e-6, "threads fit a");
    assert_near(thr->fit.b, 0.9030471, 1e-6, "threads fit b");
    /* It predicts 0.97230 at 1 core, whose three runs are all 1.0 (CI [1, 1]), and 0.52078 at
     * 2 cores (CI [0.48, 0.52]): outside both CIs, so it is not a fact. The worst relative
     * miss is at 2 cores: |0.52078 - 0.5| / 0.5 = 4.2% (1 core: 2.8%, 4 cores: 1.7%). */
    cr_assert_eq(thr->fit_trusted, 0, "a fit outside the measured CIs is untrusted");
    cr_assert_eq(thr->worst_miss.cores, 2, "worst miss at 2 cores, got %u", thr->worst_miss.cores);
    assert_near(thr->worst_miss.predicted_s, 0.5207756, 1e-6, "worst miss: predicted");
    assert_near(thr->worst_miss.median_s, 0.5, EPS, "worst miss: measured median");
    cr_assert_eq(thr->fit_missing[0], '\0', "a fit made: nothing missing");
    cr_assert_eq(thr->best_cores, 4, "threads is fastest at 4 cores");
    assert_near(thr->best_speedup, 1.0 / 0.3, EPS, "threads best speedup vs serial: 1 / 0.3");
    cr_assert_str_eq(thr->best_baseline, "serial, 1 core", "scalar kernel: against serial");
    sl_analysis_free(a);
}

Test(analysis, rates_and_calibrated_fractions)
{
    /* 1 core: wall 1.0; 2 cores: wall 0.4 0.5 0.6 (median 0.5). Each run does 1e9 units,
     * moves 8e9 bytes and does 2e9 flops. */
    struct sl_sample ss[6];
    const double w2[] = {0.4, 0.5, 0.6};
    size_t n = 0;
    for (int r = 0; r < 3; r++) {
        ss[n++] = sample("threads", 1, 1e9, 1.0);
        ss[n++] = sample("threads", 2, 1e9, w2[r]);
    }
    for (size_t i = 0; i < n; i++) {
        ss[i].work = 1e9;
        ss[i].bytes = 8e9;
        ss[i].flops = 2e9;
    }
    const struct sl_calib cal = {
        .read_gbs_1 = 20, .read_gbs_all = 32, .gflops_1 = 10, .gflops_all = 20};
    struct sl_analysis *a = sl_analysis_new(ss, n, 0, &cal);
    cr_assert_not_null(a, "analysis with calibration");
    const struct sl_apoint *p1 = point(a, "threads", 1), *p2 = point(a, "threads", 2);
    assert_near(p2->rate, 2e9, 1, "rate at 2 cores: 1e9 units / 0.5 s");
    assert_near(p2->gbs, 16, EPS, "GB/s at 2 cores: 8e9 B / 0.5 s / 1e9");
    assert_near(p2->gflops, 4, EPS, "GFLOP/s at 2 cores: 2e9 / 0.5 s / 1e9");
    assert_near(p2->bw_fraction, 0.5, EPS, "bw_fraction at 2 cores: 16 / read_gbs_all 32");
    assert_near(p2->flops_fraction, 0.2, EPS, "flops_fraction at 2 cores: 4 / gflops_all 20");
    assert_near(p1->rate, 1e9, 1, "rate at 1 core: 1e9 units / 1 s");
    assert_near(p1->gbs, 8, EPS, "GB/s at 1 core: 8e9 B / 1 s / 1e9");
    assert_near(p1->bw_fraction, 0.4, EPS, "bw_fraction at 1 core: 8 / read_gbs_1 20");
    assert_near(p1->flops_fraction, 0.2, EPS, "flops_fraction at 1 core: 2 / gflops_1 10");
    sl_analysis_free(a);

    a = sl_analysis_new(ss, n, 0, NULL);
    cr_assert_not_null(a, "analysis without calibration");
    p2 = point(a, "threads", 2);
    assert_near(p2->gbs, 16, EPS, "GB/s does not need a calibration");
    assert_nan(p2->bw_fraction, "bw_fraction without calibration");
    assert_nan(p2->flops_fraction, "flops_fraction without calibration");
    sl_analysis_free(a);
}

Test(analysis, no_traffic_gives_no_fraction)
{
    /* A workload that moves no bytes: GB/s is 0 and there is no fraction to give. */
    struct sl_sample ss[1] = {sample("threads", 2, 1, 0.5)};
    const struct sl_calib cal = {.read_gbs_1 = 20, .read_gbs_all = 32};
    struct sl_analysis *a = sl_analysis_new(ss, 1, 0, &cal);
    cr_assert_not_null(a, "analysis of one sample");
    assert_near(a->points[0].gbs, 0, 0, "GB/s of a run moving no bytes");
    assert_nan(a->points[0].bw_fraction, "bw_fraction when nothing is moved");
    sl_analysis_free(a);
}

Test(analysis, cpu_util_and_imbalance)
{
    struct sl_sample s = sample("threads", 2, 1, 0.5);
    s.cpu_s = 1.0;       /* 1.0 / (0.5 * 2) = 1.0 */
    s.busy_max_s = 0.6;  /* 0.6 / 0.5 = 1.2 */
    s.busy_mean_s = 0.5;
    struct sl_sample half = sample("threads", 4, 1, 0.5);
    half.cpu_s = 1.0;    /* 1.0 / (0.5 * 4) = 0.5 */
    half.busy_mean_s = 0; /* no busy times recorded: counted as balanced */
    struct sl_sample ss[2] = {s, half};
    struct sl_analysis *a = sl_analysis_new(ss, 2, 0, NULL);
    cr_assert_not_null(a, "analysis of two samples");
    assert_near(point(a, "threads", 2)->cpu_util, 1.0, EPS, "cpu_util: 1.0 / (0.5 * 2)");
    assert_near(point(a, "threads", 2)->imbalance, 1.2, EPS, "imbalance: 0.6 / 0.5");
    assert_near(point(a, "threads", 4)->cpu_util, 0.5, EPS, "cpu_util: 1.0 / (0.5 * 4)");
    assert_near(point(a, "threads", 4)->imbalance, 1.0, EPS, "imbalance without busy times");
    sl_analysis_free(a);
}

Test(analysis, phase_medians)
{
    struct sl_sample ss[3];
    const double spawn[] = {0.03, 0.01, 0.02};
    const double rss[] = {900000, 2000, 1000}; /* one run that swelled: not the typical peak */
    for (int i = 0; i < 3; i++) {
        ss[i] = sample("threads", 2, 1, 1.0);
        ss[i].spawn_s = spawn[i];
        ss[i].ivcsw = 10.0 * (i + 1);
        ss[i].maxrss_kb = rss[i];
    }
    struct sl_analysis *a = sl_analysis_new(ss, 3, 0, NULL);
    cr_assert_not_null(a, "analysis of three samples");
    assert_near(a->points[0].spawn_s, 0.02, EPS, "spawn_s median of 0.03 0.01 0.02");
    assert_near(a->points[0].ivcsw, 20, EPS, "ivcsw median of 10 20 30");
    assert_near(a->points[0].maxrss_kb, 2000, EPS, "maxrss_kb median of 900000 2000 1000");
    json_t *o = sl_analysis_to_json(a);
    assert_near(json_number_value(json_object_get(json_array_get(json_object_get(o, "points"), 0),
                                                  "maxrss_kb")),
                2000, EPS, "points[0].maxrss_kb in JSON");
    json_decref(o);
    sl_analysis_free(a);
}

Test(analysis, a_measurements_peak_memory_reaches_the_sample)
{
    json_t *m = json_pack("{ss si sf si si si sb si}", "backend", "py-pi-loop", "cores", 1,
                          "size", 1e6, "wall_ns", 1000000, "user_ns", 900000, "sys_ns", 0,
                          "verified", 1, "maxrss_kb", 12345);
    struct sl_sample s;
    cr_assert_eq(sl_sample_from_json(m, &s), 0);
    assert_near(s.maxrss_kb, 12345, EPS, "maxrss_kb read from the measurement");
    json_decref(m);
}

Test(analysis, without_serial_speedup_is_against_its_own_core)
{
    struct sl_sample ss[9];
    size_t n = strong_samples(ss, 0);
    struct sl_analysis *a = sl_analysis_new(ss, n, 0, NULL);
    cr_assert_not_null(a, "analysis without serial");
    cr_assert_eq(a->npoints, 3, "3 threads points");
    cr_assert_eq(a->nbackends, 1, "1 backend");
    const struct sl_apoint *t4 = point(a, "threads", 4);
    assert_nan(t4->speedup_serial, "speedup vs serial without serial runs");
    assert_nan(t4->efficiency_serial, "efficiency_serial without serial runs");
    assert_near(t4->speedup, 1.0 / 0.3, EPS, "parallel speedup against threads at 1 core");
    cr_assert_str_eq(t4->baseline, "threads, 1 core", "the baseline says so");
    assert_near(t4->speedup_self, 1.0 / 0.3, EPS, "speedup_self at 4: 1.0 / 0.3");
    assert_near(t4->karp_flatt, (0.3 - 0.25) / 0.75, EPS, "karp_flatt from the parallel speedup");
    const struct sl_abackend *thr = backend(a, "threads");
    cr_assert_eq(thr->best_cores, 4, "best core count without serial");
    assert_near(thr->best_speedup, 1.0 / 0.3, EPS, "best speedup against its own core");
    sl_analysis_free(a);
}

Test(analysis, speedup_compares_at_the_same_size)
{
    /* Serial at size 1 only: threads at size 2 has no serial baseline. */
    struct sl_sample ss[3] = {sample("serial", 1, 1, 1.0), sample("threads", 2, 1, 0.5),
                              sample("threads", 2, 2, 1.0)};
    struct sl_analysis *a = sl_analysis_new(ss, 3, 0, NULL);
    cr_assert_not_null(a, "analysis of two sizes");
    cr_assert_eq(a->npoints, 3, "two sizes make two threads points");
    assert_near(a->points[1].speedup, 2.0, EPS, "size 1: 1.0 / 0.5");
    assert_nan(a->points[2].speedup, "size 2 has no serial run at that size");
    sl_analysis_free(a);
}

Test(analysis, weak_scaling)
{
    /* Size grows with cores: 1000 @ 1 (1.0 s), 2000 @ 2 (1.0 s), 4000 @ 4 (1.25 s).
     * Scaled speedup at p: p * T(1) / T(p): 2 at 2 cores, 4 / 1.25 = 3.2 at 4 cores. */
    struct sl_sample ss[3] = {sample("threads", 1, 1000, 1.0), sample("threads", 2, 2000, 1.0),
                              sample("threads", 4, 4000, 1.25)};
    struct sl_analysis *a = sl_analysis_new(ss, 3, 1, NULL);
    cr_assert_not_null(a, "weak analysis");
    cr_assert_eq(a->weak, 1, "weak scaling is recorded");
    cr_assert_eq(a->npoints, 3, "3 points");
    const struct sl_apoint *t2 = point(a, "threads", 2), *t4 = point(a, "threads", 4);
    assert_near(t2->speedup_self, 2.0, EPS, "weak speedup_self at 2: 2 * 1.0 / 1.0");
    assert_near(t2->efficiency, 1.0, EPS, "weak efficiency at 2: 1.0 / 1.0");
    assert_near(t4->speedup_self, 3.2, EPS, "weak speedup_self at 4: 4 * 1.0 / 1.25");
    assert_near(t4->efficiency, 0.8, EPS, "weak efficiency at 4: 1.0 / 1.25");
    assert_near(t4->speedup, 3.2, EPS, "no serial or simd: scaled against its own 1 core");
    assert_nan(t4->speedup_serial, "no serial run: speedup_serial is NaN");
    const struct sl_abackend *thr = backend(a, "threads");
    assert_near(thr->gustafson, (4 - 3.2) / 3, EPS, "Gustafson fraction (4 - 3.2) / 3");
    assert_near(thr->gustafson, 0.26666666667, 1e-9, "Gustafson fraction by hand");
    cr_assert_eq(thr->fit.ok, 0, "no Amdahl fit under weak scaling");
    cr_assert_eq(thr->best_cores, 4, "weak: the widest run is the best");
    sl_analysis_free(a);
}

Test(analysis, weak_scaling_one_core_backends_and_karp_flatt)
{
    /* Serial runs at every size (1.0, 2.0, 4.0 s): each is the baseline of its own size, and
     * has no weak-scaling "self" speedup except at the base size. Karp-Flatt is NaN. */
    struct sl_sample ss[6] = {sample("serial", 1, 1000, 1.0),  sample("serial", 1, 2000, 2.0),
                              sample("serial", 1, 4000, 4.0),  sample("threads", 1, 1000, 1.0),
                              sample("threads", 2, 2000, 1.0), sample("threads", 4, 4000, 1.25)};
    struct sl_analysis *a = sl_analysis_new(ss, 6, 1, NULL);
    cr_assert_not_null(a);
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        assert_nan(p->karp_flatt, "no Karp-Flatt under weak scaling");
        if (strcmp(p->backend, "serial") == 0 && p->size != 1000)
            assert_nan(p->speedup_self, "serial at a larger size has no weak self-speedup");
    }
    assert_near(point(a, "serial", 1)->speedup_self, 1.0, EPS, "serial at the base size: 1");
    /* Speedup vs serial at the same size: 4.0 / 1.25 = 3.2 at 4 cores. */
    assert_near(point(a, "threads", 4)->speedup, 3.2, EPS, "threads x4 vs serial at 4000");
    sl_analysis_free(a);
}

static int has_key(const json_t *o, const char *key)
{
    return json_object_get(o, key) != NULL;
}

Test(analysis, json_shape)
{
    struct sl_sample ss[9];
    size_t n = strong_samples(ss, 0);
    struct sl_analysis *a = sl_analysis_new(ss, n, 0, NULL);
    cr_assert_not_null(a, "analysis without serial");
    json_t *o = sl_analysis_to_json(a);
    cr_assert_not_null(o, "sl_analysis_to_json returns an object");
    const json_t *pts = json_object_get(o, "points"), *bes = json_object_get(o, "backends");
    cr_assert(json_is_array(pts), "\"points\" is an array");
    cr_assert(json_is_array(bes), "\"backends\" is an array");
    cr_assert_eq(json_array_size(pts), 3, "3 points in JSON");
    cr_assert_eq(json_array_size(bes), 1, "1 backend in JSON");
    cr_assert_str_eq(json_string_value(json_object_get(o, "scaling")), "strong",
                     "\"scaling\" is strong");

    const char *keys[] = {"backend", "cores", "size", "wall_s", "speedup", "efficiency",
                          "karp_flatt", "runs", "verified", NULL};
    for (size_t i = 0; i < json_array_size(pts); i++)
        for (size_t k = 0; keys[k]; k++)
            cr_assert(has_key(json_array_get(pts, i), keys[k]), "points[%zu] has key \"%s\"", i,
                      keys[k]);

    const json_t *p2 = json_array_get(pts, 1); /* threads at 2 cores */
    cr_assert_str_eq(json_string_value(json_object_get(p2, "backend")), "threads",
                     "points[1].backend");
    cr_assert_eq(json_integer_value(json_object_get(p2, "cores")), 2, "points[1].cores");
    const json_t *wall = json_object_get(p2, "wall_s");
    cr_assert(json_is_object(wall), "wall_s is an object");
    cr_assert(has_key(wall, "median") && has_key(wall, "ci_lo") && has_key(wall, "ci_hi"),
              "wall_s has median, ci_lo and ci_hi");
    assert_near(json_number_value(json_object_get(wall, "median")), 0.5, EPS,
                "wall_s.median of threads/2");
    assert_near(json_number_value(json_object_get(p2, "speedup")), 2.0, EPS,
                "speedup of threads/2 against threads at 1 core");
    cr_assert_str_eq(json_string_value(json_object_get(p2, "baseline")), "threads, 1 core",
                     "points[1].baseline");
    cr_assert(json_is_null(json_object_get(p2, "speedup_serial")),
              "speedup_serial without serial (NaN) is JSON null");
    cr_assert(json_is_null(json_object_get(json_array_get(pts, 0), "karp_flatt")),
              "karp_flatt at 1 core (NaN) is JSON null");
    assert_near(json_number_value(json_object_get(p2, "efficiency")), 1.0, EPS,
                "efficiency of threads/2 in JSON");

    const json_t *b = json_array_get(bes, 0);
    cr_assert_str_eq(json_string_value(json_object_get(b, "backend")), "threads",
                     "backends[0].backend");
    cr_assert(json_is_object(json_object_get(b, "fit")), "threads' fit is an object");
    cr_assert_eq(json_integer_value(json_object_get(b, "best_cores_measured")), 4,
                 "best_cores_measured of threads");
    cr_assert(json_is_null(json_object_get(b, "gustafson_serial_fraction")),
              "Gustafson fraction under strong scaling is null");
    json_decref(o);
    sl_analysis_free(a);
}

Test(analysis, json_null_fit_for_serial)
{
    struct sl_sample ss[2] = {sample("serial", 1, 1, 1.0), sample("serial", 1, 1, 1.0)};
    struct sl_analysis *a = sl_analysis_new(ss, 2, 0, NULL);
    cr_assert_not_null(a, "analysis of serial only");
    json_t *o = sl_analysis_to_json(a);
    const json_t *b = json_array_get(json_object_get(o, "backends"), 0);
    cr_assert(json_is_null(json_object_get(b, "fit")), "serial's fit is JSON null");
    json_decref(o);
    sl_analysis_free(a);
}

Test(analysis, json_number_maps_non_finite_to_null)
{
    json_t *v = sl_json_number(NAN);
    cr_assert(json_is_null(v), "NaN becomes null");
    json_decref(v);
    v = sl_json_number(INFINITY);
    cr_assert(json_is_null(v), "infinity becomes null");
    json_decref(v);
    v = sl_json_number(2.5);
    cr_assert(json_is_real(v) && json_real_value(v) == 2.5, "2.5 stays a real");
    json_decref(v);
}

Test(analysis, no_samples)
{
    struct sl_analysis *a = sl_analysis_new(NULL, 0, 0, NULL);
    cr_assert_not_null(a, "0 samples give an analysis, not NULL");
    cr_assert_eq(a->npoints, 0, "0 samples give 0 points");
    cr_assert_eq(a->nbackends, 0, "0 samples give 0 backends");
    json_t *o = sl_analysis_to_json(a);
    cr_assert_eq(json_array_size(json_object_get(o, "points")), 0, "empty points array");
    cr_assert_eq(json_array_size(json_object_get(o, "backends")), 0, "empty backends array");
    json_decref(o);
    sl_analysis_free(a);
    sl_analysis_free(NULL); /* accepted */
}

Test(analysis, unverified_runs_are_counted)
{
    struct sl_sample ss[3] = {sample("threads", 2, 1, 1.0), sample("threads", 2, 1, 2.0),
                              sample("threads", 2, 1, 3.0)};
    ss[1].verified = 0;
    struct sl_analysis *a = sl_analysis_new(ss, 3, 0, NULL);
    cr_assert_not_null(a, "analysis with an unverified run");
    cr_assert_eq(a->npoints, 1, "one point");
    cr_assert_eq(a->points[0].n, 3, "all 3 runs counted, got %u", a->points[0].n);
    cr_assert_eq(a->points[0].verified, 2, "2 of 3 verified, got %u", a->points[0].verified);
    json_t *o = sl_analysis_to_json(a);
    const json_t *p = json_array_get(json_object_get(o, "points"), 0);
    cr_assert_eq(json_integer_value(json_object_get(p, "runs")), 3, "JSON runs");
    cr_assert_eq(json_integer_value(json_object_get(p, "verified")), 2, "JSON verified");
    json_decref(o);
    sl_analysis_free(a);
}

/* pi as the issue found it: serial runs the scalar kernel (4.0 s), simd and threads the
 * vector one (1.0 s on one core). threads at 1 core must read ~1x, not 4x: the parallel
 * speedup is against simd at 1 core; the 4x is the vectorisation gain, its own figure. */
Test(analysis, parallel_speedup_is_against_the_same_kernel)
{
    struct sl_sample ss[8];
    size_t n = 0;
    for (int r = 0; r < 2; r++) {
        ss[n] = sample("serial", 1, 1e6, 4.0);
        ss[n++].variant = SL_SCALAR;
        ss[n] = sample("simd", 1, 1e6, 1.0);
        ss[n++].variant = SL_VECTOR;
        ss[n] = sample("threads", 1, 1e6, 1.0);
        ss[n++].variant = SL_VECTOR;
        ss[n] = sample("threads", 2, 1e6, 0.5);
        ss[n++].variant = SL_VECTOR;
    }
    struct sl_analysis *a = sl_analysis_new(ss, n, 0, NULL);
    const struct sl_apoint *t1 = point(a, "threads", 1), *t2 = point(a, "threads", 2);
    assert_near(t1->speedup, 1.0, EPS, "threads at 1 core against simd at 1 core");
    cr_assert_str_eq(t1->baseline, "simd, 1 core");
    assert_near(t1->speedup_serial, 4.0, EPS, "against serial: the vectorisation gain");
    assert_near(t2->speedup, 2.0, EPS, "threads at 2 cores: 1.0 / 0.5");
    assert_near(t2->efficiency, 1.0, EPS, "efficiency from the parallel speedup");
    assert_near(t2->efficiency_serial, 4.0, EPS, "efficiency_serial = 8 / 2");
    assert_near(point(a, "serial", 1)->speedup, 1.0, EPS, "serial against itself");
    cr_assert_str_eq(point(a, "serial", 1)->baseline, "serial, 1 core");
    cr_assert_eq(a->nvec, 1, "one size with serial and simd");
    assert_near(a->vec[0].gain, 4.0, EPS, "vectorisation gain 4.0 / 1.0");
    const struct sl_abackend *thr = backend(a, "threads");
    assert_near(thr->best_speedup, 2.0, EPS, "best speedup is the parallel one");
    cr_assert_str_eq(thr->best_baseline, "simd, 1 core");
    json_t *o = sl_analysis_to_json(a);
    const json_t *v = json_array_get(json_object_get(o, "vectorisation"), 0);
    assert_near(json_number_value(json_object_get(v, "gain")), 4.0, EPS, "JSON gain");
    json_decref(o);
    sl_analysis_free(a);
}

/* A run that did not verify is counted, never measured: 1.0 s (unverified), 1.2 and 5.0 s.
 * The median of the verified runs is 3.1; with the bad run it would be 1.2. */
Test(analysis, unverified_runs_are_excluded_from_statistics)
{
    struct sl_sample ss[4] = {sample("threads", 2, 1, 1.0), sample("threads", 2, 1, 1.2),
                              sample("threads", 2, 1, 5.0), sample("threads", 1, 1, 2.0)};
    ss[0].verified = 0;
    struct sl_analysis *a = sl_analysis_new(ss, 4, 0, NULL);
    const struct sl_apoint *p = point(a, "threads", 2);
    cr_assert_eq(p->wall.n, 2, "2 verified runs summarised, got %zu", p->wall.n);
    assert_near(p->wall.median, 3.1, EPS, "median of 1.2 and 5.0");
    assert_near(p->speedup, 2.0 / 3.1, EPS, "speedup from the verified median");
    cr_assert_eq(a->excluded_unverified, 1, "one run excluded");
    json_t *o = sl_analysis_to_json(a);
    cr_assert_eq(json_integer_value(json_object_get(o, "excluded_unverified")), 1);
    const json_t *j = json_array_get(json_object_get(o, "points"), 0);
    cr_assert_eq(json_integer_value(json_object_get(j, "excluded")), 1, "points[].excluded");
    json_decref(o);
    sl_analysis_free(a);
}

/* Skewed samples: one disturbed run (10 s) among four of 1 s. The speedup compares medians
 * (1 s vs 0.5 s: 2x); from means it would be 2.8 / 0.5 = 5.6x. */
Test(analysis, speedup_compares_medians_not_means)
{
    struct sl_sample ss[10];
    const double t1[] = {1, 1, 10, 1, 1};
    for (int i = 0; i < 5; i++) {
        ss[2 * i] = sample("threads", 1, 1, t1[i]);
        ss[2 * i + 1] = sample("threads", 2, 1, 0.5);
    }
    struct sl_analysis *a = sl_analysis_new(ss, 10, 0, NULL);
    assert_near(point(a, "threads", 1)->wall.mean, 2.8, EPS, "the mean is pulled to 2.8");
    assert_near(point(a, "threads", 2)->speedup, 2.0, EPS, "speedup from medians: 1 / 0.5");
    sl_analysis_free(a);
}

/* Two core counts carry no model: a + b/p passes exactly through any two points. */
Test(analysis, no_fit_from_two_core_counts)
{
    struct sl_sample ss[4] = {sample("threads", 1, 1, 1.0), sample("threads", 2, 1, 0.6),
                              sample("threads", 1, 1, 1.0), sample("threads", 2, 1, 0.6)};
    struct sl_analysis *a = sl_analysis_new(ss, 4, 0, NULL);
    const struct sl_abackend *b = backend(a, "threads");
    cr_assert_eq(b->fit.ok, 0, "no fit from 2 core counts");
    cr_assert(strstr(b->fit_missing, "2 core counts measured (1,2): add a third (e.g. 4"),
              "fit_missing: %s", b->fit_missing);
    json_t *o = sl_analysis_to_json(a);
    const json_t *j = json_array_get(json_object_get(o, "backends"), 0);
    cr_assert(json_is_null(json_object_get(j, "fit")), "fit is null");
    cr_assert_str_eq(json_string_value(json_object_get(j, "fit_missing")), b->fit_missing);
    json_decref(o);
    sl_analysis_free(a);
}

/* A fit through three points that lie on a + b/p is trusted; fit_missing is null. */
Test(analysis, a_fit_on_its_points_is_trusted)
{
    struct sl_sample ss[9];
    const unsigned cores[] = {1, 2, 4};
    for (int i = 0; i < 9; i++) /* T = 0.2 + 0.8 / p, with +-1% around it */
        ss[i] = sample("threads", cores[i % 3], 1, (0.2 + 0.8 / cores[i % 3]) * (0.99 + 0.01 * (i / 3)));
    struct sl_analysis *a = sl_analysis_new(ss, 9, 0, NULL);
    const struct sl_abackend *b = backend(a, "threads");
    cr_assert_eq(b->fit.ok, 1);
    cr_assert_eq(b->fit_trusted, 1, "worst miss at %u: %g vs %g", b->worst_miss.cores,
                 b->worst_miss.predicted_s, b->worst_miss.median_s);
    assert_near(b->fit.serial_fraction, 0.2, 1e-3, "a / (a + b)");
    json_t *o = sl_analysis_to_json(a);
    const json_t *j = json_array_get(json_object_get(o, "backends"), 0);
    cr_assert(json_is_true(json_object_get(json_object_get(j, "fit"), "trusted")));
    cr_assert(json_is_null(json_object_get(j, "fit_missing")));
    json_decref(o);
    sl_analysis_free(a);
}

/* Noise is flagged and named; the CI level is the real one (3 repeats: 75%). */
Test(analysis, noisy_points_and_the_real_ci_level)
{
    struct sl_sample ss[6] = {sample("threads", 1, 1, 1.0),  sample("threads", 1, 1, 1.01),
                              sample("threads", 1, 1, 0.99), sample("threads", 2, 1, 0.5),
                              sample("threads", 2, 1, 0.8),  sample("threads", 2, 1, 1.2)};
    struct sl_analysis *a = sl_analysis_new(ss, 6, 0, NULL);
    const struct sl_apoint *p1 = point(a, "threads", 1), *p2 = point(a, "threads", 2);
    cr_assert_eq(p1->noisy, 0, "1%% spread is not noisy");
    cr_assert_eq(p2->noisy, 1, "0.5 .. 1.2 is noisy");
    cr_assert(strncmp(p2->noise, "CV ", 3) == 0, "noise names the CV: %s", p2->noise);
    assert_near(a->ci_level_min, 0.75, EPS, "3 repeats: [min, max] covers the median 75%");
    json_t *o = sl_analysis_to_json(a);
    assert_near(json_number_value(json_object_get(o, "ci_level_min")), 0.75, EPS, "JSON");
    const json_t *j = json_array_get(json_object_get(o, "points"), 1);
    cr_assert(json_is_true(json_object_get(j, "noisy")));
    cr_assert_str_eq(json_string_value(json_object_get(j, "noise")), p2->noise);
    cr_assert(json_is_null(json_object_get(json_array_get(json_object_get(o, "points"), 0),
                                           "noise")));
    json_decref(o);
    sl_analysis_free(a);
}

/* The median run: the one run whose time is the (lower) median, its phases adding up to it,
 * with its own per-worker times, so the charts drawn from it agree with the median. */
Test(analysis, median_run_is_one_real_run_whose_phases_add_up)
{
    struct sl_sample ss[4];
    const double wall[] = {0.030, 0.010, 0.040, 0.020};
    for (int i = 0; i < 4; i++) {
        ss[i] = sample("threads", 2, 1, wall[i]);
        ss[i].seq = 11 + i;
        ss[i].spawn_s = 0.001;
        ss[i].compute_s = wall[i] - 0.003;
        ss[i].combine_s = 0.001; /* 0.001 s outside the phases */
        ss[i].wait_s = 0.002;
        ss[i].nbusy = 2;
        ss[i].busy_s[0] = wall[i] - 0.005;
        ss[i].busy_s[1] = (wall[i] - 0.005) / 2;
        ss[i].busy_max_s = ss[i].busy_s[0];
        ss[i].busy_mean_s = 0.75 * ss[i].busy_s[0];
    }
    struct sl_analysis *a = sl_analysis_new(ss, 4, 0, NULL);
    const struct sl_median_run *r = &point(a, "threads", 2)->median_run;
    cr_assert_eq(r->seq, 14, "lower median of 10, 20, 30, 40 ms is the 20 ms run (seq 14)");
    assert_near(r->wall_s, 0.020, EPS, "its wall time");
    assert_near(r->spawn_s + r->compute_s + r->barrier_s + r->combine_s + r->other_s, r->wall_s,
                EPS, "phases add up to the wall time");
    assert_near(r->barrier_s, 0.002, EPS, "barrier wait");
    assert_near(r->compute_s, 0.017 - 0.002, EPS, "kernel time = compute phase - wait");
    assert_near(r->other_s, 0.001, EPS, "outside the phases");
    cr_assert_eq(r->nbusy, 2);
    assert_near(r->busy_s[1], 0.0075, EPS, "worker 1 of that run");
    assert_near(r->imbalance, 0.015 / 0.01125, EPS, "its imbalance: busiest / mean");
    sl_analysis_free(a);
}

/* The calibrated bandwidth at a core count between 1 and the calibration's threads is
 * interpolated: 10 GB/s on 1 thread, 40 on 4: 20 on 2. */
Test(analysis, bandwidth_fraction_at_that_core_count)
{
    struct sl_sample ss[3] = {sample("threads", 1, 1, 1.0), sample("threads", 2, 1, 1.0),
                              sample("threads", 4, 1, 1.0)};
    for (int i = 0; i < 3; i++)
        ss[i].bytes = 10e9; /* 10 GB/s at every point */
    const struct sl_calib cal = {.threads = 4, .read_gbs_1 = 10, .read_gbs_all = 40};
    struct sl_analysis *a = sl_analysis_new(ss, 3, 0, &cal);
    assert_near(point(a, "threads", 1)->bw_fraction, 1.0, EPS, "10 of 10");
    assert_near(point(a, "threads", 2)->bw_fraction, 0.5, EPS, "10 of 20");
    assert_near(point(a, "threads", 4)->bw_fraction, 0.25, EPS, "10 of 40");
    json_t *o = sl_analysis_to_json(a);
    const json_t *c = json_object_get(o, "calibration");
    cr_assert_eq(json_integer_value(json_object_get(c, "threads_all")), 4);
    cr_assert_str_eq(json_string_value(json_object_get(c, "status")), "ok");
    json_decref(o);
    sl_analysis_free(a);
}

/* One disturbed run must not make the model: T = 0.2 + 0.8 / p measured three times per core
 * count, one run at 2 cores taking 10x. The fit goes through the medians, so the serial
 * fraction stays 0.2 (a least-squares fit to every run would be pulled far off). */
Test(analysis, one_outlier_run_does_not_make_the_fit)
{
    struct sl_sample ss[12];
    const unsigned cores[] = {1, 2, 4, 8};
    for (int i = 0; i < 12; i++)
        ss[i] = sample("threads", cores[i % 4], 1, 0.2 + 0.8 / cores[i % 4]);
    ss[5].wall_s *= 10; /* cores[5 % 4] = 2 */
    struct sl_analysis *a = sl_analysis_new(ss, 12, 0, NULL);
    const struct sl_abackend *b = backend(a, "threads");
    cr_assert_eq(b->fit.ok, 1);
    assert_near(b->fit.serial_fraction, 0.2, 1e-6, "serial fraction from the medians");
    cr_assert_eq(b->fit_trusted, 1, "the model passes through every median");
    sl_analysis_free(a);
}
