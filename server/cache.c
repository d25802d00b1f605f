/* cache.c — analyses of runs by (run, measurements stored); see cache.h. */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>

struct entry {
    int64_t id;      /* the run (0: free slot) */
    int64_t stored;  /* its measurements when analysed */
    json_t *value;   /* the analysis */
    uint64_t used;   /* clock of the last use, for eviction */
};

struct sl_cache {
    pthread_mutex_t mu;    /* guards everything below */
    struct entry *e;       /* the slots */
    unsigned n;            /* how many */
    uint64_t clock;        /* ticks on every use */
};

struct sl_cache *sl_cache_new(unsigned n)
{
    struct sl_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->e = calloc(n ? n : 1, sizeof *c->e))) {
        free(c);
        return NULL;
    }
    c->n = n ? n : 1;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void sl_cache_free(struct sl_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->n; i++)
        json_decref(c->e[i].value);
    pthread_mutex_destroy(&c->mu);
    free(c->e);
    free(c);
}

json_t *sl_cache_get(struct sl_cache *c, int64_t id, int64_t stored)
{
    json_t *v = NULL;
    pthread_mutex_lock(&c->mu);
    for (unsigned i = 0; i < c->n; i++)
        if (c->e[i].id == id && c->e[i].stored == stored && c->e[i].value) {
            v = json_incref(c->e[i].value);
            c->e[i].used = ++c->clock;
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return v;
}

void sl_cache_put(struct sl_cache *c, int64_t id, int64_t stored, json_t *analysis)
{
    pthread_mutex_lock(&c->mu);
    unsigned slot = 0;
    for (unsigned i = 0; i < c->n; i++) {
        if (c->e[i].id == id) { /* the run's older analysis: replaced */
            slot = i;
            break;
        }
        if (c->e[i].used < c->e[slot].used)
            slot = i;
    }
    json_decref(c->e[slot].value);
    c->e[slot] = (struct entry){id, stored, json_incref(analysis), ++c->clock};
    pthread_mutex_unlock(&c->mu);
}

void sl_cache_forget(struct sl_cache *c, int64_t id)
{
    pthread_mutex_lock(&c->mu);
    for (unsigned i = 0; i < c->n; i++)
        if (c->e[i].id == id) {
            json_decref(c->e[i].value);
            c->e[i] = (struct entry){0, 0, NULL, 0};
        }
    pthread_mutex_unlock(&c->mu);
}
