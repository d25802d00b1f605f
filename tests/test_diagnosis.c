/* test_diagnosis.c — each cause from the evidence that should produce it, and only from that.
 *
 * Samples are built by hand the way the engine reports them (per-worker busy times, barrier
 * waits, phases, CPU time), so each test states the figure its cause must rest on, and checks
 * that the sentence quotes it.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "calibrate.h"
#include "sl.h"

#define MAXS 64

struct set {
    struct sl_sample s[MAXS];
    size_t n;
};

/* One verified, balanced, fully busy run; busy split evenly over the workers. */
static struct sl_sample *add(struct set *set, const char *backend, unsigned cores, double wall)
{
    cr_assert_lt(set->n, MAXS);
    struct sl_sample *s = &set->s[set->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->backend, sizeof s->backend, "%s", backend);
    s->cores = cores;
    s->variant = strcmp(backend, "serial") == 0 ? SL_SCALAR : SL_VECTOR;
    s->seq = (unsigned)set->n;
    s->size = 1e6;
    s->wall_s = wall;
    s->cpu_s = wall * cores;
    s->compute_s = wall;
    s->nbusy = cores;
    for (unsigned i = 0; i < cores; i++)
        s->busy_s[i] = wall;
    s->busy_max_s = s->busy_mean_s = wall;
    s->verified = 1;
    s->work = 1000;
    return s;
}

/* Three identical repeats of a run (a quiet machine). */
static struct sl_sample *add3(struct set *set, const char *backend, unsigned cores, double wall)
{
    add(set, backend, cores, wall);
    add(set, backend, cores, wall);
    return add(set, backend, cores, wall);
}

static void set_busy(struct sl_sample *s, const double *busy)
{
    double sum = 0, max = 0;
    for (unsigned i = 0; i < s->cores; i++) {
        s->busy_s[i] = busy[i];
        sum += busy[i];
        max = fmax(max, busy[i]);
    }
    s->busy_max_s = max;
    s->busy_mean_s = sum / s->cores;
}

static const struct sl_diagnosis *diag(const struct sl_analysis *a, const char *backend)
{
    for (size_t i = 0; i < a->nbackends; i++)
        if (strcmp(a->backends[i].backend, backend) == 0)
            return &a->backends[i].diagnosis;
    cr_assert_fail("no backend %s", backend);
    return NULL;
}

static void assert_cause(const struct sl_diagnosis *d, const char *cause, const char *figure,
                         double value, unsigned cores, const char *quoted)
{
    cr_assert_str_eq(d->cause, cause, "cause %s, want %s: %s", d->cause, cause, d->sentence);
    if (figure) {
        cr_assert_str_eq(d->figure, figure, "figure of %s", cause);
        cr_assert(fabs(d->value - value) <= 1e-9 * fmax(1, fabs(value)),
                  "%s = %.17g, want %.17g", figure, d->value, value);
        cr_assert_eq(d->cores, cores, "cores of the figure");
    }
    if (quoted)
        cr_assert(strstr(d->sentence, quoted), "the sentence quotes \"%s\": %s", quoted,
                  d->sentence);
}

/* euler with one trajectory: at 2 cores one worker does everything, nothing is gained. */
Test(diagnosis, one_chain_is_a_dependency)
{
    struct set set = {.n = 0};
    add3(&set, "serial", 1, 1.0);
    add3(&set, "threads", 1, 1.0);
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(&set, "threads", 2, 1.02);
        set_busy(s, (const double[]){1.0, 0.0});
        s->cpu_s = 1.02;
    }
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "threads"), "dependency", "speedup", 1.0 / 1.02, 2,
                 "speedup 0.98x at 2 cores");
    cr_assert(strstr(diag(a, "threads")->sentence, "one worker did all the work"));
    assert_cause(diag(a, "serial"), "baseline", NULL, 0, 0, NULL);
    sl_analysis_free(a);
}

