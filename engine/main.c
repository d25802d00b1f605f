/* main.c — scalelab-engine: the command line over workloads, backends, sweeps and analysis.
 *
 *   scalelab-engine list [--json]
 *   scalelab-engine info [--json]
 *   scalelab-engine calibrate [--json] [--threads N] [--output FILE]
 *   scalelab-engine run WORKLOAD [options] | run --job FILE|- [--json]
 *
 * Every run option becomes a field of one JSON job, checked by job.c, so flags, job files
 * and (later) the server's API share one set of rules and messages. With --json, stdout is
 * the protocol the server reads: one JSON object per line (header, measurement..., summary),
 * flushed as each is written. Exit status: 0 ok, 1 failure, 2 bad arguments, 3 completed
 * but some results failed verification.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "calibrate.h"
#include "catalog.h"
#include "hostinfo.h"
#include "job.h"
#include "mpiproto.h"
#include "ompenv.h"
#include "sweep.h"

#define EXIT_USAGE 2
#define EXIT_UNVERIFIED 3

static const char usage_text[] =
    "usage: scalelab-engine COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  list                      workloads (parameters, lessons) and backends (availability)\n"
    "  info                      this host: CPU, caches, memory, OS, compiler, timer\n"
    "  calibrate                 measure memory bandwidth and peak FLOP rate, save them\n"
    "  run WORKLOAD              run a sweep and print a table (or JSON lines)\n"
    "  run [options] -- PROGRAM [ARGS...]\n"
    "                            profile your own program: one process per timed run;\n"
    "                            {cores} and --set parameters ({samples}) are replaced in\n"
    "                            its arguments, e.g. -- python3 my.py --workers {cores}\n"
    "\n"
    "run options:\n"
    "  --backends LIST           e.g. serial,simd,threads,openmp (default: all available)\n"
    "  --cores LIST              e.g. 1,2,4 (default: 1, 2, 4, ... up to this host's CPUs)\n"
    "  --set NAME=VALUE          a workload parameter, e.g. --set samples=1e9 (repeatable)\n"
    "  --repeats N               timed runs per point (default 5)\n"
    "  --warmup N                untimed runs per point first (default 1)\n"
    "  --scaling strong|weak     weak grows the size with the cores (default strong)\n"
    "  --variant vector|scalar   kernel of the parallel backends (default vector)\n"
    "  --affinity none|close|spread   pin workers to CPUs (default none)\n"
    "  --schedule static|dynamic|guided   openmp schedule (default static)\n"
    "  --chunk N                 items per dynamic chunk (default automatic)\n"
    "  --oversubscribe           allow more workers than CPUs\n"
    "  --threads-per-rank N      mpi: OpenMP threads in each rank (cores = ranks x N; default 1)\n"
    "  --hostfile FILE           mpi: mpirun's hostfile, to place ranks on several hosts\n"
    "  --job FILE|-              the whole job as JSON (flags above may not be mixed in)\n"
    "  --calibration FILE        calibration to compare against (default: the saved one)\n"
    "  --json                    JSON lines on stdout: header, measurements, summary\n"
    "\n"
    "program options (after them, -- and the program):\n"
    "  --name NAME               the program's name on charts (default command)\n"
    "  --env NAME=VALUE          an environment variable for it, placeholders allowed (repeatable)\n"
    "  --cwd DIR                 its working directory\n"
    "  --confine                 run it on `cores` CPUs only (sched_setaffinity)\n"
    "  --timeout SECONDS         kill a run (its whole process group) after SECONDS, e.g. 30\n"
    "                            or 0.5; the point fails and the sweep goes on (default: none)\n"
    "  --no-thread-env           do not set OMP/MKL/OPENBLAS/NUMBA_NUM_THREADS = cores\n"
    "  --tolerance X             the reported results must agree within X\n"
    "  --no-progress             no progress bar on stderr\n"
    "\n"
    "common: --help, --version\n";

static const char *prog = "scalelab-engine";

/* One line on stderr and the exit status for bad usage. */
static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see %s --help)\n", prog);
    return EXIT_USAGE;
}

static void print_json_line(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(s);
    }
    json_decref(o);
}

/* --- list --- */

