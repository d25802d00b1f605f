// run.js — one run (#/runs/{id}): progress, charts, numbers, the analysis in words.
//
// Live updates: while the run is queued or running, an EventSource on
// /api/runs/{id}/events moves the progress bar at every event. The events carry single
// measurements, not the analysis, so charts and table are redrawn from a fresh
// GET /api/runs/{id} at most once a second (throttled). If the stream fails, the view
// polls GET /api/runs/{id} every second instead. Both stop when the run has ended.

import * as api from './api.js';
import * as ch from './charts.js';
import { el, fill, fillFacts, showNotice, clearNotice } from './dom.js';
import {
  fmtBytes, fmtDate, fmtElapsed, fmtHost, fmtNumber, fmtParam, fmtParams, fmtPercent, fmtSeconds, fmtSpeedup,
} from './format.js';
import { renderMpi } from './mpi.js';
import { describeRun } from './words.js';

// How the run-error line starts for each unhappy ending.
const ENDINGS = {
  failed: 'This run failed', cancelled: 'This run was cancelled', timed_out: 'This run timed out',
  interrupted: 'This run was interrupted (the server stopped while it ran)',
};

const REDRAW_MS = 1000;
const POLL_MS = 1000;

let state = null; // the run on screen: {id, run, source, pollTimer, redrawTimer, fetches, ended}
let wired = false;

const $ = (id) => document.getElementById(id);

/** The view's entry point: draws the run, then follows it if it is still going. */
export async function show({ id }, ctx) {
  if (!wired) wire();
  leave();
  state = { id, run: null, source: null, pollTimer: null, redrawTimer: null, fetches: 0, ended: false, pointChosen: false };
  clearView(id);

  let run;
  try {
    run = await api.getRun(id);
  } catch (e) {
    if (!ctx.current()) return;
    // Shown in the view itself (role=alert): the page has nothing else to show.
    $('run-error').textContent = e.status === 404 ? `There is no run #${id}.` : `Run #${id} could not be loaded: ${e.message}`;
    return;
  }
  if (!ctx.current()) return;
  render(run);
  if (!api.ENDED.has(run.status)) follow();
}

/** Stops the live stream and timers and drops the charts (on leaving the view). */
export function leave() {
  if (!state) return;
  state.ended = true;
  stopLive();
  clearTimeout(state.redrawTimer);
  ch.resetCharts();
  state = null;
}

function wire() {
  wired = true;
  $('point-select').addEventListener('change', () => {
    if (!state || !state.run) return;
    state.pointChosen = true;
    renderLoad(state.run);
  });
  $('speedup-view').addEventListener('change', () => state && state.run && renderCharts(state.run));
  $('run-cancel').addEventListener('click', cancel);
  $('run-view').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-png]');
    if (!b || !state) return;
    if (!ch.downloadPng(b.dataset.png, `scalelab-run-${state.id}-${b.dataset.png}.png`)) {
      showNotice('That chart has nothing to download yet.', 'png');
    }
  });
}

function clearView(id) {
  $('run-title').textContent = `Run #${id}`;
  setStatus('loading', 0, 0);
  for (const x of ['run-error', 'run-live']) $(x).textContent = '';
  for (const x of ['run-job', 'run-host', 'analysis-words', 'point-select', 'load-note']) fill($(x));
  fill($('numbers').tBodies[0]);
  $('export-csv').href = api.exportUrl(id, 'csv');
  $('export-json').href = api.exportUrl(id, 'json');
  $('run-cancel').hidden = true;
  $('mpi-section').hidden = true;
}

/* ---------- live ---------- */

function follow() {
  if (!('EventSource' in window)) {
    startPolling('Your browser has no live stream; checking every second.');
    return;
  }
  const source = new EventSource(api.eventsUrl(state.id));
  state.source = source;
  $('run-live').textContent = 'Live: the progress, charts and figures are redrawn (at most once a second) as measurements are stored.';
  source.addEventListener('status', (e) => onEvent(e, onStatus));
  source.addEventListener('measurement', (e) => onEvent(e, onMeasurement));
  source.addEventListener('error', () => {
    // The server closes the stream after the last status; we close it first on that
    // event, so an error here means the stream broke while the run was still going.
    if (!state || state.ended || state.source !== source) return;
    source.close();
    state.source = null;
    startPolling('The live stream was lost; checking every second instead.');
  });
}

function onEvent(event, handler) {
  if (!state || state.ended) return;
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    showNotice(`The live stream sent something that is not JSON (${event.type} event).`, 'run-sse');
    return;
  }
  handler(data);
}

function onStatus(s) {
  const run = state.run;
  run.status = s.status;
  if (s.error) run.error = s.error;
  // The count stays the fetched run's (see onMeasurement); a new status redraws soon.
  setStatus(run.status, run.progress.done, run.progress.total);
  scheduleRedraw();
  if (api.ENDED.has(s.status)) {
    stopLive();
    $('run-live').textContent = '';
    redrawNow(); // the final analysis
  }
}

