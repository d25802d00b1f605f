/* programs.c — the registry of allowed programs: load and check the definitions, probe them,
 * list them, and turn a client's choice of names and values into the engine's job.
 *
 * Definitions are checked whole at load (every placeholder of every template must be
 * declared), so a client's request can only pick programs and give numbers, each checked
 * against its declared range before it reaches the engine; the engine then substitutes them
 * into argv entries and runs the program with execvp, never a shell.
 */
#include "programs.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "job.h"
#include "sl.h"

#define MAX_CHOSEN 16u /* programs in one run, as backends in a built-in run */
#define PROBE_TIMEOUT_S 60.0 /* seconds a program's probe may take before it is killed */

struct group {
    json_t *def;                 /* the group's definition (programs removed) */
    const char *name;            /* its "group" (borrowed from def) */
    char baseline[SL_NAME_MAX];  /* its baseline program, "" if none */
};

struct program {
    json_t *def;                 /* the definition, {dir} replaced */
    const char *name;            /* borrowed from def */
    size_t group;                /* index of its group */
    int probed, available;       /* the probe's answer, once probed */
    double probed_at;            /* when (sl_now_ns, in s): a "no" is asked again later */
    char reason[400];            /* why not available */
};

struct sl_programs {
    char dir[PATH_MAX];          /* the folder, absolute */
    struct group *groups;
    size_t ngroups;
    struct program *progs;
    size_t nprogs;
    pthread_mutex_t mu;          /* guards the probes' answers */
    double retry_s;              /* a "not available" older than this is probed again */
};

/* --- loading --- */

/* s with every "{dir}" replaced by dir (new reference). */
static json_t *with_dir(const char *s, const char *dir)
{
    size_t dl = strlen(dir), n = 0;
    for (const char *p = s; (p = strstr(p, "{dir}")); p += 5)
        n++;
    char *out = malloc(strlen(s) + n * dl + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s;;) {
        const char *hit = strstr(p, "{dir}");
        size_t k = hit ? (size_t)(hit - p) : strlen(p);
        memcpy(o, p, k);
        o += k;
        if (!hit)
            break;
        memcpy(o, dir, dl);
        o += dl;
        p = hit + 5;
    }
    *o = '\0';
    json_t *j = json_string(out);
    free(out);
    return j;
}

/* Replace {dir} in every string of v (arrays and objects walked), in place. */
static void resolve_dir(json_t *v, const char *dir)
{
    size_t i;
    const char *key;
    json_t *x;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            if (json_is_string(x))
                json_array_set_new(v, i, with_dir(json_string_value(x), dir));
            else
                resolve_dir(x, dir);
        }
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, x) {
            if (json_is_string(x))
                json_object_set_new(v, key, with_dir(json_string_value(x), dir));
            else
                resolve_dir(x, dir);
        }
    }
}

static int is_name(const json_t *v)
{
    return sl_name_valid(json_string_value(v), 0);
}

static int strings(const json_t *v, int allow_empty)
{
    size_t i;
    const json_t *x;
    if (!json_is_array(v) || (!allow_empty && json_array_size(v) == 0))
        return 0;
    json_array_foreach(v, i, x)
        if (!json_is_string(x))
            return 0;
    return 1;
}

#define BAD(...)                                                                              \
    do {                                                                                      \
        snprintf(err, errlen, __VA_ARGS__);                                                   \
        return -SL_EINVAL;                                                                    \
    } while (0)

static int check_params(const json_t *params, const char *f, char *err, size_t errlen)
{
    size_t i;
    const json_t *p;
    if (!json_is_array(params) || json_array_size(params) > SL_COMMAND_MAX_VARS)
        BAD("%s: params must be a list of at most %u parameters", f, SL_COMMAND_MAX_VARS);
    json_array_foreach(params, i, p) {
        double def = json_number_value(json_object_get(p, "default")),
               min = json_number_value(json_object_get(p, "min")),
               max = json_number_value(json_object_get(p, "max"));
        const json_t *name = json_object_get(p, "name");
        if (!sl_name_valid(json_string_value(name), 1) || strcmp(json_string_value(name), "cores") == 0)
            BAD("%s: params[%zu].name must be a name of letters, digits and _ (not cores)", f, i);
        if (!json_is_number(json_object_get(p, "default")) || !json_is_number(json_object_get(p, "min")) ||
            !json_is_number(json_object_get(p, "max")) || !(min <= def && def <= max))
            BAD("%s: params[%zu] needs numbers min <= default <= max", f, i);
    }
    return 0;
}

