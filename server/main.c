/* main.c — scalelab-server: options, start-up in order, a clean stop on SIGINT/SIGTERM.
 *
 * Every option is a flag and an environment variable (the flag wins). SIGINT and SIGTERM
 * are blocked before any thread starts, so only sigwait() in main sees them; the stop then
 * runs in order: the queue (the running run is killed and stored as interrupted, its
 * listeners told), the event streams, HTTP, the stores.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accesslog.h"
#include "catalog.h"
#include "hostinfo.h"
#include "server.h"
#include "sl.h"

#include "openapi_json.h" /* generated from docs/openapi.json */

static const char usage_text[] =
    "usage: scalelab-server [options]\n"
    "  --listen HOST:PORT   address to serve (SCALELAB_LISTEN; default 127.0.0.1:8080; port 0 = any)\n"
    "  --db PATH            SQLite database (SCALELAB_DB; default $SCALELAB_DATA/scalelab.db,\n"
    "                       SCALELAB_DATA defaulting to ./data)\n"
    "  --static DIR         files served at / (SCALELAB_STATIC; default: the checkout's static/)\n"
    "  --engine PATH        scalelab-engine to run (SCALELAB_ENGINE; default: beside this binary)\n"
    "  --token TOKEN        bearer token required for POST/DELETE (SCALELAB_TOKEN); required to\n"
    "                       listen on a non-loopback address\n"
    "  --token-file FILE    read the token from FILE's first line (SCALELAB_TOKEN_FILE), so it\n"
    "                       is not in argv (/proc/PID/cmdline) or the environment\n"
    "  --allowed-host NAME  a Host name to answer besides the listen address and localhost\n"
    "                       (repeatable; SCALELAB_ALLOWED_HOSTS=a,b); others get 421\n"
    "  --max-cores N        cores a run may use without oversubscribe (SCALELAB_MAX_CORES;\n"
    "                       default: this host's CPUs)\n"
    "  --max-queue N        runs that may wait (SCALELAB_MAX_QUEUE; default 16)\n"
    "  --run-timeout S      seconds a run may take (SCALELAB_RUN_TIMEOUT; default 3600, 0 = none)\n"
    "  --threads N          HTTP threads (SCALELAB_THREADS; default: CPUs, at least 2)\n"
    "  --max-listeners N    live event streams at once (SCALELAB_MAX_LISTENERS; default 256)\n"
    "  --max-listeners-per-client N  ... from one client address (SCALELAB_MAX_LISTENERS_PER_CLIENT;\n"
    "                       default 32)\n"
    "  --no-access-log      no line per request (SCALELAB_ACCESS_LOG=0)\n"
    "  --access-log FILE    write the access log to FILE instead of stderr\n"
    "                       (SCALELAB_ACCESS_LOG_FILE); reopened on SIGHUP (logrotate)\n"
    "  --access-log-max N   bytes before FILE is renamed FILE.1 and started anew\n"
    "                       (SCALELAB_ACCESS_LOG_MAX; default 67108864, 0 = no bound)\n"
    "  --idle-timeout S     seconds an idle or half-sent connection is kept (SCALELAB_IDLE_TIMEOUT;\n"
    "                       default 15)\n"
    "  --programs DIR       folder of program definitions (SCALELAB_PROGRAMS; default: the\n"
    "                       checkout's programs/)\n"
    "  --probe-retry S      seconds before a program found unavailable is probed again, so an\n"
    "                       installed package shows without a restart (SCALELAB_PROBE_RETRY;\n"
    "                       default 30, 0 = at every listing)\n"
    "  --allow-commands     accept ad-hoc \"command\" runs through the API: any client may then\n"
    "                       run any program as this user; loopback only, or with --token\n"
    "  --mpi-hostfile FILE  the mpirun hostfile jobs may name to place mpi ranks on several\n"
    "                       hosts (SCALELAB_MPI_HOSTFILE; default: none, ranks run here)\n"
    "  --check              check the database's integrity, print ok, and exit\n"
    "  --help, --version\n";

static int fail(int status, const char *fmt, const char *arg)
{
    fprintf(stderr, "scalelab-server: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return status;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int set_listen(struct sl_config *c, const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof c->listen_host)
        return -1;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && h[hl - 1] == ']') { /* [::1]:8080 */
        h++;
        hl -= 2;
    }
    memcpy(c->listen_host, h, hl);
    c->listen_host[hl] = '\0';
    return parse_uint(colon + 1, 0, 65535, &c->listen_port);
}

