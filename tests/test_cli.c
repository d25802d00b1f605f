/* test_cli.c — scalelab-engine as a user and the server meet it: exit codes, one-line
 * errors on stderr, and the JSON-lines protocol (header, measurements, summary).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct result {
    int status;     /* exit status */
    char *out, *err; /* captured output, caller frees */
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

/* Run the engine with args (a shell-quoted string we write ourselves) and stdin text. */
static struct result engine(const char *args, const char *input)
{
    const char *bin = getenv("SCALELAB_ENGINE");
    char dir[] = "/tmp/sl-cli-XXXXXX", cmd[4096], out[64], err[64], in[64];
    struct result r;
    cr_assert_not_null(bin, "SCALELAB_ENGINE names the engine binary (make test sets it)");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    snprintf(in, sizeof in, "%s/in", dir);
    FILE *f = fopen(in, "w");
    fputs(input ? input : "", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' %s <%s >%s 2>%s", bin, args, in, out, err);
    int st = system(cmd);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    remove(out);
    remove(err);
    remove(in);
    remove(dir);
    return r;
}

static void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
}

/* stderr is exactly one line. */
static void assert_one_line(const char *s, const char *what)
{
    size_t n = strlen(s);
    cr_assert_gt(n, 0, "%s: an error message", what);
    cr_assert_eq(s[n - 1], '\n', "%s: ends with a newline", what);
    cr_assert_null(memchr(s, '\n', n - 1), "%s: one line only, got: %s", what, s);
}

Test(cli, bad_arguments_exit_2_with_one_line)
{
    static const struct {
        const char *args, *expect;
    } bad[] = {
        {"run nosuch", "not known"},
        {"run pi --set samples=abc", "not a number"},
        {"run pi --set samples=0", "out of range"},
        {"run pi --set nope=3", "not a parameter"},
        {"run pi --cores 64", "oversubscribe"},
        {"run pi --cores 1,x", "not a number"},
        {"run pi --backends serial,gpu", "not known"},
        {"run pi --repeats 0", "repeats"},
        {"run pi --scaling sideways", "scaling"},
        {"run pi --bogus", "unknown"},
        {"run", "which workload"},
        {"run pi extra", "unexpected"},
        {"frobnicate", "unknown command"},
        {"list extra", "unexpected"},
        {"run --job - pi", "--job"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct result r = engine(bad[i].args, NULL);
        cr_assert_eq(r.status, 2, "'%s' exits 2, got %d (%s)", bad[i].args, r.status, r.err);
        assert_one_line(r.err, bad[i].args);
        cr_assert_not_null(strstr(r.err, bad[i].expect), "'%s' says '%s': %s", bad[i].args,
                           bad[i].expect, r.err);
        cr_assert_eq(r.out[0], '\0', "'%s' prints nothing on stdout", bad[i].args);
        result_free(&r);
    }
}

Test(cli, json_lines_protocol, .timeout = 60)
{
    struct result r = engine("run pi --set samples=1e5 --backends serial,threads --cores 1,2 "
                             "--repeats 2 --warmup 1 --json",
                             NULL);
    cr_assert_eq(r.status, 0, "exit 0: %s", r.err);
    char *save = NULL;
    int n = 0, measurements = 0, header = 0, summary = 0;
    for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        cr_assert_not_null(o, "line %d is JSON: %s", n, e.text);
        const char *type = json_string_value(json_object_get(o, "type"));
        cr_assert_not_null(type, "line %d has a type", n);
        if (strcmp(type, "header") == 0) {
            cr_assert_eq(n, 0, "header comes first");
            header++;
            cr_assert(json_is_object(json_object_get(o, "host")));
            json_t *job = json_object_get(o, "job");
            cr_assert_str_eq(json_string_value(json_object_get(job, "workload")), "pi");
            cr_assert_eq(json_integer_value(json_object_get(json_object_get(o, "plan"),
                                                            "timed_runs")),
                         6);
        } else if (strcmp(type, "measurement") == 0) {
            measurements++;
            cr_assert(json_is_true(json_object_get(o, "verified")));
            cr_assert_gt(json_integer_value(json_object_get(o, "wall_ns")), 0);
            json_t *busy = json_object_get(o, "busy_ns");
            cr_assert_eq(json_array_size(busy),
                         (size_t)json_integer_value(json_object_get(o, "cores")));
        } else if (strcmp(type, "summary") == 0) {
            summary++;
            json_t *a = json_object_get(o, "analysis");
            cr_assert_eq(json_array_size(json_object_get(a, "points")), 3);
            cr_assert_eq(json_array_size(json_object_get(a, "backends")), 2);
        }
        json_decref(o);
    }
    cr_assert_eq(header, 1);
    cr_assert_eq(measurements, 6, "serial x1, threads x1 and x2, 2 repeats each");
    cr_assert_eq(summary, 1);
    result_free(&r);
}

