/* command.c — run the user's program once, measured: placeholders, env, vfork + exec, wait4.
 *
 * The parent reads both pipes until they close, then reaps the child with wait4: the wall
 * time so ends when the program has exited and its output is drained, as hyperfine's does.
 * A program that leaves a background process holding its stdout would keep the pipes open
 * forever, so the parent also checks every 200 ms whether the child itself has exited, and
 * then drains for at most one more second.
 *
 * A timed run (timeout_s) differs in three ways: the child joins a process group held by a
 * keeper (see watch.h), the poll's timeout is also the time left to the deadline, and
 * when both pipes have closed before the child exited, the loop goes on waiting on a pidfd
 * (not a blocking wait4) so that the deadline still holds. No busy-waiting in either case.
 */
#include "command.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ompenv.h"
#include "watch.h"

extern char **environ;

/* The variables that size the thread pools of OpenMP, MKL, OpenBLAS and Numba. */
static const char *const thread_vars[] = {"OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                          "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS", NULL};

/* --- placeholders --- */

/* Length of the placeholder name at t (after '{'), when t holds "identifier}"; else 0. */
static size_t placeholder_len(const char *t)
{
    size_t n = 0;
    if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z') || t[0] == '_'))
        return 0;
    while ((t[n] >= 'a' && t[n] <= 'z') || (t[n] >= 'A' && t[n] <= 'Z') ||
           (t[n] >= '0' && t[n] <= '9') || t[n] == '_')
        n++;
    return t[n] == '}' ? n : 0;
}

static int lookup(const struct sl_command_opts *o, const char *name, size_t n, double *v)
{
    if (n == 5 && strncmp(name, "cores", 5) == 0) {
        *v = o->cores;
        return 0;
    }
    for (unsigned i = 0; i < o->nvars; i++)
        if (strlen(o->names[i]) == n && strncmp(o->names[i], name, n) == 0) {
            *v = o->values[i];
            return 0;
        }
    return -SL_ENOENT;
}

/* A number as a human writes it: whole numbers in full (10000000), others shortest. */
static void format_number(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) < 1e18)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.15g", v);
}

int sl_command_expand(const char *t, const struct sl_command_opts *o, char *out, size_t outlen)
{
    size_t k = 0;
    if (outlen == 0)
        return -SL_ERANGE;
    while (*t) {
        size_t n = *t == '{' ? placeholder_len(t + 1) : 0;
        char num[40];
        const char *piece = t;
        size_t plen = 1;
        if (n) {
            double v;
            if (lookup(o, t + 1, n, &v) != 0) {
                snprintf(out, outlen, "%.*s", (int)n, t + 1);
                return -SL_ENOENT;
            }
            format_number(v, num, sizeof num);
            piece = num;
            plen = strlen(num);
            t += n + 2;
        } else {
            t++;
        }
        if (k + plen >= outlen) {
            out[0] = '\0';
            return -SL_ERANGE;
        }
        memcpy(out + k, piece, plen);
        k += plen;
    }
    out[k] = '\0';
    return 0;
}

/* --- building from JSON --- */

void sl_command_free(struct sl_command *c)
{
    if (!c)
        return;
    for (unsigned i = 0; c->argv && i < c->argc; i++)
        free(c->argv[i]);
    for (unsigned i = 0; i < c->nenv; i++) {
        free(c->env_names[i]);
        free(c->env_values[i]);
    }
    free(c->argv);
    free(c->env_names);
    free(c->env_values);
    free(c->cwd);
    free(c);
}

