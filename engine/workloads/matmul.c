/* matmul.c — dense matrix product C = A x B: compute-bound, with caches to respect.
 *
 * An item is a row of C. The kernel walks blocks of k and j so that a block of B stays in
 * the L2 cache while the rows of its range stream past; within them, a 4 x 16 tile of C is
 * held in registers for a whole k block, so each row of B loaded feeds four rows of
 * multiply-adds (vectorised over the 16 columns in the vector pass).
 * A and B hold small integers, so every product and partial sum is exact and C is the same
 * whatever the order of operations. The check is a weighted checksum sum_ij u_i v_j C_ij,
 * which equals sum_k (sum_i u_i A_ik)(sum_j v_j B_kj): O(n^2) to predict, exact in doubles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl.h"
#include "workload.h"

struct matmul_state {
    uint64_t n;       /* matrix order */
    double *a, *b, *c; /* n x n, row-major; c in shared memory (workers write it) */
    size_t bytes;     /* size of one matrix */
    double expect;    /* predicted weighted checksum of c */
};

#define BK 256 /* k block: an MR-row sliver of A and a BK x BJ block of B stay in cache */
#define BJ 512
#define MR 4   /* micro-tile of C kept in registers: MR rows x NR columns */
#define NR 16

SL_KERNEL_HELPER double weight_u(uint64_t i) { return (double)(i % 5 + 1); }
SL_KERNEL_HELPER double weight_v(uint64_t j) { return (double)(j % 3 + 1); }

#ifdef SL_KERNEL_BUILD

SL_KERNEL_DECL(matmul_kernel);

/* C[i][j0..j1) += A[i][k0..k1) B[k0..k1)[j0..j1) for rows [i0, i1): the plain loop, for edges. */
static void edge(const struct matmul_state *s, uint64_t i0, uint64_t i1, uint64_t k0,
                 uint64_t k1, uint64_t j0, uint64_t j1)
{
    const uint64_t n = s->n;
    for (uint64_t i = i0; i < i1; i++)
        for (uint64_t k = k0; k < k1; k++) {
            const double aik = s->a[i * n + k];
            const double *restrict bk = s->b + k * n;
            double *restrict ci = s->c + i * n;
            SL_SIMD()
            for (uint64_t j = j0; j < j1; j++)
                ci[j] += aik * bk[j];
        }
}

void SL_KERNEL_FN(matmul_kernel)(void *st, unsigned phase, uint64_t begin, uint64_t end,
                                 struct sl_partial *out)
{
    const struct matmul_state *s = st;
    const uint64_t n = s->n;
    const double *restrict a = s->a, *restrict b = s->b;
    double *restrict c = s->c;
    (void)phase;
    (void)out;
    memset(c + begin * n, 0, (end - begin) * n * sizeof(double));
    const uint64_t rows = begin + (end - begin) / MR * MR, cols = n / NR * NR;
    for (uint64_t kk = 0; kk < n; kk += BK) {
        uint64_t k1 = kk + BK < n ? kk + BK : n;
        for (uint64_t jj = 0; jj < cols; jj += BJ) {
            uint64_t j1 = jj + BJ < cols ? jj + BJ : cols;
            /* An MR x NR tile of C stays in registers across the k block; each row of B
             * loaded feeds MR rows of multiply-adds. */
            for (uint64_t i = begin; i < rows; i += MR)
                for (uint64_t j = jj; j < j1; j += NR) {
                    double acc[MR][NR];
                    for (unsigned r = 0; r < MR; r++)
                        for (unsigned q = 0; q < NR; q++)
                            acc[r][q] = c[(i + r) * n + j + q];
                    for (uint64_t k = kk; k < k1; k++) {
                        const double *restrict bk = b + k * n + j;
                        for (unsigned r = 0; r < MR; r++) {
                            const double ark = a[(i + r) * n + k];
                            SL_SIMD()
                            for (unsigned q = 0; q < NR; q++)
                                acc[r][q] += ark * bk[q];
                        }
                    }
                    for (unsigned r = 0; r < MR; r++)
                        for (unsigned q = 0; q < NR; q++)
                            c[(i + r) * n + j + q] = acc[r][q];
                }
        }
        edge(s, rows, end, kk, k1, 0, cols); /* rows that do not fill a tile */
        edge(s, begin, end, kk, k1, cols, n); /* columns that do not fill a tile */
    }
}

#else

SL_KERNEL_DECL(matmul_kernel);

static const struct sl_param params[] = {
    {"n", "matrix order (n x n doubles, three matrices)", 1024, 1, 16384, 1},
};

