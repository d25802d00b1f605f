/* test_command.c — the command runner: placeholders, environment, confinement, exit status
 * and signals, bounded output, report lines (good, bad and mixed), and program jobs swept.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "ompenv.h"
#include "job.h"
#include "sl.h"
#include "sweep.h"

static struct sl_command *make(const char *json, const char *const *vars, unsigned nvars)
{
    json_error_t e;
    char err[512] = "";
    json_t *o = json_loads(json, 0, &e);
    cr_assert_not_null(o, "test JSON parses: %s", e.text);
    struct sl_command *c = sl_command_from_json(o, "t", vars, nvars, err, sizeof err);
    json_decref(o);
    cr_assert_not_null(c, "command accepted: %s", err);
    return c;
}

/* Run sh -c script once with cores and the variable samples = 1e7; returns the result. */
static void run_sh(const char *script, struct sl_command_opts *o, struct sl_command_result *r)
{
    json_t *j = json_pack("{s[ssss]}", "argv", "sh", "-c", script, "x");
    const char *vars[] = {"samples"};
    char err[512] = "";
    struct sl_command *c = sl_command_from_json(j, "t", vars, 1, err, sizeof err);
    json_decref(j);
    cr_assert_not_null(c, "%s", err);
    int rc = sl_command_run(c, o, r, err, sizeof err);
    cr_assert_eq(rc, 0, "ran: %s", err);
    sl_command_free(c);
}

static struct sl_command_opts opts(unsigned cores)
{
    struct sl_command_opts o = {.cores = cores, .thread_env = 1, .nvars = 1};
    o.names[0] = "samples";
    o.values[0] = 1e7;
    return o;
}

Test(command, expands_placeholders_and_passes_other_braces)
{
    struct sl_command_opts o = opts(4);
    o.names[1] = "dt";
    o.values[1] = 0.25;
    o.nvars = 2;
    char out[128];
    cr_assert_eq(sl_command_expand("--workers={cores} -n {samples} {dt} {} {1x} {a b}", &o, out,
                                   sizeof out), 0);
    cr_assert_str_eq(out, "--workers=4 -n 10000000 0.25 {} {1x} {a b}");
    cr_assert_eq(sl_command_expand("{nope}", &o, out, sizeof out), -SL_ENOENT);
    cr_assert_str_eq(out, "nope", "the unknown name is given back");
    cr_assert_eq(sl_command_expand("{samples}{samples}", &o, out, 10), -SL_ERANGE);
}

Test(command, refuses_unknown_placeholders_naming_the_field)
{
    const char *vars[] = {"samples"};
    char err[512] = "";
    json_t *o = json_loads("{\"argv\": [\"python3\", \"x.py\", \"{sample}\"]}", 0, NULL);
    cr_assert_null(sl_command_from_json(o, "t", vars, 1, err, sizeof err));
    cr_assert(strstr(err, "command.argv[2]") && strstr(err, "{sample}") && strstr(err, "{samples}"),
              "message names field, typo and known ones: %s", err);
    json_decref(o);
    o = json_loads("{\"argv\": [\"x\"], \"env\": {\"A\": \"{zz}\"}}", 0, NULL);
    cr_assert_null(sl_command_from_json(o, "t", vars, 1, err, sizeof err));
    cr_assert(strstr(err, "command.env.A"), "%s", err);
    json_decref(o);
    o = json_loads("{\"argv\": [\"x\"], \"shell\": true}", 0, NULL);
    cr_assert_null(sl_command_from_json(o, "t", vars, 1, err, sizeof err));
    cr_assert(strstr(err, "command.shell"), "%s", err);
    json_decref(o);
    o = json_loads("{\"argv\": []}", 0, NULL);
    cr_assert_null(sl_command_from_json(o, "t", vars, 1, err, sizeof err));
    json_decref(o);
}

