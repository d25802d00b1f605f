// programs.js — the launch view's "Your program" mode: a registered group of programs (the
// Python routes of the teaching material), or an ad-hoc command where the server allows it.
//
// Built from GET /api/programs and /api/system. A group run posts {programs: [names],
// params, cores, repeats, warmup, confine, thread_env}; a command posts {command: {argv,
// env, timeout_s?}, ...}. The server checks everything again (names, ranges, its --allow-commands) and
// its refusal is shown next to the field it names. The run view charts programs as it
// charts backends: each program is one curve.

import * as api from './api.js';
import { el, fill } from './dom.js';
import { fmtParam } from './format.js';
import { go } from './router.js';

const COMMAND = '__command__'; // the source option for an ad-hoc command
let catalog = null; // {groups, system}
const $ = (sel) => document.getElementById('program-form').querySelector(sel);

/** The view's entry point: the mode switch now, the program form the first time it is shown. */
export function show() {
  const workloadButton = document.getElementById('mode-workload');
  if (workloadButton.dataset.bound) return;
  workloadButton.dataset.bound = '1';
  workloadButton.addEventListener('click', () => setMode('workload'));
  document.getElementById('mode-program').addEventListener('click', () => setMode('program'));
}

function setMode(mode) {
  const program = mode === 'program';
  document.getElementById('launch-form').hidden = program;
  document.getElementById('program-form').hidden = !program;
  document.getElementById('mode-workload').setAttribute('aria-pressed', String(!program));
  document.getElementById('mode-program').setAttribute('aria-pressed', String(program));
  if (program && !catalog) load();
}

async function load() {
  const error = document.getElementById('program-form-error');
  error.textContent = 'Asking the server which programs can run here…';
  try {
    const [list, system] = await Promise.all([api.request('GET', '/api/programs'), api.getSystem()]);
    catalog = { groups: list.groups, system };
  } catch (e) {
    error.textContent = `The programs cannot be listed: ${e.message}`;
    return;
  }
  error.textContent = catalog.groups.length || catalog.system.allow_commands ? ''
    : 'This server has no registered programs (see --programs) and does not allow commands.';
  build();
}

function build() {
  const { groups, system } = catalog;
  const options = groups.map((g) => el('option', { value: g.group }, `${g.title} (${g.group})`));
  if (system.allow_commands) options.push(el('option', { value: COMMAND }, 'A command of your own'));
  fill($('#program-source'), options);
  const max = system.limits.max_cores;
  const counts = [];
  for (let p = 1; p < max; p *= 2) counts.push(p);
  counts.push(max);
  fill($('#program-cores'), counts.map((p) => el('label', { class: 'check' },
    el('input', { type: 'checkbox', name: 'program-cores', value: p, props: { checked: true } }), ` ${p}`)));
  $('#program-source').addEventListener('change', showSource);
  document.getElementById('program-form').addEventListener('submit', onSubmit);
  document.getElementById('program-form').addEventListener('input', (e) => clearError(fieldOf(e.target.name)));
  showSource();
}

const currentGroup = () => catalog.groups.find((g) => g.group === $('#program-source').value) || null;

function showSource() {
  const g = currentGroup();
  $('#program-command-field').hidden = Boolean(g);
  $('#program-list-fieldset').hidden = !g;
  $('#program-lesson').textContent = g ? g.lesson
    : 'Your command runs as the server\'s user, once per timed run; {cores} and the parameters below are replaced in its arguments.';
  fill($('#program-list'), g ? g.programs.map(programCheck) : []);
  fill($('#program-params'), g ? g.params.map(paramField) : [commandParam()]);
}

function programCheck(p) {
  const why = p.available ? `${p.route}: ${p.lesson}` : `unavailable: ${p.reason}`;
  return el('label', { class: `check${p.available ? '' : ' unavailable'}`, title: why },
    el('input', {
      type: 'checkbox', name: 'program', value: p.name, title: why,
      disabled: !p.available || p.baseline, props: { checked: p.available && (p.baseline || !/torch|dask/.test(p.name)) },
    }),
    ` ${p.title}`, el('span', { class: 'hint' }, p.available ? (p.baseline ? ' (baseline)' : '') : ' (unavailable)'));
}

