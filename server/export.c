/* export.c — a run's document (JSON or CSV) streamed a page of measurements at a time.
 *
 * A document is a head, rows and a tail; a format is a const table of the three (formats[]).
 * One up to WHOLE_MAX bytes is sent whole; a bigger one is streamed: the content reader
 * refills its buffer with the next page of rows whenever the client has taken the previous
 * one, so a request never holds more than WHOLE_MAX and a page, and a run deleted meanwhile
 * simply ends its document early. The JSON document of an ended run, when sent whole, is
 * cached (a JSON string holds its bytes: Jansson's atomic reference count shares it between
 * requests, and each response copies it). The analysis is computed from the samples of
 * every measurement, read a page at a time too, and cached by (run, measurements stored).
 */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cache.h"
#include "sl.h"

#define PAGE 512                 /* measurements per page */
#define WHOLE_MAX (256 * 1024)   /* a document up to this size is sent whole */

json_t *sl_run_view(const json_t *stored)
{
    json_t *o = json_deep_copy(stored);
    json_t *header = json_object_get(o, "header");
    json_object_set(o, "host", header ? json_object_get(header, "host") ?: json_null() : json_null());
    if (json_object_get(header, "mpi_hosts")) /* where mpi ranks could run: hosts and slots */
        json_object_set(o, "mpi_hosts", json_object_get(header, "mpi_hosts"));
    json_object_set_new(o, "progress",
                        json_pack("{sOsO}", "done", json_object_get(o, "stored"), "total",
                                  json_object_get(o, "total")));
    json_object_del(o, "header");
    /* A run of programs keeps each point's last output (stdout and stderr tails) in its
     * summary: shown whole, since a program's own words are part of what was measured. */
    json_t *outputs = json_object_get(json_object_get(o, "summary"), "outputs");
    if (outputs)
        json_object_set(o, "outputs", outputs);
    json_object_del(o, "summary");
    json_object_del(o, "stored");
    json_object_del(o, "total");
    return o;
}

/* The samples of every measurement of run id, read a page at a time. Returns the array
 * (caller frees) and its length in *n, or NULL. */
static struct sl_sample *samples_of(struct sl_store *st, int64_t id, size_t *n)
{
    struct sl_sample *ss = NULL;
    size_t k = 0, cap = 0;
    int64_t after = INT64_MIN;
    for (;;) {
        json_t *page = sl_store_measurements_page(st, id, after, PAGE);
        size_t i, np = json_array_size(page);
        json_t *m;
        if (!page || k + np > cap) {
            size_t c = cap ? 2 * cap : PAGE;
            while (c < k + np)
                c *= 2;
            struct sl_sample *grown = page ? realloc(ss, c * sizeof *ss) : NULL;
            if (!grown) {
                json_decref(page);
                free(ss);
                return NULL;
            }
            ss = grown;
            cap = c;
        }
        json_array_foreach(page, i, m) {
            after = json_integer_value(json_object_get(m, "seq"));
            if (sl_sample_from_json(m, &ss[k]) == 0)
                k++;
        }
        json_decref(page);
        if (np < PAGE)
            break;
    }
    *n = k;
    return ss;
}

/* The cache key of what depends on a run's measurements and the calibration in force: the
 * calibrations accepted since start, and the measurements stored (at most
 * SL_MAX_MEASUREMENTS, far below 2^32). */
static int64_t cache_key(struct sl_server *srv, int64_t stored)
{
    return (int64_t)sl_queue_calibrations(srv->queue) << 32 | stored;
}