static int cmd_list(int json)
{
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "workloads", sl_catalog_workloads());
        json_object_set_new(o, "backends", sl_catalog_backends());
        print_json_line(o);
        return 0;
    }
    printf("workloads:\n");
    for (const struct sl_workload *const *w = sl_workloads; *w; w++) {
        if (!sl_workload_visible(*w))
            continue;
        printf("  %-8s %s\n           %s\n", (*w)->name, (*w)->title, (*w)->lesson);
        for (unsigned i = 0; i < (*w)->nparams; i++) {
            const struct sl_param *p = &(*w)->params[i];
            printf("           %-13s default %-8g range %g .. %g  %s\n", p->name, p->def, p->min,
                   p->max, p->meaning);
        }
    }
    printf("backends:\n");
    for (const struct sl_backend *const *b = sl_backends; *b; b++) {
        char why[160] = "";
        int ok = (*b)->probe(why, sizeof why) == 0;
        printf("  %-10s %-13s %s\n             route: %s\n", (*b)->name,
               ok ? "available" : "unavailable", ok ? (*b)->how : why, (*b)->route);
    }
    return 0;
}

/* --- info and calibrate --- */

static int cmd_info(int json)
{
    struct sl_host h;
    sl_host_probe(&h);
    json_t *o = sl_host_to_json(&h);
    if (json) {
        print_json_line(o);
        return 0;
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
    json_decref(o);
    return 0;
}

static void calib_progress(const char *label)
{
    fprintf(stderr, "calibrating: %s\n", label);
}

static int cmd_calibrate(int argc, char **argv, int json)
{
    unsigned threads = 0;
    const char *out = NULL;
    char path[512];
    for (int i = 0; i < argc; i++) {
        double d;
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (sl_parse_number(argv[++i], &d) || d < 1 || d > SL_MAX_WORKERS || d != floor(d))
                return usage_error("--threads takes a whole number from 1 to 1024, not '%s'",
                                   argv[i]);
            threads = (unsigned)d;
        } else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else {
            return usage_error("calibrate: unknown argument '%s'", argv[i]);
        }
    }
    if (!out && !(out = sl_calibrate_default_path(path, sizeof path))) {
        fprintf(stderr, "%s: no place to save the calibration: set SCALELAB_CALIBRATION or HOME\n",
                prog);
        return 1;
    }
    struct sl_calib c;
    int rc = sl_calibrate_run(&c, threads, 0, json ? NULL : calib_progress);
    if (rc) {
        fprintf(stderr, "%s: calibration failed: %s\n", prog, sl_strerror(rc));
        return 1;
    }
    /* A calibration that contradicts itself is refused: saved, it would make every later
     * bandwidth fraction wrong (a run reading "153% of this machine's bandwidth"). */
    char note[200];
    int suspect = sl_calibrate_check(&c, note, sizeof note) != 0;
    if (json)
        print_json_line(sl_calibrate_to_json(&c));
    if (suspect) {
        fprintf(stderr, "%s: calibration refused, not saved: %s\n", prog, note);
        return 1;
    }
    if ((rc = sl_calibrate_save(&c, out)))
        fprintf(stderr, "%s: could not save the calibration to %s: %s\n", prog, out,
                sl_strerror(rc));
    if (!json) {
        printf("memory read  %7.1f GB/s on 1 thread, %7.1f GB/s on %u\n", c.read_gbs_1,
               c.read_gbs_all, c.threads);
        printf("triad        %7.1f GB/s on 1 thread, %7.1f GB/s on %u\n", c.triad_gbs_1,
               c.triad_gbs_all, c.threads);
        printf("peak FMA     %7.1f GFLOP/s on 1 core, %7.1f GFLOP/s on %u\n", c.gflops_1,
               c.gflops_all, c.threads);
        if (rc == 0)
            printf("saved to %s\n", out);
    }
    return rc ? 1 : 0;
}

/* --- run --- */

struct run_ctx {
    int json;                  /* JSON lines on stdout */
    int progress;              /* progress bar on stderr */
    struct sl_sample *samples; /* every timed run, for the analysis */
    size_t nsamples, cap;
    unsigned unverified;       /* runs that failed verification */
    char first_failure[1100];  /* the first reason */
    const char *unit;          /* the workload's unit of work ("sample") */
    json_t *outputs;           /* programs: each point's last output, by "name@cores" */
};

