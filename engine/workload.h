/* workload.h — what a workload is: a table of functions over an index range, backend-blind.
 *
 * A backend splits the index range [0, items) of each phase among its workers and calls
 * the kernel on each piece; a kernel adds what it computed for its piece into a partial
 * result. Partials of different workers are then combined. Workloads with dependencies
 * (the wavefront of `paths`) have several phases with a barrier between them: the backend
 * runs phase k over its range, waits for every worker, then runs phase k + 1.
 *
 * Each workload file is compiled three times (see the Makefile): its kernels once scalar
 * and once vector, and the rest once. SL_KERNEL_FN(name) names the kernel of the variant
 * being compiled; SL_KERNEL_DECL(name) declares both.
 */
#ifndef SL_WORKLOAD_H
#define SL_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

enum sl_variant {
    SL_SCALAR = 0,  /* compiled without auto-vectorisation */
    SL_VECTOR = 1,  /* compiled -O3 with omp simd and the host's widest vectors */
    SL_VARIANTS = 2
};

/* A (partial) result. Kernels add into it; the default combine adds both fields. */
struct sl_partial {
    uint64_t count; /* integer-valued results: hits, tasks done */
    double sum;     /* real-valued results: a sum, a checksum */
};

/* Compute items [begin, end) of phase `phase`, adding into *out. */
typedef void (*sl_kernel_fn)(void *state, unsigned phase, uint64_t begin, uint64_t end,
                             struct sl_partial *out);

/* A numeric parameter of a workload. */
struct sl_param {
    const char *name;    /* as given on the command line: samples=1e9 */
    const char *meaning; /* one line for humans */
    double def;          /* default */
    double min, max;     /* allowed range, inclusive */
    int integer;         /* 1 when the value must be a whole number */
};

#define SL_WL_MAX_PARAMS 6

/* What one run of a set-up workload does, for rates and bounds. */
struct sl_shape {
    uint64_t work;       /* units of useful work in one run (samples, elements, steps, cells, tasks) */
    const char *unit;    /* what a unit is called, singular ("sample") */
    double bytes;        /* bytes a run must move to or from memory (0 when it fits in cache) */
    double flops;        /* floating-point operations in one run */
    unsigned phases;     /* phases per run (1 unless the work has a wavefront) */
};

/* Workload flags. */
#define SL_WL_EXACT 1u  /* the result is bit-identical on every backend, core count and variant */
#define SL_WL_WRITES 2u /* kernels write into the state (it lives in shared memory for processes) */
#define SL_WL_TEST_ONLY 4u /* hidden unless SCALELAB_TEST_WORKLOADS=1 (tests of failure paths) */

