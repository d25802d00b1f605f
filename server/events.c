/* events.c — Server-Sent Events over libmicrohttpd's suspend/resume.
 *
 * MHD pulls a stream through a content reader. With data pending it copies; at the end of
 * a run it ends the stream; otherwise it suspends its connection and returns 0 (never a
 * busy 0: the connection leaves the event loop until resumed). Whoever queues data resumes
 * the connection. One mutex guards every listener: events are few (one per measurement),
 * and a single lock makes "suspend unless data arrived meanwhile" race-free.
 * A keep-alive thread writes a comment to idle streams, which is also how a client that
 * went away is noticed (the write fails and MHD frees the response, and so the listener).
 *
 * Memory is bounded. A new listener reads the stored measurements (its backlog) a page at a
 * time, from the content reader, outside the lock, and only when its buffer has drained:
 * however long the run, priming costs one page. While the backlog lasts, live measurements
 * are not queued (they are stored before they are published, so a later page has them; a
 * page that comes back empty while one was published is read again), and a final status is
 * held until the backlog is through. After that, live events are queued up to max_pending
 * bytes; a listener further behind than that is dropped with a final "dropped" event
 * instead of growing: a client can reconnect and gets the backlog again.
 */
#include "events.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sl.h"

#define BACKLOG_PAGE 64 /* stored measurements read per page of a listener's backlog */

static void reader_free(void *cls);

struct sl_listener {
    struct sl_events *ev;          /* its hub (NULL once the hub is gone) */
    int64_t id;                    /* the run it follows */
    struct MHD_Connection *conn;   /* its connection (to resume) */
    char addr[48];                 /* its client's address (per-address cap) */
    char *buf;                     /* pending bytes are buf[off, len) */
    size_t off, len, cap;
    int64_t last_seq;              /* highest measurement seq queued (de-duplication) */
    int final;                     /* end the stream once buf drains */
    int suspended;                 /* the connection waits for data */
    int backlogging;               /* stored measurements are still to be read */
    int live_seen;                 /* a measurement was published during a backlog read */
    json_t *held;                  /* a final status held until the backlog is through */
    sl_backlog_fn backlog;         /* reads the backlog */
    void *ctx;                     /* backlog's context */
    struct sl_listener *prev, *next; /* the hub's list */
};

struct sl_events {
    pthread_mutex_t mu;            /* guards everything here and in every listener */
    pthread_cond_t cv;             /* wakes the keep-alive thread to stop */
    struct sl_listener *head;      /* registered listeners */
    unsigned count;                /* how many */
    unsigned long dropped;         /* listeners dropped for falling behind */
    struct sl_events_limits lim;   /* bounds (defaults filled in) */
    int stopping;                  /* 1: streams end, keep-alive thread exits */
    pthread_t thread;              /* the keep-alive thread */
};

/* Append raw bytes (the caller checked the bound); on out of memory the stream ends rather
 * than silently losing events. */
static void append(struct sl_listener *l, const char *s, size_t n)
{
    if (l->off && l->len + n > l->cap) { /* reuse the drained front first */
        memmove(l->buf, l->buf + l->off, l->len - l->off);
        l->len -= l->off;
        l->off = 0;
    }
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

/* "event: name\ndata: json\n\n" (caller frees), or NULL when out of memory. */
static char *render(const char *name, const json_t *data, size_t *n)
{
    char *text = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(17));
    char *out = NULL;
    if (text) {
        size_t tl = strlen(text), nl = strlen(name);
        *n = 7 + nl + 7 + tl + 2;
        out = malloc(*n + 1);
        if (out)
            snprintf(out, *n + 1, "event: %s\ndata: %s\n\n", name, text);
        free(text);
    }
    return out;
}

/* The listener fell more than max_pending bytes behind: end its stream with one last event
 * saying so, after what is already queued (whole events). */
static void drop(struct sl_listener *l)
{
    size_t n;
    json_t *why = json_pack("{sIss}", "id", (json_int_t)l->id, "reason",
                            "this listener fell too far behind the run and was dropped; "
                            "reconnect to resume from what is stored");
    char *text = why ? render("dropped", why, &n) : NULL;
    if (text)
        append(l, text, n);
    free(text);
    json_decref(why);
    l->final = 1;
    l->ev->dropped++;
    fprintf(stderr, "scalelab-server: dropped a live event listener of run %lld from %s: it fell "
                    "%zu bytes behind\n", (long long)l->id, l->addr, l->ev->lim.max_pending);
    wake(l);
}

/* Queue an event; the caller holds the hub's lock. bounded: 0 while the backlog is read
 * (a page only follows a drained buffer). */
static void queue_event(struct sl_listener *l, const char *name, const json_t *data, int final,
                        int bounded)
{
    if (l->final)
        return; /* the stream is ending: nothing goes after its last event */
    if (strcmp(name, "measurement") == 0) {
        json_int_t seq = json_integer_value(json_object_get(data, "seq"));
        if (l->backlogging && bounded) {
            l->live_seen = 1; /* stored already: a backlog page will have it */
            return;
        }
        if (seq <= l->last_seq)
            return; /* already sent from the store */
        l->last_seq = seq;
    } else if (final && l->backlogging) {
        json_decref(l->held);
        l->held = json_incref((json_t *)data);
        return;
    }
    size_t n;
    char *text = render(name, data, &n);
    if (!text) {
        l->final = 1;
    } else if (bounded && l->len - l->off + n > l->ev->lim.max_pending) {
        free(text);
        drop(l);
        return;
    } else {
        append(l, text, n);
        free(text);
    }
    if (final)
        l->final = 1;
    wake(l);
}