Test(cli, job_from_stdin_and_human_table, .timeout = 60)
{
    struct result r = engine("run --job - --no-progress",
                             "{\"workload\":\"paths\",\"params\":{\"m\":50,\"n\":40},"
                             "\"backends\":[\"serial\",\"openmp\"],\"cores\":[1,2],"
                             "\"repeats\":2,\"warmup\":0}");
    cr_assert_eq(r.status, 0, "exit 0: %s", r.err);
    cr_assert_not_null(strstr(r.out, "Unique grid paths"), "names the workload");
    cr_assert_not_null(strstr(r.out, "openmp"), "table lists openmp");
    cr_assert_not_null(strstr(r.out, "2/2"), "verified counts shown");
    result_free(&r);

    r = engine("run --job -", "{\"workload\": ");
    cr_assert_eq(r.status, 2, "malformed job JSON exits 2");
    assert_one_line(r.err, "malformed job");
    result_free(&r);
}

Test(cli, list_json_describes_workloads_and_backends)
{
    struct result r = engine("list --json", NULL);
    cr_assert_eq(r.status, 0);
    json_error_t e;
    json_t *o = json_loads(r.out, 0, &e);
    cr_assert_not_null(o, "list --json is JSON: %s", e.text);
    json_t *w = json_object_get(o, "workloads"), *b = json_object_get(o, "backends");
    cr_assert_eq(json_array_size(w), 6);
    cr_assert_geq(json_array_size(b), 6);
    size_t i;
    json_t *v;
    json_array_foreach(b, i, v) {
        cr_assert(json_is_boolean(json_object_get(v, "available")));
        if (json_is_false(json_object_get(v, "available")))
            cr_assert(json_is_string(json_object_get(v, "reason")), "unavailable says why");
    }
    json_array_foreach(w, i, v) {
        cr_assert_gt(json_array_size(json_object_get(v, "params")), 0);
        cr_assert(json_is_string(json_object_get(v, "lesson")));
    }
    json_decref(o);
    result_free(&r);
}

Test(cli, help_and_version)
{
    struct result r = engine("--help", NULL);
    cr_assert_eq(r.status, 0);
    cr_assert_not_null(strstr(r.out, "run WORKLOAD"));
    result_free(&r);
    r = engine("--version", NULL);
    cr_assert_eq(r.status, 0);
    cr_assert_not_null(strstr(r.out, "scalelab-engine"));
    result_free(&r);
}

/* --- the mpi backend, as the CLI runs it --- */

/* Skip when this build or host has no MPI (the backend then says why: see the last test). */
static void need_mpi(void)
{
    struct result r = engine("list --json", NULL);
    json_t *o = json_loads(r.out, 0, NULL);
    size_t i;
    json_t *b;
    int ok = 0;
    json_array_foreach(json_object_get(o, "backends"), i, b)
        if (strcmp(json_string_value(json_object_get(b, "name")), "mpi") == 0)
            ok = json_is_true(json_object_get(b, "available"));
    json_decref(o);
    result_free(&r);
    if (!ok)
        cr_skip_test("mpi is unavailable in this build");
}