json_t *sl_run_analysis(struct sl_server *srv, const json_t *stored, int *cached)
{
    int64_t id = json_integer_value(json_object_get(stored, "id"));
    int64_t key = cache_key(srv, json_integer_value(json_object_get(stored, "stored")));
    json_t *out = sl_cache_get(srv->analyses, id, key);
    *cached = out != NULL;
    if (out)
        return out;
    size_t n = 0;
    struct sl_sample *ss = samples_of(srv->reader, id, &n);
    if (!ss)
        return json_null();
    const json_t *job = json_object_get(stored, "job");
    const char *scaling = json_string_value(json_object_get(job, "scaling"));
    /* A run of programs measures speedups against its group's baseline program. */
    const char *baseline = json_object_get(job, "programs")
                               ? json_string_value(json_object_get(job, "baseline")) : "serial";
    /* Compare with the calibration the engine reported for this run, else the last one
     * made since start, else this host's at start. */
    struct sl_calib c, latest;
    const struct sl_calib *calib = srv->have_calib ? &srv->calib : NULL;
    json_t *fresh = sl_queue_calibration_latest(srv->queue);
    if (fresh && sl_calibrate_from_json(&latest, fresh) == 0)
        calib = &latest;
    json_decref(fresh);
    const json_t *hc = json_object_get(json_object_get(stored, "header"), "calibration");
    if (json_is_object(hc) && sl_calibrate_from_json(&c, hc) == 0)
        calib = &c;
    struct sl_analysis *a = sl_analysis_new_baseline(ss, n, scaling && strcmp(scaling, "weak") == 0,
                                                     calib, baseline ? baseline : "");
    out = a ? sl_analysis_to_json(a) : NULL;
    sl_analysis_free(a);
    free(ss);
    if (!out)
        return json_null();
    /* Keyed by what was read before the samples: a measurement stored (or a calibration
     * accepted) in between only makes this an entry that the next request does not use. */
    sl_cache_put(srv->analyses, id, key, out);
    return out;
}

/* --- the streamed document --- */

struct doc;

/* A format: what comes before the rows, each row, and what comes after (into f). */
struct doc_format {
    const char *type;                                   /* Content-Type */
    void (*row)(const struct doc *d, FILE *f, const json_t *m); /* one measurement */
    const char *tail;                                   /* after the last row */
};

struct doc {
    struct sl_server *srv;          /* for the store */
    int64_t id;                     /* the run */
    const struct doc_format *fmt;   /* how it is written */
    int64_t after;                  /* seq of the last row written */
    size_t rows;                    /* rows written */
    int ended;                      /* the tail is in buf */
    char *buf;                      /* pending bytes: buf[off, len) */
    size_t off, len;
};

