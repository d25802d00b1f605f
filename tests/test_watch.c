/* test_watch.c — a timed run's watch: its poll timeouts, SIGTERM at the deadline, SIGKILL
 * after the grace, and the keeper's group ended with the run. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl.h"
#include "watch.h"

/* A process in w's group that ignores SIGTERM or not, then waits to be killed. */
static pid_t member(const struct sl_watch *w, int ignore_term)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(w->ctl); /* as a program's exec does: a failed test's keeper then ends the group */
        if (setpgid(0, w->pgid) != 0)
            _exit(3);
        if (ignore_term)
            signal(SIGTERM, SIG_IGN);
        for (;;)
            pause();
    }
    return pid;
}

/* Poll as command.c does (nothing to read here) until pid has ended; its wait status. */
static int run_until_dead(struct sl_watch *w, pid_t pid, double *took)
{
    int ws = 0;
    uint64_t t0 = sl_now_ns();
    while (waitpid(pid, &ws, WNOHANG) == 0) {
        cr_assert_lt(sl_now_ns() - t0, 10000000000u, "the member died within 10 s");
        usleep((useconds_t)sl_watch_wait_ms(w, sl_now_ns()) * 1000u + 1000u);
        sl_watch_check(w, sl_now_ns());
    }
    *took = (sl_now_ns() - t0) / 1e9;
    return ws;
}

Test(watch, none_does_nothing)
{
    struct sl_watch w = SL_WATCH_NONE;
    cr_assert_eq(sl_watch_wait_ms(&w, sl_now_ns()), 200, "the quiet check's period");
    cr_assert_eq(sl_watch_check(&w, UINT64_MAX), 0, "never times out");
    sl_watch_end(&w);
    cr_assert_eq(w.pgid, 0);
}

Test(watch, sigterm_at_the_deadline_then_sigkill_after_the_grace, .timeout = 30)
{
    struct sl_watch w;
    double took;
    cr_assert_eq(sl_watch_start(&w), 0);
    pid_t polite = member(&w, 0), stubborn = member(&w, 1);
    usleep(50000); /* both have joined the group */
    uint64_t t0 = sl_now_ns();
    sl_watch_arm(&w, polite, t0, 0.5);
    cr_assert_eq(sl_watch_wait_ms(&w, t0), 200, "far from the deadline: the quiet period");
    cr_assert_eq(sl_watch_wait_ms(&w, t0 + 470000000u), 30, "near it: poll wakes at the deadline");
    cr_assert_eq(sl_watch_wait_ms(&w, t0 + 600000000u), 0, "past it: at once");
    cr_assert_eq(sl_watch_check(&w, t0 + 499000000u), 0, "not yet");
    int ws = run_until_dead(&w, polite, &took);
    cr_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM, "the polite one got SIGTERM (%x)", ws);
    cr_assert(w.timed_out && took >= 0.45 && took < 0.9, "at the deadline: %.2f s", took);
    ws = run_until_dead(&w, stubborn, &took);
    cr_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL, "the stubborn one got SIGKILL (%x)", ws);
    cr_assert(took >= 0.5 && took < 3.0, "after the grace: %.2f s more", took);
    pid_t keeper = w.pgid;
    sl_watch_end(&w);
    cr_assert_eq(w.pgid, 0, "the watch is reset");
    cr_assert_eq(waitpid(keeper, NULL, WNOHANG), -1, "the keeper was reaped");
}

Test(watch, the_end_of_a_run_kills_what_is_left_in_the_group, .timeout = 30)
{
    struct sl_watch w;
    cr_assert_eq(sl_watch_start(&w), 0);
    pid_t keeper = w.pgid, left = member(&w, 1);
    usleep(50000);
    sl_watch_arm(&w, left, sl_now_ns(), 60);
    sl_watch_end(&w);
    int ws = 0;
    cr_assert_eq(waitpid(left, &ws, 0), left);
    cr_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL, "killed at the run's end (%x)", ws);
    cr_assert_eq(waitpid(keeper, NULL, WNOHANG), -1, "the keeper was reaped");
}
