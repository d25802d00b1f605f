/* test_sweep.c — the measurement protocol: points planned, runs interleaved and counted,
 * times and counters recorded, failures reported instead of hanging.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"
#include "sl.h"
#include "sweep.h"

static struct sl_job parse(const char *text)
{
    struct sl_job job;
    struct sl_job_limits lim = {.max_cores = 2, .max_memory = 4e9};
    char err[256];
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    cr_assert_not_null(o, "test JSON parses: %s", e.text);
    int rc = sl_job_from_json(o, &lim, &job, err, sizeof err);
    cr_assert_eq(rc, 0, "job accepted: %s", err);
    json_decref(o);
    return job;
}

#define MAXM 256
struct record {
    unsigned n, progress_calls, last_done, last_total;
    struct sl_measurement m[MAXM];
    uint64_t busy_max[MAXM];
    uint64_t busy[MAXM][2], wait[MAXM][2]; /* the first two workers' times (the pointers in
                                            * m[] die with the sweep) */
    unsigned stop_after;
};

static int on_measure(void *ctx, const struct sl_measurement *m)
{
    struct record *r = ctx;
    cr_assert_lt(r->n, MAXM);
    uint64_t bmax = 0;
    for (unsigned i = 0; i < m->cores; i++)
        bmax = m->busy_ns[i] > bmax ? m->busy_ns[i] : bmax;
    r->busy_max[r->n] = bmax;
    for (unsigned i = 0; i < m->cores && i < 2; i++) {
        r->busy[r->n][i] = m->busy_ns[i];
        r->wait[r->n][i] = m->wait_ns ? m->wait_ns[i] : 0;
    }
    r->m[r->n++] = *m;
    return r->stop_after && r->n >= r->stop_after;
}

static void on_progress(void *ctx, unsigned done, unsigned total, const char *what)
{
    struct record *r = ctx;
    cr_assert_not_null(what);
    cr_assert_eq(done, r->last_done + 1, "progress counts up by one");
    r->progress_calls++;
    r->last_done = done;
    r->last_total = total;
}

