// events.test.mjs — live Server-Sent Events of a run: live listeners, late listeners.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, errorOf } from './harness.mjs';

// One point (serial), 3 timed runs of 4 x 20 ms: about a quarter of a second.
const SLEEP_JOB = { workload: 'sleep', params: { tasks: 4, us: 20000 }, backends: ['serial'], cores: [1], repeats: 3, warmup: 0 };
const TOTAL = 3;

/* What every complete stream of a finished run must show. */
function assertCompleteStream(s, id, what) {
    assert.equal(s.error, null, `${what}: ${s.error}`);
    assert.equal(s.timedOut, false, `${what}: the stream did not end (events: ${s.events.map((e) => e.event)})`);
    assert.equal(s.status, 200, `${what}: ${s.status} ${s.text}`);
    assert.match(s.headers.get('content-type'), /^text\/event-stream/, what);
    assert.equal(s.closed, true, `${what}: the server did not close the stream`);
    for (const e of s.events) assert.ok(e.json !== undefined, `${what}: ${e.event} data is not JSON: ${e.data}`);
    const statuses = s.events.filter((e) => e.event === 'status');
    assert.ok(statuses.length >= 1, `${what}: no status event`);
    for (const e of statuses) {
        assert.equal(e.json.id, id, `${what}: status event of another run`);
        assert.equal(typeof e.json.status, 'string');
    }
    const last = s.events[s.events.length - 1];
    assert.equal(last.event, 'status', `${what}: the last event is ${last.event}`);
    assert.equal(last.json.status, 'done', `${what}: final status ${last.json.status}`);
    assert.deepEqual(last.json.progress, { done: TOTAL, total: TOTAL }, what);
    assert.ok('error' in last.json && last.json.error === null, `${what}: final error ${last.json.error}`);
    const ms = s.events.filter((e) => e.event === 'measurement');
    assert.ok(ms.length >= 1, `${what}: no measurement event`);
    for (const m of ms) {
        assert.ok(Number.isInteger(m.json.seq), `${what}: measurement without seq: ${m.data}`);
        assert.equal(m.json.backend, 'serial');
        assert.ok(m.json.wall_ns > 0);
        assert.equal(m.json.verified, true);
    }
    for (const e of s.events) assert.ok(['status', 'measurement'].includes(e.event), `${what}: unexpected event ${e.event}`);
    return ms.map((m) => m.json.seq);
}

describe('events', { timeout: 90000 }, () => {
    let dir, server;

    before(async () => {
        dir = makeTempDir('events');
        server = await startServer({ dir });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('live listeners get status, every measurement once, and the final status', async () => {
        const id = await server.postRun(SLEEP_JOB);
        // Two listeners at once: both must see the whole run.
        const [a, b] = await Promise.all([
            server.readSSE(`/api/runs/${id}/events`, () => false, 20000),
            server.readSSE(`/api/runs/${id}/events`, () => false, 20000),
        ]);
        const seqA = assertCompleteStream(a, id, 'listener A');
        const seqB = assertCompleteStream(b, id, 'listener B');
        const run = (await server.api('GET', `/api/runs/${id}`)).json;
        assert.equal(run.status, 'done');
        const stored = run.measurements.map((m) => m.seq).sort((x, y) => x - y);
        assert.equal(stored.length, TOTAL);
        assert.deepEqual([...seqA].sort((x, y) => x - y), stored, 'listener A: measurements missed or repeated');
        assert.deepEqual([...seqB].sort((x, y) => x - y), stored, 'listener B: measurements missed or repeated');
        assert.deepEqual(seqA, [...seqA].sort((x, y) => x - y), 'measurements out of seq order');
    });

    test('a listener connecting after the run ended gets everything, then the stream closes', async () => {
        const id = await server.postRun(SLEEP_JOB);
        const run = await server.waitForStatus(id, 'done', 20000);
        const s = await server.readSSE(`/api/runs/${id}/events`, () => false, 5000);
        const seqs = assertCompleteStream(s, id, 'late listener');
        assert.deepEqual([...seqs].sort((x, y) => x - y), run.measurements.map((m) => m.seq).sort((x, y) => x - y));
        const lastMeasurement = s.events.map((e) => e.event).lastIndexOf('measurement');
        const finalStatus = s.events.length - 1;
        assert.ok(lastMeasurement < finalStatus, 'a measurement came after the final status');
        // The stored measurement and the streamed one are the same object.
        const streamed = s.events.find((e) => e.event === 'measurement' && e.json.seq === run.measurements[0].seq).json;
        assert.equal(streamed.wall_ns, run.measurements[0].wall_ns);
        assert.equal(streamed.cores, run.measurements[0].cores);
    });

    test('the events of an unknown run are a 404 JSON error', async () => {
        const s = await server.readSSE('/api/runs/999999/events', () => false, 5000);
        assert.equal(s.status, 404);
        const e = errorOf({ json: JSON.parse(s.text), text: s.text, status: s.status });
        assert.equal(e.code, 'not_found');
    });
});