/* sleep: CPU use 0.5% at every worker count, and more workers than CPUs still help. */
Test(diagnosis, waiting_workers_are_latency_bound)
{
    struct set set = {.n = 0};
    const unsigned cores[] = {1, 2, 4, 8};
    for (int i = 0; i < 4; i++)
        for (int r = 0; r < 3; r++) {
            struct sl_sample *s = add(&set, "threads", cores[i], 0.16 / cores[i]);
            s->cpu_s = 0.005 * s->wall_s * cores[i];
            s->vcsw = 32; /* every task blocks in its sleep */
            s->ivcsw = 1;
        }
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "threads"), "latency", "cpu_util", 0.005, 8, "CPU use is 0.5%");
    cr_assert(strstr(diag(a, "threads")->sentence, "speedup 8.00x at 8 workers"));
    if (a->host_cpus < 8)
        cr_assert(strstr(diag(a, "threads")->sentence, "oversubscribed"));
    sl_analysis_free(a);
}

/* A compute kernel starved by another tenant: low CPU use at 2 workers, but its 1-core run
 * was busy. That is not latency: the work does not wait, the machine was taken. */
Test(diagnosis, a_starved_kernel_is_not_latency_bound)
{
    struct set set = {.n = 0};
    add3(&set, "threads", 1, 1.0);
    for (int r = 0; r < 3; r++)
        add(&set, "threads", 2, 2.0)->cpu_s = 0.3;
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    cr_assert_str_neq(diag(a, "threads")->cause, "latency", "%s", diag(a, "threads")->sentence);
    sl_analysis_free(a);

    /* Even when the 1-core run was starved too: its CPU was taken (involuntary switches),
     * not given up. */
    set.n = 0;
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(&set, "threads", 1, 4.0);
        s->cpu_s = 0.4;
        s->ivcsw = 40;
        s->vcsw = 1;
        s = add(&set, "threads", 2, 4.0);
        s->cpu_s = 0.3;
        s->ivcsw = 40;
        s->vcsw = 3;
    }
    a = sl_analysis_new(set.s, set.n, 0, NULL);
    cr_assert_str_neq(diag(a, "threads")->cause, "latency", "%s", diag(a, "threads")->sentence);
    sl_analysis_free(a);
}

/* processes on small work: spawning and reaping the workers is most of the wall time. */
Test(diagnosis, small_work_on_processes_is_startup)
{
    struct set set = {.n = 0};
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(&set, "processes", 1, 0.0004);
        s->spawn_s = 0.0002;
        s->combine_s = 0.0001;
        s->compute_s = 0.0001;
        s = add(&set, "processes", 2, 0.0006);
        s->spawn_s = 0.0003;
        s->combine_s = 0.00015;
        s->compute_s = 0.00015;
    }
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "processes"), "startup", "startup_share", 0.75, 2, "takes 75% of the wall");
    sl_analysis_free(a);
}

/* paths: the workers wait at the barriers between diagonals, measured apart from kernel time. */
Test(diagnosis, barrier_waits_are_synchronisation)
{
    struct set set = {.n = 0};
    add3(&set, "threads", 1, 0.010);
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(&set, "threads", 2, 0.022);
        s->wait_s = 0.021;
        s->phases = 1000; /* 999 barriers: 21 us each */
        set_busy(s, (const double[]){0.001, 0.001});
    }
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    const struct sl_apoint *p = sl_analysis_point(a, "threads", 2, 1e6);
    cr_assert_float_eq(p->barrier_s, 0.021, 1e-12, "barrier_s is the median wait");
    assert_cause(diag(a, "threads"), "synchronisation", "barrier_share", 0.021 / 0.022, 2,
                 "for 95% of the wall time (21 ms of 22 ms in the median run, 21 us at each of "
                 "999 barriers)");
    sl_analysis_free(a);
}