/* The command fields of a definition, as the engine takes them (new reference). */
static json_t *engine_command(const json_t *d)
{
    static const char *const keys[] = {"env", "cwd", "timeout_s", NULL};
    json_t *cmd = json_pack("{sO}", "argv", json_object_get(d, "argv"));
    for (const char *const *k = keys; cmd && *k; k++)
        if (json_object_get(d, *k))
            json_object_set(cmd, *k, json_object_get(d, *k));
    return cmd;
}

/* Check one program's definition (after {dir}); vars are the group's parameters. */
static int check_program(const json_t *d, const char *f, const char *const *vars, unsigned nvars,
                         char *err, size_t errlen)
{
    static const char *const text[] = {"title", "route", "lesson", NULL};
    const json_t *v;
    char why[400];
    if (!json_is_object(d) || !is_name(json_object_get(d, "name")))
        BAD("%s: every program needs a name of letters, digits, '_', '-' or '.'", f);
    for (const char *const *k = text; *k; k++)
        if (!json_is_string(json_object_get(d, *k)))
            BAD("%s: program %s needs a %s", f, json_string_value(json_object_get(d, "name")), *k);
    if (((v = json_object_get(d, "baseline")) && !json_is_boolean(v)) ||
        ((v = json_object_get(d, "parallel")) && !json_is_boolean(v)))
        BAD("%s: baseline and parallel are true or false", f);
    if (!strings(json_object_get(d, "requires"), 1) ||
        ((v = json_object_get(d, "probe")) && !strings(v, 0)))
        BAD("%s: requires is a list of package names, probe a command (a list of strings)", f);
    json_t *cmd = engine_command(d);
    struct sl_command *c = sl_command_from_json(cmd, "p", vars, nvars, why, sizeof why);
    json_decref(cmd);
    if (!c)
        BAD("%s: program %s: %s", f, json_string_value(json_object_get(d, "name")), why);
    sl_command_free(c);
    return 0;
}

static int add_group(struct sl_programs *r, json_t *def, const char *f, char *err, size_t errlen)
{
    const json_t *params = json_object_get(def, "params"), *progs = json_object_get(def, "programs");
    const json_t *size = json_object_get(def, "size_param"), *tol = json_object_get(def, "tolerance");
    const char *vars[SL_COMMAND_MAX_VARS];
    unsigned nvars = 0;
    size_t i;
    json_t *p;
    int rc;
    if (!json_is_object(def) || !is_name(json_object_get(def, "group")) ||
        !json_is_string(json_object_get(def, "title")) || !json_is_string(json_object_get(def, "lesson")))
        BAD("%s: a definition is an object with group (a name), title and lesson", f);
    if ((rc = check_params(params ? params : json_array(), f, err, errlen)))
        return rc;
    json_array_foreach(params, i, p)
        vars[nvars++] = json_string_value(json_object_get(p, "name"));
    if (size) {
        int found = 0;
        for (unsigned k = 0; json_is_string(size) && k < nvars; k++)
            found |= strcmp(vars[k], json_string_value(size)) == 0;
        if (!found)
            BAD("%s: size_param must name one of params", f);
    }
    if (tol && (!json_is_number(tol) || json_number_value(tol) < 0))
        BAD("%s: tolerance is a number >= 0", f);
    if (!json_is_array(progs) || json_array_size(progs) == 0 || json_array_size(progs) > 64)
        BAD("%s: programs must be a list of 1 to 64 programs", f);
    for (size_t g = 0; g < r->ngroups; g++)
        if (strcmp(r->groups[g].name, json_string_value(json_object_get(def, "group"))) == 0)
            BAD("%s: group %s is defined twice", f, r->groups[g].name);

    struct group *gs = realloc(r->groups, (r->ngroups + 1) * sizeof *gs);
    struct program *ps = realloc(r->progs, (r->nprogs + json_array_size(progs)) * sizeof *ps);
    if (gs)
        r->groups = gs;
    if (ps)
        r->progs = ps;
    if (!gs || !ps)
        BAD("out of memory");
    struct group *g = &r->groups[r->ngroups];
    memset(g, 0, sizeof *g);
    json_array_foreach(progs, i, p) {
        resolve_dir(p, r->dir);
        if ((rc = check_program(p, f, vars, nvars, err, errlen)))
            return rc;
        const char *name = json_string_value(json_object_get(p, "name"));
        for (size_t k = 0; k < r->nprogs; k++)
            if (strcmp(r->progs[k].name, name) == 0)
                BAD("%s: program %s is defined twice", f, name);
        if (json_is_true(json_object_get(p, "baseline"))) {
            if (g->baseline[0])
                BAD("%s: group has two baselines, %s and %s", f, g->baseline, name);
            snprintf(g->baseline, sizeof g->baseline, "%s", name);
        }
        r->progs[r->nprogs++] = (struct program){.def = json_incref(p), .name = name,
                                                  .group = r->ngroups};
    }
    g->def = json_incref(def);
    g->name = json_string_value(json_object_get(def, "group"));
    r->ngroups++;
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_json_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && strcmp(d->d_name + n - 5, ".json") == 0 && d->d_name[0] != '.';
}

