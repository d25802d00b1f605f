/* test_stats.c — sample summaries, median CIs, serial-fraction metrics and the Amdahl fit. */

/*
 * Expected values are worked out by hand (shown next to each assertion) rather than taken
 * from the implementation, so a change of method shows up as a failure.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "sl.h"
#include "stats.h"

#define EPS 1e-12

static void assert_near(double got, double want, double tol, const char *what)
{
    cr_assert(fabs(got - want) <= tol, "%s: got %.17g, want %.17g (tol %g)", what, got, want,
              tol);
}

/* Exact timings of T(p) = a + b/p + c p. */
static void model_times(const double *p, double *t, size_t n, double a, double b, double c)
{
    for (size_t i = 0; i < n; i++)
        t[i] = a + b / p[i] + c * p[i];
}

Test(stats, summary_of_skewed_sample)
{
    const double x[] = {3, 1, 100, 2, 4};
    unsigned char flags[5];
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 5, &s, flags), 0);
    cr_assert_eq(s.n, 5);
    assert_near(s.min, 1, 0, "min");
    assert_near(s.max, 100, 0, "max");
    assert_near(s.mean, 22, EPS, "mean");
    assert_near(s.median, 3, 0, "median");
    /* deviations -21,-20,-19,-18,78: squares sum to 7610, / (n-1) = 1902.5 */
    assert_near(s.stddev, sqrt(1902.5), EPS, "stddev");
    assert_near(s.cv, sqrt(1902.5) / 22, EPS, "cv");
    /* rank (n-1)/4 = 1 and 3 exactly */
    assert_near(s.q1, 2, EPS, "q1");
    assert_near(s.q3, 4, EPS, "q3");
    /* fences [2 - 3, 4 + 3] = [-1, 7]: only 100 (index 2 in input order) is out */
    cr_assert_eq(s.outliers, 1);
    const unsigned char want[] = {0, 0, 1, 0, 0};
    cr_assert_arr_eq(flags, want, sizeof want);
    /* n = 5 is too small for 95%: [min, max] covers with 1 - 2/32 */
    assert_near(s.ci_lo, 1, 0, "ci_lo");
    assert_near(s.ci_hi, 100, 0, "ci_hi");
    assert_near(s.ci_level, 0.9375, EPS, "ci_level");
}

Test(stats, outlier_flagged_at_last_index)
{
    const double x[] = {1, 2, 3, 4, 100};
    unsigned char flags[5];
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 5, &s, flags), 0);
    cr_assert_eq(s.outliers, 1);
    const unsigned char want[] = {0, 0, 0, 0, 1};
    cr_assert_arr_eq(flags, want, sizeof want);
    assert_near(s.median, 3, 0, "median");
    assert_near(s.mean, 22, EPS, "mean");
}

Test(stats, summary_does_not_modify_input)
{
    double x[] = {5, -1, 3.5, 2, 9, 0.25, 7};
    double copy[7];
    memcpy(copy, x, sizeof x);
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 7, &s, NULL), 0);
    cr_assert_arr_eq(x, copy, sizeof x);
    assert_near(s.median, 3.5, 0, "median");
}

Test(stats, even_n_median_and_quartiles)
{
    const double x[] = {4, 1, 3, 2};
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 4, &s, NULL), 0);
    assert_near(s.median, 2.5, EPS, "median");
    /* ranks 0.75 and 2.25: 1 + 0.75 * (2 - 1) and 3 + 0.25 * (4 - 3) */
    assert_near(s.q1, 1.75, EPS, "q1");
    assert_near(s.q3, 3.25, EPS, "q3");
    /* deviations +-1.5, +-0.5: 5 / 3 */
    assert_near(s.stddev, sqrt(5.0 / 3.0), EPS, "stddev");
    cr_assert_eq(s.outliers, 0);
    assert_near(s.ci_level, 1 - 2 / 16.0, EPS, "ci_level");
}

Test(stats, single_value)
{
    const double x[] = {7.5};
    unsigned char flag = 9;
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 1, &s, &flag), 0);
    assert_near(s.stddev, 0, 0, "stddev");
    assert_near(s.cv, 0, 0, "cv");
    assert_near(s.median, 7.5, 0, "median");
    assert_near(s.q1, 7.5, 0, "q1");
    assert_near(s.q3, 7.5, 0, "q3");
    assert_near(s.ci_lo, 7.5, 0, "ci_lo");
    assert_near(s.ci_hi, 7.5, 0, "ci_hi");
    cr_assert_eq(s.outliers, 0);
    cr_assert_eq(flag, 0);
}

Test(stats, invalid_summary_arguments)
{
    const double x[] = {1, 2};
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 0, &s, NULL), -SL_EINVAL);
    cr_assert_eq(sl_stats_summarize(NULL, 2, &s, NULL), -SL_EINVAL);
    const double bad[] = {1, NAN, 2};
    cr_assert_eq(sl_stats_summarize(bad, 3, &s, NULL), -SL_EINVAL);
}

