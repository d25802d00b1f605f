// app.js — the dashboard's entry point: charts set-up, the route table, global error nets.
//
// Each view lives in js/<view>.js and exports show(params, ctx) (and leave() when it has
// timers or charts to stop); js/router.js maps the hash to a view. See
// docs/dashboard-contract.md for the ids, routes and data shapes the browser tests use.

import { charts, chartsAvailable, registerPlugins, applyTheme } from './js/charts.js';
import { showNotice } from './js/dom.js';
import { startRouter } from './js/router.js';
import * as launch from './js/launch.js';
import * as programs from './js/programs.js';
import * as runs from './js/runs.js';
import * as run from './js/run.js';
import * as compare from './js/compare.js';
import * as system from './js/system.js';

// For tests and debugging: the Chart instances of the view shown now.
window.scalelab = { charts };

// Nothing may fail silently: whatever escapes a view still reaches the user.
window.addEventListener('unhandledrejection', (e) => showNotice(`Unexpected error: ${e.reason && e.reason.message ? e.reason.message : e.reason}`, 'unexpected'));
window.addEventListener('error', (e) => showNotice(`Unexpected error: ${e.message}`, 'unexpected'));

if (chartsAvailable()) {
  registerPlugins();
  // Follow the system's light/dark switch without a reload.
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
} else {
  showNotice('Chart.js was not found at static/vendor/chart.umd.js (run make to copy it from npm): charts cannot be drawn.', 'vendor');
}

const ROUTES = [
  {
    pattern: /^\/$/,
    params: () => ({}),
    view: {
      name: 'launch',
      sections: ['launch-view', 'runs-view'],
      show: (p, ctx) => Promise.all([launch.show(p, ctx), runs.show(p, ctx), programs.show()]),
      leave: runs.leave,
    },
  },
  { pattern: /^\/runs\/?$/, params: () => ({}), view: { name: 'runs', sections: ['runs-view'], show: runs.show, leave: runs.leave } },
  { pattern: /^\/runs\/(\d+)\/?$/, params: (m) => ({ id: Number(m[1]) }), view: { name: 'run', sections: ['run-view'], show: run.show, leave: run.leave } },
  { pattern: /^\/compare\/?$/, params: () => ({}), view: { name: 'compare', sections: ['compare-view'], show: compare.show, leave: compare.leave } },
  { pattern: /^\/system\/?$/, params: () => ({}), view: { name: 'system', sections: ['system-view'], show: system.show } },
];

startRouter(ROUTES);