static int is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

/* Directory of this executable, for defaults that live beside it. */
static void exe_dir(char *buf, size_t len)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) {
        snprintf(buf, len, ".");
        return;
    }
    path[n] = '\0';
    snprintf(buf, len, "%s", dirname(path));
}

static void defaults(struct sl_config *c)
{
    char dir[900]; /* leaves room for the names appended below */
    exe_dir(dir, sizeof dir);
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    const char *data = getenv("SCALELAB_DATA");
    snprintf(c->db, sizeof c->db, "%s/scalelab.db", data && *data ? data : "data");
    snprintf(c->engine, sizeof c->engine, "%s/scalelab-engine", dir);
    /* build/bin/ -> the checkout's static/; an installed layout sets --static. */
    struct stat st;
    snprintf(c->static_dir, sizeof c->static_dir, "%s/../../static", dir);
    if (stat(c->static_dir, &st) != 0)
        snprintf(c->static_dir, sizeof c->static_dir, "static");
    snprintf(c->programs_dir, sizeof c->programs_dir, "%s/../../programs", dir);
    if (stat(c->programs_dir, &st) != 0)
        snprintf(c->programs_dir, sizeof c->programs_dir, "programs");
    c->max_cores = sl_cpus_allowed();
    c->max_queue = 16;
    c->run_timeout = 3600;
    c->probe_retry = 30;
    c->threads = sl_cpus_allowed() < 2 ? 2 : sl_cpus_allowed();
    c->access_log = 1;
    c->access_log_max = 64u << 20;
    c->conn_timeout = 15;
    c->max_listeners = 256;
    c->max_listeners_per_client = 32;
}

enum { O_LISTEN = 256, O_DB, O_STATIC, O_ENGINE, O_TOKEN, O_TOKEN_FILE, O_HOST, O_CORES,
       O_QUEUE, O_TIMEOUT, O_THREADS, O_NOLOG, O_LOGFILE, O_LOGMAX, O_IDLE, O_CHECK, O_HELP,
       O_VERSION, O_PROGRAMS, O_ALLOWCMD, O_LISTENERS, O_LISTENERS_CLIENT, O_HOSTFILE, O_PROBE_RETRY };

/* The token from the first line of path (trailing white space dropped). 0 or -1. */
static int read_token_file(struct sl_config *c, const char *path)
{
    FILE *f = fopen(path, "re");
    char line[sizeof c->token + 2];
    if (!f)
        return -1;
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                 line[n - 1] == '\t'))
        line[--n] = '\0';
    if (n == 0 || n >= sizeof c->token)
        return -1;
    memcpy(c->token, line, n + 1);
    return 0;
}

/* Add a Host name (or several, comma-separated) to the allowed ones. 0 or -1. */
static int add_allowed_hosts(struct sl_config *c, const char *list)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *h = strtok_r(buf, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
        while (*h == ' ')
            h++;
        size_t n = strlen(h);
        while (n && h[n - 1] == ' ')
            h[--n] = '\0';
        if (n && h[n - 1] == '.')
            h[--n] = '\0';
        if (n == 0 || n >= sizeof c->allowed_hosts[0] || c->n_allowed_hosts >= SL_MAX_ALLOWED_HOSTS ||
            strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != n)
            return -1;
        memcpy(c->allowed_hosts[c->n_allowed_hosts++], h, n + 1);
    }
    return 0;
}

