/* catalog.c — the workloads and backends as JSON, for `list --json` and the server's API. */
#include "catalog.h"

#include "backend.h"
#include "job.h"
#include "workload.h"

json_t *sl_catalog_workloads(void)
{
    json_t *arr = json_array();
    for (const struct sl_workload *const *w = sl_workloads; *w; w++) {
        if (!sl_workload_visible(*w))
            continue;
        json_t *o = json_object(), *ps = json_array();
        for (unsigned i = 0; i < (*w)->nparams; i++) {
            const struct sl_param *p = &(*w)->params[i];
            json_t *j = json_object();
            json_object_set_new(j, "name", json_string(p->name));
            json_object_set_new(j, "meaning", json_string(p->meaning));
            json_object_set_new(j, "default", json_real(p->def));
            json_object_set_new(j, "min", json_real(p->min));
            json_object_set_new(j, "max", json_real(p->max));
            json_object_set_new(j, "integer", json_boolean(p->integer));
            json_object_set_new(j, "size", json_boolean(i == (*w)->weak_param));
            json_array_append_new(ps, j);
        }
        json_object_set_new(o, "name", json_string((*w)->name));
        json_object_set_new(o, "title", json_string((*w)->title));
        json_object_set_new(o, "lesson", json_string((*w)->lesson));
        json_object_set_new(o, "exact", json_boolean((*w)->flags & SL_WL_EXACT));
        json_object_set_new(o, "params", ps);
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *sl_catalog_backends(void)
{
    json_t *arr = json_array();
    for (const struct sl_backend *const *b = sl_backends; *b; b++) {
        char why[160] = "";
        int ok = (*b)->probe(why, sizeof why) == 0;
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string((*b)->name));
        json_object_set_new(o, "route", json_string((*b)->route));
        json_object_set_new(o, "how", json_string((*b)->how));
        json_object_set_new(o, "parallel", json_boolean((*b)->caps & SL_CAP_PARALLEL));
        json_object_set_new(o, "schedule", json_boolean((*b)->caps & SL_CAP_SCHEDULE));
        json_object_set_new(o, "affinity", json_boolean((*b)->caps & SL_CAP_AFFINITY));
        json_object_set_new(o, "variant", json_string((*b)->caps & SL_CAP_VARIANT
                                                          ? "any"
                                                          : sl_variant_name((*b)->variant)));
        json_object_set_new(o, "available", json_boolean(ok));
        json_object_set_new(o, "reason", ok ? json_null() : json_string(why));
        json_array_append_new(arr, o);
    }
    return arr;
}