Test(command, argv_reaches_the_program_without_a_shell)
{
    /* A shell would expand $HOME and split on the space; exec passes both through. */
    struct sl_command *c = make("{\"argv\": [\"printf\", \"%s|\", \"$HOME\", \"a b\", \"{cores}\"]}", NULL, 0);
    struct sl_command_opts o = opts(3);
    struct sl_command_result r = {0};
    char err[256];
    cr_assert_eq(sl_command_run(c, &o, &r, err, sizeof err), 0, "%s", err);
    char *out = sl_tail_string(&r.out);
    cr_assert_str_eq(out, "$HOME|a b|3|");
    free(out);
    sl_command_result_free(&r);
    sl_command_free(c);
}

Test(command, sets_thread_variables_unless_switched_off_and_env_wins)
{
    struct sl_command_opts o = opts(3);
    struct sl_command_result r = {0};
    run_sh("echo $OMP_NUM_THREADS $MKL_NUM_THREADS $OPENBLAS_NUM_THREADS $NUMBA_NUM_THREADS", &o, &r);
    char *out = sl_tail_string(&r.out);
    cr_assert_str_eq(out, "3 3 3 3\n");
    free(out);
    o.thread_env = 0;
    setenv("OMP_NUM_THREADS", "7", 1);
    run_sh("echo ${OMP_NUM_THREADS:-unset}", &o, &r);
    out = sl_tail_string(&r.out);
    cr_assert_str_eq(out, "7\n", "without thread_env the engine's own environment passes");
    free(out);
    unsetenv("OMP_NUM_THREADS");

    struct sl_command *c = make("{\"argv\": [\"sh\", \"-c\", \"echo $OMP_NUM_THREADS $N\"],"
                                " \"env\": {\"OMP_NUM_THREADS\": \"1\", \"N\": \"n={samples}\"}}",
                                (const char *[]){"samples"}, 1);
    char err[256];
    o.thread_env = 1;
    cr_assert_eq(sl_command_run(c, &o, &r, err, sizeof err), 0, "%s", err);
    out = sl_tail_string(&r.out);
    cr_assert_str_eq(out, "1 n=10000000\n", "the program's env entries win, expanded");
    free(out);
    sl_command_free(c);
    sl_command_result_free(&r);
}

Test(command, the_engines_own_openmp_spin_does_not_reach_the_program)
{
    struct sl_command_opts o = opts(1);
    struct sl_command_result r = {0};
    /* As after sl_ompenv_settle: the engine's spin setting and its mark. */
    setenv("GOMP_SPINCOUNT", SL_OMP_SPINCOUNT, 1);
    setenv(SL_OMPENV_MARK, "1", 1);
    run_sh("echo ${GOMP_SPINCOUNT:-unset} ${" SL_OMPENV_MARK ":-unset}", &o, &r);
    char *out = sl_tail_string(&r.out);
    cr_assert_str_eq(out, "unset unset\n", "the engine's tuning stays out of the user's program");
    free(out);
    /* A user's own GOMP_SPINCOUNT (no mark: the engine did not set it) is passed on. */
    unsetenv(SL_OMPENV_MARK);
    setenv("GOMP_SPINCOUNT", "42", 1);
    run_sh("echo ${GOMP_SPINCOUNT:-unset}", &o, &r);
    out = sl_tail_string(&r.out);
    cr_assert_str_eq(out, "42\n");
    free(out);
    unsetenv("GOMP_SPINCOUNT");
    sl_command_result_free(&r);
}

Test(command, confine_limits_the_cpus_of_the_child)
{
    if (sl_cpus_allowed() < 2)
        cr_skip_test("needs 2 CPUs");
    /* (not nproc: it believes OMP_NUM_THREADS, which the runner sets) */
    const char *count = "python3 -c 'import os; print(len(os.sched_getaffinity(0)))'";
    struct sl_command_opts o = opts(1);
    struct sl_command_result r = {0};
    run_sh(count, &o, &r);
    char *out = sl_tail_string(&r.out);
    cr_assert_eq(atoi(out), (int)sl_cpus_allowed(), "unconfined: every CPU (%s)", out);
    free(out);
    o.confine = 1;
    run_sh(count, &o, &r);
    out = sl_tail_string(&r.out);
    cr_assert_str_eq(out, "1\n", "confined to 1 CPU");
    free(out);
    o.cores = 2;
    run_sh(count, &o, &r);
    out = sl_tail_string(&r.out);
    cr_assert_str_eq(out, "2\n", "confined to 2 CPUs");
    free(out);
    sl_command_result_free(&r);
}

