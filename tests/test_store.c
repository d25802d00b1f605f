/* test_store.c — the SQLite store: schema and versions, runs, measurements, lists, threads. */

/*
 * Every test gets a fresh database file in its own mkdtemp directory. Measurements are built
 * like the engine's lines (sl_measurement_to_json), with integers past 2^53 and reals that
 * are not round in decimal, so that reading back "the same values" means bit for bit.
 * Versions are read and forged in the file header itself (user_version is the big-endian
 * 32-bit word at byte 60 of the file format) so that no SQL lives outside db/.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sl.h"
#include "store.h"

#include "schema_sql.h" /* version 1, to forge an old database */

static char dir[64];   /* this test's directory */
static char path[128]; /* its database file */

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl-store-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/store.db", dir);
}

static void teardown(void)
{
    char p[160];
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

static struct sl_store *open_store(void)
{
    char err[256] = "";
    struct sl_store *st = sl_store_open(path, err, sizeof err);
    cr_assert_not_null(st, "open: %s", err);
    return st;
}

/* The file header's bytes [at, at + n) as a big-endian number. */
static unsigned long header_field(long at, int n)
{
    unsigned char b[4] = {0};
    unsigned long v = 0;
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pread(fd, b, (size_t)n, at), n);
    close(fd);
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

static void set_user_version(unsigned long v)
{
    unsigned char b[4] = {v >> 24 & 0xff, v >> 16 & 0xff, v >> 8 & 0xff, v & 0xff};
    int fd = open(path, O_WRONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, b, 4, 60), 4);
    close(fd);
}

static json_t *job(const char *workload)
{
    json_t *j = json_pack("{s:s, s:{s:f}, s:[s,s], s:[i,i], s:i, s:i, s:s, s:b}", "workload",
                          workload, "params", "samples", 1e8, "backends", "serial", "threads",
                          "cores", 1, 2, "repeats", 3, "warmup", 1, "scaling", "strong",
                          "oversubscribe", 0);
    cr_assert_not_null(j);
    return j;
}

static int64_t new_run(struct sl_store *st, const char *workload, double now)
{
    int64_t id = -1;
    json_t *j = job(workload);
    cr_assert_eq(sl_store_run_insert(st, j, now, &id), 0);
    json_decref(j);
    return id;
}

/* A measurement as the engine writes it; odd seqs fail verification (with a message). */
static json_t *measurement(int seq, int cores)
{
    json_t *busy = json_array(), *wait = json_array();
    json_t *m;
    for (int i = 0; i < cores; i++) {
        json_array_append_new(busy, json_integer(1000003 * (json_int_t)(seq + 1) + i));
        json_array_append_new(wait, json_integer(5003 * (json_int_t)(seq + 1) + i));
    }
    m = json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, s:i, s:s, s:f, s:I, s:I, s:I, s:i, s:i,"
                  " s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:o, s:f, s:I, s:f, s:b, s:I, s:s,"
                  " s:f, s:f}",
                  "type", "measurement", "seq", seq, "total", 99, "point", seq % 4, "rep",
                  seq / 4, "backend", seq % 2 ? "threads" : "serial", "cores", cores, "variant",
                  "vector", "size", 1e8, "wall_ns", (json_int_t)9007199254740993 + seq,
                  "user_ns", (json_int_t)123456789012, "sys_ns", (json_int_t)42, "vcsw", 3,
                  "ivcsw", 7, "minflt", 1024, "majflt", 0, "maxrss_kb", 65536, "spawn_ns",
                  (json_int_t)51234, "compute_ns", (json_int_t)987654321, "combine_ns",
                  (json_int_t)777, "overhead_ns", (json_int_t)-12, "busy_ns", busy, "result",
                  3.141592653589793 + seq * 1e-15, "result_count", (json_int_t)78539816 + seq,
                  "result_sum", 0.1 + 0.2, "verified", !(seq % 2), "work",
                  (json_int_t)100000000, "unit", "sample", "bytes", 0.0, "flops", 4e8 / 3);
    cr_assert_not_null(m);
    json_object_set_new(m, "wait_ns", wait);
    json_object_set_new(m, "phases", json_integer(seq + 1));
    if (seq % 2)
        json_object_set_new(m, "message", json_string("pi off by 3e-4 (allowed 1e-4)"));
    return m;
}

/* got is want as stored: the same value under every key but the line's own "type" and
 * "total", and nothing else. */
