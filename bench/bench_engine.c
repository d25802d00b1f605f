/* bench_engine.c — `make bench`: the engine's speed goals, each printed next to its target.
 *
 * Every figure comes from a real sweep through the same library the CLI uses (job, sweep,
 * analysis), measured in this one process run, so ratios (efficiency, fraction of the
 * calibrated bandwidth) compare numbers taken minutes apart on the same machine. The
 * machine is shared: figures are medians of interleaved repetitions, and a miss is printed,
 * not hidden; the exit status is 0 either way (a benchmark is not a test).
 * Python figures for comparison are from ../shared/reference/perf-anchors-2026-11-21.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "calibrate.h"
#include "job.h"
#include "ompenv.h"
#include "sweep.h"

struct collected {
    struct sl_sample *s;   /* every timed run */
    double *comm_s;        /* beside each: time inside MPI calls (0 without ranks) */
    size_t n, cap;
    unsigned unverified;   /* runs that failed verification */
    double launch_s[SL_MAX_CORE_COUNTS + 1]; /* mpi: starting the ranks, by cores (<= 64) */
};

static int collect(void *ctx, const struct sl_measurement *m)
{
    struct collected *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 128;
        c->s = realloc(c->s, c->cap * sizeof *c->s);
        c->comm_s = realloc(c->comm_s, c->cap * sizeof *c->comm_s);
        if (!c->s || !c->comm_s)
            return 1;
    }
    c->comm_s[c->n] = (double)m->comm_ns * 1e-9;
    if (m->nhosts && m->cores <= SL_MAX_CORE_COUNTS)
        c->launch_s[m->cores] = (double)m->launch_ns * 1e-9;
    sl_measurement_to_sample(m, &c->s[c->n++]);
    c->unverified += !m->verified;
    return 0;
}

/* Run a job given as JSON; returns its analysis (caller frees) and fills *c. */
static struct sl_analysis *run_job(const char *text, const struct sl_calib *calib,
                                   struct collected *c, double *elapsed_s)
{
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    struct sl_job job;
    struct sl_job_limits lim;
    char err[512];
    sl_job_limits_default(&lim);
    if (!o || sl_job_from_json(o, &lim, &job, err, sizeof err) != 0) {
        fprintf(stderr, "bench: bad job %s: %s\n", text, o ? err : e.text);
        exit(1);
    }
    json_decref(o);
    struct sl_sweep *s = sl_sweep_new(&job);
    memset(c, 0, sizeof *c);
    uint64_t t0 = sl_now_ns();
    if (!s || sl_sweep_run(s, collect, NULL, c, err, sizeof err) != 0) {
        fprintf(stderr, "bench: sweep failed: %s\n", err);
        exit(1);
    }
    *elapsed_s = (double)(sl_now_ns() - t0) * 1e-9;
    sl_sweep_free(s);
    if (c->unverified)
        fprintf(stderr, "bench: %u runs failed verification\n", c->unverified);
    return sl_analysis_new(c->s, c->n, job.weak, calib);
}

/* Free a section's analysis and the runs it collected. */
static void done_with(struct sl_analysis *a, struct collected *c)
{
    sl_analysis_free(a);
    free(c->s);
    free(c->comm_s);
    c->s = NULL;
    c->comm_s = NULL;
}

static const struct sl_apoint *point(const struct sl_analysis *a, const char *be, unsigned cores)
{
    for (size_t i = 0; i < a->npoints; i++)
        if (a->points[i].cores == cores && strcmp(a->points[i].backend, be) == 0)
            return &a->points[i];
    return NULL;
}

static unsigned met, total;

/* One line: what, figure, target (higher is better unless lower != 0). A NaN target makes
 * an informational line that no target is counted for. */
static void report(const char *what, double figure, const char *unit, double target, int lower,
                   const char *note)
{
    if (isnan(target)) {
        printf("%-44s %12.4g %-9s %-27s %s\n", what, figure, unit, "(figure only)",
               note ? note : "");
        return;
    }
    int ok = lower ? figure <= target : figure >= target;
    met += ok;
    total++;
    printf("%-44s %12.4g %-9s target %s %-10.4g %-4s %s\n", what, figure, unit, lower ? "<=" : ">=",
           target, ok ? "ok" : "MISS", note ? note : "");
}