static void on_progress(void *arg, unsigned done, unsigned total, const char *what)
{
    struct run_ctx *c = arg;
    if (!c->progress)
        return;
    int width = 30, fill = (int)((double)done / total * width);
    fprintf(stderr, "\r[%.*s%*s] %3u%% %-28.28s", fill, "==============================",
            width - fill, "", done * 100 / total, what);
    if (done == total)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

static int on_measure(void *arg, const struct sl_measurement *m)
{
    struct run_ctx *c = arg;
    if (c->nsamples == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        struct sl_sample *s = realloc(c->samples, cap * sizeof *s);
        if (!s)
            return 1;
        c->samples = s;
        c->cap = cap;
    }
    /* A program that failed says nothing about speed; its measurement line still says why. */
    if (!m->program || (m->program->exited && m->program->code == 0 && !m->program->timed_out))
        sl_measurement_to_sample(m, &c->samples[c->nsamples++]);
    c->unit = m->shape.unit;
    if (!m->verified && c->unverified++ == 0)
        snprintf(c->first_failure, sizeof c->first_failure, "%s on %u cores: %s", m->backend,
                 m->cores, m->message);
    json_t *mj = sl_measurement_to_json(m);
    if (m->program && m->keep_output && mj) { /* kept for the summary: the point's last output */
        static const char *const keys[] = {"backend", "cores", "rep", "exit", "stdout_tail",
                                           "stderr_tail", "output_bytes", NULL};
        json_t *o = json_object();
        char key[64];
        for (const char *const *k = keys; *k; k++)
            if (json_object_get(mj, *k))
                json_object_set(o, *k, json_object_get(mj, *k));
        snprintf(key, sizeof key, "%s@%u", m->backend, m->cores);
        if (!c->outputs)
            c->outputs = json_object();
        json_object_set_new(c->outputs, key, o);
    }
    if (c->json)
        print_json_line(mj);
    else
        json_decref(mj);
    return ferror(stdout) ? 1 : 0;
}

/* "a,b,c" -> JSON array of strings or of numbers. */
static json_t *split_list(const char *s, int numbers, const char *flag, int *bad)
{
    json_t *arr = json_array();
    char *copy = strdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double d;
        if (!numbers) {
            json_array_append_new(arr, json_string(tok));
        } else if (sl_parse_number(tok, &d) == 0) {
            json_array_append_new(arr, json_real(d));
        } else {
            *bad = usage_error(flag, tok);
            break;
        }
    }
    free(copy);
    return arr;
}

static json_t *read_job(const char *path)
{
    json_error_t e;
    json_t *o = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &e) : json_load_file(path, 0, &e);
    if (!o)
        fprintf(stderr, "%s: --job %s: %s (line %d)\n", prog, path, e.text, e.line);
    return o;
}

/* A figure, or "-" where there is none (no serial baseline, no 1-core run). */
static void fmt_or_dash(char *buf, size_t len, const char *fmt, double v)
{
    if (isfinite(v))
        snprintf(buf, len, fmt, v);
    else
        snprintf(buf, len, "-");
}

/* The name of the size column: the workload's size parameter, or a program job's. */
static const char *size_name(const struct sl_job *job)
{
    if (job->wl)
        return job->wl->params[job->wl->weak_param].name;
    return job->size_var >= 0 ? job->var_names[job->size_var] : "size";
}

/* The table's CI column header with the real level: "75% CI of median" for 3 repeats. The
 * level is the lowest of any point, so no row claims more than it has. */
static void ci_header(const struct sl_analysis *a, char *buf, size_t len)
{
    if (isfinite(a->ci_level_min))
        snprintf(buf, len, "%.0f%% CI of median", floor(100 * a->ci_level_min));
    else
        snprintf(buf, len, "CI of median");
}

