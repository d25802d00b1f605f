/* test_job.c — parsing and checking jobs: defaults, a full job, round trips, and refusals. */

/*
 * Every job is written as the JSON a user would send and parsed with explicit limits
 * (2 usable cores, 4 GB of memory), so results do not depend on the host running the tests.
 * Refusals are table-driven: each bad job names the code it must get and a piece of the
 * message a user would need to fix it (the field, or the allowed values).
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "job.h"
#include "sl.h"
#include "workload.h"

static const struct sl_job_limits lim2 = {.max_cores = 2, .max_memory = 4e9};

/* Parse text as a job under lim; returns the code and leaves the message in err. */
static int parse(const char *text, const struct sl_job_limits *lim, struct sl_job *job,
                 char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loads(text, JSON_DECODE_ANY, &jerr);
    cr_assert_not_null(o, "test JSON must be valid: %s (%s)", text, jerr.text);
    err[0] = '\0';
    int rc = sl_job_from_json(o, lim, job, err, errlen);
    json_decref(o);
    return rc;
}

/* Parse text that must be accepted. */
static void parse_ok(const char *text, const struct sl_job_limits *lim, struct sl_job *job)
{
    char err[512];
    int rc = parse(text, lim, job, err, sizeof err);
    cr_assert_eq(rc, 0, "job %s should be accepted, got %d: %s", text, rc, err);
}

static void assert_cores(const struct sl_job *job, const unsigned *want, unsigned n,
                         const char *what)
{
    cr_assert_eq(job->ncores, n, "%s: number of core counts: got %u, want %u", what,
                 job->ncores, n);
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(job->cores[i], want[i], "%s: cores[%u]: got %u, want %u", what, i,
                     job->cores[i], want[i]);
}

/* Field by field: struct padding makes memcmp meaningless. */
static void assert_jobs_equal(const struct sl_job *a, const struct sl_job *b)
{
    cr_assert_eq(a->wl, b->wl, "round trip keeps the workload");
    for (unsigned i = 0; i < a->wl->nparams; i++)
        cr_assert_eq(a->params[i], b->params[i], "round trip keeps params.%s: %g vs %g",
                     a->wl->params[i].name, a->params[i], b->params[i]);
    cr_assert_eq(a->nbackends, b->nbackends, "round trip keeps the number of backends");
    for (unsigned i = 0; i < a->nbackends; i++)
        cr_assert_eq(a->backends[i], b->backends[i], "round trip keeps backends[%u] (%s vs %s)",
                     i, a->backends[i]->name, b->backends[i]->name);
    cr_assert_eq(a->ncores, b->ncores, "round trip keeps the number of core counts");
    for (unsigned i = 0; i < a->ncores; i++)
        cr_assert_eq(a->cores[i], b->cores[i], "round trip keeps cores[%u]", i);
    cr_assert_eq(a->repeats, b->repeats, "round trip keeps repeats");
    cr_assert_eq(a->warmup, b->warmup, "round trip keeps warmup");
    cr_assert_eq(a->weak, b->weak, "round trip keeps scaling");
    cr_assert_eq(a->variant, b->variant, "round trip keeps variant");
    cr_assert_eq(a->affinity, b->affinity, "round trip keeps affinity");
    cr_assert_eq(a->schedule, b->schedule, "round trip keeps schedule");
    cr_assert_eq(a->chunk, b->chunk, "round trip keeps chunk");
    cr_assert_eq(a->oversubscribe, b->oversubscribe, "round trip keeps oversubscribe");
}

/* to_json, then from_json under the same limits, must give the same job back. */
static void assert_round_trip(const struct sl_job *job, const struct sl_job_limits *lim)
{
    json_t *o = sl_job_to_json(job);
    cr_assert_not_null(o, "sl_job_to_json returns an object");
    char *text = json_dumps(o, JSON_COMPACT);
    struct sl_job back;
    char err[512] = "";
    int rc = sl_job_from_json(o, lim, &back, err, sizeof err);
    cr_assert_eq(rc, 0, "the job's own JSON %s parses again, got %d: %s", text, rc, err);
    free(text);
    json_decref(o);
    assert_jobs_equal(job, &back);
}

