/* events.h — live events of runs, fanned out to Server-Sent Events listeners.
 *
 * The run queue publishes (a status change, a stored measurement); each listener of that
 * run gets the event appended to its own buffer, and a connection that was suspended for
 * lack of data is resumed. A listener is registered and primed with what is already stored
 * under the hub's lock, so that nothing published meanwhile is lost, and measurements are
 * de-duplicated by seq.
 */
#ifndef SL_EVENTS_H
#define SL_EVENTS_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>

struct sl_events;
struct sl_listener;

/* A hub. keepalive_s: how often idle listeners get a comment line. NULL on failure. */
struct sl_events *sl_events_new(unsigned keepalive_s);
/* End every stream, resuming suspended connections: call before MHD_stop_daemon, which
 * cannot stop while connections are suspended. */
void sl_events_end_all(struct sl_events *ev);

/* Ends every stream and frees the hub (accepts NULL). */
void sl_events_free(struct sl_events *ev);

/* Publish an event for run id: name ("status", "measurement") and data (not stolen).
 * final != 0 ends the listeners' streams after this event. */
void sl_events_publish(struct sl_events *ev, int64_t id, const char *name, const json_t *data,
                       int final);

/* A listener for run id on connection conn. prime(ctx, listener) is called under the hub's
 * lock to queue what is already stored (sl_listener_send), so nothing can slip between.
 * Returns NULL on out of memory. */
struct sl_listener *sl_listener_new(struct sl_events *ev, int64_t id,
                                    struct MHD_Connection *conn,
                                    void (*prime)(void *ctx, struct sl_listener *l), void *ctx);

/* Queue an event on one listener (used while priming). final ends its stream after it. */
void sl_listener_send(struct sl_listener *l, const char *name, const json_t *data, int final);

/* The MHD response that streams a listener; it owns the listener from then on. */
struct MHD_Response *sl_listener_response(struct sl_listener *l);

/* Listeners currently connected (for /metrics). */
unsigned sl_events_listeners(struct sl_events *ev);

#endif /* SL_EVENTS_H */
