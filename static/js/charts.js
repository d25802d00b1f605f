// charts.js — Chart.js helpers: datasets from the analysis JSON, chart configs, theme, PNG.
//
// Chart.js and the error-bar plugin are classic scripts (globals Chart and ChartErrorBars,
// see index.html). The run and compare views call the *Config functions with the API's
// analysis points and hand the result to setChart(), which keeps one Chart per name in
// window.scalelab.charts (the tests read the datasets from there).
//
// Point shapes (docs/dashboard-contract.md): time {x: cores, y: median_s, yMin: ci_lo,
// yMax: ci_hi}; speedup and efficiency the same, their error bars the time CI carried over
// (speedup = baseline / time, so the interval of the time maps onto one of the speedup).

import { fmtSeconds, fmtNumber, fmtSpeedup, fmtPercent } from './format.js';

const ChartJS = globalThis.Chart;

/** The charts of the view shown now, by name; the same object as window.scalelab.charts. */
export const charts = {};

/** False when the vendor scripts are missing (static/vendor/ is filled by make). */
export const chartsAvailable = () => Boolean(ChartJS);

// A backend keeps its colour in every chart; the colours read on light and dark alike.
const BACKEND_COLOURS = {
  serial: '#64748b', simd: '#a855f7', threads: '#3b82f6',
  processes: '#f59e0b', pool: '#10b981', openmp: '#ef4444',
};
const SPARE_COLOURS = ['#06b6d4', '#ec4899', '#84cc16', '#eab308', '#8b5cf6', '#f97316'];
const IDEAL_COLOUR = '#8a8f98'; // mid grey: visible on light and dark
const PHASE_COLOURS = { spawn: '#f59e0b', compute: '#3b82f6', combine: '#ef4444' };

/** The colour of a backend (unknown ones get a stable spare colour). */
export function colourFor(name, index = 0) {
  if (BACKEND_COLOURS[name]) return BACKEND_COLOURS[name];
  let h = index;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return SPARE_COLOURS[h % SPARE_COLOURS.length];
}

/** Distinct colours for a list of lines (the compare chart has many of the same backend). */
export const paletteColour = (i) => [...Object.values(BACKEND_COLOURS).slice(1), ...SPARE_COLOURS][i % 11];

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/*
 * The canvas is transparent by default: a PNG of a dark-mode chart would show light text
 * on whatever the image viewer puts behind it. This plugin paints the page's surface colour
 * first, so a chart reads the same on screen and in its PNG.
 */