/* paths on mpi: the same waits, between processes, are communication (SL_CAP_MESSAGES). */
Test(diagnosis, waits_of_ranks_are_communication)
{
    struct set set = {.n = 0};
    add3(&set, "mpi", 1, 0.010);
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(&set, "mpi", 2, 0.022);
        s->wait_s = 0.021;
        s->phases = 1000; /* 999 exchanges: 21 us each */
        set_busy(s, (const double[]){0.001, 0.001});
    }
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "mpi"), "communication", "barrier_share", 0.021 / 0.022, 2,
                 "exchanges boundary messages and waits for its neighbours between phases for "
                 "95% of the wall time (21 ms of 22 ms in the median run, 21 us at each of 999 "
                 "barriers)");
    sl_analysis_free(a);
}

/* pi on mpi with too little work: a run pays its messages, never the ranks' launch. */
Test(diagnosis, per_run_costs_of_ranks_are_communication)
{
    struct set set = {.n = 0};
    add3(&set, "mpi", 1, 0.0003);
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(&set, "mpi", 2, 0.0006);
        s->spawn_s = 0.0003;
        s->combine_s = 0.00015;
        s->compute_s = 0.00015;
    }
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "mpi"), "communication", "startup_share", 0.75, 2,
                 "their barrier and the gather of their partials take 75% of the wall time (450 us of "
                 "600 us in the median run)");
    sl_analysis_free(a);
}

/* sumsq: 2 cores read 28.8 GB/s against a calibrated 32: the memory is the limit. */
static struct sl_analysis *sumsq(double gbs2, const struct sl_calib *cal)
{
    struct set set = {.n = 0};
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(&set, "simd", 1, 0.05);
        s->bytes = 8e8;   /* 16 GB/s on 1 core */
        s->flops = 2e8;   /* 0.25 flop per byte */
        s = add(&set, "threads", 2, 0.8 / gbs2);
        s->bytes = 8e8;
        s->flops = 2e8;
    }
    return sl_analysis_new(set.s, set.n, 0, cal);
}

Test(diagnosis, streaming_at_the_calibrated_limit_is_bandwidth)
{
    const struct sl_calib cal = {.threads = 2, .read_gbs_1 = 20, .read_gbs_all = 32};
    struct sl_analysis *a = sumsq(28.8, &cal);
    assert_cause(diag(a, "threads"), "bandwidth", "bw_fraction", 28.8 / 32, 2,
                 "is 90% of this host's calibrated read bandwidth at 2 threads");
    cr_assert_null(strstr(diag(a, "threads")->sentence, "suspect"));
    assert_cause(diag(a, "simd"), "baseline", NULL, 0, 0, NULL);
    sl_analysis_free(a);
}

/* Above the calibrated bandwidth is impossible: never stated as a fraction of it. */
Test(diagnosis, above_the_calibrated_bandwidth_calls_the_calibration_suspect)
{
    const struct sl_calib cal = {.threads = 2, .read_gbs_1 = 20, .read_gbs_all = 20};
    struct sl_analysis *a = sumsq(30.6, &cal);
    assert_cause(diag(a, "threads"), "bandwidth", "bw_fraction", 30.6 / 20, 2, "suspect");
    sl_analysis_free(a);

    /* The calibration: 2 threads measured slower than 1. */
    const struct sl_calib bad = {.threads = 2, .read_gbs_1 = 20, .read_gbs_all = 13};
    a = sumsq(19, &bad);
    cr_assert(a->calib_suspect, "a calibration reading slower on more threads is suspect");
    assert_cause(diag(a, "threads"), "bandwidth", "bw_fraction", 19.0 / 13, 2,
                 "the calibration is suspect");
    json_t *o = sl_analysis_to_json(a);
    const json_t *c = json_object_get(o, "calibration");
    cr_assert_str_eq(json_string_value(json_object_get(c, "status")), "suspect");
    cr_assert(json_is_string(json_object_get(c, "note")));
    json_decref(o);
    sl_analysis_free(a);
}

