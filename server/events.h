/* events.h — live events of runs, fanned out to Server-Sent Events listeners.
 *
 * The run queue publishes (a status change, a stored measurement); each listener of that
 * run gets the event appended to its own buffer, and a connection that was suspended for
 * lack of data is resumed. Everything is bounded: listeners in all and per client address,
 * and the bytes queued for one listener (one that falls further behind is dropped with a
 * final "dropped" event). A new listener first gets what is already stored a page at a time,
 * read outside the hub's lock only when its buffer has drained; live measurements are
 * never queued before that backlog is through, and measurements are de-duplicated by seq.
 */
#ifndef SL_EVENTS_H
#define SL_EVENTS_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>
#include <sys/types.h>

struct sl_events;
struct sl_listener;

/* Bounds, so that listeners cannot exhaust the server's memory. */
struct sl_events_limits {
    unsigned keepalive_s;   /* how often idle listeners get a comment line (0 = 15) */
    unsigned max_total;     /* listeners connected at once, all clients (0 = 256) */
    unsigned max_per_addr;  /* listeners connected at once from one client address (0 = 32) */
    size_t max_pending;     /* bytes queued for one listener before it is dropped (0 = 256 KiB) */
};

/* A hub. NULL on failure. */
struct sl_events *sl_events_new(const struct sl_events_limits *lim);
/* End every stream, resuming suspended connections: call before MHD_stop_daemon, which
 * cannot stop while connections are suspended. */
void sl_events_end_all(struct sl_events *ev);

/* Ends every stream and frees the hub (accepts NULL). */
void sl_events_free(struct sl_events *ev);

/* Publish an event for run id: name ("status", "measurement") and data (not stolen).
 * final != 0 ends the listeners' streams after this event. */
void sl_events_publish(struct sl_events *ev, int64_t id, const char *name, const json_t *data,
                       int final);

/* Where a listener's backlog comes from: the measurements of run id stored with a seq above
 * after_seq, in seq order, at most max of them (a new array; NULL on error, which ends the
 * stream). Called by the stream, outside the hub's lock, whenever its buffer has drained. */
typedef json_t *(*sl_backlog_fn)(void *ctx, int64_t id, int64_t after_seq, unsigned max);

/* A listener for run id on connection conn, from client address addr (the per-address cap).
 * prime(ctx, id, listener) is called under the hub's lock to queue the run's status as stored
 * (sl_listener_send), so that no status published meanwhile is missed; it must be quick.
 * The stored measurements then follow a page at a time from backlog(ctx, ...), outside the
 * lock, before any live one. Returns the listener, or NULL with *why: -SL_ELIMIT when
 * max_per_addr listeners of addr are connected, -SL_EUNAVAIL when max_total are, or
 * -SL_ENOMEM. */
struct sl_listener *sl_listener_new(struct sl_events *ev, int64_t id, struct MHD_Connection *conn,
                                    const char *addr, void (*prime)(void *ctx, int64_t id, struct sl_listener *l),
                                    sl_backlog_fn backlog, void *ctx, int *why);

/* Queue a status event on one listener (while priming). final ends its stream after it,
 * once the stored measurements have been sent. */
void sl_listener_send(struct sl_listener *l, const char *name, const json_t *data, int final);

/* What the stream's content reader does (MHD calls it through the response; the unit tests
 * call it directly): copy up to max pending bytes, or return MHD_CONTENT_READER_END_OF_STREAM
 * once the stream has ended, or suspend the connection and return 0 until there is more. */
ssize_t sl_listener_read(struct sl_listener *l, char *buf, size_t max);

/* Unregister and free a listener that never got a response (the response's end does it
 * otherwise). */
void sl_listener_free(struct sl_listener *l);

/* The MHD response that streams a listener; it owns the listener from then on. */
struct MHD_Response *sl_listener_response(struct sl_listener *l);

/* Listeners currently connected, and dropped for falling behind since start (/metrics). */
unsigned sl_events_listeners(struct sl_events *ev);
unsigned long sl_events_dropped(struct sl_events *ev);

#endif /* SL_EVENTS_H */