Test(sweep, runs_every_point_repeats_times_interleaved)
{
    struct sl_job job = parse("{\"workload\":\"pi\",\"params\":{\"samples\":20000},"
                              "\"backends\":[\"serial\",\"threads\",\"processes\"],"
                              "\"cores\":[1,2],\"repeats\":3,\"warmup\":2}");
    struct sl_sweep *s = sl_sweep_new(&job);
    static struct record r;
    char err[256];
    memset(&r, 0, sizeof r);
    cr_assert_not_null(s);
    /* serial once, threads and processes at 1 and 2 cores. */
    cr_assert_eq(sl_sweep_npoints(s), 5);
    cr_assert_eq(sl_sweep_timed_runs(s), 15);
    cr_assert_eq(sl_sweep_all_runs(s), 25);
    cr_assert_eq(sl_sweep_run(s, on_measure, on_progress, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.n, 15);
    cr_assert_eq(r.progress_calls, 25, "warm-up runs are reported as progress");
    cr_assert_eq(r.last_total, 25);
    unsigned per_point[5] = {0};
    for (unsigned i = 0; i < r.n; i++) {
        const struct sl_measurement *m = &r.m[i];
        cr_assert_eq(m->seq, i + 1);
        cr_assert_eq(m->total, 15);
        cr_assert(m->verified, "run %u verified: %s", i, m->message);
        cr_assert_gt(m->wall_ns, 0);
        cr_assert_geq(m->wall_ns, r.busy_max[i], "wall time covers the busiest worker");
        cr_assert_leq(m->spawn_ns + m->compute_ns + m->combine_ns, m->wall_ns,
                      "phase times fit inside the wall time");
        cr_assert_eq(m->overhead_ns, m->wall_ns - r.busy_max[i]);
        cr_assert_eq(m->shape.work, 20000);
        cr_assert_eq(m->size, 20000);
        cr_assert_eq(m->rep, i / 5, "round %u", i / 5);
        per_point[m->point]++;
    }
    for (int p = 0; p < 5; p++)
        cr_assert_eq(per_point[p], 3, "point %d measured repeats times", p);
    /* The order rotates: each round starts with a different point. */
    cr_assert_neq(r.m[0].point, r.m[5].point);
    cr_assert_neq(r.m[5].point, r.m[10].point);
    /* Processes' children are accounted: their CPU time shows up. */
    for (unsigned i = 0; i < r.n; i++)
        if (strcmp(r.m[i].backend, "processes") == 0)
            cr_assert_gt(r.m[i].minflt + r.m[i].user_ns + r.m[i].sys_ns, 0);
    sl_sweep_free(s);
}

Test(sweep, weak_scaling_grows_the_size_with_cores)
{
    struct sl_job job = parse("{\"workload\":\"pi\",\"params\":{\"samples\":1000},"
                              "\"backends\":[\"serial\",\"openmp\"],\"cores\":[1,2],"
                              "\"scaling\":\"weak\",\"repeats\":1,\"warmup\":0}");
    struct sl_sweep *s = sl_sweep_new(&job);
    static struct record r;
    char err[256];
    memset(&r, 0, sizeof r);
    cr_assert_eq(sl_sweep_size(s, 0), 1000);
    cr_assert_eq(sl_sweep_size(s, 1), 2000);
    /* serial gets a baseline at every size, openmp runs size 1000 on 1 core and 2000 on 2. */
    cr_assert_eq(sl_sweep_npoints(s), 4);
    cr_assert_eq(sl_sweep_run(s, on_measure, NULL, &r, err, sizeof err), 0, "%s", err);
    for (unsigned i = 0; i < r.n; i++) {
        const struct sl_measurement *m = &r.m[i];
        if (strcmp(m->backend, "openmp") == 0)
            cr_assert_eq(m->size, 1000.0 * m->cores, "openmp at %u cores has size %g", m->cores,
                         m->size);
        cr_assert_eq(m->shape.work, (uint64_t)m->size);
    }
    sl_sweep_free(s);
}

Test(sweep, a_callback_can_stop_it)
{
    struct sl_job job = parse("{\"workload\":\"sleep\",\"params\":{\"tasks\":2,\"us\":0},"
                              "\"backends\":[\"serial\"],\"repeats\":10,\"warmup\":0}");
    struct sl_sweep *s = sl_sweep_new(&job);
    static struct record r;
    char err[256];
    memset(&r, 0, sizeof r);
    r.stop_after = 3;
    cr_assert_eq(sl_sweep_run(s, on_measure, NULL, &r, err, sizeof err), 1);
    cr_assert_eq(r.n, 3);
    sl_sweep_free(s);
}

/* A test-only wavefront whose worker 1 dies in phase 1: the others wait at the barrier. */
struct crash_state {
    pid_t parent;
};

static void crash_kernel(void *st, unsigned phase, uint64_t b, uint64_t e, struct sl_partial *o)
{
    const struct crash_state *s = st;
    (void)e;
    (void)o;
    if (phase == 1 && b > 0 && getpid() != s->parent)
        raise(SIGSEGV);
}

static uint64_t crash_items(const void *st, unsigned phase)
{
    (void)st;
    (void)phase;
    return 4;
}

static const struct sl_workload crash_wl = {
    .name = "crash",
    .items = crash_items,
    .kernel = {crash_kernel, crash_kernel},
};

Test(sweep, a_dying_worker_process_fails_the_run_without_hanging, .timeout = 20)
{
    struct crash_state st = {getpid()};
    uint64_t busy[2];
    struct sl_exec x = {.wl = &crash_wl,
                        .state = &st,
                        .kernel = crash_kernel,
                        .phases = 3,
                        .workers = 2};
    struct sl_timing t = {.busy_ns = busy};
    int rc = sl_backend_find("processes")->run(&x, &t);
    cr_assert_eq(rc, -SL_ECHILD);
    cr_assert_not_null(strstr(sl_backend_last_error(), "signal"), "says how it died: %s",
                       sl_backend_last_error());
    /* No child is left behind. */
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "every worker was reaped");
}

/* Run a job through the sweep and keep every measurement. */
static void sweep_job(const char *text, struct record *r)
{
    struct sl_job job = parse(text);
    struct sl_sweep *s = sl_sweep_new(&job);
    char err[256];
    memset(r, 0, sizeof *r);
    cr_assert_not_null(s);
    cr_assert_eq(sl_sweep_run(s, on_measure, NULL, r, err, sizeof err), 0, "sweep: %s", err);
    sl_sweep_free(s);
    sl_backends_shutdown();
}

/* The test-only workload (crash.c) in mode 1: a worker other than the first adds one too
 * many. Runs on 2 workers must fail their verification; the sweep must not call them good. */
