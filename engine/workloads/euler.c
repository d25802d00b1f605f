/* euler.c — Euler's method for dy/dt = c - k y: a chain no core count can shorten.
 *
 * Step s+1 needs step s, so one trajectory is a dependency chain of `steps` multiply-adds:
 * its time is the latency of that chain, on any backend. Only many independent trajectories
 * (different k) give the parallel backends something to share. The vector kernel advances
 * a block of trajectories together, one SIMD lane each.
 * The linear ODE has a closed form for Euler's iterates, y_n = c/k + (y0 - c/k)(1 - h k)^n,
 * against which the result is checked (to rounding, not to the ODE's truncation error).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sl.h"
#include "workload.h"

struct euler_state {
    uint64_t trajectories; /* independent ODEs */
    uint64_t steps;        /* Euler steps each */
    double h;              /* step size */
};

#define Y0 1.0
#define C 0.5
#define T_END 1.0

/* Decay rate of trajectory t: spread over [1, 2). */
SL_KERNEL_HELPER double rate(uint64_t t, uint64_t n)
{
    return 1.0 + (double)t / (double)n;
}

#ifdef SL_KERNEL_BUILD

SL_KERNEL_DECL(euler_kernel);

#define BLOCK 16

void SL_KERNEL_FN(euler_kernel)(void *st, unsigned phase, uint64_t begin, uint64_t end,
                                struct sl_partial *out)
{
    const struct euler_state *s = st;
    const double h = s->h, hc = h * C;
    double total = 0;
    uint64_t t0 = begin;
    (void)phase;
    /* Full blocks: BLOCK independent chains side by side, one SIMD lane each. The block size
     * is a constant so the chains live in registers. y <- y + h (c - k y) = a y + h c with
     * a = 1 - h k: one fused multiply-add per step, so both variants round alike. */
    for (; end - t0 >= BLOCK; t0 += BLOCK) {
        double y[BLOCK], a[BLOCK];
        for (unsigned j = 0; j < BLOCK; j++) {
            y[j] = Y0;
            a[j] = 1.0 - h * rate(t0 + j, s->trajectories);
        }
        for (uint64_t step = 0; step < s->steps; step++) {
            SL_SIMD()
            for (unsigned j = 0; j < BLOCK; j++)
                y[j] = fma(a[j], y[j], hc);
        }
        for (unsigned j = 0; j < BLOCK; j++)
            total += y[j];
    }
    /* The rest one at a time: a single chain whose speed is the latency of one FMA. */
    for (; t0 < end; t0++) {
        double y = Y0, a = 1.0 - h * rate(t0, s->trajectories);
        for (uint64_t step = 0; step < s->steps; step++)
            y = fma(a, y, hc);
        total += y;
    }
    out->sum += total;
}

#else

SL_KERNEL_DECL(euler_kernel);

static const struct sl_param params[] = {
    {"trajectories", "independent ODEs (1 = a single chain: nothing to parallelise)", 64, 1,
     1e8, 1},
    {"steps", "Euler steps per trajectory over t in [0, 1]", 1e7, 1, 1e11, 1},
};

static double euler_memory(const double *p)
{
    (void)p;
    return sizeof(struct euler_state);
}

static int euler_setup(const double *p, void **state, struct sl_shape *shape)
{
    struct euler_state *s = malloc(sizeof *s);
    if (!s)
        return -SL_ENOMEM;
    s->trajectories = (uint64_t)p[0];
    s->steps = (uint64_t)p[1];
    s->h = T_END / (double)s->steps;
    *state = s;
    double work = (double)s->trajectories * (double)s->steps;
    *shape = (struct sl_shape){.work = s->trajectories * s->steps,
                               .unit = "step",
                               .flops = 2.0 * work,
                               .phases = 1};
    return 0;
}

static uint64_t euler_items(const void *st, unsigned phase)
{
    (void)phase;
    return ((const struct euler_state *)st)->trajectories;
}

static int euler_verify(const void *st, const struct sl_partial *r, double *v, char *msg,
                        size_t len)
{
    const struct euler_state *s = st;
    double expect = 0;
    for (uint64_t t = 0; t < s->trajectories; t++) {
        double k = rate(t, s->trajectories), ys = C / k;
        expect += ys + (Y0 - ys) * pow(1.0 - s->h * k, (double)s->steps);
    }
    *v = r->sum;
    /* Rounding grows with the chain: allow about steps * eps relative, at least 1e-9. */
    double tol = fmax(1e-9, 4e-16 * (double)s->steps) * fabs(expect);
    if (!(fabs(r->sum - expect) <= tol)) {
        snprintf(msg, len, "sum of final values %.15g differs from the closed form %.15g",
                 r->sum, expect);
        return 0;
    }
    return 1;
}

static void euler_teardown(void *st)
{
    free(st);
}

const struct sl_workload sl_wl_euler = {
    .name = "euler",
    .title = "Euler's method",
    .lesson = "Dependencies: each step needs the last, so one trajectory cannot be sped up; "
              "only independent trajectories run in parallel.",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .weak_param = 0,
    .flags = 0,
    .memory = euler_memory,
    .setup = euler_setup,
    .items = euler_items,
    .kernel = {euler_kernel_scalar, euler_kernel_vector},
    .verify = euler_verify,
    .teardown = euler_teardown,
};

#endif
