/* queue.c — one thread that runs queued runs one at a time through scalelab-engine.
 *
 * The engine runs in a process group of its own, so that cancelling, timing out or stopping
 * kills it and every worker process it forked with one kill(-pgid). Its stdout is read
 * line by line with poll(), together with its stderr (the tail is kept for the error
 * message) and a self-pipe that wakes the loop for cancel and stop. Each measurement line is
 * stored before it is published: what a listener sees is always already safe on disk.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl.h"

enum stop_reason { REASON_NONE = 0, REASON_CANCEL, REASON_TIMEOUT, REASON_STOP };

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
    char *line;            /* partial stdout line */
    size_t len, cap;
    char tail[1024];       /* last bytes of its stderr */
    size_t tail_len;
};

static void handle_line(struct sl_queue *q, struct engine_run *r, const char *line)
{
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
        if (sl_store_run_start(q->st, r->id, o, r->total, sl_queue_now()) == 0)
            publish_status(q, r->id, SL_RUN_RUNNING, NULL, 0, r->total, 0);
    } else if (strcmp(type, "measurement") == 0) {
        if (sl_store_measurement_insert(q->st, r->id, o) == 0) {
            r->done++;
            sl_events_publish(q->ev, r->id, "measurement", o, 0);
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

static pid_t spawn_engine(struct sl_queue *q, int in[2], int out[2], int err[2])
{
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        return -1;
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* Child: its own process group, the pipes as stdio, signals as a fresh process has them
     * (the server blocks SIGINT/SIGTERM in all its threads), then the engine. */
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    char *argv[] = {"scalelab-engine", "run", "--job", "-", "--json", NULL};
    execv(q->engine, argv);
    dprintf(2, "scalelab-engine: cannot execute %s: %s\n", q->engine, strerror(errno));
    _exit(127);
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

static void execute(struct sl_queue *q, int64_t id)
{
    struct engine_run r = {.id = id};
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    enum stop_reason reason = REASON_NONE;
    char status[16], error[600] = "";
    const char *final = SL_RUN_FAILED;
    json_t *run = sl_store_run_get(q->st, id);
    if (!run || strcmp(json_string_value(json_object_get(run, "status")), SL_RUN_QUEUED) != 0) {
        json_decref(run);
        return; /* cancelled or deleted while it waited */
    }
    char *job = json_dumps(json_object_get(run, "job"), JSON_COMPACT);
    json_decref(run);
    pid_t pid = job ? spawn_engine(q, in, out, err) : -1;
    if (pid < 0) {
        snprintf(error, sizeof error, "could not start the engine: %s", strerror(errno));
        goto finish;
    }
    setpgid(pid, pid); /* also here: whichever of parent and child runs first */
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    size_t jl = strlen(job);
    if (write(in[1], job, jl) != (ssize_t)jl)
        snprintf(error, sizeof error, "could not hand the job to the engine");
    close_fd(&in[1]);

    double deadline = q->o.run_timeout > 0 ? sl_queue_now() + q->o.run_timeout : 0;
    int killed = 0;
    while (out[0] >= 0 || err[0] >= 0) {
        struct pollfd p[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {q->wake[0], POLLIN, 0}};
        int timeout = -1;
        if (deadline > 0 && !killed) {
            double left = deadline - sl_queue_now();
            timeout = left <= 0 ? 0 : (int)(left * 1000) + 1;
        }
        int n = poll(p, 3, timeout);
        if (n < 0 && errno != EINTR)
            break;
        char buf[16384];
        if (p[0].revents) {
            ssize_t k = read(out[0], buf, sizeof buf);
            if (k > 0)
                take_stdout(q, &r, buf, (size_t)k);
            else if (k == 0 || errno != EINTR)
                close_fd(&out[0]);
        }
        if (p[1].revents) {
            ssize_t k = read(err[0], buf, sizeof buf);
            if (k > 0)
                take_stderr(&r, buf, (size_t)k);
            else if (k == 0 || errno != EINTR)
                close_fd(&err[0]);
        }
        if (p[2].revents)
            while (read(q->wake[0], buf, sizeof buf) > 0)
                ;
        if (!killed) {
            pthread_mutex_lock(&q->mu);
            if (q->stop)
                reason = REASON_STOP;
            else if (q->cancel_running)
                reason = REASON_CANCEL;
            pthread_mutex_unlock(&q->mu);
            if (!reason && deadline > 0 && sl_queue_now() >= deadline)
                reason = REASON_TIMEOUT;
            if (reason) {
                kill(-pid, SIGKILL); /* the engine and every worker it forked */
                killed = 1;
            }
        }
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    reap_group(pid);
    if (r.len && r.line) { /* a last line without its newline */
        r.line[r.len] = '\0';
        handle_line(q, &r, r.line);
    }
    switch (reason) {
    case REASON_CANCEL:
        final = SL_RUN_CANCELLED;
        snprintf(error, sizeof error, "cancelled by request");
        break;
    case REASON_TIMEOUT:
        final = SL_RUN_TIMED_OUT;
        snprintf(error, sizeof error, "ran past the run timeout of %g s", q->o.run_timeout);
        break;
    case REASON_STOP:
        final = SL_RUN_INTERRUPTED;
        snprintf(error, sizeof error, "the server stopped while the run was running");
        break;
    case REASON_NONE:
        if (WIFEXITED(ws) && (WEXITSTATUS(ws) == 0 || WEXITSTATUS(ws) == 3) && r.summary) {
            final = SL_RUN_DONE;
            if (WEXITSTATUS(ws) == 3) {
                char last[400];
                last_stderr_line(&r, last, sizeof last);
                snprintf(error, sizeof error, "%s", last);
            }
        } else if (WIFSIGNALED(ws)) {
            snprintf(error, sizeof error, "the engine was killed by signal %d (%s)",
                     WTERMSIG(ws), strsignal(WTERMSIG(ws)));
        } else if (r.error[0]) {
            snprintf(error, sizeof error, "%s", r.error);
        } else {
            char last[400];
            last_stderr_line(&r, last, sizeof last);
            snprintf(error, sizeof error, "the engine exited with status %d%s%s",
                     WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, last[0] ? ": " : "", last);
        }
        break;
    }
finish:
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&err[0]);
    close_fd(&err[1]);
    free(job);
    sl_store_run_finish(q->st, id, final, error[0] ? error : NULL, r.summary, sl_queue_now());
    if (sl_store_run_status(q->st, id, status, sizeof status) != 0)
        snprintf(status, sizeof status, "%s", final);
    publish_status(q, id, status, error[0] ? error : NULL, r.done, r.total, 1);
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
