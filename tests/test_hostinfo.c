/* test_hostinfo.c — sl_host_probe against what /proc, /sys and uname say, and its JSON form. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hostinfo.h"
#include "sl.h"

/* MemTotal from /proc/meminfo in bytes, read independently of the code under test; 0 when
 * unreadable. */
static uint64_t meminfo_total(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

/* The value of the first "key : value" line of /proc/cpuinfo with this key, or "". */
static void cpuinfo_value(const char *key, char *out, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    out[0] = '\0';
    if (!f)
        return;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) != 0 || !strchr(line, ':'))
            continue;
        const char *v = strchr(line, ':') + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        snprintf(out, len, "%s", v);
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    fclose(f);
}

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = list; (s = strstr(s, word)) != NULL; s += n)
        if ((s == list || s[-1] == ' ') && (s[n] == '\0' || s[n] == ' ' || s[n] == '\n'))
            return 1;
    return 0;
}

Test(hostinfo, probe_rejects_null)
{
    cr_assert_eq(sl_host_probe(NULL), -SL_EINVAL);
}

Test(hostinfo, cpu_counts_match_the_system)
{
    struct sl_host h;
    cr_assert_eq(sl_host_probe(&h), 0);
    cr_assert_eq((long)h.threads, sysconf(_SC_NPROCESSORS_ONLN));
    cr_assert_geq(h.cpus_allowed, 1u);
    cr_assert_leq(h.cpus_allowed, h.threads);
    cr_assert_eq(h.cpus_allowed, sl_cpus_allowed());
    if (h.sockets > 0) {
        cr_assert_geq(h.cores, h.sockets, "cores %u < sockets %u", h.cores, h.sockets);
        cr_assert_leq(h.cores, h.threads, "cores %u > logical CPUs %u", h.cores, h.threads);
    }
    cr_assert_geq(h.numa_nodes, 1u);
}

