/* hostinfo.h — what machine a measurement was taken on: CPU, caches, memory, OS, toolchain.
 *
 * Read from /proc, uname, cpuid and hwloc (topology.h) once per run and stored with every
 * run, so that runs from different machines can be compared.
 */
#ifndef SL_HOSTINFO_H
#define SL_HOSTINFO_H

#include <jansson.h>
#include <stdint.h>

struct sl_cache {
    int level;          /* 1, 2, 3, ... */
    char type[16];      /* "Data", "Instruction", "Unified" */
    uint64_t size;      /* bytes per instance */
    unsigned instances; /* how many of them on the host (distinct shared_cpu_list) */
    unsigned line;      /* coherency line size in bytes, 0 if unknown */
};

#define SL_HOST_MAX_CACHES 8

struct sl_host {
    char hostname[64];        /* uname nodename */
    char cpu_model[128];      /* /proc/cpuinfo "model name" */
    char cpu_vendor[32];      /* "AuthenticAMD", "GenuineIntel", ... */
    int cpu_family, cpu_model_id;
    unsigned sockets;         /* distinct physical package ids */
    unsigned cores;           /* distinct (package, core) pairs */
    unsigned threads;         /* logical CPUs online */
    unsigned cpus_allowed;    /* CPUs this process may run on (affinity mask, cgroup-limited) */
    double mhz;               /* current clock from /proc/cpuinfo, 0 if unknown */
    char simd[96];            /* widest vector extensions, e.g. "avx512f avx512dq avx2 fma" */
    struct sl_cache caches[SL_HOST_MAX_CACHES];
    unsigned ncaches;
    unsigned numa_nodes;      /* /sys/devices/system/node/node*, at least 1 */
    uint64_t mem_total;       /* bytes, /proc/meminfo MemTotal */
    uint64_t mem_available;   /* bytes, /proc/meminfo MemAvailable */
    char thp[16];             /* transparent huge pages mode: "always", "madvise", "never", "" */
    char os[64];              /* PRETTY_NAME from /etc/os-release */
    char kernel[128];         /* uname sysname + release */
    char arch[32];            /* uname machine */
    char hypervisor[32];      /* cpuid hypervisor vendor ("KVM", "Microsoft Hv", ...), "" on bare metal */
    char compiler[64];        /* the compiler that built the engine (__VERSION__) */
    char cflags[256];         /* the flags of the vector kernels (SL_KERNEL_CFLAGS from the build) */
    int openmp;               /* _OPENMP date (e.g. 201511), 0 if built without OpenMP */
    double timer_res_ns;      /* clock_getres(CLOCK_MONOTONIC) */
    double timer_step_ns;     /* smallest observed non-zero step of CLOCK_MONOTONIC */
};

/* Fill h with what can be learnt about this host. Fields that cannot be read are left empty
 * or zero; this never fails on a readable /proc. Returns 0 or a negative SL_E* code. */
int sl_host_probe(struct sl_host *h);

/* The host as a JSON object (new reference, caller owns it), or NULL on out of memory. */
json_t *sl_host_to_json(const struct sl_host *h);

#endif /* SL_HOSTINFO_H */
