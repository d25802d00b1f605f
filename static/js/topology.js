// topology.js — the System view's picture of the host's topology (hwloc's tree, as the engine
// reports it in host.topology): nested boxes, as lstopo draws them. A package holds its NUMA
// nodes (with their memory) and its caches, a cache the caches and cores below it, a core its
// hardware threads (PUs: SMT siblings share the core). PU numbers are the CPU numbers that
// affinity and the ranks' binding use.

import { el, fill } from './dom.js';
import { fmtBytes } from './format.js';

const LABEL = {
  package: (n) => `Package ${n.index}`,
  numa: (n) => `NUMA node ${n.index} (${fmtBytes(n.memory_bytes)})`,
  cache: (n) => `L${n.level}${n.kind === 'instruction' ? 'i' : n.kind === 'data' ? 'd' : ''} ${fmtBytes(n.size_bytes)}`,
  core: (n) => `Core ${n.index}`,
  pu: (n) => `CPU ${n.index}`,
};

function box(n) {
  const kids = n.children || [];
  const label = (LABEL[n.type] || ((x) => x.type))(n);
  return el('div', { class: `topo topo-${n.type}`, title: label },
    el('span', { class: 'topo-label' }, label),
    kids.length ? el('div', { class: 'topo-children' }, kids.map(box)) : null);
}

/** Draws tree (an array of top-level nodes) into node; a sentence when there is none. */
export function renderTopology(node, tree) {
  if (!Array.isArray(tree) || tree.length === 0) {
    fill(node, el('p', { class: 'hint' }, 'No topology: the engine could not read it (hwloc).'));
    return;
  }
  fill(node, tree.map(box));
}