static void assert_same_measurement(const json_t *want, const json_t *got)
{
    const char *key;
    json_t *v;
    cr_assert(json_is_object(got));
    json_object_foreach((json_t *)want, key, v) {
        if (strcmp(key, "type") == 0 || strcmp(key, "total") == 0)
            continue;
        json_t *g = json_object_get(got, key);
        char *ws = json_dumps(v, JSON_ENCODE_ANY), *gs = g ? json_dumps(g, JSON_ENCODE_ANY) : NULL;
        cr_assert(json_equal(v, g), "%s: want %s, got %s", key, ws, gs ? gs : "(missing)");
        free(ws);
        free(gs);
    }
    json_object_foreach((json_t *)got, key, v)
        cr_assert_not_null(json_object_get(want, key), "unexpected key %s", key);
    cr_assert_null(json_object_get(got, "type"));
    cr_assert_null(json_object_get(got, "total"));
}

static json_int_t int_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

static const char *str_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static double real_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    cr_assert(json_is_real(v), "%s is not a real", key);
    return json_real_value(v);
}

static int is_null(const json_t *o, const char *key)
{
    return json_is_null(json_object_get(o, key));
}

static json_int_t stored_count(struct sl_store *st)
{
    json_t *c = sl_store_counts(st);
    cr_assert_not_null(c);
    json_int_t n = int_of(c, "measurements");
    json_decref(c);
    return n;
}

Test(store, open_creates_schema_in_wal_mode)
{
    struct sl_store *st = open_store();
    sl_store_close(st);
    cr_assert_eq(sl_store_schema_version(), 6);
    cr_assert_eq(header_field(60, 4), (unsigned long)sl_store_schema_version());
    /* file format versions 2/2 mean WAL */
    cr_assert_eq(header_field(18, 1), 2);
    cr_assert_eq(header_field(19, 1), 2);
}

Test(store, reopen_keeps_data)
{
    struct sl_store *st = open_store();
    int64_t id = new_run(st, "pi", 100.5);
    json_t *m = measurement(1, 2);
    cr_assert_eq(sl_store_measurement_insert(st, id, m), 0);
    sl_store_close(st);

    st = open_store();
    json_t *run = sl_store_run_get(st, id);
    cr_assert_not_null(run);
    cr_assert_str_eq(str_of(run, "workload"), "pi");
    cr_assert_eq(int_of(run, "stored"), 1);
    json_t *list = sl_store_measurements(st, id);
    cr_assert_eq(json_array_size(list), 1);
    assert_same_measurement(m, json_array_get(list, 0));
    cr_assert_eq(header_field(60, 4), (unsigned long)sl_store_schema_version());
    json_decref(list);
    json_decref(run);
    json_decref(m);
    sl_store_close(st);
}

Test(store, newer_schema_version_is_refused)
{
    char err[256] = "";
    char want[32];
    sl_store_close(open_store());
    set_user_version((unsigned long)sl_store_schema_version() + 1);
    cr_assert_null(sl_store_open(path, err, sizeof err));
    cr_assert(strstr(err, "newer"), "err: %s", err);
    snprintf(want, sizeof want, "version %d", sl_store_schema_version() + 1);
    cr_assert(strstr(err, want), "err: %s", err);
    /* and it was left as it was */
    cr_assert_eq(header_field(60, 4), (unsigned long)sl_store_schema_version() + 1);
}

Test(store, not_a_database_is_refused)
{
    char err[256] = "";
    char junk[4096];
    FILE *f = fopen(path, "w");
    memset(junk, 'x', sizeof junk);
    cr_assert_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    cr_assert_null(sl_store_open(path, err, sizeof err));
    cr_assert_neq(err[0], '\0');
}

Test(store, run_insert_and_get)
{
    struct sl_store *st = open_store();
    json_t *j = job("stream");
    int64_t id = -1, id2 = -1;
    char status[16];

    cr_assert_eq(sl_store_run_insert(st, j, 1763730000.125, &id), 0);
    cr_assert_gt(id, 0);
    json_t *run = sl_store_run_get(st, id);
    cr_assert_not_null(run);
    cr_assert_eq(int_of(run, "id"), id);
    cr_assert_str_eq(str_of(run, "workload"), "stream");
    cr_assert_str_eq(str_of(run, "status"), SL_RUN_QUEUED);
    cr_assert(is_null(run, "error"));
    cr_assert(json_equal(json_object_get(run, "job"), j));
    cr_assert(is_null(run, "header"));
    cr_assert(is_null(run, "summary"));
    cr_assert_eq(int_of(run, "total"), 0);
    cr_assert_eq(int_of(run, "stored"), 0);
    cr_assert_eq(real_of(run, "created_at"), 1763730000.125);
    cr_assert(is_null(run, "started_at"));
    cr_assert(is_null(run, "finished_at"));
    cr_assert_eq(sl_store_run_status(st, id, status, sizeof status), 0);
    cr_assert_str_eq(status, SL_RUN_QUEUED);

    cr_assert_eq(sl_store_run_insert(st, j, 1763730001, &id2), 0);
    cr_assert_gt(id2, id);

    json_t *bad = json_pack("{s:i}", "repeats", 3);
    cr_assert_eq(sl_store_run_insert(st, bad, 1, &id), -SL_EINVAL);
    cr_assert_null(sl_store_run_get(st, id2 + 1));
    cr_assert_eq(sl_store_run_status(st, id2 + 1, status, sizeof status), -SL_ENOENT);
    json_decref(bad);
    json_decref(run);
    json_decref(j);
    sl_store_close(st);
}

