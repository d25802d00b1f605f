/* sl.h — what every scalelab module shares: error codes, clocks, shared memory, limits.
 *
 * Functions across scalelab return 0 on success or a negative SL_E* code; sl_strerror()
 * turns one into a sentence. Constructors return NULL on failure. Every *_free accepts NULL.
 */
#ifndef SL_H
#define SL_H

#include <stddef.h>
#include <stdint.h>

#define SL_VERSION "0.1.0"

/* Error codes, returned negated (-SL_EINVAL). */
enum {
    SL_OK = 0,
    SL_EINVAL = 1,   /* a malformed argument or value */
    SL_ERANGE = 2,   /* a value outside its allowed range */
    SL_ENOENT = 3,   /* an unknown name (workload, backend, parameter, file) */
    SL_ENOMEM = 4,   /* out of memory */
    SL_EUNAVAIL = 5, /* a backend that cannot run on this host */
    SL_ESYS = 6,     /* a system call failed (see errno) */
    SL_EVERIFY = 7,  /* a result failed its verification */
    SL_EIO = 8,      /* reading or writing a file or pipe failed */
    SL_ELIMIT = 9,   /* a hard limit (memory, cores, run time) would be exceeded */
    SL_ECHILD = 10,  /* a worker process died or misbehaved */
    SL_E_COUNT
};

/* A sentence for an error code (positive or negative); never NULL, never freed. */
const char *sl_strerror(int err);

/* Hard limits on anything that comes from outside (CLI, job JSON, later the API). */
#define SL_MAX_WORKERS 1024u  /* cores / threads / processes one point may use */
#define SL_MAX_REPEATS 1000u
#define SL_MAX_WARMUP 100u
#define SL_MAX_POINTS 4096u   /* (backend, cores, size) points in one sweep */
#define SL_MAX_MEASUREMENTS 50000u /* timed runs of one sweep (points x repeats): what a run
                                    * stores, streams and analyses stays bounded */
#define SL_MAX_CORE_COUNTS 64u
#define SL_NAME_MAX 32u

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC). */
uint64_t sl_now_ns(void);

/* The timer's resolution: what clock_getres reports and the smallest non-zero step
 * actually observed between two successive reads, both in ns. */
void sl_timer_resolution(double *reported_ns, double *observed_ns);

/* Anonymous memory for workload data. shared != 0 maps it MAP_SHARED so that writes made
 * by forked worker processes are seen by the parent; otherwise it is private and asks for
 * transparent huge pages. Returns NULL on failure; free with sl_mem_free(p, bytes). */
void *sl_mem_alloc(size_t bytes, int shared);
void sl_mem_free(void *p, size_t bytes);

/* Number of CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned sl_cpus_allowed(void);

/* All of buf written to fd, retrying short writes and EINTR. On a socket a peer that has gone
 * is an error (errno EPIPE), never a SIGPIPE. Returns 0, or -1 with errno set. */
int sl_write_all(int fd, const void *buf, size_t len);

/* Exactly len bytes read from fd, retrying short reads and EINTR. Returns 0, or -1 on an
 * error or when the end of the file or connection comes first. */
int sl_read_all(int fd, void *buf, size_t len);

/* The static split of [0, n) among k workers: worker i gets [*begin, *end). The first
 * n % k workers get one item more, so shares differ by at most one. */
void sl_split(uint64_t n, unsigned k, unsigned i, uint64_t *begin, uint64_t *end);

#endif /* SL_H */
