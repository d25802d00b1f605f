/* job.c — parse and check a sweep's JSON description against ranges and host limits. */
#include "job.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep.h"

static const char *const variant_names[] = {"scalar", "vector", NULL};
static const char *const affinity_names[] = {"none", "close", "spread", NULL};
static const char *const schedule_names[] = {"static", "dynamic", "guided", NULL};
static const char *const scaling_names[] = {"strong", "weak", NULL};

const char *sl_variant_name(enum sl_variant v) { return variant_names[v]; }
const char *sl_affinity_name(enum sl_affinity a) { return affinity_names[a]; }
const char *sl_schedule_name(enum sl_schedule s) { return schedule_names[s]; }

int sl_parse_number(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return -SL_EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return -SL_EINVAL;
    *out = v;
    return 0;
}

void sl_job_limits_default(struct sl_job_limits *lim)
{
    lim->max_cores = sl_cpus_allowed();
    lim->oversubscribe_max = SL_MAX_WORKERS;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    /* Half the RAM: the rest is for the OS, the server and the measurement itself. */
    lim->max_memory = pages > 0 && page > 0 ? 0.5 * (double)pages * (double)page : 1e9;
    lim->hostfile = NULL;
}

/* The job field the last refusal on this thread concerns ("cores", "params.samples"), so that
 * a form can show the message next to that field. */
static _Thread_local char last_field[112];

const char *sl_job_error_field(void)
{
    return last_field;
}

static void set_field(const char *fmt, const char *arg)
{
    snprintf(last_field, sizeof last_field, fmt, arg);
}

/* Refuse with a sentence in err, concerning `field` (a format with at most one %s). */
#define FAIL_AT(field, arg, code, ...)                                                        \
    do {                                                                                      \
        set_field(field, arg);                                                                \
        snprintf(err, errlen, __VA_ARGS__);                                                   \
        return -(code);                                                                       \
    } while (0)

/* Index of s in a NULL-terminated list of names, or -1. */
static int name_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Append name to a comma-separated list in buf. */
static void append_name(char *buf, size_t len, const char *name)
{
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
}

static void join_names(const char *const *names, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; names[i]; i++)
        append_name(buf, len, names[i]);
}

static void workload_names(char *buf, size_t len)
{
    buf[0] = '\0';
    for (const struct sl_workload *const *w = sl_workloads; *w; w++)
        if (sl_workload_visible(*w))
            append_name(buf, len, (*w)->name);
}

static int parse_enum(const json_t *o, const char *key, const char *const *names, int *out,
                      char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    char list[128];
    if (!v)
        return 0;
    join_names(names, list, sizeof list);
    if (!json_is_string(v))
        FAIL_AT("%s", key, SL_EINVAL, "%s must be a string, one of: %s", key, list);
    int i = name_index(names, json_string_value(v));
    if (i < 0)
        FAIL_AT("%s", key, SL_EINVAL, "%s \"%s\" is not known; use one of: %s", key, json_string_value(v),
             list);
    *out = i;
    return 0;
}

/* A whole number in [min, max] from key, if present. */
static int parse_uint(const json_t *o, const char *key, double min, double max, double *out,
                      char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_number(v))
        FAIL_AT("%s", key, SL_EINVAL, "%s must be a number from %g to %g", key, min, max);
    double d = json_number_value(v);
    if (d != floor(d) || d < min || d > max)
        FAIL_AT("%s", key, SL_ERANGE, "%s = %g is out of range: a whole number from %g to %g", key, d, min,
             max);
    *out = d;
    return 0;
}

static int cmp_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