Test(diagnosis, streaming_without_calibration_looks_memory_bound)
{
    struct sl_analysis *a = sumsq(17, NULL);
    assert_cause(diag(a, "threads"), "bandwidth", "gbs", 17, 2, "calibrate");
    cr_assert(strstr(diag(a, "threads")->sentence, "0.25 flop per byte"));
    sl_analysis_free(a);
}

/* euler with 3 trajectories on 2 workers: worker 0 gets two, worker 1 one and then idles. */
Test(diagnosis, an_uneven_split_is_imbalance_naming_the_idle_worker)
{
    struct set set = {.n = 0};
    add3(&set, "openmp", 1, 0.3);
    for (int r = 0; r < 3; r++)
        set_busy(add(&set, "openmp", 2, 0.2), (const double[]){0.2, 0.1});
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "openmp"), "imbalance", "imbalance", 0.2 / 0.15, 2,
                 "worker 1, the least busy in 100% of the runs, was busy only 50% as long");
    sl_analysis_free(a);
}

/* Preemption on a shared machine also skews busy times, but a different worker each run:
 * that is not an uneven split. */
Test(diagnosis, a_different_idle_worker_each_run_is_not_imbalance)
{
    struct set set = {.n = 0};
    add3(&set, "openmp", 1, 0.3);
    set_busy(add(&set, "openmp", 2, 0.2), (const double[]){0.2, 0.1});
    set_busy(add(&set, "openmp", 2, 0.2), (const double[]){0.1, 0.2});
    set_busy(add(&set, "openmp", 2, 0.2), (const double[]){0.2, 0.1});
    set_busy(add(&set, "openmp", 2, 0.2), (const double[]){0.1, 0.2});
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    cr_assert_float_eq(sl_analysis_point(a, "openmp", 2, 1e6)->idle_share, 0.5, 1e-12);
    cr_assert_str_neq(diag(a, "openmp")->cause, "imbalance", "%s", diag(a, "openmp")->sentence);
    sl_analysis_free(a);
}

Test(diagnosis, good_scaling_says_so)
{
    struct set set = {.n = 0};
    add3(&set, "simd", 1, 1.0);
    add3(&set, "openmp", 1, 1.0);
    add3(&set, "openmp", 2, 0.52);
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "openmp"), "scales_well", "efficiency", 1.0 / 0.52 / 2, 2,
                 "speedup 1.92x on 2 cores against simd, 1 core");
    sl_analysis_free(a);
}

Test(diagnosis, noisy_points_carry_no_claim)
{
    struct set set = {.n = 0};
    add3(&set, "threads", 1, 1.0);
    add(&set, "threads", 2, 0.5);
    add(&set, "threads", 2, 0.75);
    add(&set, "threads", 2, 1.4);
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    const struct sl_apoint *p = sl_analysis_point(a, "threads", 2, 1e6);
    cr_assert(p->noisy, "CV %.2f is noisy", p->wall.cv);
    assert_cause(diag(a, "threads"), "noisy", "cv", p->wall.cv, 2, p->noise);
    sl_analysis_free(a);
}

Test(diagnosis, one_core_count_is_insufficient)
{
    struct set set = {.n = 0};
    add3(&set, "threads", 2, 0.5);
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "threads"), "insufficient", NULL, 0, 0, "add 1 to the core counts");
    json_t *o = sl_analysis_to_json(a);
    const json_t *d = json_object_get(json_array_get(json_object_get(o, "backends"), 0),
                                      "diagnosis");
    cr_assert_str_eq(json_string_value(json_object_get(d, "cause")), "insufficient");
    cr_assert(json_is_null(json_object_get(d, "figure")), "no figure, null");
    json_decref(o);
    sl_analysis_free(a);
}

