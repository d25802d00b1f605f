/* catalog.h — what can be run here, as JSON: workloads with their parameters and lessons,
 * backends with their availability and, when unavailable, why.
 */
#ifndef SL_CATALOG_H
#define SL_CATALOG_H

#include <jansson.h>

/* [{"name", "title", "lesson", "exact", "params": [...]}]: the visible workloads (new
 * reference). */
json_t *sl_catalog_workloads(void);

/* [{"name", "route", "how", "parallel", "schedule", "affinity", "variant", "available",
 * "reason"}] (new reference). */
json_t *sl_catalog_backends(void);

#endif /* SL_CATALOG_H */