/* Check that template uses only known placeholders and expands within the bounds. */
static int check_template(const char *t, const struct sl_command_opts *probe, const char *field,
                          char *err, size_t errlen)
{
    char out[SL_COMMAND_MAX_ARG];
    int rc = sl_command_expand(t, probe, out, sizeof out);
    if (rc == -SL_ENOENT) {
        char list[256] = "{cores}";
        for (unsigned i = 0; i < probe->nvars; i++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, ", {%s}", probe->names[i]);
        }
        snprintf(err, errlen, "%s uses the placeholder {%s}, which is not known; known: %s",
                 field, out, list);
    } else if (rc) {
        snprintf(err, errlen, "%s is longer than %u bytes", field, SL_COMMAND_MAX_ARG - 1);
    }
    return rc;
}

static int valid_env_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

struct sl_command *sl_command_from_json(const json_t *o, const char *name,
                                        const char *const *vars, unsigned nvars, char *err,
                                        size_t errlen)
{
    struct sl_command_opts probe = {.cores = 1};
    const json_t *argv = json_object_get(o, "argv"), *env = json_object_get(o, "env"),
                 *cwd = json_object_get(o, "cwd"), *timeout = json_object_get(o, "timeout_s");
    struct sl_command *c = NULL;
    char field[64];
    const char *key;
    const json_t *v;
    size_t i;

    for (unsigned k = 0; k < nvars && k < SL_COMMAND_MAX_VARS; k++)
        probe.names[probe.nvars++] = vars[k];
    if (!json_is_object(o)) {
        snprintf(err, errlen, "command must be an object such as {\"argv\": [\"python3\", "
                              "\"my.py\", \"--workers\", \"{cores}\"]}");
        return NULL;
    }
    json_object_foreach((json_t *)o, key, v) {
        if (strcmp(key, "argv") && strcmp(key, "env") && strcmp(key, "cwd") &&
            strcmp(key, "timeout_s")) {
            snprintf(err, errlen, "command.%s is not known; a command has argv, env, cwd and "
                                  "timeout_s", key);
            return NULL;
        }
    }
    if (!json_is_array(argv) || json_array_size(argv) == 0 ||
        json_array_size(argv) > SL_COMMAND_MAX_ARGS) {
        snprintf(err, errlen, "command.argv must be a list of 1 to %u strings, the program "
                              "first", SL_COMMAND_MAX_ARGS);
        return NULL;
    }
    if (env && (!json_is_object(env) || json_object_size(env) > SL_COMMAND_MAX_ENV)) {
        snprintf(err, errlen, "command.env must be an object of at most %u NAME: \"value\" "
                              "entries", SL_COMMAND_MAX_ENV);
        return NULL;
    }
    if (cwd && (!json_is_string(cwd) || !*json_string_value(cwd))) {
        snprintf(err, errlen, "command.cwd must be a directory name");
        return NULL;
    }
    if (timeout && (!json_is_number(timeout) || !(json_number_value(timeout) > 0) ||
                    json_number_value(timeout) > SL_COMMAND_MAX_TIMEOUT)) {
        snprintf(err, errlen, "command.timeout_s must be a number of seconds above 0 and at "
                              "most %.0f (e.g. 30 or 0.5); leave it out for no limit",
                 SL_COMMAND_MAX_TIMEOUT);
        return NULL;
    }
    if (!(c = calloc(1, sizeof *c)) || !(c->argv = calloc(json_array_size(argv) + 1, sizeof *c->argv)))
        goto oom;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->timeout_s = timeout ? json_number_value(timeout) : 0;
    json_array_foreach(argv, i, v) {
        snprintf(field, sizeof field, "command.argv[%zu]", i);
        if (!json_is_string(v) || (i == 0 && !*json_string_value(v))) {
            snprintf(err, errlen, "%s must be a %sstring", field, i == 0 ? "non-empty " : "");
            goto fail;
        }
        if (check_template(json_string_value(v), &probe, field, err, errlen))
            goto fail;
        if (!(c->argv[c->argc++] = strdup(json_string_value(v))))
            goto oom;
    }
    if (env) {
        size_t n = json_object_size(env);
        if (!(c->env_names = calloc(n, sizeof *c->env_names)) ||
            !(c->env_values = calloc(n, sizeof *c->env_values)))
            goto oom;
        json_object_foreach((json_t *)env, key, v) {
            snprintf(field, sizeof field, "command.env.%.40s", key);
            if (!valid_env_name(key)) {
                snprintf(err, errlen, "%s: a variable name is letters, digits and _", field);
                goto fail;
            }
            if (!json_is_string(v)) {
                snprintf(err, errlen, "%s must be a string", field);
                goto fail;
            }
            if (check_template(json_string_value(v), &probe, field, err, errlen))
                goto fail;
            c->env_names[c->nenv] = strdup(key);
            c->env_values[c->nenv] = strdup(json_string_value(v));
            if (!c->env_names[c->nenv++] || !c->env_values[c->nenv - 1])
                goto oom;
        }
    }
    if (cwd && !(c->cwd = strdup(json_string_value(cwd))))
        goto oom;
    return c;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    sl_command_free(c);
    return NULL;
}

