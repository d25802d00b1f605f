/* sweep.c — run a job's points: set-up per size, warm-up, interleaved timed rounds. */
#include "sweep.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "analysis.h"
#include "sl.h"

struct size_slot {
    double params[SL_WL_MAX_PARAMS]; /* the workload's parameters at this size */
    void *state;                     /* set up lazily, torn down at the end */
    struct sl_shape shape;           /* what one run does */
    unsigned touch_workers;          /* workers that first-touch the data */
    int have_ref;                    /* a verified result to compare exact results with */
    struct sl_partial ref;
    char ref_from[48];               /* "serial at 1 core" */
};

struct sl_sweep {
    const struct sl_job *job;
    struct sl_point *points;
    unsigned npoints;
    struct size_slot sizes[SL_MAX_CORE_COUNTS];
    unsigned nsizes;
    uint64_t *busy;                  /* scratch: per-worker busy times of one run */
    uint64_t *wait;                  /* scratch: per-worker barrier waits of one run */
    int *cpus;                       /* scratch: per-worker CPU it finished on */
    struct sl_command_result cres;   /* a program's last run (output, report) */
    char unit[32];                   /* a program's unit of work, as it reported it */
};

const char *sl_point_name(const struct sl_point *p)
{
    return p->be ? p->be->name : p->cmd->name;
}

/* Points of a program job: every program at every core count (a program that ignores
 * {cores} at 1 core only). */
static void plan_programs(struct sl_sweep *s, const struct sl_job *job)
{
    s->nsizes = 1;
    for (unsigned k = 0; k < job->nprograms; k++)
        for (unsigned c = 0; c < job->ncores; c++) {
            unsigned cores = job->programs[k].parallel ? job->cores[c] : 1;
            if (!job->programs[k].parallel && c > 0)
                break;
            s->points[s->npoints++] = (struct sl_point){.cmd = job->programs[k].cmd, .cores = cores};
        }
}

struct sl_sweep *sl_sweep_new(const struct sl_job *job)
{
    struct sl_sweep *s = calloc(1, sizeof *s);
    unsigned maxc = 1;
    if (!s)
        return NULL;
    s->job = job;
    s->points = calloc((size_t)(job->nbackends + job->nprograms) * job->ncores, sizeof *s->points);
    for (unsigned i = 0; i < job->ncores; i++)
        maxc = job->cores[i] > maxc ? job->cores[i] : maxc;
    s->busy = calloc(maxc, sizeof *s->busy);
    s->wait = calloc(maxc, sizeof *s->wait);
    s->cpus = calloc(maxc, sizeof *s->cpus);
    if (!s->points || !s->busy || !s->wait || !s->cpus) {
        sl_sweep_free(s);
        return NULL;
    }
    if (!job->wl) {
        plan_programs(s, job);
        return s;
    }
    const struct sl_workload *wl = job->wl;
    /* Sizes: one for strong scaling; one per core count for weak scaling. */
    s->nsizes = job->weak ? job->ncores : 1;
    for (unsigned k = 0; k < s->nsizes; k++) {
        memcpy(s->sizes[k].params, job->params, sizeof job->params);
        if (job->weak)
            s->sizes[k].params[wl->weak_param] = sl_job_weak_value(job, job->cores[k]);
        s->sizes[k].touch_workers = job->weak ? job->cores[k] : 1;
    }
    for (unsigned b = 0; b < job->nbackends; b++) {
        const struct sl_backend *be = job->backends[b];
        int parallel = (be->caps & SL_CAP_PARALLEL) != 0;
        enum sl_variant v = (be->caps & SL_CAP_VARIANT) ? job->variant : be->variant;
        for (unsigned c = 0; c < job->ncores; c++) {
            unsigned cores = job->cores[c];
            if (!parallel && cores != 1) {
                /* A one-core backend runs once per size: at 1 core for strong scaling, and
                 * for weak scaling at each size (so every size has a baseline). */
                if (!job->weak)
                    continue;
            }
            unsigned size = job->weak ? c : 0;
            s->points[s->npoints++] =
                (struct sl_point){.be = be, .cores = parallel ? cores : 1, .variant = v, .size = size};
            if (!job->weak && cores > s->sizes[0].touch_workers && parallel)
                s->sizes[0].touch_workers = cores;
        }
        /* A one-core backend in a strong sweep whose core list lacks 1 still runs once. */
        if (!parallel && !job->weak) {
            int have = 0;
            for (unsigned i = 0; i < s->npoints; i++)
                have |= s->points[i].be == be;
            if (!have)
                s->points[s->npoints++] = (struct sl_point){.be = be, .cores = 1, .variant = v};
        }
    }
    return s;
}

