/* test_programs.c — the registry of programs: definitions checked at load ({dir} resolved,
 * undeclared placeholders refused, naming the file), probes with their reason, and a
 * client's choice turned into the engine's job (baseline first, every value range-checked).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "programs.h"
#include "sl.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl-programs-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static const char group[] =
    "{\"group\": \"g\", \"title\": \"G\", \"lesson\": \"l\", \"size_param\": \"n\", \"tolerance\": 0,"
    " \"params\": [{\"name\": \"n\", \"default\": 10, \"min\": 1, \"max\": 100, \"integer\": true}],"
    " \"programs\": ["
    "  {\"name\": \"base\", \"title\": \"b\", \"route\": \"r\", \"lesson\": \"l\", \"baseline\": true,"
    "   \"parallel\": false, \"argv\": [\"{dir}/run\", \"{n}\"], \"requires\": []},"
    "  {\"name\": \"fast\", \"title\": \"f\", \"route\": \"r\", \"lesson\": \"l\","
    "   \"argv\": [\"sh\", \"-c\", \"echo {cores}\"], \"requires\": []},"
    "  {\"name\": \"gone\", \"title\": \"g\", \"route\": \"r\", \"lesson\": \"l\", \"argv\": [\"x\"],"
    "   \"requires\": [\"python3-gone\"], \"probe\": [\"sh\", \"-c\", \"echo 'ImportError: gone' >&2; exit 1\"]}]}";

TestSuite(programs, .init = setup, .fini = teardown);

Test(programs, listing_resolves_dir_and_probes)
{
    char err[512] = "";
    write_file("g.json", group);
    struct sl_programs *r = sl_programs_load(dir, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    json_t *list = sl_programs_list(r);
    json_t *g = json_array_get(json_object_get(list, "groups"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(g, "baseline")), "base");
    json_t *progs = json_object_get(g, "programs");
    const char *argv0 = json_string_value(json_array_get(json_object_get(json_array_get(progs, 0), "argv"), 0));
    cr_assert(strstr(argv0, "/run") && !strstr(argv0, "{dir}"), "{dir} resolved: %s", argv0);
    json_t *gone = json_array_get(progs, 2);
    cr_assert(json_is_false(json_object_get(gone, "available")));
    const char *why = json_string_value(json_object_get(gone, "reason"));
    cr_assert(strstr(why, "python3-gone") && strstr(why, "ImportError: gone"), "%s", why);
    cr_assert(json_is_true(json_object_get(json_array_get(progs, 1), "available")));
    json_decref(list);
    sl_programs_free(r);
}

static int job_of(struct sl_programs *r, const char *body, json_t **job, char *err, char *field)
{
    json_t *b = json_loads(body, 0, NULL);
    cr_assert_not_null(b, "test JSON parses");
    int rc = sl_programs_job(r, b, job, err, 512, field, 64);
    json_decref(b);
    return rc;
}

Test(programs, a_choice_becomes_a_checked_job)
{
    char err[512] = "", field[64] = "";
    json_t *job = NULL;
    write_file("g.json", group);
    struct sl_programs *r = sl_programs_load(dir, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(job_of(r, "{\"programs\": [\"fast\"], \"params\": {\"n\": 7}, \"cores\": [1, 2]}",
                        &job, err, field), 0, "%s", err);
    json_t *progs = json_object_get(job, "programs");
    cr_assert_eq(json_array_size(progs), 2, "the baseline is added");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(progs, 0), "name")), "base");
    cr_assert(json_is_false(json_object_get(json_array_get(progs, 0), "parallel")));
    cr_assert_eq(json_number_value(json_object_get(json_object_get(job, "params"), "n")), 7);
    cr_assert_str_eq(json_string_value(json_object_get(job, "baseline")), "base");
    cr_assert_str_eq(json_string_value(json_object_get(job, "workload")), "g");
    json_decref(job);

    static const struct {
        const char *body, *field, *says;
        int rc;
    } bad[] = {
        {"{\"programs\": [\"fast\"], \"params\": {\"n\": 101}}", "params.n", "out of range", -SL_ERANGE},
        {"{\"programs\": [\"fast\"], \"params\": {\"n\": 1.5}}", "params.n", "whole number", -SL_ERANGE},
        {"{\"programs\": [\"fast\"], \"params\": {\"m\": 1}}", "params.m", "not a parameter", -SL_ENOENT},
        {"{\"programs\": [\"nope\"]}", "programs", "not registered", -SL_ENOENT},
        {"{\"programs\": [\"gone\"]}", "programs", "python3-gone", -SL_EUNAVAIL},
        {"{\"programs\": [{\"argv\": [\"rm\"]}]}", "programs", "\"command\"", -SL_EINVAL},
        {"{\"programs\": [\"fast\"], \"env\": {\"LD_PRELOAD\": \"x\"}}", "env", "unknown field", -SL_ENOENT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        job = NULL;
        int rc = job_of(r, bad[i].body, &job, err, field);
        cr_assert_eq(rc, bad[i].rc, "%s: rc %d (%s)", bad[i].body, rc, err);
        cr_assert_null(job);
        cr_assert_str_eq(field, bad[i].field, "%s", bad[i].body);
        cr_assert(strstr(err, bad[i].says), "%s: %s", bad[i].body, err);
    }
    sl_programs_free(r);
}

Test(programs, a_malformed_definition_is_refused_naming_the_file)
{
    char err[512] = "";
    write_file("a-good.json", group);
    write_file("b-bad.json", "{\"group\": \"h\", \"title\": \"H\", \"lesson\": \"l\", \"params\": [],"
                             " \"programs\": [{\"name\": \"p\", \"title\": \"p\", \"route\": \"r\","
                             " \"lesson\": \"l\", \"argv\": [\"x\", \"{samples}\"], \"requires\": []}]}");
    cr_assert_null(sl_programs_load(dir, err, sizeof err));
    cr_assert(strstr(err, "b-bad.json") && strstr(err, "{samples}"), "%s", err);
    write_file("b-bad.json", "{\"group\": \"g\", \"title\": \"again\", \"lesson\": \"l\", \"programs\": []}");
    cr_assert_null(sl_programs_load(dir, err, sizeof err));
    cr_assert(strstr(err, "b-bad.json"), "%s", err);
    unlink("b-bad.json");
    struct sl_programs *none = sl_programs_load("/no/such/folder", err, sizeof err);
    cr_assert_not_null(none, "no folder: an empty registry");
    json_t *list = sl_programs_list(none);
    cr_assert_eq(json_array_size(json_object_get(list, "groups")), 0);
    json_decref(list);
    sl_programs_free(none);
}
