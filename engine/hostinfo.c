/* hostinfo.c — probe CPU, memory, OS and toolchain from /proc, uname and cpuid; the topology
 * (packages, cores, caches, NUMA nodes) from hwloc (topology.c).
 *
 * Every source is optional: containers and non-x86 hosts lack some of /sys, cpuid or
 * /etc/os-release, so each reader fills what it can and leaves the rest empty or zero. Text
 * goes into the fixed-size fields of struct sl_host by bounded copies: truncated, never
 * overflowed.
 */
#include "hostinfo.h"
#include "sl.h"
#include "topology.h"

#include <ctype.h>
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

/* Model, vendor, family, clock and flags from /proc/cpuinfo (the first CPU's). */
static void read_cpuinfo(struct sl_host *h)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    int have_flags = 0;

    while (getline(&line, &cap, f) >= 0) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *key = trim(line), *val = trim(colon + 1);

        if (strcmp(key, "model name") == 0 && !h->cpu_model[0]) {
            copy_text(h->cpu_model, sizeof h->cpu_model, val);
        } else if (strcmp(key, "vendor_id") == 0 && !h->cpu_vendor[0]) {
            copy_text(h->cpu_vendor, sizeof h->cpu_vendor, val);
        } else if (strcmp(key, "cpu family") == 0 && !h->cpu_family) {
            h->cpu_family = atoi(val);
        } else if (strcmp(key, "model") == 0 && !h->cpu_model_id) {
            h->cpu_model_id = atoi(val);
        } else if (strcmp(key, "cpu MHz") == 0 && h->mhz == 0) {
            h->mhz = strtod(val, NULL);
        } else if ((strcmp(key, "flags") == 0 || strcmp(key, "Features") == 0) && !have_flags) {
            summarise_simd(val, h->simd, sizeof h->simd);
            have_flags = 1;
        }
    }
    free(line);
    fclose(f);
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
    read_cpuinfo(h);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    h->threads = online > 0 ? (unsigned)online : 1;
    h->cpus_allowed = sl_cpus_allowed();
    h->numa_nodes = 1;
    sl_topology_fill(h); /* without hwloc's view: no sockets, cores or caches, one node */

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
    return 0;
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
    err |= json_object_set_new(o, "topology", sl_topology_tree());
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
