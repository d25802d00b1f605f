// compare.js — several runs side by side (#/compare?ids=3,4): speedup curves overlaid,
// each run's host and job named, since a curve means little without the machine it ran on.

import * as api from './api.js';
import * as ch from './charts.js';
import { el, fill, showNotice } from './dom.js';
import { fmtHost, fmtParams } from './format.js';

let wired = false;
let shownIds = [];

const $ = (id) => document.getElementById(id);

/** The view's entry point: reads ids from the query, fetches GET /api/compare, draws. */
export async function show({ query }, ctx) {
  if (!wired) wire();
  const text = query.get('ids') || '';
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  fill($('compare-hosts'));
  ch.resetCharts();
  if (ids.length < 2 || ids.length > 10 || ids.some((s) => !/^\d+$/.test(s))) {
    const msg = `Compare needs 2 to 10 run ids, such as #/compare?ids=3,4 (got "${text}"). Tick runs in the runs list.`;
    fill($('compare-hosts'), el('li', { class: 'form-error' }, msg));
    showNotice(msg, 'compare');
    return;
  }
  let answer;
  try {
    answer = await api.compareRuns(ids);
  } catch (e) {
    if (!ctx.current()) return;
    fill($('compare-hosts'), el('li', { class: 'form-error' }, `These runs could not be compared: ${e.message}`));
    showNotice(e, 'compare');
    return;
  }
  if (!ctx.current()) return;
  shownIds = answer.runs.map((r) => r.id);
  $('compare-title').textContent = `Compare runs ${shownIds.map((id) => `#${id}`).join(', ')}`;
  fill($('compare-hosts'), answer.runs.map(hostItem), sizeNote(answer.runs));
  ch.setChart('compare', $('chart-compare'), ch.compareConfig(answer.runs));
}

export function leave() {
  ch.resetCharts();
}

function wire() {
  wired = true;
  $('compare-view').addEventListener('click', (e) => {
    if (!e.target.closest('button[data-png]')) return;
    if (!ch.downloadPng('compare', `scalelab-compare-${shownIds.join('-')}.png`)) {
      showNotice('The chart has nothing to download yet.', 'png');
    }
  });
}

function hostItem(run) {
  const j = run.job || {};
  const routes = j.programs ? `programs ${j.programs.map((p) => p.name).join(', ')}` : `backends ${(j.backends || []).join(', ')}`;
  const job = `${run.workload}: ${fmtParams(j.params)}; ${routes}; `
    + `cores ${(j.cores || []).join(', ')}; ${j.scaling || 'strong'} scaling, ${j.variant || 'vector'} kernel; ${j.repeats} repeat${j.repeats === 1 ? '' : 's'}`;
  return el('li', { class: 'compare-host' },
    el('a', { href: `#/runs/${run.id}` }, `#${run.id}`), ' ',
    el('span', { class: `badge status-${run.status}` }, run.status.replace('_', ' ')), ' ',
    el('strong', {}, fmtHost(run.host) || 'host unknown (the run never started)'),
    el('br'), el('span', { class: 'hint' }, job));
}

/* Runs of different sizes (a Python route's run and a native run of the same workload, say):
 * their times do not compare, their speedups do. Null when every run has the same sizes. */
function sizeNote(runs) {
  const sizes = runs.map((r) => [...new Set((r.points || []).map((p) => p.size))].sort((a, b) => a - b).join(', '));
  if (new Set(sizes).size <= 1) return null;
  return el('li', { class: 'compare-sizes' },
    `The runs' sizes differ (${runs.map((r, i) => `#${r.id}: ${sizes[i] || 'none'}`).join('; ')}): `
    + 'compare their speedups and efficiencies, not their times.');
}