Test(store, run_start_stores_header_and_total)
{
    struct sl_store *st = open_store();
    int64_t id = new_run(st, "pi", 10);
    json_t *header = json_pack("{s:s, s:{s:s, s:i}, s:f}", "type", "header", "host", "cpu",
                               "Xeon", "cpus", 16, "timer_ns", 20.5);
    char status[16];

    cr_assert_eq(sl_store_run_start(st, id, header, 12, 11.5), 0);
    json_t *run = sl_store_run_get(st, id);
    cr_assert_str_eq(str_of(run, "status"), SL_RUN_RUNNING);
    cr_assert(json_equal(json_object_get(run, "header"), header));
    cr_assert_eq(int_of(run, "total"), 12);
    cr_assert_eq(real_of(run, "started_at"), 11.5);
    cr_assert(is_null(run, "finished_at"));
    cr_assert_eq(sl_store_run_status(st, id, status, sizeof status), 0);
    cr_assert_str_eq(status, SL_RUN_RUNNING);

    /* only a queued run starts; a missing one is not found */
    cr_assert_eq(sl_store_run_start(st, id, header, 12, 12), -SL_ENOENT);
    cr_assert_eq(sl_store_run_start(st, id + 1, header, 12, 12), -SL_ENOENT);
    json_decref(run);
    json_decref(header);
    sl_store_close(st);
}

Test(store, measurements_come_back_in_seq_order_with_identical_values)
{
    struct sl_store *st = open_store();
    int64_t id = new_run(st, "pi", 1);
    int64_t other = new_run(st, "pi", 2);
    const int order[] = {5, 1, 12, 3, 2, 8, 4, 11, 6, 10, 7, 9};
    json_t *want[13] = {NULL};

    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int seq = order[i];
        want[seq] = measurement(seq, seq % 3 + 1);
        cr_assert_eq(sl_store_measurement_insert(st, id, want[seq]), 0, "seq %d", seq);
    }
    json_t *m = measurement(1, 1);
    cr_assert_eq(sl_store_measurement_insert(st, other, m), 0);
    json_decref(m);

    json_t *list = sl_store_measurements(st, id);
    cr_assert_not_null(list);
    cr_assert_eq(json_array_size(list), 12);
    for (int seq = 1; seq <= 12; seq++) {
        json_t *got = json_array_get(list, (size_t)seq - 1);
        cr_assert_eq(int_of(got, "seq"), seq);
        assert_same_measurement(want[seq], got);
        cr_assert(json_is_array(json_object_get(got, "busy_ns")));
        cr_assert(json_is_boolean(json_object_get(got, "verified")));
        /* the engine writes a message only for a failed verification */
        cr_assert_eq(json_object_get(got, "message") != NULL, seq % 2 == 1);
        json_decref(want[seq]);
    }
    json_t *run = sl_store_run_get(st, id);
    cr_assert_eq(int_of(run, "stored"), 12);
    json_decref(run);
    json_decref(list);

    list = sl_store_measurements(st, other + 1);
    cr_assert_not_null(list);
    cr_assert_eq(json_array_size(list), 0);
    json_decref(list);
    sl_store_close(st);
}

Test(store, same_seq_replaces)
{
    struct sl_store *st = open_store();
    int64_t id = new_run(st, "pi", 1);
    json_t *first = measurement(4, 2), *second = measurement(4, 3);

    json_object_set_new(second, "wall_ns", json_integer(5));
    cr_assert_eq(sl_store_measurement_insert(st, id, first), 0);
    cr_assert_eq(sl_store_measurement_insert(st, id, second), 0);
    json_t *list = sl_store_measurements(st, id);
    cr_assert_eq(json_array_size(list), 1);
    assert_same_measurement(second, json_array_get(list, 0));
    cr_assert_eq(stored_count(st), 1);
    json_decref(list);
    json_decref(first);
    json_decref(second);
    sl_store_close(st);
}

