/* http.c — the HTTP side: libmicrohttpd daemon, a request's life, routing, replies, static
 * files, bearer-token check, access log and request metrics.
 *
 * libmicrohttpd calls the access handler several times per request: the first call only
 * allocates our request (answering then would lose keep-alive), the next ones hand over
 * the body in pieces, and the last one (no more data) is where the route runs. Bodies are
 * bounded; past the bound the rest is read and dropped and the request answered 413.
 * The daemon runs a pool of epoll threads; streams (SSE) suspend their connection instead
 * of blocking a thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"
#include "sl.h"

/* --- replies --- */

enum MHD_Result sl_reply_response(struct sl_req *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result sl_reply_body(struct sl_req *r, unsigned status, const char *type,
                              const char *body, size_t len, int copy, const char *disposition)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (disposition)
        MHD_add_response_header(resp, "Content-Disposition", disposition);
    return sl_reply_response(r, status, resp);
}

enum MHD_Result sl_reply_json(struct sl_req *r, unsigned status, json_t *json)
{
    char *s = json ? json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(json);
    if (!s)
        return sl_reply_body(r, 500, "application/json",
                             "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}",
                             58, 1, NULL);
    return sl_reply_body(r, status, "application/json", s, strlen(s), 0, NULL);
}

/* {"error": {"code", "message"}} as a response, for the caller to add headers to. */
struct MHD_Response *sl_error_response(const char *code, const char *msg)
{
    json_t *o = json_pack("{s{ssss}}", "error", "code", code, "message", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(s);
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return resp;
}

enum MHD_Result sl_reply_error(struct sl_req *r, unsigned status, const char *code,
                               const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_reply_response(r, status, sl_error_response(code, msg));
}

const char *sl_req_arg(struct sl_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* --- static files --- */

static const struct {
    const char *ext, *type;
} mime[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".ico", "image/x-icon"}, {".map", "application/json"}, {".txt", "text/plain; charset=utf-8"},
};

static const char *mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof mime / sizeof mime[0]; i++)
        if (strcmp(dot, mime[i].ext) == 0)
            return mime[i].type;
    return "application/octet-stream";
}

enum MHD_Result sl_serve_static(struct sl_req *r)
{
    const char *url = strcmp(r->url, "/") == 0 ? "/index.html" : r->url;
    char path[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
    r->route = "static";
    /* MHD has already decoded %xx: a ".." segment here is a real one. Refuse it outright,
     * and check the resolved path too (a symlink must not lead outside either). */
    if (strstr(url, "/..") || strstr(url, "\\") || strlen(url) > 512)
        return sl_reply_error(r, 404, "not_found", "no such file");
    snprintf(path, sizeof path, "%s%s", r->srv->cfg.static_dir, url);
    if (!realpath(r->srv->cfg.static_dir, root) || !realpath(path, real) ||
        strncmp(real, root, strlen(root)) != 0 || real[strlen(root)] != '/')
        return sl_reply_error(r, 404, "not_found", "no such file");
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return sl_reply_error(r, 404, "not_found", "no such file");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime_type(real));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return sl_reply_response(r, 200, resp);
}

/* --- routing --- */

/* Does url match pattern? "{id}" matches a positive decimal integer, stored in *id. */
static int match(const char *pattern, const char *url, int64_t *id)
{
    while (*pattern) {
        if (strncmp(pattern, "{id}", 4) == 0) {
            char *end;
            if (*url < '1' || *url > '9')
                return 0;
            errno = 0;
            long long v = strtoll(url, &end, 10);
            if (errno || end - url > 15)
                return 0;
            *id = v;
            url = end;
            pattern += 4;
            continue;
        }
        if (*pattern++ != *url++)
            return 0;
    }
    return *url == '\0';
}

/* Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
static int same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static enum MHD_Result dispatch(struct sl_req *r)
{
    char allow[64] = "";
    const struct sl_route *found = NULL;
    for (const struct sl_route *rt = sl_routes; rt->method; rt++) {
        int64_t id = 0;
        if (!match(rt->pattern, r->url, &id))
            continue;
        if (strcmp(rt->method, r->method) == 0 ||
            (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
            found = rt;
            r->id = id;
            break;
        }
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", rt->method);
    }
    if (!found) {
        if (allow[0]) {
            r->route = "method_not_allowed";
            char msg[128];
            snprintf(msg, sizeof msg, "%s is not allowed here; allowed: %s", r->method, allow);
            struct MHD_Response *resp = sl_error_response("method_not_allowed", msg);
            if (resp)
                MHD_add_response_header(resp, "Allow", allow);
            return sl_reply_response(r, 405, resp);
        }
        if (strncmp(r->url, "/api/", 5) == 0 || strcmp(r->url, "/api") == 0) {
            r->route = "not_found";
            return sl_reply_error(r, 404, "not_found", "no such endpoint: see /api/openapi.json");
        }
        if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
            return sl_serve_static(r);
        r->route = "not_found";
        return sl_reply_error(r, 404, "not_found", "no such resource");
    }
    r->route = found->pattern;
    if (r->too_large)
        return sl_reply_error(r, 413, "too_large", "the request body is larger than %d bytes",
                              SL_MAX_BODY);
    if (found->mutating && r->srv->cfg.token[0]) {
        const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
        if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !same_secret(auth + 7, r->srv->cfg.token)) {
            struct MHD_Response *resp = sl_error_response(
                "unauthorized", "this server needs 'Authorization: Bearer <token>' for changes");
            if (resp)
                MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
            return sl_reply_response(r, 401, resp);
        }
    }
    return found->handler(r);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload, size_t *upload_size, void **con_cls)
{
    struct sl_server *srv = cls;
    struct sl_req *r = *con_cls;
    (void)version;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->srv = srv;
        r->conn = conn;
        r->url = url;
        r->method = method;
        r->t0 = sl_now_ns();
        r->route = "other";
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_large && r->len + *upload_size > SL_MAX_BODY) {
            r->too_large = 1;
        } else if (!r->too_large) {
            if (r->len + *upload_size + 1 > r->cap) {
                size_t cap = r->cap ? r->cap : 1024;
                while (cap < r->len + *upload_size + 1)
                    cap *= 2;
                char *b = realloc(r->body, cap);
                if (!b)
                    return MHD_NO;
                r->body = b;
                r->cap = cap;
            }
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
            r->body[r->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(r);
}

/* --- completion: metrics and access log --- */

static const double bucket_le[SL_LATENCY_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1,    2.5};

static void record(struct sl_server *srv, const struct sl_req *r, double secs)
{
    struct sl_metrics *m = &srv->metrics;
    pthread_mutex_lock(&m->mu);
    unsigned i = 0;
    while (i < m->nslots && !(m->slot[i].status == r->status && m->slot[i].route == r->route &&
                              strcmp(m->slot[i].method, r->method) == 0))
        i++;
    if (i == m->nslots && m->nslots < SL_METRIC_SLOTS) {
        /* Methods outside the known set share one label, so a client cannot grow the table. */
        static const char *const known[] = {"GET", "HEAD", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"};
        const char *meth = "OTHER";
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            if (strcmp(known[k], r->method) == 0)
                meth = known[k];
        m->slot[i].method = meth;
        m->slot[i].route = r->route;
        m->slot[i].status = r->status;
        m->nslots++;
    }
    if (i < m->nslots)
        m->slot[i].count++;
    unsigned b = 0;
    while (b < SL_LATENCY_BUCKETS && secs > bucket_le[b])
        b++;
    m->buckets[b]++;
    m->sum_s += secs;
    m->count++;
    pthread_mutex_unlock(&m->mu);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct sl_server *srv = cls;
    struct sl_req *r = *con_cls;
    if (!r)
        return;
    double secs = (double)(sl_now_ns() - r->t0) * 1e-9;
    record(srv, r, secs);
    if (srv->cfg.access_log) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char ip[INET6_ADDRSTRLEN] = "-";
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ip,
                      sizeof ip);
        else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, ip,
                      sizeof ip);
        fprintf(stderr, "%s %s %s %u %.3f ms%s\n", ip, r->method, r->url, r->status, secs * 1e3,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    }
    free(r->body);
    free(r);
    *con_cls = NULL;
}

