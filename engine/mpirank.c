/* mpirank.c — scalelab-mpi-rank: one MPI rank of the mpi backend (backends/mpi.c).
 *
 *   mpirun -np R scalelab-mpi-rank --connect ADDR:PORT --token HEX --threads T
 *
 * Connects back to the engine that started mpirun, says who it is, then obeys commands
 * (mpiproto.h) until told to quit or the engine goes away. A run: MPI_Barrier, the rank's
 * static share of every phase split among T OpenMP threads (hybrid MPI x OpenMP), between
 * phases the boundary exchange the workload declares (region/reads: point-to-point
 * messages, only what a neighbour's next share reads), then the partials MPI_Gather'ed to
 * rank 0 in rank order, so exact workloads combine in the same order as every backend.
 * Only the main thread calls MPI (MPI_THREAD_FUNNELED). Time inside MPI calls is counted.
 */
#include <mpi.h>
#include <omp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpiproto.h"
#include "sl.h"
#include "workload.h"

#if defined(__SANITIZE_ADDRESS__)
/* `make asan`: OpenMPI's dlopen'ed components keep their allocations past MPI_Finalize
 * (3000+ of them, none from scalelab), and a leak report makes every rank exit non-zero.
 * Addressing errors are still reported. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif

struct rank {
    int me, n;                      /* MPI rank and size */
    unsigned threads;               /* OpenMP threads */
    int fd;                         /* connection to the engine */
    const struct sl_workload *wl;   /* set up workload, or NULL */
    void *state;
    struct sl_shape shape;
    uint64_t comm;                  /* ns inside MPI calls in the current run */
    MPI_Request *reqs;              /* 2 per other rank: the exchange's messages */
};

struct thread_rec {
    uint64_t start, end, busy, wait;
    int cpu;
    struct sl_partial part;
};

/* The workload by name, test-only ones included: the engine has already checked the job. */
static const struct sl_workload *find_workload(const char *name)
{
    for (const struct sl_workload *const *w = sl_workloads; *w; w++)
        if (strcmp((*w)->name, name) == 0)
            return *w;
    return NULL;
}

/* Rank r's share of phase ph. */
static void share(const struct rank *k, unsigned ph, int r, uint64_t *b, uint64_t *e)
{
    sl_split(k->wl->items(k->state, ph), (unsigned)k->n, (unsigned)r, b, e);
}

static void do_setup(struct rank *k, const struct sl_mpi_cmd *cmd, struct sl_mpi_reply *rep)
{
    if (k->wl)
        k->wl->teardown(k->state);
    k->wl = NULL;
    k->state = NULL;
    char name[sizeof cmd->workload + 1];
    memcpy(name, cmd->workload, sizeof cmd->workload);
    name[sizeof cmd->workload] = '\0';
    const struct sl_workload *wl = find_workload(name);
    if (!wl) {
        rep->rc = -SL_ENOENT;
        snprintf(rep->error, sizeof rep->error, "workload %s is not in this rank's build", name);
        return;
    }
    rep->rc = wl->setup(cmd->params, &k->state, &k->shape);
    if (rep->rc) {
        snprintf(rep->error, sizeof rep->error, "setting up %s failed: %s", name,
                 sl_strerror(rep->rc));
        k->state = NULL;
        return;
    }
    k->wl = wl;
    if (wl->touch) { /* first touch of this rank's share by the threads that will read it */
        uint64_t rb, re;
        share(k, 0, k->me, &rb, &re);
#pragma omp parallel num_threads(k->threads)
        {
            uint64_t b, e;
            sl_split(re - rb, k->threads, (unsigned)omp_get_thread_num(), &b, &e);
            if (b < e)
                wl->touch(k->state, rb + b, rb + e);
        }
    }
}

/* After phase ph: receive from other ranks what this rank's share of ph + 1 reads, and send
 * them what theirs read of this rank's share. Returns 0 or -1 (error in msg). */
static int exchange(struct rank *k, unsigned ph, char *msg, size_t len)
{
    int nreq = 0, tag = (int)(ph % 32768);
    uint64_t mb, me, nb, ne, lo = 0, hi = 0;
    share(k, ph, k->me, &mb, &me);
    share(k, ph + 1, k->me, &nb, &ne);
    if (nb < ne)
        k->wl->reads(k->state, ph, nb, ne, &lo, &hi);
    for (int r = 0; r < k->n; r++) {
        if (r == k->me)
            continue;
        uint64_t sb, se, rb, re, rlo = 0, rhi = 0;
        size_t bytes;
        /* what I read of r's share of ph */
        share(k, ph, r, &sb, &se);
        uint64_t a = lo > sb ? lo : sb, b = hi < se ? hi : se;
        if (a < b) {
            void *p = k->wl->region(k->state, ph, a, b, &bytes);
            if (bytes > INT_MAX) {
                snprintf(msg, len, "an exchange of %zu bytes is too large for one message", bytes);
                return -1;
            }
            MPI_Irecv(p, (int)bytes, MPI_BYTE, r, tag, MPI_COMM_WORLD, &k->reqs[nreq++]);
        }
        /* what r reads of my share of ph */
        share(k, ph + 1, r, &rb, &re);
        if (rb < re)
            k->wl->reads(k->state, ph, rb, re, &rlo, &rhi);
        a = rlo > mb ? rlo : mb;
        b = rhi < me ? rhi : me;
        if (a < b) {
            void *p = k->wl->region(k->state, ph, a, b, &bytes);
            if (bytes > INT_MAX) {
                snprintf(msg, len, "an exchange of %zu bytes is too large for one message", bytes);
                return -1;
            }
            MPI_Isend(p, (int)bytes, MPI_BYTE, r, tag, MPI_COMM_WORLD, &k->reqs[nreq++]);
        }
    }
    MPI_Waitall(nreq, k->reqs, MPI_STATUSES_IGNORE);
    return 0;
}

