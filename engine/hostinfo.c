/* hostinfo.c — probe CPU, caches, memory, OS and toolchain from /proc, /sys, uname and cpuid.
 *
 * Every source is optional: containers and non-x86 hosts lack some of /sys, cpuid or
 * /etc/os-release, so each reader fills what it can and leaves the rest empty or zero. Text
 * goes into the fixed-size fields of struct sl_host by bounded copies: truncated, never
 * overflowed. Sockets and cores are counted from the (physical id, core id) pairs of
 * /proc/cpuinfo, or of /sys/.../topology where cpuinfo has none (ARM). Caches are deduplicated
 * by (level, type); an instance is a distinct shared_cpu_list among the CPUs that report it.
 */
#include "hostinfo.h"
#include "sl.h"

#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#ifndef SL_KERNEL_CFLAGS
#define SL_KERNEL_CFLAGS ""
#endif

#if defined(__clang__)
#define COMPILER_NAME "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER_NAME "gcc " __VERSION__
#else
#define COMPILER_NAME "unknown"
#endif

/* The vector extensions worth reporting, widest first, as /proc/cpuinfo spells them.
 * aarch64 calls NEON "asimd"; it is reported under the common name. */
static const struct {
    const char *flag; /* the word in the "flags" / "Features" line */
    const char *name; /* how it appears in sl_host.simd */
} simd_flags[] = {
    {"avx512f", "avx512f"}, {"avx512dq", "avx512dq"}, {"avx512bw", "avx512bw"},
    {"avx512vl", "avx512vl"}, {"avx2", "avx2"}, {"fma", "fma"}, {"avx", "avx"},
    {"sse4_2", "sse4_2"}, {"neon", "neon"}, {"asimd", "neon"}, {"sve", "sve"},
};

/* cpuid hypervisor vendor signatures and the names they are reported under. */
static const struct {
    const char *signature; /* the 12 bytes of leaf 0x40000000 EBX:ECX:EDX, trimmed */
    const char *name;      /* the name stored in sl_host.hypervisor */
} hypervisors[] = {
    {"KVMKVMKVM", "KVM"},     {"Microsoft Hv", "Hyper-V"}, {"VMwareVMware", "VMware"},
    {"XenVMMXenVMM", "Xen"}, {"TCGTCGTCGTCG", "QEMU TCG"},
};

/* One logical CPU's place in the topology; -1 where unknown. */
struct cpu_place {
    long package; /* physical id / physical_package_id */
    long core;    /* core id / core_id */
};

/* A growable list of cpu_place. */
struct places {
    struct cpu_place *v; /* the entries, malloc'ed */
    size_t n, cap;       /* used and allocated entries */
};

/* Copy src into a fixed-size field (len > 0), truncated to fit. */
static void copy_text(char *dst, size_t len, const char *src)
{
    size_t n = src ? strnlen(src, len - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Strip leading and trailing white space in place; returns the start. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The first line of a small file (sysfs attribute), trimmed, into buf. Returns 0, or -1 when
 * the file cannot be read. */
static int read_first_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *ok = fgets(buf, (int)len, f);
    fclose(f);
    if (!ok)
        return -1;
    char *t = trim(buf);
    memmove(buf, t, strlen(t) + 1);
    return 0;
}

/* sysfs sizes: "48K", "1024K", "32M", or plain bytes. 0 when malformed. */
static uint64_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': return (uint64_t)v << 10;
    case 'M': return (uint64_t)v << 20;
    case 'G': return (uint64_t)v << 30;
    default: return (uint64_t)v;
    }
}

static int add_place(struct places *p, long package, long core)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        struct cpu_place *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return -SL_ENOMEM;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (struct cpu_place){package, core};
    return 0;
}

static int cmp_place(const void *a, const void *b)
{
    const struct cpu_place *x = a, *y = b;
    if (x->package != y->package)
        return x->package < y->package ? -1 : 1;
    return (x->core > y->core) - (x->core < y->core);
}

/* Sockets = distinct packages, cores = distinct (package, core) pairs. Places with an unknown
 * package are not counted, so a host that reports none leaves both at 0. */
static void count_places(struct places *p, struct sl_host *h)
{
    if (p->n == 0)
        return; /* and no qsort(NULL, 0, ...): its pointer must not be NULL even then */
    qsort(p->v, p->n, sizeof *p->v, cmp_place);
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].package < 0)
            continue;
        int new_pkg = i == 0 || p->v[i].package != p->v[i - 1].package;
        if (new_pkg)
            h->sockets++;
        if (p->v[i].core >= 0 && (new_pkg || p->v[i].core != p->v[i - 1].core))
            h->cores++;
    }
}

