/* stats.c — summaries of timing samples, serial-fraction metrics and the Amdahl fit. */

/*
 * Summaries work on a sorted private copy, so the caller's array (which the run store and
 * the report may still hold in run order) is never touched. Order statistics then give the
 * median, the quartiles and a confidence interval of the median that assumes nothing about
 * the distribution of the times: timings are skewed and often multimodal, so a normal-theory
 * interval would lie.
 *
 * The Amdahl fit is a tiny non-negative least-squares problem: at most three columns, so
 * instead of an iterative NNLS solver every subset of columns is solved exactly and the best
 * solution with no negative coefficient wins. That is the NNLS optimum, because the optimum
 * is the unconstrained least-squares fit on its own set of non-zero coefficients. Columns
 * are scaled to unit norm before the normal equations are formed: 1/(p t) and p/t differ by
 * a factor p^2, which would otherwise square into a needlessly ill-conditioned system.
 */
#include "stats.h"

#include "sl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The median CI aims at this coverage (the largest achievable below it is never used). */
#define CI_TARGET 0.95

/* Relative residuals below about 1e-10 are rounding noise, not misfit: the SSR floor keeps
 * ln(SSR) finite for exact data and stops AICc rewarding a parameter that only fits noise. */
#define SSR_FLOOR_PER_POINT 1e-20

/* Columns of the Amdahl design matrix, in the order of the coefficients a, b, c. */
enum { COL_A, COL_B, COL_C, NCOLS };

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Quantile q of sorted x[0..n), numpy's default: linear between the order statistics at
 * rank h = (n - 1) q. */
static double quantile(const double *x, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

/* Distribution-free CI of the median: with B ~ Binomial(n, 1/2) counting the values below
 * the true median, [x_(j), x_(n+1-j)] covers it with probability P(j <= B <= n - j)
 * = 1 - 2 P(B <= j - 1). Coverage falls as j grows, so take the largest j that still reaches
 * the target; when even j = 1 ([min, max]) falls short, report [min, max] with its coverage.
 * The pmf is carried in logs because 2^-n underflows for long samples; the recurrence (not
 * lgamma) keeps this free of lgamma's global signgam, so it is safe from any thread. */
static void median_ci(const double *x, size_t n, struct sl_summary *s)
{
    double dn = (double)n;
    double lpmf = -dn * log(2.0); /* ln P(B = 0) */
    double tail = 0.0;            /* P(B <= j - 1) */
    size_t best = 1;
    double best_cov = 0.0;

    for (size_t j = 1; 2 * j <= n + 1; j++) {
        double k = (double)(j - 1);
        tail += exp(lpmf);
        double cov = 1.0 - 2.0 * tail;
        if (cov < CI_TARGET && j > 1)
            break;
        best = j;
        best_cov = cov;
        if (cov < CI_TARGET)
            break; /* n too small: keep [min, max] with what it achieves */
        lpmf += log(dn - k) - log(k + 1.0);
    }
    s->ci_lo = x[best - 1];
    s->ci_hi = x[n - best];
    s->ci_level = best_cov < 0.0 ? 0.0 : best_cov;
}

int sl_stats_summarize(const double *x, size_t n, struct sl_summary *s, unsigned char *flags)
{
    if (x == NULL || s == NULL || n == 0)
        return -SL_EINVAL;
    /* NaN has no place in an order, and qsort with an inconsistent order is undefined. */
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]))
            return -SL_EINVAL;
    if (n > (size_t)-1 / sizeof *x)
        return -SL_ENOMEM;
    double *v = malloc(n * sizeof *v);
    if (v == NULL)
        return -SL_ENOMEM;
    memcpy(v, x, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);

    memset(s, 0, sizeof *s);
    s->n = n;
    s->min = v[0];
    s->max = v[n - 1];

    /* Two passes: the mean first, then deviations from it; the second sum of deviations
     * corrects the rounding left in the first mean (corrected two-pass algorithm). */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    double mean = sum / (double)n;
    double dsum = 0.0, ssq = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = v[i] - mean;
        dsum += d;
        ssq += d * d;
    }
    s->mean = mean + dsum / (double)n;
    if (n > 1) {
        double var = (ssq - dsum * dsum / (double)n) / (double)(n - 1);
        s->stddev = var > 0.0 ? sqrt(var) : 0.0;
    }
    s->cv = s->mean == 0.0 ? 0.0 : s->stddev / s->mean;

    s->median = quantile(v, n, 0.5);
    s->q1 = quantile(v, n, 0.25);
    s->q3 = quantile(v, n, 0.75);
    median_ci(v, n, s);

    double iqr = s->q3 - s->q1;
    double lo = s->q1 - 1.5 * iqr, hi = s->q3 + 1.5 * iqr;
    for (size_t i = 0; i < n; i++) {
        int out = x[i] < lo || x[i] > hi;
        s->outliers += (size_t)out;
        if (flags != NULL)
            flags[i] = (unsigned char)out;
    }
    free(v);
    return 0;
}