static void print_points(const struct sl_job *job, const struct sl_analysis *a, const char *unit)
{
    char cihead[32];
    ci_header(a, cihead, sizeof cihead);
    printf("\n%-10s %5s %9s %12s %25s %8s %9s %6s %16s %8s\n", "backend", "cores",
           size_name(job), "median", cihead, "speedup",
           "vs serial", "eff", "rate (/s)", "verified");
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        char med[32], ci[48], rate[32];
        double scale = p->wall.median >= 1 ? 1 : p->wall.median >= 1e-3 ? 1e3 : 1e6;
        const char *u = scale == 1 ? "s" : scale == 1e3 ? "ms" : "us";
        if (p->wall.n == 0) { /* no verified run: nothing to summarise */
            snprintf(med, sizeof med, "-");
            snprintf(ci, sizeof ci, "-");
        } else {
            snprintf(med, sizeof med, "%.4g %s%s", p->wall.median * scale, u, p->noisy ? "*" : "");
            snprintf(ci, sizeof ci, "[%.4g, %.4g]", p->wall.ci_lo * scale, p->wall.ci_hi * scale);
        }
        if (isfinite(p->rate))
            snprintf(rate, sizeof rate, "%.3g %s", p->rate, unit ? unit : "");
        else
            snprintf(rate, sizeof rate, "-");
        char sp[16], ser[16], eff[16];
        fmt_or_dash(sp, sizeof sp, "%.3g", p->speedup);
        fmt_or_dash(ser, sizeof ser, "%.3g", p->speedup_serial);
        fmt_or_dash(eff, sizeof eff, "%.2f", p->efficiency);
        printf("%-10s %5u %9.4g %12s %25s %8s %9s %6s %16s %5u/%u\n", p->backend, p->cores,
               p->size, med, ci, sp, ser, eff, rate, p->verified, p->n);
    }
    printf("speedup: parallel gain against one core of the same kernel (simd for the vector "
           "kernel, serial for the scalar one, else the backend's own 1-core run); "
           "'vs serial' includes the vectorisation gain\n");
    for (size_t i = 0; i < a->npoints; i++)
        if (a->points[i].noisy)
            printf("* %s at %u core%s is noisy (%s): read its median as approximate\n",
                   a->points[i].backend, a->points[i].cores, a->points[i].cores == 1 ? "" : "s",
                   a->points[i].noise);
    for (size_t i = 0; i < a->nvec; i++)
        printf("vectorisation gain (serial -> simd, 1 core): %.2fx\n", a->vec[i].gain);
    if (a->excluded_unverified)
        printf("%u run(s) did not verify: left out of every median, speedup and fit above\n",
               a->excluded_unverified);
}

static void print_limits(const struct sl_analysis *a)
{
    /* Against this host's calibrated limits, where the workload comes near one (5%+). */
    for (size_t i = 0; i < a->npoints; i++) {
        const struct sl_apoint *p = &a->points[i];
        if (p->bw_fraction >= 0.05)
            printf("%-10s %5u  %.1f GB/s = %.0f%% of this host's read bandwidth on %u "
                   "thread%s\n", p->backend, p->cores, p->gbs, 100 * p->bw_fraction, p->cores,
                   p->cores == 1 ? "" : "s");
        if (p->flops_fraction >= 0.05)
            printf("%-10s %5u  %.1f GFLOP/s = %.0f%% of this host's peak FMA rate\n", p->backend,
                   p->cores, p->gflops, 100 * p->flops_fraction);
    }
    if (a->calib_suspect)
        printf("calibration suspect: %s\n", a->calib_note);
}

/* Models only where the data carry one: >= 3 core counts, and stated as a fact only when the
 * fit passes through every point's CI. */
static void print_models(const struct sl_job *job, const struct sl_analysis *a)
{
    for (size_t i = 0; i < a->nbackends; i++) {
        const struct sl_abackend *b = &a->backends[i];
        if (b->fit.ok) {
            printf("%-10s model %s%s: serial fraction %.1f%%", b->backend,
                   b->fit.overhead ? "a + b/p + c*p" : "a + b/p",
                   b->fit_trusted ? "" : " (UNTRUSTED: misses a measured point)",
                   100 * b->fit.serial_fraction);
            if (!b->fit_trusted)
                printf(", worst at %u cores: predicts %.4g s, measured %.4g s\n",
                       b->worst_miss.cores, b->worst_miss.predicted_s, b->worst_miss.median_s);
            else if (isfinite(b->fit.best_p))
                printf(", best at %.1f cores (speedup %.2f)\n", b->fit.best_p,
                       b->fit.best_speedup);
            else
                printf(", no optimum in sight: speedup tends to %.3g x as cores grow\n",
                       b->fit.best_speedup);
        } else if (job->weak && isfinite(b->gustafson)) {
            printf("%-10s weak scaling: Gustafson serial fraction %.1f%%\n", b->backend,
                   100 * b->gustafson);
        }
    }
}

