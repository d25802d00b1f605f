// launch.js — the launch form (#/): build it from the catalogues, estimate, submit.
//
// The form is built once from GET /api/workloads, /api/backends and /api/system. On
// submit the job goes to POST /api/runs as it is; the server's own validation is the
// authority, and its message is shown next to the field it names (fieldOfMessage). The
// few checks done here (ranges, empty choices) fill the same error elements.

import * as api from './api.js';
import { el, fill } from './dom.js';
import { estimateSeconds } from './estimate.js';
import { fmtParam, fmtRough } from './format.js';
import { go } from './router.js';

let catalog = null; // {workloads, backends, system} once loaded
const form = () => document.getElementById('launch-form');
const $ = (sel) => form().querySelector(sel);

/** The view's entry point: builds the form the first time; resolves when it is usable. */
export async function show() {
  if (catalog) {
    noteToken();
    return;
  }
  try {
    const [workloads, backends, system] = await Promise.all([api.getWorkloads(), api.getBackends(), api.getSystem()]);
    catalog = { workloads, backends, system };
  } catch (e) {
    document.getElementById('form-error').textContent = `The form cannot be built: ${e.message}`;
    document.getElementById('launch').disabled = true;
    return;
  }
  document.getElementById('form-error').textContent = '';
  document.getElementById('launch').disabled = false;
  buildForm();
  noteToken();
}

/* A server started with --token refuses launches without it: say so before the click. */
function noteToken() {
  const missing = catalog.system.token_required && !api.getToken();
  document.getElementById('form-error').textContent = missing
    ? 'This server needs a token to launch runs: save it in the System view first.'
    : '';
}

/* ---------- building ---------- */

function buildForm() {
  const { workloads, system } = catalog;
  fill($('#workload'), workloads.map((w) => el('option', { value: w.name }, `${w.title} (${w.name})`)));
  buildBackends();
  buildCores(system.limits, system.host);
  $('#repeats').max = system.limits.max_repeats;
  $('#warmup').max = system.limits.max_warmup ?? 100;
  showWorkload();

  $('#workload').addEventListener('change', showWorkload);
  form().addEventListener('input', onInput);
  form().addEventListener('change', updateEstimate);
  form().addEventListener('submit', onSubmit);
}

/*
 * The workload whose parameter inputs are on the form. Choosing another one fires "input"
 * (estimate) before "change" (rebuild), and removing a focused, edited input fires "change"
 * while the inputs are replaced: the chosen workload's inputs do not exist yet then. So the
 * form is read for this one, set once its inputs are built, and a missing input is a problem
 * of the form (no estimate) rather than an exception.
 */
let shown = null;
const currentWorkload = () => shown;

/** Shows the chosen workload's lesson and parameters. */
function showWorkload() {
  const w = catalog.workloads.find((x) => x.name === $('#workload').value);
  $('#workload-lesson').textContent = w.lesson;
  fill($('#params'), w.params.map(paramField));
  shown = w;
  updateEstimate();
}

function paramField(p) {
  const id = `param-${p.name}`;
  const range = `${fmtParam(p.min)} to ${fmtParam(p.max)}${p.integer ? ', whole number' : ''}`;
  return el('div', { class: 'field' },
    el('label', { for: id }, el('strong', {}, p.name), ` — ${p.meaning} `, el('span', { class: 'hint' }, `(${range})`)),
    el('input', {
      id, name: id, type: 'number', min: p.min, max: p.max, step: p.integer ? 1 : 'any',
      value: p.default, required: true, 'aria-describedby': `err-${id}`,
    }),
    el('p', { class: 'field-error', id: `err-${id}`, 'data-field': `params.${p.name}` }));
}

function buildBackends() {
  fill($('#backends'), catalog.backends.map((b) => {
    // The engine's route says what the backend is in C and which Python route it stands for.
    const why = b.available ? `${b.route} (${b.how})` : `unavailable: ${b.reason || 'not built on this host'}`;
    // The title sits on the label too: a disabled input gets no hover events in some browsers.
    return el('label', { class: `check${b.available ? '' : ' unavailable'}`, title: why },
      el('input', { type: 'checkbox', name: 'backend', value: b.name, disabled: !b.available, title: why, props: { checked: b.available } }),
      ` ${b.name}`, el('span', { class: 'hint' }, b.available ? ` ${b.route}` : ' (unavailable)'));
  }));
}