/* Apply one option. Returns -1 to go on, else an exit status. */
static int apply_option(struct sl_config *c, int opt, const char *val, int *check)
{
    unsigned u;
    switch (opt) {
    case O_LISTEN:
        if (set_listen(c, val))
            return fail(2, "--listen takes HOST:PORT such as 127.0.0.1:8080, not '%s'", val);
        break;
    case O_DB:
        snprintf(c->db, sizeof c->db, "%s", val);
        break;
    case O_STATIC:
        snprintf(c->static_dir, sizeof c->static_dir, "%s", val);
        break;
    case O_ENGINE:
        snprintf(c->engine, sizeof c->engine, "%s", val);
        break;
    case O_TOKEN:
        snprintf(c->token, sizeof c->token, "%s", val);
        break;
    case O_TOKEN_FILE:
        if (read_token_file(c, val))
            return fail(2, "--token-file: cannot read a token (one line, 1 to 255 characters) "
                           "from '%s'", val);
        break;
    case O_HOST:
        if (add_allowed_hosts(c, val))
            return fail(2, "--allowed-host takes a DNS name such as scalelab.example.org "
                           "(at most 16 names), not '%s'", val);
        break;
    case O_LOGFILE:
        snprintf(c->access_log_file, sizeof c->access_log_file, "%s", val);
        break;
    case O_LOGMAX:
        if (parse_uint(val, 0, 4000000000u, &u))
            return fail(2, "--access-log-max takes bytes from 0 to 4000000000, not '%s'", val);
        c->access_log_max = u;
        break;
    case O_IDLE:
        if (parse_uint(val, 1, 3600, &c->conn_timeout))
            return fail(2, "--idle-timeout takes seconds from 1 to 3600, not '%s'", val);
        break;
    case O_CORES:
        if (parse_uint(val, 1, SL_MAX_WORKERS, &c->max_cores))
            return fail(2, "--max-cores takes a whole number from 1 to 1024, not '%s'", val);
        break;
    case O_QUEUE:
        if (parse_uint(val, 1, 10000, &c->max_queue))
            return fail(2, "--max-queue takes a whole number from 1 to 10000, not '%s'", val);
        break;
    case O_TIMEOUT:
        if (parse_uint(val, 0, 30 * 86400, &u))
            return fail(2, "--run-timeout takes seconds from 0 to 2592000, not '%s'", val);
        c->run_timeout = u;
        break;
    case O_THREADS:
        if (parse_uint(val, 1, 256, &c->threads))
            return fail(2, "--threads takes a whole number from 1 to 256, not '%s'", val);
        break;
    case O_LISTENERS:
        if (parse_uint(val, 1, 100000, &c->max_listeners))
            return fail(2, "--max-listeners takes a whole number from 1 to 100000, not '%s'", val);
        break;
    case O_LISTENERS_CLIENT:
        if (parse_uint(val, 1, 100000, &c->max_listeners_per_client))
            return fail(2, "--max-listeners-per-client takes a whole number from 1 to 100000, not '%s'", val);
        break;
    case O_NOLOG:
        c->access_log = 0;
        break;
    case O_HOSTFILE:
        if (access(val, R_OK) != 0 || strlen(val) >= sizeof c->mpi_hostfile)
            return fail(2, "--mpi-hostfile: cannot read '%s'", val);
        snprintf(c->mpi_hostfile, sizeof c->mpi_hostfile, "%s", val);
        break;
    case O_CHECK:
        *check = 1;
        break;
    case O_PROGRAMS:
        snprintf(c->programs_dir, sizeof c->programs_dir, "%s", val);
        break;
    case O_PROBE_RETRY:
        if (parse_uint(val, 0, 86400, &c->probe_retry))
            return fail(2, "--probe-retry takes seconds from 0 to 86400, not '%s'", val);
        break;
    case O_ALLOWCMD:
        c->allow_commands = 1;
        break;
    case O_HELP:
        fputs(usage_text, stdout);
        return 0;
    case O_VERSION:
        printf("scalelab-server %s\n", SL_VERSION);
        return 0;
    default:
        return fail(2, "unknown or incomplete option '%s' (see --help)", val ? val : "?");
    }
    return -1;
}

/* Options from the environment, then from flags (a flag wins). Returns -1 to go on, else an
 * exit status. */
