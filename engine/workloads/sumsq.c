/* sumsq.c — sum of squares of a large array: the memory-bound workload.
 *
 * Each element is read once and costs one multiply-add, so the kernel waits on memory, not
 * on arithmetic: adding cores helps only until the memory bandwidth is used up. The data are
 * small integers stored as doubles, so every partial sum is an exact integer below 2^53 and
 * the result is bit-identical whatever the order of summation (backend, cores, variant).
 * The array is first-touched by the worker that will read it (touch), so on a NUMA host its
 * pages land on that worker's node.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sl.h"
#include "workload.h"

struct sumsq_state {
    double *a;    /* the array */
    uint64_t n;   /* its length */
    size_t bytes; /* its size, for munmap */
};

/* a[i] = i mod 1024 - 512: squares at most 2^18, so n < 2^35 keeps every sum exact. */
SL_KERNEL_HELPER double value(uint64_t i)
{
    return (double)(int64_t)(i % 1024) - 512.0;
}

#ifdef SL_KERNEL_BUILD

SL_KERNEL_DECL(sumsq_kernel);

void SL_KERNEL_FN(sumsq_kernel)(void *st, unsigned phase, uint64_t begin, uint64_t end,
                                struct sl_partial *out)
{
    const double *a = ((const struct sumsq_state *)st)->a;
    double s = 0;
    (void)phase;
    /* The reduction clause lets the compiler keep several vector accumulators, so the loop is
     * bound by bandwidth, not by the latency of one chain of adds. */
    SL_SIMD(reduction(+ : s))
    for (uint64_t i = begin; i < end; i++)
        s += a[i] * a[i];
    out->sum += s;
}

#else

SL_KERNEL_DECL(sumsq_kernel);

static const struct sl_param params[] = {
    {"n", "array length in doubles (8 bytes each)", 1e8, 1, 1e10, 1},
};

static double sumsq_memory(const double *p)
{
    return p[0] * sizeof(double);
}

static int sumsq_setup(const double *p, void **state, struct sl_shape *shape)
{
    struct sumsq_state *s = calloc(1, sizeof *s);
    if (!s)
        return -SL_ENOMEM;
    s->n = (uint64_t)p[0];
    s->bytes = s->n * sizeof(double);
    s->a = sl_mem_alloc(s->bytes, 0);
    if (!s->a) {
        free(s);
        return -SL_ENOMEM;
    }
    *state = s;
    *shape = (struct sl_shape){.work = s->n,
                               .unit = "element",
                               .bytes = (double)s->bytes,
                               .flops = 2.0 * (double)s->n,
                               .phases = 1};
    return 0;
}

static void sumsq_touch(void *st, uint64_t begin, uint64_t end)
{
    double *a = ((struct sumsq_state *)st)->a;
    for (uint64_t i = begin; i < end; i++)
        a[i] = value(i);
}

static uint64_t sumsq_items(const void *st, unsigned phase)
{
    (void)phase;
    return ((const struct sumsq_state *)st)->n;
}

static int sumsq_verify(const void *st, const struct sl_partial *r, double *v, char *msg,
                        size_t len)
{
    const struct sumsq_state *s = st;
    /* Closed form: full periods of sum_{k=-512}^{511} k^2, plus the tail. */
    uint64_t period = 0, tail = 0, full = s->n / 1024, rest = s->n % 1024;
    for (uint64_t i = 0; i < 1024; i++) {
        uint64_t k2 = (uint64_t)((int64_t)i - 512) * (uint64_t)((int64_t)i - 512);
        period += k2;
        if (i < rest)
            tail += k2;
    }
    double expect = (double)(full * period + tail);
    *v = r->sum;
    if (r->sum != expect) {
        snprintf(msg, len, "sum %.17g differs from the exact %.17g", r->sum, expect);
        return 0;
    }
    return 1;
}

static void sumsq_teardown(void *st)
{
    struct sumsq_state *s = st;
    if (!s)
        return;
    sl_mem_free(s->a, s->bytes);
    free(s);
}

const struct sl_workload sl_wl_sumsq = {
    .name = "sumsq",
    .title = "Sum of squares",
    .lesson = "Memory-bound: one multiply-add per 8 bytes read; scaling stops at the memory "
              "bandwidth, often at 2-4 cores.",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .weak_param = 0,
    .flags = SL_WL_EXACT,
    .memory = sumsq_memory,
    .setup = sumsq_setup,
    .touch = sumsq_touch,
    .items = sumsq_items,
    .kernel = {sumsq_kernel_scalar, sumsq_kernel_vector},
    .verify = sumsq_verify,
    .teardown = sumsq_teardown,
};

#endif