Test(store, bad_measurements_are_refused_and_store_nothing)
{
    struct sl_store *st = open_store();
    int64_t id = new_run(st, "pi", 1);
    const char *required[] = {"seq", "backend", "cores", "wall_ns", "verified"};
    struct {
        const char *key;  /* field given a value of the wrong type */
        json_t *value;
    } wrong[] = {
        {"seq", json_string("1")},      {"seq", json_real(1.0)},
        {"backend", json_integer(3)},   {"cores", json_string("2")},
        {"wall_ns", json_real(1e9)},    {"verified", json_integer(1)},
        {"seq", json_null()},           {"busy_ns", json_string("[1,2]")},
        {"size", json_string("large")}, {"message", json_false()},
    };

    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        json_t *m = measurement(1, 2);
        json_object_del(m, required[i]);
        cr_assert_eq(sl_store_measurement_insert(st, id, m), -SL_EINVAL, "without %s",
                     required[i]);
        json_decref(m);
    }
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        json_t *m = measurement(1, 2);
        json_object_set_new(m, wrong[i].key, wrong[i].value);
        cr_assert_eq(sl_store_measurement_insert(st, id, m), -SL_EINVAL, "wrong %s",
                     wrong[i].key);
        json_decref(m);
    }
    json_t *arr = json_array();
    cr_assert_eq(sl_store_measurement_insert(st, id, arr), -SL_EINVAL);
    json_decref(arr);
    cr_assert_eq(stored_count(st), 0);

    /* optional fields may be missing (or null): null when read back */
    json_t *m = measurement(2, 2);
    json_object_del(m, "point");
    json_object_del(m, "busy_ns");
    json_object_set_new(m, "unit", json_null());
    cr_assert_eq(sl_store_measurement_insert(st, id, m), 0);
    json_t *list = sl_store_measurements(st, id);
    json_t *got = json_array_get(list, 0);
    cr_assert(is_null(got, "point"));
    cr_assert(is_null(got, "busy_ns"));
    cr_assert(is_null(got, "unit"));
    cr_assert_null(json_object_get(got, "message"));
    cr_assert_eq(int_of(got, "rep"), 0);
    json_decref(list);
    json_decref(m);
    sl_store_close(st);
}

Test(store, measurement_of_unknown_run_is_not_found)
{
    struct sl_store *st = open_store();
    int64_t id = new_run(st, "pi", 1);
    json_t *m = measurement(1, 2);
    cr_assert_eq(sl_store_measurement_insert(st, id + 1, m), -SL_ENOENT);
    cr_assert_eq(sl_store_measurement_insert(st, -7, m), -SL_ENOENT);
    cr_assert_eq(stored_count(st), 0);
    json_decref(m);
    sl_store_close(st);
}

Test(store, run_finish_sets_status_error_summary)
{
    struct sl_store *st = open_store();
    int64_t ok = new_run(st, "pi", 1), bad = new_run(st, "pi", 2);
    json_t *summary = json_pack("{s:s, s:i, s:b}", "type", "summary", "runs", 12, "verified", 1);

    cr_assert_eq(sl_store_run_start(st, ok, NULL, 12, 3), 0);
    cr_assert_eq(sl_store_run_finish(st, ok, SL_RUN_DONE, NULL, summary, 4.25), 0);
    json_t *run = sl_store_run_get(st, ok);
    cr_assert_str_eq(str_of(run, "status"), SL_RUN_DONE);
    cr_assert(is_null(run, "error"));
    cr_assert(json_equal(json_object_get(run, "summary"), summary));
    cr_assert_eq(real_of(run, "finished_at"), 4.25);
    json_decref(run);

    cr_assert_eq(sl_store_run_finish(st, bad, SL_RUN_FAILED, "worker 3 was killed", NULL, 5),
                 0);
    run = sl_store_run_get(st, bad);
    cr_assert_str_eq(str_of(run, "status"), SL_RUN_FAILED);
    cr_assert_str_eq(str_of(run, "error"), "worker 3 was killed");
    cr_assert(is_null(run, "summary"));
    json_decref(run);

    cr_assert_eq(sl_store_run_finish(st, bad, "exploded", NULL, NULL, 6), -SL_EINVAL);
    cr_assert_eq(sl_store_run_finish(st, bad, SL_RUN_RUNNING, NULL, NULL, 6), -SL_EINVAL);
    cr_assert_eq(sl_store_run_finish(st, bad + 1, SL_RUN_DONE, NULL, NULL, 6), -SL_ENOENT);
    json_decref(summary);
    sl_store_close(st);
}

