// runs.js — the runs list (#/runs, and below the launch form on #/).
//
// GET /api/runs with the filters; refreshed every 2 s, but only while some listed run is
// queued or running (a finished list does not change by itself). Rows link to the run;
// checkboxes pick runs for the compare view; cancel/delete ask first.

import * as api from './api.js';
import { el, fill, showNotice, clearNotice } from './dom.js';
import { fmtDate, fmtElapsed, fmtSpeedup } from './format.js';
import { go } from './router.js';

const PAGE = 50;
const REFRESH_MS = 2000;
const RETRY_MS = 5000;

let limit = PAGE;
let timer = null;
let requests = 0;           // numbers refreshes: only the latest one draws
let shown = false;          // is the list on screen (refreshes stop when it is not)
let wired = false;          // event handlers are attached once
const selected = new Set(); // run ids ticked for comparison

const $ = (id) => document.getElementById(id);

/** The view's entry point (both #/ and #/runs): fills the filters, then the list. */
export async function show() {
  shown = true;
  if (!wired) wire();
  await fillWorkloadFilter();
  await refresh();
}

/** Stops the auto-refresh when the list leaves the screen. */
export function leave() {
  shown = false;
  clearTimeout(timer);
  timer = null;
}

function wire() {
  wired = true;
  fill($('filter-status'), el('option', { value: '' }, 'all'), api.STATUSES.map((s) => el('option', { value: s }, s.replace('_', ' '))));
  for (const id of ['filter-workload', 'filter-status']) {
    $(id).addEventListener('change', () => { limit = PAGE; refresh(); });
  }
  $('runs-more').addEventListener('click', () => { limit = Math.min(500, limit + PAGE); refresh(); });
  $('compare-selected').addEventListener('click', () => go(`#/compare?ids=${[...selected].sort((a, b) => a - b).join(',')}`));

  const tbody = $('runs-table').tBodies[0];
  tbody.addEventListener('click', onRowClick);
  tbody.addEventListener('change', (e) => {
    if (e.target.name !== 'compare') return;
    const id = Number(e.target.value);
    if (e.target.checked) selected.add(id); else selected.delete(id);
    updateCompareButton();
  });
}

async function fillWorkloadFilter() {
  const select = $('filter-workload');
  if (select.options.length > 1) return;
  try {
    const workloads = await api.getWorkloads();
    select.append(...workloads.map((w) => el('option', { value: w.name }, w.name)));
  } catch (e) {
    showNotice(`The workload filter could not be filled: ${e.message}`, 'runs-filter');
  }
}

/** Fetches and draws the list; schedules the next refresh while runs are active. */
async function refresh() {
  clearTimeout(timer);
  timer = null;
  const n = ++requests;
  let answer;
  try {
    answer = await api.listRuns({ workload: $('filter-workload').value, status: $('filter-status').value, limit });
  } catch (e) {
    if (n !== requests || !shown) return;
    showNotice(`The runs list could not be loaded: ${e.message}`, 'runs');
    timer = setTimeout(refresh, RETRY_MS); // the server may be restarting: try again, slowly
    return;
  }
  if (n !== requests || !shown) return;
  clearNotice('runs');
  render(answer);
  if (answer.runs.some((r) => api.ACTIVE.has(r.status))) timer = setTimeout(refresh, REFRESH_MS);
}

function render({ runs, total }) {
  const now = Date.now() / 1000;
  fill($('runs-table').tBodies[0], runs.map((r) => row(r, now)));
  $('runs-empty').hidden = runs.length > 0;
  $('runs-more').hidden = runs.length >= total || limit >= 500;
  $('runs-summary').textContent = total > runs.length ? `showing ${runs.length} of ${total}` : `${total} run${total === 1 ? '' : 's'}`;
  // Forget ticks of runs that are gone (deleted, or filtered out of sight).
  for (const id of [...selected]) if (!runs.some((r) => r.id === id)) selected.delete(id);
  updateCompareButton();
}

function duration(r, now) {
  if (r.started_at && r.finished_at) return fmtElapsed(r.started_at, r.finished_at);
  if (r.status === 'running' && r.started_at) return `${fmtElapsed(r.started_at, now)} so far`;
  return '–';
}

function row(r, now) {
  const active = api.ACTIVE.has(r.status);
  const action = active
    ? el('button', { type: 'button', 'data-action': 'cancel', 'data-id': r.id }, 'Cancel')
    : el('button', { type: 'button', 'data-action': 'delete', 'data-id': r.id, class: 'danger' }, 'Delete');
  return el('tr', { 'data-run-id': r.id, class: 'clickable' },
    el('td', {}, el('input', {
      type: 'checkbox', name: 'compare', value: r.id, 'aria-label': `Compare run ${r.id}`,
      props: { checked: selected.has(r.id) },
    })),
    el('td', {}, el('a', { href: `#/runs/${r.id}` }, `#${r.id}`)),
    el('td', {}, el('span', { class: `badge status-${r.status}` }, r.status.replace('_', ' '))),
    el('td', {}, r.workload),
    el('td', {}, (r.job && r.job.backends ? r.job.backends : (r.job && r.job.programs || []).map((p) => p.name)).join(', ')),
    el('td', {}, fmtDate(r.created_at)),
    el('td', {}, duration(r, now)),
    el('td', { class: 'best-speedup' }, fmtSpeedup(r.best_speedup)),
    el('td', {}, action));
}

function updateCompareButton() {
  const n = selected.size;
  const button = $('compare-selected');
  button.disabled = n < 2 || n > 10;
  button.textContent = n ? `Compare selected (${n})` : 'Compare selected';
  button.title = n < 2 ? 'Tick 2 to 10 runs to compare' : n > 10 ? 'At most 10 runs' : '';
}

/** Buttons act; a click elsewhere on a row opens the run (the #id link does it by keyboard). */
async function onRowClick(event) {
  const button = event.target.closest('button[data-action]');
  if (button) {
    await act(button.dataset.action, Number(button.dataset.id));
    return;
  }
  if (event.target.closest('a, input, label, button')) return;
  const tr = event.target.closest('tr[data-run-id]');
  if (tr) go(`#/runs/${tr.dataset.runId}`);
}

async function act(action, id) {
  const question = action === 'cancel'
    ? `Cancel run #${id}? Its engine is stopped; measurements stored so far are kept.`
    : `Delete run #${id} and all its measurements? This cannot be undone.`;
  if (!window.confirm(question)) return;
  try {
    if (action === 'cancel') await api.cancelRun(id);
    else await api.deleteRun(id);
    selected.delete(id);
  } catch (e) {
    showNotice(`Could not ${action} run #${id}: ${e.message}`, `runs-${action}`);
  }
  await refresh();
}