char *sl_metrics_text(struct sl_server *srv)
{
    struct sl_metrics *m = &srv->metrics;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    json_t *counts = sl_store_counts(srv->reader);
    fprintf(f, "# HELP scalelab_runs Runs by status.\n# TYPE scalelab_runs gauge\n");
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(counts, "runs"), key, v)
        fprintf(f, "scalelab_runs{status=\"%s\"} %lld\n", key, (long long)json_integer_value(v));
    fprintf(f, "# HELP scalelab_measurements_stored Measurements in the store.\n"
               "# TYPE scalelab_measurements_stored gauge\nscalelab_measurements_stored %lld\n",
            (long long)json_integer_value(json_object_get(counts, "measurements")));
    json_decref(counts);
    fprintf(f, "# HELP scalelab_queue_length Runs waiting to run.\n# TYPE scalelab_queue_length gauge\n"
               "scalelab_queue_length %u\n",
            sl_queue_length(srv->queue));
    fprintf(f, "# HELP scalelab_run_active 1 while a run executes.\n# TYPE scalelab_run_active gauge\n"
               "scalelab_run_active %d\n",
            sl_queue_running(srv->queue) ? 1 : 0);
    fprintf(f, "# HELP scalelab_event_listeners Live event streams.\n"
               "# TYPE scalelab_event_listeners gauge\nscalelab_event_listeners %u\n",
            sl_events_listeners(srv->events));
    pthread_mutex_lock(&m->mu);
    fprintf(f, "# HELP scalelab_http_requests_total HTTP requests answered.\n"
               "# TYPE scalelab_http_requests_total counter\n");
    for (unsigned i = 0; i < m->nslots; i++)
        fprintf(f, "scalelab_http_requests_total{method=\"%s\",route=\"%s\",code=\"%u\"} %llu\n",
                m->slot[i].method, m->slot[i].route, m->slot[i].status,
                (unsigned long long)m->slot[i].count);
    fprintf(f, "# HELP scalelab_http_request_duration_seconds Time to answer.\n"
               "# TYPE scalelab_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (unsigned b = 0; b < SL_LATENCY_BUCKETS; b++) {
        cum += m->buckets[b];
        fprintf(f, "scalelab_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[b],
                (unsigned long long)cum);
    }
    cum += m->buckets[SL_LATENCY_BUCKETS];
    fprintf(f, "scalelab_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
               "scalelab_http_request_duration_seconds_sum %.6f\n"
               "scalelab_http_request_duration_seconds_count %llu\n",
            (unsigned long long)cum, m->sum_s, (unsigned long long)m->count);
    pthread_mutex_unlock(&m->mu);
    fclose(f);
    return buf;
}

/* --- the daemon --- */

int sl_http_start(struct sl_server *srv, char *err, size_t errlen)
{
    struct sockaddr_in a4 = {0};
    struct sockaddr_in6 a6 = {0};
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, srv->cfg.listen_host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)srv->cfg.listen_port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, srv->cfg.listen_host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)srv->cfg.listen_port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "--listen: '%s' is not an IPv4 or IPv6 address", srv->cfg.listen_host);
        return -SL_EINVAL;
    }
    pthread_mutex_init(&srv->metrics.mu, NULL);
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)srv->cfg.listen_port, NULL, NULL, access_handler, srv,
        MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE, srv->cfg.threads,
        MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
        MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%u (in use, or not an address of this host?)",
                 srv->cfg.listen_host, srv->cfg.listen_port);
        return -SL_ESYS;
    }
    return 0;
}

unsigned sl_http_port(struct sl_server *srv)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : srv->cfg.listen_port;
}

void sl_http_stop(struct sl_server *srv)
{
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}