/* Median of one figure (get) over a backend's runs at `cores`. */
static double median_of(const struct collected *c, const char *be, unsigned cores,
                        double (*get)(const struct collected *, size_t))
{
    double *x = malloc((c->n ? c->n : 1) * sizeof *x);
    size_t k = 0;
    struct sl_summary s;
    for (size_t i = 0; i < c->n; i++)
        if (c->s[i].cores == cores && strcmp(c->s[i].backend, be) == 0)
            x[k++] = get(c, i);
    double m = sl_stats_summarize(x, k, &s, NULL) == 0 ? s.median : NAN;
    free(x);
    return m;
}

static double overhead_of(const struct collected *c, size_t i) { return c->s[i].overhead_s; }
static double comm_of(const struct collected *c, size_t i) { return c->comm_s[i]; }

/* Median overhead (s) of a backend's runs at `cores`. */
static double median_overhead(const struct collected *c, const char *be, unsigned cores)
{
    return median_of(c, be, cores, overhead_of);
}

/* Parallel efficiency T(1) / (p T(p)) from the runs of the same round paired up (each round
 * runs every point once, so the k-th run of each point is from round k): a ratio of runs
 * taken moments apart, so slow drift of a shared machine cancels. Median over rounds. */
static double paired_efficiency(const struct collected *c, const char *be, unsigned p)
{
    double *t1 = malloc(c->n * sizeof *t1), *tp = malloc(c->n * sizeof *tp);
    size_t n1 = 0, np = 0;
    struct sl_summary s;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->s[i].backend, be) != 0)
            continue;
        if (c->s[i].cores == 1)
            t1[n1++] = c->s[i].wall_s;
        else if (c->s[i].cores == p)
            tp[np++] = c->s[i].wall_s;
    }
    size_t k = n1 < np ? n1 : np;
    for (size_t i = 0; i < k; i++)
        t1[i] = t1[i] / (p * tp[i]);
    double m = sl_stats_summarize(t1, k, &s, NULL) == 0 ? s.median : NAN;
    free(t1);
    free(tp);
    return m;
}

/* Report a backend's efficiency at p cores: paired (the figure) and ratio of medians. */
static void report_efficiency(const char *workload, const struct collected *c,
                              const struct sl_analysis *a, const char *be, unsigned p,
                              double target)
{
    char what[80], note[96];
    snprintf(what, sizeof what, "%s %s %u cores, parallel efficiency", workload, be, p);
    snprintf(note, sizeof note, "(paired by round; ratio of medians %.3f)",
             point(a, be, p)->efficiency);
    report(what, paired_efficiency(c, be, p), "", target, 0, note);
}

/* Median over the runs of a backend at `cores` of time inside MPI calls, in s. */
static double median_comm(const struct collected *c, const char *be, unsigned cores)
{
    return median_of(c, be, cores, comm_of);
}

/* Median wall time (s) of a backend's runs in c, appended from several sweeps. */
static double median_wall(const struct collected *c, const char *be)
{
    double *x = malloc((c->n ? c->n : 1) * sizeof *x);
    size_t k = 0;
    struct sl_summary s;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->s[i].backend, be) == 0)
            x[k++] = c->s[i].wall_s;
    double m = sl_stats_summarize(x, k, &s, NULL) == 0 ? s.median : NAN;
    free(x);
    return m;
}

/* 6. MPI: ranks started once per core count, so a run pays a barrier, a gather and a socket
 * round trip, never the launch (reported apart). */