Test(job, minimal_job_gets_defaults)
{
    struct sl_job job;
    parse_ok("{\"workload\": \"pi\"}", &lim2, &job);
    const struct sl_workload *pi = sl_workload_find("pi");
    cr_assert_not_null(pi, "the pi workload exists");
    cr_assert_eq(job.wl, pi, "workload is pi");
    for (unsigned i = 0; i < pi->nparams; i++)
        cr_assert_eq(job.params[i], pi->params[i].def, "params.%s defaults to %g, got %g",
                     pi->params[i].name, pi->params[i].def, job.params[i]);
    cr_assert_eq(job.params[0], 2e8, "pi's samples default is 2e8");
    cr_assert_eq(job.repeats, 5, "repeats defaults to 5");
    cr_assert_eq(job.warmup, 1, "warmup defaults to 1");
    cr_assert_eq(job.weak, 0, "scaling defaults to strong");
    cr_assert_eq(job.variant, SL_VECTOR, "variant defaults to vector");
    cr_assert_eq(job.affinity, SL_AFF_NONE, "affinity defaults to none");
    cr_assert_eq(job.schedule, SL_SCHED_STATIC, "schedule defaults to static");
    cr_assert_eq(job.chunk, 0, "chunk defaults to 0 (automatic)");
    cr_assert_eq(job.oversubscribe, 0, "oversubscribe defaults to false");

    /* Backends default to every backend whose probe says it can run here, in list order. */
    unsigned n = 0;
    for (const struct sl_backend *const *b = sl_backends; *b; b++) {
        char why[160];
        if ((*b)->probe(why, sizeof why) != 0)
            continue;
        cr_assert_lt(n, job.nbackends, "default backends include %s", (*b)->name);
        cr_assert_eq(job.backends[n], *b, "default backends[%u] is %s, got %s", n, (*b)->name,
                     job.backends[n]->name);
        n++;
    }
    cr_assert_eq(job.nbackends, n, "default backends are exactly the available ones (%u)", n);
    cr_assert_geq(n, 2, "at least serial and threads are always available");

    const unsigned want[] = {1, 2};
    assert_cores(&job, want, 2, "default cores with max_cores 2");
}

Test(job, default_cores_double_up_to_the_limit)
{
    struct sl_job job;
    struct sl_job_limits lim = {.max_cores = 6, .max_memory = 4e9};
    parse_ok("{\"workload\": \"pi\"}", &lim, &job);
    const unsigned six[] = {1, 2, 4, 6};
    assert_cores(&job, six, 4, "default cores with max_cores 6");

    lim.max_cores = 8;
    parse_ok("{\"workload\": \"pi\"}", &lim, &job);
    const unsigned eight[] = {1, 2, 4, 8};
    assert_cores(&job, eight, 4, "default cores with max_cores 8 (8 not listed twice)");

    lim.max_cores = 1;
    parse_ok("{\"workload\": \"pi\"}", &lim, &job);
    const unsigned one[] = {1};
    assert_cores(&job, one, 1, "default cores with max_cores 1");
}