Test(sweep, a_wrong_result_is_not_verified)
{
    setenv("SCALELAB_TEST_WORKLOADS", "1", 1);
    struct record r;
    sweep_job("{\"workload\":\"crash\",\"params\":{\"mode\":1},\"backends\":[\"serial\","
              "\"threads\",\"processes\"],\"cores\":[1,2],\"repeats\":2,\"warmup\":0}",
              &r);
    cr_assert_eq(r.n, 10, "serial x1, threads and processes x1 and x2, twice");
    for (unsigned i = 0; i < r.n; i++) {
        const struct sl_measurement *m = &r.m[i];
        if (m->cores == 1) {
            cr_assert_eq(m->verified, 1, "%s on 1 core verifies", m->backend);
        } else {
            cr_assert_eq(m->verified, 0, "%s on 2 cores is wrong and must not verify",
                         m->backend);
            cr_assert(strstr(m->message, "count 17, expected 16"), "says why: %s", m->message);
        }
    }
}

/* Mode 2: every result passes its own check, but a split run's differs bit for bit from the
 * first run's. The workload is exact, so the sweep's comparison must refuse it. */
Test(sweep, an_exact_workload_must_match_bit_for_bit)
{
    setenv("SCALELAB_TEST_WORKLOADS", "1", 1);
    struct record r;
    sweep_job("{\"workload\":\"crash\",\"params\":{\"mode\":2},\"backends\":[\"serial\","
              "\"openmp\"],\"cores\":[1,2],\"repeats\":2,\"warmup\":0}",
              &r);
    unsigned refused = 0;
    for (unsigned i = 0; i < r.n; i++) {
        const struct sl_measurement *m = &r.m[i];
        cr_assert_eq(m->verified, m->cores == 1, "%s x%u: verified %d", m->backend, m->cores,
                     m->verified);
        if (m->cores == 2) {
            refused++;
            cr_assert(strstr(m->message, "result differs from serial at 1 core"),
                      "names the reference: %s", m->message);
        }
    }
    cr_assert_eq(refused, 2, "both 2-core runs refused");
}

/* The processes backend computes in children: their CPU time must be counted (waited
 * children's rusage), or CPU use and the latency diagnosis would be wrong. The same work on
 * simd (one core, in the engine itself) says how much CPU it takes; CPU time, unlike wall
 * time, does not depend on how busy the shared machine is. The parent of the processes
 * backend only forks and waits, so without the children it would have next to nothing. */
Test(sweep, children_cpu_time_is_counted, .timeout = 60)
{
    struct record r;
    sweep_job("{\"workload\":\"pi\",\"params\":{\"samples\":2e8},\"backends\":[\"simd\","
              "\"processes\"],\"cores\":[2],\"repeats\":2,\"warmup\":0}",
              &r);
    double simd = 0, procs = 0;
    for (unsigned i = 0; i < r.n; i++) {
        double cpu = (double)(r.m[i].user_ns + r.m[i].sys_ns);
        if (strcmp(r.m[i].backend, "simd") == 0)
            simd = fmax(simd, cpu);
        else
            procs = procs == 0 ? cpu : fmin(procs, cpu);
    }
    cr_assert_gt(simd, 5e6, "the work takes CPU time (%g ns on simd)", simd);
    cr_assert_geq(procs, 0.5 * simd, "processes' CPU time %g ns holds its children's work "
                  "(simd needed %g ns)", procs, simd);
}

/* Barrier waits are recorded apart from kernel time, per worker, on every phased backend. */
Test(sweep, barrier_waits_are_recorded_apart, .timeout = 60)
{
    static const char *const backends[] = {"threads", "processes", "pool", "openmp"};
    for (int b = 0; b < 4; b++) {
        char job[256];
        struct record r;
        snprintf(job, sizeof job,
                 "{\"workload\":\"paths\",\"params\":{\"m\":300,\"n\":300},\"backends\":"
                 "[\"%s\"],\"cores\":[2],\"repeats\":1,\"warmup\":0}", backends[b]);
        sweep_job(job, &r);
        const struct sl_measurement *m = &r.m[0];
        uint64_t wait = r.wait[0][0] + r.wait[0][1];
        cr_assert_gt(wait, 0, "%s: 599 barriers cost some waiting", backends[b]);
        for (unsigned w = 0; w < 2; w++)
            cr_assert_leq(r.busy[0][w] + r.wait[0][w], m->wall_ns,
                          "%s worker %u: kernel + wait within the wall time", backends[b], w);
    }
}
