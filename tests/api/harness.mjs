// harness.mjs — start a real scalelab-server on a free loopback port with a throwaway
// database, talk to it with fetch, and make sure no process outlives the tests.
//
// A test file makes one temp dir (makeTempDir), starts servers inside it (startServer) and,
// in its `after` hook, stops them and removes the dir. Every wait here is bounded: a helper
// that runs out of time throws (or reports timedOut) instead of hanging the suite.
// Node 18+ only: node:test, fetch, node:child_process, /proc for the engine's processes.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER = process.env.SCALELAB_SERVER || path.join(REPO, 'build/bin/scalelab-server');
export const ENGINE = process.env.SCALELAB_ENGINE || path.join(REPO, 'build/bin/scalelab-engine');
const ENGINE_NAME = path.basename(ENGINE);

export const FINAL_STATUSES = ['done', 'failed', 'cancelled', 'timed_out', 'interrupted'];
export const ALL_STATUSES = ['queued', 'running', ...FINAL_STATUSES];

const LISTEN_RE = /^scalelab-server listening on (http:\/\/127\.0\.0\.1:(\d+)\/)$/;
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 15000;
const STDERR_KEEP = 512 * 1024;

// Every server process still alive: killed on exit whatever happened to the tests.
const live = new Set();
process.on('exit', () => {
    for (const proc of live) {
        try { proc.kill('SIGKILL'); } catch { /* already gone */ }
    }
});

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/* A fresh directory under os.tmpdir(); remove it with removeDir. */
export function makeTempDir(name) {
    return fs.mkdtempSync(path.join(os.tmpdir(), `scalelab-api-${name}-`));
}

export function removeDir(dir) {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/* Environment for a server: ours, without the variables that change the server's
 * behaviour (a token, test workloads) unless the test asks for them. */
function serverEnv(extra) {
    const env = { ...process.env };
    delete env.SCALELAB_TOKEN;
    delete env.SCALELAB_TEST_WORKLOADS;
    return { ...env, ...(extra || {}) };
}

function waitExit(proc, timeoutMs) {
    if (proc.exitCode !== null || proc.signalCode !== null)
        return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode, timedOut: false });
    return new Promise((resolve) => {
        const timer = setTimeout(() => {
            proc.off('exit', onExit);
            resolve({ code: null, signal: null, timedOut: true });
        }, timeoutMs);
        function onExit(code, signal) {
            clearTimeout(timer);
            resolve({ code, signal, timedOut: false });
        }
        proc.once('exit', onExit);
    });
}

function checkBinaries() {
    for (const [what, p] of [['server', SERVER], ['engine', ENGINE]]) {
        if (!fs.existsSync(p))
            throw new Error(`scalelab ${what} binary not found at ${p} (build it, or set SCALELAB_${what.toUpperCase()})`);
    }
}

let serial = 0;

/**
 * Start a server and wait for its listening line.
 * opts: dir (temp dir for db and static files; one is made and removed on stop if absent),
 *   db (path; default <dir>/scalelab-N.db), staticDir (default: a fresh dir with an
 *   index.html written here), token, maxQueue, runTimeout, maxCores, env (extra variables),
 *   listen (default 127.0.0.1:0), args (extra arguments), autoToken (send the token on
 *   every api() call unless the call says otherwise).
 * Returns the server object described at the bottom of this function.
 */
