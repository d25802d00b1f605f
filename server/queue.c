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

#include "calibrate.h"
#include "sl.h"

enum stop_reason { REASON_NONE = 0, REASON_CANCEL, REASON_TIMEOUT, REASON_STOP, REASON_STORE };

/* What waits in the queue: a stored run, or a calibration (kept in memory, below). */
struct entry {
    int64_t id;                  /* run id, or calibration id */
    int calibration;             /* 1: a calibration */
};

/* One calibration asked for through the API; the last SL_CALIB_KEEP are remembered. */
#define SL_CALIB_KEEP 16
struct calib_rec {
    int64_t id;                  /* 1, 2, ... (0: empty slot) */
    const char *status;          /* SL_CALIB_* */
    char message[512];           /* why it was refused or failed ("" when done) */
    json_t *result;              /* the engine's calibration object, or NULL */
    double queued_at, started_at, finished_at; /* unix times (0 = not yet) */
};

struct sl_queue {
    struct sl_queue_opts o;      /* options (engine path copied below) */
    char *engine;                /* path of scalelab-engine */
    struct sl_store *st;         /* where runs and measurements go */
    struct sl_events *ev;        /* where live events go */
    pthread_mutex_t mu;          /* guards the fields below */
    pthread_cond_t cv;           /* work submitted, stop, or a run ended */
    struct entry *waiting;       /* FIFO of runs and calibrations */
    unsigned nwait;              /* how many wait */
    int64_t running;             /* the running run (0 = none) */
    struct calib_rec calib[SL_CALIB_KEEP]; /* calibrations, by id % SL_CALIB_KEEP */
    int64_t calib_next;          /* the next calibration's id */
    json_t *calib_latest;        /* the last accepted calibration (NULL: none since start) */
    unsigned calib_accepted;     /* calibrations accepted since start */
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
    int64_t id;            /* the run (0 for a calibration) */
    /* What to do with one JSON object the engine printed (o is borrowed). */
    void (*on_object)(struct sl_queue *q, struct engine_run *r, json_t *o);
    int total, done;       /* timed runs planned, stored */
    json_t *summary;       /* a run's summary line / a calibration's object, once seen */
    char error[512];       /* its error line, once seen */
    char store_error[256]; /* why storing what it said failed, once that happened */
    char *line;            /* partial stdout line */
    size_t len, cap;
    char tail[1024];       /* last bytes of its stderr */
    size_t tail_len;
    double spawned_at;     /* when its engine was started: the run's start, from which the
                            * run timeout counts (not its first line, which a loaded host
                            * can delay) */
};

/* A measurement (or the start) that cannot be stored fails the run: a run whose data has
 * gaps must not end "done". The first failure is kept; engine_wait() stops the engine. */
static void store_failed(struct engine_run *r, const char *what, int rc)
{
    if (!r->store_error[0])
        snprintf(r->store_error, sizeof r->store_error, "%s (%s); the run was stopped", what,
                 sl_strerror(rc));
}

/* A run's lines: header (the run starts), measurements (stored, then published), summary,
 * error. */
static void run_object(struct sl_queue *q, struct engine_run *r, json_t *o)
{
    int rc;
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type)
        return; /* not protocol: ignore (the engine writes nothing else on stdout) */
    if (strcmp(type, "header") == 0) {
        r->total = (int)json_integer_value(json_object_get(json_object_get(o, "plan"),
                                                           "timed_runs"));
        rc = sl_store_run_start(q->st, r->id, o, r->total, r->spawned_at);
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
}

static void handle_line(struct sl_queue *q, struct engine_run *r, const char *line)
{
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    if (json_is_object(o))
        r->on_object(q, r, o);
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
static void child_exec(const char *engine, char *const argv[], char **env, pid_t parent, int in,
                       int out, int err)
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
    execve(engine, argv, env);
    dprintf(2, "scalelab-engine: cannot execute %s: %s\n", engine, strerror(errno));
    _exit(127);
}

/* Start the engine with argv, its stdin, stdout and stderr on pipes. Returns its pid (also its
 * process group), or -1 with errno set. */
