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
import { mpiCause, renderMpi } from './mpi.js';
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
  state = { id, run: null, source: null, pollTimer: null, redrawTimer: null, fetches: 0, ended: false };
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
  $('point-select').addEventListener('change', () => state && state.run && renderLoad(state.run));
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
  $('run-live').textContent = 'Live: measurements appear as they are stored.';
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
  if (s.progress) run.progress = s.progress;
  if (s.error) run.error = s.error;
  setStatus(run.status, run.progress.done, run.progress.total);
  if (api.ENDED.has(s.status)) {
    stopLive();
    $('run-live').textContent = '';
    redrawNow(); // the final analysis
  }
}

function onMeasurement(m) {
  const p = state.run.progress;
  // Stored measurements are sent again on connect: the count only grows.
  p.done = Math.max(p.done, m.seq || 0);
  if (m.total) p.total = m.total;
  setStatus(state.run.status, p.done, p.total);
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
  const a = run.analysis;
  const points = a ? ch.placePoints(a.points, run.job, a.scaling) : [];
  const fits = a ? a.backends : [];
  const comm = mpiCause(run); // communication, when it is what limits mpi
  fill($('analysis-words'), [...describeRun(run), ...(comm ? [comm] : [])].map((s) => el('li', {}, s)));
  renderCharts(run, points, fits);
  renderNumbers(run, points);
  renderMpi(run, $('mpi-section'));
  renderHost(run.host);
}

function renderJob(run) {
  const j = run.job;
  fillFacts($('run-job'), [
    ['Workload', run.workload],
    ['Parameters', fmtParams(j.params)],
    ['Backends', j.backends.join(', ')],
    ['Cores', `${j.cores.join(', ')}${j.oversubscribe ? ' (oversubscribe allowed)' : ''}`],
    ['MPI ranks', j.backends.includes('mpi') ? `${j.threads_per_rank > 1 ? `ranks × ${j.threads_per_rank} OpenMP threads (cores = total)` : 'one per core'}${j.hostfile ? `, hostfile ${j.hostfile}` : ''}` : null],
    ['Repeats', `${j.repeats} timed + ${j.warmup} warm-up per point`],
    ['Scaling, kernel', `${j.scaling}, ${j.variant}`],
    ['Affinity, schedule', `${j.affinity}, ${j.schedule}${j.chunk ? `, chunk ${j.chunk}` : ''}`],
    ['Created', fmtDate(run.created_at)],
    ['Duration', run.started_at ? fmtElapsed(run.started_at, run.finished_at || Date.now() / 1000) : 'not started'],
  ]);
}

function renderCharts(run, points, fits) {
  const weak = run.job.scaling === 'weak';
  const maxCores = Math.max(1, ...run.job.cores, ...points.map((p) => p.cores));
  $('speedup-caption').textContent = ch.speedupBaseline(points) === 'serial'
    ? 'Speedup vs serial, with the ideal line and the fitted model (dashed)'
    : 'Speedup vs each backend\'s own 1 core, with the ideal line and the fitted model (dashed)';
  ch.setChart('time', $('chart-time'), ch.timeConfig(points, weak));
  ch.setChart('speedup', $('chart-speedup'), ch.speedupConfig(points, fits, maxCores, weak));
  ch.setChart('efficiency', $('chart-efficiency'), ch.efficiencyConfig(points, weak));
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
  if (keys.includes(keep)) {
    select.value = keep;
  } else if (points.length) {
    const widest = points.reduce((best, p) => (p.cores > best.cores ? p : best), points[0]);
    select.value = keys[points.indexOf(widest)];
  }
}

function renderLoad(run) {
  const [backend, coresText, sizeText] = $('point-select').value.split(':');
  const cores = Number(coresText);
  const size = sizeText === undefined ? null : Number(sizeText);
  const busy = backend ? ch.workerBusy(run.measurements || [], backend, cores, size) : [];
  ch.setChart('load', $('chart-load'), ch.loadConfig(busy, backend || ''));
  const p = run.analysis && run.analysis.points.find((x) => x.backend === backend && x.cores === cores
    && (size === null || x.size === size));
  $('load-note').textContent = p
    ? `Imbalance (busiest ÷ mean worker): ${fmtNumber(p.imbalance)}; overhead (wall − busiest worker): ${fmtSeconds(p.overhead_s)}; CPU use ${fmtPercent(p.cpu_util)}.${ranOn(run, backend, cores)}`
    : '';
}

/** " Last run on CPUs 0, 1 (hosts a, b)." for the point's latest measurement, or "". */
function ranOn(run, backend, cores) {
  const ms = (run.measurements || []).filter((m) => m.backend === backend && m.cores === cores && m.cpus);
  const m = ms[ms.length - 1];
  if (!m || m.cpus.every((c) => c < 0)) return '';
  const hosts = m.hosts && new Set(m.hosts).size > 1 ? ` (ranks on ${m.hosts.join(', ')})` : '';
  return ` Last run on CPU${m.cpus.length > 1 ? 's' : ''} ${m.cpus.map((c) => (c < 0 ? '?' : c)).join(', ')}${hosts}.`;
}

function throughput(p, unit) {
  if (p.gbs > 0) return `${fmtNumber(p.gbs)} GB/s${p.bw_fraction != null ? ` (${fmtPercent(p.bw_fraction)} of bandwidth)` : ''}`;
  if (p.gflops > 0) return `${fmtNumber(p.gflops)} GFLOP/s${p.flops_fraction != null ? ` (${fmtPercent(p.flops_fraction)} of peak)` : ''}`;
  return `${fmtNumber(p.rate)} ${unit}/s`;
}

function renderNumbers(run, points) {
  const unit = (run.measurements && run.measurements[0] && run.measurements[0].unit) || 'item';
  fill($('numbers').tBodies[0], points.map((p) => {
    const w = p.wall_s;
    const speedup = p.speedup != null ? fmtSpeedup(p.speedup) : `${fmtSpeedup(p.speedup_self)} (own 1 core)`;
    return el('tr', {},
      el('th', { scope: 'row' }, p.backend), el('td', {}, p.cores), el('td', {}, fmtParam(p.size)),
      el('td', {}, fmtSeconds(w.median)),
      el('td', {}, `${fmtSeconds(w.ci_lo)} – ${fmtSeconds(w.ci_hi)} (${fmtPercent(w.ci_level)})`),
      el('td', {}, speedup), el('td', {}, fmtPercent(p.efficiency)), el('td', {}, throughput(p, unit)),
      el('td', {}, fmtPercent(p.cpu_util)), el('td', {}, `${fmtNumber(p.vcsw)} / ${fmtNumber(p.ivcsw)}`),
      el('td', { class: p.verified < p.runs ? 'bad' : '' }, `${p.verified}/${p.runs}`));
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
