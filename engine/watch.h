/* watch.h — the deadline of one timed program run: SIGTERM to its process group at the
 * deadline, SIGKILL after a grace, and the group killed too if the engine dies first.
 *
 * A timed program cannot stay in the engine's process group (a kill at its deadline would
 * kill the engine), so it joins a group of its own. That group is held by a keeper: a small
 * process forked before the timed region that leads the group, ignores SIGTERM (which is
 * for the program's processes) and blocks on a pipe whose only writer is the engine. When
 * the pipe closes, i.e. when the engine died (a cancel's SIGKILL to the engine's group, a
 * Ctrl-C), the keeper kills its whole group: nothing of a timed run outlives the engine, as
 * nothing of an untimed one does. The run's end kills the group (whatever the program left
 * in it) and reaps the keeper.
 *
 * The caller's loop sleeps in poll() at most sl_watch_wait_ms and calls sl_watch_check after
 * each wake-up; while the program runs with its pipes closed, polling the watch's pidfd says
 * when it exits. Clocks are sl_now_ns (monotonic).
 */
#ifndef SL_WATCH_H
#define SL_WATCH_H

#include <stdint.h>
#include <sys/types.h>

#define SL_WATCH_GRACE_NS 1000000000u /* after the SIGTERM at the deadline, then SIGKILL */

/* One timed run's watch. SL_WATCH_NONE is a watch that does nothing (an untimed run). */
struct sl_watch {
    pid_t pgid;        /* the program's process group, its keeper's pid; 0: not watching */
    int ctl;           /* the write end of the keeper's pipe (-1 if none) */
    int pidfd;         /* the program's pidfd, to poll for its exit; -1 if none */
    uint64_t deadline; /* sl_now_ns() at which the group gets SIGTERM */
    uint64_t kill_at;  /* ... and then SIGKILL (0 until SIGTERM was sent) */
    int killed;        /* SIGKILL was sent */
    int timed_out;     /* the deadline passed while the program ran */
};
#define SL_WATCH_NONE ((struct sl_watch){.ctl = -1, .pidfd = -1})

/* Fork the keeper of a new process group into w (a program joins it with setpgid(0,
 * w->pgid) before its exec). Returns 0, or -SL_ESYS with errno set (w stays SL_WATCH_NONE). */
int sl_watch_start(struct sl_watch *w);
/* The program pid started at t0 (sl_now_ns) in w's group: its deadline is timeout_s later. */
void sl_watch_arm(struct sl_watch *w, pid_t pid, uint64_t t0, double timeout_s);
/* Milliseconds a poll may sleep before the next step is due (at most 200). */
int sl_watch_wait_ms(const struct sl_watch *w, uint64_t now);
/* Take the step that is due at now: SIGTERM (and SIGCONT, for a stopped process) to the group
 * at the deadline, SIGKILL after the grace. Returns w->timed_out. */
int sl_watch_check(struct sl_watch *w, uint64_t now);
/* The run is over: kill what is left in the group, reap the keeper, close the descriptors.
 * The group's other processes are orphans, reaped by init or the server (their subreaper).
 * w is SL_WATCH_NONE afterwards; a no-op on SL_WATCH_NONE. */
void sl_watch_end(struct sl_watch *w);

#endif /* SL_WATCH_H */
