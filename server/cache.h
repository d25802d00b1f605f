/* cache.h — JSON values of runs by (run, a key): analyses, documents.
 *
 * An analysis (engine/analysis.c over every measurement of a run) costs time in proportion
 * to the run's size, and a dashboard polls a running run. The key is the run and a number
 * that changes with what the value depends on (export.c: the measurements stored and the
 * calibrations accepted): a new measurement makes a new key, an ended run keeps its last
 * one until it is deleted. The server keeps two: analyses, and the JSON documents of ended
 * runs. Entries are JSON values shared by
 * reference (Jansson's reference counts are atomic): a value handed out must not be
 * modified. A cache holds at most n values, the least recently used leaving first.
 */
#ifndef SL_CACHE_H
#define SL_CACHE_H

#include <jansson.h>
#include <stdint.h>

struct sl_cache;

/* A cache of at most n analyses. NULL on out of memory; free with sl_cache_free (accepts
 * NULL). */
struct sl_cache *sl_cache_new(unsigned n);
void sl_cache_free(struct sl_cache *c);

/* The value of run id under key (a new reference), or NULL. */
json_t *sl_cache_get(struct sl_cache *c, int64_t id, int64_t key);

/* Keep value (not stolen) for (id, key), replacing any older one of the run and else the
 * least recently used entry. */
void sl_cache_put(struct sl_cache *c, int64_t id, int64_t key, json_t *value);

/* Forget run id (deleted). */
void sl_cache_forget(struct sl_cache *c, int64_t id);

#endif /* SL_CACHE_H */
