// format.js — numbers, times and dates as the page writes them.
//
// Every function accepts null/undefined/NaN (the API writes non-finite figures as null)
// and then returns "–", so callers need no checks of their own.

const DASH = '–';

const finite = (x) => typeof x === 'number' && Number.isFinite(x);

/** A number with about `digits` significant digits; exponent form for very large/small. */
export function fmtNumber(x, digits = 3) {
  if (!finite(x)) return DASH;
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(digits - 1).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(Number(x.toPrecision(digits)));
}

/** A parameter value as typed in a form: whole numbers in full up to 1e6, then 2e8 style. */
export function fmtParam(x) {
  if (!finite(x)) return DASH;
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  return fmtNumber(x, 4);
}

/** A duration in seconds with the unit that suits it: "812 ns", "1.63 ms", "2.4 s". */
export function fmtSeconds(s) {
  if (!finite(s)) return DASH;
  const a = Math.abs(s);
  if (a === 0) return '0 s';
  if (a < 1e-6) return `${fmtNumber(s * 1e9)} ns`;
  if (a < 1e-3) return `${fmtNumber(s * 1e6)} µs`;
  if (a < 1) return `${fmtNumber(s * 1e3)} ms`;
  return `${fmtNumber(s)} s`;
}

/** A rough duration for people: "under a second", "about 3 s", "about 2 min", "about 1.5 h". */
export function fmtRough(s) {
  if (!finite(s)) return DASH;
  if (s < 1) return 'under a second';
  if (s < 90) return `about ${Math.round(s)} s`;
  if (s < 5400) return `about ${Math.round(s / 60)} min`;
  return `about ${Number((s / 3600).toPrecision(2))} h`;
}

/** Elapsed wall-clock time between two unix times (seconds): "12 s", "3 min 4 s". */
export function fmtElapsed(from, to) {
  if (!finite(from) || !finite(to)) return DASH;
  const s = Math.max(0, to - from);
  if (s < 10) return `${Number(s.toFixed(1))} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A fraction as a percentage: 0.923 -> "92%" (one decimal below 10%). */
export function fmtPercent(f) {
  if (!finite(f)) return DASH;
  const p = f * 100;
  return `${Math.abs(p) < 10 ? Number(p.toFixed(1)) : Math.round(p)}%`;
}

/** A speedup: 4.213 -> "4.21×". */
export function fmtSpeedup(x) {
  return finite(x) ? `${fmtNumber(x, 3)}×` : DASH;
}

/** Bytes in binary units: 33554432 -> "32 MiB". */
export function fmtBytes(b) {
  if (!finite(b)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(b) >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return `${Number(b.toPrecision(3))} ${units[i]}`;
}

/** A unix time (seconds) as local date and time. */
export function fmtDate(unix) {
  if (!finite(unix)) return DASH;
  return new Date(unix * 1000).toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/** A run's parameters in one line: "samples=1e6, seed=0". */
export function fmtParams(params) {
  return Object.entries(params || {}).map(([k, v]) => `${k}=${fmtParam(v)}`).join(', ');
}

/** A host in one line: "AMD EPYC, 2 cores / 2 threads (vm)"; null when the host is unknown. */
export function fmtHost(host) {
  if (!host) return null;
  const name = host.hostname ? ` (${host.hostname})` : '';
  return `${host.cpu_model || 'unknown CPU'}, ${host.cores} cores / ${host.threads} threads${name}`;
}