Test(command, exit_status_signal_and_missing_program)
{
    struct sl_command_opts o = opts(1);
    struct sl_command_result r = {0};
    run_sh("echo boom >&2; exit 3", &o, &r);
    cr_assert(r.exited && r.code == 3, "exit status 3");
    char buf[64];
    sl_tail_last(&r.err, buf, sizeof buf);
    cr_assert_str_eq(buf, "boom");
    run_sh("kill -SEGV $$", &o, &r);
    cr_assert(!r.exited && r.code == SIGSEGV, "killed by SIGSEGV (%d %d)", r.exited, r.code);
    run_sh("true", &o, &r);
    cr_assert(r.exited && r.code == 0);
    cr_assert_gt(r.wall_ns, 0);

    struct sl_command *c = make("{\"argv\": [\"/no/such/program\"]}", NULL, 0);
    char err[256] = "";
    cr_assert_eq(sl_command_run(c, &o, &r, err, sizeof err), -SL_ENOENT);
    cr_assert(strstr(err, "/no/such/program") && strstr(err, "No such file"), "%s", err);
    sl_command_free(c);
    c = make("{\"argv\": [\"true\"], \"cwd\": \"/no/such/dir\"}", NULL, 0);
    cr_assert_lt(sl_command_run(c, &o, &r, err, sizeof err), 0, "a missing cwd is refused");
    sl_command_free(c);
    sl_command_result_free(&r);
}

static unsigned long long bit(int sig)
{
    return 1ULL << (sig - 1);
}

/* The hexadecimal mask after label in a /proc/PID/status text (all ones when absent). */
static unsigned long long mask_of(const char *status, const char *label)
{
    const char *p = strstr(status, label);
    return p ? strtoull(p + strlen(label), NULL, 16) : ~0ULL;
}

static void on_usr1(int sig)
{
    (void)sig;
}

/* The server runs programs (its probes) with SIGINT/SIGTERM blocked for sigwait, and a
 * caller may ignore SIGPIPE or catch signals: the program must start with none of that.
 * (A caught signal is reset by exec itself, so only a run with a handler installed is
 * exercised here: the child is vfork()ed and resets it before unblocking.) */
Test(command, the_program_starts_with_no_blocked_ignored_or_caught_signals)
{
    sigset_t block, was;
    struct sigaction usr1 = {.sa_handler = on_usr1}, old_usr1, old_pipe;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &was);
    sigaction(SIGUSR1, &usr1, &old_usr1);
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ign, &old_pipe);

    struct sl_command *c = make("{\"argv\": [\"cat\", \"/proc/self/status\"]}", NULL, 0);
    struct sl_command_opts o = opts(1);
    struct sl_command_result r = {0};
    char err[256] = "";
    int rc = sl_command_run(c, &o, &r, err, sizeof err);
    sigprocmask(SIG_SETMASK, &was, NULL);
    sigaction(SIGUSR1, &old_usr1, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    cr_assert_eq(rc, 0, "%s", err);
    char *status = sl_tail_string(&r.out);
    /* (only the signals this test set: an ignored signal the test runner itself inherited,
     * as make leaves some, stays ignored across exec as POSIX says) */
    unsigned long long blk = mask_of(status, "SigBlk:"), ignored = mask_of(status, "SigIgn:");
    cr_assert_eq(blk & (bit(SIGTERM) | bit(SIGINT)), 0, "SIGTERM/SIGINT blocked:\n%s", status);
    cr_assert_eq(ignored & bit(SIGPIPE), 0, "SIGPIPE ignored:\n%s", status);
    free(status);
    sl_command_free(c);
    sl_command_result_free(&r);
}

Test(command, measures_the_wall_time_and_the_tree_rusage)
{
    struct sl_command_opts o = opts(1);
    struct sl_command_result r = {0};
    run_sh("sleep 0.2", &o, &r);
    cr_assert(r.wall_ns >= 200000000u && r.wall_ns < 400000000u, "wall %llu ns",
              (unsigned long long)r.wall_ns);
    /* A grandchild's memory counts: wait4's rusage covers the waited-for tree. */
    run_sh("python3 -c 'b = bytearray(60 << 20); b[::4096] = b\"x\" * len(b[::4096])'", &o, &r);
    cr_assert(r.exited && r.code == 0);
    cr_assert_gt(r.ru.ru_maxrss, 60 * 1024, "max RSS of the tree includes the grandchild: %ld kB",
                 r.ru.ru_maxrss);
    sl_command_result_free(&r);
}

