// events-limits.test.mjs — live event streams cannot exhaust the server: caps on listeners
// (per client address and in all), memory that stays flat with many stalled listeners, and
// a late listener of a big run fed from the store a page at a time. (The drop of a listener
// whose buffer passes its bound is in tests/test_events.c: here the kernel's socket buffers
// absorb megabytes first.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { serverScope, errorOf, sleep, waitUntil } from './harness.mjs';

// 200 tasks x 50 ms: a run that stays running for the whole test.
const LONG_JOB = { workload: 'sleep', params: { tasks: 200, us: 50000 }, backends: ['serial'], cores: [1], repeats: 20, warmup: 0 };
// Thousands of measurements, fast: 7 points x 1000 repeats of a few microseconds, ~7 MB of
// events per listener: more than the kernel's socket buffers hold for a reader that stalls.
const BIG_JOB = { workload: 'pi', params: { samples: 100 }, backends: ['serial', 'threads', 'pool', 'openmp'], cores: [1, 2], repeats: 1000, warmup: 0, oversubscribe: true };
const BIG_TOTAL = 7000;

/* GET path from localAddress (any 127.x.y.z): resolves {status, json, res} once the headers
 * are in; the body of a refusal is read, a 200 stream is left open (res.destroy() ends it). */
function openStream(port, path, localAddress = '127.0.0.1') {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path, localAddress, headers: { accept: 'text/event-stream' } }, (res) => {
            if (res.statusCode === 200) return resolve({ status: 200, res, headers: res.headers });
            let text = '';
            res.setEncoding('utf8').on('data', (s) => { text += s; }).on('end', () => {
                let json;
                try { json = JSON.parse(text); } catch { json = undefined; }
                resolve({ status: res.statusCode, json, text, headers: res.headers });
            });
        });
        req.on('error', reject);
        req.setTimeout(10000, () => req.destroy(new Error(`GET ${path}: no answer`)));
    });
}

