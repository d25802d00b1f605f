/* paths.c — unique paths through an m x n grid: a wavefront with a barrier per diagonal.
 *
 * paths(i, j) = paths(i-1, j) + paths(i, j-1) (mod a prime): a cell needs its upper and left
 * neighbours, so only the cells of one anti-diagonal are independent. Phase d computes
 * diagonal d, and every worker must wait for all the others before the next diagonal: m+n-1
 * barriers per run, each a synchronisation cost that small diagonals cannot repay.
 * Only two diagonals are kept (indexed by row), so the data live in cache: this workload
 * measures synchronisation, not memory. The state is written by the workers, so it lives
 * in shared memory (the processes backend sees it too); ranks with memories of their own (mpi)
 * exchange the boundary cells of each diagonal (region and reads).
 */
#include <stdio.h>
#include <stdlib.h>

#include "sl.h"
#include "workload.h"

#define PRIME 1000000007u /* < 2^30: the sum of two residues fits in 32 bits */

struct paths_state {
    uint64_t m, n;     /* grid rows and columns */
    uint32_t *diag[2]; /* diagonals d-1 and d (by parity of d), indexed by row */
    size_t bytes;      /* size of one diagonal buffer */
};

/* Rows on diagonal d: [lo, hi]. */
SL_KERNEL_HELPER uint64_t diag_lo(const struct paths_state *s, uint64_t d)
{
    return d >= s->n ? d - (s->n - 1) : 0;
}

#ifdef SL_KERNEL_BUILD

SL_KERNEL_DECL(paths_kernel);

void SL_KERNEL_FN(paths_kernel)(void *st, unsigned phase, uint64_t begin, uint64_t end,
                                struct sl_partial *out)
{
    const struct paths_state *s = st;
    uint64_t d = phase, lo = diag_lo(s, d);
    uint32_t *cur = s->diag[d & 1];
    const uint32_t *prev = s->diag[(d + 1) & 1];
    uint64_t i0 = lo + begin, i1 = lo + end;
    (void)out;
    if (i0 == 0) { /* row 0: (0, d) is on the top edge */
        cur[0] = 1;
        i0 = 1;
    }
    if (i1 > i0 && i1 - 1 == d) { /* column 0: (d, 0) is on the left edge */
        cur[d] = 1;
        i1--;
    }
    SL_SIMD()
    for (uint64_t i = i0; i < i1; i++) {
        uint32_t v = prev[i - 1] + prev[i];
        cur[i] = v >= PRIME ? v - PRIME : v;
    }
}

#else

SL_KERNEL_DECL(paths_kernel);

static const struct sl_param params[] = {
    {"m", "grid rows", 20000, 1, 1e6, 1},
    {"n", "grid columns", 20000, 1, 1e6, 1},
};

static double paths_memory(const double *p)
{
    return 2.0 * p[0] * sizeof(uint32_t);
}

static int paths_setup(const double *p, void **state, struct sl_shape *shape)
{
    struct paths_state *s = calloc(1, sizeof *s);
    if (!s)
        return -SL_ENOMEM;
    s->m = (uint64_t)p[0];
    s->n = (uint64_t)p[1];
    s->bytes = s->m * sizeof(uint32_t);
    s->diag[0] = sl_mem_alloc(s->bytes, 1);
    s->diag[1] = sl_mem_alloc(s->bytes, 1);
    if (!s->diag[0] || !s->diag[1]) {
        sl_mem_free(s->diag[0], s->bytes);
        sl_mem_free(s->diag[1], s->bytes);
        free(s);
        return -SL_ENOMEM;
    }
    *state = s;
    *shape = (struct sl_shape){.work = s->m * s->n,
                               .unit = "cell",
                               .phases = (unsigned)(s->m + s->n - 1)};
    return 0;
}

static uint64_t paths_items(const void *st, unsigned phase)
{
    const struct paths_state *s = st;
    uint64_t d = phase, lo = diag_lo(s, d), hi = d < s->m ? d : s->m - 1;
    return hi - lo + 1;
}

static void paths_finish(void *st, struct sl_partial *r)
{
    const struct paths_state *s = st;
    r->count = s->diag[(s->m + s->n - 2) & 1][s->m - 1];
}

/* Diagonal d is stored by row: items [begin, end) are rows lo + begin .. lo + end - 1. */
static void *paths_region(void *st, unsigned phase, uint64_t begin, uint64_t end, size_t *bytes)
{
    struct paths_state *s = st;
    *bytes = (end - begin) * sizeof(uint32_t);
    return s->diag[phase & 1] + diag_lo(s, phase) + begin;
}

/* Row i of diagonal d + 1 reads rows i - 1 and i of diagonal d. */
static void paths_reads(const void *st, unsigned phase, uint64_t begin, uint64_t end,
                        uint64_t *rbegin, uint64_t *rend)
{
    const struct paths_state *s = st;
    uint64_t lo0 = diag_lo(s, phase), lo1 = diag_lo(s, phase + 1);
    uint64_t n0 = paths_items(s, phase);
    uint64_t first = lo1 + begin, last = lo1 + end; /* rows [first - 1, last) of diagonal d */
    uint64_t b = first > lo0 ? first - 1 - lo0 : 0, e = last > lo0 ? last - lo0 : 0;
    *rbegin = b < n0 ? b : n0;
    *rend = e < n0 ? e : n0;
    if (begin >= end)
        *rbegin = *rend;
}

static uint64_t powmod(uint64_t b, uint64_t e)
{
    uint64_t r = 1;
    for (b %= PRIME; e; e >>= 1, b = b * b % PRIME)
        if (e & 1)
            r = r * b % PRIME;
    return r;
}

/* C(m+n-2, m-1) mod PRIME: PRIME exceeds m+n, so no factor of it appears (no Lucas needed). */
static uint64_t binomial(uint64_t m, uint64_t n)
{
    uint64_t k = m - 1, top = m + n - 2, num = 1, den = 1;
    for (uint64_t i = 0; i < k; i++) {
        num = num * ((top - i) % PRIME) % PRIME;
        den = den * ((i + 1) % PRIME) % PRIME;
    }
    return num * powmod(den, PRIME - 2) % PRIME;
}

static int paths_verify(const void *st, const struct sl_partial *r, double *v, char *msg,
                        size_t len)
{
    const struct paths_state *s = st;
    uint64_t expect = binomial(s->m, s->n);
    *v = (double)r->count;
    if (r->count != expect) {
        snprintf(msg, len, "paths mod %u = %llu, closed form C(m+n-2, m-1) gives %llu", PRIME,
                 (unsigned long long)r->count, (unsigned long long)expect);
        return 0;
    }
    return 1;
}

static void paths_teardown(void *st)
{
    struct paths_state *s = st;
    if (!s)
        return;
    sl_mem_free(s->diag[0], s->bytes);
    sl_mem_free(s->diag[1], s->bytes);
    free(s);
}

const struct sl_workload sl_wl_paths = {
    .name = "paths",
    .title = "Unique grid paths",
    .lesson = "Dependencies: a wavefront over anti-diagonals needs a barrier per diagonal; "
              "synchronisation overhead caps the speedup, worst on small grids.",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .weak_param = 0,
    .flags = SL_WL_EXACT | SL_WL_WRITES,
    .memory = paths_memory,
    .setup = paths_setup,
    .items = paths_items,
    .kernel = {paths_kernel_scalar, paths_kernel_vector},
    .finish = paths_finish,
    .region = paths_region,
    .reads = paths_reads,
    .verify = paths_verify,
    .teardown = paths_teardown,
};

#endif