function paramField(p) {
  const id = `program-param-${p.name}`;
  const range = `${fmtParam(p.min)} to ${fmtParam(p.max)}${p.integer ? ', whole number' : ''}`;
  return el('div', { class: 'field' },
    el('label', { for: id }, el('strong', {}, p.name), ` — ${p.meaning || ''} `, el('span', { class: 'hint' }, `(${range})`)),
    el('input', { id, name: id, type: 'number', min: p.min, max: p.max, step: p.integer ? 1 : 'any', value: p.default }),
    el('p', { class: 'field-error', 'data-field': `params.${p.name}` }));
}

/* A command's parameters are its own: NAME=VALUE pairs, each one a {NAME} placeholder. */
function commandParam() {
  return el('div', { class: 'field field-wide' },
    el('label', { for: 'program-command-params' }, 'Parameters: NAME=VALUE, one per line (numbers; {NAME} in the command)'),
    el('textarea', { id: 'program-command-params', name: 'program-command-params', rows: 2 }),
    el('p', { class: 'field-error', 'data-field': 'params' }));
}

const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);

function pairs(text, what, numbers) {
  const out = {};
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    if (eq < 1) throw new FieldError(what, `${what}: "${line}" is not NAME=VALUE`);
    const value = line.slice(eq + 1).trim();
    if (numbers && !Number.isFinite(Number(value))) throw new FieldError(what, `${what}: ${line.slice(0, eq)} must be a number`);
    out[line.slice(0, eq).trim()] = numbers ? Number(value) : value;
  }
  return out;
}

class FieldError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

/** The body the form describes (throws a FieldError for what can be seen here). */
function readBody() {
  const cores = [...document.querySelectorAll('input[name="program-cores"]:checked')].map((i) => Number(i.value));
  if (!cores.length) throw new FieldError('cores', 'cores: choose at least one core count');
  const body = {
    cores, repeats: Number($('#program-repeats').value), warmup: Number($('#program-warmup').value),
    confine: $('#program-confine').checked, thread_env: $('#program-thread-env').checked,
    oversubscribe: $('#program-oversubscribe').checked,
  };
  const g = currentGroup();
  if (g) {
    body.programs = [...document.querySelectorAll('input[name="program"]:checked')].map((i) => i.value);
    if (!body.programs.length) throw new FieldError('programs', 'programs: choose at least one route');
    body.params = Object.fromEntries(g.params.map((p) => [p.name, Number($(`#program-param-${p.name}`).value)]));
  } else {
    const argv = lines($('#program-command').value);
    if (!argv.length) throw new FieldError('command', 'command: write the program and its arguments, one per line');
    body.command = { argv, env: pairs($('#program-env').value, 'command', false) };
    const timeout = $('#program-timeout').value.trim();
    if (timeout !== '') {
      body.command.timeout_s = Number(timeout);
      if (!(body.command.timeout_s > 0)) throw new FieldError('command.timeout_s', 'timeout: a number of seconds above 0 (e.g. 30 or 0.5), or empty for no limit');
    }
    body.params = pairs(document.getElementById('program-command-params').value, 'params', true);
  }
  return body;
}

const fieldOf = (name) => ({ 'program-cores': 'cores', program: 'programs', 'program-command': 'command', 'program-timeout': 'command.timeout_s' }[name]
  || (name && name.startsWith('program-param-') ? `params.${name.slice(14)}` : null));

function errorBox(field) {
  const boxes = [...document.getElementById('program-form').querySelectorAll('.field-error')];
  return boxes.find((b) => b.dataset.field === field)
    || (field && field.startsWith('params') ? boxes.find((b) => b.dataset.field === 'params') : null)
    || (field && field.startsWith('command') ? boxes.find((b) => b.dataset.field === 'command') : null);
}

function showError(field, message) {
  const box = errorBox(field);
  (box || document.getElementById('program-form-error')).textContent = message;
}

function clearError(field) {
  const box = field && errorBox(field);
  if (box) box.textContent = '';
}

async function onSubmit(event) {
  event.preventDefault();
  for (const b of document.getElementById('program-form').querySelectorAll('.field-error, #program-form-error')) b.textContent = '';
  let body;
  try {
    body = readBody();
  } catch (e) {
    showError(e.field, e.message);
    return;
  }
  const button = document.getElementById('program-launch');
  button.disabled = true;
  button.textContent = 'Launching…';
  try {
    const answer = await api.createRun(body);
    go(`#/runs/${answer.id}`);
  } catch (e) {
    showError(e.field, e.message);
  } finally {
    button.disabled = false;
    button.textContent = 'Launch run';
  }
}
