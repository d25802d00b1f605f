// failures.test.mjs — what goes wrong and how the server survives it: a crashing workload,
// a run past its time limit, the server killed or stopped mid-run, a full queue.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, makeTempDir, removeDir, errorOf, waitUntil, survivingEngines, checkDb } from './harness.mjs';

// 200 tasks x 50 ms on one worker: 10 s per timed run. Never finishes in a test.
const LONG_JOB = { workload: 'sleep', params: { tasks: 200, us: 50000 }, backends: ['threads'], cores: [1], repeats: 20, warmup: 0 };
// 2 tasks x 50 ms: one measurement every 100 ms, 100 of them.
const STEADY_JOB = { workload: 'sleep', params: { tasks: 2, us: 50000 }, backends: ['serial'], cores: [1], repeats: 100, warmup: 0 };
const TINY_JOB = { workload: 'pi', params: { samples: 1e5 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 };

describe('failures', { timeout: 90000 }, () => {
    let dir;
    const servers = [];
    const start = async (opts) => {
        const s = await startServer({ dir, ...opts });
        servers.push(s);
        return s;
    };

    before(() => { dir = makeTempDir('failures'); });
    after(async () => {
        for (const s of servers) await s.kill9();
        removeDir(dir);
    });

    /* GET a run until it has at least n measurements; returns the run. */
    async function waitForMeasurements(server, id, n, timeoutMs = 10000) {
        return waitUntil(async () => {
            const run = (await server.api('GET', `/api/runs/${id}`)).json;
            return run.status === 'running' && run.measurements.length >= n ? run : null;
        }, { timeoutMs, what: `run ${id} to store ${n} measurements` });
    }

    describe('a crashing workload (SCALELAB_TEST_WORKLOADS=1)', () => {
        let server;
        before(async () => { server = await start({ env: { SCALELAB_TEST_WORKLOADS: '1' } }); });

        test('the crash workload is listed when enabled', async () => {
            const r = await server.api('GET', '/api/workloads');
            const crash = r.json.workloads.find((w) => w.name === 'crash');
            assert.ok(crash, 'crash not listed with SCALELAB_TEST_WORKLOADS=1');
            assert.deepEqual(crash.params.map((p) => p.name), ['mode']);
        });

        for (const backend of ['processes', 'threads']) {
            test(`a worker crashing on ${backend} fails the run; the server keeps serving`, async () => {
                const id = await server.postRun({ workload: 'crash', params: { mode: 0 }, backends: [backend], cores: [2], repeats: 1, warmup: 0, oversubscribe: true });
                const run = await server.waitForStatus(id, 'failed', 20000);
                assert.equal(typeof run.error, 'string');
                assert.match(run.error, /signal|SIGSEGV|segmentation|worker/i, `error: ${run.error}`);
                assert.ok(!run.error.includes(dir), 'the error shows a file path');
                assert.ok(run.finished_at >= run.started_at);
                const health = await server.api('GET', '/api/health');
                assert.equal(health.status, 200);
                assert.equal(health.json.status, 'ok');
                await waitUntil(() => server.engines().length === 0, { timeoutMs: 2000, what: 'the crashed engine to be reaped' });
                // The queue goes on: the next run completes.
                const next = await server.postRun(TINY_JOB);
                await server.waitForStatus(next, 'done', 20000);
            });
        }

        test('metrics count the failed runs', async () => {
            const r = await server.api('GET', '/metrics');
            assert.match(r.text, /^scalelab_runs\{status="failed"\} 2$/m);
        });
    });

    test('a run past --run-timeout ends timed_out and its engine is gone', async () => {
        const server = await start({ runTimeout: 1 });
        const system = (await server.api('GET', '/api/system')).json;
        assert.equal(system.limits.run_timeout_s, 1);
        // 20 tasks x 100 ms x 5 repeats: 10 s without the limit.
        const id = await server.postRun({ workload: 'sleep', params: { tasks: 20, us: 100000 }, backends: ['serial'], cores: [1], repeats: 5, warmup: 0 });
        await server.waitForStatus(id, 'running', 10000);
        const engines = await waitUntil(() => { const e = server.engines(); return e.length ? e : null; },
            { timeoutMs: 5000, what: 'the engine process' });
        const run = await server.waitForStatus(id, 'timed_out', 8000);
        const ran = run.finished_at - run.started_at;
        assert.ok(ran >= 0.9 && ran < 5, `ran ${ran} s with --run-timeout 1`);
        assert.ok(run.progress.done < run.progress.total, `progress ${JSON.stringify(run.progress)}`);
        await waitUntil(() => survivingEngines(engines).length === 0, { timeoutMs: 2000, what: 'the timed-out engine to be gone' });
        // The next run is not affected.
        const next = await server.postRun(TINY_JOB);
        await server.waitForStatus(next, 'done', 20000);
    });

    test('kill -9 mid-run: after a restart the run is interrupted with its measurements, the DB checks ok', async () => {
        const db = path.join(dir, 'killed.db');
        const first = await start({ db });
        const id = await first.postRun(STEADY_JOB);
        const before = await waitForMeasurements(first, id, 2);
        const seqsBefore = before.measurements.map((m) => m.seq);
        await first.kill9();

        const second = await start({ db });
        const r = await second.api('GET', `/api/runs/${id}`);
        assert.equal(r.status, 200);
        const run = r.json;
        assert.equal(run.status, 'interrupted');
        assert.ok(run.measurements.length >= 2, `${run.measurements.length} measurements kept`);
        const seqsAfter = new Set(run.measurements.map((m) => m.seq));
        for (const s of seqsBefore) assert.ok(seqsAfter.has(s), `measurement seq ${s} seen before the crash is lost`);
        assert.ok(run.measurements.length < 100, 'the run cannot have finished');
        const list = (await second.api('GET', '/api/runs?status=interrupted')).json;
        assert.deepEqual(list.runs.map((x) => x.id), [id]);
        const health = (await second.api('GET', '/api/health')).json;
        assert.equal(health.queue.running, null, 'the interrupted run was restarted');
        const stopped = await second.stop();
        assert.equal(stopped.timedOut, false);

        const check = await checkDb(db);
        assert.equal(check.code, 0, `--check: ${check.stdout} ${check.stderr}`);
        assert.equal(check.stdout.trim(), 'ok');
    });

    test('SIGTERM mid-run: clean exit 0, no engine left, the run is interrupted', async () => {
        const db = path.join(dir, 'terminated.db');
        const first = await start({ db });
        const id = await first.postRun(STEADY_JOB);
        await waitForMeasurements(first, id, 1);
        const engines = first.engines();
        assert.ok(engines.length > 0, 'no engine process found for the running run');
        const exit = await first.signal('SIGTERM', 5000);
        assert.equal(exit.timedOut, false, 'the server did not stop within 5 s of SIGTERM');
        assert.equal(exit.code, 0, `exit ${exit.code} signal ${exit.signal}`);
        await waitUntil(() => survivingEngines(engines).length === 0, { timeoutMs: 2000, what: 'the engine to stop with the server' })
            .catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(survivingEngines(engines))}`); });

        const second = await start({ db });
        const run = (await second.api('GET', `/api/runs/${id}`)).json;
        assert.equal(run.status, 'interrupted');
        assert.ok(run.measurements.length >= 1);
        await second.stop();
        const check = await checkDb(db);
        assert.equal(check.stdout.trim(), 'ok');
        assert.equal(check.code, 0);
    });

    test('SIGINT stops an idle server cleanly', async () => {
        const server = await start({});
        const exit = await server.signal('SIGINT', 5000);
        assert.equal(exit.timedOut, false);
        assert.equal(exit.code, 0);
    });

    test('--check of a file that is not a database exits 1 with the problem', async () => {
        const bad = path.join(dir, 'garbage.db');
        fs.writeFileSync(bad, Buffer.alloc(8192, 0x5a));
        const check = await checkDb(bad);
        assert.equal(check.timedOut, false);
        assert.equal(check.code, 1);
        const said = (check.stdout + check.stderr).trim();
        assert.ok(said.length > 0 && said !== 'ok', `--check said ${JSON.stringify(said)}`);
    });

    test('a full queue answers 429 with Retry-After; a freed slot accepts again', async () => {
        const server = await start({ maxQueue: 1 });
        const running = await server.postRun(LONG_JOB);
        await server.waitForStatus(running, 'running', 10000);
        const queued = await server.postRun(TINY_JOB);
        assert.equal((await server.api('GET', `/api/runs/${queued}`)).json.status, 'queued');

        const full = await server.api('POST', '/api/runs', { body: TINY_JOB });
        assert.equal(full.status, 429);
        assert.equal(errorOf(full).code, 'queue_full');
        const retry = full.headers.get('retry-after');
        assert.match(retry || '', /^\d+$/, `Retry-After: ${retry}`);
        assert.ok(Number(retry) >= 1);
        assert.equal((await server.api('GET', '/api/runs')).json.total, 2, 'the refused run was stored');

        const c = await server.api('POST', `/api/runs/${queued}/cancel`);
        assert.equal(c.status, 202);
        const again = await server.api('POST', '/api/runs', { body: TINY_JOB });
        assert.equal(again.status, 202, `after a cancel the queue has room: ${again.status} ${again.text}`);
        await server.api('POST', `/api/runs/${running}/cancel`);
        await server.waitForStatus(again.json.id, 'done', 20000);
    });
});
