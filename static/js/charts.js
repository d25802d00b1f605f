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
// Programs (a Python group has up to 15 routes) take these in the order they are first drawn.
const SPARE_COLOURS = ['#06b6d4', '#ec4899', '#84cc16', '#eab308', '#8b5cf6', '#f97316',
  '#14b8a6', '#be185d', '#0ea5e9', '#a3a3a3', '#d946ef', '#65a30d'];
const assigned = new Map();
const IDEAL_COLOUR = '#8a8f98'; // mid grey: visible on light and dark
const PHASE_COLOURS = {
  spawn: '#f59e0b', compute: '#3b82f6', barrier: '#a855f7', combine: '#ef4444', other: '#94a3b8',
};

/**
 * The colour of a backend. Any other curve (a program) gets the next spare colour the first
 * time it is drawn and keeps it for the page's life, so it is the same in every chart and
 * a run's routes differ (a hash of the name gave two routes of one run the same colour).
 */
export function colourFor(name) {
  if (BACKEND_COLOURS[name]) return BACKEND_COLOURS[name];
  if (!assigned.has(name)) assigned.set(name, SPARE_COLOURS[assigned.size % SPARE_COLOURS.length]);
  return assigned.get(name);
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

/*
 * Core counts marked across a chart (options.plugins.scalelabMarks = {x: [{value, label}]}):
 * a dashed vertical line, e.g. at the host's physical cores. A mark outside the axis range
 * is not drawn. The marks stay in the options, so tests read them from the chart. (Limits
 * that vary with the cores, like the calibrated bandwidth, are datasets: see rateConfig.)
 */
const marksPlugin = {
  id: 'scalelabMarks',
  afterDatasetsDraw(chart, _args, opts) {
    const { ctx, chartArea: area, scales } = chart;
    if (!area || !opts) return;
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.font = `11px ${ChartJS.defaults.font.family}`;
    const colour = cssVar('--warn') || '#a16207';
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    for (const m of opts.x || []) {
      const px = scales.x.getPixelForValue(m.value);
      if (!(px >= area.left - 0.5 && px <= area.right + 0.5)) continue;
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
      ctx.textAlign = px > (area.left + area.right) / 2 ? 'right' : 'left';
      ctx.fillText(m.label, px + (ctx.textAlign === 'right' ? -4 : 4), area.top + 12);
    }
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
  ChartJS.register(backgroundPlugin, marksPlugin);
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

/*
 * Speedup views. "parallel" is what goes against the ideal line: each point against one core
 * of the same kernel variant (the analysis's `speedup`, named by its `baseline`). A server
 * from before that rule (no `baseline` field) measured `speedup` against serial, which mixes
 * vectorisation into the gain: then each backend's own 1 core (`speedup_self`) is the
 * parallel gain. "serial" is the total gain against the serial backend, vectorisation
 * included (`speedup_serial`, or the old `speedup`): a separate view, never against y = x.
 */
export const hasParallelBaseline = (points) => points.some((p) => typeof p.baseline === 'string');

/** The speedup of a point in a view ("parallel" or "serial"), or null. */
export function speedupValue(p, view, modern) {
  if (view === 'serial') return modern ? p.speedup_serial : p.speedup;
  return modern ? p.speedup : p.speedup_self;
}

/** Can the "serial" view be drawn (some point has a speedup against serial)? */
export function hasSerialView(points) {
  const modern = hasParallelBaseline(points);
  return points.some((p) => isNum(speedupValue(p, 'serial', modern)));
}

/**
 * What the parallel speedup of these points is measured against, in words for a caption:
 * "simd, 1 core" when one baseline serves all, else the distinct ones joined; for an older
 * server, "each backend's own 1 core".
 */
export function baselineWords(points) {
  if (!hasParallelBaseline(points)) return 'each backend\'s own 1 core';
  // The baselines of the curves: a one-core reference (serial, simd) is its own baseline.
  const curves = [...groupByBackend(points).values()].filter((list) => new Set(list.map((p) => p.cores)).size > 1).flat();
  const names = [...new Set((curves.length ? curves : points).map((p) => p.baseline).filter(Boolean))];
  return names.length === 1 ? names[0] : `the 1-core point of each kernel (${names.join('; ')})`;
}

/** A point's speedup in `view` with the CI of its time carried over: {y, yMin, yMax}. */
function speedupOf(p, view, modern) {
  const s = speedupValue(p, view, modern);
  if (!isNum(s)) return null;
  const w = p.wall_s;
  return { y: s, yMin: w.ci_hi > 0 ? (s * w.median) / w.ci_hi : undefined, yMax: w.ci_lo > 0 ? (s * w.median) / w.ci_lo : undefined };
}

/** Model time T(p) = a + b/p + c p of a backend's fit (analysis.backends[].fit). */
export const modelTime = (fit, p) => fit.a + fit.b / p + fit.c * p;

/**
 * A fit that may be drawn: present and trusted (its prediction meets every measured point
 * within that point's CI). A server from before fits were checked gives no `trusted`: its
 * fits are not drawn (they were fitted to as few as two core counts).
 */
export const drawableFit = (f) => Boolean(f && f.fit && f.fit.trusted === true);

/**
 * The fitted model as a speedup on the chart's scale: baseline time / T(p). The baseline
 * time is read back from a measured point (speedup = baseline time / median time), so the
 * curve and the backend's points share one scale.
 */
export function modelSpeedup(fit, p, baselineTime) {
  return baselineTime / modelTime(fit, p);
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

/*
 * A noisy point (the analysis's `noisy`: CV or CI width too large to carry a claim) is drawn
 * as a large hollow triangle, so it stands out from the measured curve; the tooltip names its
 * noise figure. Per-point styles are scriptable options reading the point's own `noisy`.
 */
const NOISY_STYLE = {
  pointStyle: (c) => (c.raw && c.raw.noisy ? 'triangle' : 'circle'),
  radius: (c) => (c.raw && c.raw.noisy ? 7 : 3),
  backgroundColor: (c) => (c.raw && c.raw.noisy ? 'transparent' : c.dataset.borderColor),
};

/** The marks for a run's host: its physical core count (when known). */
export function hostMarks(host) {
  if (!host || !(host.cores > 0)) return { x: [] };
  return { x: [{ value: host.cores, label: `${host.cores} physical core${host.cores > 1 ? 's' : ''}` }] };
}

const pointExtras = (p) => ({ noisy: Boolean(p.noisy), noise: p.noise || null });

export function timeDatasets(points) {
  return [...groupByBackend(points)].map(([backend, list]) => lineDataset(backend, colourFor(backend),
    list.map((p) => ({ x: xOf(p), y: p.wall_s.median, yMin: p.wall_s.ci_lo, yMax: p.wall_s.ci_hi, ...pointExtras(p) })),
    NOISY_STYLE));
}

/**
 * The speedup datasets of a view: one per backend; in the parallel view also "ideal"
 * (y = x through (1,1)) and "<backend> model" for each drawable fit.
 */
export function speedupDatasets(points, fits, maxCores, view = 'parallel') {
  const modern = hasParallelBaseline(points);
  const groups = groupByBackend(points);
  const sets = [];
  for (const [backend, list] of groups) {
    const data = list.map((p) => {
      const s = speedupOf(p, view, modern);
      return s && { x: xOf(p), ...s, ...pointExtras(p) };
    }).filter(Boolean);
    sets.push(lineDataset(backend, colourFor(backend), data, NOISY_STYLE));
  }
  if (view !== 'parallel') return sets;
  const xs = denseCores(maxCores);
  sets.push(diagonal('ideal', maxCores));

  for (const f of fits) {
    if (!drawableFit(f) || !groups.has(f.backend)) continue;
    const ref = groups.get(f.backend).find((p) => isNum(speedupValue(p, view, modern)) && p.wall_s.median > 0);
    if (!ref) continue;
    const baselineTime = speedupValue(ref, view, modern) * ref.wall_s.median;
    sets.push(lineDataset(`${f.backend} model`, colourFor(f.backend),
      xs.map((x) => ({ x, y: modelSpeedup(f.fit, x, baselineTime) })),
      { borderDash: [6, 3], radius: 0, hoverRadius: 0, borderWidth: 1.5 }));
  }
  return sets;
}

/** Efficiency = parallel speedup / cores (the analysis's, or own-1-core for an older server). */
export function efficiencyDatasets(points) {
  const modern = hasParallelBaseline(points);
  return [...groupByBackend(points)].map(([backend, list]) => lineDataset(backend, colourFor(backend),
    list.map((p) => ({ p, e: modern ? p.efficiency : (isNum(p.speedup_self) ? p.speedup_self / p.cores : null) }))
      .filter(({ e }) => isNum(e)).map(({ p, e }) => {
        const w = p.wall_s;
        return {
          x: xOf(p), y: e, ...pointExtras(p),
          yMin: w.ci_hi > 0 ? (e * w.median) / w.ci_hi : undefined,
          yMax: w.ci_lo > 0 ? (e * w.median) / w.ci_lo : undefined,
        };
      }), NOISY_STYLE));
}

/** y = x over 1..maxCores, dashed: the ideal speedup, or every core busy. */
function diagonal(label, maxCores) {
  return lineDataset(label, IDEAL_COLOUR, denseCores(maxCores).map((x) => ({ x, y: x })),
    { borderDash: [4, 4], radius: 0, hoverRadius: 0, borderWidth: 1 });
}

/** One curve per backend of valueOf(point), leaving out the points where it is no number. */
function perBackend(points, valueOf) {
  return [...groupByBackend(points)].map(([backend, list]) => lineDataset(backend, colourFor(backend),
    list.filter((p) => isNum(valueOf(p))).map((p) => ({ x: xOf(p), y: valueOf(p), ...pointExtras(p) })), NOISY_STYLE));
}

/** A chart of a figure in `unit` against cores: the y axis and the tooltip say the unit. */
function unitConfig(datasets, unit, weak, host) {
  return {
    type: 'scatterWithErrorBars',
    data: { datasets },
    options: {
      scales: { x: coresAxis(weak), y: { min: 0, title: { display: true, text: unit }, ticks: { callback: (v) => fmtNumber(v) } } },
      plugins: {
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}, ${fmtNumber(item.raw.x)} cores: ${fmtNumber(item.raw.y)} ${unit}` } },
        scalelabMarks: hostMarks(host),
      },
    },
  };
}

/**
 * Cores kept busy = median CPU time ÷ wall time = cpu_util × cores (CPU time counts the
 * program's whole tree that was waited for), one line per backend, with "all cores busy"
 * (y = x) as the reference: a GIL-bound route stays near 1 however many workers it starts.
 */
export function cpuDatasets(points, maxCores) {
  return [...perBackend(points, (p) => (isNum(p.cpu_util) ? p.cpu_util * p.cores : null)),
    diagonal('all cores busy', maxCores)];
}

export function cpuConfig(points, maxCores, weak = false, host = null) {
  return unitConfig(cpuDatasets(points, maxCores), 'cores busy', weak, host);
}

/** Median peak resident memory (max RSS) in MiB, one line per backend. */
export function memoryDatasets(points) {
  return perBackend(points, (p) => (p.maxrss_kb > 0 ? p.maxrss_kb / 1024 : null));
}

export function memoryConfig(points, weak = false, host = null) {
  return unitConfig(memoryDatasets(points), 'MiB', weak, host);
}

/*
 * The one run a point's per-worker bars and phases are drawn from, so that they agree with
 * the numbers quoted beside them: the analysis's `median_run` (the run whose wall time is
 * the point's median). A server without it: the same rule applied to the point's stored
 * measurements here (lower median for an even count), imbalance = busiest / mean of that run.
 * Returns {seq, wall_s, busy_s: [...], wait_s: [...] or null, imbalance, phases: {...} or
 * null} or null when the point has no measurement.
 */
export function medianRun(point, measurements) {
  const mine = (measurements || []).filter((m) => m.backend === point.backend && m.cores === point.cores
    && m.size === point.size && m.verified !== false);
  const mr = point.median_run;
  if (mr && Array.isArray(mr.busy_s)) {
    const m = mine.find((x) => x.seq === mr.seq);
    return {
      seq: mr.seq, wall_s: mr.wall_s, busy_s: mr.busy_s, imbalance: mr.imbalance,
      wait_s: m && Array.isArray(m.wait_ns) ? m.wait_ns.map((ns) => ns / 1e9) : null,
      phases: {
        spawn: mr.spawn_s, compute: mr.compute_s, barrier: mr.barrier_s, combine: mr.combine_s, other: mr.other_s,
      },
    };
  }
  const sorted = mine.filter((m) => isNum(m.wall_ns)).sort((a, b) => a.wall_ns - b.wall_ns);
  if (!sorted.length) return null;
  const m = sorted[(sorted.length - 1) >> 1];
  const busy = Array.isArray(m.busy_ns) ? m.busy_ns.map((ns) => ns / 1e9) : [];
  const mean = busy.reduce((a, b) => a + b, 0) / (busy.length || 1);
  return {
    seq: m.seq, wall_s: m.wall_ns / 1e9, busy_s: busy, imbalance: mean > 0 ? Math.max(...busy) / mean : null,
    wait_s: Array.isArray(m.wait_ns) ? m.wait_ns.map((ns) => ns / 1e9) : null, phases: null,
  };
}

/* ---------- chart configs ---------- */

function coresAxis(weak) {
  const text = weak ? 'cores (weak scaling: the work grows with them)' : 'cores';
  return { type: 'linear', title: { display: true, text }, ticks: { precision: 0 } };
}

/**
 * Tick values for a log axis from min to max: 1, 2 and 5 times powers of ten; on a range
 * too narrow for three of those (less than a decade or so), every digit; narrower still, a
 * few evenly spaced values rounded to 2 significant digits. Always at least two ticks.
 */
export function logTicks(min, max) {
  if (!(min > 0) || !(max > min)) return isNum(max) && max > 0 ? [max] : [];
  const within = (v) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const pick = (mantissas) => {
    const out = [];
    for (let k = lo; k <= hi; k++) for (const m of mantissas) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (within(v)) out.push(v);
    }
    return out;
  };
  let ticks = pick([1, 2, 5]);
  if (ticks.length < 3) ticks = pick([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (ticks.length < 3) {
    const round2 = (v) => Number(v.toPrecision(2));
    const n = 4;
    const step = (Math.log10(max) - Math.log10(min)) / n;
    ticks = [...new Set(Array.from({ length: n + 1 }, (_, i) => round2(10 ** (Math.log10(min) + i * step))))].filter(within);
    if (ticks.length < 2) ticks = [min, max];
  }
  return ticks;
}

/* A log axis in seconds with readable ticks (ns/µs/ms/s) whatever its range. */
function logSecondsAxis(title) {
  return {
    type: 'logarithmic',
    title: { display: true, text: title },
    // Room above and below the data, so that the extreme points and their bars are not cut.
    afterDataLimits: (axis) => {
      if (axis.min > 0 && axis.max > 0) {
        axis.min /= 1.25;
        axis.max *= 1.25;
      }
    },
    afterBuildTicks: (axis) => { axis.ticks = logTicks(axis.min, axis.max).map((value) => ({ value })); },
    ticks: { callback: (v) => fmtSeconds(v), autoSkip: false },
  };
}

function ciLabel(fmt) {
  return (item) => {
    const r = item.raw;
    const ci = isNum(r.yMin) && isNum(r.yMax) ? ` (CI ${fmt(r.yMin)} – ${fmt(r.yMax)})` : '';
    const noisy = r.noisy ? `; noisy: ${r.noise || 'wide spread'}` : '';
    return `${item.dataset.label}, ${fmtNumber(r.x)} cores: ${fmt(r.y)}${ci}${noisy}`;
  };
}

export function timeConfig(points, weak = false, host = null) {
  return {
    type: 'scatterWithErrorBars',
    data: { datasets: timeDatasets(points) },
    options: {
      scales: { x: coresAxis(weak), y: logSecondsAxis('median wall time') },
      plugins: { tooltip: { callbacks: { label: ciLabel(fmtSeconds) } }, scalelabMarks: hostMarks(host) },
    },
  };
}

export function speedupConfig(points, fits, maxCores, weak = false, host = null, view = 'parallel') {
  return {
    type: 'scatterWithErrorBars',
    data: { datasets: speedupDatasets(points, fits, maxCores, view) },
    options: {
      scales: {
        x: coresAxis(weak),
        // Short: the baseline is named in the caption (a long vertical title is clipped).
        y: { min: 0, title: { display: true, text: view === 'parallel' ? 'speedup' : 'gain vs serial' } },
      },
      plugins: { tooltip: { callbacks: { label: ciLabel(fmtSpeedup) } }, scalelabMarks: hostMarks(host) },
    },
  };
}

export function efficiencyConfig(points, weak = false, host = null) {
  return {
    type: 'scatterWithErrorBars',
    data: { datasets: efficiencyDatasets(points) },
    options: {
      scales: {
        x: coresAxis(weak),
        y: { min: 0, suggestedMax: 1.1, title: { display: true, text: 'efficiency' }, ticks: { callback: (v) => fmtPercent(v) } },
      },
      plugins: { tooltip: { callbacks: { label: ciLabel(fmtPercent) } }, scalelabMarks: hostMarks(host) },
    },
  };
}

/*
 * What the rate chart shows for these points: memory traffic (GB/s, against the calibrated
 * read bandwidth) when the workload moves bytes, else floating-point work (GFLOP/s, against
 * the calibrated peak), else the workload's own items per second (no machine limit applies).
 */
export function rateKind(points) {
  if (points.some((p) => p.gbs > 0)) return { key: 'gbs', unit: 'GB/s', limit: 'bandwidth' };
  if (points.some((p) => p.gflops > 0)) return { key: 'gflops', unit: 'GFLOP/s', limit: 'peak' };
  return { key: 'rate', unit: 'items/s', limit: null };
}

/**
 * The calibrated limit as a line over core counts 1..maxCores: measured at 1 thread and at
 * `threads_all`, straight between, flat beyond (more workers than the calibration used do
 * not add bandwidth). Null when there is no calibration or no limit for this kind.
 */
export function limitLine(calibration, kind, maxCores) {
  if (!calibration || !kind.limit) return null;
  const [one, all] = kind.limit === 'bandwidth' ? [calibration.read_gbs_1, calibration.read_gbs_all]
    : [calibration.gflops_1, calibration.gflops_all];
  const n = calibration.threads_all ?? calibration.threads;
  if (!isNum(one) || !isNum(all) || !(n >= 1)) return null;
  const xs = [...new Set([1, Math.min(n, Math.max(1, maxCores)), Math.max(1, maxCores)])].sort((a, b) => a - b);
  const at = (x) => (x >= n || n === 1 ? all : one + ((all - one) * (x - 1)) / (n - 1));
  return {
    label: kind.limit === 'bandwidth' ? 'calibrated bandwidth' : 'calibrated peak FLOP rate',
    data: xs.map((x) => ({ x, y: at(x) })),
  };
}

export function rateConfig(points, calibration, maxCores, weak = false, host = null) {
  const kind = rateKind(points);
  const sets = perBackend(points, (p) => p[kind.key]);
  const limit = limitLine(calibration, kind, maxCores);
  if (limit) {
    sets.push(lineDataset(limit.label, IDEAL_COLOUR, limit.data,
      { borderDash: [8, 4], radius: 0, hoverRadius: 0, borderWidth: 2 }));
  }
  return unitConfig(sets, kind.unit, weak, host);
}

/* Bar data are in ms; a tick says its unit (µs on small work). */
const msTick = (v) => fmtSeconds(v / 1e3);

/** Per-worker bars of one run: busy (kernel) time, and barrier waits stacked on it when measured. */
export function loadConfig(run, backend) {
  const busy = run ? run.busy_s : [];
  const datasets = [{ label: 'busy (kernel)', data: busy.map((s) => s * 1e3), backgroundColor: colourFor(backend) }];
  if (run && run.wait_s && run.wait_s.some((s) => s > 0)) {
    datasets.push({ label: 'waiting at barriers', data: run.wait_s.map((s) => s * 1e3), backgroundColor: PHASE_COLOURS.barrier });
  }
  return {
    type: 'bar',
    data: { labels: busy.map((_, i) => `worker ${i + 1}`), datasets },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, min: 0, title: { display: true, text: 'time in the median run' }, ticks: { callback: msTick } } },
      plugins: { legend: { display: datasets.length > 1 } },
    },
  };
}

/**
 * Phases per point. With the analysis's median runs: spawn, compute, barrier, combine and
 * other of each point's median run, which add up to its wall time. Without them (an older
 * server): the per-phase medians, which need not add up (each phase's median comes from a
 * different run); the caption says so. `mode` is "median_run" or "phase_medians".
 */
export function phasesMode(points) {
  return points.length && points.every((p) => p.median_run) ? 'median_run' : 'phase_medians';
}

export function phasesConfig(points) {
  const mode = phasesMode(points);
  const phases = mode === 'median_run' ? ['spawn', 'compute', 'barrier', 'combine', 'other'] : ['spawn', 'compute', 'combine'];
  const value = (p, ph) => (mode === 'median_run' ? p.median_run[`${ph}_s`] : p[`${ph}_s`]);
  return {
    type: 'bar',
    data: {
      labels: pointKeys(points).map((k) => k.replace(/:(\d+)(?::(.*))?$/, (_, c, size) => ` ×${c}${size ? ` (${fmtNumber(Number(size))})` : ''}`)),
      datasets: phases.map((ph) => ({
        label: ph, backgroundColor: PHASE_COLOURS[ph],
        data: points.map((p) => (isNum(value(p, ph)) ? value(p, ph) * 1e3 : null)),
      })),
    },
    options: {
      scales: {
        x: { stacked: true },
        y: { stacked: true, min: 0, title: { display: true, text: mode === 'median_run' ? 'time of the median run' : 'per-phase medians' }, ticks: { callback: msTick } },
      },
    },
  };
}

/** Speedup curves of several runs (GET /api/compare): one dataset per (run, backend). */
export function compareConfig(runs) {
  const datasets = [];
  runs.forEach((run, r) => {
    const points = placePoints(run.points || [], run.job, run.job && run.job.scaling);
    const modern = hasParallelBaseline(points);
    for (const [backend, list] of groupByBackend(points)) {
      const data = list.map((p) => {
        const s = speedupOf(p, 'parallel', modern);
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
      scales: { x: coresAxis(false), y: { min: 0, title: { display: true, text: 'parallel speedup' } } },
      plugins: { tooltip: { callbacks: { label: ciLabel(fmtSpeedup) } } },
    },
  };
}