Test(command, keeps_only_the_last_64_KiB_of_each_stream)
{
    struct sl_command_opts o = opts(1);
    struct sl_command_result r = {0};
    /* 1 MiB of 'a', then a marker: only the tail stays, the total is counted. */
    run_sh("head -c 1048576 /dev/zero | tr '\\0' a; echo END; head -c 200000 /dev/zero | tr '\\0' e >&2",
           &o, &r);
    cr_assert_eq(r.out.total, 1048576u + 4u);
    cr_assert_eq(r.out.len, SL_COMMAND_TAIL);
    char *out = sl_tail_string(&r.out);
    cr_assert_eq(strlen(out), SL_COMMAND_TAIL);
    cr_assert_str_eq(out + SL_COMMAND_TAIL - 4, "END\n");
    cr_assert_eq(out[0], 'a');
    free(out);
    cr_assert_eq(r.err.total, 200000u);
    cr_assert_eq(r.err.len, SL_COMMAND_TAIL);
    sl_command_result_free(&r);
}

Test(command, report_lines_merge_and_bad_ones_are_counted)
{
    struct sl_report rep = {0};
    sl_report_clear(&rep);
    const char *lines[] = {
        "just output",
        "scalelab: {\"work\": 1000, \"unit\": \"sample\", \"phases\": {\"startup\": 0.5}}",
        "scalelab: not json",
        "scalelab: {\"work\": -1}",
        "scalelab: [1, 2]",
        ("scalelab: {\"result\": 3.25, \"phases\": {\"compute\": 1.5, \"startup\": 0.25}, "
         "\"busy\": [1.0, 1.5], \"future\": \"ignored\"}"), /* one line, split (clang asks
                                                            * for the parentheses) */
    };
    int seen = 0;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        seen += sl_report_line(&rep, lines[i], strlen(lines[i]));
    cr_assert_eq(seen, 5, "every scalelab: line is a report line, good or bad");
    cr_assert(rep.present);
    cr_assert_eq(rep.work, 1000);
    cr_assert_str_eq(rep.unit, "sample");
    cr_assert_eq(rep.result, 3.25);
    cr_assert_eq(rep.nphases, 2);
    cr_assert_str_eq(rep.phase_name[0], "startup");
    cr_assert_eq(rep.phase_s[0], 0.25, "a later line wins");
    cr_assert_eq(rep.phase_s[1], 1.5);
    cr_assert_eq(rep.nbusy, 2);
    cr_assert_eq(rep.busy_s[1], 1.5);
    cr_assert_eq(rep.bad_lines, 3);
    cr_assert(strstr(rep.bad, "not a JSON object"), "first problem kept: %s", rep.bad);
    sl_report_clear(&rep);
    cr_assert(!rep.present && isnan(rep.work) && rep.busy_s == NULL);
}

Test(command, a_run_reads_the_report_from_stdout)
{
    struct sl_command_opts o = opts(2);
    struct sl_command_result r = {0};
    run_sh("echo hello; echo 'scalelab: {\"work\": {samples}, \"result\": 3.5}'; echo 'scalelab: {oops'",
           &o, &r);
    cr_assert(r.report.present);
    cr_assert_eq(r.report.work, 1e7);
    cr_assert_eq(r.report.result, 3.5);
    cr_assert_eq(r.report.bad_lines, 1);
    sl_command_result_free(&r);
}

/* --- program jobs through the sweep --- */

struct seen {
    unsigned n, failed;
    char msg[1024];
    double value[16];
};

static int collect_m(void *ctx, const struct sl_measurement *m)
{
    struct seen *s = ctx;
    if (!m->verified && s->failed++ == 0)
        snprintf(s->msg, sizeof s->msg, "%s", m->message);
    if (s->n < 16)
        s->value[s->n] = m->value;
    s->n++;
    return 0;
}