Test(stats, median_ci_n10)
{
    /* Shuffled 10..100: x_(k) = 10 k. */
    const double x[] = {70, 20, 100, 40, 10, 90, 30, 60, 80, 50};
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 10, &s, NULL), 0);
    /* P(2 <= B <= 8) = 1 - 2 (1 + 10) / 1024; j = 3 would give 1 - 2*56/1024 = 0.89 */
    assert_near(s.ci_lo, 20, 0, "ci_lo = x_(2)");
    assert_near(s.ci_hi, 90, 0, "ci_hi = x_(9)");
    assert_near(s.ci_level, 0.978515625, 1e-12, "ci_level");
}

Test(stats, median_ci_small_and_threshold)
{
    const double x[] = {6, 5, 4, 3, 2, 1};
    struct sl_summary s;
    /* n = 6 is the first n where [min, max] reaches 95%: 1 - 2/64 = 0.96875 */
    cr_assert_eq(sl_stats_summarize(x, 6, &s, NULL), 0);
    assert_near(s.ci_lo, 1, 0, "ci_lo");
    assert_near(s.ci_hi, 6, 0, "ci_hi");
    assert_near(s.ci_level, 0.96875, EPS, "ci_level");
    /* n = 2: [min, max] covers half the time */
    cr_assert_eq(sl_stats_summarize(x, 2, &s, NULL), 0);
    assert_near(s.ci_lo, 5, 0, "ci_lo n=2");
    assert_near(s.ci_hi, 6, 0, "ci_hi n=2");
    assert_near(s.ci_level, 0.5, EPS, "ci_level n=2");
}

Test(stats, median_ci_n100)
{
    /* The textbook n = 100 interval is [x_(40), x_(61)] with coverage P(40 <= B <= 60)
     * = 0.9648; the next narrower one, P(41 <= B <= 59) = 0.9431, falls short. */
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = (double)((i * 37) % 100 + 1); /* a permutation of 1..100 */
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 100, &s, NULL), 0);
    assert_near(s.ci_lo, 40, 0, "ci_lo");
    assert_near(s.ci_hi, 61, 0, "ci_hi");
    assert_near(s.ci_level, 0.9648, 1e-4, "ci_level");
    assert_near(s.median, 50.5, EPS, "median");
    /* 1..100: q1 at rank 24.75 -> 25.75, q3 at rank 74.25 -> 75.25 */
    assert_near(s.q1, 25.75, EPS, "q1");
    assert_near(s.q3, 75.25, EPS, "q3");
}

Test(stats, stddev_with_large_offset)
{
    /* A naive sum-of-squares formula loses every digit here; two passes do not. */
    const double x[] = {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
    struct sl_summary s;
    cr_assert_eq(sl_stats_summarize(x, 4, &s, NULL), 0);
    assert_near(s.mean, 1e9 + 10, 1e-6, "mean");
    /* deviations -6,-3,3,6: 90 / 3 = 30 */
    assert_near(s.stddev, sqrt(30.0), 1e-6, "stddev");
}

Test(stats, karp_flatt)
{
    /* (1/1.6 - 1/2) / (1 - 1/2) = 0.125 / 0.5 */
    assert_near(sl_stats_karp_flatt(1.6, 2), 0.25, EPS, "e(1.6, 2)");
    /* perfect speedup: no serial part */
    assert_near(sl_stats_karp_flatt(8, 8), 0, EPS, "e(8, 8)");
    cr_assert(isnan(sl_stats_karp_flatt(1.6, 1)));
    cr_assert(isnan(sl_stats_karp_flatt(0, 4)));
    cr_assert(isnan(sl_stats_karp_flatt(-1, 4)));
}

Test(stats, gustafson_fraction)
{
    assert_near(sl_stats_gustafson_fraction(1.9, 2), 0.1, EPS, "f(1.9, 2)");
    assert_near(sl_stats_gustafson_fraction(16, 16), 0, EPS, "f(16, 16)");
    cr_assert(isnan(sl_stats_gustafson_fraction(1, 1)));
    cr_assert(isnan(sl_stats_gustafson_fraction(1, 0.5)));
}

Test(stats, amdahl_exact_recovers_serial_fraction)
{
    const double p[] = {1, 2, 4, 8, 16};
    double t[5];
    model_times(p, t, 5, 0.1, 0.9, 0);
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 5, &f), 0);
    cr_assert_eq(f.ok, 1);
    cr_assert_eq(f.overhead, 0);
    assert_near(f.a, 0.1, 1e-9, "a");
    assert_near(f.b, 0.9, 1e-9, "b");
    assert_near(f.c, 0, 0, "c");
    assert_near(f.serial_fraction, 0.1, 1e-9, "serial_fraction");
    cr_assert(isinf(f.best_p) && f.best_p > 0);
    /* (a + b) / a */
    assert_near(f.best_speedup, 10, 1e-7, "best_speedup");
    cr_assert(f.rms_rel < 1e-9);
    assert_near(sl_stats_fit_eval(&f, 4), 0.1 + 0.9 / 4, 1e-9, "T(4)");
}

