/* command.h — run the user's program once, measured: fork + exec (never a shell), wait4.
 *
 * A program is an argv template, environment entries and a working directory. Before each
 * run, `{name}` placeholders in argv and env are replaced by values: `{cores}` and the
 * declared parameters (`{samples}`); any other `{identifier}` is refused when the program is
 * checked, so a typo never reaches the program. Text that is not `{identifier}` (a Python
 * dict literal, `{}`) is passed through untouched. argv[0] is looked up in PATH (execvp);
 * nothing is ever given to a shell.
 *
 * One run is one process: the wall time runs from just before fork to the reap (wait4), as
 * hyperfine measures; the rusage is wait4's, i.e. the program and every descendant it waited
 * for (so max RSS is the largest process of that tree, the CPU times are the tree's sum).
 * The child stays in the engine's process group, so a cancel that kills the engine's group
 * kills the program and every worker it started.
 *
 * A program with a timeout (timeout_s) runs instead in a process group of its own, so that
 * at the deadline its whole tree can be killed without the engine: SIGTERM to the group,
 * SIGKILL after SL_WATCH_GRACE_NS, and the run is a failed one (r->timed_out). That group
 * is held by a small keeper process, forked before the timed region, which kills the group
 * when the engine dies (a cancel's SIGKILL, a Ctrl-C): nothing outlives the engine (watch.h).
 *
 * The child's stdout and stderr are read as it runs and only their last SL_COMMAND_TAIL bytes
 * are kept, so a chatty program costs bounded memory. A stdout line `scalelab: {json}` is the
 * program's own report (see struct sl_report); lines that do not parse are counted and the
 * first problem is kept, and the run goes on.
 */
#ifndef SL_COMMAND_H
#define SL_COMMAND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "sl.h"

#define SL_COMMAND_TAIL (64u * 1024u) /* bytes kept of each stream */
#define SL_COMMAND_MAX_ARGS 256u      /* argv entries */
#define SL_COMMAND_MAX_ENV 64u        /* env entries */
#define SL_COMMAND_MAX_ARG 4096u      /* bytes of one argv or env entry, expanded */
#define SL_COMMAND_MAX_PHASES 8u      /* phases kept from a report */
#define SL_COMMAND_MAX_VARS 8u        /* placeholder values besides {cores} */
#define SL_COMMAND_MAX_TIMEOUT 86400.0 /* seconds: the longest timeout_s a program may ask */

/* A program as the sweep runs it. Built by sl_command_from_json; free with sl_command_free. */
struct sl_command {
    char name[SL_NAME_MAX]; /* its curve's name ("py-threading"; "command" for an ad-hoc one) */
    char **argv;            /* argv template, NULL-terminated, at least one entry */
    unsigned argc;
    char **env_names;       /* environment entries set for the child: name ... */
    char **env_values;      /* ... and value template */
    unsigned nenv;
    char *cwd;              /* working directory, or NULL for the engine's */
    double timeout_s;       /* seconds one run may take before it is killed; 0: no limit */
};

/* Placeholder values and how to start the child, for one run. */
struct sl_command_opts {
    unsigned cores;                           /* {cores}, the thread variables, confinement */
    const char *names[SL_COMMAND_MAX_VARS];   /* other placeholders ... */
    double values[SL_COMMAND_MAX_VARS];       /* ... and their values */
    unsigned nvars;
    int thread_env;   /* 1: OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS and
                       * NUMBA_NUM_THREADS = cores (the program's own env entries win) */
    int confine;      /* 1: the child may run only on `cores` CPUs (the first of the engine's) */
};

/* The program's own figures, from its `scalelab: {json}` stdout lines. Several lines merge,
 * later values winning. Unknown keys are ignored (a newer program may say more). */
