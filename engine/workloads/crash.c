/* crash.c — a test-only workload whose kernel crashes: proves a crashing workload fails its
 * run and never takes the server down. Listed and accepted only when the environment has
 * SCALELAB_TEST_WORKLOADS=1 (see sl_workload_visible).
 */
#include <signal.h>
#include <stdlib.h>

#include "sl.h"
#include "workload.h"

struct crash_state {
    uint64_t items; /* items per run */
};

#ifdef SL_KERNEL_BUILD

SL_KERNEL_DECL(crash_kernel);

void SL_KERNEL_FN(crash_kernel)(void *st, unsigned phase, uint64_t begin, uint64_t end,
                                struct sl_partial *out)
{
    (void)st;
    (void)phase;
    (void)begin;
    (void)end;
    (void)out;
    raise(SIGSEGV);
}

#else

SL_KERNEL_DECL(crash_kernel);

static const struct sl_param params[] = {
    {"mode", "0: every kernel call dies of SIGSEGV", 0, 0, 0, 1},
};

static double crash_memory(const double *p)
{
    (void)p;
    return sizeof(struct crash_state);
}

static int crash_setup(const double *p, void **state, struct sl_shape *shape)
{
    struct crash_state *s = malloc(sizeof *s);
    (void)p;
    if (!s)
        return -SL_ENOMEM;
    s->items = 16;
    *state = s;
    *shape = (struct sl_shape){.work = s->items, .unit = "item", .phases = 1};
    return 0;
}

static uint64_t crash_items(const void *st, unsigned phase)
{
    (void)phase;
    return ((const struct crash_state *)st)->items;
}

static int crash_verify(const void *st, const struct sl_partial *r, double *v, char *msg,
                        size_t len)
{
    (void)st;
    (void)msg;
    (void)len;
    *v = (double)r->count;
    return 1;
}

static void crash_teardown(void *st)
{
    free(st);
}

const struct sl_workload sl_wl_crash = {
    .name = "crash",
    .title = "Crash (test only)",
    .lesson = "A workload that crashes, to test that a run fails cleanly.",
    .params = params,
    .nparams = 1,
    .flags = SL_WL_TEST_ONLY,
    .memory = crash_memory,
    .setup = crash_setup,
    .items = crash_items,
    .kernel = {crash_kernel_scalar, crash_kernel_vector},
    .verify = crash_verify,
    .teardown = crash_teardown,
};

#endif