static int parse_job(const char *text, struct sl_job *job, char *err, size_t errlen)
{
    struct sl_job_limits lim = {.max_cores = 2, .max_memory = 4e9};
    json_t *o = json_loads(text, 0, NULL);
    cr_assert_not_null(o, "test JSON parses");
    int rc = sl_job_from_json(o, &lim, job, err, errlen);
    json_decref(o);
    return rc;
}

Test(command, a_failing_program_is_a_failed_point_and_the_sweep_goes_on)
{
    struct sl_job job;
    char err[512];
    cr_assert_eq(parse_job("{\"programs\": ["
                           "{\"name\": \"ok\", \"argv\": [\"sh\", \"-c\", \"echo 'scalelab: {\\\"result\\\": 1}'\"]},"
                           "{\"name\": \"bad\", \"argv\": [\"sh\", \"-c\", \"echo oh no >&2; kill -KILL $$\"]}],"
                           " \"cores\": [1, 2], \"repeats\": 2, \"warmup\": 0}",
                           &job, err, sizeof err), 0, "%s", err);
    struct sl_sweep *s = sl_sweep_new(&job);
    cr_assert_eq(sl_sweep_npoints(s), 4);
    struct seen seen = {0};
    cr_assert_eq(sl_sweep_run(s, collect_m, NULL, &seen, err, sizeof err), 0, "%s", err);
    cr_assert_eq(seen.n, 8, "every run measured");
    cr_assert_eq(seen.failed, 4, "the killed program's runs failed");
    cr_assert(strstr(seen.msg, "killed by signal 9") && strstr(seen.msg, "oh no"), "%s", seen.msg);
    sl_sweep_free(s);
    sl_job_clear(&job);
}

Test(command, results_are_compared_within_the_tolerance)
{
    struct sl_job job;
    char err[512];
    /* {cores} changes the result: 1 at one core, 2 at two. */
    const char *fmt = "{\"command\": {\"argv\": [\"sh\", \"-c\", \"echo 'scalelab: {\\\"result\\\": {cores}}'\"]},"
                      " \"cores\": [1, 2], \"repeats\": 1, \"warmup\": 0, \"tolerance\": %s}";
    char text[512];
    snprintf(text, sizeof text, fmt, "0.5");
    cr_assert_eq(parse_job(text, &job, err, sizeof err), 0, "%s", err);
    struct sl_sweep *s = sl_sweep_new(&job);
    struct seen seen = {0};
    cr_assert_eq(sl_sweep_run(s, collect_m, NULL, &seen, err, sizeof err), 0, "%s", err);
    cr_assert_eq(seen.failed, 1, "2 differs from 1 by more than 0.5");
    cr_assert(strstr(seen.msg, "tolerance"), "%s", seen.msg);
    sl_sweep_free(s);
    sl_job_clear(&job);
    snprintf(text, sizeof text, fmt, "1");
    cr_assert_eq(parse_job(text, &job, err, sizeof err), 0, "%s", err);
    s = sl_sweep_new(&job);
    memset(&seen, 0, sizeof seen);
    cr_assert_eq(sl_sweep_run(s, collect_m, NULL, &seen, err, sizeof err), 0, "%s", err);
    cr_assert_eq(seen.failed, 0, "within a tolerance of 1");
    sl_sweep_free(s);
    sl_job_clear(&job);
}

