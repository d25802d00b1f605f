// estimate.js — a rough duration of a run before it is launched.
//
// Rough on purpose: typical throughput per core measured on a Zen 4 VM (README, "Figures
// on this machine"), not on the machine that will run the job. It is there so that nobody
// launches a four-hour sweep by accident, not to predict the result.

// Seconds for one timed run of a workload: q = parameters, w = workers, c = cores the
// workers really get (w capped at the host's CPUs), vec = vector kernel.
const RUN_SECONDS = {
  // ~3e9 samples/s per core vectorised, ~6e8 scalar
  pi: (q, w, c, vec) => q.samples / (c * (vec ? 3e9 : 6e8)),
  // ~4e9 doubles/s per core, but all cores together stop at the memory bandwidth (~4.5e9/s)
  sumsq: (q, w, c, vec) => q.n / Math.min(c * (vec ? 4e9 : 1.2e9), 4.5e9),
  // ~9e8 steps/s per chain; a chain never splits, so the slowest worker does ceil(T/w) chains
  euler: (q, w, c) => (Math.ceil(q.trajectories / c) * q.steps) / 9e8,
  // ~2e9 cells/s per core plus ~10 us per anti-diagonal per worker for the barrier
  paths: (q, w, c, vec) => (q.m * q.n) / (c * (vec ? 2e9 : 1.4e9)) + (w > 1 ? (q.m + q.n - 1) * 10e-6 * w : 0),
  // sleeping needs no core: w workers sleep at once even beyond the core count
  sleep: (q, w) => Math.ceil(q.tasks / w) * q.us * 1e-6,
  // ~25 GFLOP/s per core vectorised (2 n^3 flops), ~5 scalar
  matmul: (q, w, c, vec) => (2 * q.n ** 3) / (c * (vec ? 25e9 : 5e9)),
};

// Bytes of data a point sets up (allocated and first touched, ~2.5 GB/s) before it is timed.
const DATA_BYTES = {
  sumsq: (q) => 8 * q.n,
  matmul: (q) => 24 * q.n ** 2,
};
const SETUP_BYTES_PER_S = 2.5e9;

const PER_RUN_S = 0.0005; // bookkeeping, thread or process start per run
const START_S = 0.2;      // engine start, host description, data set-up

/** The parameters of one point: weak scaling multiplies the size by p (matmul's n by p^(1/3)). */
function scaledParams(workload, params, p, weak) {
  if (!weak) return params;
  const size = workload.params.find((d) => d.size);
  if (!size) return params;
  const factor = workload.name === 'matmul' ? Math.cbrt(p) : p;
  return { ...params, [size.name]: Math.round(params[size.name] * factor) };
}

/**
 * The points a job runs, as the engine plans them: every parallel backend at every core
 * count; a one-core backend (serial, simd) once per size (once in strong scaling).
 * Returns [{backend, workers, params, vector}].
 */
export function plannedPoints(job, workload, backends) {
  const weak = job.scaling === 'weak';
  const points = [];
  for (const name of job.backends) {
    const b = backends.find((x) => x.name === name);
    if (!b) continue;
    const vector = b.variant === 'vector' || (b.variant !== 'scalar' && job.variant === 'vector');
    const counts = b.parallel ? job.cores : weak ? job.cores : [1];
    for (const p of new Set(counts)) {
      points.push({ backend: name, workers: b.parallel ? p : 1, params: scaledParams(workload, job.params, p, weak), vector });
    }
  }
  return points;
}

/**
 * Rough seconds the whole job takes: every point (repeats + warmup) times, its data
 * set-up, plus start-up.
 * Returns null when the workload has no model here or an input is missing.
 */
export function estimateSeconds(job, workload, backends, hostCpus) {
  const runSeconds = RUN_SECONDS[workload.name];
  if (!runSeconds) return null;
  const points = plannedPoints(job, workload, backends);
  let total = START_S;
  for (const pt of points) {
    const cores = Math.max(1, Math.min(pt.workers, hostCpus || pt.workers));
    const t = runSeconds(pt.params, pt.workers, cores, pt.vector) + PER_RUN_S;
    total += t * (job.repeats + job.warmup);
    if (DATA_BYTES[workload.name]) total += DATA_BYTES[workload.name](pt.params) / SETUP_BYTES_PER_S;
  }
  return Number.isFinite(total) ? { seconds: total, points: points.length } : null;
}
