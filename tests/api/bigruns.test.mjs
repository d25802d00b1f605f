// bigruns.test.mjs — big runs stay cheap: the measurements per run are limited (422 naming
// the limit), exports and run documents are streamed a page at a time (memory flat under
// parallel exports), and a running run's analysis is computed once per new measurement.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, makeTempDir, removeDir, errorOf, parseCSV, waitUntil } from './harness.mjs';

// 7 points x 1000 repeats of a few microseconds: 7000 measurements in a few seconds.
const BIG_JOB = { workload: 'pi', params: { samples: 100 }, backends: ['serial', 'threads', 'pool', 'openmp'], cores: [1, 2], repeats: 1000, warmup: 0, oversubscribe: true };
const BIG_TOTAL = 7000;
// One measurement every ~300 ms.
const SLOW_JOB = { workload: 'sleep', params: { tasks: 1, us: 300000 }, backends: ['serial'], cores: [1], repeats: 15, warmup: 0 };

// Under make asan the allocator's quarantine keeps freed memory: RSS says nothing there.
const SANITIZED = /detect_leaks|halt_on_error/.test(process.env.ASAN_OPTIONS || '');
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

describe('big runs', { timeout: 180000 }, () => {
    let dir, server, bigId;

    before(async () => {
        dir = makeTempDir('bigruns');
        // 32 cores allowed, so that a sweep can pass the measurements limit on a small host.
        server = await startServer({ dir, maxCores: 32, args: ['--no-access-log'] });
    });
    after(async () => {
        if (server) await server.kill9();
        removeDir(dir);
    });

    test('a sweep above the measurements limit is refused with 422 naming the limit', async () => {
        const limits = (await server.api('GET', '/api/system')).json.limits;
        assert.equal(limits.max_measurements, 50000);
        // 3 backends x 18 core counts x 1000 repeats = 54000.
        const cores = Array.from({ length: 18 }, (_, i) => i + 1);
        const r = await server.api('POST', '/api/runs', { body: { workload: 'pi', backends: ['threads', 'pool', 'openmp'], cores, repeats: 1000 } });
        assert.equal(r.status, 422, r.text);
        const e = errorOf(r);
        assert.equal(e.code, 'limit');
        assert.equal(e.field, 'repeats');
        assert.match(e.message, /54000 measurements .*limit of 50000 measurements per run/);
        assert.equal((await server.api('GET', '/api/runs')).json.total, 0, 'the refused run was stored');
        // Just under the limit is accepted as far as the limit goes (then cancelled).
        // (oversubscribe: the engine itself refuses 18 workers on this host's CPUs without it,
        // and a quick engine could fail the run before the cancel arrives)
        const ok = await server.api('POST', '/api/runs', { body: { workload: 'sleep', params: { tasks: 1, us: 0 }, backends: ['threads', 'pool'], cores, repeats: 1000, oversubscribe: true } });
        assert.equal(ok.status, 202, ok.text); // 36 points x 1000 = 36000
        await server.api('POST', `/api/runs/${ok.json.id}/cancel`);
        await server.waitForStatus(ok.json.id, 'cancelled', 5000);
    });

    test('the analysis of a running run is computed once per new measurement (Server-Timing)', async () => {
        const id = await server.postRun(SLOW_JOB);
        await server.waitForStatus(id, 'running', 10000);
        await waitUntil(async () => (await server.api('GET', `/api/runs/${id}`)).json.progress.done >= 1, { timeoutMs: 5000, what: 'a first measurement' });
        let pairs = 0;
        let computedAfterNew = 0;
        let lastDone = -1;
        for (let i = 0; i < 40 && (pairs < 3 || computedAfterNew < 1); i++) {
            const a = await server.api('GET', `/api/runs/${id}`);
            const b = await server.api('GET', `/api/runs/${id}`);
            if (a.json.status !== 'running' || b.json.status !== 'running') break;
            if (a.json.progress.done !== b.json.progress.done) continue; // a measurement landed between
            assert.equal(b.headers.get('server-timing'), 'analysis;desc="cached"', `the same ${b.json.progress.done} measurements analysed twice`);
            assert.deepEqual(b.json.analysis, a.json.analysis);
            if (a.json.progress.done !== lastDone && a.headers.get('server-timing') === 'analysis;desc="computed"') computedAfterNew++;
            lastDone = a.json.progress.done;
            pairs++;
            await new Promise((res) => setTimeout(res, 120));
        }
        assert.ok(pairs >= 2, `only ${pairs} pairs of GETs saw the same measurements`);
        assert.ok(computedAfterNew >= 1, 'a new measurement did not make a new analysis');
        const done = await server.waitForStatus(id, 'done', 20000);
        assert.equal(done.analysis.points.length, 1);
        const again = await server.api('GET', `/api/runs/${id}`);
        assert.equal(again.headers.get('server-timing'), 'analysis;desc="cached"');
        assert.deepEqual(again.json.analysis, done.analysis);
    });

    test(`exports of a ${BIG_TOTAL}-measurement run are streamed, complete, and 4 at once keep memory flat`, async () => {
        bigId = await server.postRun(BIG_JOB);
        await waitUntil(async () => {
            const h = (await server.api('GET', '/api/health')).json;
            return h.queue.running === null && h.queue.length === 0;
        }, { timeoutMs: 120000, intervalMs: 100, what: 'the big run to finish' });
        const run = await server.waitForStatus(bigId, 'done', 1000);
        assert.equal(run.measurements.length, BIG_TOTAL);
        assert.deepEqual(run.measurements.map((m) => m.seq), run.measurements.map((_, i) => i + 1));

        const csv = await server.api('GET', `/api/runs/${bigId}/export?format=csv`);
        assert.equal(csv.status, 200);
        assert.equal(csv.headers.get('content-length'), null, 'the CSV was built whole (it has a Content-Length)');
        assert.match(csv.headers.get('content-disposition'), /scalelab-run-\d+\.csv/);
        const rows = parseCSV(csv.text);
        assert.equal(rows.length, BIG_TOTAL + 1);
        const col = rows[0].indexOf('seq');
        assert.deepEqual(rows.slice(1).map((r) => Number(r[col])), run.measurements.map((m) => m.seq));
        assert.ok(rows.every((r) => r.length === rows[0].length), 'a row with another number of fields');

        const json = await server.api('GET', `/api/runs/${bigId}/export?format=json`);
        assert.equal(json.status, 200);
        assert.equal(json.headers.get('content-length'), null);
        assert.deepEqual(json.json.measurements, run.measurements);
        assert.deepEqual(json.json.analysis, run.analysis);
        assert.equal(json.json.status, 'done');

        const before = rssKiB(server.pid);
        let peak = before;
        const timer = setInterval(() => { peak = Math.max(peak, rssKiB(server.pid)); }, 10);
        const t0 = Date.now();
        const all = await Promise.all([0, 1, 2, 3].map((i) => server.api('GET', `/api/runs/${bigId}/export?format=${i % 2 ? 'csv' : 'json'}`, { timeoutMs: 60000 })));
        clearInterval(timer);
        peak = Math.max(peak, rssKiB(server.pid));
        for (const r of all) assert.equal(r.status, 200);
        const grew = (peak - before) / 1024;
        console.log(`# 4 parallel exports of ${BIG_TOTAL} measurements: ${Date.now() - t0} ms, RSS ${(before / 1024).toFixed(1)} -> ${(peak / 1024).toFixed(1)} MiB (+${grew.toFixed(1)})`);
        // Streamed a page at a time, four requests hold a few pages; built whole, each held
        // the document and its JSON tree (tens of MiB for this run).
        if (!SANITIZED) assert.ok(grew < 12, `RSS grew by ${grew.toFixed(1)} MiB during 4 parallel exports`);
    });
});