Test(job, full_job_parses_every_field)
{
    struct sl_job job;
    parse_ok("{\"workload\": \"sumsq\", \"params\": {\"n\": 1e6},"
             " \"backends\": [\"threads\", \"serial\", \"processes\"],"
             " \"cores\": [4, 1, 2], \"repeats\": 7, \"warmup\": 0, \"scaling\": \"weak\","
             " \"variant\": \"scalar\", \"affinity\": \"spread\", \"schedule\": \"dynamic\","
             " \"chunk\": 64, \"oversubscribe\": true}",
             &lim2, &job);
    cr_assert_eq(job.wl, sl_workload_find("sumsq"), "workload is sumsq");
    cr_assert_eq(job.params[0], 1e6, "params.n is 1e6, got %g", job.params[0]);
    cr_assert_eq(job.nbackends, 3, "three backends");
    cr_assert_str_eq(job.backends[0]->name, "threads", "backends keep the given order [0]");
    cr_assert_str_eq(job.backends[1]->name, "serial", "backends keep the given order [1]");
    cr_assert_str_eq(job.backends[2]->name, "processes", "backends keep the given order [2]");
    const unsigned want[] = {1, 2, 4};
    assert_cores(&job, want, 3, "cores are sorted ascending");
    cr_assert_eq(job.repeats, 7, "repeats");
    cr_assert_eq(job.warmup, 0, "warmup 0 is allowed");
    cr_assert_eq(job.weak, 1, "scaling weak");
    cr_assert_eq(job.variant, SL_SCALAR, "variant scalar");
    cr_assert_eq(job.affinity, SL_AFF_SPREAD, "affinity spread");
    cr_assert_eq(job.schedule, SL_SCHED_DYNAMIC, "schedule dynamic");
    cr_assert_eq(job.chunk, 64, "chunk");
    cr_assert_eq(job.oversubscribe, 1, "oversubscribe true");

    assert_round_trip(&job, &lim2);
}

Test(job, round_trip_of_defaults_and_of_other_enums)
{
    struct sl_job job;
    parse_ok("{\"workload\": \"pi\"}", &lim2, &job);
    assert_round_trip(&job, &lim2);

    parse_ok("{\"workload\": \"matmul\", \"params\": {\"n\": 256}, \"cores\": [2],"
             " \"affinity\": \"close\", \"schedule\": \"guided\", \"scaling\": \"strong\","
             " \"variant\": \"vector\", \"repeats\": 1000, \"warmup\": 100}",
             &lim2, &job);
    cr_assert_eq(job.affinity, SL_AFF_CLOSE, "affinity close");
    cr_assert_eq(job.schedule, SL_SCHED_GUIDED, "schedule guided");
    cr_assert_eq(job.repeats, SL_MAX_REPEATS, "repeats at its maximum is accepted");
    cr_assert_eq(job.warmup, SL_MAX_WARMUP, "warmup at its maximum is accepted");
    assert_round_trip(&job, &lim2);

    json_t *o = sl_job_to_json(&job);
    cr_assert_str_eq(json_string_value(json_object_get(o, "scaling")), "strong",
                     "to_json writes scaling by name");
    cr_assert_str_eq(json_string_value(json_object_get(o, "affinity")), "close",
                     "to_json writes affinity by name");
    cr_assert_str_eq(json_string_value(json_object_get(o, "schedule")), "guided",
                     "to_json writes schedule by name");
    cr_assert(json_is_false(json_object_get(o, "oversubscribe")),
              "to_json writes oversubscribe as a boolean");
    json_decref(o);
}

Test(job, oversubscribe_allows_more_cores_than_the_limit)
{
    struct sl_job job;
    parse_ok("{\"workload\": \"pi\", \"cores\": [4, 1], \"oversubscribe\": true}", &lim2, &job);
    const unsigned want[] = {1, 4};
    assert_cores(&job, want, 2, "oversubscribed cores");
    cr_assert_eq(job.oversubscribe, 1, "oversubscribe is recorded");
}

Test(job, weak_scaling_within_limits_is_accepted)
{
    struct sl_job job;
    /* m = 5e5 doubles to 1e6 at 2 cores: exactly its maximum, still allowed. */
    parse_ok("{\"workload\": \"paths\", \"params\": {\"m\": 5e5}, \"cores\": [1, 2],"
             " \"scaling\": \"weak\"}",
             &lim2, &job);
    cr_assert_eq(job.weak, 1, "weak scaling");
    cr_assert_eq(sl_job_weak_value(&job, 2), 1e6, "m at 2 cores is 1e6");
}

struct bad_job {
    const char *what; /* the mistake */
    const char *json; /* the job */
    int code;         /* expected return value (negative) */
    const char *hint; /* a piece of the message */
};

