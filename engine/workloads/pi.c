/* pi.c — Monte Carlo estimate of pi: the embarrassingly parallel reduction.
 *
 * Sample i is the point (x, y) made of the two 32-bit halves of SplitMix64(seed + i * gamma):
 * a counter-based generator, so sample i is the same whoever computes it and the hit count
 * is bit-identical on every backend, core count and variant. The test x^2 + y^2 < 2^64 is
 * exact in 64-bit integers (x^2 <= ~(y^2)), so no rounding can make variants differ.
 * The vector pass has a hand-written AVX-512 kernel (8 samples per instruction, 64-bit
 * multiplies from AVX-512DQ) when the host has it, else what the compiler vectorises.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sl.h"
#include "workload.h"

#if defined(SL_KERNEL_BUILD) && SL_KERNEL_VECTOR && defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>
#define PI_AVX512 1
#endif

#define GAMMA 0x9e3779b97f4a7c15ull
#define MIX1 0xbf58476d1ce4e5b9ull
#define MIX2 0x94d049bb133111ebull

struct pi_state {
    uint64_t samples; /* number of points */
    uint64_t seed;    /* offset of the counter */
};

SL_KERNEL_HELPER uint64_t splitmix(uint64_t z)
{
    z = (z ^ (z >> 30)) * MIX1;
    z = (z ^ (z >> 27)) * MIX2;
    return z ^ (z >> 31);
}

SL_KERNEL_HELPER uint64_t hit(uint64_t z)
{
    uint64_t x = z >> 32, y = z & 0xffffffffu;
    return x * x <= ~(y * y);
}

#ifdef SL_KERNEL_BUILD

SL_KERNEL_DECL(pi_kernel);

void SL_KERNEL_FN(pi_kernel)(void *st, unsigned phase, uint64_t begin, uint64_t end,
                             struct sl_partial *out)
{
    const struct pi_state *s = st;
    uint64_t hits = 0, i = begin;
    (void)phase;
#ifdef PI_AVX512
    /* Two independent streams of 8 lanes hide the multiply latency. */
    const __m512i m1 = _mm512_set1_epi64((long long)MIX1), m2 = _mm512_set1_epi64((long long)MIX2);
    const __m512i step = _mm512_set1_epi64((long long)(16 * GAMMA));
    const __m512i ones = _mm512_set1_epi64(-1);
    __m512i ctr0 = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    __m512i ctr1 = _mm512_add_epi64(ctr0, _mm512_set1_epi64(8));
    const __m512i g = _mm512_set1_epi64((long long)GAMMA);
    const __m512i base = _mm512_set1_epi64((long long)(s->seed + begin * GAMMA));
    ctr0 = _mm512_add_epi64(base, _mm512_mullo_epi64(ctr0, g));
    ctr1 = _mm512_add_epi64(base, _mm512_mullo_epi64(ctr1, g));
    uint64_t n16 = (end - begin) / 16;
    for (uint64_t k = 0; k < n16; k++) {
        __m512i z0 = ctr0, z1 = ctr1;
        z0 = _mm512_mullo_epi64(_mm512_xor_si512(z0, _mm512_srli_epi64(z0, 30)), m1);
        z1 = _mm512_mullo_epi64(_mm512_xor_si512(z1, _mm512_srli_epi64(z1, 30)), m1);
        z0 = _mm512_mullo_epi64(_mm512_xor_si512(z0, _mm512_srli_epi64(z0, 27)), m2);
        z1 = _mm512_mullo_epi64(_mm512_xor_si512(z1, _mm512_srli_epi64(z1, 27)), m2);
        z0 = _mm512_xor_si512(z0, _mm512_srli_epi64(z0, 31));
        z1 = _mm512_xor_si512(z1, _mm512_srli_epi64(z1, 31));
        __m512i x0 = _mm512_srli_epi64(z0, 32), x1 = _mm512_srli_epi64(z1, 32);
        __m512i xx0 = _mm512_mul_epu32(x0, x0), xx1 = _mm512_mul_epu32(x1, x1);
        __m512i yy0 = _mm512_mul_epu32(z0, z0), yy1 = _mm512_mul_epu32(z1, z1);
        __mmask8 h0 = _mm512_cmple_epu64_mask(xx0, _mm512_xor_si512(yy0, ones));
        __mmask8 h1 = _mm512_cmple_epu64_mask(xx1, _mm512_xor_si512(yy1, ones));
        hits += (uint64_t)__builtin_popcount(h0) + (uint64_t)__builtin_popcount(h1);
        ctr0 = _mm512_add_epi64(ctr0, step);
        ctr1 = _mm512_add_epi64(ctr1, step);
    }
    i = begin + n16 * 16;
#endif
    SL_SIMD(reduction(+ : hits))
    for (uint64_t j = i; j < end; j++)
        hits += hit(splitmix(s->seed + j * GAMMA));
    out->count += hits;
}

#else /* the table and set-up, compiled once */

SL_KERNEL_DECL(pi_kernel);

static const struct sl_param params[] = {
    {"samples", "random points drawn in the unit square", 2e8, 1, 1e13, 1},
    {"seed", "offset of the counter-based generator", 0, 0, 1e15, 1},
};

static double pi_memory(const double *p)
{
    (void)p;
    return sizeof(struct pi_state);
}

static int pi_setup(const double *p, void **state, struct sl_shape *shape)
{
    struct pi_state *s = malloc(sizeof *s);
    if (!s)
        return -SL_ENOMEM;
    s->samples = (uint64_t)p[0];
    s->seed = (uint64_t)p[1] * GAMMA;
    *state = s;
    /* Per sample: 2 64-bit multiplies, 2 32x32 multiplies, shifts and xors; no memory
     * traffic and no floating point. */
    *shape = (struct sl_shape){.work = s->samples, .unit = "sample", .phases = 1};
    return 0;
}

static uint64_t pi_items(const void *state, unsigned phase)
{
    (void)phase;
    return ((const struct pi_state *)state)->samples;
}

static int pi_verify(const void *state, const struct sl_partial *r, double *value, char *msg,
                     size_t len)
{
    const struct pi_state *s = state;
    double n = (double)s->samples, p = (double)r->count / n;
    *value = 4.0 * p;
    /* The standard error of the estimate is 4 sqrt(q(1-q)/n) with q = pi/4. */
    double q = M_PI / 4, sigma = 4.0 * sqrt(q * (1 - q) / n);
    if (r->count > s->samples || fabs(*value - M_PI) > 5 * sigma) {
        snprintf(msg, len, "estimate %.9f is %.1f sigma from pi", *value,
                 fabs(*value - M_PI) / sigma);
        return 0;
    }
    return 1;
}

static void pi_teardown(void *state)
{
    free(state);
}

const struct sl_workload sl_wl_pi = {
    .name = "pi",
    .title = "Monte Carlo pi",
    .lesson = "Embarrassingly parallel: independent samples, one reduction at the end; "
              "scales with the cores until the cores run out.",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .weak_param = 0,
    .flags = SL_WL_EXACT,
    .memory = pi_memory,
    .setup = pi_setup,
    .items = pi_items,
    .kernel = {pi_kernel_scalar, pi_kernel_vector},
    .verify = pi_verify,
    .teardown = pi_teardown,
};

#endif /* SL_KERNEL_BUILD */