export async function startServer(opts = {}) {
    checkBinaries();
    const n = ++serial;
    const ownDir = !opts.dir;
    const dir = opts.dir || makeTempDir('server');
    const db = opts.db || path.join(dir, `scalelab-${n}.db`);
    let staticDir = opts.staticDir;
    let indexHtml = null;
    if (!staticDir) {
        staticDir = path.join(dir, `static-${n}`);
        fs.mkdirSync(staticDir, { recursive: true });
        indexHtml = `<!doctype html>\n<title>scalelab test ${n}</title>\n<p>index marker ${process.pid}-${n}-${Date.now()}</p>\n`;
        fs.writeFileSync(path.join(staticDir, 'index.html'), indexHtml);
    }
    const args = ['--listen', opts.listen || '127.0.0.1:0', '--db', db, '--static', staticDir,
        '--engine', ENGINE];
    if (opts.maxCores !== undefined) args.push('--max-cores', String(opts.maxCores));
    if (opts.maxQueue !== undefined) args.push('--max-queue', String(opts.maxQueue));
    if (opts.runTimeout !== undefined) args.push('--run-timeout', String(opts.runTimeout));
    if (opts.token !== undefined) args.push('--token', opts.token);
    if (opts.args) args.push(...opts.args);

    const proc = spawn(SERVER, args, { env: serverEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (s) => {
        stderr += s;
        if (stderr.length > STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });

    const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`server did not print its listening line within ${START_TIMEOUT_MS} ms; stdout: ${JSON.stringify(stdout)} stderr: ${stderr.slice(-2000)}`)), START_TIMEOUT_MS);
        function finish(err, value) {
            clearTimeout(timer);
            proc.off('exit', onExit);
            proc.off('error', onError);
            if (err) {
                try { proc.kill('SIGKILL'); } catch { /* gone */ }
                reject(err);
            } else {
                resolve(value);
            }
        }
        function onExit(code, signal) {
            // Let the last stderr arrive before reporting it.
            setTimeout(() => finish(new Error(`server exited (code ${code}, signal ${signal}) before listening; stderr: ${stderr.slice(-2000)}`)), 50);
        }
        function onError(err) { finish(err); }
        proc.on('exit', onExit);
        proc.on('error', onError);
        proc.stdout.on('data', (s) => {
            const before = stdout.length;
            stdout += s;
            if (before > 0 && stdout.slice(0, before).includes('\n')) return; // already matched
            const nl = stdout.indexOf('\n');
            if (nl < 0) return;
            const m = LISTEN_RE.exec(stdout.slice(0, nl));
            if (m) finish(null, m[1]);
            else finish(new Error(`unexpected first stdout line: ${JSON.stringify(stdout.slice(0, nl))}`));
        });
    });

    const server = {
        url,                            // http://127.0.0.1:PORT/
        port: Number(new URL(url).port),
        proc,
        pid: proc.pid,
        db,
        dir,
        staticDir,
        indexHtml,                      // the index.html written (null with opts.staticDir)
        token: opts.token,
        autoToken: opts.autoToken ? opts.token : undefined,
        get stdout() { return stdout; },
        get stderr() { return stderr; },
        get exited() { return proc.exitCode !== null || proc.signalCode !== null; },

        /* SIGTERM, then SIGKILL if it has not exited within 5 s; engines it started and
         * left are killed. Returns {code, signal, timedOut} where timedOut says the clean
         * stop did not happen in time. */
        async stop(signal = 'SIGTERM') {
            if (server.exited) return { code: proc.exitCode, signal: proc.signalCode, timedOut: false };
            const engines = engineProcesses(proc.pid);
            proc.kill(signal);
            const r = await waitExit(proc, STOP_TIMEOUT_MS);
            if (r.timedOut) {
                proc.kill('SIGKILL');
                await waitExit(proc, STOP_TIMEOUT_MS);
            }
            // Tests that care assert on the engines themselves; here they are only cleaned.
            killStrayEngines(engines);
            if (ownDir) removeDir(dir);
            return r;
        },

        /* Send signal and wait (at most timeoutMs) for the exit; nothing else is done, so
         * that a test can look at what the server left. Returns {code, signal, timedOut}. */
        async signal(sig, timeoutMs = STOP_TIMEOUT_MS) {
            proc.kill(sig);
            return waitExit(proc, timeoutMs);
        },

        /* kill -9 the server; then kill the engine processes it had started (they would
         * otherwise outlive the test). */
        async kill9() {
            // (Once the server is gone its pid may be another process's.)
            const engines = server.exited ? [] : engineProcesses(proc.pid);
            if (!server.exited) {
                proc.kill('SIGKILL');
                await waitExit(proc, STOP_TIMEOUT_MS);
            }
            killStrayEngines(engines);
        },

        api: (method, p, o = {}) => api(server, method, p, o),
        waitForStatus: (id, statuses, timeoutMs) => waitForStatus(server, id, statuses, timeoutMs),
        readSSE: (p, untilFn, timeoutMs, o) => readSSE(new URL(p, url).href, untilFn, timeoutMs, o),
        raw: (method, p, o) => rawRequest(server.port, method, p, o),
        engines: () => engineProcesses(proc.pid),
        postRun: async (job, o = {}) => {
            const r = await api(server, 'POST', '/api/runs', { ...o, body: job });
            if (r.status !== 202)
                throw new Error(`POST /api/runs ${JSON.stringify(job)} answered ${r.status}: ${r.text}`);
            return r.json.id;
        },
    };
    return server;
}

