/* api.c — the REST API: one handler per route, listed in sl_routes (see docs/API.md).
 *
 * Jobs are checked by the engine's own job.c against this server's limits, so the API and
 * the CLI refuse the same things with the same sentences. A run's document (run, analysis,
 * measurements) is streamed from the store by export.c, its analysis cached by cache.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "export.h"
#include "job.h"
#include "server.h"
#include "sl.h"

static const char *const statuses[] = {SL_RUN_QUEUED,    SL_RUN_RUNNING,   SL_RUN_DONE,
                                       SL_RUN_FAILED,    SL_RUN_CANCELLED, SL_RUN_TIMED_OUT,
                                       SL_RUN_INTERRUPTED, NULL};

static int is_final(const char *status)
{
    return strcmp(status, SL_RUN_QUEUED) != 0 && strcmp(status, SL_RUN_RUNNING) != 0;
}

/* --- small handlers --- */

static enum MHD_Result health(struct sl_req *r)
{
    struct sl_server *srv = r->srv;
    int64_t running = sl_queue_running(srv->queue);
    json_t *o = json_pack("{sssssfs{siso}}", "status", "ok", "version", SL_VERSION, "uptime_s",
                          sl_queue_now() - srv->started, "queue", "length",
                          (int)sl_queue_length(srv->queue), "running",
                          running ? json_integer(running) : json_null());
    return sl_reply_json(r, 200, o);
}

static enum MHD_Result system_info(struct sl_req *r)
{
    struct sl_server *srv = r->srv;
    json_t *limits = json_pack("{sisisisfsisisi}", "max_cores", srv->cfg.max_cores,
                               "oversubscribe_max", 4 * srv->cfg.max_cores, "max_queue",
                               srv->cfg.max_queue, "run_timeout_s", srv->cfg.run_timeout,
                               "max_body_bytes", SL_MAX_BODY, "max_repeats", SL_MAX_REPEATS,
                               "max_warmup", SL_MAX_WARMUP);
    json_object_set_new(limits, "max_measurements", json_integer(SL_MAX_MEASUREMENTS));
    json_t *o = json_object();
    json_object_set(o, "host", srv->host);
    json_object_set_new(o, "limits", limits);
    /* Whether POST/DELETE need a bearer token, so a client can ask for it up front. */
    json_object_set_new(o, "token_required", json_boolean(srv->cfg.token[0] != '\0'));
    /* Whether ad-hoc "command" runs are accepted (--allow-commands). */
    json_object_set_new(o, "allow_commands", json_boolean(srv->cfg.allow_commands));
    json_t *fresh = sl_queue_calibration_latest(srv->queue); /* one made since start wins */
    json_object_set_new(o, "calibration", fresh                ? fresh
                                          : srv->have_calib ? sl_calibrate_to_json(&srv->calib)
                                                            : json_null());
    return sl_reply_json(r, 200, o);
}

static enum MHD_Result workloads(struct sl_req *r)
{
    return sl_reply_json(r, 200, json_pack("{sO}", "workloads", r->srv->workloads));
}

static enum MHD_Result backends(struct sl_req *r)
{
    return sl_reply_json(r, 200, json_pack("{sO}", "backends", r->srv->backends));
}

static enum MHD_Result programs(struct sl_req *r)
{
    return sl_reply_json(r, 200, sl_programs_list(r->srv->programs));
}

static enum MHD_Result openapi(struct sl_req *r)
{
    return sl_reply_body(r, 200, "application/json", r->srv->openapi, strlen(r->srv->openapi), 1,
                         NULL);
}

static enum MHD_Result metrics(struct sl_req *r)
{
    char *s = sl_metrics_text(r->srv);
    if (!s)
        return sl_reply_error(r, 500, "internal", "could not render the metrics");
    /* Copied, not handed over: when MHD cannot build the response, s is still ours. */
    enum MHD_Result ret = sl_reply_body(r, 200, "text/plain; version=0.0.4", s, strlen(s), 1, NULL);
    free(s);
    return ret;
}

/* --- runs --- */

static unsigned status_of_error(int rc, const char **code)
{
    switch (-rc) {
    case SL_ENOENT: *code = "unknown"; break;
    case SL_ELIMIT: *code = "limit"; break;
    case SL_EUNAVAIL: *code = "unavailable"; break;
    default: *code = "invalid"; break;
    }
    return 422;
}

/* 202 {"id", "status": "queued", "url"} with a Location header: what was queued. */
static enum MHD_Result reply_queued(struct sl_req *r, const char *prefix, int64_t id)
{
    char url[64];
    snprintf(url, sizeof url, "%s%lld", prefix, (long long)id);
    json_t *o = json_pack("{sIssss}", "id", (json_int_t)id, "status", SL_RUN_QUEUED, "url", url);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    struct MHD_Response *resp = s ? MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE)
                                  : NULL;
    if (!resp) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Location", url);
    return sl_reply_response(r, 202, resp);
}