/* The measurement lines of a --json run's output, as an array (new reference). */
static json_t *measurements_of(char *out, json_t **header)
{
    json_t *all = json_array();
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (type && strcmp(type, "measurement") == 0)
            json_array_append(all, o);
        if (type && strcmp(type, "header") == 0 && header)
            *header = json_incref(o);
        json_decref(o);
    }
    return all;
}

Test(cli, mpi_matches_serial_bit_for_bit_and_reports_launch_and_communication, .timeout = 120)
{
    need_mpi();
    struct result r = engine("run pi --set samples=1e6 --backends serial,mpi --cores 1,2 "
                             "--repeats 2 --warmup 0 --json",
                             NULL);
    cr_assert_eq(r.status, 0, "exit 0: %s", r.err);
    json_t *header = NULL, *ms = measurements_of(r.out, &header), *m;
    json_int_t ref = -1;
    size_t i;
    int mpi_runs = 0;
    cr_assert_not_null(header);
    json_t *hosts = json_object_get(header, "mpi_hosts");
    cr_assert_eq(json_array_size(hosts), 1, "the header names this host and its slots");
    cr_assert_gt(json_integer_value(json_object_get(json_array_get(hosts, 0), "slots")), 0);
    json_array_foreach(ms, i, m) {
        json_int_t count = json_integer_value(json_object_get(m, "result_count"));
        cr_assert(json_is_true(json_object_get(m, "verified")));
        if (ref < 0)
            ref = count;
        cr_assert_eq(count, ref, "every run gives the same count of hits");
        if (strcmp(json_string_value(json_object_get(m, "backend")), "mpi") != 0) {
            cr_assert_null(json_object_get(m, "launch_ns"), "only ranks have a launch");
            continue;
        }
        mpi_runs++;
        json_int_t cores = json_integer_value(json_object_get(m, "cores"));
        json_int_t launch = json_integer_value(json_object_get(m, "launch_ns"));
        json_int_t wall = json_integer_value(json_object_get(m, "wall_ns"));
        cr_assert_gt(launch, 1000000, "starting ranks takes more than 1 ms (%lld ns)", launch);
        cr_assert_lt(wall, launch, "the launch is not inside a run's wall time");
        cr_assert_gt(json_integer_value(json_object_get(m, "comm_ns")), 0, "MPI calls timed");
        cr_assert_eq(json_array_size(json_object_get(m, "hosts")), (size_t)cores, "a host per rank");
        json_t *cpus = json_object_get(m, "cpus");
        cr_assert_eq(json_array_size(cpus), (size_t)cores, "a CPU per rank");
        /* the ranks' CPU time counts (the engine's getrusage cannot see them) */
        double busy_sum = 0;
        for (size_t w = 0; w < (size_t)cores; w++)
            busy_sum += (double)json_integer_value(json_array_get(json_object_get(m, "busy_ns"), w));
        double cpu = (double)(json_integer_value(json_object_get(m, "user_ns")) +
                              json_integer_value(json_object_get(m, "sys_ns")));
        cr_assert_geq(cpu, 0.5 * busy_sum, "CPU time %.0f ns covers the ranks' kernels (%.0f ns)",
                      cpu, busy_sum);
        for (size_t w = 0; w < (size_t)cores; w++)
            cr_assert_geq(json_integer_value(json_array_get(cpus, w)), 0, "ranks say where they ran");
        cr_assert_eq(json_array_size(json_object_get(m, "busy_ns")), (size_t)cores);
        json_int_t parts = json_integer_value(json_object_get(m, "spawn_ns")) +
                           json_integer_value(json_object_get(m, "compute_ns")) +
                           json_integer_value(json_object_get(m, "combine_ns"));
        cr_assert_leq(parts, wall, "phases add up to no more than the wall time");
    }
    cr_assert_eq(mpi_runs, 4);
    json_decref(ms);
    json_decref(header);
    result_free(&r);
}