json_t *sl_command_to_json(const struct sl_command *c)
{
    json_t *o = json_object(), *argv = json_array(), *env = json_object();
    if (!o || !argv || !env) {
        json_decref(o);
        json_decref(argv);
        json_decref(env);
        return NULL;
    }
    for (unsigned i = 0; i < c->argc; i++)
        json_array_append_new(argv, json_string(c->argv[i]));
    for (unsigned i = 0; i < c->nenv; i++)
        json_object_set_new(env, c->env_names[i], json_string(c->env_values[i]));
    json_object_set_new(o, "argv", argv);
    json_object_set_new(o, "env", env);
    if (c->cwd)
        json_object_set_new(o, "cwd", json_string(c->cwd));
    if (c->timeout_s > 0)
        json_object_set_new(o, "timeout_s", json_real(c->timeout_s));
    return o;
}

/* --- output tails --- */

static void tail_write(struct sl_tail *t, const char *p, size_t n)
{
    t->total += n;
    if (!t->buf && !(t->buf = malloc(SL_COMMAND_TAIL)))
        return;
    if (n > SL_COMMAND_TAIL) { /* only the last SL_COMMAND_TAIL bytes can stay */
        p += n - SL_COMMAND_TAIL;
        n = SL_COMMAND_TAIL;
    }
    size_t end = (t->start + t->len) % SL_COMMAND_TAIL;
    size_t first = n < SL_COMMAND_TAIL - end ? n : SL_COMMAND_TAIL - end;
    memcpy(t->buf + end, p, first);
    memcpy(t->buf, p + first, n - first);
    if (t->len + n > SL_COMMAND_TAIL) { /* the oldest bytes were overwritten */
        t->start = (t->start + t->len + n) % SL_COMMAND_TAIL;
        t->len = SL_COMMAND_TAIL;
    } else {
        t->len += n;
    }
}

char *sl_tail_string(const struct sl_tail *t)
{
    char *s = malloc(t->len + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < t->len; i++)
        s[i] = t->buf[(t->start + i) % SL_COMMAND_TAIL];
    s[t->len] = '\0';
    return s;
}

void sl_tail_last(const struct sl_tail *t, char *buf, size_t n)
{
    size_t take = t->len < n - 1 ? t->len : n - 1, from = t->len - take;
    /* Drop a trailing newline, and start at a line start when one is within the window. */
    size_t len = t->len;
    while (len > from && t->buf[(t->start + len - 1) % SL_COMMAND_TAIL] == '\n')
        len--;
    for (size_t i = from; i < len && from > 0; i++)
        if (t->buf[(t->start + i) % SL_COMMAND_TAIL] == '\n') {
            from = i + 1;
            break;
        }
    size_t k = 0;
    for (size_t i = from; i < len; i++)
        buf[k++] = t->buf[(t->start + i) % SL_COMMAND_TAIL];
    buf[k] = '\0';
}

/* --- report lines --- */

