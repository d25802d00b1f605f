/* test_workloads.c — every workload on every CPU backend, cores 1-3, both kernel variants:
 * each result verifies, and exact workloads match the serial result bit for bit.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "job.h"
#include "sl.h"
#include "workload.h"

struct case_size {
    const char *workload;
    const char *assign[4]; /* "name=value", NULL-terminated */
};

/* Small sizes with odd counts, so splits are uneven and edges are exercised. */
static const struct case_size cases[] = {
    {"pi", {"samples=100003", NULL}},
    {"sumsq", {"n=100019", NULL}},
    {"euler", {"trajectories=37", "steps=1001", NULL}},
    {"euler", {"trajectories=1", "steps=5000", NULL}},
    {"paths", {"m=37", "n=53", NULL}},
    {"paths", {"m=61", "n=2", NULL}},
    {"paths", {"m=1", "n=1", NULL}},
    {"sleep", {"tasks=7", "us=200", NULL}},
    {"matmul", {"n=67", NULL}},
};

struct prepared {
    const struct sl_workload *wl;
    double params[SL_WL_MAX_PARAMS];
    void *state;
    struct sl_shape shape;
};

static void prepare(const struct case_size *c, struct prepared *p)
{
    double *params = p->params;
    p->wl = sl_workload_find(c->workload);
    cr_assert_not_null(p->wl, "workload %s exists", c->workload);
    sl_workload_defaults(p->wl, params);
    for (int i = 0; c->assign[i]; i++) {
        char name[32];
        double v;
        cr_assert_eq(sscanf(c->assign[i], "%31[^=]=%lf", name, &v), 2);
        int k = sl_workload_param_index(p->wl, name);
        cr_assert_geq(k, 0, "%s has parameter %s", c->workload, name);
        params[k] = v;
    }
    cr_assert_eq(p->wl->setup(params, &p->state, &p->shape), 0, "setup of %s", c->workload);
    if (p->wl->touch)
        p->wl->touch(p->state, 0, p->wl->items(p->state, 0));
}

static int run_once(const struct prepared *p, const struct sl_backend *be, unsigned cores,
                    enum sl_variant v, enum sl_schedule sched, uint64_t chunk,
                    enum sl_affinity aff, struct sl_partial *out)
{
    uint64_t busy[8] = {0};
    struct sl_exec x = {.wl = p->wl,
                        .state = p->state,
                        .kernel = p->wl->kernel[v],
                        .phases = p->shape.phases,
                        .workers = cores,
                        .affinity = aff,
                        .schedule = sched,
                        .chunk = chunk,
                        .params = p->params,
                        .oversubscribe = 1};
    struct sl_timing t = {.busy_ns = busy};
    if (be->prepare)
        cr_assert_eq(be->prepare(&x), 0, "%s gets ready for %u workers: %s", be->name, cores,
                     sl_backend_last_error());
    int rc = be->run(&x, &t);
    *out = t.result;
    return rc;
}

/* Run everything for one case and compare with serial. */
static void check_case(const struct case_size *c)
{
    struct prepared p;
    struct sl_partial ref, r;
    char msg[256];
    double value;
    prepare(c, &p);
    cr_assert_eq(run_once(&p, sl_backend_find("serial"), 1, SL_SCALAR, SL_SCHED_STATIC, 0,
                          SL_AFF_NONE, &ref),
                 0);
    cr_assert(p.wl->verify(p.state, &ref, &value, msg, sizeof msg), "%s serial verifies: %s",
              c->workload, msg);
    for (const struct sl_backend *const *b = sl_backends; *b; b++) {
        unsigned maxc = ((*b)->caps & SL_CAP_PARALLEL) ? 3 : 1;
        char why[160];
        if ((*b)->probe(why, sizeof why) != 0)
            continue; /* mpi built without MPI: its unavailability is tested in test_cli */
        for (unsigned cores = 1; cores <= maxc; cores++)
            for (int v = 0; v < SL_VARIANTS; v++) {
                if (!((*b)->caps & SL_CAP_VARIANT) && v != (int)(*b)->variant)
                    continue;
                memset(&r, 0xff, sizeof r);
                int rc = run_once(&p, *b, cores, (enum sl_variant)v, SL_SCHED_STATIC, 0,
                                  SL_AFF_NONE, &r);
                cr_assert_eq(rc, 0, "%s on %s x%u %s runs: %s", c->workload, (*b)->name, cores,
                             sl_variant_name((enum sl_variant)v), sl_backend_last_error());
                msg[0] = '\0';
                cr_assert(p.wl->verify(p.state, &r, &value, msg, sizeof msg),
                          "%s on %s x%u %s verifies: %s", c->workload, (*b)->name, cores,
                          sl_variant_name((enum sl_variant)v), msg);
                if (p.wl->flags & SL_WL_EXACT)
                    cr_assert(r.count == ref.count && r.sum == ref.sum,
                              "%s on %s x%u %s matches serial exactly (%llu/%.17g vs %llu/%.17g)",
                              c->workload, (*b)->name, cores, sl_variant_name((enum sl_variant)v),
                              (unsigned long long)r.count, r.sum,
                              (unsigned long long)ref.count, ref.sum);
                else
                    cr_assert(fabs(r.sum - ref.sum) <= 1e-9 * fabs(ref.sum),
                              "%s on %s x%u close to serial", c->workload, (*b)->name, cores);
            }
    }
    p.wl->teardown(p.state);
}



Test(workloads, every_backend_cores_variant_verifies_and_matches_serial, .timeout = 120)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

