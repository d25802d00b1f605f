/* stats.h — descriptive statistics of timing samples and the scaling models fitted to them.
 *
 * Plain C, no I/O and no allocation visible to the caller: the engine's CLI and the server
 * both call these on arrays of doubles (times in any unit; the functions are unit-free).
 */
#ifndef SL_STATS_H
#define SL_STATS_H

#include <stddef.h>

/* Summary of one sample (e.g. the wall times of the repetitions of one point). */
struct sl_summary {
    size_t n;          /* number of values */
    double min, max;   /* smallest and largest value */
    double mean;       /* arithmetic mean */
    double median;     /* median (mean of the two middle values when n is even) */
    double stddev;     /* sample standard deviation (n - 1 in the denominator); 0 when n == 1 */
    double cv;         /* stddev / mean; 0 when mean == 0 */
    double q1, q3;     /* first and third quartiles (linear interpolation, as numpy's default) */
    double ci_lo;      /* 95% confidence interval of the median: distribution-free, from the */
    double ci_hi;      /*   binomial(n, 1/2) order statistics; [min, max] when n is too small */
    double ci_level;   /* the coverage actually achieved by [ci_lo, ci_hi] (>= 0.95 when n >= 6) */
    size_t outliers;   /* values outside Tukey's fences [q1 - 1.5 IQR, q3 + 1.5 IQR] */
};

/* Summarise x[0..n). Returns 0, or -SL_EINVAL when n == 0 or x is NULL. x is not modified.
 * When flags is not NULL, flags[i] is set to 1 for each outlier and 0 otherwise: outliers
 * are flagged, never dropped. */
int sl_stats_summarize(const double *x, size_t n, struct sl_summary *s, unsigned char *flags);

/* Karp-Flatt experimentally determined serial fraction e = (1/S - 1/p) / (1 - 1/p) for a
 * speedup S on p workers. Returns NaN when p <= 1 or S <= 0. */
double sl_stats_karp_flatt(double speedup, double p);

/* Gustafson's serial fraction for weak scaling from a scaled speedup S on p workers:
 * S = p - f (p - 1), so f = (p - S) / (p - 1). Returns NaN when p <= 1. */
double sl_stats_gustafson_fraction(double scaled_speedup, double p);

/* Amdahl model with an optional overhead term, fitted to (p[i], t[i]) points:
 *     T(p) = a + b / p            (2 parameters)
 *     T(p) = a + b / p + c * p    (3 parameters: overhead growing with the worker count)
 * fitted by least squares on relative residuals ((T(p) - t) / t, since times span orders of
 * magnitude), with a, b, c >= 0. The 3-parameter model is chosen only when there are at least
 * 4 distinct p values, c > 0, and it lowers the corrected Akaike criterion (AICc). */
struct sl_fit {
    int ok;                 /* 1 when a fit was made (>= 2 distinct p values) */
    int overhead;           /* 1 when the overhead model (c > 0) was chosen */
    double a, b, c;         /* the model's coefficients, in the unit of t */
    double serial_fraction; /* a / (a + b): Amdahl's non-parallelisable share of T(1) - c */
    double best_p;          /* p minimising T: sqrt(b / c) with overhead; INFINITY without */
    double best_speedup;    /* T(1) / T(best_p) from the model (limit (a+b+c)/a when best_p is infinite; INFINITY if a == 0) */
    double rms_rel;         /* root mean square of the relative residuals */
};

/* Fit the model to n points. Points with p < 1 or t <= 0 are ignored. Repeated p values
 * are allowed (each point counts). Returns 0 (f->ok tells whether a fit was possible), or
 * -SL_EINVAL on NULL arguments. */
int sl_stats_fit_amdahl(const double *p, const double *t, size_t n, struct sl_fit *f);

/* Model time at p workers for a fit (NaN when !f->ok). */
double sl_stats_fit_eval(const struct sl_fit *f, double p);

#endif /* SL_STATS_H */