/*
 * A new measurement: fetch the run again (throttled). The bar is not moved here: it moves
 * with the fetched run, so that it and the sentence "these figures cover the N measurements
 * stored so far" always count the same measurements.
 */
function onMeasurement() {
  scheduleRedraw();
}

function startPolling(why) {
  $('run-live').textContent = why;
  state.pollTimer = setInterval(redrawNow, POLL_MS);
}

function stopLive() {
  if (state.source) state.source.close();
  state.source = null;
  clearInterval(state.pollTimer);
  state.pollTimer = null;
}

function scheduleRedraw() {
  if (state.redrawTimer) return;
  state.redrawTimer = setTimeout(() => {
    if (state) state.redrawTimer = null;
    redrawNow();
  }, REDRAW_MS);
}

/** Fetches the run and draws it; only the latest of overlapping fetches draws. */
async function redrawNow() {
  if (!state) return;
  const mine = state;
  const n = ++mine.fetches;
  let run;
  try {
    run = await api.getRun(mine.id);
  } catch (e) {
    if (state === mine) showNotice(`Run #${mine.id} could not be refreshed: ${e.message}`, 'run-refresh');
    return;
  }
  if (state !== mine || n !== mine.fetches) return;
  clearNotice('run-refresh');
  render(run);
  if (api.ENDED.has(run.status)) {
    stopLive();
    $('run-live').textContent = '';
  }
}

async function cancel() {
  if (!state || !window.confirm(`Cancel run #${state.id}? Measurements stored so far are kept.`)) return;
  try {
    await api.cancelRun(state.id);
  } catch (e) {
    showNotice(`Could not cancel run #${state.id}: ${e.message}`, 'run-cancel');
  }
  redrawNow();
}

/* ---------- drawing ---------- */

function setStatus(status, done, total) {
  const badge = $('run-status');
  badge.textContent = status.replace('_', ' ');
  badge.className = `badge status-${status}`;
  const bar = $('run-progress');
  bar.max = Math.max(1, total);
  bar.value = Math.min(done, bar.max);
  $('run-progress-text').textContent = `${done} / ${total}`;
  $('run-cancel').hidden = !api.ACTIVE.has(status);
}

function render(run) {
  state.run = run;
  $('run-title').textContent = `Run #${run.id}: ${run.workload}`;
  setStatus(run.status, run.progress.done, run.progress.total);
  $('run-error').textContent = run.error ? `${ENDINGS[run.status] || `This run is ${run.status}`}: ${run.error}` : '';
  renderJob(run);
  fill($('analysis-words'), describeRun(run).map((s) => el('li', {}, s)));
  renderCharts(run);
  renderNumbers(run, pointsOf(run));
  renderMpi(run, $('mpi-section'));
  renderHost(run.host);
}

const pointsOf = (run) => (run.analysis ? ch.placePoints(run.analysis.points, run.job, run.analysis.scaling) : []);

function renderJob(run) {
  const j = run.job;
  fillFacts($('run-job'), [
    ['Workload', run.workload],
    ['Parameters', fmtParams(j.params)],
    // A run of programs has programs where a built-in run has backends (js/programs.js).
    j.programs ? ['Programs', j.programs.map((p) => p.name).join(', ')] : ['Backends', j.backends.join(', ')],
    ['Cores', `${j.cores.join(', ')}${j.oversubscribe ? ' (oversubscribe allowed)' : ''}`],
    ['MPI ranks', (j.backends || []).includes('mpi') ? `${j.threads_per_rank > 1 ? `ranks × ${j.threads_per_rank} OpenMP threads (cores = total)` : 'one per core'}${j.hostfile ? `, hostfile ${j.hostfile}` : ''}` : null],
    ['Repeats', `${j.repeats} timed + ${j.warmup} warm-up per point`],
    ['Scaling, kernel', j.programs ? null : `${j.scaling}, ${j.variant}`],
    ['Affinity, schedule', j.programs ? null : `${j.affinity}, ${j.schedule}${j.chunk ? `, chunk ${j.chunk}` : ''}`],
    ['Confinement, threads', j.programs ? `${j.confine ? 'confined to its cores' : 'not confined'}; `
      + `${j.thread_env ? 'OMP/MKL/OPENBLAS/NUMBA_NUM_THREADS = cores' : 'thread variables not set'}` : null],
    ['Created', fmtDate(run.created_at)],
    ['Duration', run.started_at ? fmtElapsed(run.started_at, run.finished_at || Date.now() / 1000) : 'not started'],
  ]);
}