Test(store, best_speedup_comes_from_the_summary_without_serial)
{
    struct sl_store *st = open_store();
    int64_t a = new_run(st, "pi", 1), b = new_run(st, "pi", 2);
    /* The engine's summary shape: serial's own "speedup" (1) is the baseline, not a result. */
    json_t *summary = json_pack(
        "{s:s, s:{s:[{s:s, s:f}, {s:s, s:f}, {s:s, s:f}, {s:s, s:n}]}}", "type", "summary",
        "analysis", "backends", "backend", "serial", "best_speedup_measured", 9.0, "backend",
        "threads", "best_speedup_measured", 1.9, "backend", "openmp", "best_speedup_measured",
        1.97, "backend", "pool", "best_speedup_measured");
    cr_assert_not_null(summary);
    cr_assert_eq(sl_store_run_finish(st, a, SL_RUN_DONE, NULL, summary, 3), 0);
    cr_assert_eq(sl_store_run_finish(st, b, SL_RUN_FAILED, "no summary", NULL, 4), 0);

    json_t *run = sl_store_run_get(st, a);
    cr_assert_float_eq(real_of(run, "best_speedup"), 1.97, 1e-12, "the best backend but serial");
    json_decref(run);
    run = sl_store_run_get(st, b);
    cr_assert(is_null(run, "best_speedup"), "no summary, no figure");
    json_decref(run);

    int64_t total;
    json_t *list = sl_store_runs_list(st, NULL, NULL, 10, 0, &total);
    cr_assert_eq(json_array_size(list), 2);
    cr_assert(is_null(json_array_get(list, 0), "best_speedup"), "newest first: run b");
    cr_assert_float_eq(real_of(json_array_get(list, 1), "best_speedup"), 1.97, 1e-12,
                       "the list carries it without the summary");
    cr_assert_null(json_object_get(json_array_get(list, 1), "summary"));
    json_decref(list);
    json_decref(summary);
    sl_store_close(st);
}

