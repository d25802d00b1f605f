/* queue.c — one thread that runs queued runs one at a time through scalelab-engine.
 *
 * The engine runs in a process group of its own, so that cancelling, timing out or stopping
 * kills it and every worker process it forked with one kill(-pgid). Its stdout is read
 * line by line with poll(), together with its stderr (the tail is kept for the error
 * message) and a self-pipe that wakes the loop for cancel and stop. Each measurement line is
 * stored before it is published: what a listener sees is always already safe on disk, and
 * a line that cannot be stored stops the engine and fails the run.
 *
 * The engine starts clean: an allow-listed environment (env_allowed: no token, nothing of a
 * launcher's), no descriptor but its three pipes, and a parent-death signal so that it dies
 * with the server even after a kill -9 (its forked workers do the same with it).
 */
#include "queue.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl.h"

enum stop_reason { REASON_NONE = 0, REASON_CANCEL, REASON_TIMEOUT, REASON_STOP, REASON_STORE };

struct sl_queue {
    struct sl_queue_opts o;      /* options (engine path copied below) */
    char *engine;                /* path of scalelab-engine */
    struct sl_store *st;         /* where runs and measurements go */
    struct sl_events *ev;        /* where live events go */
    pthread_mutex_t mu;          /* guards the fields below */
    pthread_cond_t cv;           /* work submitted, stop, or a run ended */
    int64_t *waiting;            /* FIFO of run ids */
    unsigned nwait;              /* how many wait */
    int64_t running;             /* the running run (0 = none) */
    int cancel_running;          /* 1: the running run was cancelled */
    int stop;                    /* 1: the server stops */
    int wake[2];                 /* self-pipe waking the engine loop */
    pthread_t thread;            /* the queue thread */
};

double sl_queue_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void poke(struct sl_queue *q)
{
    char c = 1;
    if (write(q->wake[1], &c, 1) < 0 && errno != EAGAIN)
        perror("scalelab-server: wake pipe");
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The engine's stdin, stdout and stderr: [0] read end, [1] write end; -1 when closed. */
struct engine_pipes {
    int in[2], out[2], err[2];
};

/* Publish the run's status (and end listeners' streams when it is final). */
static void publish_status(struct sl_queue *q, int64_t id, const char *status,
                           const char *error, int done, int total, int final)
{
    json_t *o = json_pack("{sI ss s{si si}}", "id", (json_int_t)id, "status", status,
                          "progress", "done", done, "total", total);
    if (!o)
        return;
    json_object_set_new(o, "error", error ? json_string(error) : json_null());
    sl_events_publish(q->ev, id, "status", o, final);
    json_decref(o);
}

/* What the engine said, line by line. */
struct engine_run {
    int64_t id;            /* the run */
    int total, done;       /* timed runs planned, stored */
    json_t *summary;       /* its summary line, once seen */
    char error[512];       /* its error line, once seen */
    char store_error[256]; /* why storing what it said failed, once that happened */
    char *line;            /* partial stdout line */
    size_t len, cap;
    char tail[1024];       /* last bytes of its stderr */
    size_t tail_len;
};

/* A measurement (or the start) that cannot be stored fails the run: a run whose data has
 * gaps must not end "done". The first failure is kept; pump() stops the engine. */
static void store_failed(struct engine_run *r, const char *what, int rc)
{
    if (!r->store_error[0])
        snprintf(r->store_error, sizeof r->store_error, "%s (%s); the run was stopped", what,
                 sl_strerror(rc));
}

static void handle_line(struct sl_queue *q, struct engine_run *r, const char *line)
{
    int rc;
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type) {
        json_decref(o);
        return; /* not protocol: ignore (the engine writes nothing else on stdout) */
    }
    if (strcmp(type, "header") == 0) {
        r->total = (int)json_integer_value(json_object_get(json_object_get(o, "plan"),
                                                           "timed_runs"));
        rc = sl_store_run_start(q->st, r->id, o, r->total, sl_queue_now());
        if (rc == 0)
            publish_status(q, r->id, SL_RUN_RUNNING, NULL, 0, r->total, 0);
        else if (rc != -SL_ENOENT) /* not a run cancelled meanwhile: the store failed */
            store_failed(r, "the run's start could not be stored", rc);
    } else if (strcmp(type, "measurement") == 0) {
        if (r->store_error[0]) {
            /* the run fails anyway: store nothing after a gap */
        } else if ((rc = sl_store_measurement_insert(q->st, r->id, o)) == 0) {
            r->done++;
            sl_events_publish(q->ev, r->id, "measurement", o, 0);
        } else {
            char what[64];
            snprintf(what, sizeof what, "measurement %lld could not be stored",
                     (long long)json_integer_value(json_object_get(o, "seq")));
            store_failed(r, what, rc);
        }
    } else if (strcmp(type, "summary") == 0) {
        json_decref(r->summary);
        r->summary = json_incref(o);
    } else if (strcmp(type, "error") == 0) {
        snprintf(r->error, sizeof r->error, "%s",
                 json_string_value(json_object_get(o, "message")) ?: "the engine failed");
    }
    json_decref(o);
}

