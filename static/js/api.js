// api.js — the REST API of docs/API.md, one function per call.
//
// Every call resolves to the parsed JSON body (null for 204) or rejects with an ApiError
// carrying the HTTP status, the API's error code and its message. A network failure is an
// ApiError too (status 0, code "network"), so callers handle one kind of failure.

/** An error answered by the API ({"error": {"code", "message"}}) or a failed connection. */
export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // HTTP status, 0 when the server could not be reached
    this.code = code;     // the API's machine word: invalid, unknown, limit, not_found, ...
    this.field = field;   // for a refused job: the field concerned ("cores", "params.samples")
  }
}

// A token is needed only when the server runs with --token; it is saved from the System view.
const TOKEN_KEY = 'scalelab-token';
export const getToken = () => localStorage.getItem(TOKEN_KEY) || '';
export const setToken = (t) => (t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY));

/** Sends one request; see the file comment for what it resolves and rejects with. */
export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  // Every change carries it, bodiless cancel and DELETE included: the server refuses a
  // POST/DELETE without it (415), which is what stops other sites' pages (CSRF).
  if (body !== undefined || method !== 'GET') headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && getToken()) headers.Authorization = `Bearer ${getToken()}`;

  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', `Could not reach the scalelab server (${method} ${path}): ${e.message}`);
  }
  if (res.status === 204) return null;

  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: handled below as a bad answer (ok) or with the status text (error).
  }
  if (!res.ok) {
    const err = json && json.error;
    let message = err && err.message ? err.message : `${method} ${path} failed: HTTP ${res.status} ${res.statusText}`;
    if (res.status === 401) message += ' (save the server\'s token in the System view)';
    throw new ApiError(res.status, err ? err.code : 'http', message, err && err.field ? err.field : null);
  }
  if (json === null) throw new ApiError(res.status, 'bad_answer', `${method} ${path} answered something that is not JSON`);
  return json;
}

/*
 * The catalogues (system, workloads, backends) do not change while the server runs, so
 * each is fetched once. A failed fetch is forgotten so that the next view tries again.
 */
const cache = new Map();
function cached(path) {
  if (!cache.has(path)) {
    const p = request('GET', path);
    p.catch(() => cache.delete(path));
    cache.set(path, p);
  }
  return cache.get(path);
}

export const getSystem = () => cached('/api/system');
export const getWorkloads = () => cached('/api/workloads').then((j) => j.workloads);
export const getBackends = () => cached('/api/backends').then((j) => j.backends);
export const getHealth = () => request('GET', '/api/health');

/** The runs list; `query` may hold workload, status, limit, offset (empty values dropped). */
export function listRuns(query = {}) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v !== undefined && v !== null));
  return request('GET', `/api/runs${q.toString() ? `?${q}` : ''}`);
}

export const getRun = (id) => request('GET', `/api/runs/${encodeURIComponent(id)}`);
export const createRun = (job) => request('POST', '/api/runs', job);
export const cancelRun = (id) => request('POST', `/api/runs/${encodeURIComponent(id)}/cancel`);
export const deleteRun = (id) => request('DELETE', `/api/runs/${encodeURIComponent(id)}`);
export const compareRuns = (ids) => request('GET', `/api/compare?ids=${ids.map(encodeURIComponent).join(',')}`);

/** Queues a calibration of this machine (it waits for the runs ahead of it): {id, status, url}. */
export const startCalibration = () => request('POST', '/api/calibrate', {});
export const getCalibration = (id) => request('GET', `/api/calibrate/${encodeURIComponent(id)}`);
/** A calibration changes /api/system: forget the cached copy so the next view reads it again. */
export const forgetSystem = () => cache.delete('/api/system');

export const eventsUrl = (id) => `/api/runs/${encodeURIComponent(id)}/events`;
export const exportUrl = (id, format) => `/api/runs/${encodeURIComponent(id)}/export?format=${format}`;

/** Statuses after which a run never changes again. */
export const ENDED = new Set(['done', 'failed', 'cancelled', 'timed_out', 'interrupted']);
export const ACTIVE = new Set(['queued', 'running']);
export const STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled', 'timed_out', 'interrupted'];