void sl_listener_send(struct sl_listener *l, const char *name, const json_t *data, int final)
{
    /* Called from prime(), under the hub's lock. */
    queue_event(l, name, data, final, 1);
}

void sl_events_publish(struct sl_events *ev, int64_t id, const char *name, const json_t *data,
                       int final)
{
    pthread_mutex_lock(&ev->mu);
    for (struct sl_listener *l = ev->head; l; l = l->next)
        if (l->id == id)
            queue_event(l, name, data, final, 1);
    pthread_mutex_unlock(&ev->mu);
}

/* Read the next page of the backlog into the buffer; called by the reader with the lock
 * held, which it releases while the store is read. */
static void read_backlog(struct sl_listener *l)
{
    struct sl_events *ev = l->ev;
    int64_t after = l->last_seq;
    l->live_seen = 0;
    pthread_mutex_unlock(&ev->mu);
    json_t *page = l->backlog(l->ctx, l->id, after, BACKLOG_PAGE);
    pthread_mutex_lock(&ev->mu);
    if (!page) {
        l->final = 1; /* cannot read the store: end rather than skip measurements */
        return;
    }
    size_t i;
    json_t *m;
    json_array_foreach(page, i, m)
        queue_event(l, "measurement", m, 0, 0);
    if (json_array_size(page) == 0 && !l->live_seen) {
        l->backlogging = 0;
        if (l->held) {
            queue_event(l, "status", l->held, 1, 0);
            json_decref(l->held);
            l->held = NULL;
        }
    }
    json_decref(page);
}

static void *keepalive_main(void *arg)
{
    struct sl_events *ev = arg;
    pthread_mutex_lock(&ev->mu);
    while (!ev->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ev->lim.keepalive_s;
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

struct sl_events *sl_events_new(const struct sl_events_limits *lim)
{
    struct sl_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    pthread_mutex_init(&ev->mu, NULL);
    pthread_cond_init(&ev->cv, NULL);
    ev->lim = *lim;
    if (!ev->lim.keepalive_s)
        ev->lim.keepalive_s = 15;
    if (!ev->lim.max_total)
        ev->lim.max_total = 256;
    if (!ev->lim.max_per_addr)
        ev->lim.max_per_addr = 32;
    if (!ev->lim.max_pending)
        ev->lim.max_pending = 256 * 1024;
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

struct sl_listener *sl_listener_new(struct sl_events *ev, int64_t id, struct MHD_Connection *conn,
                                    const char *addr, void (*prime)(void *ctx, int64_t id, struct sl_listener *l),
                                    sl_backlog_fn backlog, void *ctx, int *why)
{
    struct sl_listener *l = calloc(1, sizeof *l);
    if (!l) {
        *why = -SL_ENOMEM;
        return NULL;
    }
    l->ev = ev;
    l->id = id;
    l->conn = conn;
    snprintf(l->addr, sizeof l->addr, "%s", addr ? addr : "");
    l->backlog = backlog;
    l->ctx = ctx;
    l->backlogging = backlog != NULL;
    pthread_mutex_lock(&ev->mu);
    unsigned same = 0;
    for (struct sl_listener *o = ev->head; o; o = o->next)
        same += strcmp(o->addr, l->addr) == 0;
    *why = same >= ev->lim.max_per_addr ? -SL_ELIMIT
           : ev->count >= ev->lim.max_total ? -SL_EUNAVAIL
           : 0;
    if (*why) {
        pthread_mutex_unlock(&ev->mu);
        free(l);
        return NULL;
    }
    l->next = ev->head;
    if (ev->head)
        ev->head->prev = l;
    ev->head = l;
    ev->count++;
    if (ev->stopping)
        l->final = 1;
    if (prime)
        prime(ctx, id, l);
    pthread_mutex_unlock(&ev->mu);
    return l;
}

ssize_t sl_listener_read(struct sl_listener *l, char *buf, size_t max)
{
    struct sl_events *ev = l->ev;
    ssize_t n;
    if (!ev)
        return MHD_CONTENT_READER_END_OF_STREAM;
    pthread_mutex_lock(&ev->mu);
    while (l->off == l->len && !l->final && l->backlogging)
        read_backlog(l);
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

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    return sl_listener_read(cls, buf, max);
}

void sl_listener_free(struct sl_listener *l)
{
    reader_free(l);
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
    json_decref(l->held);
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

unsigned long sl_events_dropped(struct sl_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    unsigned long n = ev->dropped;
    pthread_mutex_unlock(&ev->mu);
    return n;
}

unsigned sl_events_listeners(struct sl_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    unsigned n = ev->count;
    pthread_mutex_unlock(&ev->mu);
    return n;
}