/** Toggles 1, 2, 4, ... up to max_cores, and max_cores itself. */
function coreCounts(max) {
  const counts = [];
  for (let p = 1; p < max; p *= 2) counts.push(p);
  counts.push(max);
  return counts;
}

function buildCores(limits, host) {
  fill($('#core-toggles'), coreCounts(limits.max_cores).map((p) =>
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'cores', value: p, props: { checked: true } }), ` ${p}`)));
  $('#cores-hint').textContent = `This host has ${host.cores} cores / ${host.threads} hardware threads; `
    + `the server allows up to ${limits.max_cores} workers, ${limits.oversubscribe_max} with oversubscribe. `
    + 'Beyond the real cores compute-bound work only takes turns (sleep is the exception).';
}

/* ---------- reading the form ---------- */

const num = (input) => (input.value.trim() === '' ? NaN : Number(input.value));

/** A range check of one number input; returns a message like the API's, or null. */
function rangeProblem(label, value, min, max, integer) {
  if (!Number.isFinite(value)) return `${label}: enter a number`;
  if (integer && !Number.isInteger(value)) return `${label} = ${value} is not a whole number`;
  if (value < min || value > max) return `${label} = ${fmtParam(value)} is out of range: allowed ${fmtParam(min)} to ${fmtParam(max)}`;
  return null;
}

/** Parses "#custom-cores" ("3, 6"); returns {counts} or {problem}. */
function customCores() {
  const text = $('#custom-cores').value.trim();
  if (!text) return { counts: [] };
  const counts = [];
  for (const token of text.split(/[\s,;]+/).filter(Boolean)) {
    if (!/^\d+$/.test(token) || Number(token) < 1) return { problem: `cores: "${token}" is not a whole number of cores (1 or more)` };
    counts.push(Number(token));
  }
  return { counts };
}

/**
 * The job as the form describes it, and the problems found here: {job, problems: [{field,
 * message}]}. The job is built even with problems, for the estimate.
 */
function readJob() {
  const w = currentWorkload();
  const problems = [];
  const params = {};
  for (const p of w.params) {
    const input = $(`[name="param-${p.name}"]`);
    params[p.name] = input ? num(input) : NaN;
    const msg = rangeProblem(`${w.name}.${p.name}`, params[p.name], p.min, p.max, p.integer);
    if (msg) problems.push({ field: `params.${p.name}`, message: msg });
  }
  const backends = [...form().querySelectorAll('input[name="backend"]:checked')].map((i) => i.value);
  if (backends.length === 0) problems.push({ field: 'backends', message: 'backends: choose at least one backend' });

  const custom = customCores();
  if (custom.problem) problems.push({ field: 'cores', message: custom.problem });
  const toggled = [...form().querySelectorAll('input[name="cores"]:checked')].map((i) => Number(i.value));
  const cores = [...new Set([...toggled, ...(custom.counts || [])])].sort((a, b) => a - b);
  if (cores.length === 0 && !custom.problem) problems.push({ field: 'cores', message: 'cores: choose at least one core count' });

  const limits = catalog.system.limits;
  const repeats = num($('#repeats'));
  const warmup = num($('#warmup'));
  for (const [field, value, min, max] of [['repeats', repeats, 1, limits.max_repeats], ['warmup', warmup, 0, limits.max_warmup ?? 100]]) {
    const msg = rangeProblem(field, value, min, max, true);
    if (msg) problems.push({ field, message: msg });
  }
  const job = {
    workload: w.name, params, backends, cores, repeats, warmup,
    scaling: $('#scaling').value, variant: $('#variant').value, oversubscribe: $('#oversubscribe').checked,
  };
  // Hybrid MPI + OpenMP: only with mpi chosen, and only sent when it changes something.
  const tpr = $('#threads_per_rank');
  tpr.disabled = !backends.includes('mpi');
  if (!tpr.disabled) {
    const t = num(tpr);
    const odd = cores.find((c) => c % t);
    const msg = rangeProblem('threads_per_rank', t, 1, limits.max_cores, true)
      ?? (odd !== undefined ? `threads_per_rank = ${t}: every core count must be a multiple of it, ${odd} is not` : null);
    if (msg) problems.push({ field: 'threads_per_rank', message: msg });
    else if (t > 1) job.threads_per_rank = t;
  }
  return { job, problems };
}

/* ---------- estimate ---------- */

