/* metrics.c — request counters and GET /metrics (see metrics.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "server.h"

static const double bucket_le[SL_LATENCY_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1,    2.5};

void sl_metrics_init(struct sl_metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void sl_metrics_record(struct sl_metrics *m, const char *method, const char *route,
                       unsigned status, double secs)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"};
    const char *meth = "OTHER";
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (strcmp(known[k], method) == 0)
            meth = known[k];
    pthread_mutex_lock(&m->mu);
    unsigned i = 0;
    while (i < m->nslots &&
           !(m->slot[i].status == status && m->slot[i].route == route && m->slot[i].method == meth))
        i++;
    if (i == m->nslots && m->nslots < SL_METRIC_SLOTS) {
        m->slot[i].method = meth;
        m->slot[i].route = route;
        m->slot[i].status = status;
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
