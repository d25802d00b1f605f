/* server.h — what the server's modules share: its configuration, its parts, a request.
 *
 * http.c owns the daemon and the life of a request (body, routing, replies, auth, access
 * log, metrics); api.c has one handler per route; main.c reads options and starts and stops
 * everything in order.
 */
#ifndef SL_SERVER_H
#define SL_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "calibrate.h"
#include "events.h"
#include "queue.h"
#include "store.h"

#define SL_MAX_BODY (64 * 1024)

struct sl_config {
    char listen_host[64];   /* address to bind (default 127.0.0.1) */
    unsigned listen_port;   /* port (0 = any free port) */
    char db[1024];          /* SQLite file */
    char static_dir[1024];  /* directory served at / */
    char engine[1024];      /* scalelab-engine to run */
    char token[256];        /* bearer token for mutating requests ("" = none) */
    unsigned max_cores;     /* cores a job may ask for without oversubscribe */
    unsigned max_queue;     /* runs that may wait */
    double run_timeout;     /* seconds per run, 0 = unlimited */
    unsigned threads;       /* HTTP worker threads */
    int access_log;         /* 1: a line per request on stderr */
    char mpi_hostfile[256]; /* the mpirun hostfile jobs may name ("" = none may) */
};

/* Counters for /metrics, per route and status. */
#define SL_METRIC_SLOTS 256
#define SL_LATENCY_BUCKETS 12
struct sl_metrics {
    pthread_mutex_t mu;                 /* guards the table */
    struct {
        const char *method, *route;     /* labels */
        unsigned status;
        uint64_t count;
    } slot[SL_METRIC_SLOTS];
    unsigned nslots;
    uint64_t buckets[SL_LATENCY_BUCKETS + 1]; /* request durations, cumulative at output */
    double sum_s;                       /* total duration */
    uint64_t count;                     /* requests */
};

struct sl_server {
    struct sl_config cfg;               /* configuration */
    struct sl_store *reader;            /* the API's connection */
    struct sl_store *writer;            /* the queue's connection */
    struct sl_events *events;           /* live events */
    struct sl_queue *queue;             /* the run queue */
    struct MHD_Daemon *daemon;          /* HTTP */
    json_t *host;                       /* host info (probed once) */
    json_t *workloads, *backends;       /* catalogues (built once) */
    struct sl_calib calib;              /* this host's calibration, when have_calib */
    int have_calib;
    const char *openapi;                /* the OpenAPI document */
    double started;                     /* unix time of start */
    struct sl_metrics metrics;          /* request counters */
    pthread_mutex_t cache_mu;           /* guards the cache of finished runs' bodies */
    struct {
        int64_t id;
        char *body;
        size_t len;
    } cache[64];
    unsigned cache_next;
};

/* A request being answered. */
struct sl_req {
    struct sl_server *srv;              /* the server */
    struct MHD_Connection *conn;        /* its connection */
    const char *method, *url;           /* as MHD gives them */
    char *body;                         /* the upload, NUL-terminated */
    size_t len, cap;
    int too_large;                      /* the upload passed SL_MAX_BODY */
    int64_t id;                         /* the {id} of the path, when the route has one */
    const char *route;                  /* the route's pattern (metrics label) */
    unsigned status;                    /* the status sent */
    uint64_t t0;                        /* when the request arrived */
};

/* Replies; each queues a response and returns MHD's result. json is stolen. */
enum MHD_Result sl_reply_json(struct sl_req *r, unsigned status, json_t *json);
enum MHD_Result sl_reply_body(struct sl_req *r, unsigned status, const char *type,
                              const char *body, size_t len, int copy, const char *disposition);
enum MHD_Result sl_reply_error(struct sl_req *r, unsigned status, const char *code,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
enum MHD_Result sl_reply_response(struct sl_req *r, unsigned status, struct MHD_Response *resp);
/* An {"error": {"code", "message"}} response, for a caller that adds headers. NULL on OOM. */
struct MHD_Response *sl_error_response(const char *code, const char *msg);

/* A query argument, or NULL. */
const char *sl_req_arg(struct sl_req *r, const char *name);

/* Routes (api.c). */
typedef enum MHD_Result (*sl_handler)(struct sl_req *r);
struct sl_route {
    const char *method;   /* GET, POST, DELETE */
    const char *pattern;  /* "/api/runs/{id}/cancel" */
    sl_handler handler;
    int mutating;         /* needs the token when one is set */
};
extern const struct sl_route sl_routes[];

/* Static files (http.c) for any GET that is not a route. */
enum MHD_Result sl_serve_static(struct sl_req *r);

/* Start and stop HTTP. Returns 0 or a negative SL_E* code with a sentence in err. */
int sl_http_start(struct sl_server *srv, char *err, size_t errlen);
void sl_http_stop(struct sl_server *srv);
/* The port actually bound. */
unsigned sl_http_port(struct sl_server *srv);

/* The metrics in Prometheus text format (caller frees). */
char *sl_metrics_text(struct sl_server *srv);

/* Forget the cached body of run id (deleted). */
void sl_cache_forget(struct sl_server *srv, int64_t id);

#endif /* SL_SERVER_H */