double sl_stats_karp_flatt(double speedup, double p)
{
    /* Negated comparisons so that NaN arguments also give NaN. */
    if (!(p > 1.0) || !(speedup > 0.0))
        return NAN;
    return (1.0 / speedup - 1.0 / p) / (1.0 - 1.0 / p);
}

double sl_stats_gustafson_fraction(double scaled_speedup, double p)
{
    if (!(p > 1.0))
        return NAN;
    return (p - scaled_speedup) / (p - 1.0);
}

/* The points the fit uses: finite, at least one worker, positive time. */
static int usable(double p, double t)
{
    return isfinite(p) && isfinite(t) && p >= 1.0 && t > 0.0;
}

/* Row i of the weighted design matrix: the model's terms divided by the measured time, so
 * that a residual against 1 is the relative error (T(p) - t) / t. */
static void design_row(double p, double t, double r[NCOLS])
{
    r[COL_A] = 1.0 / t;
    r[COL_B] = 1.0 / (p * t);
    r[COL_C] = p / t;
}

/* Sum of squared relative residuals of coefficients x over the usable points. Computed from
 * the data rather than from the normal equations, where it would be a difference of large
 * numbers and lose exactly the precision that AICc needs on near-exact fits. */
static double ssr_of(const double *p, const double *t, size_t n, const double x[NCOLS])
{
    double ssr = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!usable(p[i], t[i]))
            continue;
        double r[NCOLS];
        design_row(p[i], t[i], r);
        double e = x[COL_A] * r[COL_A] + x[COL_B] * r[COL_B] + x[COL_C] * r[COL_C] - 1.0;
        ssr += e * e;
    }
    return ssr;
}

/* Solve the normal equations g x = h restricted to the columns in mask (the others are
 * fixed at 0), by Gaussian elimination with partial pivoting on the unit-scaled system.
 * Returns 0, or -1 when the restricted system is singular. */
static int solve_subset(const double g[NCOLS][NCOLS], const double h[NCOLS], unsigned mask,
                        double x[NCOLS])
{
    int idx[NCOLS], k = 0;
    for (int j = 0; j < NCOLS; j++)
        if (mask & (1u << j))
            idx[k++] = j;

    double m[NCOLS][NCOLS + 1], d[NCOLS];
    for (int i = 0; i < k; i++) {
        d[i] = sqrt(g[idx[i]][idx[i]]);
        if (!(d[i] > 0.0))
            return -1;
    }
    for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++)
            m[i][j] = g[idx[i]][idx[j]] / (d[i] * d[j]);
        m[i][k] = h[idx[i]] / d[i];
    }
    for (int col = 0; col < k; col++) {
        int piv = col;
        for (int i = col + 1; i < k; i++)
            if (fabs(m[i][col]) > fabs(m[piv][col]))
                piv = i;
        /* The scaled matrix has a unit diagonal: a pivot this small means collinear columns. */
        if (fabs(m[piv][col]) < 1e-13)
            return -1;
        if (piv != col)
            for (int j = 0; j <= k; j++) {
                double tmp = m[col][j];
                m[col][j] = m[piv][j];
                m[piv][j] = tmp;
            }
        for (int i = col + 1; i < k; i++) {
            double f = m[i][col] / m[col][col];
            for (int j = col; j <= k; j++)
                m[i][j] -= f * m[col][j];
        }
    }
    double y[NCOLS];
    for (int i = k - 1; i >= 0; i--) {
        double acc = m[i][k];
        for (int j = i + 1; j < k; j++)
            acc -= m[i][j] * y[j];
        y[i] = acc / m[i][i];
    }
    x[COL_A] = x[COL_B] = x[COL_C] = 0.0;
    for (int i = 0; i < k; i++)
        x[idx[i]] = y[i] / d[i];
    return 0;
}

/* Best non-negative fit using only the columns in allowed: every subset is tried and the
 * feasible one with the lowest SSR kept. The empty subset (all zero, SSR = n) is always
 * feasible, so this always returns a fit. */