Test(cli, mpi_runs_every_workload_and_the_wavefront_exchanges, .timeout = 180)
{
    need_mpi();
    static const char *const runs[] = {
        "run paths --set m=301 --set n=97", "run matmul --set n=61",
        "run sumsq --set n=100003",         "run euler --set trajectories=5 --set steps=999",
        "run sleep --set tasks=5 --set us=100", "run pi --set samples=99991",
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        char args[256];
        snprintf(args, sizeof args, "%s --backends serial,mpi --cores 1,2,3 --oversubscribe "
                                    "--repeats 1 --warmup 0 --no-progress", runs[k]);
        struct result r = engine(args, NULL);
        cr_assert_eq(r.status, 0, "%s: exit 0 (3 = a result did not verify or differs from "
                                  "serial): %s", runs[k], r.err);
        result_free(&r);
    }
}

Test(cli, mpi_hybrid_ranks_times_threads, .timeout = 60)
{
    need_mpi();
    struct result r = engine("run paths --set m=200 --set n=150 --backends serial,mpi --cores 2,4 "
                             "--threads-per-rank 2 --oversubscribe --repeats 1 --warmup 0 --json",
                             NULL);
    cr_assert_eq(r.status, 0, "exit 0: %s", r.err);
    json_t *ms = measurements_of(r.out, NULL), *m;
    size_t i;
    json_array_foreach(ms, i, m) {
        if (strcmp(json_string_value(json_object_get(m, "backend")), "mpi") != 0)
            continue;
        size_t cores = (size_t)json_integer_value(json_object_get(m, "cores"));
        cr_assert_eq(json_array_size(json_object_get(m, "busy_ns")), cores, "a busy time per thread");
        cr_assert_eq(json_array_size(json_object_get(m, "hosts")), cores / 2, "a host per rank");
    }
    json_decref(ms);
    result_free(&r);
}

Test(cli, mpi_hostfile_places_ranks_and_is_recorded, .timeout = 60)
{
    need_mpi();
    char path[] = "/tmp/sl-hostfile-XXXXXX", args[512];
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "# test\nlocalhost slots=2\n", 25), 25);
    close(fd);
    snprintf(args, sizeof args, "run pi --set samples=1e5 --backends mpi --cores 2 --hostfile %s "
                                "--repeats 1 --warmup 0 --json", path);
    struct result r = engine(args, NULL);
    cr_assert_eq(r.status, 0, "exit 0: %s", r.err);
    json_t *header = NULL, *ms = measurements_of(r.out, &header);
    json_t *h0 = json_array_get(json_object_get(header, "mpi_hosts"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(h0, "name")), "localhost");
    cr_assert_eq(json_integer_value(json_object_get(h0, "slots")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(header, "job"), "hostfile")),
                     path);
    cr_assert_eq(json_array_size(json_object_get(json_array_get(ms, 0), "hosts")), 2);
    json_decref(ms);
    json_decref(header);
    result_free(&r);
    unlink(path);
}

Test(cli, mpi_without_its_runtime_is_unavailable_and_says_what_to_install)
{
    setenv("SCALELAB_MPIRUN", "/nonexistent/mpirun", 1);
    struct result r = engine("list", NULL);
    cr_assert_eq(r.status, 0);
    const char *line = strstr(r.out, "  mpi ");
    cr_assert_not_null(line, "mpi is listed: %s", r.out);
    cr_assert(strncmp(line, "  mpi        unavailable", 24) == 0, "unavailable: %.80s", line);
    cr_assert_not_null(strstr(line, "install openmpi-bin"), "names the package: %.200s", line);
    result_free(&r);
    r = engine("run pi --backends mpi --cores 1", NULL);
    cr_assert_eq(r.status, 2);
    assert_one_line(r.err, "mpi unavailable");
    cr_assert_not_null(strstr(r.err, "backend \"mpi\" cannot run on this host"), "%s", r.err);
    result_free(&r);
}