Test(hostinfo, cpu_identity_matches_cpuinfo)
{
    struct sl_host h;
    char model[256], family[32], flags[8192];
    cr_assert_eq(sl_host_probe(&h), 0);

    cpuinfo_value("model name", model, sizeof model);
    if (model[0])
        cr_assert_eq(strncmp(h.cpu_model, model, sizeof h.cpu_model - 1), 0,
                     "cpu_model '%s' vs cpuinfo '%s'", h.cpu_model, model);
    cpuinfo_value("cpu family", family, sizeof family);
    if (family[0])
        cr_assert_eq(h.cpu_family, atoi(family));

    /* The simd summary holds exactly the listed extensions the CPU reports. */
    cpuinfo_value("flags", flags, sizeof flags);
    if (!flags[0])
        cpuinfo_value("Features", flags, sizeof flags);
    static const char *const names[] = {"avx512f", "avx512dq", "avx512bw", "avx512vl",
                                        "avx2", "fma", "avx", "sse4_2", "sve"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_eq(has_word(h.simd, names[i]), has_word(flags, names[i]),
                     "simd '%s' vs flag %s", h.simd, names[i]);
    cr_assert_eq(has_word(h.simd, "neon"), has_word(flags, "neon") || has_word(flags, "asimd"));

#if defined(__x86_64__) || defined(__i386__)
    /* Linux shows CPUID.1:ECX[31] as the "hypervisor" flag. */
    if (has_word(flags, "hypervisor"))
        cr_assert_neq(h.hypervisor[0], '\0', "a guest with no hypervisor name");
    else
        cr_assert_str_empty(h.hypervisor);
#endif
}

Test(hostinfo, memory_matches_meminfo)
{
    struct sl_host h;
    cr_assert_eq(sl_host_probe(&h), 0);
    uint64_t total = meminfo_total();
    if (total == 0)
        cr_skip_test("/proc/meminfo has no MemTotal");
    cr_assert_gt(h.mem_total, 0);
    cr_assert_eq(h.mem_total, total);
    cr_assert_leq(h.mem_available, h.mem_total);
}

Test(hostinfo, caches_from_sysfs)
{
    if (access("/sys/devices/system/cpu/cpu0/cache/index0/size", R_OK) != 0)
        cr_skip_test("this host exposes no caches in /sys");
    struct sl_host h;
    cr_assert_eq(sl_host_probe(&h), 0);
    cr_assert_geq(h.ncaches, 1u);
    cr_assert_leq(h.ncaches, SL_HOST_MAX_CACHES);
    int sized = 0;
    for (unsigned k = 0; k < h.ncaches; k++) {
        const struct sl_cache *c = &h.caches[k];
        sized |= c->size > 0;
        cr_assert_geq(c->level, 1);
        cr_assert_geq(c->instances, 1u);
        cr_assert_leq(c->instances, h.threads);
        /* Sorted by level, one entry per (level, type). */
        if (k > 0) {
            const struct sl_cache *p = &h.caches[k - 1];
            cr_assert(p->level < c->level || (p->level == c->level && strcmp(p->type, c->type) < 0),
                      "caches %u and %u out of order or duplicated", k - 1, k);
        }
    }
    cr_assert(sized, "no cache has a size");

    /* cpu0's first cache is among them with the size sysfs gives. */
    char buf[64];
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cache/index0/level", "r");
    cr_assert_not_null(f);
    int level = fgets(buf, sizeof buf, f) ? atoi(buf) : 0;
    fclose(f);
    int found = 0;
    for (unsigned k = 0; k < h.ncaches; k++)
        found |= h.caches[k].level == level;
    cr_assert(found, "no level-%d cache", level);
}

Test(hostinfo, os_toolchain_and_timer)
{
    struct sl_host h;
    struct utsname u;
    cr_assert_eq(sl_host_probe(&h), 0);
    cr_assert_eq(uname(&u), 0);
    cr_assert_eq(strncmp(h.kernel, u.sysname, strlen(u.sysname)), 0, "kernel '%s'", h.kernel);
    cr_assert_str_eq(h.arch, u.machine);
    cr_assert_eq(strncmp(h.hostname, u.nodename, sizeof h.hostname - 1), 0);
    if (access("/etc/os-release", R_OK) == 0)
        cr_assert_neq(h.os[0], '\0');
    if (access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0)
        cr_assert(strcmp(h.thp, "always") == 0 || strcmp(h.thp, "madvise") == 0 ||
                      strcmp(h.thp, "never") == 0,
                  "thp '%s'", h.thp);
    cr_assert(strncmp(h.compiler, "gcc ", 4) == 0 || strncmp(h.compiler, "clang ", 6) == 0,
              "compiler '%s'", h.compiler);
#ifdef SL_KERNEL_CFLAGS
    cr_assert_str_eq(h.cflags, SL_KERNEL_CFLAGS);
#endif
#ifdef _OPENMP
    cr_assert_eq(h.openmp, _OPENMP);
#endif
    cr_assert_gt(h.timer_res_ns, 0.0);
    cr_assert_gt(h.timer_step_ns, 0.0);
    cr_assert_lt(h.timer_step_ns, 1e6, "a timer step of %g ns", h.timer_step_ns);
}

Test(hostinfo, json_has_keys_and_types)
{
    struct sl_host h;
    cr_assert_eq(sl_host_probe(&h), 0);
    json_t *o = sl_host_to_json(&h);
    cr_assert_not_null(o);
    cr_assert(json_is_object(o));

    static const char *const strings[] = {"hostname", "cpu_model", "cpu_vendor", "simd", "thp",
                                          "os", "kernel", "arch", "hypervisor", "compiler",
                                          "cflags"};
    static const char *const integers[] = {"cpu_family", "cpu_model_id", "sockets", "cores",
                                           "threads", "cpus_allowed", "numa_nodes",
                                           "mem_total_bytes", "mem_available_bytes", "openmp"};
    static const char *const reals[] = {"mhz", "timer_res_ns", "timer_step_ns"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        cr_assert(json_is_string(json_object_get(o, strings[i])), "key %s", strings[i]);
    for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++)
        cr_assert(json_is_integer(json_object_get(o, integers[i])), "key %s", integers[i]);
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        cr_assert(json_is_real(json_object_get(o, reals[i])), "key %s", reals[i]);

    cr_assert_str_eq(json_string_value(json_object_get(o, "cpu_model")), h.cpu_model);
    cr_assert_eq(json_integer_value(json_object_get(o, "threads")), (json_int_t)h.threads);
    cr_assert_eq(json_integer_value(json_object_get(o, "mem_total_bytes")), (json_int_t)h.mem_total);

    json_t *caches = json_object_get(o, "caches");
    cr_assert(json_is_array(caches));
    cr_assert_eq(json_array_size(caches), h.ncaches);
    for (size_t k = 0; k < json_array_size(caches); k++) {
        json_t *c = json_array_get(caches, k);
        cr_assert(json_is_integer(json_object_get(c, "level")));
        cr_assert(json_is_string(json_object_get(c, "type")));
        cr_assert(json_is_integer(json_object_get(c, "instances")));
        cr_assert(json_is_integer(json_object_get(c, "line_bytes")));
        cr_assert_eq(json_integer_value(json_object_get(c, "size_bytes")), (json_int_t)h.caches[k].size);
    }
    json_decref(o);
}

Test(hostinfo, json_survives_non_utf8_text)
{
    struct sl_host h;
    memset(&h, 0, sizeof h);
    snprintf(h.cpu_model, sizeof h.cpu_model, "Bad \xff\xfe model");
    json_t *o = sl_host_to_json(&h);
    cr_assert_not_null(o);
    cr_assert_str_eq(json_string_value(json_object_get(o, "cpu_model")), "Bad ?? model");
    json_decref(o);
}
