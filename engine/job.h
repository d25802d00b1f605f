/* job.h — a sweep to run: workload, parameters, backends, core counts, repeats, options.
 *
 * A job always arrives as JSON (the CLI turns its flags into the same object), so there is
 * one parser and one set of checks for the CLI, `--job FILE`, and the server's API. Every
 * value from outside is checked against its range and the host's limits, and a refusal
 * names the field, what was wrong and what is allowed.
 */
#ifndef SL_JOB_H
#define SL_JOB_H

#include <jansson.h>
#include <stddef.h>

#include "backend.h"
#include "command.h"
#include "sl.h"
#include "workload.h"

#define SL_MAX_BACKENDS 16u

struct sl_job {
    const struct sl_workload *wl;                     /* the workload */
    double params[SL_WL_MAX_PARAMS];                  /* its parameters (defaults filled in) */
    const struct sl_backend *backends[SL_MAX_BACKENDS]; /* backends to compare, in order */
    unsigned nbackends;
    unsigned cores[SL_MAX_CORE_COUNTS];               /* core counts for parallel backends, ascending */
    unsigned ncores;
    unsigned repeats;                                 /* timed runs per point */
    unsigned warmup;                                  /* untimed runs per point before them */
    int weak;                                         /* 1: weak scaling (size grows with cores) */
    enum sl_variant variant;                          /* kernel of the parallel backends */
    enum sl_affinity affinity;                        /* pinning */
    enum sl_schedule schedule;                        /* openmp schedule */
    uint64_t chunk;                                   /* items per dynamic chunk, 0 = automatic */
    int oversubscribe;                                /* 1: allow more cores than the host has */
    unsigned threads_per_rank;                        /* mpi: OpenMP threads per rank (1 = pure MPI) */
    char hostfile[256];                               /* mpi: mpirun's hostfile, "" = this host */
    /* A program job (wl == NULL): the user's programs are the points' sources instead of
     * workload x backends; see "command" and "programs" in job.c and command.h. */
    struct sl_program_spec *programs;                 /* nprograms entries (malloc'ed) */
    unsigned nprograms;
    char label[SL_NAME_MAX];                          /* its "workload": a group ("pi") or "command" */
    char var_names[SL_COMMAND_MAX_VARS][SL_NAME_MAX]; /* its declared parameters, placeholders ... */
    double var_values[SL_COMMAND_MAX_VARS];           /* ... and their values */
    unsigned nvars;
    int size_var;                                     /* the parameter shown as "size", -1: none */
    char baseline[SL_NAME_MAX];                       /* program speedups are measured against ("" = none) */
    int thread_env;                                   /* 1: OMP_NUM_THREADS etc. = cores (default) */
    int confine;                                      /* 1: the child runs on `cores` CPUs only */
    double tolerance;                                 /* results of one size must agree within it; < 0: not compared */
};

/* One program of a program job. */
struct sl_program_spec {
    struct sl_command *cmd;   /* what to run (its name is the curve's) */
    int parallel;             /* 0: it ignores {cores}, so it runs at 1 core only */
};

/* Limits the checks apply; sl_job_limits_default() fills them from this host. */
struct sl_job_limits {
    unsigned max_cores;   /* without oversubscribe: the CPUs this process may use */
    unsigned oversubscribe_max; /* with oversubscribe: the most workers (0 = SL_MAX_WORKERS) */
    double max_memory;    /* bytes the workload's state may take (all sizes together) */
    const char *hostfile; /* the one hostfile a job may name: NULL any (CLI), "" none (a server
                           * started without --mpi-hostfile) */
};

void sl_job_limits_default(struct sl_job_limits *lim);

/* Parse and check a job. On failure returns a negative SL_E* code and writes one sentence
 * naming the field and the allowed values into err. Unknown keys are refused. */
int sl_job_from_json(const json_t *o, const struct sl_job_limits *lim, struct sl_job *job,
                     char *err, size_t errlen);

/* Free what a parsed job holds (its programs); the job may be parsed into again. Safe on a
 * job that failed to parse or was zeroed. */
void sl_job_clear(struct sl_job *job);

/* The placeholder values of a program job for one run at `cores`, for sl_command_run. */
void sl_job_command_opts(const struct sl_job *job, unsigned cores, struct sl_command_opts *o);

/* The field the last refusal of sl_job_from_json on this thread concerns: "workload",
 * "params.samples", "backends", "cores", "repeats", ... ("" for the body as a whole). */
const char *sl_job_error_field(void);

/* The job as JSON with every default made explicit (new reference), or NULL. */
json_t *sl_job_to_json(const struct sl_job *job);

/* The value of the weak-scaled parameter at p cores (base * p^(1/weak_power), rounded for
 * whole-number parameters); the base value is job->params[wl->weak_param]. */
double sl_job_weak_value(const struct sl_job *job, unsigned p);

/* 1 if s is a name for a program, a group or a label: letters, digits, '_', '-', '.' (only
 * letters, digits and '_' when identifier is set: a placeholder), 1 to SL_NAME_MAX - 1
 * characters; s may be NULL (0). */
int sl_name_valid(const char *s, int identifier);

/* Names of the enums, for JSON and tables. */
const char *sl_variant_name(enum sl_variant v);
const char *sl_affinity_name(enum sl_affinity a);
const char *sl_schedule_name(enum sl_schedule s);

/* Parse a number as a human writes it: "1e9", "2000000", "0.5". Returns 0 or -SL_EINVAL. */
int sl_parse_number(const char *s, double *out);

#endif /* SL_JOB_H */
