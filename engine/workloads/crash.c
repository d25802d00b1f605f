/* crash.c — a test-only workload that fails on purpose, so that tests can prove what the
 * engine does with failures: mode 0 crashes (a run fails, the server stays up); mode 1 gives
 * a wrong result on every run with more than one worker (verification fails: the run is
 * counted, excluded from statistics, and the engine exits 3); mode 2 gives a result that
 * passes its own check but differs bit for bit between splits (the sweep's comparison of an
 * exact workload's results must catch it). Listed and accepted only when the environment
 * has SCALELAB_TEST_WORKLOADS=1 (see sl_workload_visible).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "sl.h"
#include "workload.h"

struct crash_state {
    uint64_t items; /* items per run */
    unsigned mode;  /* 0 crash, 1 wrong when split, 2 exact-but-different when split */
};

#ifdef SL_KERNEL_BUILD

SL_KERNEL_DECL(crash_kernel);

void SL_KERNEL_FN(crash_kernel)(void *st, unsigned phase, uint64_t begin, uint64_t end,
                                struct sl_partial *out)
{
    const struct crash_state *s = st;
    (void)phase;
    if (s->mode == 0)
        raise(SIGSEGV);
    out->count += end - begin;
    if (begin > 0) { /* a worker other than the first */
        if (s->mode == 1)
            out->count += 1;
        else
            out->sum += 1;
    }
}

#else

SL_KERNEL_DECL(crash_kernel);

static const struct sl_param params[] = {
    {"mode", "0: every kernel call dies of SIGSEGV; 1: wrong result when split; "
             "2: a result that verifies but differs bit for bit when split", 0, 0, 2, 1},
};

static double crash_memory(const double *p)
{
    (void)p;
    return sizeof(struct crash_state);
}

static int crash_setup(const double *p, void **state, struct sl_shape *shape)
{
    struct crash_state *s = malloc(sizeof *s);
    if (!s)
        return -SL_ENOMEM;
    s->items = 16;
    s->mode = (unsigned)p[0];
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
    const struct crash_state *s = st;
    *v = (double)r->count;
    if (r->count == s->items)
        return 1;
    snprintf(msg, len, "count %llu, expected %llu", (unsigned long long)r->count,
             (unsigned long long)s->items);
    return 0;
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
    .flags = SL_WL_TEST_ONLY | SL_WL_EXACT,
    .memory = crash_memory,
    .setup = crash_setup,
    .items = crash_items,
    .kernel = {crash_kernel_scalar, crash_kernel_vector},
    .verify = crash_verify,
    .teardown = crash_teardown,
};

#endif