/* Whether word appears in a space-separated list as a whole word. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = list; (s = strstr(s, word)) != NULL; s += n) {
        int starts = s == list || isspace((unsigned char)s[-1]);
        int ends = s[n] == '\0' || isspace((unsigned char)s[n]);
        if (starts && ends)
            return 1;
    }
    return 0;
}

/* The simd summary from a "flags" line: the listed extensions that are present, in the
 * order of simd_flags, each name once ("neon" and "asimd" share one). */
static void summarise_simd(const char *flags, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t k = 0; k < sizeof simd_flags / sizeof simd_flags[0]; k++) {
        const char *name = simd_flags[k].name;
        if (!has_word(flags, simd_flags[k].flag) || has_word(out, name))
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? " " : "", name);
        if (w < 0 || (size_t)w >= len - used) {
            out[used] = '\0';
            return;
        }
        used += (size_t)w;
    }
}

/* Model, vendor, family, clock, flags and the topology pairs from /proc/cpuinfo. A block per
 * logical CPU starts with "processor"; its pair is recorded when the next block starts. */
static int read_cpuinfo(struct sl_host *h, struct places *places)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, in_block = 0, have_flags = 0;
    long package = -1, core = -1;

    while (getline(&line, &cap, f) >= 0) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *key = trim(line), *val = trim(colon + 1);

        if (strcmp(key, "processor") == 0) {
            if (in_block && (rc = add_place(places, package, core)) < 0)
                goto out;
            in_block = 1;
            package = core = -1;
        } else if (strcmp(key, "model name") == 0 && !h->cpu_model[0]) {
            copy_text(h->cpu_model, sizeof h->cpu_model, val);
        } else if (strcmp(key, "vendor_id") == 0 && !h->cpu_vendor[0]) {
            copy_text(h->cpu_vendor, sizeof h->cpu_vendor, val);
        } else if (strcmp(key, "cpu family") == 0 && !h->cpu_family) {
            h->cpu_family = atoi(val);
        } else if (strcmp(key, "model") == 0 && !h->cpu_model_id) {
            h->cpu_model_id = atoi(val);
        } else if (strcmp(key, "cpu MHz") == 0 && h->mhz == 0) {
            h->mhz = strtod(val, NULL);
        } else if (strcmp(key, "physical id") == 0) {
            package = strtol(val, NULL, 10);
        } else if (strcmp(key, "core id") == 0) {
            core = strtol(val, NULL, 10);
        } else if ((strcmp(key, "flags") == 0 || strcmp(key, "Features") == 0) && !have_flags) {
            summarise_simd(val, h->simd, sizeof h->simd);
            have_flags = 1;
        }
    }
    if (in_block)
        rc = add_place(places, package, core);
out:
    free(line);
    fclose(f);
    return rc;
}

/* The topology from sysfs, for hosts whose /proc/cpuinfo has no physical id (ARM). */
static int read_sysfs_topology(struct places *places)
{
    glob_t g;
    if (glob("/sys/devices/system/cpu/cpu[0-9]*/topology", 0, NULL, &g) != 0)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < g.gl_pathc && rc == 0; i++) {
        char path[512], buf[64];
        long package = -1, core = -1;
        snprintf(path, sizeof path, "%s/physical_package_id", g.gl_pathv[i]);
        if (read_first_line(path, buf, sizeof buf) == 0)
            package = strtol(buf, NULL, 10);
        snprintf(path, sizeof path, "%s/core_id", g.gl_pathv[i]);
        if (read_first_line(path, buf, sizeof buf) == 0)
            core = strtol(buf, NULL, 10);
        rc = add_place(places, package, core);
    }
    globfree(&g);
    return rc;
}

static int cmp_cache(const void *a, const void *b)
{
    const struct sl_cache *x = a, *y = b;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    return strcmp(x->type, y->type);
}

/* The caches of all CPUs, deduplicated by (level, type). Each cache keeps the set of
 * shared_cpu_list strings seen for it (a Jansson object used as a string set): the CPUs
 * sharing one instance all report the same list, so distinct lists are distinct instances. */