/* Gather the last phase's results into rank 0's state (what finish() reads). Returns the
 * bytes rank 0 now holds, or 0. */
static uint64_t gather_state(struct rank *k, unsigned last, char *msg, size_t len, int *bad)
{
    int *counts = calloc((size_t)k->n, sizeof *counts), *displs = calloc((size_t)k->n, sizeof *displs);
    size_t total = 0, bytes;
    uint64_t items = k->wl->items(k->state, last);
    char *base = k->wl->region(k->state, last, 0, items, &total);
    if (!counts || !displs || total > INT_MAX) {
        snprintf(msg, len, "cannot gather %zu bytes of results in one message", total);
        *bad = 1;
        free(counts);
        free(displs);
        return 0;
    }
    for (int r = 0; r < k->n; r++) {
        uint64_t b, e;
        share(k, last, r, &b, &e);
        char *p = k->wl->region(k->state, last, 0, b, &bytes);
        (void)p;
        displs[r] = (int)bytes;
        k->wl->region(k->state, last, b, e, &bytes);
        counts[r] = (int)bytes;
    }
    uint64_t t = sl_now_ns();
    if (k->me == 0)
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_BYTE, base, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
    else
        MPI_Gatherv(base + displs[k->me], counts[k->me], MPI_BYTE, NULL, NULL, NULL, MPI_BYTE, 0,
                    MPI_COMM_WORLD);
    k->comm += sl_now_ns() - t;
    free(counts);
    free(displs);
    return k->me == 0 ? total : 0;
}

static uint64_t tv_ns(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

static void do_run(struct rank *k, const struct sl_mpi_cmd *cmd, struct sl_mpi_reply *rep,
                   uint64_t *busy, uint64_t *wait, int64_t *cpu)
{
    uint64_t t_cmd = sl_now_ns();
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    unsigned T = k->threads, phases = cmd->phases ? cmd->phases : 1;
    struct thread_rec *recs = calloc(T, sizeof *recs);
    struct sl_partial *parts = calloc((size_t)k->n, sizeof *parts), mine = {0};
    int failed = 0;
    if (!k->wl || !recs || !parts) {
        rep->rc = k->wl ? -SL_ENOMEM : -SL_EINVAL;
        snprintf(rep->error, sizeof rep->error, k->wl ? "out of memory" : "run before set-up");
        free(recs);
        free(parts);
        /* the others are at the barrier: join them so they do not wait forever */
        MPI_Barrier(MPI_COMM_WORLD);
        return;
    }
    sl_kernel_fn kernel = k->wl->kernel[cmd->variant == SL_SCALAR ? SL_SCALAR : SL_VECTOR];
    k->comm = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    uint64_t release = sl_now_ns();
    k->comm += release - t_cmd; /* waiting for the last rank's command is part of the barrier */
#pragma omp parallel num_threads(T)
    {
        unsigned id = (unsigned)omp_get_thread_num();
        struct thread_rec *rec = &recs[id];
        rec->start = sl_now_ns();
        for (unsigned ph = 0; ph < phases; ph++) {
            uint64_t rb, re, b, e;
            share(k, ph, k->me, &rb, &re);
            sl_split(re - rb, T, id, &b, &e);
            if (b < e) {
                uint64_t t = sl_now_ns();
                kernel(k->state, ph, rb + b, rb + e, &rec->part);
                rec->busy += sl_now_ns() - t;
            }
            if (phases > 1 && ph + 1 < phases) {
                uint64_t w = sl_now_ns();
#pragma omp barrier
#pragma omp master
                {
                    uint64_t t = sl_now_ns();
                    if (!failed && exchange(k, ph, rep->error, sizeof rep->error) != 0)
                        failed = 1;
                    k->comm += sl_now_ns() - t;
                }
#pragma omp barrier
                rec->wait += sl_now_ns() - w;
            }
        }
        rec->end = sl_now_ns();
        rec->cpu = sched_getcpu();
    }
    uint64_t first_end = 0, last_start = 0;
    for (unsigned i = 0; i < T; i++) {
        busy[i] = recs[i].busy;
        wait[i] = recs[i].wait;
        cpu[i] = recs[i].cpu;
        sl_workload_combine(k->wl, &mine, &recs[i].part);
        last_start = recs[i].start > last_start ? recs[i].start : last_start;
        first_end = recs[i].end > first_end ? recs[i].end : first_end;
    }
    uint64_t t = sl_now_ns();
    MPI_Gather(&mine, sizeof mine, MPI_BYTE, parts, sizeof mine, MPI_BYTE, 0, MPI_COMM_WORLD);
    k->comm += sl_now_ns() - t;
    if (k->me == 0)
        for (int r = 0; r < k->n; r++)
            sl_workload_combine(k->wl, &rep->result, &parts[r]);
    if (k->wl->finish && k->wl->region)
        rep->state_bytes = gather_state(k, phases - 1, rep->error, sizeof rep->error, &failed);
    rep->rc = failed ? -SL_EIO : 0;
    rep->threads = T;
    rep->start_ns = last_start - release;
    rep->end_ns = first_end - release;
    rep->comm_ns = k->comm;
    rep->pre_ns = release - t_cmd;
    getrusage(RUSAGE_SELF, &r1);
    rep->user_ns = tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime);
    rep->sys_ns = tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime);
    rep->inner_ns = sl_now_ns() - t_cmd;
    free(recs);
    free(parts);
}

