/* calibrate.c — measure the host's memory bandwidth and peak FMA rate; save and load them as JSON.
 *
 * The method is STREAM's: three arrays well beyond the last-level cache, first-touched by the
 * same threads, with the same static split, as the timed loops (so pages sit near the cores that
 * use them), one untimed pass, then the best of TRIALS timed passes; bytes are counted per
 * kernel (8 per element for the read-only sum, 24 for the triad, write-allocate not counted)
 * and the results are verified, which also keeps the loops from being optimised away. Work is
 * split in BLOCKs of 64 doubles so that every loop, first touch included, is one
 * `omp for schedule(static)` over the same iteration count: OpenMP then guarantees the same
 * assignment of blocks to threads. The peak compute rate comes from independent vector FMA
 * chains held in registers, enough of them to cover the FMA latency on every core.
 *
 * This file is in the Makefile's HOT_SRC (built with -O3 and the widest vectors): the
 * FMA_LANES chains are sized to become 16 zmm registers. The memory kernels ask for 256-bit
 * vectors instead (simdlen(4)): on Zen 4 one core streaming zmm stores reached ~12% less
 * bandwidth than with ymm stores (zmm loads a few % less), and a stream to or from memory
 * cannot go faster with wider vectors on any CPU, so the narrower ones measure the limit.
 */
#include "calibrate.h"
#include "hostinfo.h"
#include "sl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The thread counts of the "all" figures come from OpenMP teams: without OpenMP every
 * figure would silently be a one-thread figure. */
#ifndef _OPENMP
#error "calibrate.c must be built with OpenMP (-fopenmp)"
#endif
#include <omp.h>

#define MIB ((uint64_t)1 << 20)
#define BLOCK 64                    /* doubles per unit of work: 512 bytes, 8 cache lines */
#define NACC 32                     /* independent partial sums in the read kernel */
#define TRIALS 10                   /* timed passes per bandwidth kernel; the best is kept */
#define FMA_LANES 128               /* independent FMA chains: 16 vectors of 8 doubles */
#define FMA_SECONDS 0.2             /* length of one timed FMA run */
#define FMA_TRIALS 3                /* timed FMA runs per thread count; the best is kept */
#define DEFAULT_MIN (256 * MIB)     /* default array size bounds, per array */
#define DEFAULT_MAX (1024 * MIB)
#define ARRAY_MIN ((uint64_t)BLOCK * sizeof(double)) /* explicit sizes: at least one block */
#define ARRAY_MAX (16384 * MIB)
#define STAGGER (64 * 1024 + 512)   /* offset between the arrays' starts, see sl_calibrate_run */
#define FILE_MAX (64 * 1024)        /* a calibration file is a few hundred bytes */
#define PATH_LEN 4096

/* The values the arrays are filled with; small integers, so every sum is exact. */
#define B_VALUE 1.0
#define C_VALUE 2.0
#define SCALAR 3.0

/* Written with the FMA results so that the chains have an observable effect. */
static volatile double fma_sink;

/* Fill the arrays with the split used by all timed loops (see the file comment). Returns the
 * number of threads OpenMP actually gave the team. */
static unsigned first_touch(double *restrict a, double *restrict b, double *restrict c,
                            size_t nblk, unsigned nt)
{
    unsigned team = 1;
#pragma omp parallel num_threads(nt)
    {
#pragma omp master
        team = (unsigned)omp_get_num_threads();
#pragma omp for schedule(static)
        for (size_t k = 0; k < nblk; k++) {
#pragma omp simd
            for (size_t j = k * BLOCK; j < (k + 1) * BLOCK; j++) {
                a[j] = 0.0;
                b[j] = B_VALUE;
                c[j] = C_VALUE;
            }
        }
    }
    return team;
}

/* Sum of b: NACC accumulators (8 ymm registers) per thread so that the loop waits on memory,
 * not on the latency of one chain of additions. */