static enum MHD_Result run_create(struct sl_req *r)
{
    struct sl_server *srv = r->srv;
    /* Content-Type, Origin and token were checked before the body was read (guard.c). */
    json_t *body;
    enum MHD_Result ret;
    if (sl_req_json_object(r, &body, &ret) != 0)
        return ret;
    struct sl_job job;
    struct sl_job_limits lim;
    char err[512], pfield[64] = "";
    int rc = 0;
    if (json_object_get(body, "command") && !srv->cfg.allow_commands) {
        json_decref(body);
        return sl_reply_error(r, 403, "forbidden",
                              "ad-hoc commands are off on this server: register the program in "
                              "its programs folder (GET /api/programs lists them), or start "
                              "scalelab-server with --allow-commands (loopback only, or with --token)");
    }
    if (json_object_get(body, "programs")) { /* registered programs: names and values only */
        json_t *pj = NULL;
        rc = sl_programs_job(srv->programs, body, &pj, err, sizeof err, pfield, sizeof pfield);
        json_decref(body);
        body = pj;
    }
    sl_job_limits_default(&lim);
    lim.max_cores = srv->cfg.max_cores;
    lim.oversubscribe_max = 4 * srv->cfg.max_cores;
    lim.hostfile = srv->cfg.mpi_hostfile; /* "" when the operator named none */
    if (rc == 0)
        rc = sl_job_from_json(body, &lim, &job, err, sizeof err);
    json_decref(body);
    if (rc) {
        const char *code, *field = pfield[0] ? pfield : sl_job_error_field();
        unsigned status = status_of_error(rc, &code);
        /* err quotes the client's text and may be cut mid-character: sl_reply_refusal trims
         * it; "field" lets a form show the message next to the field it concerns. */
        return sl_reply_refusal(r, status, code, field, err);
    }
    if (sl_queue_length(srv->queue) >= srv->cfg.max_queue)
        goto full;
    json_t *normal = sl_job_to_json(&job);
    sl_job_clear(&job);
    int64_t id = 0;
    rc = normal ? sl_store_run_insert(srv->writer, normal, sl_queue_now(), &id) : -SL_ENOMEM;
    json_decref(normal);
    if (rc)
        return sl_reply_error(r, 500, "internal", "the run could not be stored");
    if (sl_queue_submit(srv->queue, id) != 0) {
        sl_store_run_delete(srv->writer, id);
        goto full;
    }
    return reply_queued(r, "/api/runs/", id);
full: {
    struct MHD_Response *er = sl_error_response("queue_full", "the queue is full: retry later", NULL);
    if (er)
        MHD_add_response_header(er, "Retry-After", "30");
    return sl_reply_response(r, 429, er);
}
}