static int read_caches(struct sl_host *h)
{
    glob_t g;
    if (glob("/sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*", 0, NULL, &g) != 0)
        return 0;
    json_t *sets[SL_HOST_MAX_CACHES] = {0};
    int rc = 0;

    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *dir = g.gl_pathv[i];
        char path[512], buf[256], type[16], shared[256];
        int level;

        snprintf(path, sizeof path, "%s/level", dir);
        if (read_first_line(path, buf, sizeof buf) != 0 || (level = atoi(buf)) <= 0)
            continue;
        snprintf(path, sizeof path, "%s/type", dir);
        if (read_first_line(path, type, sizeof type) != 0)
            copy_text(type, sizeof type, "Unified");
        /* Without a shared_cpu_list the cache is taken as private to this CPU. */
        snprintf(path, sizeof path, "%s/shared_cpu_list", dir);
        if (read_first_line(path, shared, sizeof shared) != 0)
            snprintf(shared, sizeof shared, "%.*s", (int)(strstr(dir, "/cache/") - dir), dir);

        unsigned k = 0;
        while (k < h->ncaches &&
               !(h->caches[k].level == level && strcmp(h->caches[k].type, type) == 0))
            k++;
        if (k == h->ncaches) {
            if (k == SL_HOST_MAX_CACHES)
                continue;
            if (!(sets[k] = json_object())) {
                rc = -SL_ENOMEM;
                goto out;
            }
            h->ncaches++;
            h->caches[k].level = level;
            copy_text(h->caches[k].type, sizeof h->caches[k].type, type);
        }
        struct sl_cache *c = &h->caches[k];

        /* Hybrid CPUs have different cache sizes per core type: keep the largest. */
        snprintf(path, sizeof path, "%s/size", dir);
        if (read_first_line(path, buf, sizeof buf) == 0 && parse_size(buf) > c->size)
            c->size = parse_size(buf);
        snprintf(path, sizeof path, "%s/coherency_line_size", dir);
        if (!c->line && read_first_line(path, buf, sizeof buf) == 0)
            c->line = (unsigned)strtoul(buf, NULL, 10);
        if (json_object_set_new(sets[k], shared, json_true()) != 0) {
            rc = -SL_ENOMEM;
            goto out;
        }
        c->instances = (unsigned)json_object_size(sets[k]);
    }
    qsort(h->caches, h->ncaches, sizeof h->caches[0], cmp_cache);
out:
    for (unsigned k = 0; k < SL_HOST_MAX_CACHES; k++)
        json_decref(sets[k]);
    globfree(&g);
    return rc;
}

static void read_meminfo(struct sl_host *h)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return;
    char line[256];
    unsigned long long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            h->mem_total = (uint64_t)kb * 1024;
        else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            h->mem_available = (uint64_t)kb * 1024;
    }
    fclose(f);
}

/* The selected transparent huge page mode is the bracketed word: "always [madvise] never". */
static void read_thp(struct sl_host *h)
{
    char buf[128];
    if (read_first_line("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof buf) != 0)
        return;
    char *open = strchr(buf, '['), *close = open ? strchr(open, ']') : NULL;
    if (open && close)
        snprintf(h->thp, sizeof h->thp, "%.*s", (int)(close - open - 1), open + 1);
}

static void read_os_release(struct sl_host *h)
{
    FILE *f = fopen("/etc/os-release", "r");
    if (!f && !(f = fopen("/usr/lib/os-release", "r")))
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0)
            continue;
        char *v = trim(line + 12);
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v[n - 1] = '\0';
            v++;
        }
        copy_text(h->os, sizeof h->os, v);
        break;
    }
    fclose(f);
}

static void read_uname(struct sl_host *h)
{
    struct utsname u;
    if (uname(&u) != 0)
        return;
    copy_text(h->hostname, sizeof h->hostname, u.nodename);
    if (snprintf(h->kernel, sizeof h->kernel, "%s %s", u.sysname, u.release) < 0)
        h->kernel[0] = '\0';
    copy_text(h->arch, sizeof h->arch, u.machine);
}

/* The hypervisor's vendor from cpuid leaf 0x40000000, which is only meaningful when the
 * "running under a hypervisor" bit CPUID.1:ECX[31] is set; "" on bare metal and non-x86. */
static void read_hypervisor(struct sl_host *h)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
        return;
    __cpuid(0x40000000, a, b, c, d);
    char sig[13];
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = '\0';
    /* Unknown vendors are stored raw, so keep the text printable (it ends up in JSON). */
    for (char *s = sig; *s; s++)
        if (!isprint((unsigned char)*s))
            *s = '?';
    char *t = trim(sig);
    for (size_t k = 0; k < sizeof hypervisors / sizeof hypervisors[0]; k++)
        if (strcmp(t, hypervisors[k].signature) == 0) {
            copy_text(h->hypervisor, sizeof h->hypervisor, hypervisors[k].name);
            return;
        }
    copy_text(h->hypervisor, sizeof h->hypervisor, t);
#else
    (void)h;
#endif
}