struct sl_programs *sl_programs_load(const char *dir, char *err, size_t errlen)
{
    struct sl_programs *r = calloc(1, sizeof *r);
    struct dirent **names = NULL;
    int n = 0;
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->retry_s = 30;
    if (!realpath(dir, r->dir))
        return r; /* no folder: no programs */
    n = scandir(r->dir, &names, is_json_file, by_name);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX + 256];
        json_error_t e;
        snprintf(path, sizeof path, "%s/%s", r->dir, names[i]->d_name);
        json_t *def = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
        int rc = def ? add_group(r, def, path, err, errlen) : -SL_EINVAL;
        if (!def)
            snprintf(err, errlen, "%s: %s (line %d)", path, e.text, e.line);
        json_decref(def);
        if (rc) {
            for (int k = i; k < n; k++)
                free(names[k]);
            free(names);
            sl_programs_free(r);
            return NULL;
        }
        free(names[i]);
    }
    free(names);
    return r;
}

void sl_programs_free(struct sl_programs *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nprogs; i++)
        json_decref(r->progs[i].def);
    for (size_t i = 0; i < r->ngroups; i++)
        json_decref(r->groups[i].def);
    free(r->progs);
    free(r->groups);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* --- probes --- */

static void probe_run(struct program *p);

/* Forget the "not available" answers older than retry_s (caller holds r->mu), so that an
 * operator who installs the missing package sees the route come up without a restart (a
 * failing probe is an import error: a fraction of a second to ask again). A "yes" stays. */
static void forget_stale(struct sl_programs *r)
{
    double now = sl_now_ns() * 1e-9;
    for (size_t i = 0; i < r->nprogs; i++) {
        struct program *p = &r->progs[i];
        if (p->probed && !p->available && now - p->probed_at >= r->retry_s)
            p->probed = 0;
    }
}

/* The program's probe's answer (caller holds r->mu): run once, and shared by the programs
 * whose probe and requirements are the same (five routes need `import numba`). */
static void probe(struct sl_programs *r, struct program *p)
{
    if (p->probed)
        return;
    for (size_t i = 0; i < r->nprogs; i++) {
        struct program *q = &r->progs[i];
        if (q != p && q->probed && json_equal(json_object_get(q->def, "probe"), json_object_get(p->def, "probe")) &&
            json_equal(json_object_get(q->def, "requires"), json_object_get(p->def, "requires"))) {
            p->probed = 1;
            p->probed_at = q->probed_at;
            p->available = q->available;
            memcpy(p->reason, q->reason, sizeof p->reason);
            return;
        }
    }
    probe_run(p);
}

static void *probe_thread(void *arg)
{
    probe_run(arg);
    return NULL;
}