static const struct bad_job bad_jobs[] = {
    {"not an object", "[1, 2]", -SL_EINVAL, "JSON object"},
    {"a bare string", "\"pi\"", -SL_EINVAL, "JSON object"},
    {"missing workload", "{}", -SL_EINVAL, "workload is required"},
    {"unknown workload", "{\"workload\": \"fib\"}", -SL_ENOENT, "\"fib\" is not known"},
    {"unknown workload lists them", "{\"workload\": \"fib\"}", -SL_ENOENT,
     "pi, sumsq, euler, paths, sleep, matmul"},
    {"workload not a string", "{\"workload\": 3}", -SL_EINVAL, "workload is required"},
    {"unknown top-level field", "{\"workload\": \"pi\", \"threads\": 4}", -SL_ENOENT,
     "unknown field \"threads\""},
    {"params not an object", "{\"workload\": \"pi\", \"params\": [1]}", -SL_EINVAL,
     "params must be an object"},
    {"unknown param", "{\"workload\": \"pi\", \"params\": {\"n\": 5}}", -SL_ENOENT,
     "its parameters are: samples, seed"},
    {"param below range", "{\"workload\": \"pi\", \"params\": {\"samples\": 0}}", -SL_ERANGE,
     "allowed 1 to 1e+13"},
    {"param above range", "{\"workload\": \"matmul\", \"params\": {\"n\": 16385}}", -SL_ERANGE,
     "matmul.n = 16385 is out of range: allowed 1 to 16384"},
    {"non-integer for integer param", "{\"workload\": \"pi\", \"params\": {\"samples\": 2.5}}",
     -SL_EINVAL, "pi.samples must be a whole number"},
    {"param not a number", "{\"workload\": \"pi\", \"params\": {\"samples\": \"1e9\"}}",
     -SL_EINVAL, "params.samples must be a number"},
    {"backends not an array", "{\"workload\": \"pi\", \"backends\": \"threads\"}", -SL_EINVAL,
     "backends must be a non-empty list"},
    {"empty backends", "{\"workload\": \"pi\", \"backends\": []}", -SL_EINVAL,
     "backends must be a non-empty list"},
    {"unknown backend", "{\"workload\": \"pi\", \"backends\": [\"fortran\"]}", -SL_ENOENT,
     "backend \"fortran\" is not known"},
    {"threads_per_rank 0", "{\"workload\": \"pi\", \"threads_per_rank\": 0}", -SL_ERANGE,
     "threads_per_rank = 0 is out of range"},
    {"core count not a multiple of threads_per_rank",
     "{\"workload\": \"pi\", \"cores\": [1, 2], \"threads_per_rank\": 2}", -SL_EINVAL,
     "every core count must be a multiple of 2 (ranks x threads); 1 is not"},
    {"hostfile not a string", "{\"workload\": \"pi\", \"hostfile\": 3}", -SL_EINVAL,
     "hostfile must be the path of an mpirun hostfile"},
    {"hostfile missing", "{\"workload\": \"pi\", \"hostfile\": \"/nonexistent/hosts\"}",
     -SL_ENOENT, "hostfile /nonexistent/hosts cannot be read"},
    {"duplicate backend", "{\"workload\": \"pi\", \"backends\": [\"threads\", \"threads\"]}",
     -SL_EINVAL, "\"threads\" is listed twice"},
    {"backend not a string", "{\"workload\": \"pi\", \"backends\": [\"serial\", 1]}",
     -SL_EINVAL, "backends[1] must be a name"},
    {"too many backends",
     "{\"workload\": \"pi\", \"backends\": [\"serial\", \"serial\", \"serial\", \"serial\","
     " \"serial\", \"serial\", \"serial\", \"serial\", \"serial\", \"serial\", \"serial\","
     " \"serial\", \"serial\", \"serial\", \"serial\", \"serial\", \"serial\"]}",
     -SL_ERANGE, "at most 16"},
    {"cores not an array", "{\"workload\": \"pi\", \"cores\": 2}", -SL_EINVAL,
     "cores must be a non-empty list"},
    {"empty cores", "{\"workload\": \"pi\", \"cores\": []}", -SL_EINVAL,
     "cores must be a non-empty list"},
    {"cores 0", "{\"workload\": \"pi\", \"cores\": [0]}", -SL_ERANGE,
     "cores[0] must be a whole number from 1 to 1024"},
    {"cores 2.5", "{\"workload\": \"pi\", \"cores\": [1, 2.5]}", -SL_ERANGE,
     "cores[1] must be a whole number"},
    {"cores not a number", "{\"workload\": \"pi\", \"cores\": [\"2\"]}", -SL_ERANGE,
     "cores[0] must be a whole number"},
    {"cores above max_cores", "{\"workload\": \"pi\", \"cores\": [1, 3]}", -SL_ELIMIT,
     "oversubscribe"},
    {"cores above SL_MAX_WORKERS even oversubscribed",
     "{\"workload\": \"pi\", \"cores\": [1025], \"oversubscribe\": true}", -SL_ERANGE,
     "from 1 to 1024"},
    {"cores duplicated", "{\"workload\": \"pi\", \"cores\": [1, 2, 1]}", -SL_EINVAL,
     "cores lists 1 twice"},
    {"repeats 0", "{\"workload\": \"pi\", \"repeats\": 0}", -SL_ERANGE,
     "repeats = 0 is out of range: a whole number from 1 to 1000"},
    {"repeats 1001", "{\"workload\": \"pi\", \"repeats\": 1001}", -SL_ERANGE,
     "from 1 to 1000"},
    {"repeats 2.5", "{\"workload\": \"pi\", \"repeats\": 2.5}", -SL_ERANGE, "whole number"},
    {"repeats as a string", "{\"workload\": \"pi\", \"repeats\": \"5\"}", -SL_EINVAL,
     "repeats must be a number"},
    {"warmup -1", "{\"workload\": \"pi\", \"warmup\": -1}", -SL_ERANGE, "warmup = -1"},
    {"warmup 101", "{\"workload\": \"pi\", \"warmup\": 101}", -SL_ERANGE, "from 0 to 100"},
    {"scaling medium", "{\"workload\": \"pi\", \"scaling\": \"medium\"}", -SL_EINVAL,
     "scaling \"medium\" is not known; use one of: strong, weak"},
    {"scaling not a string", "{\"workload\": \"pi\", \"scaling\": 1}", -SL_EINVAL,
     "scaling must be a string"},
    {"variant fast", "{\"workload\": \"pi\", \"variant\": \"fast\"}", -SL_EINVAL,
     "scalar, vector"},
    {"affinity numa", "{\"workload\": \"pi\", \"affinity\": \"numa\"}", -SL_EINVAL,
     "none, close, spread"},
    {"schedule auto", "{\"workload\": \"pi\", \"schedule\": \"auto\"}", -SL_EINVAL,
     "static, dynamic, guided"},
    {"oversubscribe yes", "{\"workload\": \"pi\", \"oversubscribe\": \"yes\"}", -SL_EINVAL,
     "oversubscribe must be true or false"},
    {"chunk -5", "{\"workload\": \"pi\", \"chunk\": -5}", -SL_ERANGE, "chunk = -5"},
    {"memory above the limit", "{\"workload\": \"sumsq\", \"params\": {\"n\": 1e10}}",
     -SL_ELIMIT, "memory"},
    {"weak scaling past a param's max",
     "{\"workload\": \"paths\", \"params\": {\"m\": 1e6}, \"cores\": [1, 2],"
     " \"scaling\": \"weak\", \"oversubscribe\": false}",
     -SL_ERANGE, "weak scaling grows paths.m to 2e+06 at 2 cores"},
    {"weak scaling adds up memory over core counts",
     "{\"workload\": \"sumsq\", \"params\": {\"n\": 2e8}, \"cores\": [1, 2],"
     " \"scaling\": \"weak\"}",
     -SL_ELIMIT, "memory"},
};