struct sl_report {
    int present;                 /* at least one line parsed */
    double work;                 /* "work": units of work done (NaN if not given) */
    char unit[32];               /* "unit": what a unit is ("sample") */
    double result;               /* "result": a number to verify or compare (NaN if not given) */
    unsigned nphases;            /* "phases": {"startup": s, "compute": s, ...}, in order */
    char phase_name[SL_COMMAND_MAX_PHASES][24];
    double phase_s[SL_COMMAND_MAX_PHASES];
    double *busy_s;              /* "busy": per-worker busy seconds (malloc'ed; NULL if none) */
    unsigned nbusy;
    unsigned bad_lines;          /* report lines that did not parse or had wrong types */
    char bad[160];               /* what was wrong with the first one */
};

/* A bounded tail of a stream: the last SL_COMMAND_TAIL bytes written. */
struct sl_tail {
    char *buf;       /* ring of SL_COMMAND_TAIL bytes (malloc'ed on first write) */
    size_t start;    /* where the oldest byte is, once the ring is full */
    size_t len;      /* bytes in the ring */
    uint64_t total;  /* bytes written in all */
};

/* What one run measured. */
struct sl_command_result {
    uint64_t wall_ns;          /* just before fork until the reap */
    struct rusage ru;          /* wait4's: the program and the descendants it waited for */
    int exited;                /* 1: it exited (status in code); 0: killed by signal `code` */
    int code;                  /* exit status or signal number */
    int timed_out;             /* 1: it ran past the command's timeout_s and its process group
                                * was killed (then exited is 0 or its status after SIGTERM) */
    struct sl_tail out, err;   /* the last bytes of stdout and stderr */
    struct sl_report report;   /* its report lines */
};

/* A program from JSON {"argv": [...], "env": {...}, "cwd": "...", "timeout_s": s} with the
 * given curve name (timeout_s: a number > 0 and <= SL_COMMAND_MAX_TIMEOUT, absent: no limit).
 * vars lists the placeholders that may appear besides {cores}. Returns NULL with one sentence
 * in err (naming the field) when the object is malformed or uses an unknown placeholder. */
struct sl_command *sl_command_from_json(const json_t *o, const char *name,
                                        const char *const *vars, unsigned nvars, char *err,
                                        size_t errlen);
/* The program as JSON (new reference): {"argv", "env", "cwd"?, "timeout_s"?}. */
json_t *sl_command_to_json(const struct sl_command *c);
void sl_command_free(struct sl_command *c);

/* Replace the placeholders of template into out (at most outlen bytes, NUL included).
 * Numbers are written as a human writes them (10000000, 0.5). Returns 0, -SL_ENOENT for an
 * unknown placeholder (its name in out), -SL_ERANGE when out is too small. */
int sl_command_expand(const char *template, const struct sl_command_opts *o, char *out,
                      size_t outlen);

/* Run the program once. Returns 0 when it ran (whatever its exit status: see r->exited and
 * r->code), or a negative SL_E* code with a sentence in err when it could not be started
 * (no such program, fork failed); the exec failure of a missing program is reported as
 * -SL_ENOENT. A run past c->timeout_s returns 0 with r->timed_out set, its process group
 * killed and reaped. r must be zeroed before the first call; free its buffers with
 * sl_command_result_free (r may then be reused). */
int sl_command_run(const struct sl_command *c, const struct sl_command_opts *o,
                   struct sl_command_result *r, char *err, size_t errlen);
void sl_command_result_free(struct sl_command_result *r);

/* The tail's bytes in order, NUL-terminated (malloc'ed; caller frees), or NULL. */
char *sl_tail_string(const struct sl_tail *t);
/* The last n bytes of the tail, starting at a line start when one is near, into buf. */
void sl_tail_last(const struct sl_tail *t, char *buf, size_t n);

/* Parse one stdout line into r if it is a report line ("scalelab: {json}"). Returns 1 if it
 * was one (good or bad: bad ones are counted), 0 if it was not. */
int sl_report_line(struct sl_report *r, const char *line, size_t len);
/* Reset a report to "nothing reported" (frees busy_s). */
void sl_report_clear(struct sl_report *r);

#endif /* SL_COMMAND_H */
