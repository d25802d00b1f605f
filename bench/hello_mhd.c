/* hello_mhd.c — a bare libmicrohttpd server, the yardstick for scalelab-server's speed.
 *
 * It runs libmicrohttpd exactly as scalelab-server does (internal polling thread, epoll,
 * suspend/resume allowed, a thread pool of one thread per usable CPU, bound to 127.0.0.1,
 * the same per-connection memory pool)
 * and answers every GET with {"status":"ok"} from one persistent response made at start.
 * Whatever scalelab-server loses against this figure is the cost of its own code: routing,
 * JSON, SQLite, logging. bench/bench_server.sh runs both under wrk.
 *
 * Usage: hello_mhd [PORT]   (0 or nothing: any free port). Prints
 * "listening on http://127.0.0.1:PORT/" once ready; SIGINT or SIGTERM stops it cleanly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h" /* the pool size scalelab-server uses */

static const char ok_body[] = "{\"status\":\"ok\"}\n";
static const char bad_method_body[] =
    "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"only GET is answered\"}}\n";

struct answers {
    struct MHD_Response *ok;         /* 200 {"status":"ok"}, shared by every request */
    struct MHD_Response *bad_method; /* 405 for anything but GET/HEAD */
};

/* The number of CPUs this process may run on (its affinity mask), at least 1. */
static unsigned cpus_allowed(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

/* A persistent JSON response with its Content-Type, or NULL. */
static struct MHD_Response *json_response(const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") !=
                 MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* libmicrohttpd calls this at least twice per request. The first call only marks the
 * connection as seen: queueing a response then (before the headers are fully processed)
 * makes libmicrohttpd close the connection afterwards, losing keep-alive. The second call
 * answers. A request body (not expected: only GET is served) is read and dropped first,
 * since libmicrohttpd refuses a response queued while a body is still arriving. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    static int seen;
    const struct answers *a = cls;
    (void)url;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* a body: read and drop it, answer once it has all come */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
        return MHD_queue_response(conn, MHD_HTTP_OK, a->ok);
    return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, a->bad_method);
}

int main(int argc, char **argv)
{
    int rc = 1;
    struct MHD_Daemon *d = NULL;
    struct answers a = {NULL, NULL};
    long port = 0;

    if (argc > 2 || (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: %s [PORT]   (0 or nothing: any free port)\n", argv[0]);
        return argc == 2 ? 0 : 2;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        port = strtol(argv[1], &end, 10);
        if (errno || *end != '\0' || end == argv[1] || port < 0 || port > 65535) {
            fprintf(stderr, "hello_mhd: port must be a number from 0 to 65535, not \"%s\"\n",
                    argv[1]);
            return 2;
        }
    }

    /* Block the stop signals before any thread starts, so that libmicrohttpd's threads
     * inherit the mask and sigwait below is the only place they arrive. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
        fprintf(stderr, "hello_mhd: cannot block SIGINT/SIGTERM\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    a.ok = json_response(ok_body, sizeof ok_body - 1);
    a.bad_method = json_response(bad_method_body, sizeof bad_method_body - 1);
    if (!a.ok || !a.bad_method) {
        fprintf(stderr, "hello_mhd: cannot create the responses\n");
        goto out;
    }
    if (MHD_add_response_header(a.bad_method, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
        fprintf(stderr, "hello_mhd: cannot create the responses\n");
        goto out;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                             MHD_ALLOW_SUSPEND_RESUME,
                         (uint16_t)port, NULL, NULL, on_request, &a,
                         MHD_OPTION_THREAD_POOL_SIZE, cpus_allowed(),
                         MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&addr,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, SL_HTTP_POOL_BYTES,
                         MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hello_mhd: cannot listen on 127.0.0.1:%ld\n", port);
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        fprintf(stderr, "hello_mhd: cannot tell which port was bound\n");
        goto out;
    }
    printf("listening on http://127.0.0.1:%u/\n", (unsigned)info->port);
    fflush(stdout);

    int sig = 0;
    if (sigwait(&stop, &sig) != 0) {
        fprintf(stderr, "hello_mhd: sigwait failed\n");
        goto out;
    }
    rc = 0;
out:
    if (d)
        MHD_stop_daemon(d);
    if (a.ok)
        MHD_destroy_response(a.ok);
    if (a.bad_method)
        MHD_destroy_response(a.bad_method);
    return rc;
}