static double read_sum(const double *restrict b, size_t nblk, unsigned nt)
{
    double sum = 0.0;
#pragma omp parallel num_threads(nt) reduction(+ : sum)
    {
        double acc[NACC] = {0};
#pragma omp for schedule(static)
        for (size_t k = 0; k < nblk; k++) {
            const double *p = b + k * BLOCK;
            for (size_t i = 0; i < BLOCK; i += NACC) {
#pragma omp simd simdlen(4)
                for (size_t j = 0; j < NACC; j++)
                    acc[j] += p[i + j];
            }
        }
        for (size_t j = 0; j < NACC; j++)
            sum += acc[j];
    }
    return sum;
}

static void triad(double *restrict a, const double *restrict b, const double *restrict c,
                  double s, size_t nblk, unsigned nt)
{
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t k = 0; k < nblk; k++) {
#pragma omp simd simdlen(4)
        for (size_t j = k * BLOCK; j < (k + 1) * BLOCK; j++)
            a[j] = b[j] + s * c[j];
    }
}

/* Elements of a that are not the triad's result. */
static size_t triad_errors(const double *a, size_t nblk, unsigned nt)
{
    size_t bad = 0;
    const double want = B_VALUE + SCALAR * C_VALUE;
#pragma omp parallel for schedule(static) num_threads(nt) reduction(+ : bad)
    for (size_t k = 0; k < nblk; k++)
        for (size_t j = k * BLOCK; j < (k + 1) * BLOCK; j++)
            bad += a[j] != want;
    return bad;
}

/* Best GB/s of the read-only sum over TRIALS passes after an untimed one. */
static int measure_read(const double *b, size_t nblk, unsigned nt, double *gbs)
{
    const double want = (double)nblk * BLOCK * B_VALUE;
    const double bytes = (double)nblk * BLOCK * sizeof(double);
    uint64_t best = UINT64_MAX;
    for (int t = 0; t <= TRIALS; t++) {
        uint64_t t0 = sl_now_ns();
        double s = read_sum(b, nblk, nt);
        uint64_t dt = sl_now_ns() - t0;
        if (s != want)
            return -SL_EVERIFY;
        if (t > 0 && dt < best)
            best = dt;
    }
    *gbs = bytes / (double)(best ? best : 1);
    return 0;
}

/* Best GB/s of the triad over TRIALS passes after an untimed one, 24 bytes per element. */
static int measure_triad(double *a, const double *b, const double *c, size_t nblk, unsigned nt,
                         double *gbs)
{
    const double bytes = 3.0 * (double)nblk * BLOCK * sizeof(double);
    uint64_t best = UINT64_MAX;
    for (int t = 0; t <= TRIALS; t++) {
        uint64_t t0 = sl_now_ns();
        triad(a, b, c, SCALAR, nblk, nt);
        uint64_t dt = sl_now_ns() - t0;
        if (t > 0 && dt < best)
            best = dt;
    }
    if (triad_errors(a, nblk, nt) != 0)
        return -SL_EVERIFY;
    *gbs = bytes / (double)(best ? best : 1);
    return 0;
}

/* FMA_LANES independent chains x = x * m + add, iters steps each. With m just below 1 and
 * add = 1 - m the chains stay near 1, far from overflow and denormals; m and add come from
 * the caller at run time so the compiler cannot fold the chains. */
static double fma_chains(uint64_t iters, double m, double add)
{
    double acc[FMA_LANES];
    for (int j = 0; j < FMA_LANES; j++)
        acc[j] = 1.0 + j * 1e-3;
    for (uint64_t it = 0; it < iters; it++) {
#pragma omp simd
        for (int j = 0; j < FMA_LANES; j++)
            acc[j] = fma(acc[j], m, add);
    }
    double s = 0.0;
    for (int j = 0; j < FMA_LANES; j++)
        s += acc[j];
    return s;
}