/* Probe every program not yet probed (caller holds r->mu): the distinct probes at once, each
 * in its own thread (they are mostly interpreters importing a module: seconds each, and
 * waiting more than computing), then the programs that share an answer. */
static void probe_all(struct sl_programs *r)
{
    pthread_t *tids = calloc(r->nprogs ? r->nprogs : 1, sizeof *tids);
    size_t *which = calloc(r->nprogs ? r->nprogs : 1, sizeof *which), n = 0;
    for (size_t i = 0; tids && which && i < r->nprogs; i++) {
        struct program *p = &r->progs[i];
        int dup = p->probed;
        for (size_t k = 0; k < n && !dup; k++) {
            const struct program *q = &r->progs[which[k]];
            dup = json_equal(json_object_get(q->def, "probe"), json_object_get(p->def, "probe")) &&
                  json_equal(json_object_get(q->def, "requires"), json_object_get(p->def, "requires"));
        }
        if (!dup && pthread_create(&tids[n], NULL, probe_thread, p) == 0)
            which[n++] = i;
    }
    for (size_t k = 0; k < n; k++)
        pthread_join(tids[k], NULL);
    for (size_t i = 0; i < r->nprogs; i++)
        probe(r, &r->progs[i]); /* copies the shared answers; runs any probe a thread missed */
    free(tids);
    free(which);
}

static void probe_run(struct program *p)
{
    const json_t *argv = json_object_get(p->def, "probe"), *req = json_object_get(p->def, "requires");
    char need[200] = "", why[300] = "", last[200] = "";
    size_t i;
    const json_t *x;
    p->probed = 1;
    p->probed_at = sl_now_ns() * 1e-9;
    p->available = 1;
    if (!argv)
        return;
    json_array_foreach(req, i, x) {
        size_t used = strlen(need);
        snprintf(need + used, sizeof need - used, "%s%s", i ? " " : "", json_string_value(x));
    }
    /* Bounded: a hung probe would hold GET /api/programs (and the registry's lock) forever. */
    json_t *cmd = json_pack("{sOsf}", "argv", argv, "timeout_s", PROBE_TIMEOUT_S);
    struct sl_command *c = sl_command_from_json(cmd, "probe", NULL, 0, why, sizeof why);
    struct sl_command_opts o = {.cores = 1};
    struct sl_command_result res = {0};
    json_decref(cmd);
    int rc = c ? sl_command_run(c, &o, &res, why, sizeof why) : -SL_EINVAL;
    if (rc == 0 && res.exited && res.code == 0 && !res.timed_out) {
        sl_command_result_free(&res);
        sl_command_free(c);
        return;
    }
    if (rc == 0 && res.timed_out) {
        snprintf(why, sizeof why, "its probe did not finish within %.0f s", PROBE_TIMEOUT_S);
    } else if (rc == 0) {
        sl_tail_last(&res.err, last, sizeof last);
        char *nl = strrchr(last, '\n'); /* the last line says it best (ModuleNotFoundError: ...) */
        snprintf(why, sizeof why, "%s", nl ? nl + 1 : last[0] ? last : "its probe failed");
    }
    p->available = 0;
    if (need[0])
        snprintf(p->reason, sizeof p->reason, "needs %s (apt-get install %s): %s", need, need, why);
    else
        snprintf(p->reason, sizeof p->reason, "%s", why);
    sl_command_result_free(&res);
    sl_command_free(c);
}

void sl_programs_retry_after(struct sl_programs *r, double seconds)
{
    pthread_mutex_lock(&r->mu);
    r->retry_s = seconds;
    pthread_mutex_unlock(&r->mu);
}

/* --- listing --- */

static json_t *program_json(struct program *p)
{
    static const char *const keys[] = {"name", "title", "route", "lesson", "argv", "requires",
                                       "timeout_s", NULL};
    json_t *o = json_object();
    for (const char *const *k = keys; *k; k++)
        if (json_object_get(p->def, *k)) /* (timeout_s is optional: listed where given) */
            json_object_set(o, *k, json_object_get(p->def, *k));
    json_object_set_new(o, "baseline", json_boolean(json_is_true(json_object_get(p->def, "baseline"))));
    json_object_set_new(o, "parallel", json_boolean(!json_is_false(json_object_get(p->def, "parallel"))));
    json_object_set_new(o, "available", json_boolean(p->available));
    if (!p->available)
        json_object_set_new(o, "reason", json_string(p->reason));
    return o;
}

