-- schema.sql — scalelab's store, schema version 1: runs, and the measurements of each run.
--
-- A run keeps the job as it was checked, the engine's header line (host, plan, timer,
-- calibration) and its summary line as JSON text: they are read whole and never queried
-- inside, so a column per field would only freeze their shape. A measurement, on the
-- contrary, gets one column per field of the engine's measurement line (engine/sweep.c,
-- sl_measurement_to_json), so that it can be filtered and aggregated in SQL; only busy_ns,
-- whose length is the number of workers, stays a JSON array. Times of day are unix seconds
-- (REAL), durations nanoseconds (INTEGER) as the engine reports them.
--
-- db/store.c embeds this file at build time and runs it, in one transaction, on an empty
-- database; its last statement stamps the version the store checks on every open.

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a deleted run's URL stays dead
    workload    TEXT NOT NULL,                     -- the job's "workload", kept apart for filtering
    status      TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled',
                                  'timed_out', 'interrupted')),
    error       TEXT,                              -- why it failed or stopped; NULL when it did not
    job         TEXT NOT NULL,                     -- JSON: the checked job, every default explicit
    header      TEXT,                              -- JSON: the engine's header line, once started
    summary     TEXT,                              -- JSON: the engine's summary line, once finished
    total       INTEGER NOT NULL DEFAULT 0,        -- timed runs planned (known once started)
    created_at  REAL NOT NULL,                     -- when it was queued
    started_at  REAL,                              -- when the engine started it
    finished_at REAL                               -- when it reached a final status
);

-- The run list filters by status and/or workload and shows the newest first; every index
-- ends with the rowid (id), so each one also serves the "created_at DESC, id DESC" order.
CREATE INDEX runs_status ON runs (status, created_at);
CREATE INDEX runs_workload ON runs (workload, created_at);
CREATE INDEX runs_created ON runs (created_at);

-- The primary key (run_id, seq) is also what reads a run's measurements in order and what
-- the ON DELETE CASCADE of a run walks.
CREATE TABLE measurements (
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,                 -- 1-based position among the run's timed runs
    point        INTEGER,                          -- index of its (backend, cores, size) point
    rep          INTEGER,                          -- repetition of that point, 0-based
    backend      TEXT NOT NULL,                    -- backend name
    cores        INTEGER NOT NULL,                 -- workers
    variant      TEXT,                             -- kernel variant: scalar or vector
    size         REAL,                             -- the workload's size parameter at this point
    wall_ns      INTEGER NOT NULL,                 -- wall time around the backend's run()
    user_ns      INTEGER,                          -- CPU time in user mode
    sys_ns       INTEGER,                          -- CPU time in the kernel
    vcsw         INTEGER,                          -- voluntary context switches
    ivcsw        INTEGER,                          -- involuntary context switches
    minflt       INTEGER,                          -- minor page faults
    majflt       INTEGER,                          -- major page faults
    maxrss_kb    INTEGER,                          -- peak resident set
    spawn_ns     INTEGER,                          -- starting the workers
    compute_ns   INTEGER,                          -- the kernels
    combine_ns   INTEGER,                          -- combining the workers' partial results
    overhead_ns  INTEGER,                          -- wall_ns minus the busiest worker's kernel time
    busy_ns      TEXT,                             -- JSON array: each worker's kernel time
    result       REAL,                             -- the result as a human reads it
    result_count INTEGER,                          -- raw result, integer part: hits, tasks done
    result_sum   REAL,                             -- raw result, real part: a sum, a checksum
    verified     INTEGER NOT NULL CHECK (verified IN (0, 1)), -- 1: verified (and matched)
    message      TEXT,                             -- why it did not verify; NULL when it did
    work         INTEGER,                          -- units of useful work in one run
    unit         TEXT,                             -- what a unit is called ("sample")
    bytes        REAL,                             -- bytes one run moves to or from memory
    flops        REAL,                             -- floating-point operations of one run
    PRIMARY KEY (run_id, seq)
);

PRAGMA user_version = 1;
-- Later versions are migrations in db/store.c (migrations[]): version 2 adds
-- runs.best_speedup, the best measured speedup of the run's summary (runs list); version 3
-- adds measurements.wait_ns (JSON array: each worker's barrier wait) and gives best_speedup
-- the meaning of parallel speedup; version 4 adds measurements.phases (phases per run, a
-- barrier between each two). The measurement columns are listed once, in store.c's
-- fields[], from which its statements and the CSV export are built.
-- Version 5 adds measurements.launch_ns, comm_ns and hosts (the mpi backend's ranks);
-- version 6 adds measurements.cpus (JSON array: the CPU each worker finished on).