const backgroundPlugin = {
  id: 'scalelabBackground',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = cssVar('--surface') || '#fff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/** Registers the error-bar plugin and our background plugin; call once at start-up. */
export function registerPlugins() {
  if (!ChartJS) return;
  const eb = globalThis.ChartErrorBars;
  if (eb) {
    // The UMD build registers itself too; registering again is harmless and says what we use.
    ChartJS.register(eb.ScatterWithErrorBarsController, eb.PointWithErrorBar,
      eb.BarWithErrorBarsController, eb.BarWithErrorBar);
  }
  ChartJS.register(backgroundPlugin);
  ChartJS.defaults.animation = false; // charts re-render as measurements arrive
  // Short, flat legend swatches read as lines, so dashed ones (ideal, model) look dashed.
  ChartJS.defaults.plugins.legend.labels.boxWidth = 22;
  ChartJS.defaults.plugins.legend.labels.boxHeight = 4;
  ChartJS.defaults.maintainAspectRatio = false;
  applyTheme();
}

/** Takes text and grid colours from the CSS variables (light or dark) and redraws. */
export function applyTheme() {
  if (!ChartJS) return;
  ChartJS.defaults.color = cssVar('--fg-muted') || '#555';
  ChartJS.defaults.borderColor = cssVar('--grid') || '#ddd';
  ChartJS.defaults.font.family = getComputedStyle(document.body).fontFamily;
  for (const chart of Object.values(charts)) chart.update('none');
}

/**
 * Shows `config` on `canvas` under `name`: updates the existing chart in place when there
 * is one of the same type (no flicker while a run is live), otherwise creates it.
 * Returns the Chart, or null when Chart.js is missing.
 */
export function setChart(name, canvas, config) {
  if (!ChartJS) return null;
  const old = charts[name];
  if (old && old.canvas === canvas && old.config.type === config.type) {
    old.data = config.data;
    old.options = config.options;
    old.update('none');
    return old;
  }
  if (old) old.destroy();
  const stale = ChartJS.getChart(canvas);
  if (stale) stale.destroy();
  charts[name] = new ChartJS(canvas, config);
  return charts[name];
}

/** Destroys every chart (on leaving a view). */
export function resetCharts() {
  for (const name of Object.keys(charts)) {
    charts[name].destroy();
    delete charts[name];
  }
}

/** Downloads chart `name` as a PNG file; returns false when there is no such chart. */
export function downloadPng(name, filename) {
  const chart = charts[name];
  if (!chart) return false;
  const a = document.createElement('a');
  a.href = chart.toBase64Image('image/png', 1);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  return true;
}

/* ---------- data from the analysis JSON ---------- */

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
const xOf = (p) => p.x ?? p.cores;
const byX = (a, b) => xOf(a) - xOf(b);

/**
 * The points with their x (a core count). That is the point's cores, except in weak
 * scaling: there a one-core backend (serial, simd) runs once per size, and each of its
 * points is placed at the core count whose work it did, beside the parallel backends'
 * points of the same size (sizes and core counts both ascend together).
 */
export function placePoints(points, job, scaling) {
  let place = null;
  if (scaling === 'weak' && job && Array.isArray(job.cores)) {
    const sizes = [...new Set(points.map((p) => p.size))].sort((a, b) => a - b);
    const cores = [...new Set(job.cores)].sort((a, b) => a - b);
    if (sizes.length === cores.length) place = new Map(sizes.map((size, i) => [size, cores[i]]));
  }
  return points.map((p) => ({ ...p, x: place && p.cores === 1 ? place.get(p.size) : p.cores }));
}

/** A point's name, "threads:2"; with its size too when that alone is ambiguous (weak). */
export function pointKeys(points) {
  const count = new Map();
  for (const p of points) count.set(`${p.backend}:${p.cores}`, (count.get(`${p.backend}:${p.cores}`) || 0) + 1);
  return points.map((p) => (count.get(`${p.backend}:${p.cores}`) > 1 ? `${p.backend}:${p.cores}:${p.size}` : `${p.backend}:${p.cores}`));
}

/** The analysis points grouped by backend, in the order the backends first appear. */
export function groupByBackend(points) {
  const groups = new Map();
  for (const p of points) {
    if (!groups.has(p.backend)) groups.set(p.backend, []);
    groups.get(p.backend).push(p);
  }
  for (const list of groups.values()) list.sort(byX);
  return groups;
}

/**
 * What the speedup is measured against: "serial" when every point has a speedup against
 * the serial backend (the contract's first choice), else "self" (each backend's own
 * 1-core time). One baseline for the whole chart, so the curves can be compared.
 */
export function speedupBaseline(points) {
  return points.length > 0 && points.every((p) => isNum(p.speedup)) ? 'serial' : 'self';
}

/** A point's speedup on `baseline` with the CI of its time carried over: {y, yMin, yMax}. */
function speedupOf(p, baseline) {
  const s = baseline === 'serial' ? p.speedup : p.speedup_self;
  if (!isNum(s)) return null;
  const w = p.wall_s;
  return { y: s, yMin: w.ci_hi > 0 ? (s * w.median) / w.ci_hi : undefined, yMax: w.ci_lo > 0 ? (s * w.median) / w.ci_lo : undefined };
}

/** Model time T(p) = a + b/p + c p of a backend's fit (analysis.backends[].fit). */
export const modelTime = (fit, p) => fit.a + fit.b / p + fit.c * p;

/**
 * The fitted model as a speedup: T(1)/T(p) with T(1) = a + b + c. When the chart measures
 * against serial, the numerator is the serial median instead (T_serial / T(p)), so that
 * the curve sits on the same scale as the backend's measured points.
 */
export function modelSpeedup(fit, p, serialTime = null) {
  const t1 = isNum(serialTime) ? serialTime : modelTime(fit, 1);
  return t1 / modelTime(fit, p);
}

/** n evenly spaced core counts from 1 to max (the x values of the ideal and model lines). */
export function denseCores(max, n = 64) {
  if (!(max > 1)) return [1];
  return Array.from({ length: n }, (_, i) => 1 + ((max - 1) * i) / (n - 1));
}

/*
 * A line with points and error bars. The error-bar controller's points are elements of type
 * "pointWithErrorBar", so Chart.js does not map the usual "pointRadius" dataset key onto
 * them: point options are given unprefixed ("radius"), as are the bar colours (the
 * plugin's default is near-black, invisible in dark mode).
 */
function lineDataset(label, colour, data, extra = {}) {
  return {
    label, data, borderColor: colour, backgroundColor: colour, showLine: true, borderWidth: 2,
    radius: 3, hoverRadius: 5, errorBarColor: colour, errorBarWhiskerColor: colour, errorBarWhiskerSize: 10,
    ...extra,
  };
}

export function timeDatasets(points) {
  return [...groupByBackend(points)].map(([backend, list], i) => lineDataset(backend, colourFor(backend, i),
    list.map((p) => ({ x: xOf(p), y: p.wall_s.median, yMin: p.wall_s.ci_lo, yMax: p.wall_s.ci_hi }))));
}

/** The speedup datasets: one per backend, "ideal" (y = x through (1,1)), "<backend> model". */
export function speedupDatasets(points, fits, maxCores) {
  const baseline = speedupBaseline(points);
  const groups = groupByBackend(points);
  const sets = [];
  for (const [backend, list] of groups) {
    const data = list.map((p) => {
      const s = speedupOf(p, baseline);
      return s && { x: xOf(p), ...s };
    }).filter(Boolean);
    sets.push(lineDataset(backend, colourFor(backend), data));
  }
  const xs = denseCores(maxCores);
  sets.push(lineDataset('ideal', IDEAL_COLOUR, xs.map((x) => ({ x, y: x })),
    { borderDash: [4, 4], radius: 0, hoverRadius: 0, borderWidth: 1 }));

  const serial = points.find((p) => p.backend === 'serial' && p.cores === 1);
  const serialTime = baseline === 'serial' && serial ? serial.wall_s.median : null;
  for (const f of fits) {
    if (!f.fit || !groups.has(f.backend)) continue;
    sets.push(lineDataset(`${f.backend} model`, colourFor(f.backend),
      xs.map((x) => ({ x, y: modelSpeedup(f.fit, x, serialTime) })),
      { borderDash: [6, 3], radius: 0, hoverRadius: 0, borderWidth: 1.5 }));
  }
  return sets;
}

export function efficiencyDatasets(points) {
  return [...groupByBackend(points)].map(([backend, list]) => lineDataset(backend, colourFor(backend),
    list.filter((p) => isNum(p.efficiency)).map((p) => {
      const w = p.wall_s;
      return {
        x: xOf(p), y: p.efficiency,
        yMin: w.ci_hi > 0 ? (p.efficiency * w.median) / w.ci_hi : undefined,
        yMax: w.ci_lo > 0 ? (p.efficiency * w.median) / w.ci_lo : undefined,
      };
    })));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median busy time (s) of each worker over the repeats of one point (backend, cores, size if given). */
export function workerBusy(measurements, backend, cores, size = null) {
  const runs = measurements.filter((m) => m.backend === backend && m.cores === cores
    && (size === null || m.size === size) && Array.isArray(m.busy_ns));
  const workers = Math.max(0, ...runs.map((m) => m.busy_ns.length));
  return Array.from({ length: workers }, (_, w) =>
    median(runs.filter((m) => w < m.busy_ns.length).map((m) => m.busy_ns[w] / 1e9)));
}

/* ---------- chart configs ---------- */

function coresAxis(weak) {
  const text = weak ? 'cores (weak scaling: the work grows with them)' : 'cores';
  return { type: 'linear', title: { display: true, text }, ticks: { precision: 0 } };
}

// Log axes label only 1, 2 and 5 times a power of ten, as Chart.js does by default.
function logTickSeconds(value) {
  const m = value / 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5].some((k) => Math.abs(m - k) < 1e-6) ? fmtSeconds(value) : '';
}

function ciLabel(fmt) {
  return (item) => {
    const r = item.raw;
    const ci = isNum(r.yMin) && isNum(r.yMax) ? ` (CI ${fmt(r.yMin)} – ${fmt(r.yMax)})` : '';
    return `${item.dataset.label}, ${fmtNumber(r.x)} cores: ${fmt(r.y)}${ci}`;
  };
}

export function timeConfig(points, weak = false) {
  return {
    type: 'scatterWithErrorBars',
    data: { datasets: timeDatasets(points) },
    options: {
      scales: {
        x: coresAxis(weak),
        y: { type: 'logarithmic', title: { display: true, text: 'median wall time' }, ticks: { callback: logTickSeconds } },
      },
      plugins: { tooltip: { callbacks: { label: ciLabel(fmtSeconds) } } },
    },
  };
}

export function speedupConfig(points, fits, maxCores, weak = false) {
  const baseline = speedupBaseline(points);
  return {
    type: 'scatterWithErrorBars',
    data: { datasets: speedupDatasets(points, fits, maxCores) },
    options: {
      scales: {
        x: coresAxis(weak),
        y: { min: 0, title: { display: true, text: baseline === 'serial' ? 'speedup vs serial' : 'speedup vs own 1 core' } },
      },
      plugins: { tooltip: { callbacks: { label: ciLabel(fmtSpeedup) } } },
    },
  };
}

export function efficiencyConfig(points, weak = false) {
  return {
    type: 'scatterWithErrorBars',
    data: { datasets: efficiencyDatasets(points) },
    options: {
      scales: {
        x: coresAxis(weak),
        y: { min: 0, suggestedMax: 1.1, title: { display: true, text: 'efficiency' }, ticks: { callback: (v) => fmtPercent(v) } },
      },
      plugins: { tooltip: { callbacks: { label: ciLabel(fmtPercent) } } },
    },
  };
}

export function loadConfig(busy, backend) {
  return {
    type: 'bar',
    data: {
      labels: busy.map((_, i) => `worker ${i + 1}`),
      datasets: [{ label: `${backend}: busy time`, data: busy.map((s) => s * 1e3), backgroundColor: colourFor(backend) }],
    },
    options: {
      scales: { y: { min: 0, title: { display: true, text: 'busy time (ms, median of repeats)' } } },
      plugins: { legend: { display: false } },
    },
  };
}

export function phasesConfig(points) {
  const phases = ['spawn', 'compute', 'combine'];
  return {
    type: 'bar',
    data: {
      labels: pointKeys(points).map((k) => k.replace(/:(\d+)(?::(.*))?$/, (_, c, size) => ` ×${c}${size ? ` (${fmtNumber(Number(size))})` : ''}`)),
      datasets: phases.map((ph) => ({
        label: ph, backgroundColor: PHASE_COLOURS[ph],
        data: points.map((p) => (isNum(p[`${ph}_s`]) ? p[`${ph}_s`] * 1e3 : null)),
      })),
    },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, min: 0, title: { display: true, text: 'ms (medians)' } } },
    },
  };
}

/** Speedup curves of several runs (GET /api/compare): one dataset per (run, backend). */
export function compareConfig(runs) {
  const datasets = [];
  runs.forEach((run, r) => {
    const points = placePoints(run.points || [], run.job, run.job && run.job.scaling);
    const baseline = speedupBaseline(points);
    for (const [backend, list] of groupByBackend(points)) {
      const data = list.map((p) => {
        const s = speedupOf(p, baseline);
        return s && { x: xOf(p), ...s };
      }).filter(Boolean);
      datasets.push(lineDataset(`#${run.id} ${backend}`, paletteColour(datasets.length), data,
        { borderDash: r % 2 ? [6, 3] : [], pointStyle: ['circle', 'rect', 'triangle', 'rectRot'][r % 4], radius: 4 }));
    }
  });
  return {
    type: 'scatterWithErrorBars',
    data: { datasets },
    options: {
      scales: { x: coresAxis(false), y: { min: 0, title: { display: true, text: 'speedup' } } },
      plugins: { tooltip: { callbacks: { label: ciLabel(fmtSpeedup) } } },
    },
  };
}