static int configure(struct sl_config *c, int argc, char **argv, int *check)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN}, {"db", required_argument, NULL, O_DB},
        {"static", required_argument, NULL, O_STATIC}, {"engine", required_argument, NULL, O_ENGINE},
        {"token", required_argument, NULL, O_TOKEN},
        {"token-file", required_argument, NULL, O_TOKEN_FILE},
        {"allowed-host", required_argument, NULL, O_HOST},
        {"access-log", required_argument, NULL, O_LOGFILE},
        {"access-log-max", required_argument, NULL, O_LOGMAX},
        {"idle-timeout", required_argument, NULL, O_IDLE},
        {"max-cores", required_argument, NULL, O_CORES},
        {"max-queue", required_argument, NULL, O_QUEUE},
        {"run-timeout", required_argument, NULL, O_TIMEOUT},
        {"threads", required_argument, NULL, O_THREADS}, {"no-access-log", no_argument, NULL, O_NOLOG},
        {"max-listeners", required_argument, NULL, O_LISTENERS},
        {"max-listeners-per-client", required_argument, NULL, O_LISTENERS_CLIENT},
        {"check", no_argument, NULL, O_CHECK}, {"help", no_argument, NULL, O_HELP},
        {"mpi-hostfile", required_argument, NULL, O_HOSTFILE},
        {"version", no_argument, NULL, O_VERSION}, {"programs", required_argument, NULL, O_PROGRAMS},
        {"probe-retry", required_argument, NULL, O_PROBE_RETRY},
        {"allow-commands", no_argument, NULL, O_ALLOWCMD}, {NULL, 0, NULL, 0}};
    static const struct {
        const char *env;
        int opt;
    } envs[] = {{"SCALELAB_LISTEN", O_LISTEN},   {"SCALELAB_DB", O_DB},
                {"SCALELAB_STATIC", O_STATIC},   {"SCALELAB_ENGINE", O_ENGINE},
                {"SCALELAB_TOKEN", O_TOKEN},     {"SCALELAB_TOKEN_FILE", O_TOKEN_FILE},
                {"SCALELAB_ALLOWED_HOSTS", O_HOST}, {"SCALELAB_ACCESS_LOG_FILE", O_LOGFILE},
                {"SCALELAB_ACCESS_LOG_MAX", O_LOGMAX}, {"SCALELAB_IDLE_TIMEOUT", O_IDLE},
                {"SCALELAB_MAX_CORES", O_CORES},
                {"SCALELAB_MAX_QUEUE", O_QUEUE}, {"SCALELAB_RUN_TIMEOUT", O_TIMEOUT},
                {"SCALELAB_THREADS", O_THREADS}, {"SCALELAB_PROGRAMS", O_PROGRAMS},
                {"SCALELAB_MAX_LISTENERS", O_LISTENERS},
                {"SCALELAB_MAX_LISTENERS_PER_CLIENT", O_LISTENERS_CLIENT},
                {"SCALELAB_MPI_HOSTFILE", O_HOSTFILE}, {"SCALELAB_PROBE_RETRY", O_PROBE_RETRY}};
    int rc, opt;
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        const char *val = getenv(envs[i].env);
        if (val && *val && (rc = apply_option(c, envs[i].opt, val, check)) >= 0)
            return rc;
    }
    const char *log = getenv("SCALELAB_ACCESS_LOG");
    if (log && strcmp(log, "0") == 0)
        c->access_log = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if ((rc = apply_option(c, opt, opt == '?' || opt == ':' ? argv[optind - 1] : optarg,
                               check)) >= 0)
            return rc;
    if (optind < argc)
        return fail(2, "unexpected argument '%s' (see --help)", argv[optind]);
    return -1;
}

/* mkdir -p of the directory holding path. */
static void make_parent(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    mkdir(dir, 0755);
}

static int check_db(const struct sl_config *c)
{
    char err[512];
    struct sl_store *st = sl_store_open(c->db, err, sizeof err);
    if (!st)
        return fail(1, "%s", err);
    int rc = sl_store_check(st, err, sizeof err);
    sl_store_close(st);
    if (rc)
        return fail(1, "integrity check failed: %s", err);
    puts("ok");
    return 0;
}