static double fit_nonneg(const double *p, const double *t, size_t n,
                         const double g[NCOLS][NCOLS], const double h[NCOLS],
                         unsigned allowed, double best[NCOLS])
{
    double best_ssr = INFINITY;
    best[COL_A] = best[COL_B] = best[COL_C] = 0.0;
    for (unsigned mask = allowed;; mask = (mask - 1) & allowed) {
        double x[NCOLS] = {0.0, 0.0, 0.0};
        if (mask == 0 || solve_subset(g, h, mask, x) == 0) {
            if (x[COL_A] >= 0.0 && x[COL_B] >= 0.0 && x[COL_C] >= 0.0) {
                double ssr = ssr_of(p, t, n, x);
                if (ssr < best_ssr) {
                    best_ssr = ssr;
                    memcpy(best, x, sizeof x);
                }
            }
        }
        if (mask == 0)
            break;
    }
    return best_ssr;
}

/* Corrected Akaike criterion for k parameters on n points; INFINITY when undefined. */
static double aicc(double ssr, size_t n, int k)
{
    double dn = (double)n, dk = (double)k;
    if (dn - dk - 1.0 <= 0.0)
        return INFINITY;
    double floor_ssr = SSR_FLOOR_PER_POINT * dn;
    if (ssr < floor_ssr)
        ssr = floor_ssr;
    return dn * log(ssr / dn) + 2.0 * dk + 2.0 * dk * (dk + 1.0) / (dn - dk - 1.0);
}

int sl_stats_fit_amdahl(const double *p, const double *t, size_t n, struct sl_fit *f)
{
    if (p == NULL || t == NULL || f == NULL)
        return -SL_EINVAL;
    memset(f, 0, sizeof *f);

    /* Normal equations of the full 3-column problem; subsets are read out of them. Only
     * whether there are 2 and 4 distinct p values matters, so at most 4 are remembered. */
    double g[NCOLS][NCOLS] = {{0.0}}, h[NCOLS] = {0.0};
    double seen[4];
    size_t used = 0, distinct = 0;
    for (size_t i = 0; i < n; i++) {
        if (!usable(p[i], t[i]))
            continue;
        used++;
        size_t j = 0;
        while (j < distinct && seen[j] != p[i])
            j++;
        if (j == distinct && distinct < 4)
            seen[distinct++] = p[i];
        double r[NCOLS];
        design_row(p[i], t[i], r);
        for (int a = 0; a < NCOLS; a++) {
            h[a] += r[a];
            for (int b = 0; b < NCOLS; b++)
                g[a][b] += r[a] * r[b];
        }
    }
    if (distinct < 2)
        return 0;

    double x2[NCOLS], x3[NCOLS];
    double ssr2 = fit_nonneg(p, t, n, g, h, (1u << COL_A) | (1u << COL_B), x2);
    double ssr = ssr2;
    const double *x = x2;
    if (distinct >= 4) {
        double ssr3 = fit_nonneg(p, t, n, g, h, (1u << NCOLS) - 1u, x3);
        /* The nominal parameter counts (2 and 3) are used even when a coefficient was
         * clamped to 0: the overhead term must earn its place against the plain model. */
        if (x3[COL_C] > 0.0 && aicc(ssr3, used, 3) < aicc(ssr2, used, 2)) {
            ssr = ssr3;
            x = x3;
            f->overhead = 1;
        }
    }

    f->ok = 1;
    f->a = x[COL_A];
    f->b = x[COL_B];
    f->c = x[COL_C];
    f->serial_fraction = f->a + f->b > 0.0 ? f->a / (f->a + f->b) : 0.0;
    if (f->overhead) {
        /* Below one worker the model means nothing; with b == 0 the optimum is p = 1. */
        f->best_p = sqrt(f->b / f->c);
        if (f->best_p < 1.0)
            f->best_p = 1.0;
        f->best_speedup = sl_stats_fit_eval(f, 1.0) / sl_stats_fit_eval(f, f->best_p);
    } else {
        f->best_p = INFINITY;
        f->best_speedup = f->a > 0.0 ? (f->a + f->b + f->c) / f->a : INFINITY;
    }
    f->rms_rel = sqrt(ssr / (double)used);
    return 0;
}

double sl_stats_fit_eval(const struct sl_fit *f, double p)
{
    if (f == NULL || !f->ok)
        return NAN;
    return f->a + f->b / p + f->c * p;
}