/**
 * One request. body: an object/array/number (sent as JSON with Content-Type
 * application/json) or a string (sent as is, Content-Type application/json unless
 * headers say otherwise). Every request but GET and HEAD carries Content-Type
 * application/json, body or not, as the server requires of changes (headers may set
 * another). token: a string sends "Authorization: Bearer <token>", null sends
 * none, undefined uses the server's autoToken. Returns {status, headers, text, json} where
 * json is the parsed body when it parses (else undefined).
 */
export async function api(server, method, p, { body, token, headers = {}, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    const h = { ...headers };
    const tok = token === undefined ? server.autoToken : token;
    if (tok) h.authorization = `Bearer ${tok}`;
    let payload;
    if (body !== undefined)
        payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    if ((body !== undefined || !['GET', 'HEAD'].includes(method)) &&
        !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
    const res = await fetch(new URL(p, server.url), {
        method, headers: h, body: payload, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json;
    try { json = text.length ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
}

/* Poll fn() every intervalMs until it returns a truthy value (returned), or throw after
 * timeoutMs with what: and the last value seen. */
export async function waitUntil(fn, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        last = await fn();
        if (last) return last;
        if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(intervalMs);
    }
}

/* GET the run until its status is one of statuses; returns the run. Throws at once when the
 * run reaches a final status that is not wanted, and after timeoutMs otherwise. */
export async function waitForStatus(server, id, statuses, timeoutMs = 30000) {
    const want = Array.isArray(statuses) ? statuses : [statuses];
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        const r = await api(server, 'GET', `/api/runs/${id}`);
        if (r.status !== 200) throw new Error(`GET /api/runs/${id} answered ${r.status}: ${r.text}`);
        last = r.json;
        if (want.includes(last.status)) return last;
        if (FINAL_STATUSES.includes(last.status))
            throw new Error(`run ${id} ended ${last.status} (error: ${last.error}) while waiting for ${want.join('|')}`);
        if (Date.now() >= deadline)
            throw new Error(`run ${id} still ${last.status} after ${timeoutMs} ms waiting for ${want.join('|')}`);
        await sleep(25);
    }
}

/**
 * Read a Server-Sent Events stream. Each event is {event, data, json, id}; comments
 * (": keep-alive") go to comments. untilFn(events, last) returning true stops reading early.
 * Returns {status, headers, events, comments, closed (the server ended the stream),
 * stopped (untilFn said stop), timedOut, error, text (the body when not 200)}; never throws
 * for a timeout, so that the test can say what it saw.
 */
export async function readSSE(url, untilFn = () => false, timeoutMs = 15000, { headers = {} } = {}) {
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctl.abort(); }, timeoutMs);
    const out = { status: 0, headers: null, events: [], comments: [], closed: false, stopped: false, timedOut: false, error: null, text: '' };
    try {
        const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ctl.signal });
        out.status = res.status;
        out.headers = res.headers;
        if (res.status !== 200) {
            out.text = await res.text();
            return out;
        }
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = '';
        let ev = { event: '', data: [], id: undefined };
        const dispatch = () => {
            if (ev.data.length) {
                const data = ev.data.join('\n');
                let json;
                try { json = JSON.parse(data); } catch { json = undefined; }
                const e = { event: ev.event || 'message', data, json, id: ev.id };
                out.events.push(e);
                if (untilFn(out.events, e)) return true;
            }
            ev = { event: '', data: [], id: undefined };
            return false;
        };
        for (;;) {
            const { value, done } = await reader.read();
            if (done) { out.closed = true; break; }
            buf += decoder.decode(value, { stream: true });
            let stop = false;
            for (;;) {
                const m = /\r\n|\n|\r/.exec(buf);
                if (!m) break;
                // A lone \r at the very end may be the first half of \r\n: wait for more.
                if (m[0] === '\r' && m.index === buf.length - 1) break;
                const line = buf.slice(0, m.index);
                buf = buf.slice(m.index + m[0].length);
                if (line === '') { if (dispatch()) { stop = true; break; } continue; }
                if (line.startsWith(':')) { out.comments.push(line); continue; }
                const colon = line.indexOf(':');
                const field = colon < 0 ? line : line.slice(0, colon);
                let value2 = colon < 0 ? '' : line.slice(colon + 1);
                if (value2.startsWith(' ')) value2 = value2.slice(1);
                if (field === 'event') ev.event = value2;
                else if (field === 'data') ev.data.push(value2);
                else if (field === 'id') ev.id = value2;
            }
            if (stop) {
                out.stopped = true;
                ctl.abort();
                break;
            }
        }
    } catch (err) {
        if (!timedOut && !out.stopped) out.error = err;
    } finally {
        clearTimeout(timer);
    }
    out.timedOut = timedOut;
    return out;
}