json_t *sl_programs_list(struct sl_programs *r)
{
    json_t *groups = json_array();
    pthread_mutex_lock(&r->mu);
    forget_stale(r);
    probe_all(r);
    for (size_t g = 0; g < r->ngroups; g++) {
        json_t *o = json_deep_copy(r->groups[g].def), *list = json_array();
        json_object_del(o, "programs");
        json_object_set_new(o, "baseline", r->groups[g].baseline[0]
                                               ? json_string(r->groups[g].baseline) : json_null());
        for (size_t i = 0; i < r->nprogs; i++)
            if (r->progs[i].group == g) {
                probe(r, &r->progs[i]);
                json_array_append_new(list, program_json(&r->progs[i]));
            }
        json_object_set_new(o, "programs", list);
        json_array_append_new(groups, o);
    }
    pthread_mutex_unlock(&r->mu);
    return json_pack("{sssO}", "dir", r->dir, "groups", groups ? groups : json_array());
}

/* --- a client's choice -> the engine's job --- */

#define REFUSE(code, fld, ...)                                                                \
    do {                                                                                      \
        snprintf(field, fieldlen, "%s", fld);                                                 \
        snprintf(err, errlen, __VA_ARGS__);                                                   \
        rc = -(code);                                                                         \
        goto out;                                                                             \
    } while (0)

static struct program *find(struct sl_programs *r, const char *name)
{
    for (size_t i = 0; i < r->nprogs; i++)
        if (strcmp(r->progs[i].name, name) == 0)
            return &r->progs[i];
    return NULL;
}

/* The engine's entry for a program: name, argv, env, cwd, timeout_s, parallel. */
static json_t *engine_program(const struct program *p)
{
    json_t *o = engine_command(p->def);
    if (!o)
        return NULL;
    json_object_set(o, "name", json_object_get(p->def, "name"));
    json_object_set_new(o, "parallel", json_boolean(!json_is_false(json_object_get(p->def, "parallel"))));
    return o;
}

/* Each given parameter declared and within its range; the others at their default. */
static int build_params(const json_t *decl, const json_t *given, json_t *out, char *err,
                        size_t errlen, char *field, size_t fieldlen, const char *group)
{
    const char *key;
    const json_t *v, *p;
    size_t i;
    int rc = 0;
    if (given && !json_is_object(given))
        REFUSE(SL_EINVAL, "params", "params must be an object such as {\"samples\": 1e6}");
    json_object_foreach((json_t *)given, key, v) {
        const json_t *d = NULL;
        char fld[64];
        snprintf(fld, sizeof fld, "params.%.50s", key);
        json_array_foreach(decl, i, p)
            if (strcmp(json_string_value(json_object_get(p, "name")), key) == 0)
                d = p;
        if (!d)
            REFUSE(SL_ENOENT, fld, "%s is not a parameter of the %s programs", fld, group);
        double min = json_number_value(json_object_get(d, "min")),
               max = json_number_value(json_object_get(d, "max")), x = json_number_value(v);
        int integer = json_is_true(json_object_get(d, "integer"));
        if (!json_is_number(v) || !isfinite(x))
            REFUSE(SL_EINVAL, fld, "%s must be a number from %g to %g", fld, min, max);
        if (x < min || x > max || (integer && x != floor(x)))
            REFUSE(SL_ERANGE, fld, "%s = %g is out of range: %s from %g to %g", fld, x,
                   integer ? "a whole number" : "a number", min, max);
    }
    json_array_foreach(decl, i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        const json_t *x = json_object_get(given, name);
        json_object_set_new(out, name, json_real(x ? json_number_value(x)
                                                   : json_number_value(json_object_get(p, "default"))));
    }
out:
    return rc;
}

