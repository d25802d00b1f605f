/* test_calibrate.c — calibration runs, the default path, and the JSON file's round trip and errors. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calibrate.h"
#include "hostinfo.h"
#include "sl.h"

#define MIB ((size_t)1 << 20)

/* A fresh directory under /tmp; removed again by remove_tree. */
static char *make_tmpdir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/sl_calib_XXXXXX");
    char *d = mkdtemp(buf);
    cr_assert_not_null(d);
    return d;
}

/* rm -r of a small tree made by a test. */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        remove_tree(sub);
    }
    closedir(d);
    rmdir(path);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static struct sl_calib sample(void)
{
    struct sl_calib c;
    memset(&c, 0, sizeof c);
    c.threads = 2;
    c.array_bytes = 256 * MIB;
    c.read_gbs_1 = 36.81234567890123;
    c.read_gbs_all = 45.1;
    c.triad_gbs_1 = 38.1;
    c.triad_gbs_all = 1.0 / 3.0;
    c.gflops_1 = 59.3;
    c.gflops_all = 118.6;
    c.when = 1795000000;
    snprintf(c.host, sizeof c.host, "buildvm");
    snprintf(c.cpu_model, sizeof c.cpu_model, "AMD EPYC");
    return c;
}

static void assert_same(const struct sl_calib *a, const struct sl_calib *b)
{
    cr_assert_eq(a->threads, b->threads);
    cr_assert_eq(a->array_bytes, b->array_bytes);
    cr_assert_eq(a->read_gbs_1, b->read_gbs_1);
    cr_assert_eq(a->read_gbs_all, b->read_gbs_all);
    cr_assert_eq(a->triad_gbs_1, b->triad_gbs_1);
    cr_assert_eq(a->triad_gbs_all, b->triad_gbs_all);
    cr_assert_eq(a->gflops_1, b->gflops_1);
    cr_assert_eq(a->gflops_all, b->gflops_all);
    cr_assert_eq(a->when, b->when);
    cr_assert_str_eq(a->host, b->host);
    cr_assert_str_eq(a->cpu_model, b->cpu_model);
}

static void assert_bandwidth(double gbs, const char *what)
{
    cr_assert(isfinite(gbs), "%s not finite", what);
    cr_assert_gt(gbs, 0.5, "%s = %g GB/s", what, gbs);
    cr_assert_lt(gbs, 10000.0, "%s = %g GB/s", what, gbs);
}

static int progress_calls;

static void count_progress(const char *label)
{
    cr_assert_not_null(label);
    cr_assert_neq(label[0], '\0');
    progress_calls++;
}

Test(calibrate, small_run_one_thread, .timeout = 60)
{
    struct sl_calib c;
    struct sl_host h;
    char host[64] = "";
    time_t before = time(NULL);
    cr_assert_eq(sl_calibrate_run(&c, 1, 32 * MIB, count_progress), 0);

    cr_assert_eq(c.threads, 1u);
    cr_assert_eq(c.array_bytes, 32 * MIB);
    assert_bandwidth(c.read_gbs_1, "read_gbs_1");
    assert_bandwidth(c.triad_gbs_1, "triad_gbs_1");
    cr_assert(isfinite(c.gflops_1));
    cr_assert_gt(c.gflops_1, 0.1, "gflops_1 = %g", c.gflops_1);
    /* With one thread, "all" is the same measurement. */
    cr_assert_eq(c.read_gbs_all, c.read_gbs_1);
    cr_assert_eq(c.triad_gbs_all, c.triad_gbs_1);
    cr_assert_eq(c.gflops_all, c.gflops_1);
    cr_assert_geq(progress_calls, 3);

    cr_assert_geq(c.when, (int64_t)before);
    cr_assert_leq(c.when, (int64_t)time(NULL));
    gethostname(host, sizeof host - 1);
    cr_assert_str_eq(c.host, host);
    cr_assert_eq(sl_host_probe(&h), 0);
    cr_assert_str_eq(c.cpu_model, h.cpu_model);
}

Test(calibrate, small_run_two_threads, .timeout = 60)
{
    struct sl_calib c;
    cr_assert_eq(sl_calibrate_run(&c, 2, 32 * MIB, NULL), 0);
    cr_assert_eq(c.threads, 2u);
    assert_bandwidth(c.read_gbs_1, "read_gbs_1");
    assert_bandwidth(c.read_gbs_all, "read_gbs_all");
    assert_bandwidth(c.triad_gbs_1, "triad_gbs_1");
    assert_bandwidth(c.triad_gbs_all, "triad_gbs_all");
    cr_assert_gt(c.gflops_1, 0.1, "gflops_1 = %g", c.gflops_1);
    cr_assert_gt(c.gflops_all, 0.1, "gflops_all = %g", c.gflops_all);
}