static int parse_params(const json_t *o, struct sl_job *job, char *err, size_t errlen)
{
    const struct sl_workload *wl = job->wl;
    const json_t *params = json_object_get(o, "params");
    const char *key;
    const json_t *v;
    sl_workload_defaults(wl, job->params);
    if (!params)
        return 0;
    if (!json_is_object(params))
        FAIL_AT("params", NULL, SL_EINVAL, "params must be an object such as {\"%s\": %g}", wl->params[0].name,
             wl->params[0].def);
    json_object_foreach((json_t *)params, key, v) {
        int i = sl_workload_param_index(wl, key);
        if (i < 0) {
            char list[160] = "";
            for (unsigned k = 0; k < wl->nparams; k++)
                append_name(list, sizeof list, wl->params[k].name);
            FAIL_AT("params.%s", key, SL_ENOENT, "params.%s is not a parameter of %s; its parameters are: %s", key,
                 wl->name, list);
        }
        if (!json_is_number(v))
            FAIL_AT("params.%s", key, SL_EINVAL, "params.%s must be a number from %g to %g", key,
                 wl->params[i].min, wl->params[i].max);
        int rc = sl_workload_check_param(wl, (unsigned)i, json_number_value(v), err, errlen);
        if (rc) {
            set_field("params.%s", key);
            return rc;
        }
        job->params[i] = json_number_value(v);
    }
    return 0;
}

static int parse_backends(const json_t *o, struct sl_job *job, char *err, size_t errlen)
{
    const json_t *list = json_object_get(o, "backends");
    char names[160] = "";
    for (const struct sl_backend *const *b = sl_backends; *b; b++)
        append_name(names, sizeof names, (*b)->name);
    if (!list) { /* default: every backend that can run here */
        for (const struct sl_backend *const *b = sl_backends; *b; b++) {
            char why[160];
            if ((*b)->probe(why, sizeof why) == 0 && job->nbackends < SL_MAX_BACKENDS)
                job->backends[job->nbackends++] = *b;
        }
        return 0;
    }
    if (!json_is_array(list) || json_array_size(list) == 0)
        FAIL_AT("backends", NULL, SL_EINVAL, "backends must be a non-empty list of names from: %s", names);
    if (json_array_size(list) > SL_MAX_BACKENDS)
        FAIL_AT("backends", NULL, SL_ERANGE, "backends lists %zu entries; at most %u", json_array_size(list),
             SL_MAX_BACKENDS);
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) {
        if (!json_is_string(v))
            FAIL_AT("backends", NULL, SL_EINVAL, "backends[%zu] must be a name from: %s", i, names);
        const struct sl_backend *b = sl_backend_find(json_string_value(v));
        if (!b)
            FAIL_AT("backends", NULL, SL_ENOENT, "backend \"%s\" is not known; use one of: %s", json_string_value(v),
                 names);
        for (unsigned k = 0; k < job->nbackends; k++)
            if (job->backends[k] == b)
                FAIL_AT("backends", NULL, SL_EINVAL, "backend \"%s\" is listed twice", b->name);
        char why[160];
        if (b->probe(why, sizeof why) != 0)
            FAIL_AT("backends", NULL, SL_EUNAVAIL, "backend \"%s\" cannot run on this host: %s", b->name, why);
        job->backends[job->nbackends++] = b;
    }
    return 0;
}

