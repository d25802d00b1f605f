/* mpi.c — `mpi`: ranks under mpirun, started once per core count, partials reduced with MPI.
 *
 * The route of mpi4py: separate processes with memories of their own, possibly on other
 * hosts, that combine results by messages. The engine stays the coordinator and never links
 * MPI: prepare() runs `mpirun -np R scalelab-mpi-rank --connect ADDR --token T` once per
 * (ranks, threads, hostfile) and every rank connects back over TCP (mpiproto.h). The time
 * from fork to the last rank's hello is the launch, reported as its own figure and never
 * inside a run. Ranks are kept (a few shapes at once, so an interleaved sweep does not
 * relaunch them for every point) and wait in read(), using no CPU, until the next command.
 * A run: one command to every rank; they meet at MPI_Barrier, compute their static share of
 * every phase (exchanging what the next phase reads, for wavefronts), MPI_Gather their
 * partials to rank 0, and each answers with its busy, communication and phase times.
 * mpirun stays in the engine's process group, so the server's kill of that group reaches it;
 * the ranks (which mpirun puts in groups of their own) die with it by PR_SET_PDEATHSIG, and
 * leave by themselves when their connection to the engine closes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "backend.h"
#include "mpiproto.h"
#include "sl.h"

#define MAX_WORLDS 6           /* rank sets kept alive at once (core counts of one sweep) */
#define LAUNCH_TIMEOUT_MS 60000 /* mpirun over ssh to a slow host can take seconds */
#define QUIT_WAIT_MS 3000      /* how long ranks get to leave before mpirun is killed */

struct world {
    pid_t mpirun;                      /* 0: this slot is free */
    unsigned ranks, threads;           /* shape: ranks x OpenMP threads per rank */
    char hostfile[256];                /* "" = this host */
    int oversubscribe;                 /* mpirun --oversubscribe */
    enum sl_affinity affinity;         /* --bind-to none, or core */
    int *fds;                          /* per rank: its connection */
    char (*host)[SL_MPI_HOST_LEN];     /* per rank: its host */
    const char **hosts;                /* per rank: pointers into host, for sl_timing */
    uint64_t launch_ns;                /* fork of mpirun until the last rank's hello */
    const struct sl_workload *wl;      /* what the ranks have set up, NULL if nothing */
    double params[SL_WL_MAX_PARAMS];
    unsigned long used;                /* when last used, to evict the oldest */
    struct sl_mpi_reply *replies;      /* scratch: one per rank */
    uint64_t *busy;                    /* scratch: ranks x threads busy times, then as many
                                        * waits, then as many CPUs (int64) */
};

static struct world worlds[MAX_WORLDS];
static unsigned long use_clock;

/* --- finding the runtime --- */

/* path = dir of this executable + "/" + rel, if that is executable. */
static int beside_self(const char *rel, char *path, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if ((size_t)snprintf(path, len, "%.*s/%s", (int)(len / 2), self, rel) >= len)
        return -1;
    return access(path, X_OK);
}

/* The rank program: $SCALELAB_MPI_RANK, or beside this executable (engine, server), or in
 * ../bin (the unit tests' binary lives in build/tests). */
static int find_rank_exe(char *path, size_t len)
{
    const char *env = getenv("SCALELAB_MPI_RANK");
    if (env && *env) {
        snprintf(path, len, "%s", env);
        return access(path, X_OK);
    }
    if (beside_self("scalelab-mpi-rank", path, len) == 0)
        return 0;
    return beside_self("../bin/scalelab-mpi-rank", path, len);
}

/* mpirun: $SCALELAB_MPIRUN, or the first in PATH. */
static int find_mpirun(char *path, size_t len)
{
    const char *env = getenv("SCALELAB_MPIRUN");
    if (env && *env) {
        snprintf(path, len, "%s", env);
        return access(path, X_OK);
    }
    const char *p = getenv("PATH");
    if (!p)
        p = "/usr/bin:/bin";
    while (*p) {
        size_t n = strcspn(p, ":");
        snprintf(path, len, "%.*s/mpirun", (int)n, p);
        if (n && access(path, X_OK) == 0)
            return 0;
        p += n + (p[n] == ':');
    }
    return -1;
}