void sl_report_clear(struct sl_report *r)
{
    free(r->busy_s);
    memset(r, 0, sizeof *r);
    r->work = NAN;
    r->result = NAN;
}

static int report_bad(struct sl_report *r, const char *fmt, const char *arg)
{
    if (r->bad_lines++ == 0)
        snprintf(r->bad, sizeof r->bad, fmt, arg);
    return 1;
}

static int nonneg(const json_t *v)
{
    return json_is_number(v) && json_number_value(v) >= 0 && isfinite(json_number_value(v));
}

int sl_report_line(struct sl_report *r, const char *line, size_t len)
{
    static const char prefix[] = "scalelab:";
    if (len < sizeof prefix - 1 || memcmp(line, prefix, sizeof prefix - 1) != 0)
        return 0;
    json_error_t e;
    json_t *o = json_loadb(line + sizeof prefix - 1, len - (sizeof prefix - 1), 0, &e);
    const json_t *work, *unit, *result, *phases, *busy, *v;
    const char *key;
    size_t i;
    if (!json_is_object(o)) {
        json_decref(o);
        return report_bad(r, "a report line is not a JSON object: %.100s", o ? "another value" : e.text);
    }
    work = json_object_get(o, "work");
    unit = json_object_get(o, "unit");
    result = json_object_get(o, "result");
    phases = json_object_get(o, "phases");
    busy = json_object_get(o, "busy");
    /* Check everything first: a line with one wrong field is refused whole. */
    const char *wrong = work && !nonneg(work) ? "work must be a number >= 0"
                      : unit && !json_is_string(unit) ? "unit must be a string"
                      : result && !json_is_number(result) ? "result must be a number"
                      : phases && !json_is_object(phases) ? "phases must be an object of seconds"
                      : busy && (!json_is_array(busy) || json_array_size(busy) > SL_MAX_WORKERS)
                          ? "busy must be a list of seconds, one per worker" : NULL;
    if (!wrong && phases)
        json_object_foreach((json_t *)phases, key, v)
            if (!nonneg(v))
                wrong = "every phase must be a number of seconds >= 0";
    if (!wrong && busy)
        json_array_foreach(busy, i, v)
            if (!nonneg(v))
                wrong = "every busy time must be a number of seconds >= 0";
    if (wrong) {
        json_decref(o);
        return report_bad(r, "%s", wrong);
    }
    r->present = 1;
    if (work)
        r->work = json_number_value(work);
    if (unit)
        snprintf(r->unit, sizeof r->unit, "%s", json_string_value(unit));
    if (result)
        r->result = json_number_value(result);
    if (phases)
        json_object_foreach((json_t *)phases, key, v) {
            unsigned k = 0;
            while (k < r->nphases && strcmp(r->phase_name[k], key) != 0)
                k++;
            if (k == r->nphases) {
                if (r->nphases == SL_COMMAND_MAX_PHASES)
                    continue;
                snprintf(r->phase_name[r->nphases++], sizeof r->phase_name[0], "%s", key);
            }
            r->phase_s[k] = json_number_value(v);
        }
    if (busy) {
        double *b = malloc((json_array_size(busy) + 1) * sizeof *b);
        if (b) {
            json_array_foreach(busy, i, v)
                b[i] = json_number_value(v);
            free(r->busy_s);
            r->busy_s = b;
            r->nbusy = (unsigned)json_array_size(busy);
        }
    }
    json_decref(o);
    return 1;
}

/* --- one run --- */

/* The current stdout line, bounded: a longer line is skipped up to its newline. */
struct line_buf {
    char buf[SL_COMMAND_TAIL];
    size_t len;
    int overflow;
};

static void scan_lines(struct line_buf *lb, struct sl_report *rep, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            if (!lb->overflow)
                sl_report_line(rep, lb->buf, lb->len);
            lb->len = 0;
            lb->overflow = 0;
        } else if (lb->len < sizeof lb->buf) {
            lb->buf[lb->len++] = p[i];
        } else {
            lb->overflow = 1;
        }
    }
}