/* "75% CI" — the lowest real level of the intervals shown (3 repeats give 75%, not 95%). */
function ciWords(a) {
  const levels = (a ? a.points : []).map((p) => p.wall_s && p.wall_s.ci_level).filter((x) => x > 0);
  const level = a && a.ci_level_min > 0 ? a.ci_level_min : (levels.length ? Math.min(...levels) : null);
  return level ? `${fmtPercent(level)} CI${levels.some((l) => l !== level) ? ' or more' : ''}` : 'CI';
}

function renderCharts(run) {
  const a = run.analysis;
  const points = pointsOf(run);
  const fits = a ? a.backends : [];
  const weak = run.job.scaling === 'weak';
  const maxCores = Math.max(1, ...run.job.cores, ...points.map((p) => p.cores));
  const noisy = points.some((p) => p.noisy) ? '; a hollow triangle marks a noisy point' : '';
  const cores = run.host && run.host.cores > 0 ? `; dashed: this host's ${run.host.cores} physical cores` : '';
  $('time-caption').textContent = `Median wall time (log scale; bars: ${ciWords(a)} of the median${noisy}${cores})`;

  const select = $('speedup-view');
  const serialView = ch.hasSerialView(points);
  select.options[1].disabled = !serialView;
  if (!serialView) select.value = 'parallel';
  const view = select.value;
  $('speedup-caption').textContent = view === 'parallel'
    ? `Parallel speedup vs ${ch.baselineWords(points)}, with the ideal line${fits.some(ch.drawableFit) ? ' and the fitted model (dashed)' : ''}`
    : 'Total gain vs serial: vectorisation included, so not comparable with the ideal line';
  $('numbers-ci').textContent = `${ciWords(a)} of median`;

  const kind = ch.rateKind(points);
  const calibration = a ? a.calibration : null;
  const limit = ch.limitLine(calibration, kind, maxCores);
  $('rate-caption').textContent = `Throughput (${kind.unit})${limit ? `, with ${limit.label === 'calibrated bandwidth' ? 'the calibrated read bandwidth' : 'the calibrated peak FLOP rate'} (dashed): the most this machine can give`
    : kind.limit ? ': no calibration with this run (calibrate in the System view to see the machine\'s limit)' : ''}`;

  ch.setChart('time', $('chart-time'), ch.timeConfig(points, weak, run.host));
  ch.setChart('speedup', $('chart-speedup'), ch.speedupConfig(points, fits, maxCores, weak, run.host, view));
  ch.setChart('efficiency', $('chart-efficiency'), ch.efficiencyConfig(points, weak, run.host));
  ch.setChart('rate', $('chart-rate'), ch.rateConfig(points, calibration, maxCores, weak, run.host));
  const programs = Boolean(run.job.programs);
  $('cpu-caption').textContent = `Cores kept busy: CPU time ÷ wall time${programs ? ', child processes included' : ''} (dashed: all busy)`;
  ch.setChart('cpu', $('chart-cpu'), ch.cpuConfig(points, maxCores, weak, run.host));
  // Peak memory per run exists for programs only: each run is its own process, and wait4
  // gives its peak. The built-in backends run inside the engine, whose peak is a high-water
  // mark over the whole sweep: a chart of it would only repeat the largest point.
  $('memory-figure').hidden = !programs;
  if (programs) {
    $('memory-caption').textContent = 'Peak memory (MiB): max RSS of the program\'s largest process, from wait4';
    ch.setChart('memory', $('chart-memory'), ch.memoryConfig(points, weak, run.host));
  }
  $('phases-caption').textContent = ch.phasesMode(points) === 'median_run'
    ? 'Phases of each point\'s median run (they add up to its wall time)'
    : 'Phases per point: per-phase medians (this server gives no median run: they need not add up to the median wall time)';
  ch.setChart('phases', $('chart-phases'), ch.phasesConfig(points));
  fillPointSelect(points);
  renderLoad(run);
}

/**
 * Options "<backend>:<cores>" (":<size>" added only where that is ambiguous, as for serial
 * in weak scaling); keeps the user's choice, else picks the point with the most cores.
 */
function fillPointSelect(points) {
  const select = $('point-select');
  const keep = select.value;
  const keys = ch.pointKeys(points);
  if (keys.join() !== [...select.options].map((o) => o.value).join()) {
    fill(select, points.map((p, i) => el('option', { value: keys[i] },
      `${p.backend} on ${p.cores} core${p.cores > 1 ? 's' : ''}${keys[i].split(':').length > 2 ? `, size ${fmtParam(p.size)}` : ''}`)));
  }
  if (keys.includes(keep) && state.pointChosen) {
    select.value = keep;
  } else if (points.length) {
    const widest = points.reduce((best, p) => (p.cores > best.cores ? p : best), points[0]);
    select.value = keys[points.indexOf(widest)];
  }
}