static void bench_mpi(const struct sl_calib *calib, struct collected *c, int quick)
{
    char why[160], job[512], what[96], note[96];
    double elapsed;
    const struct sl_backend *mpi = sl_backend_find("mpi");
    if (!mpi || mpi->probe(why, sizeof why) != 0) {
        printf("mpi: skipped (%s)\n", mpi ? why : "not built");
        return;
    }
    snprintf(job, sizeof job,
             "{\"workload\":\"pi\",\"params\":{\"samples\":%s},\"backends\":[\"threads\","
             "\"mpi\"],\"cores\":[1,2],\"repeats\":%s,\"warmup\":1}",
             quick ? "1e8" : "3e8", quick ? "5" : "9");
    struct sl_analysis *a = run_job(job, calib, c, &elapsed);
    /* threads beside it, in the same rounds: the reference for what this machine allows */
    report_efficiency("pi", c, a, "threads", 2, NAN);
    report_efficiency("pi", c, a, "mpi", 2, 0.95);
    for (unsigned p = 1; p <= 2; p++) {
        snprintf(what, sizeof what, "mpi launch of %u rank%s (mpirun to last hello)", p,
                 p > 1 ? "s" : "");
        report(what, c->launch_s[p] * 1e3, "ms", NAN, 1, "(reported; once per core count)");
    }
    done_with(a, c);

    snprintf(job, sizeof job,
             "{\"workload\":\"pi\",\"params\":{\"samples\":1000},\"backends\":[\"threads\","
             "\"mpi\"],\"cores\":[1,2],\"repeats\":%s,\"warmup\":1}",
             quick ? "20" : "50");
    a = run_job(job, calib, c, &elapsed);
    for (unsigned p = 1; p <= 2; p++) {
        snprintf(what, sizeof what, "overhead per run, pi mpi x%u (wall - busiest)", p);
        snprintf(note, sizeof note, "(in MPI calls %.3f ms; threads x%u %.3f ms)",
                 median_comm(c, "mpi", p) * 1e3, p, median_overhead(c, "threads", p) * 1e3);
        report(what, median_overhead(c, "mpi", p) * 1e3, "ms", 0.2, 1, note);
    }
    done_with(a, c);

    snprintf(job, sizeof job,
             "{\"workload\":\"paths\",\"params\":{\"m\":2000,\"n\":2000},\"backends\":"
             "[\"threads\",\"mpi\"],\"cores\":[2],\"repeats\":%s,\"warmup\":1}",
             quick ? "3" : "5");
    a = run_job(job, calib, c, &elapsed);
    const struct sl_apoint *pt = point(a, "mpi", 2), *th = point(a, "threads", 2);
    snprintf(note, sizeof note, "(reported; 3999 diagonals; threads' wall per diagonal %.1f us)",
             th->wall.median / 3999 * 1e6);
    report("paths mpi x2, communication per diagonal", median_comm(c, "mpi", 2) / 3999 * 1e6,
           "us", NAN, 1, note);
    snprintf(note, sizeof note, "(reported; wall %.1f ms)", pt->wall.median * 1e3);
    report("paths mpi x2, communication share of wall", median_comm(c, "mpi", 2) /
           pt->wall.median, "", NAN, 1, note);
    done_with(a, c);
}

static void append(struct collected *into, const struct collected *from, const char *be)
{
    for (size_t i = 0; i < from->n; i++) {
        if (strcmp(from->s[i].backend, be) != 0)
            continue;
        if (into->n == into->cap) {
            into->cap = into->cap ? 2 * into->cap : 128;
            into->s = realloc(into->s, into->cap * sizeof *into->s);
        }
        into->s[into->n++] = from->s[i];
    }
}

/* Do the other backends disturb `threads`? pi on `threads` at `cores`, alone and interleaved
 * with `openmp` in the same sweep (as a user's run interleaves them), the two sweeps
 * alternating round by round so that drift of the shared machine hits both alike. Returns
 * the ratio of medians, interleaved / alone (1 = no disturbance). */
static double interference(unsigned cores, int quick, double *alone_ms, double *mixed_ms)
{
    char job[2][512];
    struct collected alone = {0}, mixed = {0}, c;
    double elapsed;
    for (int k = 0; k < 2; k++)
        snprintf(job[k], sizeof job[k],
                 "{\"workload\":\"pi\",\"params\":{\"samples\":5e7},\"backends\":[%s],"
                 "\"cores\":[%u],\"repeats\":5,\"warmup\":1}",
                 k ? "\"threads\",\"openmp\"" : "\"threads\"", cores);
    for (int round = 0; round < (quick ? 6 : 16); round++) {
        for (int k = 0; k < 2; k++) {
            struct sl_analysis *a = run_job(job[(k + round) % 2], NULL, &c, &elapsed);
            append((k + round) % 2 ? &mixed : &alone, &c, "threads");
            sl_analysis_free(a);
            free(c.s);
            free(c.comm_s);
        }
    }
    *alone_ms = 1e3 * median_wall(&alone, "threads");
    *mixed_ms = 1e3 * median_wall(&mixed, "threads");
    free(alone.s);
    free(mixed.s);
    return *mixed_ms / *alone_ms;
}

/* The interference section alone, as `bench_engine --interference`: the parent runs it again
 * in a child with libgomp's default spinning, to show the figure the setting removes. */
static void report_interference(unsigned cores, int quick, const char *label, int counted)
{
    double alone, mixed, r = interference(cores, quick, &alone, &mixed);
    char what[96], note[128];
    snprintf(what, sizeof what, "threads interleaved with openmp / alone%s", label);
    snprintf(note, sizeof note, "(pi x%u: %.3g ms interleaved, %.3g ms alone; ratio of medians)",
             cores, mixed, alone);
    report(what, r, "x", counted ? 1.03 : NAN, 1, note);
}