static pid_t spawn_engine(struct sl_queue *q, char *const argv[], int in[2], int out[2],
                          int err[2])
{
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        return -1;
    char **env = engine_environ();
    if (!env)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(q->engine, argv, env, parent, in[0], out[1], err[1]);
    int saved = errno;
    free(env);
    errno = saved;
    return pid;
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

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Why the engine must stop now (cancel, stop, timeout, a failed store), or REASON_NONE. */
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

/*
 * Runs the engine with argv, input on its stdin, until it ends: its stdout lines go to
 * r->on_object as they arrive, its stderr's tail to r->tail. Killed (with its whole process
 * group) on cancel, stop or after timeout seconds (0 = none); *ws gets its wait status.
 * Returns why it was stopped, REASON_NONE when it ended by itself; -1 when it could not be
 * started (a sentence in error).
 */
static int engine_wait(struct sl_queue *q, struct engine_run *r, char *const argv[],
                       const char *input, double timeout, int *ws, char *error, size_t errlen)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    int reason = REASON_NONE;
    r->spawned_at = sl_queue_now();
    pid_t pid = spawn_engine(q, argv, in, out, err);
    if (pid < 0) {
        snprintf(error, errlen, "could not start the engine: %s", strerror(errno));
        reason = -1;
        goto out;
    }
    setpgid(pid, pid); /* also here: whichever of parent and child runs first */
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    size_t jl = input ? strlen(input) : 0;
    if (jl && write(in[1], input, jl) != (ssize_t)jl)
        snprintf(error, errlen, "could not hand the job to the engine");
    close_fd(&in[1]);

    double deadline = timeout > 0 ? r->spawned_at + timeout : 0;
    while (out[0] >= 0 || err[0] >= 0) {
        struct pollfd p[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {q->wake[0], POLLIN, 0}};
        int wait_ms = -1;
        if (deadline > 0 && !reason) {
            double left = deadline - sl_queue_now();
            wait_ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
        }
        int n = poll(p, 3, wait_ms);
        if (n < 0 && errno != EINTR)
            break;
        char buf[16384];
        if (p[0].revents) {
            ssize_t k = read(out[0], buf, sizeof buf);
            if (k > 0)
                take_stdout(q, r, buf, (size_t)k);
            else if (k == 0 || errno != EINTR)
                close_fd(&out[0]);
        }
        if (p[1].revents) {
            ssize_t k = read(err[0], buf, sizeof buf);
            if (k > 0)
                take_stderr(r, buf, (size_t)k);
            else if (k == 0 || errno != EINTR)
                close_fd(&err[0]);
        }
        if (p[2].revents)
            while (read(q->wake[0], buf, sizeof buf) > 0)
                ;
        if (!reason && (reason = stop_reason(q, r, deadline)))
            kill(-pid, SIGKILL); /* the engine and every worker it forked */
    }
    while (waitpid(pid, ws, 0) < 0 && errno == EINTR)
        ;
    reap_group(pid);
    if (r->len && r->line) { /* a last line without its newline */
        r->line[r->len] = '\0';
        handle_line(q, r, r->line);
    }
out:
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&err[0]);
    close_fd(&err[1]);
    free(r->line);
    r->line = NULL;
    return reason;
}

/* A run's final status and error from how its engine ended. */
static const char *run_ending(struct sl_queue *q, const struct engine_run *r, int reason,
                              int ws, char *error, size_t errlen)
{
    char last[400];
    switch (reason) {
    case REASON_CANCEL:
        snprintf(error, errlen, "cancelled by request");
        return SL_RUN_CANCELLED;
    case REASON_TIMEOUT:
        snprintf(error, errlen, "ran past the run timeout of %g s", q->o.run_timeout);
        return SL_RUN_TIMED_OUT;
    case REASON_STOP:
        snprintf(error, errlen, "the server stopped while the run was running");
        return SL_RUN_INTERRUPTED;
    case REASON_STORE:
        snprintf(error, errlen, "%s", r->store_error);
        return SL_RUN_FAILED;
    case REASON_NONE:
        break;
    default:
        return SL_RUN_FAILED; /* not started: error says why */
    }
    if (r->store_error[0]) { /* the last line, read after the engine ended */
        snprintf(error, errlen, "%s", r->store_error);
        return SL_RUN_FAILED;
    }
    if (WIFEXITED(ws) && (WEXITSTATUS(ws) == 0 || WEXITSTATUS(ws) == 3) && r->summary) {
        if (WEXITSTATUS(ws) == 3) { /* results that did not verify: the engine says which */
            last_stderr_line(r, last, sizeof last);
            snprintf(error, errlen, "%s", last);
        }
        return SL_RUN_DONE;
    }
    if (WIFSIGNALED(ws)) {
        snprintf(error, errlen, "the engine was killed by signal %d (%s)", WTERMSIG(ws),
                 strsignal(WTERMSIG(ws)));
    } else if (r->error[0]) {
        snprintf(error, errlen, "%s", r->error);
    } else {
        last_stderr_line(r, last, sizeof last);
        snprintf(error, errlen, "the engine exited with status %d%s%s",
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, last[0] ? ": " : "", last);
    }
    return SL_RUN_FAILED;
}

