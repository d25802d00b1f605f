/* watch.c — the deadline of one timed program run and the keeper of its process group. */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl.h"

/* In the keeper: lead the group, hold nothing of the engine's (its stdout pipe to the server,
 * the program's pipes) but the pipe's read end, and kill the group when that pipe closes. */
static _Noreturn void keeper(int in)
{
    char byte;
    setpgid(0, 0);
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    if (in > 0)
        close_range(0, (unsigned)in - 1, 0);
    close_range((unsigned)in + 1, ~0u, 0);
    while (read(in, &byte, 1) < 0 && errno == EINTR)
        ;
    kill(0, SIGKILL);
    _exit(0);
}

int sl_watch_start(struct sl_watch *w)
{
    int p[2];
    *w = SL_WATCH_NONE;
    if (pipe2(p, O_CLOEXEC) != 0)
        return -SL_ESYS;
    pid_t pid = fork();
    if (pid == 0)
        keeper(p[0]);
    int saved = errno;
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        errno = saved;
        return -SL_ESYS;
    }
    setpgid(pid, pid); /* also here: the group must exist before the program joins it */
    w->pgid = pid;
    w->ctl = p[1];
    return 0;
}

void sl_watch_arm(struct sl_watch *w, pid_t pid, uint64_t t0, double timeout_s)
{
    if (!w->pgid)
        return;
    w->deadline = t0 + (uint64_t)(timeout_s * 1e9);
    w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1: the caller's 200 ms checks do */
}

int sl_watch_wait_ms(const struct sl_watch *w, uint64_t now)
{
    uint64_t next = w->kill_at ? w->kill_at : w->deadline;
    if (!w->pgid || w->killed)
        return 200;
    if (next <= now)
        return 0;
    uint64_t ms = (next - now + 999999u) / 1000000u;
    return ms < 200 ? (int)ms : 200;
}

int sl_watch_check(struct sl_watch *w, uint64_t now)
{
    if (!w->pgid || w->killed)
        return w->timed_out;
    if (!w->kill_at && now >= w->deadline) {
        w->timed_out = 1;
        kill(-w->pgid, SIGTERM);
        kill(-w->pgid, SIGCONT);
        w->kill_at = now + SL_WATCH_GRACE_NS;
    } else if (w->kill_at && now >= w->kill_at) {
        kill(-w->pgid, SIGKILL);
        w->killed = 1;
    }
    return w->timed_out;
}

void sl_watch_end(struct sl_watch *w)
{
    if (w->pidfd >= 0)
        close(w->pidfd);
    if (w->pgid) {
        kill(-w->pgid, SIGKILL);
        close(w->ctl);
        while (waitpid(w->pgid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    *w = SL_WATCH_NONE;
}