/* Seconds for nt threads to run iters steps of the chains each. */
static double fma_run(uint64_t iters, unsigned nt)
{
    static volatile double m = 0.999999, add = 0.000001;
    const double mm = m, aa = add;
    double total = 0.0;
    uint64_t t0 = sl_now_ns();
#pragma omp parallel num_threads(nt) reduction(+ : total)
    total += fma_chains(iters, mm, aa);
    uint64_t dt = sl_now_ns() - t0;
    fma_sink = total;
    return (double)dt * 1e-9;
}

/* Step count for a run of about FMA_SECONDS on one thread: doubled until a run takes 20 ms
 * (which also brings the core up to its clock), then scaled. */
static uint64_t fma_iters(void)
{
    uint64_t iters = 1u << 12;
    double s;
    while ((s = fma_run(iters, 1)) < 0.02 && iters < ((uint64_t)1 << 40))
        iters *= 2;
    double scaled = (double)iters * FMA_SECONDS / (s > 0 ? s : 1e-9);
    return scaled < 1.0 ? 1 : (uint64_t)scaled;
}

/* Best GFLOP/s of nt threads over FMA_TRIALS runs; 2 flops per FMA. */
static double measure_fma(uint64_t iters, unsigned nt)
{
    double best = INFINITY;
    for (int t = 0; t < FMA_TRIALS; t++) {
        double s = fma_run(iters, nt);
        if (s < best)
            best = s;
    }
    double flops = 2.0 * FMA_LANES * (double)iters * nt;
    return flops / (best > 0 ? best : 1e-9) * 1e-9;
}

static void report(void (*progress)(const char *), const char *what, unsigned nt)
{
    char label[64];
    if (!progress)
        return;
    snprintf(label, sizeof label, "%s, %u thread%s", what, nt, nt == 1 ? "" : "s");
    progress(label);
}

/* 4x the last-level cache of the whole host (all its instances), within the default bounds. */
static uint64_t default_array_bytes(const struct sl_host *h)
{
    uint64_t llc = 0;
    int level = 0;
    for (unsigned k = 0; k < h->ncaches; k++) {
        const struct sl_cache *c = &h->caches[k];
        if (strcmp(c->type, "Instruction") != 0 && c->level >= level) {
            level = c->level;
            llc = c->size * (c->instances ? c->instances : 1);
        }
    }
    uint64_t bytes = 4 * llc;
    if (bytes < DEFAULT_MIN)
        bytes = DEFAULT_MIN;
    if (bytes > DEFAULT_MAX)
        bytes = DEFAULT_MAX;
    return bytes;
}

