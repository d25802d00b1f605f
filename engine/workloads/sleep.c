/* sleep.c — tasks that wait (the tutorials' slow_square with time.sleep): latency-bound.
 *
 * A task sleeps for `us` microseconds and uses no CPU, so more workers than cores still help:
 * k tasks on w workers take about ceil(k / w) * us, whatever the core count. This is the
 * case where threads beyond the number of cores pay off (run with --oversubscribe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sl.h"
#include "workload.h"

struct sleep_state {
    uint64_t tasks; /* number of tasks */
    uint64_t us;    /* microseconds each task waits */
};

#ifdef SL_KERNEL_BUILD

SL_KERNEL_DECL(sleep_kernel);

void SL_KERNEL_FN(sleep_kernel)(void *st, unsigned phase, uint64_t begin, uint64_t end,
                                struct sl_partial *out)
{
    const struct sleep_state *s = st;
    (void)phase;
    for (uint64_t t = begin; t < end; t++) {
        struct timespec ts = {(time_t)(s->us / 1000000), (long)(s->us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0)
            ; /* interrupted: sleep the rest */
        out->count++;
    }
}

#else

SL_KERNEL_DECL(sleep_kernel);

static const struct sl_param params[] = {
    {"tasks", "number of tasks", 32, 1, 100000, 1},
    {"us", "microseconds each task sleeps", 5000, 0, 10e6, 1},
};

static double sleep_memory(const double *p)
{
    (void)p;
    return sizeof(struct sleep_state);
}

static int sleep_setup(const double *p, void **state, struct sl_shape *shape)
{
    struct sleep_state *s = malloc(sizeof *s);
    if (!s)
        return -SL_ENOMEM;
    s->tasks = (uint64_t)p[0];
    s->us = (uint64_t)p[1];
    *state = s;
    *shape = (struct sl_shape){.work = s->tasks, .unit = "task", .phases = 1};
    return 0;
}

static uint64_t sleep_items(const void *st, unsigned phase)
{
    (void)phase;
    return ((const struct sleep_state *)st)->tasks;
}

static int sleep_verify(const void *st, const struct sl_partial *r, double *v, char *msg,
                        size_t len)
{
    const struct sleep_state *s = st;
    *v = (double)r->count;
    if (r->count != s->tasks) {
        snprintf(msg, len, "%llu of %llu tasks ran", (unsigned long long)r->count,
                 (unsigned long long)s->tasks);
        return 0;
    }
    return 1;
}

static void sleep_teardown(void *st)
{
    free(st);
}

const struct sl_workload sl_wl_sleep = {
    .name = "sleep",
    .title = "Sleeping tasks",
    .lesson = "Latency-bound: tasks wait instead of compute, so threads help far beyond the "
              "core count (oversubscribe to see it).",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .weak_param = 0,
    .flags = SL_WL_EXACT,
    .memory = sleep_memory,
    .setup = sleep_setup,
    .items = sleep_items,
    .kernel = {sleep_kernel_scalar, sleep_kernel_vector},
    .verify = sleep_verify,
    .teardown = sleep_teardown,
};

#endif