Test(calibrate, run_rejects_bad_arguments)
{
    struct sl_calib c;
    cr_assert_eq(sl_calibrate_run(NULL, 1, 32 * MIB, NULL), -SL_EINVAL);
    cr_assert_eq(sl_calibrate_run(&c, SL_MAX_WORKERS + 1, 32 * MIB, NULL), -SL_ERANGE);
    cr_assert_eq(sl_calibrate_run(&c, 1, 8, NULL), -SL_ERANGE);
    cr_assert_eq(sl_calibrate_run(&c, 1, (size_t)1 << 62, NULL), -SL_ERANGE);
}

Test(calibrate, default_path_precedence)
{
    char buf[256];
    setenv("SCALELAB_CALIBRATION", "/x/cal.json", 1);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    setenv("HOME", "/home/u", 1);
    cr_assert_str_eq(sl_calibrate_default_path(buf, sizeof buf), "/x/cal.json");
    unsetenv("SCALELAB_CALIBRATION");
    cr_assert_str_eq(sl_calibrate_default_path(buf, sizeof buf), "/xdg/scalelab/calibration.json");
    unsetenv("XDG_CACHE_HOME");
    cr_assert_str_eq(sl_calibrate_default_path(buf, sizeof buf),
                     "/home/u/.cache/scalelab/calibration.json");
    cr_assert_null(sl_calibrate_default_path(buf, 10), "a truncated path was returned");
    unsetenv("HOME");
    cr_assert_null(sl_calibrate_default_path(buf, sizeof buf));
}

Test(calibrate, json_keys_and_types)
{
    struct sl_calib c = sample();
    json_t *o = sl_calibrate_to_json(&c);
    cr_assert_not_null(o);
    static const char *const integers[] = {"threads", "array_bytes", "when"};
    static const char *const reals[] = {"read_gbs_1", "read_gbs_all", "triad_gbs_1",
                                        "triad_gbs_all", "gflops_1", "gflops_all"};
    for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++)
        cr_assert(json_is_integer(json_object_get(o, integers[i])), "key %s", integers[i]);
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        cr_assert(json_is_real(json_object_get(o, reals[i])), "key %s", reals[i]);
    cr_assert_str_eq(json_string_value(json_object_get(o, "host")), "buildvm");
    cr_assert_str_eq(json_string_value(json_object_get(o, "cpu_model")), "AMD EPYC");

    struct sl_calib back;
    cr_assert_eq(sl_calibrate_from_json(&back, o), 0);
    assert_same(&c, &back);
    json_decref(o);
}

Test(calibrate, from_json_rejects_bad_values)
{
    struct sl_calib c = sample(), out = sample();
    json_t *o = sl_calibrate_to_json(&c);
    cr_assert_not_null(o);

    json_t *t = json_deep_copy(o);
    json_object_del(t, "gflops_all");
    cr_assert_eq(sl_calibrate_from_json(&out, t), -SL_EINVAL, "missing key accepted");
    json_decref(t);

    t = json_deep_copy(o);
    json_object_set_new(t, "threads", json_string("two"));
    cr_assert_eq(sl_calibrate_from_json(&out, t), -SL_EINVAL, "string thread count accepted");
    json_decref(t);

    t = json_deep_copy(o);
    json_object_set_new(t, "threads", json_integer(0));
    cr_assert_eq(sl_calibrate_from_json(&out, t), -SL_EINVAL, "zero threads accepted");
    json_decref(t);

    t = json_deep_copy(o);
    json_object_set_new(t, "read_gbs_1", json_real(-1.0));
    cr_assert_eq(sl_calibrate_from_json(&out, t), -SL_EINVAL, "negative bandwidth accepted");
    json_decref(t);

    json_t *arr = json_array();
    cr_assert_eq(sl_calibrate_from_json(&out, arr), -SL_EINVAL);
    json_decref(arr);

    /* A failed parse leaves the output untouched. */
    assert_same(&out, &c);
    json_decref(o);
}