static void print_table(const struct sl_job *job, const struct sl_analysis *a, const char *unit)
{
    print_points(job, a, unit);
    print_limits(a);
    printf("\n");
    print_models(job, a);
    for (size_t i = 0; i < a->nbackends; i++)
        if (a->backends[i].fit_missing[0] && !job->weak &&
            strcmp(a->backends[i].backend, "serial") != 0 &&
            strcmp(a->backends[i].backend, "simd") != 0) {
            printf("no model: %s\n", a->backends[i].fit_missing);
            break; /* the same advice for every backend */
        }
    printf("\nwhy:\n");
    for (size_t i = 0; i < a->nbackends; i++)
        printf("  %-10s [%s] %s\n", a->backends[i].backend, a->backends[i].diagnosis.cause,
               a->backends[i].diagnosis.sentence);
}

enum { OPT_BACKENDS = 256, OPT_CORES, OPT_SET, OPT_REPEATS, OPT_WARMUP, OPT_SCALING,
       OPT_VARIANT, OPT_AFFINITY, OPT_SCHEDULE, OPT_CHUNK, OPT_OVERSUB, OPT_JOB, OPT_CALIB,
       OPT_JSON, OPT_NOPROGRESS, OPT_NAME, OPT_ENV, OPT_CWD, OPT_CONFINE, OPT_NOTHREADENV,
       OPT_TOLERANCE, OPT_TPR, OPT_HOSTFILE, OPT_TIMEOUT };

static const struct option run_options[] = {
    {"backends", required_argument, NULL, OPT_BACKENDS},
    {"cores", required_argument, NULL, OPT_CORES},
    {"set", required_argument, NULL, OPT_SET},
    {"repeats", required_argument, NULL, OPT_REPEATS},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"scaling", required_argument, NULL, OPT_SCALING},
    {"variant", required_argument, NULL, OPT_VARIANT},
    {"affinity", required_argument, NULL, OPT_AFFINITY},
    {"schedule", required_argument, NULL, OPT_SCHEDULE},
    {"chunk", required_argument, NULL, OPT_CHUNK},
    {"oversubscribe", no_argument, NULL, OPT_OVERSUB},
    {"job", required_argument, NULL, OPT_JOB},
    {"calibration", required_argument, NULL, OPT_CALIB},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-progress", no_argument, NULL, OPT_NOPROGRESS},
    {"threads-per-rank", required_argument, NULL, OPT_TPR},
    {"hostfile", required_argument, NULL, OPT_HOSTFILE},
    {"name", required_argument, NULL, OPT_NAME},
    {"env", required_argument, NULL, OPT_ENV},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"confine", no_argument, NULL, OPT_CONFINE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"no-thread-env", no_argument, NULL, OPT_NOTHREADENV},
    {"tolerance", required_argument, NULL, OPT_TOLERANCE},
    {NULL, 0, NULL, 0},
};

/* The program after "--" as the job's "command" (or "programs" when --name is given). */
static int program_args(int argc, char **argv, json_t *job, json_t *cmd, const char *name)
{
    if (argc == 0)
        return usage_error("%s", "run: -- must be followed by the program to run");
    json_t *args = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    json_object_set_new(cmd, "argv", args);
    if (name) {
        json_object_set_new(cmd, "name", json_string(name));
        json_object_set_new(job, "programs", json_pack("[O]", cmd));
    } else {
        json_object_set(job, "command", cmd);
    }
    return 0;
}

/* run's flags into job; cmd collects the program's own (argv, env, cwd, timeout_s) and is
 * the caller's to free, so that every usage error below can simply return. */