int sl_calibrate_run(struct sl_calib *c, unsigned threads, size_t array_bytes,
                     void (*progress)(const char *label))
{
    if (!c)
        return -SL_EINVAL;
    if (threads > SL_MAX_WORKERS)
        return -SL_ERANGE;
    if (array_bytes != 0 && (array_bytes < ARRAY_MIN || array_bytes > ARRAY_MAX))
        return -SL_ERANGE;

    struct sl_host h;
    struct sl_calib r;
    memset(&r, 0, sizeof r);
    void *base[3] = {NULL, NULL, NULL};
    size_t bytes = 0, map_bytes = 0;
    int rc = sl_host_probe(&h);
    if (rc < 0)
        return rc;

    unsigned nt = threads ? threads : sl_cpus_allowed();
    uint64_t want = array_bytes ? array_bytes : default_array_bytes(&h);
    size_t nblk = (size_t)(want / (BLOCK * sizeof(double)));
    bytes = nblk * BLOCK * sizeof(double);
    if (h.mem_available && 3 * ((uint64_t)bytes + 2 * STAGGER) > h.mem_available)
        return -SL_ELIMIT;

    /* Three mappings of the same size tend to start at the same offset modulo large powers
     * of two, so a[i], b[i] and c[i] compete for the same cache sets and DRAM banks; that cost
     * the triad 40% here. Array k therefore starts k * STAGGER bytes into its mapping. */
    map_bytes = bytes + 2 * STAGGER;
    for (int k = 0; k < 3; k++)
        if (!(base[k] = sl_mem_alloc(map_bytes, 0))) {
            rc = -SL_ENOMEM;
            goto out;
        }
    double *a = base[0];
    double *b = (double *)((char *)base[1] + STAGGER);
    double *cc = (double *)((char *)base[2] + 2 * STAGGER);

    /* With dynamic adjustment on (OMP_DYNAMIC), num_threads is only an upper bound. */
    int dynamic = omp_get_dynamic();
    omp_set_dynamic(0);
    report(progress, "first touch", nt);
    nt = first_touch(a, b, cc, nblk, nt);

    report(progress, "read", 1);
    if ((rc = measure_read(b, nblk, 1, &r.read_gbs_1)) < 0)
        goto restore;
    report(progress, "triad", 1);
    if ((rc = measure_triad(a, b, cc, nblk, 1, &r.triad_gbs_1)) < 0)
        goto restore;
    report(progress, "fma", 1);
    uint64_t iters = fma_iters();
    r.gflops_1 = measure_fma(iters, 1);

    if (nt == 1) {
        /* One thread is all: the "all" figures are the same measurement. */
        r.read_gbs_all = r.read_gbs_1;
        r.triad_gbs_all = r.triad_gbs_1;
        r.gflops_all = r.gflops_1;
    } else {
        report(progress, "read", nt);
        if ((rc = measure_read(b, nblk, nt, &r.read_gbs_all)) < 0)
            goto restore;
        report(progress, "triad", nt);
        if ((rc = measure_triad(a, b, cc, nblk, nt, &r.triad_gbs_all)) < 0)
            goto restore;
        report(progress, "fma", nt);
        r.gflops_all = measure_fma(iters, nt);
    }

    r.threads = nt;
    r.array_bytes = bytes;
    r.when = (int64_t)time(NULL);
    if (gethostname(r.host, sizeof r.host) != 0)
        r.host[0] = '\0';
    r.host[sizeof r.host - 1] = '\0';
    snprintf(r.cpu_model, sizeof r.cpu_model, "%s", h.cpu_model);
    *c = r;
    rc = 0;
restore:
    omp_set_dynamic(dynamic);
out:
    for (int k = 0; k < 3; k++)
        sl_mem_free(base[k], map_bytes);
    return rc;
}

const char *sl_calibrate_default_path(char *buf, size_t len)
{
    const char *env = getenv("SCALELAB_CALIBRATION");
    int n;
    if (!buf || len == 0)
        return NULL;
    if (env && env[0]) {
        n = snprintf(buf, len, "%s", env);
    } else if ((env = getenv("XDG_CACHE_HOME")) && env[0] == '/') {
        /* The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored. */
        n = snprintf(buf, len, "%s/scalelab/calibration.json", env);
    } else if ((env = getenv("HOME")) && env[0]) {
        n = snprintf(buf, len, "%s/.cache/scalelab/calibration.json", env);
    } else {
        return NULL;
    }
    return n >= 0 && (size_t)n < len ? buf : NULL;
}

/* mkdir -p of every directory above path's last component. */
static int make_parents(const char *path)
{
    char dir[PATH_LEN];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return -SL_EIO;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            return -SL_EIO;
        *p = '/';
    }
    return 0;
}

/* Written to a temporary file next to the target and renamed over it, so that a reader (or
 * another engine saving at the same time) never sees half a file. */
int sl_calibrate_save(const struct sl_calib *c, const char *path)
{
    if (!c || !path || !path[0])
        return -SL_EINVAL;
    char tmp[PATH_LEN];
    int rc = -SL_EIO, written = 0;
    json_t *o = sl_calibrate_to_json(c);
    if (!o)
        goto out;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        goto out;
    if (make_parents(path) < 0)
        goto out;
    written = 1;
    if (json_dump_file(o, tmp, JSON_INDENT(2)) != 0)
        goto out;
    if (rename(tmp, path) != 0)
        goto out;
    written = 0;
    rc = 0;
out:
    if (written)
        unlink(tmp);
    json_decref(o);
    return rc;
}