void sl_sweep_free(struct sl_sweep *s)
{
    if (!s)
        return;
    for (unsigned k = 0; k < s->nsizes; k++)
        if (s->sizes[k].state)
            s->job->wl->teardown(s->sizes[k].state);
    sl_command_result_free(&s->cres);
    free(s->points);
    free(s->busy);
    free(s->wait);
    free(s->cpus);
    free(s);
}

unsigned sl_sweep_npoints(const struct sl_sweep *s) { return s->npoints; }
const struct sl_point *sl_sweep_point(const struct sl_sweep *s, unsigned i) { return &s->points[i]; }
double sl_sweep_size(const struct sl_sweep *s, unsigned i)
{
    if (!s->job->wl)
        return sl_job_weak_value(s->job, 1);
    return s->sizes[i].params[s->job->wl->weak_param];
}
unsigned sl_sweep_timed_runs(const struct sl_sweep *s) { return s->npoints * s->job->repeats; }
unsigned sl_sweep_all_runs(const struct sl_sweep *s)
{
    return s->npoints * (s->job->repeats + s->job->warmup);
}

/* --- first touch: the data of each share written by the thread that will read it --- */

struct toucher {
    const struct sl_workload *wl;
    void *state;
    uint64_t items;
    unsigned id, n;
};

static void *touch_main(void *arg)
{
    struct toucher *t = arg;
    uint64_t b, e;
    sl_split(t->items, t->n, t->id, &b, &e);
    if (b < e)
        t->wl->touch(t->state, b, e);
    return NULL;
}

static void touch_parallel(const struct sl_workload *wl, void *state, unsigned n)
{
    uint64_t items = wl->items(state, 0);
    struct toucher *ts = calloc(n, sizeof *ts);
    pthread_t *tids = calloc(n, sizeof *tids);
    unsigned started = 0;
    if (ts && tids)
        for (; started < n; started++) {
            ts[started] = (struct toucher){wl, state, items, started, n};
            if (pthread_create(&tids[started], NULL, touch_main, &ts[started]) != 0)
                break;
        }
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    /* Whatever could not be given to a thread is touched here: correctness first. */
    if (started < n) {
        uint64_t b, e;
        for (unsigned i = started; i < n; i++) {
            sl_split(items, n, i, &b, &e);
            if (b < e)
                wl->touch(state, b, e);
        }
    }
    free(ts);
    free(tids);
}

static int ensure_state(struct sl_sweep *s, unsigned k, char *err, size_t errlen)
{
    struct size_slot *z = &s->sizes[k];
    const struct sl_workload *wl = s->job->wl;
    if (z->state)
        return 0;
    int rc = wl->setup(z->params, &z->state, &z->shape);
    if (rc) {
        z->state = NULL;
        snprintf(err, errlen, "setting up %s at %s = %g failed: %s", wl->name,
                 wl->params[wl->weak_param].name, z->params[wl->weak_param], sl_strerror(rc));
        return rc;
    }
    if (wl->touch)
        touch_parallel(wl, z->state, z->touch_workers);
    return 0;
}

/* --- one run --- */