Test(command, program_jobs_are_checked_and_round_trip)
{
    struct sl_job job, back;
    char err[512];
    cr_assert_lt(parse_job("{\"command\": {\"argv\": [\"x\", \"{n}\"]}}", &job, err, sizeof err), 0);
    cr_assert(strstr(err, "{n}"), "%s", err);
    cr_assert_str_eq(sl_job_error_field(), "command.argv[1]");
    cr_assert_lt(parse_job("{\"programs\": [{\"name\": \"a\", \"argv\": [\"x\"], \"timeout_s\": -1}]}",
                           &job, err, sizeof err), 0);
    cr_assert_str_eq(sl_job_error_field(), "programs[0].timeout_s");
    cr_assert(strncmp(err, "programs[0].timeout_s must be", 29) == 0, "%s", err);
    cr_assert_lt(parse_job("{\"command\": {\"argv\": [\"x\"]}, \"backends\": [\"serial\"]}", &job, err,
                           sizeof err), 0);
    cr_assert_str_eq(sl_job_error_field(), "backends");
    cr_assert_lt(parse_job("{\"programs\": [{\"name\": \"a\", \"argv\": [\"x\"]}, {\"name\": \"a\", "
                           "\"argv\": [\"y\"]}]}", &job, err, sizeof err), 0);
    cr_assert(strstr(err, "twice"), "%s", err);
    cr_assert_lt(parse_job("{\"programs\": [{\"name\": \"a\", \"argv\": [\"x\"]}], \"baseline\": \"b\"}",
                           &job, err, sizeof err), 0);
    cr_assert_str_eq(sl_job_error_field(), "baseline");

    cr_assert_eq(parse_job("{\"workload\": \"pi\", \"programs\": [{\"name\": \"loop\", \"argv\": [\"x\", "
                           "\"{samples}\"], \"parallel\": false}, {\"name\": \"mp\", \"argv\": [\"y\"], "
                           "\"env\": {\"W\": \"{cores}\"}, \"timeout_s\": 2.5}], \"params\": {\"samples\": 1e6}, "
                           "\"size_param\": \"samples\", \"baseline\": \"loop\", \"confine\": true, "
                           "\"thread_env\": false, \"tolerance\": 0, \"cores\": [1, 2]}",
                           &job, err, sizeof err), 0, "%s", err);
    json_t *j = sl_job_to_json(&job);
    struct sl_job_limits lim = {.max_cores = 2, .max_memory = 4e9};
    cr_assert_eq(sl_job_from_json(j, &lim, &back, err, sizeof err), 0, "%s", err);
    json_t *j2 = sl_job_to_json(&back);
    cr_assert(json_equal(j, j2), "the normal form parses back to itself");
    cr_assert_str_eq(back.label, "pi");
    cr_assert_str_eq(back.baseline, "loop");
    cr_assert(back.confine && !back.thread_env && back.tolerance == 0);
    cr_assert_eq(back.programs[1].cmd->timeout_s, 2.5, "a program's timeout_s round-trips");
    cr_assert_eq(back.programs[0].cmd->timeout_s, 0);
    struct sl_sweep *s = sl_sweep_new(&back);
    cr_assert_eq(sl_sweep_npoints(s), 3, "the one-core program runs once, the other at 1 and 2");
    cr_assert_eq(sl_sweep_size(s, 0), 1e6);
    sl_sweep_free(s);
    json_decref(j);
    json_decref(j2);
    sl_job_clear(&job);
    sl_job_clear(&back);
}

/* --- timeouts --- */

/* Run argv_json (a command object) once; returns sl_command_run's code. */
static int run_json(const char *json, struct sl_command_result *r)
{
    struct sl_command *c = make(json, NULL, 0);
    struct sl_command_opts o = opts(1);
    char err[256] = "";
    int rc = sl_command_run(c, &o, r, err, sizeof err);
    cr_assert_eq(rc, 0, "ran: %s", err);
    sl_command_free(c);
    return rc;
}

/* Whether pid is a live process (a zombie awaiting its reaper is not). */
static int alive(long pid)
{
    char path[64], line[256];
    int live = 0;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "State:", 6) == 0)
            live = strchr(line, 'Z') == NULL;
    fclose(f);
    return live;
}

static long read_pid(const char *path)
{
    long pid = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

Test(command, timeout_s_is_checked_and_round_trips)
{
    static const char *const bad[] = {"0", "-1", "\"5\"", "86401", "true", "null"};
    char text[128], err[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"argv\": [\"x\"], \"timeout_s\": %s}", bad[i]);
        json_t *o = json_loads(text, 0, NULL);
        err[0] = '\0';
        cr_assert_null(sl_command_from_json(o, "t", NULL, 0, err, sizeof err), "%s is refused", text);
        cr_assert(strstr(err, "command.timeout_s") && strstr(err, "86400"), "%s: %s", bad[i], err);
        json_decref(o);
    }
    struct sl_command *c = make("{\"argv\": [\"x\"], \"timeout_s\": 0.5}", NULL, 0);
    cr_assert_eq(c->timeout_s, 0.5);
    json_t *j = sl_command_to_json(c);
    cr_assert_eq(json_number_value(json_object_get(j, "timeout_s")), 0.5, "timeout_s round-trips");
    json_decref(j);
    sl_command_free(c);
    c = make("{\"argv\": [\"x\"]}", NULL, 0);
    cr_assert_eq(c->timeout_s, 0, "absent: no limit");
    j = sl_command_to_json(c);
    cr_assert_null(json_object_get(j, "timeout_s"));
    json_decref(j);
    sl_command_free(c);
}

