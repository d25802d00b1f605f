// system.js — the System panel (#/system): this host, the backends, the server's limits,
// the calibration (the bandwidth and FLOP rate that runs are compared with), the token.

import * as api from './api.js';
import { el, fill, fillFacts, showNotice } from './dom.js';
import { fmtBytes, fmtDate, fmtElapsed, fmtNumber } from './format.js';
import { renderTopology } from './topology.js';

let wired = false;
const $ = (id) => document.getElementById(id);

const CALIBRATION_POLL_MS = 1000;
let calibration = null; // the calibration launched from this page: {id, timer}

/** The view's entry point; each part shows its own failure, the others still draw. */
export async function show(_params, ctx) {
  if (!wired) wire();
  const [system, backends, health] = await Promise.allSettled([api.getSystem(), api.getBackends(), api.getHealth()]);
  if (!ctx.current()) return;

  if (system.status === 'fulfilled') {
    fillFacts($('system-host'), hostFacts(system.value.host));
    renderTopology($('system-topology'), system.value.host.topology);
    fillFacts($('system-limits'), limitFacts(system.value.limits));
    fillFacts($('system-calibration'), calibrationFacts(system.value.calibration));
    $('calibrate').disabled = Boolean(calibration);
  } else {
    failed('system-host', 'The host description', system.reason);
  }
  if (backends.status === 'fulfilled') fillBackends(backends.value);
  else failed('system-backends', 'The backends', backends.reason);
  if (health.status === 'fulfilled') fillFacts($('system-health'), healthFacts(health.value));
  else failed('system-health', 'The server\'s health', health.reason);
  $('api-token').value = api.getToken();
}

function failed(id, what, err) {
  const msg = `${what} could not be loaded: ${err.message}`;
  const node = $(id);
  if (node.tagName === 'TABLE') fill(node.tBodies[0], el('tr', {}, el('td', { colspan: 4, class: 'form-error' }, msg)));
  else fill(node, el('dd', { class: 'form-error' }, msg));
  showNotice(msg, `system-${id}`);
}

function wire() {
  wired = true;
  $('calibrate').addEventListener('click', startCalibration);
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    api.setToken($('api-token').value.trim());
    $('api-token').value = api.getToken();
  });
}

function caches(list) {
  return (list || []).filter((c) => c.type !== 'Instruction')
    .map((c) => `L${c.level} ${fmtBytes(c.size_bytes)}${c.instances > 1 ? ` ×${c.instances}` : ''}`).join(', ');
}

function hostFacts(h) {
  return [
    ['CPU', `${h.cpu_model} (${h.cpu_vendor}, family ${h.cpu_family} model ${h.cpu_model_id}), ${fmtNumber(h.mhz)} MHz`],
    ['Cores / threads', `${h.sockets} socket${h.sockets > 1 ? 's' : ''}, ${h.cores} cores, ${h.threads} threads, ${h.cpus_allowed} usable`],
    ['Caches', caches(h.caches)],
    ['SIMD', h.simd],
    ['Memory', `${fmtBytes(h.mem_total_bytes)} (${fmtBytes(h.mem_available_bytes)} available), ${h.numa_nodes} NUMA node${h.numa_nodes > 1 ? 's' : ''}, THP ${h.thp}`],
    ['OS', `${h.os}, ${h.kernel}, ${h.arch}${h.hypervisor ? `, ${h.hypervisor} guest` : ''}`],
    ['GPU', h.gpu ? (typeof h.gpu === 'string' ? h.gpu : JSON.stringify(h.gpu)) : null],
    ['Compiler', `${h.compiler}; ${h.cflags}; OpenMP ${h.openmp}`],
    ['Timer', `resolution ${h.timer_res_ns} ns, smallest step ${h.timer_step_ns} ns`],
    ['Host name', h.hostname],
  ];
}

function limitFacts(l) {
  return [
    ['Max cores per run', `${l.max_cores} (${l.oversubscribe_max} with oversubscribe)`],
    ['Queue', `${l.max_queue} waiting runs`],
    ['Run timeout', l.run_timeout_s > 0 ? `${fmtNumber(l.run_timeout_s)} s` : 'none'],
    ['Repeats, warm-up', `up to ${l.max_repeats}, ${l.max_warmup ?? 100}`],
    ['Request body', fmtBytes(l.max_body_bytes)],
  ];
}

