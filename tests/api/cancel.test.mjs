// cancel.test.mjs — cancelling running and queued runs, and what may not be cancelled or
// deleted. A cancelled run must leave no engine process behind.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, errorOf, waitUntil, survivingEngines, sleep } from './harness.mjs';

// 200 tasks x 50 ms on one worker: 10 s per timed run, 20 of them. Never finishes in a test.
const LONG_JOB = { workload: 'sleep', params: { tasks: 200, us: 50000 }, backends: ['threads'], cores: [1], repeats: 20, warmup: 0 };
const TINY_JOB = { workload: 'pi', params: { samples: 1e5 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 };

describe('cancel', { timeout: 90000 }, () => {
    let dir, server;

    before(async () => {
        dir = makeTempDir('cancel');
        server = await startServer({ dir, maxQueue: 4 });
    });
    after(async () => {
        if (server) await server.kill9(); // kill9 also kills any engine left behind
        removeDir(dir);
    });

    /* Cancel id, wait for it to be cancelled; returns the run. */
    async function cancelAndWait(id) {
        const r = await server.api('POST', `/api/runs/${id}/cancel`);
        assert.equal(r.status, 202, r.text);
        return server.waitForStatus(id, 'cancelled', 5000);
    }

    test('cancelling a running run stops it within 1 s and leaves no engine process', async () => {
        const id = await server.postRun(LONG_JOB);
        await server.waitForStatus(id, 'running', 10000);
        const engines = await waitUntil(() => { const e = server.engines(); return e.length ? e : null; },
            { timeoutMs: 5000, what: 'the engine process of the running run' });
        const sse = server.readSSE(`/api/runs/${id}/events`, () => false, 10000);
        await sleep(100); // the listener is connected before the cancel

        const t0 = Date.now();
        const r = await server.api('POST', `/api/runs/${id}/cancel`);
        assert.equal(r.status, 202, r.text);
        assert.equal(r.json.id, id);
        assert.ok(['cancelled', 'running'].includes(r.json.status), `cancel answered status ${r.json.status}`);
        const run = await server.waitForStatus(id, 'cancelled', 1000 - (Date.now() - t0));
        assert.ok(Date.now() - t0 <= 1000, `cancelled after ${Date.now() - t0} ms`);
        assert.ok(run.finished_at >= run.started_at, 'finished_at not set');
        await waitUntil(() => survivingEngines(engines).length === 0 && server.engines().length === 0,
            { timeoutMs: Math.max(0, 1000 - (Date.now() - t0)), intervalMs: 10, what: 'the engine processes to be gone' })
            .catch((err) => {
                throw new Error(`${err.message}: still there: ${JSON.stringify([...survivingEngines(engines), ...server.engines()])}`);
            });

        const s = await sse;
        assert.equal(s.timedOut, false, 'the event stream did not end after the cancel');
        assert.equal(s.closed, true);
        const last = s.events[s.events.length - 1];
        assert.equal(last.event, 'status');
        assert.equal(last.json.status, 'cancelled');

        const health = (await server.api('GET', '/api/health')).json;
        assert.equal(health.queue.running, null);
        assert.equal(health.queue.length, 0);
    });

    test('a queued run is cancelled at once and never runs', async () => {
        const longId = await server.postRun(LONG_JOB);
        await server.waitForStatus(longId, 'running', 10000);
        const queuedId = await server.postRun(TINY_JOB);
        const before = (await server.api('GET', `/api/runs/${queuedId}`)).json;
        assert.equal(before.status, 'queued');
        const health = (await server.api('GET', '/api/health')).json;
        assert.equal(health.queue.running, longId);
        assert.equal(health.queue.length, 1);

        const r = await server.api('POST', `/api/runs/${queuedId}/cancel`);
        assert.equal(r.status, 202, r.text);
        assert.deepEqual({ id: r.json.id, status: r.json.status }, { id: queuedId, status: 'cancelled' });
        const now = (await server.api('GET', `/api/runs/${queuedId}`)).json;
        assert.equal(now.status, 'cancelled');
        assert.equal(now.started_at, null);
        assert.deepEqual(now.measurements, []);
        assert.equal((await server.api('GET', `/api/runs/${longId}`)).json.status, 'running', 'cancelling the queued run touched the running one');

        // Free the queue: the cancelled run must still not start.
        await cancelAndWait(longId);
        await sleep(500);
        const later = (await server.api('GET', `/api/runs/${queuedId}`)).json;
        assert.equal(later.status, 'cancelled');
        assert.equal(later.started_at, null);
        assert.deepEqual(later.measurements, []);
        assert.equal((await server.api('GET', '/api/health')).json.queue.running, null);

        // A run queued after that runs normally: the queue was not left stuck.
        const nextId = await server.postRun(TINY_JOB);
        await server.waitForStatus(nextId, 'done', 20000);
    });

    test('cancelling a finished run is a 409 conflict and changes nothing', async () => {
        const id = await server.postRun(TINY_JOB);
        await server.waitForStatus(id, 'done', 20000);
        const r = await server.api('POST', `/api/runs/${id}/cancel`);
        assert.equal(r.status, 409);
        assert.equal(errorOf(r).code, 'conflict');
        assert.equal((await server.api('GET', `/api/runs/${id}`)).json.status, 'done');
        // A cancelled run is finished too.
        const longId = await server.postRun(LONG_JOB);
        await server.waitForStatus(longId, 'running', 10000);
        await cancelAndWait(longId);
        const again = await server.api('POST', `/api/runs/${longId}/cancel`);
        assert.equal(again.status, 409);
        assert.equal(errorOf(again).code, 'conflict');
    });

    test('deleting a running or queued run is a 409 conflict; after cancel it deletes', async () => {
        const runningId = await server.postRun(LONG_JOB);
        await server.waitForStatus(runningId, 'running', 10000);
        const queuedId = await server.postRun(TINY_JOB);
        for (const [id, what] of [[runningId, 'running'], [queuedId, 'queued']]) {
            const r = await server.api('DELETE', `/api/runs/${id}`);
            assert.equal(r.status, 409, `delete of the ${what} run`);
            assert.equal(errorOf(r).code, 'conflict');
            assert.equal((await server.api('GET', `/api/runs/${id}`)).json.status, what, `the ${what} run changed`);
        }
        await cancelAndWait(queuedId);
        await cancelAndWait(runningId);
        for (const id of [runningId, queuedId]) {
            assert.equal((await server.api('DELETE', `/api/runs/${id}`)).status, 204);
            assert.equal((await server.api('GET', `/api/runs/${id}`)).status, 404);
        }
    });
});
