/* http.c — the HTTP side: the libmicrohttpd daemon, a request's life, and routing.
 *
 * libmicrohttpd calls the access handler several times per request. The first call has
 * the headers but none of the body: the route is found and every check that needs only
 * headers runs there (guard.c: framing, Host, Origin, Content-Type, token), so a refused
 * request is answered before a byte of its body is read, with "Connection: close" (MHD
 * then drops the rest instead of reading it as a next request). Otherwise the first call
 * only allocates our request (answering then would lose keep-alive); the next ones hand
 * over the body in pieces, bounded by SL_MAX_BODY; the last one (no more data) runs the
 * route. The daemon runs a pool of epoll threads; streams (SSE) suspend their connection
 * instead of blocking a thread. Completion feeds the metrics and the access log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "guard.h"
#include "http.h"
#include "jsonin.h"
#include "server.h"
#include "sl.h"
#include "static.h"

const char *sl_req_arg(struct sl_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int sl_req_json_object(struct sl_req *r, json_t **out, enum MHD_Result *ret)
{
    char err[512];
    if (sl_jsonin_object(r->body, r->len, out, err, sizeof err) == 0)
        return 0;
    *ret = sl_reply_refusal(r, 400, "bad_json", NULL, err);
    return -1;
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

/* The route for r's method and URL, or NULL; allow gets the methods the URL has when the
 * method is not one of them. */
static const struct sl_route *route_of(struct sl_req *r, char *allow, size_t allowlen)
{
    allow[0] = '\0';
    for (const struct sl_route *rt = sl_routes; rt->method; rt++) {
        int64_t id = 0;
        if (!match(rt->pattern, r->url, &id))
            continue;
        if (strcmp(rt->method, r->method) == 0 ||
            (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
            r->id = id;
            return rt;
        }
        size_t used = strlen(allow);
        snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", rt->method);
    }
    return NULL;
}

/* A refusal, answered at once; the connection is closed after it. */
static enum MHD_Result refuse(struct sl_req *r, const struct sl_refusal *why)
{
    struct MHD_Response *resp = sl_error_response(why->code, why->message, NULL);
    if (resp) {
        if (why->header)
            MHD_add_response_header(resp, why->header, why->value);
        MHD_add_response_header(resp, "Connection", "close");
    }
    r->refused = 1;
    return sl_reply_response(r, why->status, resp);
}

/* The first call: headers only. Returns MHD_YES to go on reading, else what refuse() said
 * (r->refused set). */
static enum MHD_Result admit(struct sl_req *r, const char *version)
{
    struct sl_refusal why;
    char allow[64];
    if (sl_guard_framing(r->conn, version, SL_MAX_BODY, &why) != 0)
        return refuse(r, &why);
    r->found = route_of(r, allow, sizeof allow);
    if (sl_guard_request(&r->srv->cfg, r->conn, r->found && r->found->mutating, &why) != 0) {
        if (r->found)
            r->route = r->found->pattern;
        return refuse(r, &why);
    }
    return MHD_YES;
}

static enum MHD_Result dispatch(struct sl_req *r)
{
    const struct sl_route *found = r->found;
    if (!found) {
        char allow[64];
        route_of(r, allow, sizeof allow);
        if (allow[0]) {
            r->route = "method_not_allowed";
            char msg[128];
            snprintf(msg, sizeof msg, "%s is not allowed here; allowed: %s", r->method, allow);
            struct MHD_Response *resp = sl_error_response("method_not_allowed", msg, NULL);
            if (resp)
                MHD_add_response_header(resp, "Allow", allow);
            return sl_reply_response(r, 405, resp);
        }
        if (strncmp(r->url, "/api/", 5) == 0 || strcmp(r->url, "/api") == 0) {
            r->route = "not_found";
            return sl_reply_error(r, 404, "not_found", "no such endpoint: see /api/openapi.json");
        }
        if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
            return sl_static_serve(r);
        r->route = "not_found";
        return sl_reply_error(r, 404, "not_found", "no such resource");
    }
    r->route = found->pattern;
    if (r->too_large) /* a chunked body that passed the bound */
        return sl_reply_error(r, 413, "too_large", "the request body is larger than %d bytes",
                              SL_MAX_BODY);
    return found->handler(r);
}

/* Append a piece of the body. 0, or -1 when memory runs out. */
static int take_body(struct sl_req *r, const char *upload, size_t size)
{
    if (r->too_large || r->len + size > SL_MAX_BODY) {
        r->too_large = 1;
        return 0;
    }
    if (r->len + size + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + size + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b)
            return -1;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, upload, size);
    r->len += size;
    r->body[r->len] = '\0';
    return 0;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload, size_t *upload_size, void **con_cls)
{
    struct sl_server *srv = cls;
    struct sl_req *r = *con_cls;
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
        return admit(r, version);
    }
    if (r->refused) { /* answered already; what still arrives is dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        if (take_body(r, upload, *upload_size) != 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(r);
}

/* --- completion: metrics and access log --- */

static void client_address(struct MHD_Connection *conn, char *ip, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(ip, len, "-");
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ip,
                  (socklen_t)len);
    else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, ip,
                  (socklen_t)len);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct sl_server *srv = cls;
    struct sl_req *r = *con_cls;
    if (!r)
        return;
    double secs = (double)(sl_now_ns() - r->t0) * 1e-9;
    sl_metrics_record(&srv->metrics, r->method, r->route, r->status, secs);
    if (srv->log) {
        char ip[INET6_ADDRSTRLEN] = "-";
        client_address(conn, ip, sizeof ip);
        sl_accesslog_write(srv->log, ip, r->method, r->url, r->status, secs * 1e3,
                           toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
    }
    free(r->body);
    free(r);
    *con_cls = NULL;
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
    sl_metrics_init(&srv->metrics);
    /* The idle timeout bounds how long garbage, a half-sent request or a silent client can
     * hold a connection (MHD 0.9.75 has no separate header timeout); suspended connections
     * (SSE) are not subject to it. The pool bounds the request line and headers (see
     * http.h). */
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)srv->cfg.listen_port, NULL, NULL, access_handler, srv,
        MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE, srv->cfg.threads,
        MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
        srv->cfg.conn_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, SL_HTTP_POOL_BYTES,
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