static int mpi_probe(char *why, size_t len)
{
#ifndef HAVE_MPI
    snprintf(why, len, "built without MPI: install openmpi-bin and libopenmpi-dev "
                       "(apt-get install openmpi-bin libopenmpi-dev) and rebuild");
    return -SL_EUNAVAIL;
#else
    char path[PATH_MAX];
    if (find_mpirun(path, sizeof path) != 0) {
        snprintf(why, len, "mpirun not found in PATH: install openmpi-bin");
        return -SL_EUNAVAIL;
    }
    if (find_rank_exe(path, sizeof path) != 0) {
        snprintf(why, len, "scalelab-mpi-rank not found beside the engine (make builds it) "
                           "or at $SCALELAB_MPI_RANK");
        return -SL_EUNAVAIL;
    }
    return 0;
#endif
}

/* --- hostfiles --- */

/* Calls fn(name, slots, arg) for every host of an mpirun hostfile ("name [slots=N] ..."; #
 * comments). Returns the number of hosts, or -1 if the file cannot be read. */
static int hostfile_each(const char *path, void (*fn)(const char *, unsigned, void *), void *arg)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int n = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "#\r\n")] = '\0';
        char *save = NULL, *name = strtok_r(line, " \t", &save), *tok;
        unsigned slots = 1;
        if (!name)
            continue;
        while ((tok = strtok_r(NULL, " \t", &save)))
            if (strncmp(tok, "slots=", 6) == 0)
                slots = (unsigned)strtoul(tok + 6, NULL, 10);
        fn(name, slots, arg);
        n++;
    }
    fclose(f);
    return n;
}

static void host_to_json(const char *name, unsigned slots, void *arg)
{
    json_array_append_new(arg, json_pack("{ss si}", "name", name, "slots", (int)slots));
}

json_t *sl_mpi_hosts(const char *hostfile)
{
    json_t *a = json_array();
    if (hostfile && *hostfile) {
        if (hostfile_each(hostfile, host_to_json, a) < 0) {
            json_decref(a);
            return json_null();
        }
        return a;
    }
    char name[SL_MPI_HOST_LEN] = "localhost";
    gethostname(name, sizeof name - 1);
    host_to_json(name, sl_cpus_allowed(), a);
    return a;
}

/* The local address the first remote host of the hostfile would be reached from: where the
 * ranks there can connect back. */
struct pick {
    struct in_addr addr; /* chosen, or INADDR_ANY while none */
};

static void pick_route(const char *name, unsigned slots, void *arg)
{
    struct pick *p = arg;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    (void)slots;
    if (p->addr.s_addr != htonl(INADDR_ANY) || getaddrinfo(name, "9", &hints, &res) != 0)
        return;
    struct sockaddr_in *to = (struct sockaddr_in *)res->ai_addr, me;
    socklen_t ml = sizeof me;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    /* A UDP connect() sends nothing: it only asks the kernel for the route. */
    if (s >= 0 && (ntohl(to->sin_addr.s_addr) >> 24) != 127 &&
        connect(s, res->ai_addr, res->ai_addrlen) == 0 &&
        getsockname(s, (struct sockaddr *)&me, &ml) == 0)
        p->addr = me.sin_addr;
    if (s >= 0)
        close(s);
    freeaddrinfo(res);
}

/* --- connections --- */

static void world_free(struct world *w)
{
    free(w->fds);
    free(w->host);
    free(w->hosts);
    free(w->replies);
    free(w->busy);
    memset(w, 0, sizeof *w);
}

/* Wait for pid up to ms milliseconds; 1 if it ended (reaped), else 0. */
static int reap_within(pid_t pid, int ms)
{
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 1;
        if (waited >= ms)
            return 0;
        usleep(10000);
    }
}

/* Ask the ranks to leave, then make sure mpirun is gone. */
static void world_stop(struct world *w, int polite)
{
    struct sl_mpi_cmd quit = {.op = SL_MPI_QUIT};
    for (unsigned r = 0; w->fds && r < w->ranks; r++)
        if (w->fds[r] >= 0) {
            if (polite)
                sl_write_all(w->fds[r], &quit, sizeof quit);
            close(w->fds[r]);
        }
    if (w->mpirun > 0 && !reap_within(w->mpirun, polite ? QUIT_WAIT_MS : 0)) {
        /* mpirun forwards SIGTERM to its ranks; SIGKILL leaves them to PR_SET_PDEATHSIG. */
        kill(w->mpirun, SIGTERM);
        if (!reap_within(w->mpirun, 1000)) {
            kill(w->mpirun, SIGKILL);
            reap_within(w->mpirun, 1000);
        }
    }
    world_free(w);
}

