/* bench_store.c — the store's speed goals: measurements taken per second, a run read back.
 *
 * Rows are stored as the server stores them: engine-shaped measurement objects (every field,
 * busy_ns of 2 workers), 200 to a run, in transactions of 1000 (sl_store_begin/end), into a
 * fresh database file in a temporary directory, which is removed afterwards. One object is
 * built up front and only its changing fields are set per row, so that the time measured is
 * the store's and not Jansson's building. Reading back one run of 200 is timed 200 times and
 * the median printed. A miss is printed, not hidden; the exit status is 0 either way.
 *
 * Usage: bench_store [rows]   (default 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl.h"
#include "store.h"

#define PER_RUN 200          /* measurements in one run */
#define PER_TRANSACTION 1000 /* rows between sl_store_begin and sl_store_end */
#define READ_TRIES 200
#define TARGET_ROWS_S 50000.0

/* A measurement line of the engine, as sl_measurement_to_json writes it. */
static json_t *template_measurement(void)
{
    return json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, s:i, s:s, s:f, s:I, s:I, s:I, s:i, s:i,"
                     " s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:[I,I], s:f, s:I, s:f, s:b, s:I,"
                     " s:s, s:f, s:f}",
                     "type", "measurement", "seq", 1, "total", PER_RUN, "point", 0, "rep", 0,
                     "backend", "threads", "cores", 2, "variant", "vector", "size", 1e8,
                     "wall_ns", (json_int_t)61234567, "user_ns", (json_int_t)121000000,
                     "sys_ns", (json_int_t)1200000, "vcsw", 2, "ivcsw", 5, "minflt", 310,
                     "majflt", 0, "maxrss_kb", 5412, "spawn_ns", (json_int_t)48211,
                     "compute_ns", (json_int_t)61020331, "combine_ns", (json_int_t)1207,
                     "overhead_ns", (json_int_t)203110, "busy_ns", (json_int_t)61020331,
                     (json_int_t)60981220, "result", 3.14159302, "result_count",
                     (json_int_t)78539826, "result_sum", 0.0, "verified", 1, "work",
                     (json_int_t)100000000, "unit", "sample", "bytes", 0.0, "flops", 4e8);
}

/* Give row i of the run its own seq, point, repetition and timings. */
static void vary(json_t *m, long i)
{
    json_t *busy = json_object_get(m, "busy_ns");
    json_int_t wall = 61234567 + (i * 7919) % 100000;
    json_object_set_new(m, "seq", json_integer(i % PER_RUN + 1));
    json_object_set_new(m, "point", json_integer(i % 8));
    json_object_set_new(m, "rep", json_integer(i % PER_RUN / 8));
    json_object_set_new(m, "wall_ns", json_integer(wall));
    json_array_set_new(busy, 0, json_integer(wall - 214236));
    json_array_set_new(busy, 1, json_integer(wall - 253347));
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void remove_db(const char *dir, const char *path)
{
    char p[512];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 200000;
    const char *tmp = getenv("TMPDIR");
    char dir[256], path[512], err[256];
    struct sl_store *st = NULL;
    json_t *m = template_measurement(), *job = json_pack("{s:s}", "workload", "pi");
    uint64_t times[READ_TRIES], t0, elapsed;
    int64_t run = 0;
    int failed = 0;
    double secs, rate;

    if (rows < PER_RUN)
        rows = PER_RUN;
    snprintf(dir, sizeof dir, "%s/sl-bench-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!m || !job || !mkdtemp(dir)) {
        fprintf(stderr, "bench_store: cannot set up (%s)\n", m && job ? dir : "out of memory");
        goto out;
    }
    snprintf(path, sizeof path, "%s/store.db", dir);
    st = sl_store_open(path, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_store: %s\n", err);
        rmdir(dir);
        goto out;
    }

    t0 = sl_now_ns();
    for (long i = 0; i < rows && !failed; i++) {
        if (i % PER_TRANSACTION == 0)
            failed |= sl_store_begin(st) != 0;
        if (i % PER_RUN == 0)
            failed |= sl_store_run_insert(st, job, 1763730000.0 + (double)i, &run) != 0;
        vary(m, i);
        failed |= sl_store_measurement_insert(st, run, m) != 0;
        if (i % PER_TRANSACTION == PER_TRANSACTION - 1 || i == rows - 1)
            failed |= sl_store_end(st) != 0;
    }
    elapsed = sl_now_ns() - t0;
    if (failed) {
        fprintf(stderr, "bench_store: an insert failed\n");
        goto close;
    }
    secs = (double)elapsed * 1e-9;
    rate = (double)rows / secs;
    printf("store: inserted %ld rows in %.3f s = %.0f rows/s   target >= %.0f rows/s   %s\n",
           rows, secs, rate, TARGET_ROWS_S, rate >= TARGET_ROWS_S ? "ok" : "MISS");

    /* the last run stored: PER_RUN measurements */
    for (int k = 0; k < READ_TRIES; k++) {
        t0 = sl_now_ns();
        json_t *list = sl_store_measurements(st, run);
        times[k] = sl_now_ns() - t0;
        if (json_array_size(list) != PER_RUN) {
            fprintf(stderr, "bench_store: read back %zu measurements, want %d\n",
                    json_array_size(list), PER_RUN);
            json_decref(list);
            goto close;
        }
        json_decref(list);
    }
    qsort(times, READ_TRIES, sizeof times[0], compare_u64);
    printf("store: read back one run of %d measurements in %.0f us (median of %d)\n", PER_RUN,
           (double)times[READ_TRIES / 2] * 1e-3, READ_TRIES);
close:
    sl_store_close(st);
    remove_db(dir, path);
out:
    json_decref(m);
    json_decref(job);
    return 0;
}