static int parse_run_flags(int argc, char **argv, json_t *job, json_t *cmd, const char **job_file,
                           const char **calib_file, int *json, int *progress)
{
    json_t *params = json_object(), *env = json_object();
    int opt, bad = 0, flags = 0, nprog = 0, program = 0, rc;
    const char *name = NULL;
    double d;
    for (int i = 1; i < argc; i++) /* the program's own arguments are not ours */
        if (strcmp(argv[i], "--") == 0) {
            nprog = argc - i - 1;
            argc = i;
            program = 1;
            break;
        }
    json_object_set_new(job, "params", params);
    json_object_set_new(cmd, "env", env);
    optind = 1;
    opterr = 0;
    while (!bad && (opt = getopt_long(argc, argv, "", run_options, NULL)) != -1) {
        switch (opt) {
        case OPT_BACKENDS:
            json_object_set_new(job, "backends", split_list(optarg, 0, "", &bad));
            break;
        case OPT_CORES:
            json_object_set_new(job, "cores",
                                split_list(optarg, 1, "--cores: '%s' is not a number", &bad));
            break;
        case OPT_SET: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                return usage_error("--set takes NAME=VALUE, not '%s'", optarg);
            *eq = '\0';
            if (sl_parse_number(eq + 1, &d))
                return usage_error("--set: '%s' is not a number", eq + 1);
            json_object_set_new(params, optarg, json_real(d));
            break;
        }
        case OPT_REPEATS:
        case OPT_WARMUP:
        case OPT_CHUNK:
        case OPT_TPR:
            if (sl_parse_number(optarg, &d))
                return usage_error("expected a number, got '%s'", optarg);
            json_object_set_new(job, opt == OPT_REPEATS ? "repeats"
                                     : opt == OPT_WARMUP ? "warmup"
                                     : opt == OPT_TPR ? "threads_per_rank" : "chunk", json_real(d));
            break;
        case OPT_HOSTFILE:
            json_object_set_new(job, "hostfile", json_string(optarg));
            break;
        case OPT_SCALING:
            json_object_set_new(job, "scaling", json_string(optarg));
            break;
        case OPT_VARIANT:
            json_object_set_new(job, "variant", json_string(optarg));
            break;
        case OPT_AFFINITY:
            json_object_set_new(job, "affinity", json_string(optarg));
            break;
        case OPT_SCHEDULE:
            json_object_set_new(job, "schedule", json_string(optarg));
            break;
        case OPT_OVERSUB:
            json_object_set_new(job, "oversubscribe", json_true());
            break;
        case OPT_JOB:
            *job_file = optarg;
            flags--; /* not a job field */
            break;
        case OPT_CALIB:
            *calib_file = optarg;
            flags--;
            break;
        case OPT_JSON:
            *json = 1;
            *progress = 0;
            flags--;
            break;
        case OPT_NOPROGRESS:
            *progress = 0;
            flags--;
            break;
        case OPT_NAME:
            name = optarg;
            break;
        case OPT_ENV: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                return usage_error("--env takes NAME=VALUE, not '%s'", optarg);
            *eq = '\0';
            json_object_set_new(env, optarg, json_string(eq + 1));
            break;
        }
        case OPT_CWD:
            json_object_set_new(cmd, "cwd", json_string(optarg));
            break;
        case OPT_CONFINE:
            json_object_set_new(job, "confine", json_true());
            break;
        case OPT_TIMEOUT:
            if (sl_parse_number(optarg, &d) || !(d > 0) || d > SL_COMMAND_MAX_TIMEOUT)
                return usage_error("--timeout takes seconds above 0 and at most 86400, e.g. 30 "
                                   "or 0.5, not '%s'", optarg);
            json_object_set_new(cmd, "timeout_s", json_real(d));
            break;
        case OPT_NOTHREADENV:
            json_object_set_new(job, "thread_env", json_false());
            break;
        case OPT_TOLERANCE:
            if (sl_parse_number(optarg, &d))
                return usage_error("--tolerance: '%s' is not a number", optarg);
            json_object_set_new(job, "tolerance", json_real(d));
            break;
        default:
            return usage_error("run: unknown or incomplete option '%s'", argv[optind - 1]);
        }
        flags++;
    }
    if (bad)
        return bad;
    if (program) {
        if (*job_file)
            return usage_error("%s", "run: --job carries the whole job; do not add -- PROGRAM");
        rc = program_args(nprog, argv + argc + 1, job, cmd, name);
        if (rc)
            return rc;
        if (optind < argc)
            json_object_set_new(job, "workload", json_string(argv[optind++]));
        if (optind < argc)
            return usage_error("run: unexpected argument '%s'", argv[optind]);
        if (json_object_size(params) == 0)
            json_object_del(job, "params");
        return 0;
    }
    if (json_object_size(env) || json_object_get(cmd, "cwd") || json_object_get(cmd, "timeout_s") ||
        name)
        bad = usage_error("%s", "run: --name, --env, --cwd and --timeout are for a program: add "
                                "-- PROGRAM ARGS");
    if (bad)
        return bad;
    if (optind < argc)
        json_object_set_new(job, "workload", json_string(argv[optind++]));
    if (optind < argc)
        return usage_error("run: unexpected argument '%s'", argv[optind]);
    if (*job_file && (flags > 0 || json_object_get(job, "workload")))
        return usage_error("%s", "run: --job carries the whole job; do not add a workload or flags");
    if (!*job_file && !json_object_get(job, "workload"))
        return usage_error("%s", "run: which workload? e.g. run pi (see list)");
    if (json_object_size(params) == 0)
        json_object_del(job, "params");
    return 0;
}