Test(workloads, dynamic_schedules_chunks_and_affinity_agree, .timeout = 60)
{
    static const struct case_size wave = {"paths", {"m=45", "n=31", NULL}};
    static const struct case_size red = {"pi", {"samples=77777", NULL}};
    const struct case_size *cs[] = {&wave, &red};
    for (int k = 0; k < 2; k++) {
        struct prepared p;
        struct sl_partial ref, r;
        prepare(cs[k], &p);
        run_once(&p, sl_backend_find("serial"), 1, SL_SCALAR, SL_SCHED_STATIC, 0, SL_AFF_NONE,
                 &ref);
        const char *names[] = {"openmp", "pool", "threads", "processes"};
        for (int b = 0; b < 4; b++)
            for (int sched = 0; sched < 3; sched++)
                for (uint64_t chunk = 0; chunk <= 7; chunk += 7)
                    for (int aff = 0; aff < 3; aff++) {
                        cr_assert_eq(run_once(&p, sl_backend_find(names[b]), 3, SL_VECTOR,
                                              (enum sl_schedule)sched, chunk,
                                              (enum sl_affinity)aff, &r),
                                     0);
                        cr_assert(r.count == ref.count && r.sum == ref.sum,
                                  "%s %s on %s schedule %d chunk %llu affinity %d", cs[k]->workload,
                                  "matches serial", names[b], sched, (unsigned long long)chunk, aff);
                    }
        p.wl->teardown(p.state);
    }
}

Test(workloads, verify_rejects_wrong_results)
{
    static const struct case_size cs[] = {
        {"pi", {"samples=100000", NULL}},    {"sumsq", {"n=1000", NULL}},
        {"paths", {"m=10", "n=12", NULL}},   {"sleep", {"tasks=3", "us=0", NULL}},
        {"matmul", {"n=16", NULL}},          {"euler", {"trajectories=4", "steps=100", NULL}},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        struct prepared p;
        struct sl_partial r;
        char msg[256] = "";
        double v;
        prepare(&cs[i], &p);
        run_once(&p, sl_backend_find("serial"), 1, SL_SCALAR, SL_SCHED_STATIC, 0, SL_AFF_NONE,
                 &r);
        cr_assert(p.wl->verify(p.state, &r, &v, msg, sizeof msg), "%s right result verifies",
                  cs[i].workload);
        /* Off by one unit, or for pi by far more than 5 sigma. */
        if (strcmp(cs[i].workload, "pi") == 0)
            r.count -= 2000;
        else
            r.count += 1, r.sum += 1;
        if (strcmp(cs[i].workload, "euler") == 0)
            r.sum += 1e-3;
        cr_assert_not(p.wl->verify(p.state, &r, &v, msg, sizeof msg), "%s wrong result refused",
                      cs[i].workload);
        cr_assert_neq(msg[0], '\0', "%s says why", cs[i].workload);
        p.wl->teardown(p.state);
    }
}

Test(workloads, pi_estimate_is_pi_and_independent_of_split)
{
    static const struct case_size c = {"pi", {"samples=1000000", NULL}};
    struct prepared p;
    struct sl_partial a, b;
    char msg[128];
    double v;
    prepare(&c, &p);
    run_once(&p, sl_backend_find("serial"), 1, SL_SCALAR, SL_SCHED_STATIC, 0, SL_AFF_NONE, &a);
    cr_assert(p.wl->verify(p.state, &a, &v, msg, sizeof msg));
    cr_assert(fabs(v - M_PI) < 0.01, "estimate %.6f near pi", v);
    /* Two halves computed separately add up to the whole: sample i is fixed by i alone. */
    memset(&b, 0, sizeof b);
    p.wl->kernel[SL_VECTOR](p.state, 0, 0, 123457, &b);
    p.wl->kernel[SL_SCALAR](p.state, 0, 123457, 1000000, &b);
    cr_assert_eq(a.count, b.count, "split at an odd point gives the same count");
    p.wl->teardown(p.state);
}

Test(workloads, paths_matches_closed_form_values)
{
    /* C(m+n-2, m-1): 3x3 -> 6, 3x7 -> 28, 10x10 -> 48620. */
    static const struct {
        const char *m, *n;
        uint64_t expect;
    } grid[] = {{"m=3", "n=3", 6}, {"m=3", "n=7", 28}, {"m=10", "n=10", 48620}};
    for (size_t i = 0; i < 3; i++) {
        struct case_size c = {"paths", {grid[i].m, grid[i].n, NULL}};
        struct prepared p;
        struct sl_partial r;
        prepare(&c, &p);
        run_once(&p, sl_backend_find("threads"), 2, SL_VECTOR, SL_SCHED_STATIC, 0, SL_AFF_NONE,
                 &r);
        cr_assert_eq(r.count, grid[i].expect, "%s %s gives %llu", grid[i].m, grid[i].n,
                     (unsigned long long)grid[i].expect);
        p.wl->teardown(p.state);
    }
}

Test(workloads, parameters_are_checked)
{
    const struct sl_workload *wl = sl_workload_find("pi");
    char msg[160];
    int k = sl_workload_param_index(wl, "samples");
    cr_assert_eq(sl_workload_check_param(wl, (unsigned)k, 1e9, msg, sizeof msg), 0);
    cr_assert_eq(sl_workload_check_param(wl, (unsigned)k, 0, msg, sizeof msg), -SL_ERANGE);
    cr_assert_not_null(strstr(msg, "pi.samples"), "message names the parameter: %s", msg);
    cr_assert_eq(sl_workload_check_param(wl, (unsigned)k, 2.5, msg, sizeof msg), -SL_EINVAL);
    cr_assert_eq(sl_workload_check_param(wl, (unsigned)k, NAN, msg, sizeof msg), -SL_EINVAL);
    cr_assert_eq(sl_workload_param_index(wl, "nope"), -1);
    cr_assert_null(sl_workload_find("nope"));
}
