/* processes.c — `processes`: fork a worker process per share, partials back through pipes.
 *
 * The route of multiprocessing.Pool created inside the timed region, as the tutorials do:
 * each run pays fork() (page tables of the whole engine copied), the children's page faults
 * on first write, and waitpid(). Workers inherit the set-up data by copy-on-write; workloads
 * whose kernels write (SL_WL_WRITES) keep that data in shared memory, and phases are
 * separated by a process-shared barrier in a shared page.
 * A worker that dies (a signal, a crash) would leave its siblings waiting at the barrier:
 * the parent reaps children as they end and kills the rest as soon as one fails.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "sl.h"

static void barrier_wait(void *arg)
{
    pthread_barrier_wait(arg);
}

static void kill_all(const pid_t *pids, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
}

/* Reap every child; on the first abnormal end, kill the others. Returns 0 or -SL_ECHILD. */
static int reap(pid_t *pids, unsigned n)
{
    int rc = 0;
    for (unsigned left = n; left > 0;) {
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        unsigned i = 0;
        while (i < n && pids[i] != p)
            i++;
        if (i == n)
            continue; /* not one of ours */
        pids[i] = 0;
        left--;
        int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok && rc == 0) {
            if (WIFSIGNALED(status))
                sl_backend_set_error("worker process %u was killed by signal %d (%s)", i,
                                     WTERMSIG(status), strsignal(WTERMSIG(status)));
            else
                sl_backend_set_error("worker process %u exited with status %d", i,
                                     WEXITSTATUS(status));
            rc = -SL_ECHILD;
            kill_all(pids, n);
        }
    }
    return rc;
}

static int processes_run(const struct sl_exec *x, struct sl_timing *timing)
{
    uint64_t t0 = sl_now_ns();
    unsigned n = x->workers, forked = 0;
    int rc = 0;
    pid_t *pids = calloc(n, sizeof *pids);
    int(*fds)[2] = calloc(n, sizeof *fds);
    struct sl_worker_rec *recs = calloc(n, sizeof *recs);
    pthread_barrier_t *bar = mmap(NULL, sizeof *bar, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!pids || !fds || !recs || bar == MAP_FAILED) {
        if (bar == MAP_FAILED)
            bar = NULL;
        rc = -SL_ENOMEM;
        goto out;
    }
    pthread_barrierattr_t attr;
    pthread_barrierattr_init(&attr);
    pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_barrier_init(bar, &attr, n);
    pthread_barrierattr_destroy(&attr);

    pid_t parent = getpid();
    for (; forked < n; forked++) {
        if (pipe(fds[forked]) != 0) {
            sl_backend_set_error("pipe failed for worker %u: %s", forked, strerror(errno));
            rc = -SL_ESYS;
            break;
        }
        pid_t p = fork();
        if (p < 0) {
            sl_backend_set_error("fork failed for worker %u of %u: %s", forked + 1, n,
                                 strerror(errno));
            close(fds[forked][0]);
            close(fds[forked][1]);
            rc = -SL_ESYS;
            break;
        }
        if (p == 0) {
            unsigned id = forked;
            struct sl_worker_rec rec;
            /* A crashing worker must die of its signal, not run a handler it inherited
             * (a test framework's, say) that might never return. */
            static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
            for (size_t k = 0; k < sizeof fatal / sizeof fatal[0]; k++)
                signal(fatal[k], SIG_DFL);
            /* A worker dies with the engine, even a SIGKILLed one (whose own parent-death
             * signal fires when the server dies): nothing of a run outlives it. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(4);
            close(fds[id][0]);
            sl_affinity_apply(x->affinity, id, n);
            sl_work_static(x, id, barrier_wait, bar, &rec);
            _exit(sl_write_all(fds[id][1], &rec, sizeof rec) == 0 ? 0 : 3);
        }
        pids[forked] = p;
        close(fds[forked][1]);
    }
    if (rc != 0)
        kill_all(pids, forked); /* those started would wait at the barrier forever */
    int reaped = reap(pids, forked);
    if (rc == 0)
        rc = reaped;
    /* Each record (< PIPE_BUF) was written whole before its child exited. */
    for (unsigned i = 0; i < forked; i++) {
        if (rc == 0 && sl_read_all(fds[i][0], &recs[i], sizeof recs[i]) != 0) {
            sl_backend_set_error("worker process %u sent no result", i);
            rc = -SL_ECHILD;
        }
        close(fds[i][0]);
    }
    if (rc == 0) {
        sl_timing_collect(x, t0, recs, timing);
        /* Only then: glibc's destroy waits for every waiter to leave, and a killed worker
         * never does. Unmapping alone is enough to free a barrier nobody uses any more. */
        pthread_barrier_destroy(bar);
    }
out:
    if (bar)
        munmap(bar, sizeof *bar);
    free(pids);
    free(fds);
    free(recs);
    return rc;
}

const struct sl_backend sl_be_processes = {
    .name = "processes",
    .route = "stands for multiprocessing.Pool created per run; here fork() in C",
    .how = "C: fork per run and worker, static split, partials through pipes, shared-memory barrier",
    .caps = SL_CAP_PARALLEL | SL_CAP_AFFINITY | SL_CAP_VARIANT,
    .variant = SL_VECTOR,
    .probe = sl_probe_always,
    .run = processes_run,
};