static int parse_cores(const json_t *o, const struct sl_job_limits *lim, struct sl_job *job,
                       char *err, size_t errlen)
{
    const json_t *list = json_object_get(o, "cores");
    unsigned host = lim->max_cores ? lim->max_cores : 1;
    unsigned over = lim->oversubscribe_max ? lim->oversubscribe_max : SL_MAX_WORKERS;
    unsigned cap = job->oversubscribe ? over : host;
    if (!list) { /* default: 1, 2, 4, ... up to the host's cores, and the count itself */
        for (unsigned c = 1; c <= host && job->ncores < SL_MAX_CORE_COUNTS; c *= 2)
            job->cores[job->ncores++] = c;
        if (job->cores[job->ncores - 1] != host && job->ncores < SL_MAX_CORE_COUNTS)
            job->cores[job->ncores++] = host;
        return 0;
    }
    if (!json_is_array(list) || json_array_size(list) == 0)
        FAIL_AT("cores", NULL, SL_EINVAL, "cores must be a non-empty list of core counts such as [1, 2]");
    if (json_array_size(list) > SL_MAX_CORE_COUNTS)
        FAIL_AT("cores", NULL, SL_ERANGE, "cores lists %zu counts; at most %u", json_array_size(list),
             SL_MAX_CORE_COUNTS);
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) {
        double d = json_is_number(v) ? json_number_value(v) : -1;
        if (d != floor(d) || d < 1 || d > SL_MAX_WORKERS)
            FAIL_AT("cores", NULL, SL_ERANGE, "cores[%zu] must be a whole number from 1 to %u", i, SL_MAX_WORKERS);
        if (d > cap && job->oversubscribe)
            FAIL_AT("cores", NULL, SL_ELIMIT, "cores[%zu] = %g exceeds the oversubscription limit of %u workers",
                 i, d, cap);
        if (d > cap)
            FAIL_AT("cores", NULL, SL_ELIMIT,
                 "cores[%zu] = %g exceeds this host's %u usable CPUs; set \"oversubscribe\": true "
                 "(--oversubscribe) to run more workers than cores",
                 i, d, host);
        for (unsigned k = 0; k < job->ncores; k++)
            if (job->cores[k] == (unsigned)d)
                FAIL_AT("cores", NULL, SL_EINVAL, "cores lists %g twice", d);
        job->cores[job->ncores++] = (unsigned)d;
    }
    qsort(job->cores, job->ncores, sizeof job->cores[0], cmp_unsigned);
    return 0;
}

/* Parameter value of the weak-scaled parameter at p cores. */
static double weak_value(const struct sl_workload *wl, double base, unsigned p)
{
    double power = wl->weak_power > 0 ? wl->weak_power : 1;
    double v = base * pow((double)p, 1.0 / power);
    return wl->params[wl->weak_param].integer ? round(v) : v;
}

static int check_sizes(const struct sl_job_limits *lim, const struct sl_job *job, char *err,
                       size_t errlen)
{
    const struct sl_workload *wl = job->wl;
    double total = 0, params[SL_WL_MAX_PARAMS];
    memcpy(params, job->params, sizeof params);
    if (!job->weak) {
        total = wl->memory(params);
    } else {
        const struct sl_param *wp = &wl->params[wl->weak_param];
        for (unsigned k = 0; k < job->ncores; k++) {
            params[wl->weak_param] = weak_value(wl, job->params[wl->weak_param], job->cores[k]);
            if (params[wl->weak_param] > wp->max)
                FAIL_AT("params.%s", wp->name, SL_ERANGE,
                     "weak scaling grows %s.%s to %g at %u cores, above its maximum %g; lower it",
                     wl->name, wp->name, params[wl->weak_param], job->cores[k], wp->max);
            total += wl->memory(params);
        }
    }
    if (total > lim->max_memory)
        FAIL_AT("params", NULL, SL_ELIMIT, "the job needs %.3g GB of memory for its data, above the limit of %.3g GB "
                        "(half this host's RAM); use smaller sizes",
             total / 1e9, lim->max_memory / 1e9);
    return 0;
}

/* The sweep's timed runs (points x repeats, as sweep.c plans them) within
 * SL_MAX_MEASUREMENTS: every one is a stored row, a streamed event, a sample analysed. */
static int check_measurements(const struct sl_job *job, char *err, size_t errlen)
{
    struct sl_sweep *s = sl_sweep_new(job);
    if (!s)
        FAIL_AT("", NULL, SL_ENOMEM, "out of memory while planning the sweep");
    unsigned points = sl_sweep_npoints(s), timed = sl_sweep_timed_runs(s);
    sl_sweep_free(s);
    if (timed > SL_MAX_MEASUREMENTS)
        FAIL_AT("repeats", NULL, SL_ELIMIT,
                "the sweep plans %u measurements (%u points x %u repeats), above the limit of "
                "%u measurements per run; use fewer backends (or programs), core counts or repeats",
                timed, points, job->repeats, SL_MAX_MEASUREMENTS);
    return 0;
}