/* End to end: runs whose result is wrong (the test-only workload's mode 1 on 2 workers) are
 * reported, counted, left out of every statistic, and the engine exits 3. */
Test(cli, unverified_runs_exit_3_counted_and_excluded, .timeout = 60)
{
    setenv("SCALELAB_TEST_WORKLOADS", "1", 1);
    struct result r = engine("run crash --set mode=1 --backends serial,threads --cores 1,2 "
                             "--repeats 3 --warmup 0 --json",
                             NULL);
    cr_assert_eq(r.status, 3, "exit 3 when results failed verification: %s", r.err);
    assert_one_line(r.err, "unverified runs");
    cr_assert(strstr(r.err, "3 run(s) failed verification and were left out"), "%s", r.err);
    const char *last = strrchr(r.out, '{');
    while (last > r.out && strncmp(last, "{\"type\":\"summary\"", 17) != 0)
        last--;
    json_error_t e;
    json_t *s = json_loads(last, 0, &e);
    cr_assert_not_null(s, "summary line: %s", e.text);
    cr_assert_eq(json_integer_value(json_object_get(s, "unverified")), 3);
    json_t *a = json_object_get(s, "analysis");
    cr_assert_eq(json_integer_value(json_object_get(a, "excluded_unverified")), 3);
    size_t i;
    json_t *p;
    int seen = 0;
    json_array_foreach(json_object_get(a, "points"), i, p) {
        if (json_integer_value(json_object_get(p, "cores")) != 2)
            continue;
        seen = 1;
        cr_assert_eq(json_integer_value(json_object_get(p, "runs")), 3);
        cr_assert_eq(json_integer_value(json_object_get(p, "verified")), 0);
        cr_assert_eq(json_integer_value(json_object_get(p, "excluded")), 3);
        json_t *w = json_object_get(p, "wall_s");
        cr_assert_eq(json_integer_value(json_object_get(w, "n")), 0, "no run summarised");
        cr_assert(json_is_null(json_object_get(w, "median")), "no median from wrong runs");
        cr_assert(json_is_null(json_object_get(p, "speedup")), "no speedup from wrong runs");
    }
    cr_assert(seen, "threads at 2 cores is in the analysis");
    json_decref(s);
    result_free(&r);

    r = engine("run crash --set mode=1 --backends threads --cores 1,2 --repeats 2 --warmup 0 "
               "--no-progress", NULL);
    cr_assert_eq(r.status, 3);
    cr_assert(strstr(r.out, "2 run(s) did not verify: left out of every median"), "%s", r.out);
    result_free(&r);
}

/* Where the workers ran: pinned close, worker i finishes on the i-th CPU this process may use. */
Test(cli, every_worker_records_the_cpu_it_ran_on, .timeout = 120)
{
    cpu_set_t set;
    int allowed[2], n = 0;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &set))
            allowed[n++] = c;
    if (n < 2)
        cr_skip_test("one usable CPU");
    struct result r = engine("run paths --set m=300 --set n=200 --backends threads,openmp,pool,"
                             "processes --cores 2 --affinity close --repeats 1 --warmup 0 --json",
                             NULL);
    cr_assert_eq(r.status, 0, "exit 0: %s", r.err);
    json_t *ms = measurements_of(r.out, NULL), *m;
    size_t i;
    json_array_foreach(ms, i, m) {
        json_t *cpus = json_object_get(m, "cpus");
        const char *be = json_string_value(json_object_get(m, "backend"));
        cr_assert_eq(json_array_size(cpus), 2, "%s: a CPU per worker", be);
        for (size_t w = 0; w < 2; w++)
            cr_assert_eq(json_integer_value(json_array_get(cpus, w)), allowed[w],
                         "%s: worker %zu pinned close runs on CPU %d, not %lld", be, w, allowed[w],
                         json_integer_value(json_array_get(cpus, w)));
    }
    cr_assert_eq(json_array_size(ms), 4);
    json_decref(ms);
    result_free(&r);
}