/* A request through node:http, whose path is sent exactly as given (fetch would resolve
 * "..", which is what a path traversal test must not let it do). */
export function rawRequest(port, method, rawPath, { headers = {}, body, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers, timeout: timeoutMs }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                resolve({ status: res.statusCode, headers: res.headers, text, json });
            });
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${rawPath}: no answer in ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(body);
    });
}

/* Run the server binary with args and wait for it to exit (at most timeoutMs, then it is
 * killed and timedOut is true). Returns {code, signal, stdout, stderr, timedOut}. */
export async function runServerCommand(args, { env, timeoutMs = 10000 } = {}) {
    checkBinaries();
    const proc = spawn(SERVER, args, { env: serverEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (s) => { stdout += s; });
    proc.stderr.setEncoding('utf8').on('data', (s) => { stderr += s; });
    const spawned = new Promise((resolve) => proc.once('error', (err) => resolve({ error: err })));
    const r = await Promise.race([waitExit(proc, timeoutMs), spawned]);
    if (r.error) throw r.error;
    if (r.timedOut) {
        proc.kill('SIGKILL');
        await waitExit(proc, STOP_TIMEOUT_MS);
    }
    // Let the pipes drain.
    await Promise.all([
        new Promise((res) => (proc.stdout.readableEnded ? res() : proc.stdout.once('close', res))),
        new Promise((res) => (proc.stderr.readableEnded ? res() : proc.stderr.once('close', res))),
    ].map((p) => Promise.race([p, sleep(1000)])));
    return { code: r.code, signal: r.signal, stdout, stderr, timedOut: r.timedOut };
}

/* scalelab-server --check --db PATH */
export function checkDb(db) {
    return runServerCommand(['--check', '--db', db]);
}

// ---- processes, from /proc -------------------------------------------------------------

/* {pid, state, ppid, pgrp, cmdline} of every process we can read. */
export function listProcesses() {
    const out = [];
    for (const name of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
            // The command name (field 2) is in parentheses and may hold spaces: fields
            // 3.. start after the last ')'.
            const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            let cmdline = '';
            try { cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(); } catch { /* gone */ }
            out.push({ pid: Number(name), state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]), cmdline });
        } catch { /* the process ended while we looked */ }
    }
    return out;
}

/* Engine processes started by the server pid: its descendants whose command line names
 * the engine binary (a forking backend's workers included). */
export function engineProcesses(serverPid) {
    const procs = listProcesses();
    const children = new Map();
    for (const p of procs) {
        if (!children.has(p.ppid)) children.set(p.ppid, []);
        children.get(p.ppid).push(p);
    }
    const found = [];
    const stack = [serverPid];
    const seen = new Set();
    while (stack.length) {
        const pid = stack.pop();
        for (const c of children.get(pid) || []) {
            if (seen.has(c.pid)) continue;
            seen.add(c.pid);
            if (c.cmdline.includes(ENGINE_NAME)) found.push(c);
            stack.push(c.pid);
        }
    }
    return found;
}