static void json_row(const struct doc *d, FILE *f, const json_t *m)
{
    /* One string and one write: json_dumpf writes token by token (a third of the time). */
    char *text = json_dumps(m, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (d->rows)
        fputc(',', f);
    if (text)
        fputs(text, f);
    free(text);
}

static void csv_value(FILE *f, const json_t *v)
{
    if (json_is_string(v)) {
        fputc('"', f);
        for (const char *p = json_string_value(v); *p; p++) {
            if (*p == '"')
                fputc('"', f);
            fputc(*p, f);
        }
        fputc('"', f);
    } else if (json_is_integer(v)) {
        fprintf(f, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        fprintf(f, "%.17g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "true" : "false", f);
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) {
            if (i)
                fputc(';', f);
            csv_value(f, x);
        }
    }
}

/* CSV: the store's measurement fields, in its order, are the columns. */
static void csv_row(const struct doc *d, FILE *f, const json_t *m)
{
    (void)d;
    const char *const *names = sl_store_measurement_fields();
    for (size_t k = 0; names[k]; k++) {
        if (k)
            fputc(',', f);
        csv_value(f, json_object_get(m, names[k]));
    }
    fputc('\n', f);
}

static const struct doc_format formats[] = {
    [SL_DOC_JSON] = {"application/json", json_row, "]}"},
    [SL_DOC_CSV] = {"text/csv; charset=utf-8", csv_row, ""},
};

/* Append the next page (or the tail) to the pending bytes of d->buf. Returns 0, or -1 when
 * the store fails. */
static int refill(struct doc *d)
{
    json_t *page = sl_store_measurements_page(d->srv->reader, d->id, d->after, PAGE);
    char *text = NULL;
    size_t n = 0;
    FILE *f = page ? open_memstream(&text, &n) : NULL;
    if (!f) {
        json_decref(page);
        return -1;
    }
    size_t i;
    json_t *m;
    json_array_foreach(page, i, m) {
        d->fmt->row(d, f, m);
        d->rows++;
        d->after = json_integer_value(json_object_get(m, "seq"));
    }
    if (json_array_size(page) < PAGE) {
        fputs(d->fmt->tail, f);
        d->ended = 1;
    }
    json_decref(page);
    if (fclose(f) != 0) {
        free(text);
        return -1;
    }
    if (d->off == d->len) { /* drained: the page replaces the buffer */
        free(d->buf);
        d->buf = text;
        d->off = 0;
        d->len = n;
        return 0;
    }
    char *b = realloc(d->buf, d->len + n);
    if (!b) {
        free(text);
        return -1;
    }
    memcpy(b + d->len, text, n);
    free(text);
    d->buf = b;
    d->len += n;
    return 0;
}

static ssize_t doc_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct doc *d = cls;
    (void)pos;
    while (d->off == d->len) {
        if (d->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (refill(d) != 0)
            return MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut document */
    }
    size_t k = d->len - d->off < max ? d->len - d->off : max;
    memcpy(out, d->buf + d->off, k);
    d->off += k;
    return (ssize_t)k;
}

static void doc_free(void *cls)
{
    struct doc *d = cls;
    if (!d)
        return;
    free(d->buf);
    free(d);
}

/* The document's head in d->buf: the JSON run up to its measurements, or the CSV header. */
static int head(struct doc *d, const json_t *stored, int *cached)
{
    FILE *f = open_memstream(&d->buf, &d->len);
    if (!f)
        return -1;
    if (d->fmt == &formats[SL_DOC_CSV]) {
        const char *const *names = sl_store_measurement_fields();
        for (size_t k = 0; names[k]; k++)
            fprintf(f, "%s%s", k ? "," : "", names[k]);
        fputc('\n', f);
    } else {
        json_t *view = sl_run_view(stored);
        json_object_set_new(view, "analysis", sl_run_analysis(d->srv, stored, cached));
        char *s = json_dumps(view, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_decref(view);
        if (!s) {
            fclose(f);
            return -1;
        }
        /* {...} becomes {...,"measurements":[ and the rows and "]}" follow. */
        fprintf(f, "%.*s,\"measurements\":[", (int)(strlen(s) - 1), s);
        free(s);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* The JSON document of an ended run, from the cache of documents, as a response; NULL when
 * it is not there. An ended run cannot change until it is deleted, and a deleted one may
 * still be cached by a request that built it meanwhile: the run must still exist. */
static struct MHD_Response *cached_document(struct sl_server *srv, int64_t id)
{
    char status[16];
    json_t *doc = sl_cache_get(srv->documents, id, cache_key(srv, 0));
    struct MHD_Response *r = NULL;
    if (doc && sl_store_run_status(srv->reader, id, status, sizeof status) == 0)
        r = MHD_create_response_from_buffer(json_string_length(doc),
                                            (void *)json_string_value(doc), MHD_RESPMEM_MUST_COPY);
    json_decref(doc);
    return r;
}

static int is_ended(const json_t *stored)
{
    const char *s = json_string_value(json_object_get(stored, "status"));
    return s && strcmp(s, SL_RUN_QUEUED) != 0 && strcmp(s, SL_RUN_RUNNING) != 0;
}

struct MHD_Response *sl_run_document(struct sl_server *srv, int64_t id, enum sl_doc_format f,
                                     int *missing, int *cached)
{
    *missing = 0;
    *cached = 0;
    struct MHD_Response *r = f == SL_DOC_JSON ? cached_document(srv, id) : NULL;
    if (r) {
        *cached = 1;
        goto headers;
    }
    json_t *stored = sl_store_run_get(srv->reader, id);
    if (!stored) {
        *missing = 1;
        return NULL;
    }
    struct doc *d = calloc(1, sizeof *d);
    if (!d) {
        json_decref(stored);
        return NULL;
    }
    *d = (struct doc){.srv = srv, .id = id, .fmt = &formats[f], .after = INT64_MIN};
    int64_t key = cache_key(srv, 0); /* before the analysis: see sl_run_analysis */
    int rc = head(d, stored, cached);
    int ended = is_ended(stored);
    json_decref(stored);
    /* A document that fits in WHOLE_MAX bytes goes out whole, with its length: streaming a
     * small one in chunks costs libmicrohttpd a round of its event loop per chunk (a GET of
     * 200 measurements went from 13,000 to 130 requests/s). Bigger ones stream. */
    while (rc == 0 && !d->ended && d->len < WHOLE_MAX)
        rc = refill(d);
    if (rc == 0 && d->ended) {
        /* An ended run's small document is kept: reading it again costs a copy. */
        if (ended && f == SL_DOC_JSON) {
            json_t *doc = json_stringn_nocheck(d->buf, d->len);
            if (doc)
                sl_cache_put(srv->documents, id, key, doc);
            json_decref(doc);
        }
        r = MHD_create_response_from_buffer(d->len, d->buf, MHD_RESPMEM_MUST_FREE);
        if (r)
            d->buf = NULL; /* the response owns it now */
    } else if (rc == 0) {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, doc_read, d, doc_free);
        if (r)
            d = NULL; /* the response owns it now */
    }
    doc_free(d);
    if (!r)
        return NULL;
headers:
    MHD_add_response_header(r, "Content-Type", formats[f].type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    return r;
}