/* Turn run's flags into a job object; returns 0 or an exit status. */
static int parse_run_args(int argc, char **argv, json_t *job, const char **job_file,
                          const char **calib_file, int *json, int *progress)
{
    json_t *cmd = json_object();
    int rc = cmd ? parse_run_flags(argc, argv, job, cmd, job_file, calib_file, json, progress)
                 : usage_error("%s", "out of memory");
    json_decref(cmd);
    return rc;
}

static void load_calibration(const char *file, const struct sl_host *h, struct sl_calib *c,
                             int *have)
{
    char path[512];
    *have = 0;
    if (!file)
        file = sl_calibrate_default_path(path, sizeof path);
    if (file && sl_calibrate_load(c, file) == 0 && strcmp(c->cpu_model, h->cpu_model) == 0)
        *have = 1; /* a calibration from another CPU would mislead */
}

static int uses_mpi(const struct sl_job *job)
{
    for (unsigned i = 0; i < job->nbackends; i++)
        if (strcmp(job->backends[i]->name, "mpi") == 0)
            return 1;
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    json_t *jobj = json_object();
    const char *job_file = NULL, *calib_file = NULL;
    int json = 0, progress = isatty(2), rc;
    struct run_ctx ctx = {0};
    struct sl_job job = {0};
    struct sl_job_limits lim;
    struct sl_sweep *sweep = NULL;
    struct sl_analysis *an = NULL;
    struct sl_host host;
    struct sl_calib calib;
    int have_calib;
    char err[512];

    if ((rc = parse_run_args(argc, argv, jobj, &job_file, &calib_file, &json, &progress)))
        goto out;
    if (job_file) {
        json_decref(jobj);
        if (!(jobj = read_job(job_file))) {
            rc = EXIT_USAGE;
            goto out;
        }
    }
    sl_job_limits_default(&lim);
    if (sl_job_from_json(jobj, &lim, &job, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        rc = EXIT_USAGE;
        goto out;
    }
    sl_host_probe(&host);
    load_calibration(calib_file, &host, &calib, &have_calib);
    if (!(sweep = sl_sweep_new(&job))) {
        fprintf(stderr, "%s: out of memory\n", prog);
        rc = 1;
        goto out;
    }
    ctx.json = json;
    ctx.progress = progress;

    json_t *jj = sl_job_to_json(&job);
    if (json) {
        json_t *h = json_object(), *plan = json_object(), *pts = json_array(), *timer = json_object();
        for (unsigned i = 0; i < sl_sweep_npoints(sweep); i++) {
            const struct sl_point *p = sl_sweep_point(sweep, i);
            json_t *o = json_object();
            json_object_set_new(o, "backend", json_string(sl_point_name(p)));
            json_object_set_new(o, "cores", json_integer(p->cores));
            json_object_set_new(o, "variant", json_string(sl_variant_name(p->variant)));
            json_object_set_new(o, "size", json_real(sl_sweep_size(sweep, p->size)));
            json_array_append_new(pts, o);
        }
        json_object_set_new(plan, "points", pts);
        json_object_set_new(plan, "timed_runs", json_integer(sl_sweep_timed_runs(sweep)));
        json_object_set_new(plan, "all_runs", json_integer(sl_sweep_all_runs(sweep)));
        json_object_set_new(timer, "resolution_ns", json_real(host.timer_res_ns));
        json_object_set_new(timer, "step_ns", json_real(host.timer_step_ns));
        json_object_set_new(h, "type", json_string("header"));
        json_object_set_new(h, "version", json_string(SL_VERSION));
        json_object_set_new(h, "job", json_incref(jj));
        json_object_set_new(h, "size_param",
                            json_string(size_name(&job)));
        json_object_set_new(h, "host", sl_host_to_json(&host));
        json_object_set_new(h, "timer", timer);
        json_object_set_new(h, "calibration", have_calib ? sl_calibrate_to_json(&calib) : json_null());
        json_object_set_new(h, "plan", plan);
        if (uses_mpi(&job)) /* where the ranks may run: hosts and slots */
            json_object_set_new(h, "mpi_hosts", sl_mpi_hosts(job.hostfile));
        print_json_line(h);
    } else {
        if (job.wl) {
            printf("%s (%s): ", job.wl->title, job.wl->name);
            for (unsigned i = 0; i < job.wl->nparams; i++)
                printf("%s%s=%g", i ? " " : "", job.wl->params[i].name, job.params[i]);
        } else {
            printf("programs (%s):", job.label);
            for (unsigned i = 0; i < job.nprograms; i++)
                printf(" %s", job.programs[i].cmd->name);
            for (unsigned i = 0; i < job.nvars; i++)
                printf("%s%s=%g", i ? " " : "; ", job.var_names[i], job.var_values[i]);
        }
        printf("\n%s scaling, %u repeats after %u warm-up, %s kernels, %u points on %s (%u CPUs)\n",
               job.weak ? "weak" : "strong", job.repeats, job.warmup, sl_variant_name(job.variant),
               sl_sweep_npoints(sweep), host.cpu_model, host.cpus_allowed);
        printf("timer: resolution %.0f ns, smallest observed step %.0f ns%s\n", host.timer_res_ns,
               host.timer_step_ns, have_calib ? "" : "; no calibration (run 'calibrate' to compare with this host's limits)");
    }
    json_decref(jj);

    uint64_t t0 = sl_now_ns();
    rc = sl_sweep_run(sweep, on_measure, on_progress, &ctx, err, sizeof err);
    if (rc < 0) {
        if (progress)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "%s: %s\n", prog, err);
        if (json) {
            json_t *e = json_object();
            json_object_set_new(e, "type", json_string("error"));
            json_object_set_new(e, "message", json_string(err));
            print_json_line(e);
        }
        rc = 1;
        goto out;
    }
    if (rc == 1) { /* stdout went away or memory ran out: nothing more to say */
        rc = 1;
        goto out;
    }
    an = sl_analysis_new_baseline(ctx.samples, ctx.nsamples, job.weak, have_calib ? &calib : NULL,
                                  job.wl ? "serial" : job.baseline);
    if (!an) {
        fprintf(stderr, "%s: out of memory\n", prog);
        rc = 1;
        goto out;
    }
    if (json) {
        json_t *s = json_object();
        json_object_set_new(s, "type", json_string("summary"));
        json_object_set_new(s, "elapsed_s", json_real((double)(sl_now_ns() - t0) * 1e-9));
        json_object_set_new(s, "unverified", json_integer(ctx.unverified));
        json_object_set_new(s, "analysis", sl_analysis_to_json(an));
        if (ctx.outputs) { /* programs: the last run's output of each point */
            json_t *list = json_array();
            const char *k;
            json_t *v;
            json_object_foreach(ctx.outputs, k, v)
                json_array_append(list, v);
            json_object_set_new(s, "outputs", list);
        }
        print_json_line(s);
    } else {
        print_table(&job, an, ctx.unit);
    }
    rc = 0;
    if (ctx.unverified) {
        fprintf(stderr, "%s: %u run(s) failed verification and were left out of the statistics; "
                "first: %s\n", prog, ctx.unverified, ctx.first_failure);
        rc = EXIT_UNVERIFIED;
    }
out:
    sl_analysis_free(an);
    sl_sweep_free(sweep);
    sl_job_clear(&job);
    sl_backends_shutdown();
    free(ctx.samples);
    json_decref(ctx.outputs);
    json_decref(jobj);
    return rc;
}

int main(int argc, char **argv)
{
    /* Before anything else, and before any OpenMP: may execute the engine again. */
    sl_ompenv_settle(argv);
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("scalelab-engine %s\n", SL_VERSION);
        return 0;
    }
    int json = 0;
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    /* The other commands take --json anywhere. */
    int n = 0;
    char **rest = calloc((size_t)argc, sizeof *rest);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else
            rest[n++] = argv[i];
    }
    int rc;
    if (strcmp(cmd, "list") == 0 || strcmp(cmd, "info") == 0) {
        rc = n ? usage_error("unexpected argument '%s'", rest[0])
               : strcmp(cmd, "list") == 0 ? cmd_list(json) : cmd_info(json);
    } else if (strcmp(cmd, "calibrate") == 0) {
        rc = cmd_calibrate(n, rest, json);
    } else {
        rc = usage_error("unknown command '%s'", cmd);
    }
    free(rest);
    return rc;
}
