/* topology.c — packages, cores, SMT siblings, caches and NUMA nodes from hwloc. */
#include "topology.h"

#include <hwloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sl.h"

static hwloc_topology_t topo;         /* loaded once, read-only afterwards */
static int loaded;                    /* 1 when topo is usable */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    if (hwloc_topology_init(&topo) != 0)
        return;
    /* hwloc leaves instruction caches out unless asked; the host description lists them. */
    hwloc_topology_set_icache_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_ALL);
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        return;
    }
    loaded = 1;
}

static int ready(void)
{
    pthread_once(&once, load);
    return loaded;
}

static const char *cache_kind(hwloc_obj_cache_type_t t, int json)
{
    switch (t) {
    case HWLOC_OBJ_CACHE_DATA:
        return json ? "data" : "Data";
    case HWLOC_OBJ_CACHE_INSTRUCTION:
        return json ? "instruction" : "Instruction";
    default:
        return json ? "unified" : "Unified";
    }
}

static int cmp_cache(const void *a, const void *b)
{
    const struct sl_cache *x = a, *y = b;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    return strcmp(x->type, y->type);
}

int sl_topology_fill(struct sl_host *h)
{
    if (!ready())
        return -SL_ENOENT;
    int packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    int numa = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    h->sockets = packages > 0 ? (unsigned)packages : 0;
    h->cores = cores > 0 ? (unsigned)cores : 0;
    h->numa_nodes = numa > 0 ? (unsigned)numa : 1;
    /* One entry per (level, kind); instances are hwloc's objects of that type, the size
     * the largest of them (hybrid CPUs have different caches per core type). */
    static const hwloc_obj_type_t types[] = {HWLOC_OBJ_L1CACHE,  HWLOC_OBJ_L1ICACHE,
                                             HWLOC_OBJ_L2CACHE,  HWLOC_OBJ_L2ICACHE,
                                             HWLOC_OBJ_L3CACHE,  HWLOC_OBJ_L3ICACHE,
                                             HWLOC_OBJ_L4CACHE,  HWLOC_OBJ_L5CACHE};
    h->ncaches = 0;
    for (size_t t = 0; t < sizeof types / sizeof types[0] && h->ncaches < SL_HOST_MAX_CACHES; t++) {
        int n = hwloc_get_nbobjs_by_type(topo, types[t]);
        if (n <= 0)
            continue;
        struct sl_cache *c = &h->caches[h->ncaches++];
        memset(c, 0, sizeof *c);
        for (int i = 0; i < n; i++) {
            hwloc_obj_t o = hwloc_get_obj_by_type(topo, types[t], (unsigned)i);
            if (i == 0) {
                c->level = (int)o->attr->cache.depth;
                snprintf(c->type, sizeof c->type, "%s", cache_kind(o->attr->cache.type, 0));
                c->line = o->attr->cache.linesize;
            }
            if (o->attr->cache.size > c->size)
                c->size = o->attr->cache.size;
        }
        c->instances = (unsigned)n;
    }
    qsort(h->caches, h->ncaches, sizeof h->caches[0], cmp_cache);
    return 0;
}

/* The node for o, or NULL for a type left out of the picture. */
static json_t *node_of(hwloc_obj_t o)
{
    json_t *n = NULL;
    if (o->type == HWLOC_OBJ_PACKAGE)
        n = json_pack("{ss}", "type", "package");
    else if (o->type == HWLOC_OBJ_CORE)
        n = json_pack("{ss}", "type", "core");
    else if (o->type == HWLOC_OBJ_PU)
        n = json_pack("{ss}", "type", "pu");
    else if (o->type == HWLOC_OBJ_NUMANODE)
        n = json_pack("{ss sI}", "type", "numa", "memory_bytes",
                      (json_int_t)o->attr->numanode.local_memory);
    else if (hwloc_obj_type_is_cache(o->type))
        n = json_pack("{ss si ss sI}", "type", "cache", "level", (int)o->attr->cache.depth,
                      "kind", cache_kind(o->attr->cache.type, 1), "size_bytes",
                      (json_int_t)o->attr->cache.size);
    if (n) {
        json_object_set_new(n, "index", json_integer(o->os_index == HWLOC_UNKNOWN_INDEX
                                                         ? (json_int_t)o->logical_index
                                                         : (json_int_t)o->os_index));
        json_object_set_new(n, "children", json_array());
    }
    return n;
}

/* Append the pictured descendants of o (memory children first: NUMA nodes) to list. */
static void walk(hwloc_obj_t o, json_t *list)
{
    for (hwloc_obj_t c = o->memory_first_child; c; c = c->next_sibling) {
        json_t *n = node_of(c);
        if (n)
            json_array_append_new(list, n);
    }
    for (hwloc_obj_t c = o->first_child; c; c = c->next_sibling) {
        json_t *n = node_of(c);
        if (n) {
            walk(c, json_object_get(n, "children"));
            json_array_append_new(list, n);
        } else {
            walk(c, list);
        }
    }
}

json_t *sl_topology_tree(void)
{
    if (!ready())
        return json_null();
    json_t *top = json_array();
    if (top)
        walk(hwloc_get_root_obj(topo), top);
    return top ? top : json_null();
}
