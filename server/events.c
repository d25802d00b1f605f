/* events.c — Server-Sent Events over libmicrohttpd's suspend/resume.
 *
 * MHD pulls a stream through a content reader. With data pending it copies; at the end of
 * a run it ends the stream; otherwise it suspends its connection and returns 0 (never a
 * busy 0: the connection leaves the event loop until resumed). Whoever queues data resumes
 * the connection. One mutex guards every listener: events are few (one per measurement),
 * and a single lock makes "suspend unless data arrived meanwhile" race-free.
 * A keep-alive thread writes a comment to idle streams, which is also how a client that
 * went away is noticed (the write fails and MHD frees the response, and so the listener).
 */
#include "events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl.h"

struct sl_listener {
    struct sl_events *ev;          /* its hub */
    int64_t id;                    /* the run it follows */
    struct MHD_Connection *conn;   /* its connection (to resume) */
    char *buf;                     /* pending bytes are buf[off, len) */
    size_t off, len, cap;
    int64_t last_seq;              /* highest measurement seq queued (de-duplication) */
    int final;                     /* end the stream once buf drains */
    int suspended;                 /* the connection waits for data */
    struct sl_listener *prev, *next; /* the hub's list */
};

struct sl_events {
    pthread_mutex_t mu;            /* guards everything here and in every listener */
    pthread_cond_t cv;             /* wakes the keep-alive thread to stop */
    struct sl_listener *head;      /* registered listeners */
    unsigned count;                /* how many */
    unsigned keepalive_s;          /* interval of keep-alive comments */
    int stopping;                  /* 1: streams end, keep-alive thread exits */
    pthread_t thread;              /* the keep-alive thread */
};

/* Append raw bytes; on out of memory the stream ends rather than silently losing events. */
static void append(struct sl_listener *l, const char *s, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        while (cap < l->len + n)
            cap *= 2;
        char *b = realloc(l->buf, cap);
        if (!b) {
            l->final = 1;
            return;
        }
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void wake(struct sl_listener *l)
{
    if (l->suspended) {
        l->suspended = 0;
        MHD_resume_connection(l->conn);
    }
}

/* Queue an event; the caller holds the hub's lock. */
static void queue_event(struct sl_listener *l, const char *name, const json_t *data, int final)
{
    if (strcmp(name, "measurement") == 0) {
        json_int_t seq = json_integer_value(json_object_get(data, "seq"));
        if (seq <= l->last_seq)
            return; /* already sent from the store when the listener was primed */
        l->last_seq = seq;
    }
    char *text = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (text) {
        append(l, "event: ", 7);
        append(l, name, strlen(name));
        append(l, "\ndata: ", 7);
        append(l, text, strlen(text));
        append(l, "\n\n", 2);
        free(text);
    }
    if (final)
        l->final = 1;
    wake(l);
}

void sl_listener_send(struct sl_listener *l, const char *name, const json_t *data, int final)
{
    /* Called from prime(), under the hub's lock. */
    queue_event(l, name, data, final);
}

void sl_events_publish(struct sl_events *ev, int64_t id, const char *name, const json_t *data,
                       int final)
{
    pthread_mutex_lock(&ev->mu);
    for (struct sl_listener *l = ev->head; l; l = l->next)
        if (l->id == id)
            queue_event(l, name, data, final);
    pthread_mutex_unlock(&ev->mu);
}

static void *keepalive_main(void *arg)
{
    struct sl_events *ev = arg;
    pthread_mutex_lock(&ev->mu);
    while (!ev->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ev->keepalive_s;
        if (pthread_cond_timedwait(&ev->cv, &ev->mu, &ts) == 0)
            continue; /* woken: stopping, or spurious */
        for (struct sl_listener *l = ev->head; l; l = l->next)
            if (l->len == l->off && !l->final) {
                append(l, ": keep-alive\n\n", 14);
                wake(l);
            }
    }
    pthread_mutex_unlock(&ev->mu);
    return NULL;
}

struct sl_events *sl_events_new(unsigned keepalive_s)
{
    struct sl_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    pthread_mutex_init(&ev->mu, NULL);
    pthread_cond_init(&ev->cv, NULL);
    ev->keepalive_s = keepalive_s ? keepalive_s : 15;
    if (pthread_create(&ev->thread, NULL, keepalive_main, ev) != 0) {
        free(ev);
        return NULL;
    }
    return ev;
}

void sl_events_free(struct sl_events *ev)
{
    if (!ev)
        return;
    sl_events_end_all(ev);
    pthread_mutex_lock(&ev->mu);
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
    pthread_join(ev->thread, NULL);
    /* The daemon is normally stopped by now and every listener freed with its response. Any
     * left belong to a daemon still running: detach them, so their free callbacks do not
     * touch a freed hub. */
    pthread_mutex_lock(&ev->mu);
    for (struct sl_listener *l = ev->head; l; l = l->next)
        l->ev = NULL;
    pthread_mutex_unlock(&ev->mu);
    pthread_mutex_destroy(&ev->mu);
    pthread_cond_destroy(&ev->cv);
    free(ev);
}

void sl_events_end_all(struct sl_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    ev->stopping = 1;
    for (struct sl_listener *l = ev->head; l; l = l->next) {
        l->final = 1;
        wake(l);
    }
    pthread_mutex_unlock(&ev->mu);
}

struct sl_listener *sl_listener_new(struct sl_events *ev, int64_t id,
                                    struct MHD_Connection *conn,
                                    void (*prime)(void *ctx, struct sl_listener *l), void *ctx)
{
    struct sl_listener *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->ev = ev;
    l->id = id;
    l->conn = conn;
    l->last_seq = 0;
    pthread_mutex_lock(&ev->mu);
    l->next = ev->head;
    if (ev->head)
        ev->head->prev = l;
    ev->head = l;
    ev->count++;
    if (ev->stopping)
        l->final = 1;
    if (prime)
        prime(ctx, l);
    pthread_mutex_unlock(&ev->mu);
    return l;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sl_listener *l = cls;
    struct sl_events *ev = l->ev;
    ssize_t n;
    (void)pos;
    if (!ev)
        return MHD_CONTENT_READER_END_OF_STREAM;
    pthread_mutex_lock(&ev->mu);
    if (l->off < l->len) {
        size_t k = l->len - l->off < max ? l->len - l->off : max;
        memcpy(buf, l->buf + l->off, k);
        l->off += k;
        if (l->off == l->len)
            l->off = l->len = 0;
        n = (ssize_t)k;
    } else if (l->final) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        l->suspended = 1;
        MHD_suspend_connection(l->conn);
        n = 0;
    }
    pthread_mutex_unlock(&ev->mu);
    return n;
}

static void reader_free(void *cls)
{
    struct sl_listener *l = cls;
    struct sl_events *ev = l->ev;
    if (ev) {
        pthread_mutex_lock(&ev->mu);
        if (l->prev)
            l->prev->next = l->next;
        else if (ev->head == l)
            ev->head = l->next;
        if (l->next)
            l->next->prev = l->prev;
        ev->count--;
        pthread_mutex_unlock(&ev->mu);
    }
    free(l->buf);
    free(l);
}

struct MHD_Response *sl_listener_response(struct sl_listener *l)
{
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, l, reader_free);
    if (!r) {
        reader_free(l);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return r;
}

unsigned sl_events_listeners(struct sl_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    unsigned n = ev->count;
    pthread_mutex_unlock(&ev->mu);
    return n;
}