Test(command, a_program_past_its_timeout_is_killed, .timeout = 30)
{
    struct sl_command_result r = {0};
    uint64_t t0 = sl_now_ns();
    run_json("{\"argv\": [\"sleep\", \"5\"], \"timeout_s\": 0.5}", &r);
    double took = (sl_now_ns() - t0) / 1e9;
    cr_assert(r.timed_out, "the run is marked timed out");
    cr_assert(!r.exited && r.code == SIGTERM, "sleep died of the SIGTERM (%d %d)", r.exited, r.code);
    cr_assert_geq(r.wall_ns, 500000000u, "it ran until the deadline: %llu ns",
                  (unsigned long long)r.wall_ns);
    cr_assert_lt(took, 4.0, "it did not run its 5 s: %.2f s", took);
    sl_command_result_free(&r);
}

/* A program that closed its pipes is still bounded: its exit is waited for within the
 * deadline, not with a blocking wait4. */
Test(command, a_program_that_closed_its_output_still_times_out, .timeout = 30)
{
    struct sl_command_result r = {0};
    uint64_t t0 = sl_now_ns();
    run_json("{\"argv\": [\"sh\", \"-c\", \"exec >&- 2>&-; sleep 5\"], \"timeout_s\": 0.5}", &r);
    double took = (sl_now_ns() - t0) / 1e9;
    cr_assert(r.timed_out);
    cr_assert_lt(took, 4.0, "killed at the deadline: %.2f s", took);
    sl_command_result_free(&r);
}

/* SIGTERM may be ignored: SIGKILL follows after the grace, to the whole group, so a child
 * that would write a file later never writes it. */
Test(command, sigkill_follows_and_the_whole_group_dies, .timeout = 30)
{
    char late[] = "/tmp/sl-late-XXXXXX", pidf[64], json[1024];
    int fd = mkstemp(late);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(late);
    snprintf(pidf, sizeof pidf, "%s.pid", late);
    snprintf(json, sizeof json,
             "{\"argv\": [\"sh\", \"-c\", \"trap '' TERM; (sleep 3; echo late > %s) & echo $! > %s; "
             "echo started >&2; sleep 5\"], \"timeout_s\": 0.5}", late, pidf);
    struct sl_command_result r = {0};
    uint64_t t0 = sl_now_ns();
    run_json(json, &r);
    double took = (sl_now_ns() - t0) / 1e9;
    cr_assert(r.timed_out);
    cr_assert(!r.exited && r.code == SIGKILL, "SIGTERM ignored, SIGKILL after the grace (%d %d)",
              r.exited, r.code);
    cr_assert_lt(took, 4.0, "%.2f s", took);
    char tail[64];
    sl_tail_last(&r.err, tail, sizeof tail);
    cr_assert_str_eq(tail, "started", "the stderr before the kill is kept");
    long child = read_pid(pidf);
    cr_assert_gt(child, 0, "the child's pid was written");
    /* (a SIGKILL is delivered asynchronously: on a loaded host the child may take a moment to
     * go; bounded well under the 3 s after which it would write its file) */
    for (int i = 0; i < 100 && alive(child); i++)
        sleep_s(0.01);
    cr_assert(!alive(child), "the background child %ld was killed with the group", child);
    double left = 3.5 - (sl_now_ns() - t0) / 1e9; /* past the moment it would have written */
    if (left > 0)
        sleep_s(left);
    cr_assert_neq(access(late, F_OK), 0, "the child never wrote its file");
    unlink(pidf);
    sl_command_result_free(&r);
}