/* Which of the engine processes recorded earlier (and which processes in their process
 * groups, orphaned workers included) still exist, zombies included. */
export function survivingEngines(recorded) {
    const pids = new Set(recorded.map((p) => p.pid));
    const groups = new Set(recorded.map((p) => p.pgrp));
    return listProcesses().filter((p) => pids.has(p.pid) || (groups.has(p.pgrp) && p.cmdline.includes(ENGINE_NAME)));
}

/* Last resort after a kill -9 of the server: SIGKILL the engines it left, if they still
 * are what we recorded (same pid, still the engine). */
export function killStrayEngines(recorded) {
    for (const p of survivingEngines(recorded)) {
        if (!p.cmdline.includes(ENGINE_NAME)) continue;
        try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
}

// ---- small parsers ---------------------------------------------------------------------

/* RFC 4180 CSV: an array of rows, each an array of fields. */
export function parseCSV(text) {
    const rows = [];
    let row = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
            else if (c === '"') quoted = false;
            else field += c;
        } else if (c === '"') {
            quoted = true;
        } else if (c === ',') {
            row.push(field); field = '';
        } else if (c === '\n' || c === '\r') {
            if (c === '\r' && text[i + 1] === '\n') i++;
            row.push(field); field = '';
            rows.push(row); row = [];
        } else {
            field += c;
        }
    }
    if (field !== '' || row.length) { row.push(field); rows.push(row); }
    return rows;
}

/* Prometheus text: the value of the first sample whose name and labels match exactly
 * (labels as an object), or undefined. */
export function metricValue(text, name, labels = {}) {
    for (const line of text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = {};
        for (const lm of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have[lm[1]] = lm[2];
        if (Object.entries(labels).every(([k, v]) => have[k] === String(v))) return Number(m[4]);
    }
    return undefined;
}

/* Asserting helper: the contract's error body. Returns the error object. */
export function errorOf(r) {
    const e = r.json && r.json.error;
    if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || e.message.trim() === '')
        throw new Error(`expected a JSON error {error:{code,message}}, got ${r.status}: ${r.text.slice(0, 500)}`);
    return e;
}

// ---- raw sockets -----------------------------------------------------------------------

/* Send bytes (a string is sent as latin1, byte for byte) on a fresh TCP connection and read
 * until the server closes it or timeoutMs passes. Returns {text (latin1), responses (status
 * lines seen), closed (the server closed), ms (until close or timeout)}. For requests fetch
 * and node:http refuse to send: two Content-Lengths, garbage, no Host. */
export function rawExchange(port, bytes, { timeoutMs = 10000, endWrite = false } = {}) {
    return new Promise((resolve) => {
        const t0 = Date.now();
        const chunks = [];
        let done = false;
        const sock = net.connect(port, '127.0.0.1', () => {
            sock.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
            if (endWrite) sock.end();
        });
        const finish = (closed) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            sock.destroy();
            const text = Buffer.concat(chunks).toString('latin1');
            const responses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/g)].map((m) => Number(m[1]));
            resolve({ text, responses, closed, ms: Date.now() - t0 });
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        sock.on('data', (c) => chunks.push(c));
        sock.on('end', () => finish(true));
        sock.on('close', () => finish(true));
        sock.on('error', () => finish(true));
    });
}

/* The JSON body of the first response in a rawExchange text, or undefined. */
export function rawJson(text) {
    const i = text.indexOf('\r\n\r\n');
    if (i < 0) return undefined;
    const head = text.slice(0, i);
    const m = /content-length:\s*(\d+)/i.exec(head);
    const body = m ? text.slice(i + 4, i + 4 + Number(m[1])) : text.slice(i + 4);
    try { return JSON.parse(Buffer.from(body, 'latin1').toString('utf8')); } catch { return undefined; }
}