int main(int argc, char **argv)
{
    static struct sl_server srv;
    int check = 0, rc;
    char err[512];
    defaults(&srv.cfg);
    if ((rc = configure(&srv.cfg, argc, argv, &check)) >= 0)
        return rc;
    if (check)
        return check_db(&srv.cfg);
    /* The token now lives in our memory only: nothing started later inherits it. */
    unsetenv("SCALELAB_TOKEN");
    if (!is_loopback(srv.cfg.listen_host) && !srv.cfg.token[0])
        return fail(2, "refusing to listen on %s without a token: set --token or SCALELAB_TOKEN "
                       "(anyone who can reach it could start runs)",
                    srv.cfg.listen_host);
    if (srv.cfg.allow_commands && !is_loopback(srv.cfg.listen_host) && !srv.cfg.token[0])
        return fail(2, "refusing --allow-commands on %s without a token: anyone who can reach it "
                       "could run any program as this user",
                    srv.cfg.listen_host);
    if (access(srv.cfg.engine, X_OK) != 0)
        return fail(1, "cannot run the engine at %s: set --engine or SCALELAB_ENGINE",
                    srv.cfg.engine);

    if (srv.cfg.access_log && !(srv.log = sl_accesslog_open(srv.cfg.access_log_file,
                                                            srv.cfg.access_log_max, err, sizeof err)))
        return fail(1, "%s", err);

    /* Before any thread exists: only sigwait() below receives these (SIGHUP: reopen the
     * access log after logrotate moved it). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Orphans of a killed or crashed engine (its worker processes) come back to us, to be
     * killed and reaped by the queue: nothing of a run outlives it, container or not. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    make_parent(srv.cfg.db);
    if (!(srv.writer = sl_store_open(srv.cfg.db, err, sizeof err)) ||
        !(srv.reader = sl_store_open(srv.cfg.db, err, sizeof err)))
        return fail(1, "%s", err);
    srv.started = sl_queue_now();
    int stale = sl_store_interrupt_running(srv.writer, srv.started,
                                           "the server stopped while the run was running");
    if (stale > 0)
        fprintf(stderr, "scalelab-server: %d run(s) left running by an earlier stop are now "
                        "interrupted\n", stale);

    struct sl_host host;
    sl_host_probe(&host);
    srv.host = sl_host_to_json(&host);
    srv.workloads = sl_catalog_workloads();
    srv.backends = sl_catalog_backends();
    if (!(srv.programs = sl_programs_load(srv.cfg.programs_dir, err, sizeof err)))
        return fail(1, "%s", err);
    sl_programs_retry_after(srv.programs, srv.cfg.probe_retry);
    char cpath[1024];
    if (sl_calibrate_default_path(cpath, sizeof cpath) &&
        sl_calibrate_load(&srv.calib, cpath) == 0 && strcmp(srv.calib.cpu_model, host.cpu_model) == 0)
        srv.have_calib = 1;
    srv.openapi = openapi_json;
    if (!(srv.analyses = sl_cache_new(64)) || !(srv.documents = sl_cache_new(32)))
        return fail(1, "%s", "out of memory");

    struct sl_queue_opts qo = {srv.cfg.engine, srv.cfg.max_queue, srv.cfg.run_timeout};
    struct sl_events_limits el = {15, srv.cfg.max_listeners, srv.cfg.max_listeners_per_client, 0};
    if (!(srv.events = sl_events_new(&el)) || !(srv.queue = sl_queue_new(&qo, srv.writer, srv.events)))
        return fail(1, "%s", "could not start the run queue");
    int64_t queued[10000];
    int nq = sl_store_queued(srv.writer, queued, (int)(sizeof queued / sizeof queued[0]));
    for (int i = 0; i < nq; i++)
        if (sl_queue_submit(srv.queue, queued[i]) != 0)
            sl_store_run_finish(srv.writer, queued[i], SL_RUN_CANCELLED,
                                "the queue was full when the server restarted", NULL,
                                sl_queue_now());

    if (sl_http_start(&srv, err, sizeof err) != 0)
        return fail(1, "%s", err);
    const char *shown = srv.cfg.listen_host;
    printf("scalelab-server listening on http://%s%s%s:%u/\n", strchr(shown, ':') ? "[" : "",
           shown, strchr(shown, ':') ? "]" : "", sl_http_port(&srv));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGHUP)
        if (sl_accesslog_reopen(srv.log) != 0)
            fprintf(stderr, "scalelab-server: cannot reopen the access log %s: %s\n",
                    srv.cfg.access_log_file, strerror(errno));
    fprintf(stderr, "scalelab-server: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
    sl_queue_free(srv.queue);       /* the running run: killed, stored as interrupted */
    sl_events_end_all(srv.events);  /* streams end; suspended connections resume */
    sl_http_stop(&srv);
    sl_events_free(srv.events);
    sl_store_close(srv.reader);
    sl_store_close(srv.writer);
    sl_accesslog_free(srv.log);
    json_decref(srv.host);
    json_decref(srv.workloads);
    sl_programs_free(srv.programs);
    json_decref(srv.backends);
    sl_cache_free(srv.analyses);
    sl_cache_free(srv.documents);
    return 0;
}