Test(command, a_program_within_its_timeout_is_unaffected, .timeout = 30)
{
    struct sl_command_result r = {0};
    run_json("{\"argv\": [\"sh\", \"-c\", \"sleep 0.2; echo out; echo err >&2; exit 3\"], "
             "\"timeout_s\": 20}", &r);
    cr_assert(!r.timed_out);
    cr_assert(r.exited && r.code == 3, "its own exit status (%d %d)", r.exited, r.code);
    cr_assert(r.wall_ns >= 200000000u && r.wall_ns < 5000000000u, "wall %llu ns",
              (unsigned long long)r.wall_ns);
    char buf[64];
    sl_tail_last(&r.out, buf, sizeof buf);
    cr_assert_str_eq(buf, "out");
    sl_tail_last(&r.err, buf, sizeof buf);
    cr_assert_str_eq(buf, "err");
    run_json("{\"argv\": [\"true\"], \"timeout_s\": 20}", &r);
    cr_assert(!r.timed_out && r.exited && r.code == 0);
    sl_command_result_free(&r);
}

/* The engine dies mid-run (a cancel's SIGKILL): the keeper kills the timed program's group,
 * which is not the engine's. Here a forked process plays the engine. */
Test(command, the_timed_group_dies_with_the_engine, .timeout = 30)
{
    char pidf[] = "/tmp/sl-grp-XXXXXX", json[512];
    int fd = mkstemp(pidf);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(pidf);
    snprintf(json, sizeof json, "{\"argv\": [\"sh\", \"-c\", \"sleep 30 & echo $! > %s; wait\"], "
                                "\"timeout_s\": 60}", pidf);
    pid_t eng = fork();
    cr_assert_geq(eng, 0);
    if (eng == 0) {
        struct sl_command_result r = {0};
        struct sl_command_opts o = opts(1);
        char err[256];
        json_t *j = json_loads(json, 0, NULL);
        struct sl_command *c = sl_command_from_json(j, "t", NULL, 0, err, sizeof err);
        _exit(c ? sl_command_run(c, &o, &r, err, sizeof err) == 0 ? 0 : 1 : 2);
    }
    long child = 0;
    for (int i = 0; i < 100 && !(child = read_pid(pidf)); i++)
        sleep_s(0.05);
    cr_assert_gt(child, 0, "the program started its sleep");
    cr_assert(alive(child));
    kill(eng, SIGKILL);
    waitpid(eng, NULL, 0);
    for (int i = 0; i < 60 && alive(child); i++)
        sleep_s(0.05);
    cr_assert(!alive(child), "the sleep %ld died with the engine", child);
    unlink(pidf);
}

Test(command, a_timed_out_program_is_a_failed_point_and_the_sweep_goes_on, .timeout = 60)
{
    struct sl_job job;
    char err[512];
    cr_assert_eq(parse_job("{\"programs\": ["
                           "{\"name\": \"ok\", \"argv\": [\"sh\", \"-c\", \"echo 'scalelab: {\\\"result\\\": 1}'\"]},"
                           "{\"name\": \"hang\", \"argv\": [\"sh\", \"-c\", \"echo stuck >&2; sleep 5\"], "
                           "\"timeout_s\": 0.3}],"
                           " \"cores\": [1, 2], \"repeats\": 1, \"warmup\": 0}",
                           &job, err, sizeof err), 0, "%s", err);
    struct sl_sweep *s = sl_sweep_new(&job);
    struct seen seen = {0};
    uint64_t t0 = sl_now_ns();
    cr_assert_eq(sl_sweep_run(s, collect_m, NULL, &seen, err, sizeof err), 0, "%s", err);
    cr_assert_lt((sl_now_ns() - t0) / 1e9, 8.0, "two timed-out runs, not two 5 s sleeps");
    cr_assert_eq(seen.n, 4, "every run measured");
    cr_assert_eq(seen.failed, 2, "the hanging program's runs failed");
    cr_assert(strstr(seen.msg, "timed out after 0.3 s (killed the process group)") &&
              strstr(seen.msg, "stuck"), "%s", seen.msg);
    sl_sweep_free(s);
    sl_job_clear(&job);
}