struct sl_workload {
    const char *name;                  /* "pi" */
    const char *title;                 /* "Monte Carlo pi" */
    const char *lesson;                /* what it teaches, one line */
    const struct sl_param *params;     /* its parameters */
    unsigned nparams;
    unsigned weak_param;               /* the parameter weak scaling grows with the core count */
    double weak_power;                 /* work grows as weak_param^weak_power (0 means 1), so weak
                                        * scaling multiplies weak_param by p^(1/weak_power) */
    unsigned flags;                    /* SL_WL_* */
    /* Bytes setup would allocate for these parameters: checked against limits first. */
    double (*memory)(const double *params);
    /* Allocate and initialise the state (untimed). Returns 0 or a negative SL_E* code. */
    int (*setup)(const double *params, void **state, struct sl_shape *shape);
    /* Optional: first touch of the data of items [begin, end), run by the worker that will
     * later compute them (NUMA placement). */
    void (*touch)(void *state, uint64_t begin, uint64_t end);
    /* Number of items in phase `phase`. */
    uint64_t (*items)(const void *state, unsigned phase);
    sl_kernel_fn kernel[SL_VARIANTS];
    /* Optional: fold a worker's partial into the accumulator (default: add both fields). */
    void (*combine)(struct sl_partial *acc, const struct sl_partial *part);
    /* Optional: after all phases, complete the result from the state (e.g. read the last cell).
     * It may read only what the last phase wrote (see region). */
    void (*finish)(void *state, struct sl_partial *result);
    /* For backends whose workers have separate memories (mpi), needed by workloads whose
     * kernels write the state (SL_WL_WRITES). Where the results of items [begin, end) of
     * phase `phase` lie in the state: one block of *bytes bytes, the blocks of adjacent
     * ranges adjacent. The backend copies what the next phase reads (see reads) between
     * workers after each phase, and gathers the whole last phase into the state that
     * finish() reads. The workload says what moves; the backend decides how. */
    void *(*region)(void *state, unsigned phase, uint64_t begin, uint64_t end, size_t *bytes);
    /* With region, for workloads of several phases: the items [*rbegin, *rend) of phase
     * `phase` that items [begin, end) of phase + 1 read (the boundary cells of a wavefront). */
    void (*reads)(const void *state, unsigned phase, uint64_t begin, uint64_t end,
                  uint64_t *rbegin, uint64_t *rend);
    /* Check a result on its own terms. Sets *value to the figure a human reads (the estimate of
     * pi, the sum, the path count). Returns 1 if it verifies, else 0 with a reason in msg. */
    int (*verify)(const void *state, const struct sl_partial *result, double *value,
                  char *msg, size_t len);
    /* Free the state (accepts NULL). */
    void (*teardown)(void *state);
};

/* The workloads, NULL-terminated, in the order they are listed. */
extern const struct sl_workload *const sl_workloads[];

/* The workload called name, or NULL (also for a test-only workload that is not enabled). */
const struct sl_workload *sl_workload_find(const char *name);

/* 1 if wl is listed and accepted here: always, except test-only workloads, which need
 * SCALELAB_TEST_WORKLOADS=1 in the environment. */
int sl_workload_visible(const struct sl_workload *wl);

/* The index of parameter name in wl->params, or -1. */
int sl_workload_param_index(const struct sl_workload *wl, const char *name);

/* Fill values[] with the defaults. */
void sl_workload_defaults(const struct sl_workload *wl, double *values);

/* Check one value against its parameter's range and integrality. Returns 0 or -SL_ERANGE /
 * -SL_EINVAL with a message naming the parameter and the allowed range in msg. */
int sl_workload_check_param(const struct sl_workload *wl, unsigned i, double v, char *msg,
                            size_t len);

/* Combine part into acc with the workload's combine (or the default addition). */
void sl_workload_combine(const struct sl_workload *wl, struct sl_partial *acc,
                         const struct sl_partial *part);

/* Kernel naming across the three compilation passes. */
#define SL_KCAT_(a, b) a##b
#define SL_KCAT(a, b) SL_KCAT_(a, b)
#if defined(SL_KERNEL_BUILD) && SL_KERNEL_VECTOR
#define SL_KERNEL_FN(name) SL_KCAT(name, _vector)
#else
#define SL_KERNEL_FN(name) SL_KCAT(name, _scalar)
#endif
#define SL_KERNEL_DECL(name)                                                                  \
    void name##_scalar(void *, unsigned, uint64_t, uint64_t, struct sl_partial *);            \
    void name##_vector(void *, unsigned, uint64_t, uint64_t, struct sl_partial *)

/* A helper shared by the passes of a workload file: each pass uses only some of them, and
 * clang (unlike gcc) warns of an unused static inline function in a .c file. */
#define SL_KERNEL_HELPER static inline __attribute__((unused))

/* `omp simd` only where it is meant: in the vector pass. */
#if defined(SL_KERNEL_BUILD) && SL_KERNEL_VECTOR
#define SL_PRAGMA_(x) _Pragma(#x)
#define SL_SIMD(clauses) SL_PRAGMA_(omp simd clauses)
#else
#define SL_SIMD(clauses)
#endif

#endif /* SL_WORKLOAD_H */