Test(job, bad_jobs_are_refused_with_a_useful_message)
{
    const size_t n = sizeof bad_jobs / sizeof bad_jobs[0];
    cr_assert_geq(n, 25, "the catalogue has at least 25 bad jobs");
    for (size_t i = 0; i < n; i++) {
        const struct bad_job *b = &bad_jobs[i];
        struct sl_job job;
        char err[512];
        int rc = parse(b->json, &lim2, &job, err, sizeof err);
        cr_expect_eq(rc, b->code, "%s: %s should return %d (%s), got %d (message: %s)", b->what,
                     b->json, b->code, sl_strerror(b->code), rc, err);
        cr_expect(strstr(err, b->hint) != NULL, "%s: message should contain \"%s\", got \"%s\"",
                  b->what, b->hint, err);
    }
}

Test(job, sumsq_memory_fits_when_the_limit_allows_it)
{
    /* The same n = 1e10 (80 GB) that is refused under 4 GB passes under 100 GB. */
    struct sl_job job;
    struct sl_job_limits lim = {.max_cores = 2, .max_memory = 1e11};
    parse_ok("{\"workload\": \"sumsq\", \"params\": {\"n\": 1e10}}", &lim, &job);
    cr_assert_eq(job.params[0], 1e10, "n is kept");
}

