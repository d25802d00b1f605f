/* topology.h — the host's topology from hwloc: packages, cores, SMT siblings, caches, NUMA.
 *
 * hwloc (which OpenMPI already uses to place its ranks) reads /sys, cpuid and the firmware
 * tables and knows their quirks, so scalelab asks it instead of parsing them itself. The
 * topology is loaded once per process and only read afterwards (thread-safe).
 */
#ifndef SL_TOPOLOGY_H
#define SL_TOPOLOGY_H

#include <jansson.h>

#include "hostinfo.h"

/* Fill h's sockets, cores, caches and numa_nodes. Returns 0, or -SL_ENOENT when hwloc could
 * not load the topology (h is then left as it was). */
int sl_topology_fill(struct sl_host *h);

/* The topology as a tree for pictures (new reference), or JSON null when hwloc could not
 * load it. Each node: {"type": "package" | "numa" | "cache" | "core" | "pu", "index" (the OS
 * index: a PU's CPU number), "children": [...]}, caches with "level", "kind" ("data",
 * "instruction", "unified") and "size_bytes", NUMA nodes with "memory_bytes". Objects of
 * other types (groups, dies) are left out, their children taken up by their parent. */
json_t *sl_topology_tree(void);

#endif /* SL_TOPOLOGY_H */