static double matmul_memory(const double *p)
{
    return 3.0 * p[0] * p[0] * sizeof(double);
}

static void matmul_free(struct matmul_state *s)
{
    if (!s)
        return;
    sl_mem_free(s->a, s->bytes);
    sl_mem_free(s->b, s->bytes);
    sl_mem_free(s->c, s->bytes);
    free(s);
}

static int matmul_setup(const double *p, void **state, struct sl_shape *shape)
{
    struct matmul_state *s = calloc(1, sizeof *s);
    if (!s)
        return -SL_ENOMEM;
    uint64_t n = s->n = (uint64_t)p[0];
    s->bytes = n * n * sizeof(double);
    s->a = sl_mem_alloc(s->bytes, 0);
    s->b = sl_mem_alloc(s->bytes, 0);
    s->c = sl_mem_alloc(s->bytes, 1);
    double *ua = calloc(n, sizeof(double)), *vb = calloc(n, sizeof(double));
    if (!s->a || !s->b || !s->c || !ua || !vb) {
        free(ua);
        free(vb);
        matmul_free(s);
        return -SL_ENOMEM;
    }
    /* Entries in [-4, 4] from a cheap hash of the position. */
    for (uint64_t i = 0; i < n; i++)
        for (uint64_t j = 0; j < n; j++) {
            uint64_t h = (i * 2654435761u + j * 40503u + 7) % 9;
            uint64_t g = (i * 97u + j * 2246822519u + 3) % 9;
            s->a[i * n + j] = (double)h - 4.0;
            s->b[i * n + j] = (double)g - 4.0;
        }
    for (uint64_t i = 0; i < n; i++)
        for (uint64_t k = 0; k < n; k++) {
            ua[k] += weight_u(i) * s->a[i * n + k];
            vb[i] += weight_v(k) * s->b[i * n + k];
        }
    for (uint64_t k = 0; k < n; k++)
        s->expect += ua[k] * vb[k];
    free(ua);
    free(vb);
    *state = s;
    double n3 = (double)n * (double)n * (double)n;
    /* Compulsory traffic only (A, B read, C written); blocking keeps the rest in cache. */
    *shape = (struct sl_shape){.work = (uint64_t)(2 * n3),
                               .unit = "flop",
                               .bytes = 3.0 * (double)s->bytes,
                               .flops = 2 * n3,
                               .phases = 1};
    return 0;
}

static uint64_t matmul_items(const void *st, unsigned phase)
{
    (void)phase;
    return ((const struct matmul_state *)st)->n;
}

static void matmul_finish(void *st, struct sl_partial *r)
{
    const struct matmul_state *s = st;
    double sum = 0;
    for (uint64_t i = 0; i < s->n; i++) {
        double row = 0;
        for (uint64_t j = 0; j < s->n; j++)
            row += weight_v(j) * s->c[i * s->n + j];
        sum += weight_u(i) * row;
    }
    r->sum = sum;
}

/* Row i of C is item i; finish() reads all of C, which ranks of their own memory gather. */
static void *matmul_region(void *st, unsigned phase, uint64_t begin, uint64_t end, size_t *bytes)
{
    struct matmul_state *s = st;
    (void)phase;
    *bytes = (end - begin) * s->n * sizeof(double);
    return s->c + begin * s->n;
}

static int matmul_verify(const void *st, const struct sl_partial *r, double *v, char *msg,
                         size_t len)
{
    const struct matmul_state *s = st;
    *v = r->sum;
    if (r->sum != s->expect) {
        snprintf(msg, len, "weighted checksum %.17g differs from the predicted %.17g", r->sum,
                 s->expect);
        return 0;
    }
    return 1;
}

static void matmul_teardown(void *st)
{
    matmul_free(st);
}

const struct sl_workload sl_wl_matmul = {
    .name = "matmul",
    .title = "Matrix product",
    .lesson = "Compute-bound: n^3 multiply-adds on n^2 data; scales with cores when the "
              "blocks fit in cache, the GPU's showcase.",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .weak_param = 0,
    .weak_power = 3,
    .flags = SL_WL_EXACT | SL_WL_WRITES,
    .memory = matmul_memory,
    .setup = matmul_setup,
    .items = matmul_items,
    .kernel = {matmul_kernel_scalar, matmul_kernel_vector},
    .finish = matmul_finish,
    .region = matmul_region,
    .verify = matmul_verify,
    .teardown = matmul_teardown,
};

#endif