static void take_stdout(struct sl_queue *q, struct engine_run *r, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            if (r->line) {
                r->line[r->len] = '\0';
                handle_line(q, r, r->line);
            }
            r->len = 0;
            continue;
        }
        if (r->len + 2 > r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 4096;
            char *l = realloc(r->line, cap);
            if (!l)
                continue; /* drop the byte: the line will not parse and is ignored */
            r->line = l;
            r->cap = cap;
        }
        r->line[r->len++] = buf[i];
    }
}

static void take_stderr(struct engine_run *r, const char *buf, size_t n)
{
    /* Keep the last bytes: the engine's own one-line reason is at the end. */
    if (n >= sizeof r->tail) {
        memcpy(r->tail, buf + n - (sizeof r->tail - 1), sizeof r->tail - 1);
        r->tail_len = sizeof r->tail - 1;
    } else {
        if (r->tail_len + n >= sizeof r->tail) {
            size_t drop = r->tail_len + n - (sizeof r->tail - 1);
            memmove(r->tail, r->tail + drop, r->tail_len - drop);
            r->tail_len -= drop;
        }
        memcpy(r->tail + r->tail_len, buf, n);
        r->tail_len += n;
    }
    r->tail[r->tail_len] = '\0';
}

/* The last non-empty line of the engine's stderr, without the program name. */
static void last_stderr_line(const struct engine_run *r, char *out, size_t len)
{
    char copy[sizeof r->tail];
    memcpy(copy, r->tail, r->tail_len + 1);
    size_t n = strlen(copy);
    while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
        copy[--n] = '\0';
    char *start = strrchr(copy, '\n');
    start = start ? start + 1 : copy;
    char *progress = strrchr(start, '\r'); /* a progress bar's carriage returns */
    if (progress)
        start = progress + 1;
    if (strncmp(start, "scalelab-engine: ", 17) == 0)
        start += 17;
    snprintf(out, len, "%s", start);
}

/* --- the engine's process --- */

/* What of the server's environment the engine gets: nothing else (a token, a launcher's
 * variables) reaches it or its workloads. A name ending in '*' is a prefix. */
static const char *const env_allowed[] = {
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_*", "TZ", "TMPDIR",
    "OMP_*", "GOMP_*",                      /* the openmp backend */
    "XDG_CACHE_HOME", "SCALELAB_CALIBRATION", /* where the engine finds its calibration */
    "SCALELAB_TEST_WORKLOADS",              /* the crash workload of the tests */
    "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", /* make asan */
    NULL};

static int env_is_allowed(const char *var)
{
    const char *eq = strchr(var, '=');
    size_t n = eq ? (size_t)(eq - var) : strlen(var);
    for (const char *const *a = env_allowed; *a; a++) {
        size_t k = strlen(*a);
        if ((*a)[k - 1] == '*' ? n >= k - 1 && strncmp(var, *a, k - 1) == 0
                               : n == k && strncmp(var, *a, k) == 0)
            return 1;
    }
    return 0;
}

/* The engine's environment: the allowed variables of ours (the array is new, its strings
 * are environ's). Built before fork: the child of a threaded process may not allocate. */
