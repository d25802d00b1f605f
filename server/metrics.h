/* metrics.h — request counters and the Prometheus text of GET /metrics. */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <pthread.h>
#include <stdint.h>

struct sl_server;

/* Counters per (method, route, status) and a latency histogram. */
#define SL_METRIC_SLOTS 256
#define SL_LATENCY_BUCKETS 12
struct sl_metrics {
    pthread_mutex_t mu;                 /* guards the table */
    struct {
        const char *method, *route;     /* labels (static strings) */
        unsigned status;
        uint64_t count;
    } slot[SL_METRIC_SLOTS];
    unsigned nslots;
    uint64_t buckets[SL_LATENCY_BUCKETS + 1]; /* request durations, cumulative at output */
    double sum_s;                       /* total duration */
    uint64_t count;                     /* requests */
};

void sl_metrics_init(struct sl_metrics *m);
/* Count one answered request. route must be a static string (a route's pattern or a fixed
 * label); methods outside the known set share the label OTHER, so clients cannot grow the
 * table. */
void sl_metrics_record(struct sl_metrics *m, const char *method, const char *route,
                       unsigned status, double secs);
/* The metrics in Prometheus text format, store and queue gauges included (caller frees);
 * NULL on OOM. */
char *sl_metrics_text(struct sl_server *srv);

#endif /* SL_METRICS_H */