int sl_calibrate_load(struct sl_calib *c, const char *path)
{
    if (!c || !path)
        return -SL_EINVAL;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR ? -SL_ENOENT : -SL_EIO;
    json_t *o = NULL;
    int rc = -SL_EINVAL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        rc = -SL_EIO;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > FILE_MAX)
        goto out;
    json_error_t err;
    if (!(o = json_loadf(f, JSON_REJECT_DUPLICATES, &err)))
        goto out;
    rc = sl_calibrate_from_json(c, o);
out:
    json_decref(o);
    fclose(f);
    return rc;
}

int sl_calibrate_check(const struct sl_calib *c, char *note, size_t len)
{
    note[0] = '\0';
    if (c->threads > 1 && c->read_gbs_all < c->read_gbs_1 * (1 - SL_CALIB_NOISE)) {
        snprintf(note, len,
                 "%u threads read slower than 1 (%.1f vs %.1f GB/s): the machine was busy while "
                 "it was measured; run calibrate again when it is idle",
                 c->threads, c->read_gbs_all, c->read_gbs_1);
        return -SL_EINVAL;
    }
    return 0;
}

json_t *sl_calibrate_to_json(const struct sl_calib *c)
{
    if (!c)
        return NULL;
    char note[200];
    int bad = sl_calibrate_check(c, note, sizeof note);
    /* json_pack fails (NULL) on a non-finite figure or a host name that is not UTF-8. */
    return json_pack("{s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:s, s:s, s:s, s:s?}",
                     "threads", (json_int_t)c->threads,
                     "array_bytes", (json_int_t)c->array_bytes,
                     "read_gbs_1", c->read_gbs_1, "read_gbs_all", c->read_gbs_all,
                     "triad_gbs_1", c->triad_gbs_1, "triad_gbs_all", c->triad_gbs_all,
                     "gflops_1", c->gflops_1, "gflops_all", c->gflops_all,
                     "when", (json_int_t)c->when, "host", c->host, "cpu_model", c->cpu_model,
                     "status", bad ? "suspect" : "ok", "note", bad ? note : NULL);
}

static int valid_figure(double x)
{
    return isfinite(x) && x >= 0.0;
}

int sl_calibrate_from_json(struct sl_calib *c, const json_t *o)
{
    if (!c || !o)
        return -SL_EINVAL;
    json_int_t threads, array_bytes, when;
    const char *host, *model;
    struct sl_calib r;
    memset(&r, 0, sizeof r);
    /* json_unpack does not modify o; its prototype is just not const. Extra keys are
     * allowed so that a newer engine's file still loads. */
    if (json_unpack((json_t *)o, "{s:I, s:I, s:F, s:F, s:F, s:F, s:F, s:F, s:I, s:s, s:s}",
                    "threads", &threads, "array_bytes", &array_bytes,
                    "read_gbs_1", &r.read_gbs_1, "read_gbs_all", &r.read_gbs_all,
                    "triad_gbs_1", &r.triad_gbs_1, "triad_gbs_all", &r.triad_gbs_all,
                    "gflops_1", &r.gflops_1, "gflops_all", &r.gflops_all,
                    "when", &when, "host", &host, "cpu_model", &model) != 0)
        return -SL_EINVAL;
    if (threads < 1 || threads > SL_MAX_WORKERS || array_bytes < 0)
        return -SL_EINVAL;
    if (!valid_figure(r.read_gbs_1) || !valid_figure(r.read_gbs_all) ||
        !valid_figure(r.triad_gbs_1) || !valid_figure(r.triad_gbs_all) ||
        !valid_figure(r.gflops_1) || !valid_figure(r.gflops_all))
        return -SL_EINVAL;
    if (strlen(host) >= sizeof r.host || strlen(model) >= sizeof r.cpu_model)
        return -SL_EINVAL;
    r.threads = (unsigned)threads;
    r.array_bytes = (uint64_t)array_bytes;
    r.when = (int64_t)when;
    memcpy(r.host, host, strlen(host) + 1);
    memcpy(r.cpu_model, model, strlen(model) + 1);
    *c = r;
    return 0;
}