/* The ids of a list, newest first. */
static void assert_ids(const json_t *list, const int64_t *want, size_t n)
{
    cr_assert_eq(json_array_size(list), n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(int_of(json_array_get(list, i), "id"), want[i], "entry %zu", i);
}

Test(store, list_filters_paginates_and_counts)
{
    struct sl_store *st = open_store();
    int64_t id[7], total = -1;
    const char *workload[7] = {"pi", "stream", "pi", "stream", "pi", "pi", "stream"};
    /* runs 5 and 6 share a created_at: the later id comes first */
    const double at[7] = {1, 2, 3, 4, 5, 5, 7};

    for (int i = 0; i < 7; i++)
        id[i] = new_run(st, workload[i], at[i]);
    cr_assert_eq(sl_store_run_start(st, id[0], NULL, 4, 2), 0);
    cr_assert_eq(sl_store_run_finish(st, id[0], SL_RUN_DONE, NULL, NULL, 3), 0);
    cr_assert_eq(sl_store_run_start(st, id[3], NULL, 4, 5), 0);
    cr_assert_eq(sl_store_run_finish(st, id[3], SL_RUN_DONE, NULL, NULL, 6), 0);
    cr_assert_eq(sl_store_run_start(st, id[4], NULL, 4, 6), 0);
    json_t *m = measurement(1, 2);
    cr_assert_eq(sl_store_measurement_insert(st, id[4], m), 0);
    json_decref(m);

    json_t *list = sl_store_runs_list(st, NULL, NULL, 50, 0, &total);
    const int64_t all[] = {id[6], id[5], id[4], id[3], id[2], id[1], id[0]};
    assert_ids(list, all, 7);
    cr_assert_eq(total, 7);
    json_t *r = json_array_get(list, 2);
    cr_assert_str_eq(str_of(r, "status"), SL_RUN_RUNNING);
    cr_assert_eq(int_of(r, "stored"), 1);
    cr_assert_eq(int_of(r, "total"), 4);
    cr_assert(json_is_object(json_object_get(r, "job")));
    cr_assert_null(json_object_get(r, "header"));
    cr_assert_null(json_object_get(r, "summary"));
    cr_assert_null(json_object_get(r, "measurements"));
    json_decref(list);

    list = sl_store_runs_list(st, "pi", NULL, 50, 0, &total);
    const int64_t pi[] = {id[5], id[4], id[2], id[0]};
    assert_ids(list, pi, 4);
    cr_assert_eq(total, 4);
    json_decref(list);

    list = sl_store_runs_list(st, NULL, SL_RUN_DONE, 50, 0, &total);
    const int64_t done_ids[] = {id[3], id[0]};
    assert_ids(list, done_ids, 2);
    cr_assert_eq(total, 2);
    json_decref(list);

    list = sl_store_runs_list(st, "stream", SL_RUN_QUEUED, 50, 0, &total);
    const int64_t stream_queued[] = {id[6], id[1]};
    assert_ids(list, stream_queued, 2);
    cr_assert_eq(total, 2);
    json_decref(list);

    list = sl_store_runs_list(st, NULL, NULL, 2, 2, &total);
    const int64_t page[] = {id[4], id[3]};
    assert_ids(list, page, 2);
    cr_assert_eq(total, 7);
    json_decref(list);

    list = sl_store_runs_list(st, "pi", SL_RUN_QUEUED, 1, 1, &total);
    const int64_t pi_queued_page[] = {id[2]};
    assert_ids(list, pi_queued_page, 1);
    cr_assert_eq(total, 2);
    json_decref(list);

    list = sl_store_runs_list(st, NULL, NULL, 10, 7, &total);
    assert_ids(list, NULL, 0);
    cr_assert_eq(total, 7);
    json_decref(list);

    list = sl_store_runs_list(st, "nbody", NULL, 10, 0, &total);
    assert_ids(list, NULL, 0);
    cr_assert_eq(total, 0);
    json_decref(list);

    cr_assert_null(sl_store_runs_list(st, NULL, NULL, -1, 0, &total));
    cr_assert_null(sl_store_runs_list(st, NULL, NULL, 10, -1, &total));
    sl_store_close(st);
}

Test(store, delete_cascades_to_measurements)
{
    struct sl_store *st = open_store();
    int64_t gone = new_run(st, "pi", 1), kept = new_run(st, "pi", 2);
    for (int seq = 1; seq <= 5; seq++) {
        json_t *m = measurement(seq, 2);
        cr_assert_eq(sl_store_measurement_insert(st, gone, m), 0);
        cr_assert_eq(sl_store_measurement_insert(st, kept, m), 0);
        json_decref(m);
    }
    cr_assert_eq(stored_count(st), 10);
    cr_assert_eq(sl_store_run_delete(st, gone), 0);
    cr_assert_null(sl_store_run_get(st, gone));
    json_t *list = sl_store_measurements(st, gone);
    cr_assert_eq(json_array_size(list), 0);
    json_decref(list);
    cr_assert_eq(stored_count(st), 5);
    list = sl_store_measurements(st, kept);
    cr_assert_eq(json_array_size(list), 5);
    json_decref(list);
    cr_assert_eq(sl_store_run_delete(st, gone), -SL_ENOENT);
    sl_store_close(st);
}

Test(store, interrupt_running_only_touches_running_runs)
{
    struct sl_store *st = open_store();
    int64_t queued = new_run(st, "pi", 1), running = new_run(st, "pi", 2),
            done_id = new_run(st, "pi", 3);
    char status[16];

    cr_assert_eq(sl_store_run_start(st, running, NULL, 8, 4), 0);
    cr_assert_eq(sl_store_run_start(st, done_id, NULL, 8, 4), 0);
    cr_assert_eq(sl_store_run_finish(st, done_id, SL_RUN_DONE, NULL, NULL, 5), 0);
    for (int seq = 1; seq <= 3; seq++) {
        json_t *m = measurement(seq, 2);
        cr_assert_eq(sl_store_measurement_insert(st, running, m), 0);
        json_decref(m);
    }

    cr_assert_eq(sl_store_interrupt_running(st, 9.5, "the server stopped"), 1);
    json_t *run = sl_store_run_get(st, running);
    cr_assert_str_eq(str_of(run, "status"), SL_RUN_INTERRUPTED);
    cr_assert_str_eq(str_of(run, "error"), "the server stopped");
    cr_assert_eq(real_of(run, "finished_at"), 9.5);
    cr_assert_eq(int_of(run, "stored"), 3);
    json_decref(run);
    cr_assert_eq(sl_store_run_status(st, queued, status, sizeof status), 0);
    cr_assert_str_eq(status, SL_RUN_QUEUED);
    run = sl_store_run_get(st, done_id);
    cr_assert_str_eq(str_of(run, "status"), SL_RUN_DONE);
    cr_assert_eq(real_of(run, "finished_at"), 5);
    json_decref(run);
    cr_assert_eq(sl_store_interrupt_running(st, 10, NULL), 0);
    sl_store_close(st);
}

Test(store, queued_lists_oldest_first)
{
    struct sl_store *st = open_store();
    int64_t id[5], got[8];
    for (int i = 0; i < 5; i++)
        id[i] = new_run(st, "pi", 10 + i);
    cr_assert_eq(sl_store_run_start(st, id[1], NULL, 1, 20), 0);
    cr_assert_eq(sl_store_run_finish(st, id[3], SL_RUN_CANCELLED, NULL, NULL, 21), 0);

    cr_assert_eq(sl_store_queued(st, got, 8), 3);
    cr_assert_eq(got[0], id[0]);
    cr_assert_eq(got[1], id[2]);
    cr_assert_eq(got[2], id[4]);
    cr_assert_eq(sl_store_queued(st, got, 2), 2);
    cr_assert_eq(got[0], id[0]);
    cr_assert_eq(got[1], id[2]);
    cr_assert_eq(sl_store_queued(st, got, 0), 0);
    sl_store_close(st);
}

Test(store, counts_have_every_status)
{
    struct sl_store *st = open_store();
    const char *all[] = {SL_RUN_QUEUED,    SL_RUN_RUNNING,   SL_RUN_DONE,       SL_RUN_FAILED,
                         SL_RUN_CANCELLED, SL_RUN_TIMED_OUT, SL_RUN_INTERRUPTED};
    json_t *c = sl_store_counts(st);
    json_t *runs = json_object_get(c, "runs");
    cr_assert_eq(json_object_size(runs), 7);
    for (size_t i = 0; i < 7; i++)
        cr_assert_eq(int_of(runs, all[i]), 0, "%s", all[i]);
    cr_assert_eq(int_of(c, "measurements"), 0);
    json_decref(c);

    int64_t a = new_run(st, "pi", 1), b = new_run(st, "pi", 2);
    new_run(st, "pi", 3);
    cr_assert_eq(sl_store_run_finish(st, a, SL_RUN_TIMED_OUT, "ran past 60 s", NULL, 4), 0);
    json_t *m = measurement(1, 2);
    cr_assert_eq(sl_store_measurement_insert(st, b, m), 0);
    json_decref(m);
    c = sl_store_counts(st);
    runs = json_object_get(c, "runs");
    cr_assert_eq(json_object_size(runs), 7);
    cr_assert_eq(int_of(runs, SL_RUN_QUEUED), 2);
    cr_assert_eq(int_of(runs, SL_RUN_TIMED_OUT), 1);
    cr_assert_eq(int_of(runs, SL_RUN_DONE), 0);
    cr_assert_eq(int_of(c, "measurements"), 1);
    json_decref(c);
    sl_store_close(st);
}

Test(store, check_passes_on_a_good_database)
{
    struct sl_store *st = open_store();
    char err[128] = "untouched";
    int64_t id = new_run(st, "pi", 1);
    json_t *m = measurement(1, 4);
    cr_assert_eq(sl_store_measurement_insert(st, id, m), 0);
    json_decref(m);
    cr_assert_eq(sl_store_check(st, err, sizeof err), 0);
    cr_assert_str_eq(err, "untouched");
    sl_store_close(st);
}

Test(store, begin_end_group_inserts_in_one_transaction)
{
    struct sl_store *st = open_store(), *reader = open_store();
    int64_t id = new_run(st, "pi", 1);

    cr_assert_eq(sl_store_end(st), -SL_EINVAL);
    cr_assert_eq(sl_store_begin(st), 0);
    cr_assert_eq(sl_store_begin(st), 0); /* nested: only the outer pair commits */
    for (int seq = 1; seq <= 3; seq++) {
        json_t *m = measurement(seq, 2);
        cr_assert_eq(sl_store_measurement_insert(st, id, m), 0);
        json_decref(m);
    }
    /* a failed insert inside the transaction does not undo the others */
    json_t *bad = json_object();
    cr_assert_eq(sl_store_measurement_insert(st, id, bad), -SL_EINVAL);
    json_decref(bad);
    cr_assert_eq(sl_store_end(st), 0);
    cr_assert_eq(stored_count(reader), 0);
    cr_assert_eq(stored_count(st), 3); /* its own writes, uncommitted */
    cr_assert_eq(sl_store_end(st), 0);
    cr_assert_eq(stored_count(reader), 3);
    cr_assert_eq(sl_store_end(st), -SL_EINVAL);
    sl_store_close(reader);
    sl_store_close(st);
}

/* Two writers share one handle; a third thread reads, and queues runs, through another. */
struct writer {
    struct sl_store *st; /* the shared handle */
    int64_t run;         /* where to insert */
    int first, step, n;  /* seqs first, first + step, ... (n of them) */
    int failures;        /* calls that did not return 0 */
};

struct reader {
    struct sl_store *st;    /* its own handle */
    int64_t run;            /* the run to watch */
    atomic_int *stop;       /* set once the writers are done */
    int reads, inserts;     /* successful calls */
    int failures;           /* failed calls, or a count that went backwards */
};

static void *write_measurements(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < w->n; i++) {
        /* groups of 50, as the server's queue does */
        if (i % 50 == 0 && sl_store_begin(w->st) != 0)
            w->failures++;
        json_t *m = measurement(w->first + i * w->step, 4);
        if (!m || sl_store_measurement_insert(w->st, w->run, m) != 0)
            w->failures++;
        json_decref(m);
        if ((i % 50 == 49 || i == w->n - 1) && sl_store_end(w->st) != 0)
            w->failures++;
    }
    return NULL;
}

