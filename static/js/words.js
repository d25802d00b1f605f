// words.js — a run's analysis in sentences (the run view's #analysis-words).
//
// The page only renders: the diagnosis of each backend (the one cause that limits it, and the
// figure it rests on) is chosen by the analysis in C (engine/diagnosis.c) and quoted here as
// it is. This module adds only what the figures say without interpretation: the best
// parallel speedup and its baseline, the model fit when the analysis trusts it (else why
// there is none), the vectorisation gain as its own figure, noisy points, results left out
// because they did not verify, and where the run was measured. A server from before
// diagnoses gives none: then the page says so rather than inventing one.

import { fmtHost, fmtParam, fmtPercent, fmtSeconds, fmtSpeedup } from './format.js';

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
const coresWord = (n) => `${n} core${n === 1 ? '' : 's'}`;

/* "threads: ..." unless the sentence already starts with the backend's name. */
const about = (backend, sentence) => (sentence.toLowerCase().startsWith(backend.toLowerCase()) ? sentence : `${backend}: ${sentence}`);

/** The sentences about one backend (analysis.backends[i]): its diagnosis, best speedup, fit. */
function describeBackend(b, modern) {
  const out = [];
  const d = b.diagnosis;
  if (d && d.sentence) out.push(about(b.backend, d.sentence));

  const facts = [];
  if (isNum(b.best_cores_measured) && isNum(b.best_speedup_measured) && b.best_cores_measured > 1) {
    // An older server measured this against serial (vectorisation included): say so.
    const vs = modern ? `vs ${b.best_baseline || 'one core of the same kernel'}` : 'vs serial, vectorisation included';
    facts.push(`best speedup ${fmtSpeedup(b.best_speedup_measured)} at ${coresWord(b.best_cores_measured)} (${vs})`);
  }
  const fit = b.fit;
  if (fit && fit.trusted === true) {
    if (isNum(fit.serial_fraction)) facts.push(`model T(p) = a + b/p fits every point within its CI: serial fraction ${fmtPercent(fit.serial_fraction)}`);
    if (isNum(fit.best_cores)) facts.push(`the model peaks at ${coresWord(fit.best_cores)} (${fmtSpeedup(fit.best_speedup)})`);
  } else if (fit && fit.trusted === false && fit.worst_miss) {
    const m = fit.worst_miss;
    facts.push(`no model stated: the fit predicts ${fmtSeconds(m.predicted_s)} at ${coresWord(m.cores)} where ${fmtSeconds(m.median_s)} was measured, outside that point's CI`);
  } else if (b.fit_missing && !(d && d.cause === 'baseline')) { // a 1-core reference has no curve to fit
    facts.push(b.fit_missing.replace(/\.$/, ''));
  }
  if (facts.length) out.push(`${b.backend}: ${facts.join('; ')}.`);
  return out;
}

/** The vectorisation gain, its own figure (simd vs serial, both on one core). */
function describeVectorisation(list) {
  if (!Array.isArray(list) || !list.length) return null;
  const parts = list.filter((v) => isNum(v.gain))
    .map((v) => `${fmtSpeedup(v.gain)} at size ${fmtParam(v.size)} (serial ${fmtSeconds(v.serial_s)}, simd ${fmtSeconds(v.simd_s)})`);
  return parts.length
    ? `Vectorisation gain, one core, not parallelism: simd is ${parts.join(', ')} against serial. It is not part of the parallel speedups above.`
    : null;
}

/** The sentences for a run object (GET /api/runs/{id}); always at least one. */
export function describeRun(run) {
  const a = run.analysis;
  if (!a || a.points.length === 0) {
    if (run.status === 'queued') return ['Waiting in the queue: nothing measured yet.'];
    return [run.status === 'running' ? 'No measurements yet.' : 'No measurements were stored.'];
  }
  const out = [];
  if (run.status !== 'done') {
    const planned = run.progress.total ? ` of the ${run.progress.total} planned` : '';
    out.push(`The run is ${run.status.replace('_', ' ')}: these figures cover the ${run.progress.done} measurements${planned} stored so far.`);
  }
  const modern = a.points.some((p) => typeof p.baseline === 'string');
  if (!a.backends.some((b) => b.diagnosis)) {
    out.push('This server\'s analysis gives no diagnosis (it predates them): the figures below are measured, the reasons are not stated.');
  }
  for (const b of a.backends) out.push(...describeBackend(b, modern));
  // The vectorisation gain, unless a diagnosis (simd's) already rests on that figure.
  const vec = a.backends.some((b) => b.diagnosis && b.diagnosis.figure && b.diagnosis.figure.name === 'vectorisation_gain')
    ? null : describeVectorisation(a.vectorisation);
  if (vec) out.push(vec);

  const noisy = a.points.filter((p) => p.noisy);
  if (noisy.length) {
    out.push(`Noisy: ${noisy.map((p) => `${p.backend} at ${coresWord(p.cores)} (${p.noise || 'wide spread'})`).join(', ')}: `
      + 'treat these points as rough (marked with a hollow triangle on the charts); more repeats or a quieter machine narrow them.');
  }
  const runs = a.points.reduce((n, p) => n + p.runs, 0);
  const verified = a.points.reduce((n, p) => n + p.verified, 0);
  const excluded = isNum(a.excluded_unverified) ? a.excluded_unverified : runs - verified;
  if (excluded === 0) out.push(`All ${runs} timed results verified.`);
  else if (isNum(a.excluded_unverified)) out.push(`${excluded} of ${runs} timed results did not verify and are left out of every figure (see Verified in the table).`);
  else out.push(`${excluded} of ${runs} timed results failed verification; this server still counts them in the figures: do not trust those points (see the table).`);

  if (run.host) {
    const maxCores = Math.max(...a.points.map((p) => p.cores));
    const cpus = run.host.cpus_allowed || run.host.threads;
    let s = `Measured on ${fmtHost(run.host)}.`;
    if (maxCores > cpus) s += ` Counts above its ${cpus} usable CPUs are oversubscribed: workers take turns on the CPUs, which only helps work that waits.`;
    out.push(s);
  }
  return out;
}