/* threads_per_rank and hostfile: the shape of the mpi backend's ranks. */
static int parse_mpi(const json_t *o, const struct sl_job_limits *lim, struct sl_job *job,
                     char *err, size_t errlen)
{
    double d = 1;
    int rc = parse_uint(o, "threads_per_rank", 1, SL_MAX_WORKERS, &d, err, errlen);
    if (rc)
        return rc;
    job->threads_per_rank = (unsigned)d;
    for (unsigned i = 0; i < job->ncores && job->threads_per_rank > 1; i++)
        if (job->cores[i] % job->threads_per_rank)
            FAIL_AT("cores", NULL, SL_EINVAL,
                    "with threads_per_rank %u every core count must be a multiple of %u "
                    "(ranks x threads); %u is not",
                    job->threads_per_rank, job->threads_per_rank, job->cores[i]);
    const json_t *v = json_object_get(o, "hostfile");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) >= sizeof job->hostfile)
        FAIL_AT("hostfile", NULL, SL_EINVAL, "hostfile must be the path of an mpirun hostfile "
                                             "(shorter than %zu characters)", sizeof job->hostfile);
    const char *path = json_string_value(v);
    if (lim->hostfile && !*lim->hostfile)
        FAIL_AT("hostfile", NULL, SL_EINVAL, "this server names no hostfile jobs may use "
                                             "(start it with --mpi-hostfile FILE)");
    if (lim->hostfile && strcmp(lim->hostfile, path) != 0)
        FAIL_AT("hostfile", NULL, SL_EINVAL, "hostfile must be %s, the one this server allows",
                lim->hostfile);
    if (access(path, R_OK) != 0)
        FAIL_AT("hostfile", NULL, SL_ENOENT, "hostfile %s cannot be read: %s", path,
                strerror(errno));
    snprintf(job->hostfile, sizeof job->hostfile, "%s", path);
    return 0;
}

/* repeats and warmup, with their defaults (5 and 1). */
static int parse_repeats(const json_t *o, struct sl_job *job, char *err, size_t errlen)
{
    double d = 5;
    int rc;
    if ((rc = parse_uint(o, "repeats", 1, SL_MAX_REPEATS, &d, err, errlen)))
        return rc;
    job->repeats = (unsigned)d;
    d = 1;
    if ((rc = parse_uint(o, "warmup", 0, SL_MAX_WARMUP, &d, err, errlen)))
        return rc;
    job->warmup = (unsigned)d;
    return 0;
}

/* --- program jobs: the user's programs instead of workload x backends --- */

void sl_job_clear(struct sl_job *job)
{
    for (unsigned i = 0; job->programs && i < job->nprograms; i++)
        sl_command_free(job->programs[i].cmd);
    free(job->programs);
    job->programs = NULL;
    job->nprograms = 0;
}

void sl_job_command_opts(const struct sl_job *job, unsigned cores, struct sl_command_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cores = cores;
    o->thread_env = job->thread_env;
    o->confine = job->confine;
    for (unsigned i = 0; i < job->nvars; i++) {
        o->names[i] = job->var_names[i];
        o->values[i] = job->var_values[i];
    }
    o->nvars = job->nvars;
}

int sl_name_valid(const char *s, int identifier)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= SL_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (!identifier && (*s == '-' || *s == '.'))))
            return 0;
    return 1;
}