function calibrationFacts(c) {
  if (!c) return [['Calibration', 'none yet: press Calibrate (or run `make calibrate`) to compare runs with this machine\'s bandwidth and FLOP rate']];
  return [
    ['Sanity check', c.status ? `${c.status}${c.note ? `: ${c.note}` : ''}` : null],
    ['Memory read', `${fmtNumber(c.read_gbs_1)} GB/s on 1 core, ${fmtNumber(c.read_gbs_all)} GB/s on ${c.threads}`],
    ['Triad', `${fmtNumber(c.triad_gbs_1)} GB/s on 1 core, ${fmtNumber(c.triad_gbs_all)} GB/s on ${c.threads}`],
    ['Peak FMA', `${fmtNumber(c.gflops_1)} GFLOP/s on 1 core, ${fmtNumber(c.gflops_all)} GFLOP/s on ${c.threads}`],
    ['Taken', `${fmtDate(c.when)} on ${c.host} (${c.cpu_model}), ${fmtBytes(c.array_bytes)} arrays`],
  ];
}

function healthFacts(h) {
  const q = h.queue || {};
  return [
    ['Status', `${h.status}, version ${h.version}`],
    ['Up for', fmtElapsed(0, h.uptime_s)],
    ['Queue', `${q.length} waiting${q.running ? `, run #${q.running} running` : ''}`],
  ];
}

function fillBackends(backends) {
  fill($('system-backends').tBodies[0], backends.map((b) => el('tr', {},
    el('th', { scope: 'row' }, b.name), el('td', {}, b.route), el('td', {}, b.how),
    el('td', { class: b.available ? '' : 'bad' }, b.available ? 'yes' : `no: ${b.reason || 'unknown reason'}`))));
}

/* ---------- calibrate ---------- */

const CALIBRATION_ENDED = new Set(['done', 'refused', 'failed']);

function calibrationLine(c) {
  const gbs = (x) => `${fmtNumber(x)} GB/s`;
  switch (c.status) {
    case 'queued':
      return c.ahead > 0
        ? `Calibration #${c.id} waits for ${c.ahead} run${c.ahead > 1 ? 's' : ''} ahead of it (it never measures during a run)…`
        : `Calibration #${c.id} is about to start…`;
    case 'running': return `Calibration #${c.id} is measuring memory bandwidth and peak FLOP rate (a few seconds)…`;
    case 'done': return `Calibration #${c.id} done: reads ${gbs(c.calibration.read_gbs_1)} on 1 core, `
      + `${gbs(c.calibration.read_gbs_all)} on ${c.calibration.threads}; later runs are compared with it.`;
    case 'refused': return `Calibration #${c.id} not used (the calibration in force is unchanged). The engine says: ${c.message}`;
    default: return `Calibration #${c.id} failed: ${c.message || 'no reason given'}`;
  }
}

function showCalibration(c) {
  const line = $('calibrate-status');
  line.textContent = calibrationLine(c);
  line.dataset.status = c.status;
  line.className = ['refused', 'failed'].includes(c.status) ? 'form-error' : 'hint';
}

async function startCalibration() {
  const button = $('calibrate');
  button.disabled = true;
  let answer;
  try {
    answer = await api.startCalibration();
  } catch (e) {
    const line = $('calibrate-status');
    line.textContent = `The calibration could not be queued: ${e.message}`;
    line.dataset.status = 'failed';
    line.className = 'form-error';
    button.disabled = false;
    return;
  }
  calibration = { id: answer.id, timer: null };
  showCalibration({ id: answer.id, status: 'queued', ahead: 0 });
  pollCalibration();
}

/* Follows the calibration until it ends, then shows the machine's new limits. */
async function pollCalibration() {
  if (!calibration) return;
  const { id } = calibration;
  let c;
  try {
    c = await api.getCalibration(id);
  } catch (e) {
    showCalibration({ id, status: 'failed', message: `its state could not be read: ${e.message}` });
    calibration = null;
    $('calibrate').disabled = false;
    return;
  }
  showCalibration(c);
  if (!CALIBRATION_ENDED.has(c.status)) {
    calibration.timer = setTimeout(pollCalibration, CALIBRATION_POLL_MS);
    return;
  }
  calibration = null;
  $('calibrate').disabled = false;
  if (c.status === 'done') {
    api.forgetSystem();
    try {
      fillFacts($('system-calibration'), calibrationFacts((await api.getSystem()).calibration));
    } catch (e) {
      showNotice(`The new calibration could not be shown: ${e.message}`, 'system-calibration');
    }
  }
}