/* The user's program after --: placeholders from --cores and --set, --name, --env; its
 * argv never sees the engine's options; bad uses exit 2 with one line. */
Test(cli, a_program_after_double_dash, .timeout = 60)
{
    struct result r = engine("run --cores 1,2 --repeats 1 --warmup 0 --set n=3 --name echoer "
                             "--env GREETING=hi-{n} --json -- sh -c "
                             "'echo \"scalelab: {\\\"result\\\": {cores}, \\\"work\\\": {n}}\"; "
                             "test \"$GREETING\" = hi-3' x --json",
                             NULL);
    cr_assert_eq(r.status, 0, "exit 0: %s", r.err);
    json_t *last = NULL;
    unsigned measured = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, NULL);
        cr_assert_not_null(o, "every stdout line is JSON: %s", line);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (strcmp(type, "measurement") == 0) {
            measured++;
            cr_assert_str_eq(json_string_value(json_object_get(o, "backend")), "echoer");
            cr_assert(json_is_true(json_object_get(o, "verified")), "%s", line);
            cr_assert_eq(json_number_value(json_object_get(o, "result")),
                         json_integer_value(json_object_get(o, "cores")), "{cores} substituted");
            cr_assert_eq(json_integer_value(json_object_get(o, "work")), 3, "{n} substituted");
        }
        json_decref(last);
        last = o;
    }
    cr_assert_eq(measured, 2);
    cr_assert_str_eq(json_string_value(json_object_get(last, "type")), "summary");
    cr_assert_eq(json_array_size(json_object_get(last, "outputs")), 2, "each point's last output");
    json_decref(last);
    result_free(&r);

    static const char *const bad[] = {
        "run --cores 1 --",                          /* no program */
        "run --name x --cores 1",                    /* a program option without a program */
        "run --cores 1 -- x '{nope}'",               /* an unknown placeholder */
        "run --job - -- true",                       /* a job file and a program */
        "run --timeout 0 --cores 1 -- true",         /* a timeout must be above 0 */
        "run --timeout soon --cores 1 -- true",      /* ... and a number */
        "run --timeout 86401 --cores 1 -- true",     /* ... of at most a day */
        "run --timeout 5 pi",                        /* a program option without a program */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = engine(bad[i], "{}");
        cr_assert_eq(r.status, 2, "%s: exit 2, got %d", bad[i], r.status);
        cr_assert(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "%s: one line: %s", bad[i], r.err);
        result_free(&r);
    }
}

/* --timeout: a run past it is killed, a failed point whose message says so (exit 3: a point
 * failed), and the sweep goes on to the next core count. */
Test(cli, timeout_kills_a_slow_program_and_the_sweep_goes_on, .timeout = 60)
{
    struct result r = engine("run --cores 1,2 --repeats 1 --warmup 0 --timeout 0.5 --json -- "
                             "sh -c 'echo slow >&2; sleep {cores}0'", NULL);
    cr_assert_eq(r.status, 3, "exit 3 when points failed: %s", r.err);
    unsigned failed = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, NULL);
        cr_assert_not_null(o, "%s", line);
        if (strcmp(json_string_value(json_object_get(o, "type")), "measurement") == 0) {
            const char *msg = json_string_value(json_object_get(o, "message"));
            cr_assert(json_is_false(json_object_get(o, "verified")), "%s", line);
            cr_assert(msg && strstr(msg, "timed out after 0.5 s") && strstr(msg, "slow"), "%s", line);
            cr_assert(json_is_true(json_object_get(json_object_get(o, "exit"), "timed_out")), "%s", line);
            failed++;
        }
        json_decref(o);
    }
    cr_assert_eq(failed, 2, "both core counts were run and timed out");
    cr_assert(strstr(r.err, "timed out"), "the summary line says why: %s", r.err);
    result_free(&r);
}
