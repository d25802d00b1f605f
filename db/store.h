/* store.h — every run and every timing, kept in SQLite. All SQL of scalelab lives in db/.
 *
 * A store is one SQLite connection (WAL, busy timeout, foreign keys on) guarded by a mutex,
 * so a handle may be shared by threads; the server opens one for its run queue (the only
 * writer of measurements) and one for the API's readers. Statements are prepared once per
 * handle. The schema carries a version (PRAGMA user_version) and is migrated on open.
 *
 * JSON goes in and out as Jansson values: the caller owns what a function returns ("new
 * reference"), and what it passes in stays the caller's.
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <jansson.h>
#include <stdint.h>

struct sl_store;

/* Run statuses, as stored. */
#define SL_RUN_QUEUED "queued"
#define SL_RUN_RUNNING "running"
#define SL_RUN_DONE "done"
#define SL_RUN_FAILED "failed"
#define SL_RUN_CANCELLED "cancelled"
#define SL_RUN_TIMED_OUT "timed_out"
#define SL_RUN_INTERRUPTED "interrupted"

/* Open (creating the file and its schema, or migrating an older one). Returns NULL with a
 * sentence in err on failure. Close with sl_store_close (accepts NULL). */
struct sl_store *sl_store_open(const char *path, char *err, size_t errlen);
void sl_store_close(struct sl_store *st);

/* The schema version this build writes. */
int sl_store_schema_version(void);

/* A new run in status "queued". job is the checked job (every default explicit); its
 * "workload" is stored in a column of its own for filtering. Sets *id. Returns 0 or a
 * negative SL_E* code. */
int sl_store_run_insert(struct sl_store *st, const json_t *job, double now, int64_t *id);

/* queued -> running: the engine's header line (host, plan, timer, calibration) and the
 * number of timed runs planned. Returns 0, -SL_ENOENT (no such run). */
int sl_store_run_start(struct sl_store *st, int64_t id, const json_t *header, int total,
                       double now);

/* Store one measurement line of the engine (the object with "type": "measurement") for a
 * run. Returns 0, -SL_EINVAL when a required field (seq, backend, cores, wall_ns, verified)
 * is missing or of the wrong type, -SL_ENOENT when the run does not exist. Measurements of
 * a run are unique by seq: storing the same seq twice replaces it. */
int sl_store_measurement_insert(struct sl_store *st, int64_t run_id, const json_t *m);

/* Group many inserts in one transaction (much faster). Every begin needs an end; end
 * commits. Returns 0 or a negative SL_E* code. */
int sl_store_begin(struct sl_store *st);
int sl_store_end(struct sl_store *st);

/* Any status -> a final one (done, failed, cancelled, timed_out, interrupted), with an
 * optional error sentence and the engine's summary line (may be NULL). Returns 0 or
 * -SL_ENOENT. */
int sl_store_run_finish(struct sl_store *st, int64_t id, const char *status, const char *error,
                        const json_t *summary, double now);

/* The run as an object: id, workload, status, error, job, header (or null), summary (or
 * null), total (planned timed runs), stored (measurements stored), created_at, started_at,
 * finished_at (unix seconds, null when not yet), best_speedup (the best measured speedup of
 * any backend but serial, from the summary; null without one). NULL when there is no such run. */
json_t *sl_store_run_get(struct sl_store *st, int64_t id);

/* The status of a run into buf (at least 16 bytes). Returns 0 or -SL_ENOENT. */
int sl_store_run_status(struct sl_store *st, int64_t id, char *buf, size_t len);

/* A run's measurements in seq order: an array of objects with the engine's field names
 * (busy_ns as an array), or NULL on error. */
json_t *sl_store_measurements(struct sl_store *st, int64_t run_id);

/* Runs, newest first, filtered by workload and/or status (NULL = any), without header,
 * summary or measurements. *total is the count before limit/offset. Returns an array, or
 * NULL on error. */
json_t *sl_store_runs_list(struct sl_store *st, const char *workload, const char *status,
                           int limit, int offset, int64_t *total);

/* The measurement fields the store keeps, in column order, NULL-terminated: the engine's
 * JSON keys (the CSV export's columns). Static; never freed. */
const char *const *sl_store_measurement_fields(void);

/* Delete a run and its measurements. Returns 0 or -SL_ENOENT. */
int sl_store_run_delete(struct sl_store *st, int64_t id);

/* At start-up: runs left "running" by a crash become "interrupted" (their measurements
 * stay). Returns how many, or a negative SL_E* code. */
int sl_store_interrupt_running(struct sl_store *st, double now, const char *error);

/* Ids of runs still "queued", oldest first, into ids (at most max). Returns the count or a
 * negative SL_E* code. */
int sl_store_queued(struct sl_store *st, int64_t *ids, int max);

/* Counts for /metrics: an object {"runs": {"queued": n, ...every status...},
 * "measurements": n}. NULL on error. */
json_t *sl_store_counts(struct sl_store *st);

/* PRAGMA integrity_check: 0 when "ok", else -SL_EIO with SQLite's first message in err. */
int sl_store_check(struct sl_store *st, char *err, size_t errlen);

#endif /* SL_STORE_H */
