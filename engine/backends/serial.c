/* serial.c — the one-core backends: `serial` (scalar kernel, the baseline) and `simd`
 * (vector kernel: what Numba's @vectorize or NumPy buy on one core). Both are the same plain
 * loop over every phase in the calling thread; only the compiled kernel differs.
 */
#include <stdio.h>

#include "backend.h"
#include "sl.h"

static int one_core_run(const struct sl_exec *x, struct sl_timing *t)
{
    uint64_t t0 = sl_now_ns();
    struct sl_worker_rec rec;
    if (x->workers != 1) {
        sl_backend_set_error("runs on exactly one core, asked for %u", x->workers);
        return -SL_EINVAL;
    }
    sl_work_static(x, 0, NULL, NULL, &rec);
    sl_timing_collect(x, t0, &rec, t);
    return 0;
}

const struct sl_backend sl_be_serial = {
    .name = "serial",
    .route = "stands for a plain Python loop; here scalar C on one core, the baseline",
    .how = "C: one loop on one core, scalar kernel compiled without auto-vectorisation",
    .caps = 0,
    .variant = SL_SCALAR,
    .probe = sl_probe_always,
    .run = one_core_run,
};

const struct sl_backend sl_be_simd = {
    .name = "simd",
    .route = "stands for Numba @vectorize / NumPy; here vectorised C on one core",
    .how = "C: one loop on one core, vector kernel (-O3, omp simd, widest vectors)",
    .caps = 0,
    .variant = SL_VECTOR,
    .probe = sl_probe_always,
    .run = one_core_run,
};