static int parse_bool(const json_t *o, const char *key, int *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        FAIL_AT("%s", key, SL_EINVAL, "%s must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* Parameters of a program job: any names (they are its placeholders), finite numbers. */
static int parse_program_params(const json_t *o, struct sl_job *job, char *err, size_t errlen)
{
    const json_t *params = json_object_get(o, "params"), *v;
    const char *key;
    if (!params)
        return 0;
    if (!json_is_object(params))
        FAIL_AT("params", NULL, SL_EINVAL, "params must be an object such as {\"samples\": 1e7}");
    if (json_object_size(params) > SL_COMMAND_MAX_VARS)
        FAIL_AT("params", NULL, SL_ERANGE, "params has %zu entries; a program takes at most %u",
                json_object_size(params), SL_COMMAND_MAX_VARS);
    json_object_foreach((json_t *)params, key, v) {
        if (!sl_name_valid(key, 1) || strcmp(key, "cores") == 0)
            FAIL_AT("params.%s", key, SL_EINVAL, "params.%s: a parameter name is letters, digits "
                    "and _ (and not \"cores\", which is set per point)", key);
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            FAIL_AT("params.%s", key, SL_EINVAL, "params.%s must be a number", key);
        snprintf(job->var_names[job->nvars], SL_NAME_MAX, "%s", key);
        job->var_values[job->nvars++] = json_number_value(v);
    }
    return 0;
}

/* One entry of "programs" (or the "command" shorthand, named "command"). */
static int parse_program(const json_t *v, size_t i, struct sl_job *job, char *err, size_t errlen)
{
    const char *vars[SL_COMMAND_MAX_VARS];
    char field[96], why[400];
    json_t *cmd = json_object();
    const char *key, *name = "command";
    const json_t *x;
    int parallel = 1, rc = 0;
    snprintf(field, sizeof field, i == (size_t)-1 ? "command" : "programs[%zu]", i);
    if (!cmd)
        FAIL_AT("", NULL, SL_ENOMEM, "out of memory");
    if (!json_is_object(v)) {
        json_decref(cmd);
        FAIL_AT("%s", field, SL_EINVAL, "%s must be an object with argv (and name, env, cwd)", field);
    }
    json_object_foreach((json_t *)v, key, x) { /* name and parallel are the job's, the rest the command's */
        if (strcmp(key, "name") != 0 && strcmp(key, "parallel") != 0)
            json_object_set((json_t *)cmd, key, (json_t *)x);
    }
    if (i != (size_t)-1) {
        x = json_object_get(v, "name");
        if (!json_is_string(x) || !sl_name_valid(json_string_value(x), 0)) {
            json_decref(cmd);
            FAIL_AT("%s", field, SL_EINVAL, "%s.name must be 1 to %u letters, digits, '_', '-' or '.'",
                    field, SL_NAME_MAX - 1);
        }
        name = json_string_value(x);
        for (unsigned k = 0; k < job->nprograms; k++)
            if (strcmp(job->programs[k].cmd->name, name) == 0) {
                json_decref(cmd);
                FAIL_AT("%s", field, SL_EINVAL, "program \"%s\" is listed twice", name);
            }
        if ((rc = parse_bool(v, "parallel", &parallel, err, errlen))) {
            json_decref(cmd);
            set_field("%s.parallel", field);
            return rc;
        }
    }
    for (unsigned k = 0; k < job->nvars; k++)
        vars[k] = job->var_names[k];
    struct sl_command *c = sl_command_from_json(cmd, name, vars, job->nvars, why, sizeof why);
    json_decref(cmd);
    if (!c) {
        /* the command module names its fields "command.x": say which program */
        const char *rest = strncmp(why, "command", 7) == 0 ? why + 7 : why;
        if (*rest == '.' || *rest == '[') { /* the field is the command's: command.timeout_s */
            size_t n = strcspn(rest, " :"), used = strlen(field);
            snprintf(field + used, sizeof field - used, "%.*s", (int)n, rest);
            FAIL_AT("%s", field, SL_EINVAL, "%.*s%s", (int)used, field, rest);
        }
        FAIL_AT("%s", field, SL_EINVAL, "%s: %s", field, rest);
    }
    job->programs[job->nprograms++] = (struct sl_program_spec){.cmd = c, .parallel = parallel};
    return 0;
}

static int parse_programs(const json_t *o, struct sl_job *job, char *err, size_t errlen)
{
    const json_t *one = json_object_get(o, "command"), *list = json_object_get(o, "programs"), *v;
    size_t i;
    int rc;
    if (one && list)
        FAIL_AT("command", NULL, SL_EINVAL, "give either command (one program) or programs (a list), not both");
    if (list && (!json_is_array(list) || json_array_size(list) == 0 ||
                 json_array_size(list) > SL_MAX_BACKENDS))
        FAIL_AT("programs", NULL, SL_EINVAL, "programs must be a list of 1 to %u programs", SL_MAX_BACKENDS);
    if (!(job->programs = calloc(list ? json_array_size(list) : 1, sizeof *job->programs)))
        FAIL_AT("", NULL, SL_ENOMEM, "out of memory");
    if (one)
        return parse_program(one, (size_t)-1, job, err, errlen);
    json_array_foreach(list, i, v)
        if ((rc = parse_program(v, i, job, err, errlen)))
            return rc;
    return 0;
}

static int program_job_from_json(const json_t *o, const struct sl_job_limits *lim,
                                 struct sl_job *job, char *err, size_t errlen)
{
    static const char *const keys[] = {"workload", "command", "programs", "params", "cores",
                                       "repeats", "warmup", "oversubscribe", "thread_env",
                                       "confine", "tolerance", "size_param", "baseline", NULL};
    const char *key;
    const json_t *v;
    int rc;
    json_object_foreach((json_t *)o, key, v) {
        if (name_index(keys, key) < 0) {
            char list[256];
            join_names(keys, list, sizeof list);
            FAIL_AT("%s", key, SL_ENOENT, "unknown field \"%s\" for a program job; it has: %s", key, list);
        }
    }
    job->size_var = -1;
    job->thread_env = 1;
    job->tolerance = -1;
    v = json_object_get(o, "workload");
    if (v && (!json_is_string(v) || !sl_name_valid(json_string_value(v), 0)))
        FAIL_AT("workload", NULL, SL_EINVAL, "workload of a program job is a label such as \"pi\" "
                "(letters, digits, '_', '-', '.')");
    snprintf(job->label, sizeof job->label, "%s", v ? json_string_value(v) : "command");
    if ((rc = parse_program_params(o, job, err, errlen)) || (rc = parse_programs(o, job, err, errlen)))
        return rc;
    v = json_object_get(o, "size_param");
    if (v) {
        for (unsigned k = 0; json_is_string(v) && k < job->nvars; k++)
            if (strcmp(job->var_names[k], json_string_value(v)) == 0)
                job->size_var = (int)k;
        if (job->size_var < 0)
            FAIL_AT("size_param", NULL, SL_EINVAL, "size_param must name one of params");
    }
    if (!v && job->nvars > 0)
        job->size_var = 0; /* the first parameter is the size unless another is named */
    v = json_object_get(o, "baseline");
    if (v) {
        for (unsigned k = 0; json_is_string(v) && k < job->nprograms; k++)
            if (strcmp(job->programs[k].cmd->name, json_string_value(v)) == 0)
                snprintf(job->baseline, sizeof job->baseline, "%s", json_string_value(v));
        if (!job->baseline[0])
            FAIL_AT("baseline", NULL, SL_EINVAL, "baseline must name one of the programs");
    }
    v = json_object_get(o, "tolerance");
    if (v) {
        if (!json_is_number(v) || json_number_value(v) < 0)
            FAIL_AT("tolerance", NULL, SL_EINVAL, "tolerance must be a number >= 0 (0: results must be equal)");
        job->tolerance = json_number_value(v);
    }
    if ((rc = parse_bool(o, "oversubscribe", &job->oversubscribe, err, errlen)) ||
        (rc = parse_bool(o, "thread_env", &job->thread_env, err, errlen)) ||
        (rc = parse_bool(o, "confine", &job->confine, err, errlen)) ||
        (rc = parse_cores(o, lim, job, err, errlen)))
        return rc;
    return parse_repeats(o, job, err, errlen);
}

static json_t *program_job_to_json(const struct sl_job *job)
{
    json_t *o = json_object(), *params = json_object(), *programs = json_array(),
           *cores = json_array();
    if (!o || !params || !programs || !cores) {
        json_decref(o);
        json_decref(params);
        json_decref(programs);
        json_decref(cores);
        return NULL;
    }
    for (unsigned i = 0; i < job->nvars; i++)
        json_object_set_new(params, job->var_names[i], json_real(job->var_values[i]));
    for (unsigned i = 0; i < job->nprograms; i++) {
        json_t *p = sl_command_to_json(job->programs[i].cmd);
        json_object_set_new(p, "name", json_string(job->programs[i].cmd->name));
        json_object_set_new(p, "parallel", json_boolean(job->programs[i].parallel));
        json_array_append_new(programs, p);
    }
    for (unsigned i = 0; i < job->ncores; i++)
        json_array_append_new(cores, json_integer(job->cores[i]));
    json_object_set_new(o, "workload", json_string(job->label));
    json_object_set_new(o, "programs", programs);
    json_object_set_new(o, "params", params);
    json_object_set_new(o, "cores", cores);
    json_object_set_new(o, "repeats", json_integer(job->repeats));
    json_object_set_new(o, "warmup", json_integer(job->warmup));
    json_object_set_new(o, "oversubscribe", json_boolean(job->oversubscribe));
    json_object_set_new(o, "thread_env", json_boolean(job->thread_env));
    json_object_set_new(o, "confine", json_boolean(job->confine));
    if (job->tolerance >= 0)
        json_object_set_new(o, "tolerance", json_real(job->tolerance));
    if (job->size_var >= 0)
        json_object_set_new(o, "size_param", json_string(job->var_names[job->size_var]));
    if (job->baseline[0])
        json_object_set_new(o, "baseline", json_string(job->baseline));
    return o;
}

int sl_job_from_json(const json_t *o, const struct sl_job_limits *lim, struct sl_job *job,
                     char *err, size_t errlen)
{
    static const char *const keys[] = {"workload", "params",   "backends",  "cores",
                                       "repeats",  "warmup",   "scaling",   "variant",
                                       "affinity", "schedule", "chunk",     "oversubscribe",
                                       "threads_per_rank", "hostfile", NULL};
    const char *key;
    const json_t *v;
    int rc, e;
    double d;
    memset(job, 0, sizeof *job);
    last_field[0] = '\0';
    if (!json_is_object(o))
        FAIL_AT("", NULL, SL_EINVAL, "a job must be a JSON object with at least \"workload\"");
    if (json_object_get(o, "command") || json_object_get(o, "programs")) {
        rc = program_job_from_json(o, lim, job, err, errlen);
        if (!rc)
            rc = check_measurements(job, err, errlen);
        if (rc)
            sl_job_clear(job);
        return rc;
    }
    json_object_foreach((json_t *)o, key, v) {
        if (name_index(keys, key) < 0) {
            char list[256];
            join_names(keys, list, sizeof list);
            FAIL_AT("%s", key, SL_ENOENT, "unknown field \"%s\"; a job has: %s", key, list);
        }
    }
    v = json_object_get(o, "workload");
    if (!json_is_string(v)) {
        char list[128];
        workload_names(list, sizeof list);
        FAIL_AT("workload", NULL, SL_EINVAL, "workload is required: one of %s", list);
    }
    job->wl = sl_workload_find(json_string_value(v));
    if (!job->wl) {
        char list[128];
        workload_names(list, sizeof list);
        FAIL_AT("workload", NULL, SL_ENOENT, "workload \"%s\" is not known; use one of: %s", json_string_value(v),
             list);
    }
    if ((rc = parse_params(o, job, err, errlen)))
        return rc;
    v = json_object_get(o, "oversubscribe");
    if (v && !json_is_boolean(v))
        FAIL_AT("oversubscribe", NULL, SL_EINVAL, "oversubscribe must be true or false");
    job->oversubscribe = v && json_is_true(v);
    if ((rc = parse_backends(o, job, err, errlen)) || (rc = parse_cores(o, lim, job, err, errlen)) ||
        (rc = parse_repeats(o, job, err, errlen)))
        return rc;
    d = 0;
    if ((rc = parse_uint(o, "chunk", 0, 1e15, &d, err, errlen)))
        return rc;
    job->chunk = (uint64_t)d;
    e = 0;
    if ((rc = parse_enum(o, "scaling", scaling_names, &e, err, errlen)))
        return rc;
    job->weak = e;
    e = SL_VECTOR;
    if ((rc = parse_enum(o, "variant", variant_names, &e, err, errlen)))
        return rc;
    job->variant = (enum sl_variant)e;
    e = SL_AFF_NONE;
    if ((rc = parse_enum(o, "affinity", affinity_names, &e, err, errlen)))
        return rc;
    job->affinity = (enum sl_affinity)e;
    e = SL_SCHED_STATIC;
    if ((rc = parse_enum(o, "schedule", schedule_names, &e, err, errlen)))
        return rc;
    job->schedule = (enum sl_schedule)e;
    if ((rc = parse_mpi(o, lim, job, err, errlen)))
        return rc;
    if ((rc = check_measurements(job, err, errlen)))
        return rc;
    return check_sizes(lim, job, err, errlen);
}

json_t *sl_job_to_json(const struct sl_job *job)
{
    if (!job->wl)
        return program_job_to_json(job);
    json_t *o = json_object(), *params = json_object(), *backends = json_array(),
           *cores = json_array();
    if (!o || !params || !backends || !cores) {
        json_decref(o);
        json_decref(params);
        json_decref(backends);
        json_decref(cores);
        return NULL;
    }
    for (unsigned i = 0; i < job->wl->nparams; i++)
        json_object_set_new(params, job->wl->params[i].name, json_real(job->params[i]));
    for (unsigned i = 0; i < job->nbackends; i++)
        json_array_append_new(backends, json_string(job->backends[i]->name));
    for (unsigned i = 0; i < job->ncores; i++)
        json_array_append_new(cores, json_integer(job->cores[i]));
    json_object_set_new(o, "workload", json_string(job->wl->name));
    json_object_set_new(o, "params", params);
    json_object_set_new(o, "backends", backends);
    json_object_set_new(o, "cores", cores);
    json_object_set_new(o, "repeats", json_integer(job->repeats));
    json_object_set_new(o, "warmup", json_integer(job->warmup));
    json_object_set_new(o, "scaling", json_string(scaling_names[job->weak]));
    json_object_set_new(o, "variant", json_string(sl_variant_name(job->variant)));
    json_object_set_new(o, "affinity", json_string(sl_affinity_name(job->affinity)));
    json_object_set_new(o, "schedule", json_string(sl_schedule_name(job->schedule)));
    json_object_set_new(o, "chunk", json_integer((json_int_t)job->chunk));
    json_object_set_new(o, "oversubscribe", json_boolean(job->oversubscribe));
    json_object_set_new(o, "threads_per_rank", json_integer(job->threads_per_rank));
    if (job->hostfile[0])
        json_object_set_new(o, "hostfile", json_string(job->hostfile));
    return o;
}

double sl_job_weak_value(const struct sl_job *job, unsigned p)
{
    if (!job->wl)
        return job->size_var >= 0 ? job->var_values[job->size_var] : 0;
    return weak_value(job->wl, job->params[job->wl->weak_param], p);
}