function updateEstimate() {
  if (!catalog) return;
  const out = document.getElementById('estimate');
  const { job, problems } = readJob();
  const est = problems.length ? null : estimateSeconds(job, currentWorkload(), catalog.backends, catalog.system.host.threads);
  out.textContent = est
    ? `Estimated duration: ${fmtRough(est.seconds)} (rough: ${est.points} points × ${job.repeats + job.warmup} runs each, `
      + 'from typical throughput per core, not measured on this machine).'
    : 'Estimated duration: fill in valid values to see one.';
}

/* ---------- errors next to fields ---------- */

const FIELDS = ['workload', 'backends', 'cores', 'repeats', 'warmup', 'scaling', 'variant', 'threads_per_rank'];

/**
 * Which form field an API message is about, or null. Messages start with the field:
 * "cores[0] = 64 exceeds ...", "pi.samples = 0 is out of range", "repeats = 0 ...",
 * "backend \"x\" is not known", "params.nope is not a parameter", "oversubscribe ...".
 */
export function fieldOfMessage(message, workloadNames, paramNames) {
  const m = /^\s*([A-Za-z_]+)(?:\.([A-Za-z_]+))?/.exec(message);
  if (!m) return null;
  const [, head, sub] = m;
  if (sub && (head === 'params' || workloadNames.includes(head))) return `params.${sub}`;
  if (head === 'backend' || head === 'backends') return 'backends';
  if (head === 'oversubscribe') return 'cores';
  if (FIELDS.includes(head)) return head;
  if (!sub && paramNames.includes(head)) return `params.${head}`;
  return null;
}

/** The form field for a field the API names, or null when the form has no such field. */
function formField(apiField) {
  if (!apiField) return null;
  if (apiField === 'oversubscribe') return 'cores';
  if (apiField.startsWith('params.') || FIELDS.includes(apiField)) return apiField;
  return null;
}

/** The inputs that carry aria-invalid for a field. */
function inputsOf(field) {
  if (field.startsWith('params.')) return [...form().querySelectorAll(`[name="param-${field.slice(7)}"]`)];
  if (field === 'backends') return [...form().querySelectorAll('input[name="backend"]')];
  if (field === 'cores') return [$('#custom-cores'), ...form().querySelectorAll('input[name="cores"]')];
  return [$(`#${field}`)];
}

function errorBox(field) {
  return [...form().querySelectorAll('.field-error')].find((e) => e.dataset.field === field) || null;
}

/** Shows `message` next to `field` (or in #form-error when the form has no such field). */
function showFieldError(field, message) {
  const box = field && errorBox(field);
  if (!box) {
    document.getElementById('form-error').textContent = message;
    return null;
  }
  box.textContent = message;
  const inputs = inputsOf(field).filter(Boolean);
  for (const i of inputs) i.setAttribute('aria-invalid', 'true');
  return inputs.find((i) => !i.disabled) || null;
}

function clearFieldError(field) {
  const box = errorBox(field);
  if (box) box.textContent = '';
  for (const i of inputsOf(field).filter(Boolean)) i.removeAttribute('aria-invalid');
}

function clearErrors() {
  for (const box of form().querySelectorAll('.field-error')) clearFieldError(box.dataset.field);
  document.getElementById('form-error').textContent = '';
}

/** Typing into a field clears its error: the message was about the old value. */
function onInput(event) {
  const t = event.target;
  const field = t.name.startsWith('param-') ? `params.${t.name.slice(6)}`
    : t.name === 'backend' ? 'backends'
      : ['cores', 'custom-cores', 'oversubscribe'].includes(t.name) ? 'cores' : t.name;
  if (field) clearFieldError(field);
  updateEstimate();
}

/* ---------- submit ---------- */

async function onSubmit(event) {
  event.preventDefault();
  clearErrors();
  const { job, problems } = readJob();
  if (problems.length) {
    const focus = problems.map((p) => showFieldError(p.field, p.message)).find(Boolean);
    if (focus) focus.focus();
    return;
  }
  const button = document.getElementById('launch');
  button.disabled = true;
  button.textContent = 'Launching…';
  try {
    const answer = await api.createRun(job);
    go(`#/runs/${answer.id}`);
  } catch (e) {
    // The API names the field of a refused job; older servers only name it in the message.
    const field = e.status >= 400 && e.status < 500
      ? formField(e.field) ?? fieldOfMessage(e.message, catalog.workloads.map((w) => w.name), currentWorkload().params.map((p) => p.name))
      : null;
    const focus = showFieldError(field, e.message);
    if (focus) focus.focus();
  } finally {
    button.disabled = false;
    button.textContent = 'Launch run';
  }
}