static uint64_t tv_ns(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

struct usage {
    struct rusage self, kids;
};

static void usage_now(struct usage *u)
{
    getrusage(RUSAGE_SELF, &u->self);
    getrusage(RUSAGE_CHILDREN, &u->kids);
}

static int run_program(struct sl_sweep *s, unsigned pi, unsigned rep, struct sl_measurement *m,
                       char *err, size_t errlen);

static int run_point(struct sl_sweep *s, unsigned pi, unsigned rep, struct sl_measurement *m,
                     char *err, size_t errlen)
{
    const struct sl_job *job = s->job;
    const struct sl_point *pt = &s->points[pi];
    struct size_slot *z = &s->sizes[pt->size];
    if (pt->cmd)
        return run_program(s, pi, rep, m, err, errlen);
    int rc = ensure_state(s, pt->size, err, errlen);
    if (rc)
        return rc;
    struct sl_exec x = {
        .wl = job->wl,
        .state = z->state,
        .kernel = job->wl->kernel[pt->variant],
        .phases = z->shape.phases ? z->shape.phases : 1,
        .workers = pt->cores,
        .affinity = job->affinity,
        .schedule = job->schedule,
        .chunk = job->chunk,
        .params = z->params,
        .threads_per_rank = job->threads_per_rank,
        .hostfile = job->hostfile[0] ? job->hostfile : NULL,
        .oversubscribe = job->oversubscribe,
    };
    if (pt->be->prepare && (rc = pt->be->prepare(&x)) != 0) {
        snprintf(err, errlen, "%s could not get ready for %u workers: %s", pt->be->name,
                 pt->cores, sl_backend_last_error());
        return rc;
    }
    struct sl_timing t = {.busy_ns = s->busy, .wait_ns = s->wait, .cpus = s->cpus};
    for (unsigned i = 0; i < pt->cores; i++)
        s->cpus[i] = -1; /* unknown unless the backend says */
    struct usage u0, u1;
    memset(s->busy, 0, pt->cores * sizeof *s->busy);
    memset(s->wait, 0, pt->cores * sizeof *s->wait);

    usage_now(&u0);
    uint64_t w0 = sl_now_ns();
    rc = pt->be->run(&x, &t);
    uint64_t w1 = sl_now_ns();
    usage_now(&u1);
    if (rc) {
        snprintf(err, errlen, "%s on %u cores failed: %s", pt->be->name, pt->cores,
                 sl_backend_last_error());
        return rc;
    }

    memset(m, 0, sizeof *m);
    m->point = pi;
    m->rep = rep;
    m->backend = pt->be->name;
    m->cores = pt->cores;
    m->variant = pt->variant;
    m->size = z->params[job->wl->weak_param];
    m->wall_ns = w1 - w0;
    m->user_ns = tv_ns(u1.self.ru_utime) - tv_ns(u0.self.ru_utime) + tv_ns(u1.kids.ru_utime) -
                 tv_ns(u0.kids.ru_utime);
    m->sys_ns = tv_ns(u1.self.ru_stime) - tv_ns(u0.self.ru_stime) + tv_ns(u1.kids.ru_stime) -
                tv_ns(u0.kids.ru_stime);
    m->user_ns += t.remote_user_ns; /* mpi ranks: reported by themselves */
    m->sys_ns += t.remote_sys_ns;
#define DELTA(f) ((u1.self.f - u0.self.f) + (u1.kids.f - u0.kids.f))
    m->vcsw = DELTA(ru_nvcsw);
    m->ivcsw = DELTA(ru_nivcsw);
    m->minflt = DELTA(ru_minflt);
    m->majflt = DELTA(ru_majflt);
#undef DELTA
    m->maxrss_kb = u1.self.ru_maxrss > u1.kids.ru_maxrss ? u1.self.ru_maxrss : u1.kids.ru_maxrss;
    m->spawn_ns = t.spawn_ns;
    m->compute_ns = t.compute_ns;
    m->combine_ns = t.combine_ns;
    uint64_t busiest = 0;
    for (unsigned i = 0; i < pt->cores; i++)
        busiest = s->busy[i] > busiest ? s->busy[i] : busiest;
    m->overhead_ns = m->wall_ns > busiest ? m->wall_ns - busiest : 0;
    m->busy_ns = s->busy;
    m->launch_ns = t.launch_ns;
    m->comm_ns = t.comm_ns;
    m->hosts = t.hosts;
    m->nhosts = t.nhosts;
    m->wait_ns = s->wait;
    m->cpus = s->cpus;
    m->result = t.result;
    m->shape = z->shape;
    m->verified = job->wl->verify(z->state, &t.result, &m->value, m->message, sizeof m->message);
    if (m->verified && (job->wl->flags & SL_WL_EXACT)) {
        if (!z->have_ref) {
            z->have_ref = 1;
            z->ref = t.result;
            snprintf(z->ref_from, sizeof z->ref_from, "%s at %u core%s", pt->be->name, pt->cores,
                     pt->cores == 1 ? "" : "s");
        } else if (memcmp(&z->ref, &t.result, sizeof z->ref) != 0) {
            m->verified = 0;
            snprintf(m->message, sizeof m->message,
                     "result differs from %s (count %llu vs %llu, sum %.17g vs %.17g)",
                     z->ref_from, (unsigned long long)t.result.count,
                     (unsigned long long)z->ref.count, t.result.sum, z->ref.sum);
        }
    }
    return 0;
}

/* The value of the phase called name in a program's report, in ns (0 if it gave none). */
static uint64_t phase_ns(const struct sl_report *r, const char *name)
{
    for (unsigned i = 0; i < r->nphases; i++)
        if (strcmp(r->phase_name[i], name) == 0)
            return (uint64_t)(r->phase_s[i] * 1e9);
    return 0;
}

/* Why a program's run failed: its timeout, exit status or signal, and the end of its stderr. */
static void program_failure(const struct sl_command *c, const struct sl_command_result *r,
                            char *msg, size_t len)
{
    char tail[768];
    int n = r->timed_out ? snprintf(msg, len, "timed out after %g s (killed the process group)",
                                    c->timeout_s)
          : r->exited    ? snprintf(msg, len, "exited with status %d", r->code)
                         : snprintf(msg, len, "killed by signal %d (%s)", r->code, strsignal(r->code));
    sl_tail_last(&r->err, tail, sizeof tail);
    if (tail[0] && n > 0 && (size_t)n < len)
        snprintf(msg + n, len - (size_t)n, ": %s", tail);
}

/* One run of a program point: the program's process is the run. A program that fails is a
 * failed measurement (not verified, its stderr as the message) and the sweep goes on; only
 * a program that cannot be started at all stops it. */
static int run_program(struct sl_sweep *s, unsigned pi, unsigned rep, struct sl_measurement *m,
                       char *err, size_t errlen)
{
    const struct sl_job *job = s->job;
    const struct sl_point *pt = &s->points[pi];
    struct size_slot *z = &s->sizes[0];
    struct sl_command_result *r = &s->cres;
    struct sl_command_opts o;
    char why[400];
    sl_job_command_opts(job, pt->cores, &o);
    int rc = sl_command_run(pt->cmd, &o, r, why, sizeof why);
    if (rc) {
        snprintf(err, errlen, "program %s: %s", pt->cmd->name, why);
        return rc;
    }
    const struct sl_report *rep_ = &r->report;
    memset(m, 0, sizeof *m);
    m->point = pi;
    m->rep = rep;
    m->backend = pt->cmd->name;
    m->cores = pt->cores;
    m->variant = SL_VECTOR;
    m->size = sl_sweep_size(s, 0);
    m->wall_ns = r->wall_ns;
    m->user_ns = tv_ns(r->ru.ru_utime);
    m->sys_ns = tv_ns(r->ru.ru_stime);
    m->vcsw = r->ru.ru_nvcsw;
    m->ivcsw = r->ru.ru_nivcsw;
    m->minflt = r->ru.ru_minflt;
    m->majflt = r->ru.ru_majflt;
    m->maxrss_kb = r->ru.ru_maxrss;
    m->spawn_ns = phase_ns(rep_, "startup");
    m->compute_ns = phase_ns(rep_, "compute");
    m->combine_ns = phase_ns(rep_, "combine");
    memset(s->busy, 0, pt->cores * sizeof *s->busy);
    uint64_t busiest = m->compute_ns;
    for (unsigned i = 0; i < rep_->nbusy && i < pt->cores; i++) {
        s->busy[i] = (uint64_t)(rep_->busy_s[i] * 1e9);
        busiest = i == 0 || s->busy[i] > busiest ? s->busy[i] : busiest;
    }
    m->overhead_ns = m->wall_ns > busiest ? m->wall_ns - busiest : 0;
    m->busy_ns = s->busy;
    snprintf(s->unit, sizeof s->unit, "%s", rep_->unit[0] ? rep_->unit : "run");
    m->shape = (struct sl_shape){.work = isfinite(rep_->work) ? (uint64_t)rep_->work : 1,
                                 .unit = s->unit, .phases = 1};
    m->value = rep_->result;
    m->program = r;
    m->keep_output = rep + 1 == job->repeats;
    m->verified = r->exited && r->code == 0 && !r->timed_out;
    if (!m->verified) {
        program_failure(pt->cmd, r, m->message, sizeof m->message);
        m->keep_output = 1;
        return 0;
    }
    if (job->tolerance >= 0 && isfinite(rep_->result)) {
        if (!z->have_ref) {
            z->have_ref = 1;
            z->ref.sum = rep_->result;
            snprintf(z->ref_from, sizeof z->ref_from, "%s at %u cores", pt->cmd->name, pt->cores);
        } else if (fabs(rep_->result - z->ref.sum) > job->tolerance) {
            m->verified = 0;
            snprintf(m->message, sizeof m->message,
                     "result %.17g differs from %s (%.17g) by more than the tolerance %g",
                     rep_->result, z->ref_from, z->ref.sum, job->tolerance);
        }
    }
    return 0;
}

int sl_sweep_run(struct sl_sweep *s, sl_measure_fn on_measure, sl_progress_fn on_progress,
                 void *ctx, char *err, size_t errlen)
{
    const struct sl_job *job = s->job;
    unsigned done = 0, all = sl_sweep_all_runs(s), seq = 0, total = sl_sweep_timed_runs(s);
    struct sl_measurement m;
    char what[96];
    int rc;
    err[0] = '\0';
    for (unsigned p = 0; p < s->npoints; p++)
        for (unsigned w = 0; w < job->warmup; w++) {
            if ((rc = run_point(s, p, 0, &m, err, errlen)))
                return rc;
            if (on_progress) {
                snprintf(what, sizeof what, "warm-up %s x%u", sl_point_name(&s->points[p]),
                         s->points[p].cores);
                on_progress(ctx, ++done, all, what);
            }
        }
    for (unsigned r = 0; r < job->repeats; r++)
        for (unsigned k = 0; k < s->npoints; k++) {
            unsigned p = (k + r) % s->npoints; /* rotate the order every round */
            if ((rc = run_point(s, p, r, &m, err, errlen)))
                return rc;
            m.seq = ++seq;
            m.total = total;
            if (on_progress) {
                snprintf(what, sizeof what, "%s x%u rep %u", sl_point_name(&s->points[p]),
                         s->points[p].cores, r + 1);
                on_progress(ctx, ++done, all, what);
            }
            if (on_measure && on_measure(ctx, &m))
                return 1;
        }
    return 0;
}

/* Text from a program as a JSON string: bytes that are not UTF-8 become '?' (a tail may
 * also begin in the middle of a character). */
static json_t *text_json(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    for (char *p = copy; p && *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy ? copy : "");
    free(copy);
    return j;
}

/* What only a program's run has: how it ended, its own phases and report problems, and
 * (for a point's last run or a failed one) the tails of its output. */
static void program_to_json(json_t *o, const struct sl_measurement *m)
{
    const struct sl_command_result *r = m->program;
    json_t *phases = json_object();
    for (unsigned i = 0; phases && i < r->report.nphases; i++)
        json_object_set_new(phases, r->report.phase_name[i], json_real(r->report.phase_s[i]));
    json_t *exit = json_pack("{sbsi}", "exited", r->exited, "code", r->code);
    if (exit && r->timed_out)
        json_object_set_new(exit, "timed_out", json_true());
    json_object_set_new(o, "exit", exit);
    /* ("phases" is the workload's phase count; a program's named phases are its own) */
    json_object_set_new(o, "program_phases", phases);
    json_object_set_new(o, "reported", json_boolean(r->report.present));
    if (r->report.bad_lines)
        json_object_set_new(o, "report_errors", json_pack("{sIss}", "lines",
                            (json_int_t)r->report.bad_lines, "first", r->report.bad));
    if (m->keep_output) {
        char *out = sl_tail_string(&r->out), *err = sl_tail_string(&r->err);
        json_object_set_new(o, "stdout_tail", text_json(out ? out : ""));
        json_object_set_new(o, "stderr_tail", text_json(err ? err : ""));
        json_object_set_new(o, "output_bytes", json_pack("{sIsI}", "stdout", (json_int_t)r->out.total,
                                                         "stderr", (json_int_t)r->err.total));
        free(out);
        free(err);
    }
}

json_t *sl_measurement_to_json(const struct sl_measurement *m)
{
    json_t *o = json_object(), *busy = json_array(), *wait = json_array(), *cpus = json_array();
    if (!o || !busy || !wait || !cpus) {
        json_decref(o);
        json_decref(busy);
        json_decref(wait);
        json_decref(cpus);
        return NULL;
    }
    for (unsigned i = 0; i < m->cores; i++) {
        json_array_append_new(busy, json_integer((json_int_t)m->busy_ns[i]));
        json_array_append_new(wait, json_integer(m->wait_ns ? (json_int_t)m->wait_ns[i] : 0));
        json_array_append_new(cpus, json_integer(m->cpus ? m->cpus[i] : -1));
    }
    json_object_set_new(o, "type", json_string("measurement"));
    json_object_set_new(o, "seq", json_integer(m->seq));
    json_object_set_new(o, "total", json_integer(m->total));
    json_object_set_new(o, "point", json_integer(m->point));
    json_object_set_new(o, "rep", json_integer(m->rep));
    json_object_set_new(o, "backend", json_string(m->backend));
    json_object_set_new(o, "cores", json_integer(m->cores));
    json_object_set_new(o, "variant", json_string(sl_variant_name(m->variant)));
    json_object_set_new(o, "size", json_real(m->size));
    json_object_set_new(o, "wall_ns", json_integer((json_int_t)m->wall_ns));
    json_object_set_new(o, "user_ns", json_integer((json_int_t)m->user_ns));
    json_object_set_new(o, "sys_ns", json_integer((json_int_t)m->sys_ns));
    json_object_set_new(o, "vcsw", json_integer(m->vcsw));
    json_object_set_new(o, "ivcsw", json_integer(m->ivcsw));
    json_object_set_new(o, "minflt", json_integer(m->minflt));
    json_object_set_new(o, "majflt", json_integer(m->majflt));
    json_object_set_new(o, "maxrss_kb", json_integer(m->maxrss_kb));
    json_object_set_new(o, "spawn_ns", json_integer((json_int_t)m->spawn_ns));
    json_object_set_new(o, "compute_ns", json_integer((json_int_t)m->compute_ns));
    json_object_set_new(o, "combine_ns", json_integer((json_int_t)m->combine_ns));
    json_object_set_new(o, "overhead_ns", json_integer((json_int_t)m->overhead_ns));
    json_object_set_new(o, "busy_ns", busy);
    if (m->nhosts) { /* workers elsewhere (mpi): their launch, communication and hosts */
        json_t *hosts = json_array();
        for (unsigned i = 0; i < m->nhosts; i++)
            json_array_append_new(hosts, json_string(m->hosts[i]));
        json_object_set_new(o, "launch_ns", json_integer((json_int_t)m->launch_ns));
        json_object_set_new(o, "comm_ns", json_integer((json_int_t)m->comm_ns));
        json_object_set_new(o, "hosts", hosts);
    }
    json_object_set_new(o, "wait_ns", wait);
    json_object_set_new(o, "cpus", cpus);
    json_object_set_new(o, "phases", json_integer(m->shape.phases ? m->shape.phases : 1));
    json_object_set_new(o, "result", sl_json_number(m->value));
    json_object_set_new(o, "result_count", json_integer((json_int_t)m->result.count));
    json_object_set_new(o, "result_sum", json_real(m->result.sum));
    json_object_set_new(o, "verified", json_boolean(m->verified));
    if (!m->verified)
        json_object_set_new(o, "message", text_json(m->message));
    json_object_set_new(o, "work", json_integer((json_int_t)m->shape.work));
    json_object_set_new(o, "unit", json_string(m->shape.unit));
    json_object_set_new(o, "bytes", json_real(m->shape.bytes));
    json_object_set_new(o, "flops", json_real(m->shape.flops));
    if (m->program)
        program_to_json(o, m);
    return o;
}

void sl_measurement_to_sample(const struct sl_measurement *m, struct sl_sample *s)
{
    /* Through the JSON line, so the engine and the server (which reads stored lines) build
     * samples with one function and cannot disagree. */
    json_t *o = sl_measurement_to_json(m);
    if (!o || sl_sample_from_json(o, s) != 0)
        memset(s, 0, sizeof *s);
    json_decref(o);
}