static void mpi_shutdown(void)
{
    for (unsigned i = 0; i < MAX_WORLDS; i++)
        if (worlds[i].mpirun)
            world_stop(&worlds[i], 1);
}

/* A listening socket on an address the ranks can reach; fills addr "a.b.c.d:port". */
static int listen_for_ranks(const struct world *w, char *addr, size_t len)
{
    struct pick p = {.addr = {htonl(INADDR_ANY)}};
    if (w->hostfile[0])
        hostfile_each(w->hostfile, pick_route, &p);
    if (p.addr.s_addr == htonl(INADDR_ANY))
        p.addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = p.addr, .sin_port = 0};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(fd, (int)w->ranks) != 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        sl_backend_set_error("cannot listen for the ranks on %s: %s", inet_ntoa(p.addr),
                             strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(addr, len, "%s:%u", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
    return fd;
}

/* Start mpirun: its stdout goes to our stderr (our stdout is the JSON protocol). */
static pid_t spawn_mpirun(const struct world *w, const char *addr, const char *token)
{
    char mpirun[PATH_MAX], rank_exe[PATH_MAX], np[16], threads[16], pe[32];
    const char *argv[32];
    int n = 0;
    if (find_mpirun(mpirun, sizeof mpirun) != 0 || find_rank_exe(rank_exe, sizeof rank_exe) != 0) {
        sl_backend_set_error("mpirun or scalelab-mpi-rank is missing");
        return -1;
    }
    snprintf(np, sizeof np, "%u", w->ranks);
    snprintf(threads, sizeof threads, "%u", w->threads);
    snprintf(pe, sizeof pe, "slot:PE=%u", w->threads);
    argv[n++] = mpirun;
    if (geteuid() == 0)
        argv[n++] = "--allow-run-as-root"; /* OpenMPI refuses root otherwise */
    if (w->oversubscribe)
        argv[n++] = "--oversubscribe";
    /* Ranks waiting in MPI (a barrier, an exchange) spin; on a host whose cores are shared
     * (other tenants, the engine, ranks of another core count) a spinning rank holds a core
     * for its whole time slice while the rank it waits for is not running: 10+ ms per run
     * measured here. Yielding while idle costs a system call per poll. An operator may
     * choose otherwise with OMPI_MCA_mpi_yield_when_idle=0. */
    if (!getenv("OMPI_MCA_mpi_yield_when_idle")) {
        argv[n++] = "--mca";
        argv[n++] = "mpi_yield_when_idle";
        argv[n++] = "1";
    }
    argv[n++] = "--bind-to";
    argv[n++] = w->affinity == SL_AFF_NONE ? "none" : "core";
    if (w->affinity != SL_AFF_NONE && w->threads > 1) {
        argv[n++] = "--map-by";
        argv[n++] = pe;
    }
    if (w->hostfile[0]) {
        argv[n++] = "--hostfile";
        argv[n++] = w->hostfile;
    }
    argv[n++] = "-np";
    argv[n++] = np;
    argv[n++] = rank_exe;
    argv[n++] = "--connect";
    argv[n++] = addr;
    argv[n++] = "--token";
    argv[n++] = token;
    argv[n++] = "--threads";
    argv[n++] = threads;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        sl_backend_set_error("fork for mpirun failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(2, 1);
        execv(mpirun, (char *const *)argv);
        fprintf(stderr, "scalelab: cannot run %s: %s\n", mpirun, strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Accept one rank's connection and hello: 1 when it is one of ours, 0 when it was not (ignored),
 * -1 when accept failed, -2 when the rank is from another build (error set). */
static int accept_rank(struct world *w, int lfd, const char *token)
{
    struct sl_mpi_hello h;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), one = 1;
    if (fd < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (sl_read_all(fd, &h, sizeof h) != 0 || memcmp(h.token, token, SL_MPI_TOKEN_LEN) != 0 ||
        h.ranks != w->ranks || h.rank >= w->ranks || w->fds[h.rank] >= 0) {
        close(fd); /* not one of ours, or confused: ignore it */
        return 0;
    }
    if (h.version != SL_MPI_PROTO_VERSION) {
        sl_backend_set_error("scalelab-mpi-rank speaks protocol %u, this engine %d: they come "
                             "from different builds (run make)", h.version, SL_MPI_PROTO_VERSION);
        close(fd);
        return -2;
    }
    tv.tv_sec = 0; /* runs may take as long as they take: the server's timeout bounds them */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    h.host[SL_MPI_HOST_LEN - 1] = '\0';
    w->fds[h.rank] = fd;
    snprintf(w->host[h.rank], SL_MPI_HOST_LEN, "%s", h.host);
    w->hosts[h.rank] = w->host[h.rank];
    return 1;
}

static int world_launch(struct world *w)
{
    unsigned char rnd[SL_MPI_TOKEN_LEN / 2];
    char token[SL_MPI_TOKEN_LEN + 1], addr[64];
    unsigned n = w->ranks, connected = 0;
    w->fds = malloc(n * sizeof *w->fds);
    w->host = calloc(n, sizeof *w->host);
    w->hosts = calloc(n, sizeof *w->hosts);
    w->replies = calloc(n, sizeof *w->replies);
    w->busy = calloc(3 * (size_t)n * w->threads, sizeof *w->busy);
    if (!w->fds || !w->host || !w->hosts || !w->replies || !w->busy) {
        world_free(w);
        sl_backend_set_error("out of memory for %u ranks", n);
        return -SL_ENOMEM;
    }
    for (unsigned r = 0; r < n; r++)
        w->fds[r] = -1;
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        world_free(w);
        sl_backend_set_error("no random bytes for the ranks' token");
        return -SL_ESYS;
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(token + 2 * i, 3, "%02x", rnd[i]);
    int lfd = listen_for_ranks(w, addr, sizeof addr);
    if (lfd < 0) {
        world_free(w);
        return -SL_ESYS;
    }
    uint64_t t0 = sl_now_ns();
    w->mpirun = spawn_mpirun(w, addr, token);
    int rc = w->mpirun > 0 ? 0 : -SL_ESYS;
    while (rc == 0 && connected < n) {
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        int status, pr = poll(&pfd, 1, 100);
        if (pr > 0) {
            int a = accept_rank(w, lfd, token);
            if (a == -1)
                sl_backend_set_error("accepting a rank failed: %s", strerror(errno));
            if (a < 0)
                rc = a == -1 ? -SL_ESYS : -SL_EUNAVAIL;
            if (a > 0)
                connected++;
        } else if (waitpid(w->mpirun, &status, WNOHANG) == w->mpirun) {
            w->mpirun = 0;
            sl_backend_set_error("mpirun ended (%s %d) after %u of %u ranks connected; its "
                                 "messages are on stderr",
                                 WIFEXITED(status) ? "status" : "signal",
                                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                                 connected, n);
            rc = -SL_ECHILD;
        } else if ((sl_now_ns() - t0) / 1000000 > LAUNCH_TIMEOUT_MS) {
            sl_backend_set_error("only %u of %u ranks connected within %d s", connected, n,
                                 LAUNCH_TIMEOUT_MS / 1000);
            rc = -SL_ELIMIT;
        }
    }
    w->launch_ns = sl_now_ns() - t0;
    close(lfd);
    if (rc != 0)
        world_stop(w, 0);
    return rc;
}

/* --- commands --- */

/* Send cmd to every rank; 0 or -SL_ECHILD. */
static int broadcast(struct world *w, const struct sl_mpi_cmd *cmd)
{
    for (unsigned r = 0; r < w->ranks; r++)
        if (sl_write_all(w->fds[r], cmd, sizeof *cmd) != 0) {
            sl_backend_set_error("rank %u on %s is gone (connection lost)", r, w->host[r]);
            return -SL_ECHILD;
        }
    return 0;
}

/* Read rank r's reply and, after a run, its threads' busy times, waits and CPUs (each array
 * of all ranks' threads in w->busy); 0 or a negative code with the error set. */
static int read_reply(struct world *w, unsigned r, int with_busy)
{
    struct sl_mpi_reply *rep = &w->replies[r];
    size_t all = (size_t)w->ranks * w->threads;
    int lost = sl_read_all(w->fds[r], rep, sizeof *rep) != 0 ||
               (with_busy && rep->threads != w->threads);
    for (size_t k = 0; with_busy && !lost && k < 3; k++)
        lost = sl_read_all(w->fds[r], w->busy + k * all + (size_t)r * w->threads,
                           w->threads * sizeof *w->busy) != 0;
    if (lost) {
        sl_backend_set_error("rank %u on %s ended without answering; mpirun's messages are "
                             "on stderr", r, w->host[r]);
        return -SL_ECHILD;
    }
    if (rep->rc != 0) {
        rep->error[sizeof rep->error - 1] = '\0';
        sl_backend_set_error("rank %u on %s: %s", r, w->host[r], rep->error);
        return rep->rc < 0 ? rep->rc : -SL_ECHILD;
    }
    return 0;
}

static int world_setup(struct world *w, const struct sl_exec *x)
{
    struct sl_mpi_cmd cmd = {.op = SL_MPI_SETUP};
    int rc = 0;
    snprintf(cmd.workload, sizeof cmd.workload, "%s", x->wl->name);
    memcpy(cmd.params, x->params, sizeof cmd.params);
    w->wl = NULL;
    if ((rc = broadcast(w, &cmd)) != 0)
        return rc;
    for (unsigned r = 0; r < w->ranks; r++) {
        int e = read_reply(w, r, 0);
        if (e == -SL_ECHILD)
            return e; /* a lost connection: the replies of the others may not come */
        rc = rc ? rc : e;
    }
    if (rc == 0) {
        w->wl = x->wl;
        memcpy(w->params, x->params, sizeof w->params);
    }
    return rc;
}

/* --- the slots --- */

static struct world *world_find(const struct sl_exec *x, unsigned ranks, unsigned threads)
{
    const char *hf = x->hostfile ? x->hostfile : "";
    for (unsigned i = 0; i < MAX_WORLDS; i++) {
        struct world *w = &worlds[i];
        if (w->mpirun && w->ranks == ranks && w->threads == threads &&
            strcmp(w->hostfile, hf) == 0 && w->oversubscribe == x->oversubscribe &&
            (w->affinity == SL_AFF_NONE) == (x->affinity == SL_AFF_NONE))
            return w;
    }
    return NULL;
}

static int mpi_prepare(const struct sl_exec *x)
{
    unsigned threads = x->threads_per_rank ? x->threads_per_rank : 1;
    int rc;
    if (x->workers % threads) {
        sl_backend_set_error("%u cores cannot be split into ranks of %u threads", x->workers,
                             threads);
        return -SL_EINVAL;
    }
    if ((x->wl->flags & SL_WL_WRITES) &&
        (!x->wl->region || (x->phases > 1 && !x->wl->reads))) {
        sl_backend_set_error("%s writes its state but declares no region/reads for ranks to "
                             "exchange", x->wl->name);
        return -SL_EUNAVAIL;
    }
    if (!x->params) {
        sl_backend_set_error("no workload parameters for the ranks to set up from");
        return -SL_EINVAL;
    }
    unsigned ranks = x->workers / threads;
    struct world *w = world_find(x, ranks, threads);
    if (!w) {
        struct world *oldest = &worlds[0];
        for (unsigned i = 0; i < MAX_WORLDS && !w; i++) {
            if (!worlds[i].mpirun)
                w = &worlds[i];
            else if (worlds[i].used < oldest->used)
                oldest = &worlds[i];
        }
        if (!w) {
            world_stop(oldest, 1);
            w = oldest;
        }
        w->ranks = ranks;
        w->threads = threads;
        snprintf(w->hostfile, sizeof w->hostfile, "%s", x->hostfile ? x->hostfile : "");
        w->oversubscribe = x->oversubscribe;
        w->affinity = x->affinity;
        if ((rc = world_launch(w)) != 0)
            return rc;
    }
    w->used = ++use_clock;
    if (w->wl != x->wl || memcmp(w->params, x->params, sizeof w->params) != 0) {
        if ((rc = world_setup(w, x)) != 0) {
            if (rc == -SL_ECHILD)
                world_stop(w, 0);
            return rc;
        }
    }
    return 0;
}

/* Phase times on the engine's clock from durations on the ranks' clocks: the socket's round
 * trip (wall minus rank 0's own view) is split evenly between the way in and the way out. */
static void fill_phases(const struct world *w, uint64_t t0, uint64_t t1, struct sl_timing *t)
{
    const struct sl_mpi_reply *r0 = &w->replies[0];
    uint64_t start = 0, end = 0, comm = 0;
    for (unsigned r = 0; r < w->ranks; r++) {
        start = w->replies[r].start_ns > start ? w->replies[r].start_ns : start;
        end = w->replies[r].end_ns > end ? w->replies[r].end_ns : end;
        comm += w->replies[r].comm_ns;
    }
    uint64_t transit = t1 - t0 > r0->inner_ns ? t1 - t0 - r0->inner_ns : 0;
    uint64_t release = t0 + transit / 2 + r0->pre_ns;
    uint64_t last_start = release + start, last_end = release + end;
    uint64_t now = sl_now_ns();
    if (last_start > t1)
        last_start = t1;
    if (last_end > t1)
        last_end = t1;
    if (last_end < last_start)
        last_end = last_start;
    t->spawn_ns = last_start - t0;
    t->compute_ns = last_end - last_start;
    t->combine_ns = now - last_end;
    t->comm_ns = comm / w->ranks;
}

static int mpi_run(const struct sl_exec *x, struct sl_timing *t)
{
    unsigned threads = x->threads_per_rank ? x->threads_per_rank : 1;
    int rc = mpi_prepare(x);
    if (rc)
        return rc;
    struct world *w = world_find(x, x->workers / threads, threads);
    struct sl_mpi_cmd cmd = {.op = SL_MPI_RUN, .variant = x->kernel == x->wl->kernel[SL_SCALAR]
                                                              ? SL_SCALAR : SL_VECTOR,
                             .phases = x->phases};
    uint64_t t0 = sl_now_ns();
    if ((rc = broadcast(w, &cmd)) != 0)
        goto lost;
    for (unsigned r = 0; r < w->ranks; r++) {
        int e = read_reply(w, r, 1);
        if (e == -SL_ECHILD) {
            rc = e;
            goto lost;
        }
        rc = rc ? rc : e;
    }
    /* Rank 0 then sends what finish() reads: the last phase's results, gathered. */
    uint64_t bytes = w->replies[0].state_bytes;
    if (bytes) {
        size_t have = 0;
        unsigned last = x->phases - 1;
        void *dst = x->wl->region ? x->wl->region(x->state, last, 0, x->wl->items(x->state, last),
                                                  &have)
                                  : NULL;
        if (!dst || have != bytes) {
            sl_backend_set_error("rank 0 sent %llu bytes of state where %zu were expected",
                                 (unsigned long long)bytes, have);
            rc = -SL_ECHILD;
            goto lost;
        }
        if (sl_read_all(w->fds[0], dst, bytes) != 0) {
            sl_backend_set_error("rank 0 on %s ended while sending its results", w->host[0]);
            rc = -SL_ECHILD;
            goto lost;
        }
    }
    if (rc)
        return rc;
    uint64_t t1 = sl_now_ns();
    t->result = w->replies[0].result;
    if (x->wl->finish)
        x->wl->finish(x->state, &t->result);
    size_t all = (size_t)w->ranks * threads;
    memcpy(t->busy_ns, w->busy, all * sizeof *t->busy_ns);
    if (t->wait_ns)
        memcpy(t->wait_ns, w->busy + all, all * sizeof *t->wait_ns);
    for (size_t i = 0; t->cpus && i < all; i++)
        t->cpus[i] = (int)(int64_t)w->busy[2 * all + i];
    fill_phases(w, t0, t1, t);
    for (unsigned r = 0; r < w->ranks; r++) {
        t->remote_user_ns += w->replies[r].user_ns;
        t->remote_sys_ns += w->replies[r].sys_ns;
    }
    t->launch_ns = w->launch_ns;
    t->hosts = w->hosts;
    t->nhosts = w->ranks;
    return 0;
lost:
    world_stop(w, 0);
    return rc;
}

const struct sl_backend sl_be_mpi = {
    .name = "mpi",
    .route = "stands for mpi4py under mpirun; here C ranks of OpenMPI, on one host or several",
    .how = "C: ranks under mpirun started once per core count, static split, MPI_Gather of "
           "partials, boundary exchange per phase",
    .caps = SL_CAP_PARALLEL | SL_CAP_AFFINITY | SL_CAP_VARIANT | SL_CAP_MESSAGES,
    .variant = SL_VECTOR,
    .probe = mpi_probe,
    .prepare = mpi_prepare,
    .run = mpi_run,
    .shutdown = mpi_shutdown,
};
