/* queue.h — the run queue: runs (and calibrations) execute one at a time, each in its own
 * engine process.
 *
 * POST /api/runs stores a run as "queued" and submits its id; the queue thread takes runs in
 * order, starts `scalelab-engine run --job - --json` with execv (never a shell) in a process
 * group of its own, writes the job to its stdin, and stores every JSON line it prints as it
 * arrives, publishing each to live listeners. A run ends done, failed, cancelled, timed_out
 * or interrupted (the server stopping), with the reason in its error. One run at a time:
 * two runs measured at once would spoil each other's timings.
 */
#ifndef SL_QUEUE_H
#define SL_QUEUE_H

#include <stdint.h>

#include "events.h"
#include "store.h"

struct sl_queue;

struct sl_queue_opts {
    const char *engine;  /* path of scalelab-engine */
    unsigned max_queue;  /* runs waiting (not counting the running one) */
    double run_timeout;  /* seconds a run may take; 0 = unlimited */
};

/* A queue writing through st and publishing to ev (both outlive it). Its thread starts at
 * once. Returns NULL on failure. */
struct sl_queue *sl_queue_new(const struct sl_queue_opts *o, struct sl_store *st,
                              struct sl_events *ev);

/* Stop: the running engine is killed and its run marked interrupted; queued runs stay
 * queued in the store (they run after the next start). Frees the queue (accepts NULL). */
void sl_queue_free(struct sl_queue *q);

/* Enqueue a stored run. Returns 0, or -SL_ELIMIT when max_queue runs already wait. */
int sl_queue_submit(struct sl_queue *q, int64_t id);

/* Calibration states (GET /api/calibrate/{id}). */
#define SL_CALIB_QUEUED "queued"
#define SL_CALIB_RUNNING "running"
#define SL_CALIB_DONE "done"       /* accepted: saved, in force for later runs */
#define SL_CALIB_REFUSED "refused" /* the engine's sanity check failed: message says why */
#define SL_CALIB_FAILED "failed"   /* the engine could not measure: message says why */

/* Enqueue a calibration (`scalelab-engine calibrate --json`): it waits its turn like a run,
 * so it never measures while a run does. Returns its id (1, 2, ...), or -SL_ELIMIT when
 * max_queue entries already wait. Calibrations live in memory: the last 16 are kept. */
int64_t sl_queue_calibrate(struct sl_queue *q);

/* Calibration id as {"id", "status", "message", "calibration", "queued_at", "started_at",
 * "finished_at", "ahead"} (a new reference, caller decrefs), or NULL when it is unknown. */
json_t *sl_queue_calibration(struct sl_queue *q, int64_t id);

/* The last calibration accepted since the server started (a new reference), or NULL. */
json_t *sl_queue_calibration_latest(struct sl_queue *q);

/* Cancel a run: a waiting one is dropped from the queue and stored as cancelled; the
 * running one is killed (its whole process group) and stored as cancelled before this
 * returns (or after wait_s seconds at most). Returns 0, or -SL_ENOENT when the run is
 * neither waiting nor running. */
int sl_queue_cancel(struct sl_queue *q, int64_t id, double wait_s);

/* Runs waiting, and the running run's id (0 when idle). */
unsigned sl_queue_length(struct sl_queue *q);
int64_t sl_queue_running(struct sl_queue *q);

/* Wall-clock seconds (for stored timestamps). */
double sl_queue_now(void);

#endif /* SL_QUEUE_H */