Test(calibrate, save_load_round_trip)
{
    char dir[64], path[256];
    make_tmpdir(dir, sizeof dir);
    /* Parent directories that do not exist yet are created. */
    snprintf(path, sizeof path, "%s/a/b/calibration.json", dir);
    struct sl_calib c = sample(), back;
    memset(&back, 0, sizeof back);

    cr_assert_eq(sl_calibrate_save(&c, path), 0);
    cr_assert_eq(sl_calibrate_load(&back, path), 0);
    assert_same(&c, &back);

    /* Saving again replaces the file and leaves no temporary behind. */
    c.gflops_1 = 1.5;
    cr_assert_eq(sl_calibrate_save(&c, path), 0);
    cr_assert_eq(sl_calibrate_load(&back, path), 0);
    cr_assert_eq(back.gflops_1, 1.5);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    cr_assert_eq(count_entries(sub), 1);
    remove_tree(dir);
}

Test(calibrate, save_fails_where_it_cannot_write)
{
    char dir[64], path[256];
    make_tmpdir(dir, sizeof dir);
    /* A regular file where a parent directory should be. */
    snprintf(path, sizeof path, "%s/file", dir);
    write_file(path, "x");
    snprintf(path, sizeof path, "%s/file/calibration.json", dir);
    struct sl_calib c = sample();
    cr_assert_eq(sl_calibrate_save(&c, path), -SL_EIO);
    remove_tree(dir);
}

Test(calibrate, load_missing_file)
{
    char dir[64], path[256];
    struct sl_calib c;
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/none.json", dir);
    cr_assert_eq(sl_calibrate_load(&c, path), -SL_ENOENT);
    snprintf(path, sizeof path, "%s/no/such/dir/none.json", dir);
    cr_assert_eq(sl_calibrate_load(&c, path), -SL_ENOENT);
    remove_tree(dir);
}

Test(calibrate, load_malformed_file)
{
    char dir[64], path[256];
    struct sl_calib c;
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.json", dir);

    write_file(path, "{\"threads\": 2, \"array_bytes\": ");
    cr_assert_eq(sl_calibrate_load(&c, path), -SL_EINVAL, "truncated JSON accepted");
    write_file(path, "");
    cr_assert_eq(sl_calibrate_load(&c, path), -SL_EINVAL, "empty file accepted");
    write_file(path, "[1, 2, 3]");
    cr_assert_eq(sl_calibrate_load(&c, path), -SL_EINVAL, "an array accepted");
    write_file(path, "{\"threads\": 2}");
    cr_assert_eq(sl_calibrate_load(&c, path), -SL_EINVAL, "missing keys accepted");
    remove_tree(dir);
}

/* More threads may share a bandwidth, never lose it: a calibration whose all-threads read is
 * below the 1-thread read by more than SL_CALIB_NOISE is suspect, says why, and its JSON says
 * so (the CLI refuses to save it; the analysis flags fractions computed from it). */
Test(calibrate, more_threads_reading_slower_is_suspect)
{
    struct sl_calib c = sample();
    char note[200];
    c.threads = 2;
    c.read_gbs_1 = 10;
    c.read_gbs_all = 9.6; /* 4% slower: within the noise */
    cr_assert_eq(sl_calibrate_check(&c, note, sizeof note), 0, "4%% below is noise: %s", note);
    cr_assert_str_eq(note, "");
    json_t *o = sl_calibrate_to_json(&c);
    cr_assert_str_eq(json_string_value(json_object_get(o, "status")), "ok");
    cr_assert(json_is_null(json_object_get(o, "note")));
    json_decref(o);

    c.read_gbs_all = 6.5; /* the case: 2 threads read less than 1 */
    cr_assert_eq(sl_calibrate_check(&c, note, sizeof note), -SL_EINVAL);
    cr_assert(strstr(note, "2 threads read slower than 1 (6.5 vs 10.0 GB/s)"), "note: %s", note);
    o = sl_calibrate_to_json(&c);
    cr_assert_str_eq(json_string_value(json_object_get(o, "status")), "suspect");
    cr_assert_str_eq(json_string_value(json_object_get(o, "note")), note);
    struct sl_calib back;
    cr_assert_eq(sl_calibrate_from_json(&back, o), 0, "status and note do not stop a load");
    json_decref(o);

    c.threads = 1; /* one thread only: nothing to compare */
    cr_assert_eq(sl_calibrate_check(&c, note, sizeof note), 0);
}
