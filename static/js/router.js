// router.js — hash routes to views: which <section>s show, and which view renders them.
//
// A view is an object {name, sections, show(params, ctx), leave()} (see the modules in
// this folder). show() resolves once its data is on the page; then the router sets
// body.dataset.view and body.dataset.ready = "1", which the browser tests wait for.
// ctx.current() tells a view whether it is still the shown one, so a slow answer for a
// page the user already left is dropped instead of drawn over the new page.

import { clearNotices, showNotice } from './dom.js';

const ALL_SECTIONS = ['launch-view', 'runs-view', 'run-view', 'compare-view', 'system-view'];

let routes = [];       // [{pattern: RegExp on the path, view, params(match) -> object}]
let active = null;     // the view shown now
let generation = 0;    // increases with every navigation

/** Splits the hash "#/compare?ids=3,4" into {path: "/compare", query: URLSearchParams}. */
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(search) };
}

/** Goes to `hash` (adds a history entry, so back/forward work). */
export function go(hash) {
  if (location.hash === hash) render(false);
  else location.hash = hash;
}

async function render(moveFocus) {
  const gen = ++generation;
  document.body.dataset.ready = '0';
  if (active && active.leave) active.leave();
  clearNotices();

  const { path, query } = parseHash();
  let route = null;
  let match = null;
  for (const r of routes) {
    match = path.match(r.pattern);
    if (match) { route = r; break; }
  }
  if (!route) {
    // An unknown hash: show the launch page rather than nothing, and say so.
    route = routes[0];
    match = [];
    showNotice(`There is no page at #${path}; here is the launch page.`, 'route');
  }
  const view = route.view;
  active = view;

  for (const id of ALL_SECTIONS) document.getElementById(id).hidden = !view.sections.includes(id);
  markCurrentLink(path);

  const ctx = { current: () => gen === generation };
  try {
    await view.show({ ...route.params(match), query }, ctx);
  } catch (e) {
    // Views show their own errors; this is the last resort so none goes unseen.
    if (ctx.current()) showNotice(e);
  }
  if (!ctx.current()) return;
  if (moveFocus) {
    // Keyboard and screen-reader users land on the new page's heading, not on the old link.
    const heading = document.querySelector(`#${view.sections[0]} h1`);
    if (heading) heading.focus({ preventScroll: false });
  }
  document.body.dataset.view = view.name;
  document.body.dataset.ready = '1';
}

function markCurrentLink(path) {
  const section = path === '/' ? '/' : `/${path.split('/')[1]}`;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === `#${section}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Installs the route table and renders the current hash. */
export function startRouter(table) {
  routes = table;
  window.addEventListener('hashchange', () => render(true));
  render(false);
}