static void execute(struct sl_queue *q, int64_t id)
{
    struct engine_run r = {.id = id, .on_object = run_object};
    char status[16], error[600] = "";
    int ws = 0;
    json_t *run = sl_store_run_get(q->st, id);
    if (!run || strcmp(json_string_value(json_object_get(run, "status")), SL_RUN_QUEUED) != 0) {
        json_decref(run);
        return; /* cancelled or deleted while it waited */
    }
    char *job = json_dumps(json_object_get(run, "job"), JSON_COMPACT);
    json_decref(run);
    char *argv[] = {"scalelab-engine", "run", "--job", "-", "--json", NULL};
    int reason = job ? engine_wait(q, &r, argv, job, q->o.run_timeout, &ws, error, sizeof error)
                     : (snprintf(error, sizeof error, "out of memory"), -1);
    const char *final = run_ending(q, &r, reason, ws, error, sizeof error);
    free(job);
    sl_store_run_finish(q->st, id, final, error[0] ? error : NULL, r.summary, sl_queue_now());
    if (sl_store_run_status(q->st, id, status, sizeof status) != 0)
        snprintf(status, sizeof status, "%s", final);
    publish_status(q, id, status, error[0] ? error : NULL, r.done, r.total, 1);
    json_decref(r.summary);
}

/* --- calibrations --- */

/* A calibration's record (q->mu held), or NULL when it is no longer remembered. */
static struct calib_rec *calib_rec(struct sl_queue *q, int64_t id)
{
    struct calib_rec *c = &q->calib[id % SL_CALIB_KEEP];
    return id > 0 && c->id == id ? c : NULL;
}

/* The calibration's lines: its object (it has read_gbs_1), or an error line. */
static void calib_object(struct sl_queue *q, struct engine_run *r, json_t *o)
{
    (void)q;
    const char *type = json_string_value(json_object_get(o, "type"));
    if (type && strcmp(type, "error") == 0)
        snprintf(r->error, sizeof r->error, "%s",
                 json_string_value(json_object_get(o, "message")) ?: "the engine failed");
    else if (json_object_get(o, "read_gbs_1")) {
        json_decref(r->summary);
        r->summary = json_incref(o);
    }
}

/*
 * The verdict on a calibration from how its engine ended: SL_CALIB_DONE (then *pending is
 * moved over *path), SL_CALIB_REFUSED (the engine's sanity check: "status": "suspect", or a
 * non-zero exit with its sentence on stderr) or SL_CALIB_FAILED; error gets why.
 */
static const char *calib_verdict(struct sl_queue *q, const struct engine_run *r, int reason,
                                 int ws, const char *pending, const char *path, char *error,
                                 size_t errlen)
{
    char last[400];
    const char *st = json_string_value(json_object_get(r->summary, "status"));
    int suspect = st && strcmp(st, "suspect") == 0;
    int exited = reason == REASON_NONE && WIFEXITED(ws);
    last_stderr_line(r, last, sizeof last);
    if (exited && WEXITSTATUS(ws) == 0 && r->summary && !suspect) {
        if (rename(pending, path) == 0)
            return SL_CALIB_DONE;
        snprintf(error, errlen, "the calibration could not be saved (%s): %.300s", strerror(errno), path);
        return SL_CALIB_FAILED;
    }
    if (suspect || (exited && WEXITSTATUS(ws) != 0 && last[0])) {
        /* The engine's own sentence says what was wrong; else its note. */
        const char *note = json_string_value(json_object_get(r->summary, "note"));
        snprintf(error, errlen, "%s", last[0] ? last : note ? note : "the calibration is suspect");
        return SL_CALIB_REFUSED;
    }
    if (!error[0])
        run_ending(q, r, reason, ws, error, errlen);
    return SL_CALIB_FAILED;
}

/*
 * Runs `scalelab-engine calibrate --json` between runs. The engine writes beside the
 * calibration in force; only an accepted one replaces it, so a refused one never reaches
 * later runs (nor this server after a restart). Refused and failed ones change nothing.
 */