Test(diagnosis, simd_names_the_vectorisation_gain)
{
    struct set set = {.n = 0};
    add3(&set, "serial", 1, 4.0);
    add3(&set, "simd", 1, 1.0);
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "simd"), "baseline", "vectorisation_gain", 4.0, 1,
                 "4.00x over serial is the vectorisation gain, not parallelism");
    json_t *o = sl_analysis_to_json(a);
    const json_t *f = json_object_get(
        json_object_get(json_array_get(json_object_get(o, "backends"), 1), "diagnosis"), "figure");
    cr_assert_str_eq(json_string_value(json_object_get(f, "name")), "vectorisation_gain");
    cr_assert_float_eq(json_number_value(json_object_get(f, "value")), 4.0, 1e-12);
    cr_assert_eq(json_integer_value(json_object_get(f, "cores")), 1);
    json_decref(o);
    sl_analysis_free(a);
}

/* A worker slowed by another tenant still did its share: that is not a dependency chain,
 * even when the speedup is lost. */
Test(diagnosis, a_slowed_worker_is_not_a_dependency)
{
    struct set set = {.n = 0};
    add3(&set, "openmp", 1, 1.0);
    for (int r = 0; r < 3; r++)
        set_busy(add(&set, "openmp", 2, 1.1), (const double[]){1.0, 0.1});
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    cr_assert_str_neq(diag(a, "openmp")->cause, "dependency", "%s", diag(a, "openmp")->sentence);
    sl_analysis_free(a);
}

/* Threads started late by a busy machine in some runs are not a start-up cost: that cost is
 * paid in every run. */
Test(diagnosis, late_starts_in_some_runs_are_not_startup)
{
    struct set set = {.n = 0};
    const double spawn[] = {0.016, 0.012, 0.001};
    add3(&set, "threads", 1, 0.02);
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(&set, "threads", 2, 0.02);
        s->spawn_s = spawn[r];
    }
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    const struct sl_apoint *p = sl_analysis_point(a, "threads", 2, 1e6);
    cr_assert_float_eq(p->startup_min, 0.05, 1e-12, "the lowest share of any run");
    cr_assert_str_neq(diag(a, "threads")->cause, "startup", "%s", diag(a, "threads")->sentence);
    sl_analysis_free(a);
}

/* A compute kernel that got a third of a CPU on one worker: the machine was busy, and the
 * shares of wall time it would otherwise blame (start-up here) are inflated by waiting for a
 * CPU. The engine says so instead of naming a cause. */
Test(diagnosis, a_busy_machine_is_said_not_blamed)
{
    struct set set = {.n = 0};
    for (int r = 0; r < 3; r++) {
        add(&set, "threads", 1, 0.03)->cpu_s = 0.01;
        struct sl_sample *s = add(&set, "threads", 2, 0.03);
        s->spawn_s = 0.02; /* threads started late: waiting for a CPU */
        s->cpu_s = 0.02;
    }
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "threads"), "noisy", "cpu_util", 1.0 / 3, 1,
                 "the machine was busy: on 1 core threads got only 33% of a CPU");
    sl_analysis_free(a);
}

/* Python threads at the GIL (py-pi-threading): at 2 workers one core busy, as on 1, and the
 * threads block waiting for the lock (measured: 216 voluntary switches a run, 24 involuntary). */
static void gil_samples(struct set *set, double vcsw, double ivcsw, double cpu_one)
{
    for (int r = 0; r < 3; r++) {
        struct sl_sample *s = add(set, "py-pi-threading", 1, 0.40);
        s->cpu_s = cpu_one * 0.40;
        s->vcsw = 6;
        s->ivcsw = 9;
        s = add(set, "py-pi-threading", 2, 0.55);
        s->cpu_s = 0.55; /* 1.00 core busy of 2 */
        s->vcsw = vcsw;
        s->ivcsw = ivcsw;
    }
}

Test(diagnosis, threads_taking_turns_at_a_lock_are_serialised)
{
    struct set set = {.n = 0};
    gil_samples(&set, 216, 24, 1.0);
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    assert_cause(diag(a, "py-pi-threading"), "serialised", "cores_busy", 1.0, 2,
                 "kept only 1.00 cores busy");
    cr_assert(strstr(diag(a, "py-pi-threading")->sentence, "gave the CPU up 216 times a run against 24"),
              "%s", diag(a, "py-pi-threading")->sentence);
    cr_assert(strstr(diag(a, "py-pi-threading")->sentence, "GIL"));
    sl_analysis_free(a);
}

