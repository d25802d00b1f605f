/* test_topology.c — hwloc's view of this host: the tree the System view draws agrees with the
 * counts of the host description, and with what the kernel says is online.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "hostinfo.h"
#include "topology.h"

struct counts {
    unsigned packages, cores, pus, numa, caches;
    unsigned pus_in_cores; /* PUs found below a core */
};

static void count(const json_t *list, struct counts *c, int in_core)
{
    size_t i;
    const json_t *n;
    json_array_foreach(list, i, n) {
        const char *type = json_string_value(json_object_get(n, "type"));
        cr_assert_not_null(type, "every node has a type");
        cr_assert(json_is_integer(json_object_get(n, "index")), "every node has an index");
        cr_assert(json_is_array(json_object_get(n, "children")), "every node has children");
        if (strcmp(type, "package") == 0)
            c->packages++;
        else if (strcmp(type, "core") == 0)
            c->cores++;
        else if (strcmp(type, "pu") == 0) {
            c->pus++;
            c->pus_in_cores += in_core;
        } else if (strcmp(type, "numa") == 0)
            c->numa++;
        else if (strcmp(type, "cache") == 0) {
            c->caches++;
            cr_assert_gt(json_integer_value(json_object_get(n, "size_bytes")), 0);
            cr_assert_geq(json_integer_value(json_object_get(n, "level")), 1);
        } else
            cr_assert_fail("unexpected node type %s", type);
        count(json_object_get(n, "children"), c, in_core || strcmp(type, "core") == 0);
    }
}

Test(topology, tree_agrees_with_the_host_description)
{
    struct sl_host h;
    cr_assert_eq(sl_host_probe(&h), 0);
    json_t *tree = sl_topology_tree();
    cr_assert(json_is_array(tree), "hwloc loaded this host's topology");
    struct counts c = {0};
    count(tree, &c, 0);
    cr_assert_eq(c.pus, h.threads, "a PU per online CPU (%u vs %u)", c.pus, h.threads);
    cr_assert_eq((long)c.pus, sysconf(_SC_NPROCESSORS_ONLN));
    cr_assert_eq(c.pus_in_cores, c.pus, "every PU sits in a core (SMT siblings share one)");
    cr_assert_eq(c.cores, h.cores);
    cr_assert_eq(c.packages, h.sockets);
    cr_assert_eq(c.numa, h.numa_nodes);
    unsigned instances = 0;
    for (unsigned k = 0; k < h.ncaches; k++)
        instances += h.caches[k].instances;
    cr_assert_eq(c.caches, instances, "every cache instance of the description is drawn");
    json_decref(tree);
}

Test(topology, host_json_carries_the_tree)
{
    struct sl_host h;
    cr_assert_eq(sl_host_probe(&h), 0);
    json_t *o = sl_host_to_json(&h);
    cr_assert(json_is_array(json_object_get(o, "topology")));
    cr_assert_gt(json_array_size(json_object_get(o, "topology")), 0);
    json_decref(o);
}