void sl_command_result_free(struct sl_command_result *r)
{
    free(r->out.buf);
    free(r->err.buf);
    free(r->report.busy_s);
    memset(r, 0, sizeof *r);
}

/* Strings of one run: expanded argv and the child's environment. */
struct expanded {
    char *argv[SL_COMMAND_MAX_ARGS + 1];
    char **envp;
    size_t nenvp;
};

static void expanded_free(struct expanded *x)
{
    for (unsigned i = 0; x->argv[i]; i++)
        free(x->argv[i]);
    for (size_t i = 0; x->envp && x->envp[i]; i++)
        free(x->envp[i]);
    free(x->envp);
}

/* Set NAME=value in envp (replacing an entry of that name). */
static int env_set(struct expanded *x, const char *name, const char *value)
{
    size_t nl = strlen(name);
    char *entry = malloc(nl + strlen(value) + 2);
    if (!entry)
        return -SL_ENOMEM;
    sprintf(entry, "%s=%s", name, value);
    for (size_t i = 0; i < x->nenvp; i++)
        if (strncmp(x->envp[i], name, nl) == 0 && x->envp[i][nl] == '=') {
            free(x->envp[i]);
            x->envp[i] = entry;
            return 0;
        }
    x->envp[x->nenvp++] = entry;
    return 0;
}

static int expand_all(const struct sl_command *c, const struct sl_command_opts *o,
                      struct expanded *x, char *err, size_t errlen)
{
    char buf[SL_COMMAND_MAX_ARG];
    size_t n = 0;
    while (environ[n])
        n++;
    if (!(x->envp = calloc(n + SL_COMMAND_MAX_ENV + 8, sizeof *x->envp)))
        return -SL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!sl_ompenv_owned(environ[i]) && !(x->envp[x->nenvp++] = strdup(environ[i])))
            return -SL_ENOMEM;
    if (o->thread_env) {
        snprintf(buf, sizeof buf, "%u", o->cores);
        for (const char *const *v = thread_vars; *v; v++)
            if (env_set(x, *v, buf))
                return -SL_ENOMEM;
    }
    for (unsigned i = 0; i < c->nenv; i++) {
        int rc = sl_command_expand(c->env_values[i], o, buf, sizeof buf);
        if (rc) {
            snprintf(err, errlen, "env %s: %s {%s}", c->env_names[i],
                     rc == -SL_ENOENT ? "unknown placeholder" : "too long", buf);
            return rc;
        }
        if (env_set(x, c->env_names[i], buf))
            return -SL_ENOMEM;
    }
    for (unsigned i = 0; i < c->argc; i++) {
        int rc = sl_command_expand(c->argv[i], o, buf, sizeof buf);
        if (rc) {
            snprintf(err, errlen, "argv[%u]: %s {%s}", i,
                     rc == -SL_ENOENT ? "unknown placeholder" : "too long", buf);
            return rc;
        }
        if (!(x->argv[i] = strdup(buf)))
            return -SL_ENOMEM;
    }
    return 0;
}

/* The first `cores` CPUs this process may use (all of them when there are fewer). */
static void confine_set(unsigned cores, cpu_set_t *set)
{
    cpu_set_t all;
    unsigned taken = 0;
    CPU_ZERO(set);
    if (sched_getaffinity(0, sizeof all, &all) != 0)
        return;
    for (int cpu = 0; cpu < CPU_SETSIZE && taken < cores; cpu++)
        if (CPU_ISSET(cpu, &all)) {
            CPU_SET(cpu, set);
            taken++;
        }
}

