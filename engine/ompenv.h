/* ompenv.h — keep OpenMP's idle threads from disturbing the other backends' runs.
 *
 * libgomp's workers spin after a parallel region (GOMP_SPINCOUNT, 300000 turns by default:
 * ~7.6 ms of a CPU on this project's 2-CPU VM) before they sleep. A `threads` run measured
 * right after an `openmp` run then shares its CPUs with that spinning, and looks up to twice
 * as slow. libgomp reads its settings once, when it is loaded, before main() runs, and offers
 * no call to change them later (omp_pause_resource_all is a no-op for the host in GCC 12), so
 * the engine sets a short spin in its own environment and executes itself again.
 */
#ifndef SL_OMPENV_H
#define SL_OMPENV_H

/* Spin turns before an idle OpenMP thread sleeps: ~0.05 ms of CPU, still longer than a
 * wavefront's phase, so barriers inside a run keep spinning instead of sleeping. */
#define SL_OMP_SPINCOUNT "1000"

/* When neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set (a user's own choice is kept),
 * set GOMP_SPINCOUNT=SL_OMP_SPINCOUNT and execv /proc/self/exe with argv. Returns only when
 * nothing had to be done (0) or the exec failed (-SL_ESYS: the run goes on, with libgomp's
 * default spinning). */
int sl_ompenv_settle(char **argv);

/* The variable that marks GOMP_SPINCOUNT as the engine's own setting, not the user's. */
#define SL_OMPENV_MARK "SCALELAB_OMPENV_SET"

/* 1 if the environment entry "NAME=value" is there only because sl_ompenv_settle put it
 * there (GOMP_SPINCOUNT and its mark), so that programs the engine runs for a user get the
 * environment the user gave it, not the engine's own tuning. */
int sl_ompenv_owned(const char *entry);

#endif /* SL_OMPENV_H */