/* A whole number query argument in [min, max], default def. Returns 0 or -1 (bad). */
static int int_arg(struct sl_req *r, const char *name, long min, long max, long def, long *out)
{
    const char *s = sl_req_arg(r, name);
    char *end;
    if (!s) {
        *out = def;
        return 0;
    }
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static enum MHD_Result runs_list(struct sl_req *r)
{
    long limit, offset;
    if (int_arg(r, "limit", 1, 500, 50, &limit))
        return sl_reply_error(r, 422, "invalid", "limit must be a whole number from 1 to 500");
    if (int_arg(r, "offset", 0, 1000000000, 0, &offset))
        return sl_reply_error(r, 422, "invalid", "offset must be a whole number, 0 or more");
    const char *workload = sl_req_arg(r, "workload"), *status = sl_req_arg(r, "status");
    if (workload && !*workload)
        workload = NULL;
    if (status && !*status)
        status = NULL;
    if (status) {
        int ok = 0;
        for (int i = 0; statuses[i]; i++)
            ok |= strcmp(statuses[i], status) == 0;
        if (!ok)
            return sl_reply_error(r, 422, "invalid",
                                  "status must be one of queued, running, done, failed, "
                                  "cancelled, timed_out, interrupted");
    }
    int64_t total = 0;
    json_t *runs = sl_store_runs_list(r->srv->reader, workload, status, (int)limit, (int)offset, &total);
    if (!runs)
        return sl_reply_error(r, 500, "internal", "the runs could not be read");
    json_t *views = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(runs, i, v)
        json_array_append_new(views, sl_run_view(v));
    json_decref(runs);
    return sl_reply_json(r, 200, json_pack("{sosIsisi}", "runs", views, "total", (json_int_t)total,
                                           "limit", (int)limit, "offset", (int)offset));
}

static enum MHD_Result no_run(struct sl_req *r)
{
    return sl_reply_error(r, 404, "not_found", "there is no run %lld", (long long)r->id);
}

/* The run's document as a streamed response (export.c): its JSON for GET, its JSON or CSV
 * as an attachment for export. Server-Timing says whether the analysis was computed for
 * this request or came from the cache (computed once per measurement stored). */
static enum MHD_Result run_document(struct sl_req *r, enum sl_doc_format f,
                                    const char *disposition)
{
    int missing, cached;
    struct MHD_Response *resp = sl_run_document(r->srv, r->id, f, &missing, &cached);
    if (!resp)
        return missing ? no_run(r) : sl_reply_error(r, 500, "internal", "out of memory");
    if (f == SL_DOC_JSON)
        MHD_add_response_header(resp, "Server-Timing",
                                cached ? "analysis;desc=\"cached\"" : "analysis;desc=\"computed\"");
    if (disposition)
        MHD_add_response_header(resp, "Content-Disposition", disposition);
    return sl_reply_response(r, 200, resp);
}

static enum MHD_Result run_get(struct sl_req *r)
{
    return run_document(r, SL_DOC_JSON, NULL);
}

/* Prime a new listener with the run's stored status (under the hub's lock: keep it quick).
 * For a running run it comes first; an ended one's closes the stream after the stored
 * measurements, which the listener reads itself, a page at a time (backlog below). */
static void prime(void *ctx, int64_t id, struct sl_listener *l)
{
    struct sl_server *srv = ctx;
    json_t *stored = sl_store_run_get(srv->reader, id);
    if (!stored)
        return;
    const char *status = json_string_value(json_object_get(stored, "status"));
    json_t *st = json_pack("{sIsss{sOsO}sO}", "id", (json_int_t)id, "status", status,
                           "progress", "done", json_object_get(stored, "stored"), "total",
                           json_object_get(stored, "total"), "error", json_object_get(stored, "error"));
    if (st)
        sl_listener_send(l, "status", st, is_final(status));
    json_decref(st);
    json_decref(stored);
}

static json_t *backlog(void *ctx, int64_t id, int64_t after_seq, unsigned max)
{
    struct sl_server *srv = ctx;
    return sl_store_measurements_page(srv->reader, id, after_seq, (int)max);
}

static enum MHD_Result run_events(struct sl_req *r)
{
    char status[16], ip[64]; /* INET6_ADDRSTRLEN is 46 */
    if (sl_store_run_status(r->srv->reader, r->id, status, sizeof status) != 0)
        return no_run(r);
    sl_client_address(r->conn, ip, sizeof ip);
    int why = 0;
    struct sl_listener *l =
        sl_listener_new(r->srv->events, r->id, r->conn, ip, prime, backlog, r->srv, &why);
    if (!l && why == -SL_ENOMEM)
        return sl_reply_error(r, 500, "internal", "out of memory");
    if (!l) {
        /* 429: this client has enough streams open; 503: the server has. */
        int mine = why == -SL_ELIMIT;
        char msg[200];
        snprintf(msg, sizeof msg,
                 mine ? "this client already has %u live event streams open: close one first"
                      : "the server already serves %u live event streams: retry later",
                 mine ? r->srv->cfg.max_listeners_per_client : r->srv->cfg.max_listeners);
        struct MHD_Response *er = sl_error_response("too_many_listeners", msg, NULL);
        if (er)
            MHD_add_response_header(er, "Retry-After", "10");
        return sl_reply_response(r, mine ? 429 : 503, er);
    }
    return sl_reply_response(r, 200, sl_listener_response(l));
}

static enum MHD_Result run_cancel(struct sl_req *r)
{
    char status[16];
    if (sl_store_run_status(r->srv->reader, r->id, status, sizeof status) != 0)
        return no_run(r);
    if (is_final(status) || sl_queue_cancel(r->srv->queue, r->id, 2.0) != 0) {
        sl_store_run_status(r->srv->reader, r->id, status, sizeof status);
        return sl_reply_error(r, 409, "conflict", "run %lld has already ended (%s)",
                              (long long)r->id, status);
    }
    sl_store_run_status(r->srv->reader, r->id, status, sizeof status);
    return sl_reply_json(r, 202, json_pack("{sIss}", "id", (json_int_t)r->id, "status", status));
}

static enum MHD_Result run_delete(struct sl_req *r)
{
    char status[16];
    if (sl_store_run_status(r->srv->reader, r->id, status, sizeof status) != 0)
        return no_run(r);
    if (!is_final(status))
        return sl_reply_error(r, 409, "conflict", "run %lld is %s: cancel it first",
                              (long long)r->id, status);
    if (sl_store_run_delete(r->srv->writer, r->id) != 0)
        return no_run(r);
    sl_cache_forget(r->srv->analyses, r->id);
    sl_cache_forget(r->srv->documents, r->id);
    return sl_reply_body(r, 204, "application/json", "", 0, 1, NULL);
}

static enum MHD_Result run_export(struct sl_req *r)
{
    const char *format = sl_req_arg(r, "format");
    if (!format)
        format = "json";
    if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        return sl_reply_error(r, 422, "invalid", "format must be csv or json");
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"scalelab-run-%lld.%s\"", (long long)r->id,
             format);
    return run_document(r, strcmp(format, "csv") == 0 ? SL_DOC_CSV : SL_DOC_JSON, disp);
}