int main(int argc, char **argv)
{
    /* The engine's own setting against libgomp's spinning (ompenv.h), as the CLI has it. */
    sl_ompenv_settle(argv);
    if (argc > 1 && strcmp(argv[1], "--interference") == 0) {
        report_interference(sl_cpus_allowed() >= 2 ? 2 : 1, argc > 2, getenv("BENCH_LABEL") ?
                            getenv("BENCH_LABEL") : "", 0);
        return 0;
    }
    int quick = 0, only_mpi = 0; /* --quick: fewer repeats; --mpi: only section 6 */
    for (int i = 1; i < argc; i++) {
        quick |= strcmp(argv[i], "--quick") == 0;
        only_mpi |= strcmp(argv[i], "--mpi") == 0;
    }
    const char *reps = quick ? "3" : "7";
    char job[1024], note[160];
    struct collected *c = calloc(1, sizeof *c);
    struct sl_calib calib;
    double elapsed;
    unsigned cores = sl_cpus_allowed() >= 2 ? 2 : 1;

    printf("scalelab engine benchmarks (%s; %u CPUs; medians of interleaved repeats)\n\n",
           quick ? "quick" : "full", sl_cpus_allowed());
    if (sl_calibrate_run(&calib, cores, 0, NULL) != 0) {
        fprintf(stderr, "bench: calibration failed\n");
        return 1;
    }
    printf("calibration: read %.1f GB/s (1 core) %.1f GB/s (%u), peak FMA %.1f GFLOP/s/core\n\n",
           calib.read_gbs_1, calib.read_gbs_all, calib.threads, calib.gflops_1);
    if (only_mpi)
        goto mpi;

    /* 1. pi: simd on one core, and the parallel backends' efficiency at 2 cores. */
    snprintf(job, sizeof job,
             "{\"workload\":\"pi\",\"params\":{\"samples\":%s},\"backends\":[\"serial\",\"simd\","
             "\"threads\",\"openmp\",\"pool\",\"processes\"],\"cores\":[1,%u],\"repeats\":%s,"
             "\"warmup\":1}",
             quick ? "5e8" : "2e9", cores, reps);
    struct sl_analysis *a = run_job(job, &calib, c, &elapsed);
    const struct sl_apoint *p = point(a, "simd", 1);
    snprintf(note, sizeof note, "(%.0fx Numba @njit's 1.71e8, %.0fx pure Python's 4.75e6)",
             p->rate / 1.71e8, p->rate / 4.75e6);
    report("pi simd 1 core, samples/s", p->rate, "/s", 5e9, 0, note);
    printf("%-44s %12.4g %-9s aim    >= 7.5e9\n", "", p->rate, "/s");
    p = point(a, "serial", 1);
    report("pi serial (scalar) 1 core, samples/s", p->rate, "/s", NAN, 0,
           "(reference: naive scalar C 3.1e8)");
    const char *par[] = {"threads", "openmp", "pool", "processes"};
    for (int i = 0; i < 4 && cores > 1; i++)
        report_efficiency("pi", c, a, par[i], cores, i < 3 ? 0.95 : NAN);
    done_with(a, c);

    /* 1b. interference: OpenMP's idle team must not slow the next backend's runs. */
    if (cores > 1) {
        report_interference(cores, quick, " (GOMP_SPINCOUNT=" SL_OMP_SPINCOUNT ")", 1);
        /* For contrast, the same in a child with libgomp's default spin (300000 turns). */
        char cmd[1200], self[1024];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        self[len > 0 ? len : 0] = '\0';
        snprintf(cmd, sizeof cmd,
                 "GOMP_SPINCOUNT=300000 BENCH_LABEL=' (libgomp default spin)' '%s' --interference%s",
                 self, quick ? " quick" : "");
        fflush(stdout);
        if (system(cmd) != 0)
            fprintf(stderr, "bench: the default-spin contrast did not run\n");
    }

    /* 2. matmul: compute-bound scaling. */
    snprintf(job, sizeof job,
             "{\"workload\":\"matmul\",\"params\":{\"n\":%s},\"backends\":[\"simd\",\"threads\","
             "\"openmp\",\"pool\"],\"cores\":[1,%u],\"repeats\":%s,\"warmup\":1}",
             quick ? "768" : "1536", cores, reps);
    a = run_job(job, &calib, c, &elapsed);
    for (int i = 0; i < 3 && cores > 1; i++)
        report_efficiency("matmul", c, a, par[i], cores, 0.95);
    p = point(a, "simd", 1);
    snprintf(note, sizeof note, "(%.0f%% of calibrated peak FMA)", 100 * p->flops_fraction);
    report("matmul simd 1 core, GFLOP/s", p->gflops, "GFLOP/s", NAN, 0, note);
    done_with(a, c);

    /* 3. sumsq: memory-bound, against the calibrated read bandwidth. */
    snprintf(job, sizeof job,
             "{\"workload\":\"sumsq\",\"params\":{\"n\":%s},\"backends\":[\"serial\",\"simd\","
             "\"openmp\"],\"cores\":[1,%u],\"repeats\":%s,\"warmup\":1}",
             quick ? "5e7" : "1e8", cores, reps);
    /* This VM's bandwidth drifts by tens of percent within minutes (other tenants), so the
     * limit is measured right before and right after the sweep, and the higher one is used:
     * the fraction is then a conservative one. */
    struct sl_calib before, after;
    sl_calibrate_run(&before, cores, 0, NULL);
    a = run_job(job, &calib, c, &elapsed);
    sl_calibrate_run(&after, cores, 0, NULL);
    double read_all = fmax(before.read_gbs_all, after.read_gbs_all);
    double read_1 = fmax(before.read_gbs_1, after.read_gbs_1);
    p = point(a, "openmp", cores);
    snprintf(note, sizeof note,
             "(%.1f GB/s of %.1f, read measured %.1f before, %.1f after; numpy einsum 25.3)",
             p->gbs, read_all, before.read_gbs_all, after.read_gbs_all);
    report("sumsq openmp, fraction of read bandwidth", p->gbs / read_all, "", 0.85, 0, note);
    p = point(a, "simd", 1);
    snprintf(note, sizeof note, "(%.1f GB/s of %.1f on 1 core)", p->gbs, read_1);
    report("sumsq simd 1 core, fraction of 1-core read", p->gbs / read_1, "", NAN, 0, note);
    done_with(a, c);

    /* 4. euler: one trajectory, a dependency chain. */
    snprintf(job, sizeof job,
             "{\"workload\":\"euler\",\"params\":{\"trajectories\":1,\"steps\":%s},"
             "\"backends\":[\"serial\",\"simd\",\"openmp\"],\"cores\":[1,%u],\"repeats\":%s,"
             "\"warmup\":1}",
             quick ? "2e8" : "5e8", cores, reps);
    a = run_job(job, &calib, c, &elapsed);
    p = point(a, "serial", 1);
    snprintf(note, sizeof note, "(Numba @njit 6.3e8, pure Python 2.2e7)");
    report("euler 1 trajectory serial, steps/s", p->rate, "/s", 6e8, 0, note);
    p = point(a, "openmp", cores);
    snprintf(note, sizeof note, "(a chain: ~1 expected, no backend can split it)");
    report("euler 1 trajectory openmp, parallel speedup", p->speedup, "x", 1.1, 1, note);
    done_with(a, c);

    /* 5. the engine's own overhead per measurement, on a tiny kernel. */
    snprintf(job, sizeof job,
             "{\"workload\":\"pi\",\"params\":{\"samples\":1000},\"backends\":[\"serial\","
             "\"threads\",\"openmp\",\"pool\",\"processes\"],\"cores\":[%u],\"repeats\":%s,"
             "\"warmup\":0}",
             cores, quick ? "20" : "50");
    a = run_job(job, &calib, c, &elapsed);
    const char *ov[] = {"threads", "openmp", "pool", "processes"};
    for (int i = 0; i < 4; i++) {
        char what[80];
        double med = median_overhead(c, ov[i], cores);
        snprintf(what, sizeof what, "overhead per run, %s x%u (wall - kernel)", ov[i], cores);
        if (i < 2)
            report(what, med * 1e3, "ms", 1.0, 1, NULL);
        else
            report(what, med * 1e3, "ms", NAN, 1,
                   i == 3 ? "(reported: fork + wait per run)" : "(reported)");
    }
    /* Everything the sweep does around a run (rusage, verify, callbacks), per run. */
    double wall_sum = 0;
    for (size_t i = 0; i < c->n; i++)
        wall_sum += c->s[i].wall_s;
    report("sweep bookkeeping per run (outside run())",
           (elapsed - wall_sum) / (double)c->n * 1e3, "ms", 1.0, 1,
           "(rusage, prepare, verify, callbacks)");
    done_with(a, c);

mpi:
    bench_mpi(&calib, c, quick);

    sl_backends_shutdown();
    printf("\ntargets met: %u of %u\n", met, total);
    free(c);
    return 0;
}