static void *read_and_queue(void *arg)
{
    struct reader *r = arg;
    json_int_t last = 0;
    json_t *j = json_pack("{s:s}", "workload", "pi");
    while (!*r->stop) {
        json_t *run = sl_store_run_get(r->st, r->run);
        json_t *list = sl_store_measurements(r->st, r->run);
        json_int_t stored = json_integer_value(json_object_get(run, "stored"));
        if (!run || !list || stored < last)
            r->failures++;
        else
            r->reads++;
        last = stored;
        json_decref(run);
        json_decref(list);
        int64_t id;
        if (sl_store_run_insert(r->st, j, 1, &id) == 0)
            r->inserts++;
        else
            r->failures++;
    }
    json_decref(j);
    return NULL;
}

Test(store, threads_share_a_handle_and_a_second_handle_reads)
{
    struct sl_store *st = open_store(), *other = open_store();
    int64_t id = new_run(st, "pi", 1);
    atomic_int stop = 0;
    struct writer w[2] = {{st, id, 1, 2, 1500, 0}, {st, id, 2, 2, 1500, 0}};
    struct reader r = {other, id, &stop, 0, 0, 0};
    pthread_t tw[2], tr;

    cr_assert_eq(pthread_create(&tr, NULL, read_and_queue, &r), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&tw[i], NULL, write_measurements, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(tw[i], NULL);
    stop = 1;
    pthread_join(tr, NULL);

    cr_assert_eq(w[0].failures, 0);
    cr_assert_eq(w[1].failures, 0);
    cr_assert_eq(r.failures, 0);
    cr_assert_gt(r.reads, 0);
    json_t *list = sl_store_measurements(other, id);
    cr_assert_eq(json_array_size(list), 3000);
    for (size_t i = 0; i < 3000; i++)
        cr_assert_eq(int_of(json_array_get(list, i), "seq"), (json_int_t)i + 1);
    json_decref(list);
    json_t *c = sl_store_counts(st);
    cr_assert_eq(int_of(json_object_get(c, "runs"), SL_RUN_QUEUED), 1 + r.inserts);
    json_decref(c);
    sl_store_close(other);
    sl_store_close(st);
}

/* A database left at version 2 by an older build: a run whose summary predates issue 8
 * (best_speedup_measured against serial, no best_baseline) and one measurement without
 * wait_ns. Opening it migrates to version 3: the old figure is cleared, not mixed with the
 * new meaning; the measurement reads back with wait_ns null. */
Test(store, migration_to_3_clears_old_best_speedups_and_adds_wait_ns)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, schema_sql, NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "ALTER TABLE runs ADD COLUMN best_speedup REAL;"
                              "INSERT INTO runs (workload, status, job, summary, created_at,"
                              " best_speedup) VALUES ('pi', 'done', '{}', '{\"analysis\":"
                              "{\"backends\":[{\"backend\":\"threads\","
                              "\"best_speedup_measured\":7.9}]}}', 1, 7.9);"
                              "INSERT INTO measurements (run_id, seq, backend, cores, wall_ns,"
                              " verified) VALUES (1, 1, 'threads', 2, 1000, 1);"
                              "PRAGMA user_version = 2;",
                              NULL, NULL, NULL),
                 SQLITE_OK, "forging a version 2 database: %s", sqlite3_errmsg(db));
    sqlite3_close(db);

    struct sl_store *st = open_store();
    json_t *run = sl_store_run_get(st, 1);
    cr_assert_not_null(run);
    cr_assert(is_null(run, "best_speedup"), "an old vs-serial figure is not kept as parallel");
    json_decref(run);
    json_t *list = sl_store_measurements(st, 1);
    cr_assert_eq(json_array_size(list), 1);
    cr_assert(is_null(json_array_get(list, 0), "wait_ns"), "old rows have no barrier waits");
    cr_assert(is_null(json_array_get(list, 0), "phases"), "nor phases (version 4)");
    cr_assert_null(json_object_get(json_array_get(list, 0), "launch_ns"),
                   "old rows have no mpi launch (version 5), and say nothing of it");
    cr_assert_null(json_object_get(json_array_get(list, 0), "hosts"));
    json_decref(list);

    /* A new summary (it names its baseline) keeps its figure. */
    int64_t b = new_run(st, "pi", 2);
    json_t *summary = json_pack("{s:{s:[{s:s, s:f, s:s}]}}", "analysis", "backends", "backend",
                                "threads", "best_speedup_measured", 1.9, "best_baseline",
                                "simd, 1 core");
    cr_assert_eq(sl_store_run_finish(st, b, SL_RUN_DONE, NULL, summary, 3), 0);
    run = sl_store_run_get(st, b);
    cr_assert_float_eq(real_of(run, "best_speedup"), 1.9, 1e-12, "new summaries keep theirs");
    json_decref(run);
    json_decref(summary);
    sl_store_close(st);
    cr_assert_eq(header_field(60, 4), 6ul, "migrated to the current version");
}
