/* workload.c — the list of workloads and the parameter checks they share. */
#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl.h"

extern const struct sl_workload sl_wl_pi, sl_wl_sumsq, sl_wl_euler, sl_wl_paths, sl_wl_sleep,
    sl_wl_matmul, sl_wl_crash;

const struct sl_workload *const sl_workloads[] = {
    &sl_wl_pi,    &sl_wl_sumsq,  &sl_wl_euler, &sl_wl_paths,
    &sl_wl_sleep, &sl_wl_matmul, &sl_wl_crash, NULL,
};

int sl_workload_visible(const struct sl_workload *wl)
{
    const char *e;
    return !(wl->flags & SL_WL_TEST_ONLY) ||
           ((e = getenv("SCALELAB_TEST_WORKLOADS")) && strcmp(e, "1") == 0);
}

const struct sl_workload *sl_workload_find(const char *name)
{
    for (const struct sl_workload *const *w = sl_workloads; *w; w++)
        if (strcmp((*w)->name, name) == 0)
            return sl_workload_visible(*w) ? *w : NULL;
    return NULL;
}

int sl_workload_param_index(const struct sl_workload *wl, const char *name)
{
    for (unsigned i = 0; i < wl->nparams; i++)
        if (strcmp(wl->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

void sl_workload_defaults(const struct sl_workload *wl, double *values)
{
    for (unsigned i = 0; i < wl->nparams; i++)
        values[i] = wl->params[i].def;
}

int sl_workload_check_param(const struct sl_workload *wl, unsigned i, double v, char *msg,
                            size_t len)
{
    const struct sl_param *p = &wl->params[i];
    if (!isfinite(v)) {
        snprintf(msg, len, "%s.%s must be a finite number", wl->name, p->name);
        return -SL_EINVAL;
    }
    if (p->integer && v != floor(v)) {
        snprintf(msg, len, "%s.%s must be a whole number, got %g", wl->name, p->name, v);
        return -SL_EINVAL;
    }
    if (v < p->min || v > p->max) {
        snprintf(msg, len, "%s.%s = %g is out of range: allowed %g to %g", wl->name, p->name, v,
                 p->min, p->max);
        return -SL_ERANGE;
    }
    return 0;
}

void sl_workload_combine(const struct sl_workload *wl, struct sl_partial *acc,
                         const struct sl_partial *part)
{
    if (wl->combine) {
        wl->combine(acc, part);
        return;
    }
    acc->count += part->count;
    acc->sum += part->sum;
}