/* In the child: become the program or report errno through the exec pipe.
 *
 * The child is vfork()ed: it borrows the parent's memory until execve, so it only makes
 * system calls on its own stack frames and never returns (posix_spawn does the same, but
 * cannot set the CPU affinity that --confine needs). Signals were blocked by the parent
 * before vfork; handlers inherited from the parent would run on the borrowed memory, so
 * every caught signal goes back to its default before the mask is cleared. A timed run's child
 * joins its keeper's process group first (pgid > 0): vfork suspends the parent until the
 * exec, so the group is joined before the parent starts the deadline. */
static _Noreturn void child_exec(const struct sl_command *c, const struct sl_command_opts *o,
                                 struct expanded *x, const cpu_set_t *cpus, pid_t pgid, int out,
                                 int err, int status)
{
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    sigset_t none;
    if (pgid > 0 && setpgid(0, pgid) != 0)
        goto fail;
    if (null >= 0)
        dup2(null, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
            (sa.sa_handler != SIG_IGN || sig == SIGPIPE)) {
            sa.sa_handler = SIG_DFL;
            sa.sa_flags = 0;
            sigaction(sig, &sa, NULL);
        }
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (o->confine && CPU_COUNT(cpus) > 0 && sched_setaffinity(0, sizeof *cpus, cpus) != 0)
        goto fail;
    if (c->cwd && chdir(c->cwd) != 0)
        goto fail;
    execvpe(x->argv[0], x->argv, x->envp);
fail: {
    int e = errno;
    ssize_t w = write(status, &e, sizeof e);
    (void)w;
    _exit(127);
}
}

/* Start the child (it runs child_exec); its pid, or -1 with errno set.
 *
 * vfork, not fork: fork copies the engine's page tables and makes the parent fault on every
 * page it writes until the child has exec'd, which lengthened a 20 ms Python start by 3-6%
 * against hyperfine (which spawns as posix_spawn does). A function of its own, so the
 * caller's variables are not exposed to the borrowed stack; the child never returns here. */
static __attribute__((noinline)) pid_t spawn_child(const struct sl_command *c,
                                                   const struct sl_command_opts *o,
                                                   struct expanded *x, const cpu_set_t *cpus,
                                                   pid_t pgid, int out, int err, int status)
{
    sigset_t all, was;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &was);
    pid_t pid = vfork();
    if (pid == 0)
        child_exec(c, o, x, cpus, pgid, out, err, status);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    errno = e;
    return pid;
}

/* --- collecting --- */

/* Read both pipes until they close (or the child is gone and they stay open). A timed run
 * also waits, within its deadline, for a child that closed its pipes but runs on. */
static void collect(pid_t pid, int fds[2], struct sl_watch *w, struct sl_command_result *r,
                    int *ws, int *reaped, uint64_t *t_end)
{
    struct line_buf *lb = malloc(sizeof *lb);
    char buf[16384];
    uint64_t drain_until = 0;
    if (lb) {
        lb->len = 0;
        lb->overflow = 0;
    }
    while (fds[0] >= 0 || fds[1] >= 0 || (w->pgid && !*reaped)) {
        int pipes_open = fds[0] >= 0 || fds[1] >= 0;
        struct pollfd p[3] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0},
                              {pipes_open ? -1 : w->pidfd, POLLIN, 0}};
        int n = poll(p, 3, sl_watch_wait_ms(w, sl_now_ns()));
        if (n < 0 && errno != EINTR)
            break;
        for (int k = 0; k < 2; k++) {
            if (fds[k] < 0 || !p[k].revents)
                continue;
            ssize_t got = read(fds[k], buf, sizeof buf);
            if (got > 0) {
                tail_write(k ? &r->err : &r->out, buf, (size_t)got);
                if (k == 0 && lb)
                    scan_lines(lb, &r->report, buf, (size_t)got);
            } else if (got == 0 || errno != EINTR) {
                close(fds[k]);
                fds[k] = -1;
            }
        }
        /* quiet, or only the exit left to wait for: has the program exited? */
        if ((n == 0 || p[2].revents) && !*reaped) {
            pid_t got = wait4(pid, ws, WNOHANG, &r->ru);
            if (got == pid) {
                *reaped = 1;
                *t_end = sl_now_ns();
                drain_until = *t_end + 1000000000u;
            } else if (got < 0 && errno == ECHILD) {
                break; /* reaped by someone else: the caller reports it */
            }
        }
        r->timed_out = sl_watch_check(w, sl_now_ns());
        if (*reaped && sl_now_ns() > drain_until)
            break;
    }
    for (int k = 0; k < 2; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    if (lb && lb->len && !lb->overflow) /* a last line without its newline */
        sl_report_line(&r->report, lb->buf, lb->len);
    free(lb);
}

