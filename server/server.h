/* server.h — what the server's modules share: its configuration, its parts, a request.
 *
 * http.c owns the daemon, the life of a request and routing; guard.c the checks a request
 * must pass before a handler runs; reply.c every answer; jsonin.c strict JSON bodies;
 * static.c the dashboard's files; accesslog.c and metrics.c what is recorded per request;
 * api.c has one handler per route; main.c reads options and starts and stops everything in
 * order.
 */
#ifndef SL_SERVER_H
#define SL_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "cache.h"
#include "calibrate.h"
#include "events.h"
#include "programs.h"
#include "http.h"
#include "metrics.h"
#include "queue.h"
#include "reply.h"
#include "store.h"

#define SL_MAX_BODY (64 * 1024)
#define SL_MAX_ALLOWED_HOSTS 16

struct sl_config {
    char listen_host[64];   /* address to bind (default 127.0.0.1) */
    unsigned listen_port;   /* port (0 = any free port) */
    char db[1024];          /* SQLite file */
    char static_dir[1024];  /* directory served at / */
    char engine[1024];      /* scalelab-engine to run */
    char token[256];        /* bearer token for mutating requests ("" = none) */
    char allowed_hosts[SL_MAX_ALLOWED_HOSTS][254]; /* Host names answered besides the
                                                    * listen address and localhost */
    unsigned n_allowed_hosts;
    unsigned max_cores;     /* cores a job may ask for without oversubscribe */
    unsigned max_queue;     /* runs that may wait */
    double run_timeout;     /* seconds per run, 0 = unlimited */
    unsigned threads;       /* HTTP worker threads */
    int access_log;         /* 1: a line per request */
    char access_log_file[1024]; /* where ("" = stderr) */
    uint64_t access_log_max;    /* bytes before the file is rotated to FILE.1 */
    unsigned conn_timeout;  /* seconds a connection may stay idle */
    unsigned max_listeners; /* live event streams at once, all clients */
    unsigned max_listeners_per_client; /* ... from one client address */
    char programs_dir[1024];/* the registry of programs (programs.h) */
    unsigned probe_retry;   /* seconds before an unavailable program is probed again */
    int allow_commands;     /* 1: ad-hoc "command" jobs are accepted (loopback or token only) */
    char mpi_hostfile[256]; /* the mpirun hostfile jobs may name ("" = none may) */
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
    struct sl_programs *programs;       /* the registered programs */
    struct sl_calib calib;              /* this host's calibration, when have_calib */
    int have_calib;
    const char *openapi;                /* the OpenAPI document */
    double started;                     /* unix time of start */
    struct sl_metrics metrics;          /* request counters */
    struct sl_accesslog *log;           /* the access log, NULL when off */
    struct sl_cache *analyses;          /* runs' analyses by measurements stored */
    struct sl_cache *documents;         /* ended runs' JSON documents (small ones) */
};

/* A request being answered. */
struct sl_req {
    struct sl_server *srv;              /* the server */
    struct MHD_Connection *conn;        /* its connection */
    const char *method, *url;           /* as MHD gives them */
    char *body;                         /* the upload, NUL-terminated */
    size_t len, cap;
    int too_large;                      /* the upload passed SL_MAX_BODY */
    int refused;                        /* answered before the body (the rest is dropped) */
    const struct sl_route *found;       /* the route, NULL when none matched */
    int64_t id;                         /* the {id} of the path, when the route has one */
    const char *route;                  /* the route's pattern (metrics label) */
    unsigned status;                    /* the status sent */
    uint64_t t0;                        /* when the request arrived */
};

/* A query argument, or NULL. */
const char *sl_req_arg(struct sl_req *r, const char *name);
/* The body as a strict JSON object (see jsonin.h) in *out (caller decrefs); when it is not
 * one, a 400 naming the problem has been queued and *ret holds MHD's result. Returns 0 or
 * -1. */
int sl_req_json_object(struct sl_req *r, json_t **out, enum MHD_Result *ret);

/* Routes (api.c). */
typedef enum MHD_Result (*sl_handler)(struct sl_req *r);
struct sl_route {
    const char *method;   /* GET, POST, DELETE */
    const char *pattern;  /* "/api/runs/{id}/cancel" */
    sl_handler handler;
    int mutating;         /* needs the token when one is set */
};
extern const struct sl_route sl_routes[];


#endif /* SL_SERVER_H */