static int connect_engine(const char *addr)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *token = NULL;
    struct rank k = {.threads = 1, .fd = -1};
    int provided;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--connect") == 0)
            addr = argv[i + 1];
        else if (strcmp(argv[i], "--token") == 0)
            token = argv[i + 1];
        else if (strcmp(argv[i], "--threads") == 0)
            k.threads = (unsigned)atoi(argv[i + 1]);
    }
    if (!addr || !token || strlen(token) != SL_MPI_TOKEN_LEN || k.threads < 1 ||
        k.threads > SL_MAX_WORKERS) {
        fprintf(stderr, "usage: scalelab-mpi-rank --connect ADDR:PORT --token HEX --threads N "
                        "(started by the engine's mpi backend under mpirun)\n");
        return 2;
    }
    /* Die with mpirun (the server kills the engine's process group, mpirun with it; we are
     * in a group of our own). A parent gone before this call shows as a new parent. */
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return 1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &k.me);
    MPI_Comm_size(MPI_COMM_WORLD, &k.n);
    k.reqs = calloc(2 * (size_t)k.n, sizeof *k.reqs);
    /* busy, wait and cpu of each thread, sent as one block after the reply */
    uint64_t *busy = calloc(3 * (size_t)k.threads, sizeof *busy), *wait = busy + k.threads;
    int64_t *cpu = (int64_t *)(busy + 2 * k.threads);
    struct sl_mpi_hello h = {.rank = (uint32_t)k.me, .ranks = (uint32_t)k.n,
                             .threads = k.threads, .pid = getpid(),
                             .version = SL_MPI_PROTO_VERSION};
    memcpy(h.token, token, SL_MPI_TOKEN_LEN);
    gethostname(h.host, sizeof h.host - 1);
    k.fd = connect_engine(addr);
    if (k.fd < 0 || !k.reqs || !busy || sl_write_all(k.fd, &h, sizeof h) != 0) {
        fprintf(stderr, "scalelab-mpi-rank %d: cannot reach the engine at %s: %s\n", k.me, addr,
                strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    struct sl_mpi_cmd cmd;
    while (sl_read_all(k.fd, &cmd, sizeof cmd) == 0 && cmd.op != SL_MPI_QUIT) {
        struct sl_mpi_reply rep;
        memset(&rep, 0, sizeof rep);
        if (cmd.op == SL_MPI_SETUP) {
            do_setup(&k, &cmd, &rep);
            if (sl_write_all(k.fd, &rep, sizeof rep) != 0)
                break;
        } else if (cmd.op == SL_MPI_RUN) {
            do_run(&k, &cmd, &rep, busy, wait, cpu);
            size_t extra = rep.state_bytes;
            void *state = NULL;
            if (extra) {
                size_t bytes;
                unsigned last = (cmd.phases ? cmd.phases : 1) - 1;
                state = k.wl->region(k.state, last, 0, k.wl->items(k.state, last), &bytes);
            }
            if (sl_write_all(k.fd, &rep, sizeof rep) != 0 ||
                sl_write_all(k.fd, busy, 3 * k.threads * sizeof *busy) != 0 ||
                (extra && sl_write_all(k.fd, state, extra) != 0))
                break;
        }
    }
    /* The engine said quit, or went away: either way every rank sees it at once. */
    if (k.wl)
        k.wl->teardown(k.state);
    close(k.fd);
    free(busy);
    free(k.reqs);
    MPI_Finalize();
    return 0;
}
