// mpi.js — the run view's MPI section: for each core count the mpi backend ran at, the mix of
// ranks and threads, where the ranks ran, what starting them cost (launch, paid once per core
// count and never inside a run) and how much of a run went to communication (time inside MPI
// calls). Hidden for runs without mpi. Figures are medians over the timed runs.

import { el, fill } from './dom.js';
import { fmtPercent, fmtSeconds } from './format.js';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : null;
};

/** One row per mpi core count: {cores, ranks, threads, hosts, launch_s, wall_s, comm_s, share}. */
export function mpiRows(run) {
  const ms = (run.measurements || []).filter((m) => m.backend === 'mpi' && m.hosts && m.verified);
  const byCores = new Map();
  for (const m of ms) {
    if (!byCores.has(m.cores)) byCores.set(m.cores, []);
    byCores.get(m.cores).push(m);
  }
  return [...byCores.entries()].sort((a, b) => a[0] - b[0]).map(([cores, list]) => {
    const wall = median(list.map((m) => m.wall_ns)) * 1e-9;
    const comm = median(list.map((m) => m.comm_ns)) * 1e-9;
    const ranks = list[0].hosts.length;
    return {
      cores, ranks, threads: cores / ranks, hosts: list[0].hosts,
      launch_s: median(list.map((m) => m.launch_ns)) * 1e-9, wall_s: wall, comm_s: comm,
      share: wall > 0 ? comm / wall : null,
    };
  });
}

/** "a ×2, b" for the ranks' hosts in rank order. */
function fmtHosts(hosts) {
  const counts = new Map();
  for (const h of hosts) counts.set(h, (counts.get(h) || 0) + 1);
  return [...counts.entries()].map(([h, n]) => (n > 1 ? `${h} ×${n}` : h)).join(', ');
}

/** The sentence naming communication as the cause, when it takes most of a run. */
export function mpiWords(rows) {
  const worst = rows.filter((r) => r.ranks > 1 && r.share != null)
    .reduce((w, r) => (!w || r.share > w.share ? r : w), null);
  if (!worst) return null;
  if (worst.share >= 0.5) {
    return `Communication limits mpi: at ${worst.ranks} ranks ${fmtPercent(worst.share)} of a run `
      + `(${fmtSeconds(worst.comm_s)} of ${fmtSeconds(worst.wall_s)}) is spent inside MPI calls, `
      + 'exchanging boundaries and waiting for the other ranks; fewer, larger messages would pay.';
  }
  return `mpi at ${worst.ranks} ranks spends ${fmtPercent(worst.share)} of a run inside MPI calls `
    + `(${fmtSeconds(worst.comm_s)}); starting the ranks (launch, not in the run times) `
    + `took ${fmtSeconds(worst.launch_s)}.`;
}

/** Fills the MPI section of the run view, or hides it. */
export function renderMpi(run, section) {
  const rows = mpiRows(run);
  section.hidden = rows.length === 0;
  if (!rows.length) return;
  const words = mpiWords(rows);
  fill(section.querySelector('.mpi-words'), words || '');
  fill(section.querySelector('tbody'), rows.map((r) => el('tr', {},
    el('th', { scope: 'row' }, r.cores),
    el('td', {}, r.threads > 1 ? `${r.ranks} ranks × ${r.threads} threads` : `${r.ranks} rank${r.ranks > 1 ? 's' : ''}`),
    el('td', {}, fmtHosts(r.hosts)),
    el('td', {}, fmtSeconds(r.launch_s)),
    el('td', {}, fmtSeconds(r.wall_s)),
    el('td', {}, fmtSeconds(r.comm_s)),
    el('td', { class: r.share >= 0.5 ? 'bad' : '' }, fmtPercent(r.share)))));
  const mh = run.mpi_hosts || [];
  fill(section.querySelector('.mpi-hosts'), mh.length
    ? `Hosts and slots${run.job.hostfile ? ` (hostfile ${run.job.hostfile})` : ''}: ${mh.map((h) => `${h.name} (${h.slots} slot${h.slots > 1 ? 's' : ''})`).join(', ')}.`
    : '');
}