Test(job, weak_value_grows_with_cores)
{
    struct sl_job job;
    parse_ok("{\"workload\": \"pi\", \"params\": {\"samples\": 1000}}", &lim2, &job);
    cr_assert_eq(sl_job_weak_value(&job, 1), 1000, "pi samples at 1 core is the base");
    cr_assert_eq(sl_job_weak_value(&job, 4), 4000, "pi samples at 4 cores: 1000 * 4, got %g",
                 sl_job_weak_value(&job, 4));

    parse_ok("{\"workload\": \"matmul\", \"params\": {\"n\": 100}}", &lim2, &job);
    cr_assert_eq(sl_job_weak_value(&job, 8), 200,
                 "matmul n at 8 cores: 100 * 8^(1/3) = 200 (work grows as n^3), got %g",
                 sl_job_weak_value(&job, 8));
    cr_assert_eq(sl_job_weak_value(&job, 2), 126,
                 "matmul n at 2 cores: 100 * 2^(1/3) = 125.99 rounds to 126, got %g",
                 sl_job_weak_value(&job, 2));
}

Test(job, parse_number_accepts_human_numbers)
{
    const struct {
        const char *s;
        double v;
    } good[] = {{"1e9", 1e9}, {"2000000", 2e6}, {"0.5", 0.5}, {"-3", -3}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double v = -1;
        cr_assert_eq(sl_parse_number(good[i].s, &v), 0, "\"%s\" is accepted", good[i].s);
        cr_assert_eq(v, good[i].v, "\"%s\" parses to %g, got %g", good[i].s, good[i].v, v);
    }
}

Test(job, parse_number_refuses_garbage)
{
    const char *bad[] = {"", "abc", "1e9x", "inf", "nan", "1e999", NULL};
    for (size_t i = 0; bad[i]; i++) {
        double v = 42;
        cr_assert_eq(sl_parse_number(bad[i], &v), -SL_EINVAL, "\"%s\" is refused", bad[i]);
        cr_assert_eq(v, 42, "a refused \"%s\" leaves the output alone", bad[i]);
    }
    double v = 42;
    cr_assert_eq(sl_parse_number(NULL, &v), -SL_EINVAL, "NULL is refused");
}

Test(job, enum_names)
{
    cr_assert_str_eq(sl_variant_name(SL_SCALAR), "scalar", "variant name of SL_SCALAR");
    cr_assert_str_eq(sl_variant_name(SL_VECTOR), "vector", "variant name of SL_VECTOR");
    cr_assert_str_eq(sl_affinity_name(SL_AFF_SPREAD), "spread", "affinity name of spread");
    cr_assert_str_eq(sl_schedule_name(SL_SCHED_GUIDED), "guided", "schedule name of guided");
}