int sl_programs_job(struct sl_programs *r, const json_t *body, json_t **job, char *err,
                    size_t errlen, char *field, size_t fieldlen)
{
    static const char *const pass[] = {"cores", "repeats", "warmup", "confine", "thread_env",
                                       "oversubscribe", NULL};
    const json_t *names = json_object_get(body, "programs"), *v;
    json_t *o = json_object(), *list = json_array(), *params = json_object();
    struct program *chosen[64];
    size_t n = 0, i;
    const char *key;
    int rc = 0;
    *job = NULL;
    pthread_mutex_lock(&r->mu);
    forget_stale(r);
    json_object_foreach((json_t *)body, key, v) {
        int ok = strcmp(key, "programs") == 0 || strcmp(key, "params") == 0;
        for (const char *const *k = pass; *k; k++)
            ok |= strcmp(key, *k) == 0;
        if (!ok)
            REFUSE(SL_ENOENT, key, "unknown field \"%s\" for a run of programs; it has: programs, "
                   "params, cores, repeats, warmup, confine, thread_env, oversubscribe", key);
    }
    if (!json_is_array(names) || json_array_size(names) == 0 ||
        json_array_size(names) > MAX_CHOSEN)
        REFUSE(SL_EINVAL, "programs", "programs must be a list of 1 to %u program names (see "
               "GET /api/programs)", MAX_CHOSEN);
    json_array_foreach(names, i, v) {
        struct program *p = json_is_string(v) ? find(r, json_string_value(v)) : NULL;
        if (!json_is_string(v))
            REFUSE(SL_EINVAL, "programs", "programs[%zu] must be the name of a registered program; "
                   "an ad-hoc command goes in \"command\"", i);
        if (!p)
            REFUSE(SL_ENOENT, "programs", "program \"%s\" is not registered (see GET /api/programs)",
                   json_string_value(v));
        if (n && p->group != chosen[0]->group)
            REFUSE(SL_EINVAL, "programs", "programs %s and %s belong to different groups (%s, %s): "
                   "one run compares the routes of one group", chosen[0]->name, p->name,
                   r->groups[chosen[0]->group].name, r->groups[p->group].name);
        for (size_t k = 0; k < n; k++)
            if (chosen[k] == p)
                REFUSE(SL_EINVAL, "programs", "program \"%s\" is listed twice", p->name);
        probe(r, p);
        if (!p->available)
            REFUSE(SL_EUNAVAIL, "programs", "program \"%s\" cannot run on this host: %s", p->name,
                   p->reason);
        chosen[n++] = p;
    }
    const struct group *g = &r->groups[chosen[0]->group];
    struct program *base = g->baseline[0] ? find(r, g->baseline) : NULL;
    int have_base = 0;
    for (size_t k = 0; k < n; k++)
        have_base |= chosen[k] == base;
    if (base && !have_base) { /* the speedups need it: run it first */
        probe(r, base);
        if (base->available && n < 64) {
            memmove(chosen + 1, chosen, n * sizeof *chosen);
            chosen[0] = base;
            n++;
            have_base = 1;
        }
    }
    if ((rc = build_params(json_object_get(g->def, "params"), json_object_get(body, "params"),
                           params, err, errlen, field, fieldlen, g->name)))
        goto out;
    for (size_t k = 0; k < n; k++)
        json_array_append_new(list, engine_program(chosen[k]));
    json_object_set_new(o, "workload", json_string(g->name));
    json_object_set(o, "programs", list);
    json_object_set(o, "params", params);
    if (json_object_get(g->def, "size_param"))
        json_object_set(o, "size_param", json_object_get(g->def, "size_param"));
    if (json_object_get(g->def, "tolerance"))
        json_object_set(o, "tolerance", json_object_get(g->def, "tolerance"));
    if (have_base)
        json_object_set_new(o, "baseline", json_string(base->name));
    for (const char *const *k = pass; *k; k++)
        if ((v = json_object_get(body, *k)))
            json_object_set(o, *k, (json_t *)v);
    *job = json_incref(o);
out:
    pthread_mutex_unlock(&r->mu);
    json_decref(o);
    json_decref(list);
    json_decref(params);
    return rc;
}
