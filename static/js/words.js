// words.js — a run's analysis in sentences (the run view's #analysis-words).
//
// The figures come from the server's analysis (engine/analysis.c); this module only
// chooses the sentences that carry the lessons: the serial fraction (some work cannot be
// parallelised), where the speedup peaks (overhead can eat the gain), the share of the
// memory bandwidth (memory-bound work stops scaling there), and whether results verified.

import { fmtHost, fmtPercent, fmtSpeedup } from './format.js';

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
const maxOf = (xs) => xs.filter(isNum).reduce((m, x) => Math.max(m, x), -Infinity);
const coresWord = (n) => `${n} core${n === 1 ? '' : 's'}`;

/** One sentence about one backend (analysis.backends[i] and its points). */
function describeBackend(b, points, weak) {
  const parts = [];
  const widest = points.reduce((w, p) => (!w || p.cores > w.cores ? p : w), null);
  const vs = points.every((p) => isNum(p.speedup)) ? 'vs serial' : 'vs its own 1 core';

  if (b.fit && isNum(b.fit.serial_fraction)) parts.push(`serial fraction ${fmtPercent(b.fit.serial_fraction)}`);
  if (weak && isNum(b.gustafson_serial_fraction)) parts.push(`Gustafson serial fraction ${fmtPercent(b.gustafson_serial_fraction)}`);
  if (isNum(b.best_cores_measured)) {
    parts.push(`best at ${coresWord(b.best_cores_measured)} (${fmtSpeedup(b.best_speedup_measured)} ${vs})`);
  }
  if (b.fit && isNum(b.fit.best_cores)) {
    parts.push(`the model peaks at ${coresWord(b.fit.best_cores)} (${fmtSpeedup(b.fit.best_speedup)}): beyond that overhead grows faster than the gain`);
  } else if (b.fit && isNum(b.fit.best_speedup)) {
    parts.push(`the model's limit is ${fmtSpeedup(b.fit.best_speedup)} its 1-core speed however many cores`);
  }
  if (widest && widest.cores > 1 && isNum(widest.efficiency) && widest.efficiency < 0.5) {
    parts.push(`only ${fmtPercent(widest.efficiency)} efficient at ${coresWord(widest.cores)}: overhead or a serial part eats the gain`);
  }
  // Name the machine limit the backend came closer to (needs a calibration): memory
  // bandwidth or peak FLOP rate. Near it, more cores cannot help.
  const bw = maxOf(points.map((p) => p.bw_fraction));
  const fl = maxOf(points.map((p) => p.flops_fraction));
  if (bw > 0 && bw >= fl) {
    parts.push(bw >= 0.6 ? `memory-bound: ${fmtPercent(bw)} of this machine's bandwidth`
      : `${fmtPercent(bw)} of this machine's memory bandwidth`);
  } else if (fl > 0) {
    parts.push(fl >= 0.6 ? `compute-bound: ${fmtPercent(fl)} of the peak FLOP rate` : `${fmtPercent(fl)} of the peak FLOP rate`);
  }
  return parts.length ? `${b.backend}: ${parts.join('; ')}.` : null;
}

/** The sentences for a run object (GET /api/runs/{id}); always at least one. */
export function describeRun(run) {
  const a = run.analysis;
  if (!a || a.points.length === 0) {
    if (run.status === 'queued') return ['Waiting in the queue: nothing measured yet.'];
    return [run.status === 'running' ? 'No measurements yet.' : 'No measurements were stored.'];
  }
  const out = [];
  if (!['done'].includes(run.status)) {
    out.push(`The run is ${run.status.replace('_', ' ')}: these figures cover the ${run.progress.done} measurements stored so far.`);
  }
  const weak = a.scaling === 'weak';
  for (const b of a.backends) {
    const s = describeBackend(b, a.points.filter((p) => p.backend === b.backend), weak);
    if (s) out.push(s);
  }
  const runs = a.points.reduce((n, p) => n + p.runs, 0);
  const verified = a.points.reduce((n, p) => n + p.verified, 0);
  out.push(verified === runs
    ? `All ${runs} timed results verified.`
    : `${runs - verified} of ${runs} results failed verification: do not trust their times (see the table).`);
  if (run.host) {
    const maxCores = Math.max(...a.points.map((p) => p.cores));
    const cpus = run.host.cpus_allowed || run.host.threads;
    let s = `Measured on ${fmtHost(run.host)}.`;
    if (maxCores > cpus) s += ` Counts above its ${cpus} usable CPUs are oversubscribed: compute-bound work only takes turns there.`;
    out.push(s);
  }
  return out;
}