Test(stats, amdahl_ignores_unusable_points)
{
    const double p[] = {1, 0.5, 2, 4, 4, 8, 16};
    double t[7];
    model_times(p, t, 7, 0.1, 0.9, 0);
    t[4] = -1;  /* t <= 0: ignored */
    t[1] = 1e6; /* p < 1: ignored, or the fit would be ruined */
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 7, &f), 0);
    cr_assert_eq(f.ok, 1);
    assert_near(f.serial_fraction, 0.1, 1e-9, "serial_fraction");
    cr_assert(f.rms_rel < 1e-9);
}

Test(stats, amdahl_overhead_model)
{
    const double p[] = {1, 2, 4, 8, 16, 32};
    double t[6];
    model_times(p, t, 6, 0.05, 1, 0.01);
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 6, &f), 0);
    cr_assert_eq(f.ok, 1);
    cr_assert_eq(f.overhead, 1);
    assert_near(f.a, 0.05, 1e-9, "a");
    assert_near(f.b, 1, 1e-9, "b");
    assert_near(f.c, 0.01, 1e-9, "c");
    /* sqrt(1 / 0.01) */
    assert_near(f.best_p, 10, 1e-6, "best_p");
    /* T(1) / T(10) = 1.06 / (0.05 + 0.1 + 0.1) */
    assert_near(f.best_speedup, 1.06 / 0.25, 1e-6, "best_speedup");
    assert_near(f.serial_fraction, 0.05 / 1.05, 1e-9, "serial_fraction");
}

Test(stats, amdahl_overhead_needs_four_distinct_p)
{
    /* The same overhead-bound timings at only 3 distinct p (repeated): plain model only. */
    const double p[] = {1, 1, 8, 8, 32, 32};
    double t[6];
    model_times(p, t, 6, 0.05, 1, 0.01);
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 6, &f), 0);
    cr_assert_eq(f.ok, 1);
    cr_assert_eq(f.overhead, 0);
    assert_near(f.c, 0, 0, "c");
    cr_assert(isinf(f.best_p));
    cr_assert(f.rms_rel > 1e-3, "the plain model cannot fit overhead exactly");
}

Test(stats, amdahl_with_noise)
{
    /* +-2% multiplicative noise from a fixed sequence, three repetitions per p. */
    static const double noise[] = {0.02,  -0.013, 0.007,  -0.02, 0.015,  0.001,  -0.008,
                                   0.019, -0.017, 0.004,  0.011, -0.006, -0.019, 0.013,
                                   0.0,   0.018,  -0.011, 0.009, -0.004, 0.016,  -0.015};
    double p[21], t[21];
    for (int i = 0; i < 21; i++) {
        p[i] = (double)(1 << (i / 3)); /* 1, 2, ..., 64 */
        t[i] = (0.1 + 0.9 / p[i]) * (1.0 + noise[i]);
    }
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 21, &f), 0);
    cr_assert_eq(f.ok, 1);
    assert_near(f.serial_fraction, 0.1, 0.03, "serial_fraction");
    cr_assert(f.rms_rel > 0.001 && f.rms_rel < 0.02, "rms_rel %g", f.rms_rel);
}

Test(stats, amdahl_single_distinct_p)
{
    const double p[] = {4, 4, 4};
    const double t[] = {1, 1.1, 0.9};
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 3, &f), 0);
    cr_assert_eq(f.ok, 0);
    cr_assert(isnan(sl_stats_fit_eval(&f, 2)));
    /* no usable points at all */
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 0, &f), 0);
    cr_assert_eq(f.ok, 0);
}

Test(stats, amdahl_repeated_p_counts_each_point)
{
    const double p[] = {1, 1, 2, 2};
    double t[4];
    model_times(p, t, 4, 0.2, 0.8, 0);
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 4, &f), 0);
    cr_assert_eq(f.ok, 1);
    assert_near(f.serial_fraction, 0.2, 1e-9, "serial_fraction");
}

Test(stats, amdahl_superlinear_clamps_a)
{
    /* t = p^-1.2 falls faster than 1/p: the unconstrained fit wants a < 0. */
    const double p[] = {1, 2, 4, 8, 16};
    double t[5];
    for (int i = 0; i < 5; i++)
        t[i] = pow(p[i], -1.2);
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 5, &f), 0);
    cr_assert_eq(f.ok, 1);
    assert_near(f.a, 0, 0, "a clamped");
    cr_assert(f.b > 0);
    cr_assert(f.c >= 0);
    assert_near(f.serial_fraction, 0, 0, "serial_fraction");
    cr_assert(isinf(f.best_speedup));
}

Test(stats, amdahl_invalid_arguments)
{
    const double p[] = {1, 2};
    const double t[] = {1, 0.6};
    struct sl_fit f;
    cr_assert_eq(sl_stats_fit_amdahl(NULL, t, 2, &f), -SL_EINVAL);
    cr_assert_eq(sl_stats_fit_amdahl(p, NULL, 2, &f), -SL_EINVAL);
    cr_assert_eq(sl_stats_fit_amdahl(p, t, 2, NULL), -SL_EINVAL);
    cr_assert(isnan(sl_stats_fit_eval(NULL, 2)));
}