/* The per-worker bars and the note under them, both from the chosen point's median run. */
function renderLoad(run) {
  const [backend, coresText, sizeText] = $('point-select').value.split(':');
  const cores = Number(coresText);
  const size = sizeText === undefined ? null : Number(sizeText);
  const p = run.analysis && run.analysis.points.find((x) => x.backend === backend && x.cores === cores
    && (size === null || x.size === size));
  const median = p ? ch.medianRun(p, run.measurements) : null;
  ch.setChart('load', $('chart-load'), ch.loadConfig(median, backend || ''));
  if (!median) {
    $('load-note').textContent = '';
    return;
  }
  const wait = median.wait_s && median.wait_s.some((x) => x > 0)
    ? `; mean wait at barriers ${fmtSeconds(median.wait_s.reduce((s, x) => s + x, 0) / median.wait_s.length)}` : '';
  const imbalance = Number.isFinite(median.imbalance) ? median.imbalance.toFixed(2) : '–';
  $('load-note').textContent = `The median run (measurement #${median.seq}, wall ${fmtSeconds(median.wall_s)}): `
    + `imbalance (busiest ÷ mean worker) ${imbalance}${wait}. CPU use of the point: ${fmtPercent(p.cpu_util)}.`
    + ranOn((run.measurements || []).find((m) => m.seq === median.seq));
}

/* Above a calibrated limit is not a measurement of the limit: say what it can mean. */
const ABOVE = 1.05;
function ofLimit(fraction, what) {
  if (fraction == null) return '';
  return fraction > ABOVE ? ` (${fmtPercent(fraction)} of the calibrated ${what}: above it, so cached data or a low calibration)`
    : ` (${fmtPercent(fraction)} of the calibrated ${what})`;
}

/** " It ran on CPUs 0, 1 (ranks on a, b)." for measurement m, or "" when unknown. */
function ranOn(m) {
  if (!m || !m.cpus || m.cpus.every((c) => c < 0)) return '';
  const hosts = m.hosts && new Set(m.hosts).size > 1 ? ` (ranks on ${m.hosts.join(', ')})` : '';
  return ` It ran on CPU${m.cpus.length > 1 ? 's' : ''} ${m.cpus.map((c) => (c < 0 ? '?' : c)).join(', ')}${hosts}.`;
}

function throughput(p, unit) {
  if (p.gbs > 0) return `${fmtNumber(p.gbs)} GB/s${ofLimit(p.bw_fraction, 'bandwidth')}`;
  if (p.gflops > 0) return `${fmtNumber(p.gflops)} GFLOP/s${ofLimit(p.flops_fraction, 'peak')}`;
  return `${fmtNumber(p.rate)} ${unit}/s`;
}

function renderNumbers(run, points) {
  const unit = (run.measurements && run.measurements[0] && run.measurements[0].unit) || 'item';
  const modern = ch.hasParallelBaseline(points);
  fill($('numbers').tBodies[0], points.map((p) => {
    const w = p.wall_s;
    const s = ch.speedupValue(p, 'parallel', modern);
    const eff = modern ? p.efficiency : (s != null ? s / p.cores : null);
    const speedup = el('td', { title: modern ? `vs ${p.baseline}` : 'vs its own 1 core' }, fmtSpeedup(s));
    const excluded = p.runs - p.verified;
    return el('tr', { class: p.noisy ? 'noisy' : '' },
      el('th', { scope: 'row' }, p.backend), el('td', {}, p.cores), el('td', {}, fmtParam(p.size)),
      el('td', {}, fmtSeconds(w.median), p.noisy ? el('span', { class: 'flag', title: 'noisy: the figures of this point are uncertain' }, ` noisy (${p.noise || 'wide spread'})`) : null),
      el('td', { class: 'wrap' }, `${fmtSeconds(w.ci_lo)} – ${fmtSeconds(w.ci_hi)} (${fmtPercent(w.ci_level)})`),
      speedup, el('td', {}, fmtPercent(eff)), el('td', { class: 'wrap' }, throughput(p, unit)),
      el('td', {}, fmtPercent(p.cpu_util)), el('td', {}, `${fmtNumber(p.vcsw)} / ${fmtNumber(p.ivcsw)}`),
      el('td', { class: excluded > 0 ? 'bad' : '', title: excluded > 0 ? `${excluded} left out of the figures` : '' },
        `${p.verified}/${p.runs}`));
  }));
}

function renderHost(host) {
  fillFacts($('run-host'), host ? [
    ['Measured on', fmtHost(host)],
    ['SIMD', host.simd],
    ['Memory', fmtBytes(host.mem_total_bytes)],
    ['OS', `${host.os}, ${host.kernel}${host.hypervisor ? `, ${host.hypervisor} guest` : ''}`],
    ['Compiler', `${host.compiler} ${host.cflags || ''}`],
  ] : [['Measured on', 'not known yet (the run has not started)']]);
}
