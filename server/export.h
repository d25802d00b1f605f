/* export.h — a run as a document, streamed: JSON (GET /api/runs/{id}, export?format=json)
 * or CSV (export?format=csv).
 *
 * A run can hold tens of thousands of measurements: its document is never built whole in
 * memory. The response reads the measurements from the store a page at a time as the
 * client takes them (a content reader), so that what a request holds is one page, whatever
 * the run's size. The JSON document is the run (as run views show it), its analysis, then
 * its measurements; the analysis comes from the cache (cache.h) when the run has not
 * stored a measurement since it was last computed.
 */
#ifndef SL_EXPORT_H
#define SL_EXPORT_H

#include <jansson.h>
#include <microhttpd.h>

#include "server.h"

enum sl_doc_format {
    SL_DOC_JSON, /* the run object with "analysis" and "measurements" */
    SL_DOC_CSV,  /* a header line of field names, then a row per measurement */
};

/* The stored run (sl_store_run_get) reshaped for clients: host and progress instead of
 * header and counts. A new reference. */
json_t *sl_run_view(const json_t *stored);

/* The analysis of a stored run (a new reference; JSON null when it cannot be computed),
 * from the cache when its measurements have not changed. *cached says which. */
json_t *sl_run_analysis(struct sl_server *srv, const json_t *stored, int *cached);

/* A response streaming run id's document, for the caller to add headers to and queue. NULL
 * with *missing = 1 when there is no such run, *missing = 0 when out of memory. *cached:
 * whether the analysis (JSON) came from the cache. */
struct MHD_Response *sl_run_document(struct sl_server *srv, int64_t id, enum sl_doc_format f,
                                     int *missing, int *cached);

#endif /* SL_EXPORT_H */