static void calibrate(struct sl_queue *q, int64_t id)
{
    struct engine_run r = {.on_object = calib_object};
    char error[600] = "", path[1024], pending[1100];
    const char *final = SL_CALIB_FAILED;
    int ws = 0;
    pthread_mutex_lock(&q->mu);
    struct calib_rec *c = calib_rec(q, id);
    if (c) {
        c->status = SL_CALIB_RUNNING;
        c->started_at = sl_queue_now();
    }
    pthread_mutex_unlock(&q->mu);
    if (!sl_calibrate_default_path(path, sizeof path)) {
        snprintf(error, sizeof error, "no place to save a calibration: set SCALELAB_CALIBRATION or HOME");
    } else {
        snprintf(pending, sizeof pending, "%s.pending", path);
        char *argv[] = {"scalelab-engine", "calibrate", "--json", "--output", pending, NULL};
        int reason = engine_wait(q, &r, argv, NULL, q->o.run_timeout, &ws, error, sizeof error);
        final = calib_verdict(q, &r, reason, ws, pending, path, error, sizeof error);
        unlink(pending); /* what was refused, or nothing */
    }
    int accepted = strcmp(final, SL_CALIB_DONE) == 0;
    pthread_mutex_lock(&q->mu);
    if (accepted) {
        json_decref(q->calib_latest);
        q->calib_latest = json_incref(r.summary);
        q->calib_accepted++;
    }
    if ((c = calib_rec(q, id))) {
        c->status = final;
        snprintf(c->message, sizeof c->message, "%s", accepted ? "" : error);
        c->result = r.summary ? json_incref(r.summary) : NULL;
        c->finished_at = sl_queue_now();
    }
    pthread_mutex_unlock(&q->mu);
    json_decref(r.summary);
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
        struct entry e = q->waiting[0];
        memmove(q->waiting, q->waiting + 1, --q->nwait * sizeof *q->waiting);
        q->running = e.calibration ? 0 : e.id;
        q->cancel_running = 0;
        pthread_mutex_unlock(&q->mu);
        if (e.calibration)
            calibrate(q, e.id);
        else
            execute(q, e.id);
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
    for (unsigned i = 0; i < SL_CALIB_KEEP; i++)
        json_decref(q->calib[i].result);
    json_decref(q->calib_latest);
    free(q->engine);
    free(q->waiting);
    free(q);
}

/* Appends an entry (q->mu held). Returns 0 or -SL_ELIMIT when the queue is full. */
static int enqueue(struct sl_queue *q, int64_t id, int calibration)
{
    if (q->nwait >= (q->o.max_queue ? q->o.max_queue : 1))
        return -SL_ELIMIT;
    q->waiting[q->nwait++] = (struct entry){id, calibration};
    pthread_cond_broadcast(&q->cv);
    return 0;
}

int sl_queue_submit(struct sl_queue *q, int64_t id)
{
    pthread_mutex_lock(&q->mu);
    int rc = enqueue(q, id, 0);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int64_t sl_queue_calibrate(struct sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    int64_t id = q->calib_next + 1;
    int rc = enqueue(q, id, 1);
    if (rc == 0) {
        q->calib_next = id;
        struct calib_rec *c = &q->calib[id % SL_CALIB_KEEP];
        json_decref(c->result);
        *c = (struct calib_rec){.id = id, .status = SL_CALIB_QUEUED, .queued_at = sl_queue_now()};
    }
    pthread_mutex_unlock(&q->mu);
    return rc ? rc : id;
}

static json_t *time_or_null(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

json_t *sl_queue_calibration(struct sl_queue *q, int64_t id)
{
    json_t *o = NULL;
    pthread_mutex_lock(&q->mu);
    const struct calib_rec *c = calib_rec(q, id);
    if (c) {
        unsigned ahead = 0;
        for (unsigned i = 0; i < q->nwait && !(q->waiting[i].calibration && q->waiting[i].id == id); i++)
            ahead++;
        o = json_pack("{sIss}", "id", (json_int_t)c->id, "status", c->status);
        json_object_set_new(o, "message", c->message[0] ? json_string(c->message) : json_null());
        json_object_set_new(o, "calibration", c->result ? json_deep_copy(c->result) : json_null());
        json_object_set_new(o, "queued_at", time_or_null(c->queued_at));
        json_object_set_new(o, "started_at", time_or_null(c->started_at));
        json_object_set_new(o, "finished_at", time_or_null(c->finished_at));
        /* What it waits for: the runs ahead of it, the running one included. */
        json_object_set_new(o, "ahead", strcmp(c->status, SL_CALIB_QUEUED) == 0
                                            ? json_integer(ahead + (q->running != 0))
                                            : json_integer(0));
    }
    pthread_mutex_unlock(&q->mu);
    return o;
}

json_t *sl_queue_calibration_latest(struct sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    json_t *o = q->calib_latest ? json_deep_copy(q->calib_latest) : NULL;
    pthread_mutex_unlock(&q->mu);
    return o;
}

int sl_queue_cancel(struct sl_queue *q, int64_t id, double wait_s)
{
    pthread_mutex_lock(&q->mu);
    for (unsigned i = 0; i < q->nwait; i++)
        if (!q->waiting[i].calibration && q->waiting[i].id == id) {
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

unsigned sl_queue_calibrations(struct sl_queue *q)
{
    pthread_mutex_lock(&q->mu);
    unsigned n = q->calib_accepted;
    pthread_mutex_unlock(&q->mu);
    return n;
}