int sl_command_run(const struct sl_command *c, const struct sl_command_opts *o,
                   struct sl_command_result *r, char *err, size_t errlen)
{
    struct expanded x = {0};
    int out[2] = {-1, -1}, er[2] = {-1, -1}, st[2] = {-1, -1}, rc, ws = 0, reaped = 0;
    struct sl_watch watch = SL_WATCH_NONE;
    cpu_set_t cpus;
    uint64_t t_end = 0;

    sl_command_result_free(r);
    sl_report_clear(&r->report);
    if ((rc = expand_all(c, o, &x, err, errlen))) {
        if (rc == -SL_ENOMEM)
            snprintf(err, errlen, "out of memory");
        goto out;
    }
    CPU_ZERO(&cpus);
    if (o->confine)
        confine_set(o->cores, &cpus);
    if (pipe2(out, O_CLOEXEC) || pipe2(er, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
        snprintf(err, errlen, "cannot make pipes: %s", strerror(errno));
        rc = -SL_ESYS;
        goto out;
    }
    if (c->timeout_s > 0 && (rc = sl_watch_start(&watch))) {
        snprintf(err, errlen, "cannot fork the keeper of a timed run: %s", strerror(errno));
        goto out;
    }
    uint64_t t0 = sl_now_ns();
    pid_t pid = spawn_child(c, o, &x, &cpus, watch.pgid, out[1], er[1], st[1]);
    if (pid < 0) {
        snprintf(err, errlen, "cannot start a process: %s", strerror(errno));
        rc = -SL_ESYS;
        goto out;
    }
    sl_watch_arm(&watch, pid, t0, c->timeout_s);
    close(out[1]);
    close(er[1]);
    close(st[1]);
    out[1] = er[1] = st[1] = -1;
    int child_errno = 0;
    ssize_t got;
    while ((got = read(st[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
        ;
    int fds[2] = {out[0], er[0]};
    out[0] = er[0] = -1;
    collect(pid, fds, &watch, r, &ws, &reaped, &t_end);
    if (!reaped) {
        pid_t w;
        while ((w = wait4(pid, &ws, 0, &r->ru)) < 0 && errno == EINTR)
            ;
        t_end = sl_now_ns();
        if (w < 0) { /* someone else reaped it (a subreaper's waitpid(-1)): no status to give */
            snprintf(err, errlen, "lost the exit status of %s: %s", x.argv[0], strerror(errno));
            rc = -SL_ECHILD;
            goto out;
        }
    }
    r->wall_ns = t_end - t0;
    if (got == (ssize_t)sizeof child_errno) {
        snprintf(err, errlen, "cannot run %s: %s", x.argv[0], strerror(child_errno));
        rc = child_errno == ENOENT || child_errno == EACCES ? -SL_ENOENT : -SL_ESYS;
        goto out;
    }
    r->exited = WIFEXITED(ws);
    r->code = r->exited ? WEXITSTATUS(ws) : WTERMSIG(ws);
    rc = 0;
out:
    sl_watch_end(&watch);
    for (int k = 0; k < 2; k++) {
        if (out[k] >= 0)
            close(out[k]);
        if (er[k] >= 0)
            close(er[k]);
        if (st[k] >= 0)
            close(st[k]);
    }
    expanded_free(&x);
    return rc;
}
