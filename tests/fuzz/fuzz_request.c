/* fuzz_request.c — libFuzzer target: raw bytes sent to a real libmicrohttpd daemon running
 * the server's request path (http.c: request life and routing; guard.c: framing, Host,
 * Origin, Content-Type, token; jsonin.c; reply.c; static.c; accesslog.c; metrics.c) over
 * loopback, inside the fuzzer's process.
 *
 * The route table is this file's (api.c's handlers need the store and the queue); its
 * handlers use the same entry points as api.c's: the strict JSON body, the job parser, error
 * replies quoting the client's text, query arguments. Each input is one connection: the
 * input, then a request with "Connection: close" (libmicrohttpd 0.9.75 keeps a keep-alive
 * connection open after the client shuts its side, until the idle timeout; this makes it
 * close as soon as it has answered whatever the input was), answers read until it closes. A crash or sanitizer report in any
 * of that code, on the daemon's thread, stops the fuzzer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accesslog.h"
#include "job.h"
#include "server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_server srv;
static unsigned port;

static enum MHD_Result health(struct sl_req *r)
{
    return sl_reply_json(r, 200, json_pack("{ss}", "status", "ok"));
}

static enum MHD_Result create(struct sl_req *r)
{
    json_t *body;
    enum MHD_Result ret;
    struct sl_job job;
    struct sl_job_limits lim;
    char err[512];
    if (sl_req_json_object(r, &body, &ret) != 0)
        return ret;
    sl_job_limits_default(&lim);
    int rc = sl_job_from_json(body, &lim, &job, err, sizeof err);
    json_decref(body);
    if (rc)
        return sl_reply_refusal(r, 422, "invalid", sl_job_error_field(), err);
    return sl_reply_json(r, 202, sl_job_to_json(&job));
}

static enum MHD_Result list(struct sl_req *r)
{
    const char *w = sl_req_arg(r, "workload");
    return sl_reply_error(r, 422, "invalid", "no workload %s", w ? w : "(none)");
}

static enum MHD_Result one(struct sl_req *r)
{
    return sl_reply_error(r, 404, "not_found", "there is no run %lld", (long long)r->id);
}

static enum MHD_Result gone(struct sl_req *r)
{
    return sl_reply_body(r, 204, "application/json", "", 0, 1, NULL);
}

const struct sl_route sl_routes[] = {
    {"GET", "/api/health", health, 0},
    {"POST", "/api/runs", create, 1},
    {"GET", "/api/runs", list, 0},
    {"GET", "/api/runs/{id}", one, 0},
    {"DELETE", "/api/runs/{id}", gone, 1},
    {"POST", "/api/runs/{id}/cancel", one, 1},
    {NULL, NULL, NULL, 0},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/scalelab-fuzz-XXXXXX", path[600], err[256];
    (void)argc;
    (void)argv;
    if (!mkdtemp(dir))
        abort();
    snprintf(srv.cfg.static_dir, sizeof srv.cfg.static_dir, "%s", dir);
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs("<!doctype html><title>fuzz</title>\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/passwd", dir);
    if (symlink("/etc/passwd", path) != 0) /* a way out that must stay shut */
        abort();
    snprintf(srv.cfg.listen_host, sizeof srv.cfg.listen_host, "127.0.0.1");
    snprintf(srv.cfg.token, sizeof srv.cfg.token, "fuzz-token");
    snprintf(srv.cfg.allowed_hosts[0], sizeof srv.cfg.allowed_hosts[0], "scalelab.example");
    srv.cfg.n_allowed_hosts = 1;
    srv.cfg.threads = 1;
    srv.cfg.conn_timeout = 1;
    srv.cfg.access_log = 1;
    if (!(srv.log = sl_accesslog_open("/dev/null", 0, err, sizeof err)) ||
        sl_http_start(&srv, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_request: %s\n", err);
        abort();
    }
    port = sl_http_port(&srv);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in a = {0};
    char buf[65536];
    if (size > 16 * 1024)
        return 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return 0;
    }
    size_t off = 0;
    while (off < size) { /* the server may answer and close before all is sent */
        ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    static const char last[] = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Connection: close\r\n\r\n";
    send(fd, last, sizeof last - 1, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 2000) > 0 && read(fd, buf, sizeof buf) > 0)
        ;
    close(fd);
    return 0;
}
