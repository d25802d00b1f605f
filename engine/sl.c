/* sl.c — error strings, clocks, shared memory and the static split used by every backend. */
#include "sl.h"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const messages[SL_E_COUNT] = {
    [SL_OK] = "success",
    [SL_EINVAL] = "invalid argument",
    [SL_ERANGE] = "value out of range",
    [SL_ENOENT] = "no such name",
    [SL_ENOMEM] = "out of memory",
    [SL_EUNAVAIL] = "backend not available on this host",
    [SL_ESYS] = "system call failed",
    [SL_EVERIFY] = "result failed verification",
    [SL_EIO] = "input/output error",
    [SL_ELIMIT] = "limit exceeded",
    [SL_ECHILD] = "worker process failed",
};

const char *sl_strerror(int err)
{
    if (err < 0)
        err = -err;
    if (err >= SL_E_COUNT)
        return "unknown error";
    return messages[err];
}

uint64_t sl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sl_timer_resolution(double *reported_ns, double *observed_ns)
{
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    *reported_ns = (double)res.tv_sec * 1e9 + (double)res.tv_nsec;

    /* The smallest non-zero difference between back-to-back reads, over many tries:
     * this is what a measurement can actually resolve (vDSO read cost included). */
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 2000; i++) {
        uint64_t a = sl_now_ns(), b;
        while ((b = sl_now_ns()) == a)
            ;
        if (b - a < best)
            best = b - a;
    }
    *observed_ns = (double)best;
}

void *sl_mem_alloc(size_t bytes, int shared)
{
    if (bytes == 0)
        bytes = 1;
    int flags = MAP_ANONYMOUS | (shared ? MAP_SHARED : MAP_PRIVATE);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    /* Huge pages keep fork() cheap for big private arrays (page tables to copy shrink
     * 512-fold) and cut TLB misses in the memory-bound kernels. */
    if (!shared)
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

void sl_mem_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes ? bytes : 1);
}

unsigned sl_cpus_allowed(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? (unsigned)n : 1;
}

void sl_split(uint64_t n, unsigned k, unsigned i, uint64_t *begin, uint64_t *end)
{
    uint64_t q = n / k, r = n % k;
    *begin = (uint64_t)i * q + (i < r ? i : r);
    *end = *begin + q + (i < r ? 1 : 0);
}

int sl_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = write(fd, p, len); /* a pipe: the caller chose what SIGPIPE does */
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int sl_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}