static char **engine_environ(void)
{
    extern char **environ;
    size_t n = 0, k = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    for (size_t i = 0; env && i < n; i++)
        if (env_is_allowed(environ[i]))
            env[k++] = environ[i];
    return env;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(const char *engine, char **env, pid_t parent, int in, int out, int err)
{
    /* Die with the server: SIGKILL when the thread that forked us (the queue thread, which
     * lives as long as the server) ends, however it ends. If the server died before the
     * prctl, getppid is no longer it: exit now. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    /* Its own process group, the pipes as stdio, no other descriptor (a launcher's, the
     * database's, the listening socket), signals as a fresh process has them (the server
     * blocks SIGINT/SIGTERM in all its threads), then the engine. */
    setpgid(0, 0);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
    if (close_range(3, ~0u, 0) != 0)
        for (int fd = 3; fd < 65536; fd++)
            close(fd);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    char *argv[] = {"scalelab-engine", "run", "--job", "-", "--json", NULL};
    execve(engine, argv, env);
    dprintf(2, "scalelab-engine: cannot execute %s: %s\n", engine, strerror(errno));
    _exit(127);
}

/* Start the engine with its stdin, stdout and stderr on pipes (the server's ends are left
 * in p). Returns its pid (also its process group), or -1 with errno set. */
static pid_t spawn_engine(struct sl_queue *q, struct engine_pipes *p)
{
    if (pipe2(p->in, O_CLOEXEC) || pipe2(p->out, O_CLOEXEC) || pipe2(p->err, O_CLOEXEC))
        return -1;
    char **env = engine_environ();
    if (!env)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(q->engine, env, parent, p->in[0], p->out[1], p->err[1]);
    int saved = errno;
    free(env);
    if (pid < 0) {
        errno = saved;
        return -1;
    }
    setpgid(pid, pid); /* also here: whichever of parent and child runs first */
    close_fd(&p->in[0]);
    close_fd(&p->out[1]);
    close_fd(&p->err[1]);
    return pid;
}

static void pipes_close(struct engine_pipes *p)
{
    for (int i = 0; i < 2; i++) {
        close_fd(&p->in[i]);
        close_fd(&p->out[i]);
        close_fd(&p->err[i]);
    }
}

/* After the engine has ended, however it ended: kill what is left of its process group (a
 * crashed engine leaves its worker processes running) and reap them. The server is a child
 * subreaper (main.c), so the engine's orphaned workers are its children and would otherwise
 * stay zombies, worst when the server is PID 1 in a container. Bounded: SIGKILLed
 * processes die at once. */
static void reap_group(pid_t pgid)
{
    kill(-pgid, SIGKILL);
    for (int i = 0; i < 200; i++) { /* at most ~1 s */
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p < 0)
            return; /* no children left */
        if (p == 0) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
}

/* Why the run should stop now (cancel, stop, timeout, a failed store), or REASON_NONE. */
static enum stop_reason stop_reason(struct sl_queue *q, const struct engine_run *r,
                                    double deadline)
{
    enum stop_reason reason = REASON_NONE;
    pthread_mutex_lock(&q->mu);
    if (q->stop)
        reason = REASON_STOP;
    else if (q->cancel_running)
        reason = REASON_CANCEL;
    pthread_mutex_unlock(&q->mu);
    if (!reason && r->store_error[0])
        reason = REASON_STORE;
    if (!reason && deadline > 0 && sl_queue_now() >= deadline)
        reason = REASON_TIMEOUT;
    return reason;
}

/* Read the engine's stdout and stderr until both end, handling each line as it comes;
 * kill its process group at the first reason to stop. Returns that reason. */
static enum stop_reason pump(struct sl_queue *q, struct engine_run *r, struct engine_pipes *p,
                             pid_t pid)
{
    enum stop_reason reason = REASON_NONE;
    double deadline = q->o.run_timeout > 0 ? sl_queue_now() + q->o.run_timeout : 0;
    while (p->out[0] >= 0 || p->err[0] >= 0) {
        struct pollfd f[3] = {{p->out[0], POLLIN, 0}, {p->err[0], POLLIN, 0},
                              {q->wake[0], POLLIN, 0}};
        int timeout = -1;
        if (deadline > 0 && !reason) {
            double left = deadline - sl_queue_now();
            timeout = left <= 0 ? 0 : (int)(left * 1000) + 1;
        }
        if (poll(f, 3, timeout) < 0 && errno != EINTR)
            break;
        char buf[16384];
        if (f[0].revents) {
            ssize_t k = read(p->out[0], buf, sizeof buf);
            if (k > 0)
                take_stdout(q, r, buf, (size_t)k);
            else if (k == 0 || errno != EINTR)
                close_fd(&p->out[0]);
        }
        if (f[1].revents) {
            ssize_t k = read(p->err[0], buf, sizeof buf);
            if (k > 0)
                take_stderr(r, buf, (size_t)k);
            else if (k == 0 || errno != EINTR)
                close_fd(&p->err[0]);
        }
        if (f[2].revents)
            while (read(q->wake[0], buf, sizeof buf) > 0)
                ;
        if (!reason && (reason = stop_reason(q, r, deadline)))
            kill(-pid, SIGKILL); /* the engine and every worker it forked */
    }
    return reason;
}

/* The run's final status and its error sentence, from why it stopped and how the engine
 * exited (wait status ws). */
static const char *verdict(struct sl_queue *q, const struct engine_run *r,
                           enum stop_reason reason, int ws, char *error, size_t len)
{
    char last[400];
    switch (reason) {
    case REASON_CANCEL:
        snprintf(error, len, "cancelled by request");
        return SL_RUN_CANCELLED;
    case REASON_TIMEOUT:
        snprintf(error, len, "ran past the run timeout of %g s", q->o.run_timeout);
        return SL_RUN_TIMED_OUT;
    case REASON_STOP:
        snprintf(error, len, "the server stopped while the run was running");
        return SL_RUN_INTERRUPTED;
    case REASON_STORE:
        snprintf(error, len, "%s", r->store_error);
        return SL_RUN_FAILED;
    case REASON_NONE:
        break;
    }
    if (r->store_error[0]) { /* the last line, read after the engine ended */
        snprintf(error, len, "%s", r->store_error);
        return SL_RUN_FAILED;
    }
    if (WIFEXITED(ws) && (WEXITSTATUS(ws) == 0 || WEXITSTATUS(ws) == 3) && r->summary) {
        if (WEXITSTATUS(ws) == 3) { /* done, with a warning on its last stderr line */
            last_stderr_line(r, last, sizeof last);
            snprintf(error, len, "%s", last);
        }
        return SL_RUN_DONE;
    }
    if (WIFSIGNALED(ws)) {
        snprintf(error, len, "the engine was killed by signal %d (%s)", WTERMSIG(ws),
                 strsignal(WTERMSIG(ws)));
    } else if (r->error[0]) {
        snprintf(error, len, "%s", r->error);
    } else {
        last_stderr_line(r, last, sizeof last);
        snprintf(error, len, "the engine exited with status %d%s%s",
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, last[0] ? ": " : "", last);
    }
    return SL_RUN_FAILED;
}

/* The job of a run still queued, as compact JSON (caller frees), or NULL when the run was
 * cancelled or deleted while it waited. */
static char *queued_job(struct sl_queue *q, int64_t id)
{
    json_t *run = sl_store_run_get(q->st, id);
    const char *status = json_string_value(json_object_get(run, "status"));
    char *job = status && strcmp(status, SL_RUN_QUEUED) == 0
                    ? json_dumps(json_object_get(run, "job"), JSON_COMPACT)
                    : NULL;
    json_decref(run);
    return job;
}

/* Store the run's end and tell its listeners (their streams end). */
static void finish_run(struct sl_queue *q, const struct engine_run *r, const char *final,
                       const char *error)
{
    char status[16];
    if (sl_store_run_finish(q->st, r->id, final, error, r->summary, sl_queue_now()) != 0)
        fprintf(stderr, "scalelab-server: run %lld: could not store its end (%s: %s)\n",
                (long long)r->id, final, error ? error : "");
    if (sl_store_run_status(q->st, r->id, status, sizeof status) != 0)
        snprintf(status, sizeof status, "%s", final);
    publish_status(q, r->id, status, error, r->done, r->total, 1);
}

static void execute(struct sl_queue *q, int64_t id)
{
    struct engine_run r = {.id = id};
    struct engine_pipes p = {{-1, -1}, {-1, -1}, {-1, -1}};
    char error[600] = "";
    const char *final = SL_RUN_FAILED;
    char *job = queued_job(q, id);
    if (!job)
        return; /* cancelled or deleted while it waited */
    pid_t pid = spawn_engine(q, &p);
    if (pid < 0) {
        snprintf(error, sizeof error, "could not start the engine: %s", strerror(errno));
        goto out;
    }
    size_t jl = strlen(job);
    int handed = write(p.in[1], job, jl) == (ssize_t)jl;
    close_fd(&p.in[1]);
    enum stop_reason reason = pump(q, &r, &p, pid);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    reap_group(pid);
    if (r.len && r.line) { /* a last line without its newline */
        r.line[r.len] = '\0';
        handle_line(q, &r, r.line);
    }
    final = verdict(q, &r, reason, ws, error, sizeof error);
    if (!handed && strcmp(final, SL_RUN_DONE) != 0 && !error[0])
        snprintf(error, sizeof error, "could not hand the job to the engine");
out:
    pipes_close(&p);
    free(job);
    finish_run(q, &r, final, error[0] ? error : NULL);
    json_decref(r.summary);
    free(r.line);
}

static void *queue_main(void *arg)
{
    struct sl_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->nwait == 0 && !q->stop)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->stop)
            break;
        int64_t id = q->waiting[0];
        memmove(q->waiting, q->waiting + 1, --q->nwait * sizeof *q->waiting);
        q->running = id;
        q->cancel_running = 0;
        pthread_mutex_unlock(&q->mu);
        execute(q, id);
        pthread_mutex_lock(&q->mu);
        q->running = 0;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct sl_queue *sl_queue_new(const struct sl_queue_opts *o, struct sl_store *st,
                              struct sl_events *ev)
{
    struct sl_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->o = *o;
    q->engine = strdup(o->engine);
    q->waiting = calloc(o->max_queue ? o->max_queue : 1, sizeof *q->waiting);
    q->st = st;
    q->ev = ev;
    q->wake[0] = q->wake[1] = -1;
    if (!q->engine || !q->waiting || pipe2(q->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        goto fail;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    if (pthread_create(&q->thread, NULL, queue_main, q) != 0)
        goto fail;
    return q;
fail:
    if (q->wake[0] >= 0) {
        close(q->wake[0]);
        close(q->wake[1]);
    }
    free(q->engine);
    free(q->waiting);
    free(q);
    return NULL;
}

void sl_queue_free(struct sl_queue *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    poke(q);
    pthread_join(q->thread, NULL);
    close(q->wake[0]);
    close(q->wake[1]);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q->engine);
    free(q->waiting);
    free(q);
}

int sl_queue_submit(struct sl_queue *q, int64_t id)
{
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    if (q->nwait >= (q->o.max_queue ? q->o.max_queue : 1))
        rc = -SL_ELIMIT;
    else {
        q->waiting[q->nwait++] = id;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int sl_queue_cancel(struct sl_queue *q, int64_t id, double wait_s)
{
    pthread_mutex_lock(&q->mu);
    for (unsigned i = 0; i < q->nwait; i++)
        if (q->waiting[i] == id) {
            memmove(q->waiting + i, q->waiting + i + 1, (q->nwait - i - 1) * sizeof *q->waiting);
            q->nwait--;
            pthread_mutex_unlock(&q->mu);
            sl_store_run_finish(q->st, id, SL_RUN_CANCELLED, "cancelled before it started",
                                NULL, sl_queue_now());
            publish_status(q, id, SL_RUN_CANCELLED, "cancelled before it started", 0, 0, 1);
            return 0;
        }
    if (q->running != id) {
        pthread_mutex_unlock(&q->mu);
        return -SL_ENOENT;
    }
    q->cancel_running = 1;
    poke(q);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double until = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + wait_s;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    while (q->running == id)
        if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&q->mu);
    return 0;
}

unsigned sl_queue_length(struct sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    unsigned n = q->nwait;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int64_t sl_queue_running(struct sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    int64_t id = q->running;
    pthread_mutex_unlock(&q->mu);
    return id;
}