/* A listener that sends its request and then never reads (its socket stays paused). */
function stalledListener(port, path) {
    return new Promise((resolve, reject) => {
        const sock = net.connect({ host: '127.0.0.1', port }, () => {
            // HTTP/1.0: no chunked framing in the bytes, and the end of the stream closes it.
            sock.write(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
            sock.pause();
            resolve(sock);
        });
        sock.on('error', reject);
    });
}

/* Read a paused socket's whole stream until the server closes it (at most timeoutMs). */
function drain(sock, timeoutMs = 20000) {
    return new Promise((resolve) => {
        let text = '';
        const timer = setTimeout(() => { sock.destroy(); resolve({ text, closed: false }); }, timeoutMs);
        sock.setEncoding('utf8');
        sock.on('data', (s) => { text += s; });
        sock.on('close', () => { clearTimeout(timer); resolve({ text, closed: true }); });
        sock.resume();
    });
}

// Under make asan the allocator's quarantine keeps freed memory: RSS says nothing there.
const SANITIZED = /detect_leaks|halt_on_error/.test(process.env.ASAN_OPTIONS || '');
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

describe('event stream limits', { timeout: 300000 }, () => {
    const scope = serverScope('events-limits', { before, after });
    let lastServer;

    test('listeners are capped per client address (429) and in all (503), with a JSON error', async () => {
        const server = await scope.start({ args: ['--max-listeners', '3', '--max-listeners-per-client', '2'] });
        const id = await server.postRun(LONG_JOB);
        const path = `/api/runs/${id}/events`;
        const open = [];
        for (let i = 0; i < 2; i++) {
            const s = await openStream(server.port, path);
            assert.equal(s.status, 200);
            open.push(s);
        }
        const third = await openStream(server.port, path);
        assert.equal(third.status, 429, third.text);
        assert.equal(errorOf(third).code, 'too_many_listeners');
        assert.match(third.json.error.message, /2 live event streams/);
        assert.ok(third.headers['retry-after']);
        // Another address still gets one, up to the server's cap of 3.
        const other = await openStream(server.port, path, '127.0.0.2');
        assert.equal(other.status, 200);
        open.push(other);
        const fourth = await openStream(server.port, path, '127.0.0.3');
        assert.equal(fourth.status, 503, fourth.text);
        assert.equal(errorOf(fourth).code, 'too_many_listeners');
        assert.match(fourth.json.error.message, /3 live event streams/);
        const m = await server.api('GET', '/metrics');
        assert.match(m.text, /^scalelab_event_listeners 3$/m);
        for (const s of open) s.res.destroy();
        assert.equal((await server.api('POST', `/api/runs/${id}/cancel`)).status, 202);
    });

    test(`100 listeners that never read a ${BIG_TOTAL}-measurement run, during it and after: RSS stays bounded`, async () => {
        const server = lastServer = await scope.start({ args: ['--max-listeners-per-client', '200', '--no-access-log'] });
        const id = await server.postRun({ ...LONG_JOB, params: { tasks: 1, us: 300000 }, repeats: 1 });
        await server.waitForStatus(id, 'done', 20000); // warm: first run, catalogues, caches
        const bigId = await server.postRun(BIG_JOB);
        const path = `/api/runs/${bigId}/events`;
        const socks = [];
        for (let i = 0; i < 50; i++) socks.push(await stalledListener(server.port, path));
        await waitUntil(async () => /^scalelab_event_listeners 50$/m.test((await server.api('GET', '/metrics')).text),
            { timeoutMs: 5000, what: '50 listeners connected' });
        const before = rssKiB(server.pid);
        let peak = before;
        // Poll the cheap health route, so that only the streams weigh on memory.
        await waitUntil(async () => {
            peak = Math.max(peak, rssKiB(server.pid));
            const h = (await server.api('GET', '/api/health')).json;
            return h.queue.running === null && h.queue.length === 0;
        }, { timeoutMs: 120000, intervalMs: 50, what: 'the big run to finish' });
        const run = await server.waitForStatus(bigId, 'done', 1000);
        assert.equal(run.measurements.length, BIG_TOTAL);
        // 50 more connect to the finished run: each is primed from the store.
        for (let i = 0; i < 50; i++) socks.push(await stalledListener(server.port, path));
        for (let t = 0; t < 40; t++) {
            await sleep(50);
            peak = Math.max(peak, rssKiB(server.pid));
        }
        const grew = (peak - before) / 1024;
        console.log(`# RSS with 100 stalled listeners of a ${BIG_TOTAL}-measurement run: ${(before / 1024).toFixed(1)} MiB -> peak ${(peak / 1024).toFixed(1)} MiB (+${grew.toFixed(1)} MiB)`);
        // Bounded buffers: 100 x 256 KiB at most is 25 MiB. Before the bound, a whole copy of
        // the run's events per late listener took this from +0 to +116 MiB.
        if (!SANITIZED) assert.ok(grew < 60, `RSS grew by ${grew.toFixed(1)} MiB`);

        // A stalled listener, once it reads, gets the run in order, and an end: the final
        // status when the kernel's socket buffers held the rest, else a "dropped" event
        // (the drop itself is tested in tests/test_events.c, where buffers are small).
        for (const sock of [socks[0], socks[99]]) {
            const got = await drain(sock, SANITIZED ? 90000 : 20000);
            assert.equal(got.closed, true, `the stream was not closed after ${got.text.length} bytes: ...${JSON.stringify(got.text.slice(-300))}`);
            const events = [...got.text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({ event: m[1], json: JSON.parse(m[2]) }));
            const last = events[events.length - 1];
            assert.ok(last && (last.event === 'dropped' || (last.event === 'status' && last.json.status === 'done')), `last event: ${last && last.event}`);
            const seqs = events.filter((e) => e.event === 'measurement').map((e) => e.json.seq);
            assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'what was sent is not the run in order');
        }
        for (const s of socks) s.destroy();
        // Every drop is counted in /metrics and said on stderr.
        const dropped = (server.stderr.match(/dropped a live event listener of run /g) || []).length;
        const m = await server.api('GET', '/metrics');
        assert.match(m.text, new RegExp(`^scalelab_event_listeners_dropped_total ${dropped}$`, 'm'));
    });

    test('a late listener of a big finished run gets every stored measurement once, then the final status', async () => {
        const server = lastServer;
        const list = (await server.api('GET', '/api/runs?status=done')).json.runs;
        const big = list.find((r) => r.progress.done === BIG_TOTAL);
        assert.ok(big, 'the big run of the previous test');
        const s = await server.readSSE(`/api/runs/${big.id}/events`, () => false, 60000);
        assert.equal(s.closed, true);
        const seqs = s.events.filter((e) => e.event === 'measurement').map((e) => e.json.seq);
        assert.equal(seqs.length, BIG_TOTAL);
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
        const last = s.events[s.events.length - 1];
        assert.deepEqual([last.event, last.json.status], ['status', 'done']);
        await sleep(10);
    });
});