Test(job, refusals_name_the_field_they_concern)
{
    static const struct {
        const char *json, *field;
    } cases[] = {
        {"{\"workload\": \"nope\"}", "workload"},
        {"{\"workload\": \"pi\", \"params\": {\"samples\": 0}}", "params.samples"},
        {"{\"workload\": \"pi\", \"params\": {\"nope\": 1}}", "params.nope"},
        {"{\"workload\": \"pi\", \"backends\": [\"gpu\"]}", "backends"},
        {"{\"workload\": \"pi\", \"cores\": [64]}", "cores"},
        {"{\"workload\": \"pi\", \"repeats\": 0}", "repeats"},
        {"{\"workload\": \"pi\", \"scaling\": \"medium\"}", "scaling"},
        {"{\"workload\": \"pi\", \"oversubscribe\": \"yes\"}", "oversubscribe"},
        {"{\"workload\": \"pi\", \"colour\": 1}", "colour"},
        {"{\"workload\": \"paths\", \"params\": {\"m\": 1e6}, \"cores\": [1, 2], \"scaling\": \"weak\"}",
         "params.m"},
        {"{\"command\": {\"argv\": [\"x\"], \"timeout_s\": 0}}", "command.timeout_s"},
        {"{\"command\": {\"argv\": [\"x\"], \"timeout_s\": 1e9}}", "command.timeout_s"},
        {"{\"programs\": [{\"name\": \"a\", \"argv\": [\"x\"]}, {\"name\": \"b\", "
         "\"argv\": [\"y\"], \"timeout_s\": \"5\"}]}", "programs[1].timeout_s"},
        {"{\"command\": {\"argv\": [\"x\", \"{nope}\"]}}", "command.argv[1]"},
    };
    struct sl_job_limits lim = {.max_cores = 2, .max_memory = 4e9};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sl_job job;
        char err[512];
        json_t *o = json_loads(cases[i].json, 0, NULL);
        cr_assert_not_null(o, "case %zu parses", i);
        cr_assert_lt(sl_job_from_json(o, &lim, &job, err, sizeof err), 0, "%s is refused",
                     cases[i].json);
        cr_assert_str_eq(sl_job_error_field(), cases[i].field, "%s concerns %s (got %s)",
                         cases[i].json, cases[i].field, sl_job_error_field());
        json_decref(o);
    }
    json_t *ok = json_loads("{\"workload\": \"pi\"}", 0, NULL);
    struct sl_job job;
    char err[512];
    cr_assert_eq(sl_job_from_json(ok, &lim, &job, err, sizeof err), 0);
    cr_assert_str_eq(sl_job_error_field(), "", "an accepted job leaves no field behind");
    json_decref(ok);
}

Test(job, hostfile_policy_of_a_server)
{
    char path[] = "/tmp/sl-hosts-XXXXXX", err[512];
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "localhost slots=2\n", 18), 18);
    close(fd);
    char body[400];
    snprintf(body, sizeof body, "{\"workload\": \"pi\", \"hostfile\": \"%s\", \"threads_per_rank\": 2,"
                                " \"cores\": [2]}", path);
    json_t *o = json_loads(body, 0, NULL);
    struct sl_job job;
    /* the CLI: any readable file */
    cr_assert_eq(sl_job_from_json(o, &lim2, &job, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(job.hostfile, path);
    cr_assert_eq(job.threads_per_rank, 2);
    json_t *back = sl_job_to_json(&job);
    cr_assert_str_eq(json_string_value(json_object_get(back, "hostfile")), path);
    cr_assert_eq(json_integer_value(json_object_get(back, "threads_per_rank")), 2);
    json_decref(back);
    /* a server without --mpi-hostfile: none */
    struct sl_job_limits lim = lim2;
    lim.hostfile = "";
    cr_assert_eq(sl_job_from_json(o, &lim, &job, err, sizeof err), -SL_EINVAL);
    cr_assert(strstr(err, "--mpi-hostfile") != NULL, "%s", err);
    cr_assert_str_eq(sl_job_error_field(), "hostfile");
    /* a server naming another file: only that one */
    lim.hostfile = "/etc/scalelab/hosts";
    cr_assert_eq(sl_job_from_json(o, &lim, &job, err, sizeof err), -SL_EINVAL);
    cr_assert(strstr(err, "/etc/scalelab/hosts") != NULL, "%s", err);
    /* the named one */
    lim.hostfile = path;
    cr_assert_eq(sl_job_from_json(o, &lim, &job, err, sizeof err), 0, "%s", err);
    json_decref(o);
    unlink(path);
}