int sl_host_probe(struct sl_host *h)
{
    if (!h)
        return -SL_EINVAL;
    memset(h, 0, sizeof *h);
    struct places places = {0};
    int rc;

    if ((rc = read_cpuinfo(h, &places)) < 0)
        goto out;
    int have_package = 0;
    for (size_t i = 0; i < places.n; i++)
        have_package |= places.v[i].package >= 0;
    if (!have_package) {
        places.n = 0;
        if ((rc = read_sysfs_topology(&places)) < 0)
            goto out;
    }
    count_places(&places, h);

    long online = sysconf(_SC_NPROCESSORS_ONLN);
    h->threads = online > 0 ? (unsigned)online : 1;
    h->cpus_allowed = sl_cpus_allowed();

    if ((rc = read_caches(h)) < 0)
        goto out;

    glob_t g;
    if (glob("/sys/devices/system/node/node[0-9]*", GLOB_ONLYDIR, NULL, &g) == 0) {
        h->numa_nodes = (unsigned)g.gl_pathc;
        globfree(&g);
    }
    if (h->numa_nodes == 0)
        h->numa_nodes = 1;

    read_meminfo(h);
    read_thp(h);
    read_os_release(h);
    read_uname(h);
    read_hypervisor(h);

    copy_text(h->compiler, sizeof h->compiler, COMPILER_NAME);
    copy_text(h->cflags, sizeof h->cflags, SL_KERNEL_CFLAGS);
#ifdef _OPENMP
    h->openmp = _OPENMP;
#endif
    sl_timer_resolution(&h->timer_res_ns, &h->timer_step_ns);
    rc = 0;
out:
    free(places.v);
    return rc;
}

/* A JSON string of text read from the system. Jansson rejects invalid UTF-8 (a truncated
 * multi-byte character, a non-UTF-8 locale's name): such text is kept with the offending
 * bytes replaced by '?' rather than dropped. */
static json_t *text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char buf[256];
    copy_text(buf, sizeof buf, s);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    return json_string(buf);
}

json_t *sl_host_to_json(const struct sl_host *h)
{
    json_t *o = json_object(), *caches = json_array();
    if (!o || !caches)
        goto fail;

    /* json_object_set_new and json_array_append_new take a NULL value as an error (and
     * release what they were given either way), so failures are simply OR-ed together. */
    int err = 0;
    for (unsigned k = 0; k < h->ncaches && k < SL_HOST_MAX_CACHES; k++) {
        const struct sl_cache *c = &h->caches[k];
        json_t *jc = json_object();
        if (!jc)
            goto fail;
        err |= json_object_set_new(jc, "level", json_integer(c->level));
        err |= json_object_set_new(jc, "type", text(c->type));
        err |= json_object_set_new(jc, "size_bytes", json_integer((json_int_t)c->size));
        err |= json_object_set_new(jc, "instances", json_integer(c->instances));
        err |= json_object_set_new(jc, "line_bytes", json_integer(c->line));
        err |= json_array_append_new(caches, jc);
    }

    err |= json_object_set_new(o, "hostname", text(h->hostname));
    err |= json_object_set_new(o, "cpu_model", text(h->cpu_model));
    err |= json_object_set_new(o, "cpu_vendor", text(h->cpu_vendor));
    err |= json_object_set_new(o, "cpu_family", json_integer(h->cpu_family));
    err |= json_object_set_new(o, "cpu_model_id", json_integer(h->cpu_model_id));
    err |= json_object_set_new(o, "sockets", json_integer(h->sockets));
    err |= json_object_set_new(o, "cores", json_integer(h->cores));
    err |= json_object_set_new(o, "threads", json_integer(h->threads));
    err |= json_object_set_new(o, "cpus_allowed", json_integer(h->cpus_allowed));
    err |= json_object_set_new(o, "mhz", json_real(h->mhz));
    err |= json_object_set_new(o, "simd", text(h->simd));
    err |= json_object_set_new(o, "caches", caches);
    caches = NULL; /* owned by o now */
    err |= json_object_set_new(o, "numa_nodes", json_integer(h->numa_nodes));
    err |= json_object_set_new(o, "mem_total_bytes", json_integer((json_int_t)h->mem_total));
    err |= json_object_set_new(o, "mem_available_bytes", json_integer((json_int_t)h->mem_available));
    err |= json_object_set_new(o, "thp", text(h->thp));
    err |= json_object_set_new(o, "os", text(h->os));
    err |= json_object_set_new(o, "kernel", text(h->kernel));
    err |= json_object_set_new(o, "arch", text(h->arch));
    err |= json_object_set_new(o, "hypervisor", text(h->hypervisor));
    err |= json_object_set_new(o, "compiler", text(h->compiler));
    err |= json_object_set_new(o, "cflags", text(h->cflags));
    err |= json_object_set_new(o, "openmp", json_integer(h->openmp));
    err |= json_object_set_new(o, "timer_res_ns", json_real(h->timer_res_ns));
    err |= json_object_set_new(o, "timer_step_ns", json_real(h->timer_step_ns));
    if (err)
        goto fail;
    return o;
fail:
    json_decref(caches);
    json_decref(o);
    return NULL;
}