/* The same low CPU use from preemption (another tenant's load) is not a lock... */
Test(diagnosis, preempted_workers_are_not_serialised)
{
    struct set set = {.n = 0};
    gil_samples(&set, 24, 216, 1.0);
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    cr_assert_str_neq(diag(a, "py-pi-threading")->cause, "serialised", "%s",
                      diag(a, "py-pi-threading")->sentence);
    sl_analysis_free(a);
    /* ...nor when the 1-core run was starved too (the machine was busy)... */
    set.n = 0;
    gil_samples(&set, 216, 24, 0.5);
    a = sl_analysis_new(set.s, set.n, 0, NULL);
    cr_assert_str_neq(diag(a, "py-pi-threading")->cause, "serialised", "%s",
                      diag(a, "py-pi-threading")->sentence);
    sl_analysis_free(a);
    /* ...nor a route whose workers both compute (a process pool: 1.7 cores busy). */
    set.n = 0;
    for (int r = 0; r < 3; r++) {
        add(&set, "py-pi-mp-pool", 1, 0.56)->vcsw = 42;
        struct sl_sample *s = add(&set, "py-pi-mp-pool", 2, 0.33);
        s->cpu_s = 1.7 * 0.33;
        s->vcsw = 48;
        s->ivcsw = 38;
    }
    a = sl_analysis_new(set.s, set.n, 0, NULL);
    cr_assert_str_neq(diag(a, "py-pi-mp-pool")->cause, "serialised", "%s",
                      diag(a, "py-pi-mp-pool")->sentence);
    sl_analysis_free(a);
}

/* A program group's baseline route runs at 1 core: it is the reference, not "insufficient". */
Test(diagnosis, a_groups_baseline_route_is_the_reference)
{
    struct set set = {.n = 0};
    gil_samples(&set, 216, 24, 1.0);
    add3(&set, "py-pi-loop", 1, 0.39);
    struct sl_analysis *a = sl_analysis_new_baseline(set.s, set.n, 0, NULL, "py-pi-loop");
    assert_cause(diag(a, "py-pi-loop"), "baseline", "median_s", 0.39, 1,
                 "py-pi-loop is the group's reference");
    cr_assert_str_eq(diag(a, "py-pi-threading")->cause, "serialised");
    sl_analysis_free(a);
    /* Without a group baseline the same lone 1-core curve is one core count short. */
    a = sl_analysis_new(set.s, set.n, 0, NULL);
    cr_assert_str_eq(diag(a, "py-pi-loop")->cause, "insufficient");
    sl_analysis_free(a);
}

/* Two repeats, one uneven and one even: the median imbalance is high, but the median run (the
 * one the chart and the sentence show) is balanced: no imbalance claim about it. */
Test(diagnosis, imbalance_is_claimed_only_where_the_median_run_shows_it)
{
    struct set set = {.n = 0};
    add(&set, "threads", 1, 0.3);
    add(&set, "threads", 1, 0.3);
    set_busy(add(&set, "threads", 2, 0.20), (const double[]){0.2, 0.19});  /* the median run */
    set_busy(add(&set, "threads", 2, 0.21), (const double[]){0.21, 0.02}); /* worker 1 idle */
    struct sl_analysis *a = sl_analysis_new(set.s, set.n, 0, NULL);
    const struct sl_apoint *p = sl_analysis_point(a, "threads", 2, 1e6);
    cr_assert_geq(p->imbalance, 1.2, "the median imbalance is high: %g", p->imbalance);
    cr_assert_lt(p->median_run.imbalance, 1.1, "the median run is even");
    cr_assert_str_neq(diag(a, "threads")->cause, "imbalance", "%s", diag(a, "threads")->sentence);
    sl_analysis_free(a);
}