static enum MHD_Result compare(struct sl_req *r)
{
    const char *ids = sl_req_arg(r, "ids");
    int64_t list[10];
    int n = 0;
    if (!ids || !*ids)
        return sl_reply_error(r, 422, "invalid", "ids is required: 2 to 10 run ids such as ids=3,4");
    for (const char *p = ids; *p;) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 1 || (*end && *end != ','))
            return sl_reply_error(r, 422, "invalid", "ids must be run ids separated by commas, such as ids=3,4");
        if (n == 10)
            return sl_reply_error(r, 422, "invalid", "ids: at most 10 runs can be compared");
        list[n++] = v;
        p = *end ? end + 1 : end;
    }
    if (n < 2)
        return sl_reply_error(r, 422, "invalid", "ids: give at least 2 runs to compare");
    json_t *runs = json_array();
    for (int i = 0; i < n; i++) {
        json_t *stored = sl_store_run_get(r->srv->reader, list[i]);
        if (!stored) {
            json_decref(runs);
            return sl_reply_error(r, 404, "not_found", "there is no run %lld", (long long)list[i]);
        }
        int cached;
        json_t *a = sl_run_analysis(r->srv, stored, &cached);
        json_t *view = sl_run_view(stored);
        json_t *o = json_pack("{sOsOsOsOsOsOsO}", "id", json_object_get(view, "id"), "workload",
                              json_object_get(view, "workload"), "status",
                              json_object_get(view, "status"), "job", json_object_get(view, "job"),
                              "host", json_object_get(view, "host"), "points",
                              json_object_get(a, "points") ?: json_null(), "backends",
                              json_object_get(a, "backends") ?: json_null());
        json_array_append_new(runs, o);
        json_decref(view);
        json_decref(a);
        json_decref(stored);
    }
    return sl_reply_json(r, 200, json_pack("{so}", "runs", runs));
}

/* --- calibration --- */

/* POST /api/calibrate: queued like a run (it measures the machine, so never during a run). */
static enum MHD_Result calibrate_create(struct sl_req *r)
{
    /* Content-Type, Origin and token were checked before the body was read (guard.c). */
    if (r->body && r->len > 0) {
        json_t *body;
        enum MHD_Result ret;
        if (sl_req_json_object(r, &body, &ret) != 0)
            return ret;
        int empty = json_object_size(body) == 0;
        json_decref(body);
        if (!empty)
            return sl_reply_error(r, 400, "bad_json",
                                  "a calibration takes no options: send {} (or no body)");
    }
    int64_t id = sl_queue_calibrate(r->srv->queue);
    if (id < 0) {
        struct MHD_Response *er = sl_error_response("queue_full", "the queue is full: retry later", NULL);
        if (er)
            MHD_add_response_header(er, "Retry-After", "30");
        return sl_reply_response(r, 429, er);
    }
    return reply_queued(r, "/api/calibrate/", id);
}

static enum MHD_Result calibrate_get(struct sl_req *r)
{
    json_t *o = sl_queue_calibration(r->srv->queue, r->id);
    if (!o)
        return sl_reply_error(r, 404, "not_found",
                              "there is no calibration #%lld (the server keeps the last 16 since it started)",
                              (long long)r->id);
    return sl_reply_json(r, 200, o);
}

const struct sl_route sl_routes[] = {
    {"GET", "/api/health", health, 0},
    {"GET", "/api/system", system_info, 0},
    {"GET", "/api/workloads", workloads, 0},
    {"GET", "/api/backends", backends, 0},
    {"GET", "/api/programs", programs, 0},
    {"GET", "/api/openapi.json", openapi, 0},
    {"GET", "/metrics", metrics, 0},
    {"POST", "/api/runs", run_create, 1},
    {"GET", "/api/runs", runs_list, 0},
    {"GET", "/api/runs/{id}", run_get, 0},
    {"DELETE", "/api/runs/{id}", run_delete, 1},
    {"GET", "/api/runs/{id}/events", run_events, 0},
    {"POST", "/api/runs/{id}/cancel", run_cancel, 1},
    {"GET", "/api/runs/{id}/export", run_export, 0},
    {"GET", "/api/compare", compare, 0},
    {"POST", "/api/calibrate", calibrate_create, 1},
    {"GET", "/api/calibrate/{id}", calibrate_get, 0},
    {NULL, NULL, NULL, 0},
};
