// calibrate.test.mjs — POST /api/calibrate: queued like a run (it never measures while a run
// does), its state at GET /api/calibrate/{id}, the result shown by /api/system, and a
// calibration the engine refuses reported with the engine's own sentence.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, makeTempDir, removeDir, errorOf, waitUntil } from './harness.mjs';

// About 1-2 s of waiting on one worker: long enough to queue a calibration behind it.
const RUN_JOB = { workload: 'sleep', params: { tasks: 20, us: 20000 }, backends: ['threads'], cores: [1], repeats: 3, warmup: 0 };
const FINAL = new Set(['done', 'refused', 'failed']);

/* GET the calibration until it has ended; returns it. */
async function waitCalibration(server, id, timeoutMs = 60000) {
    return waitUntil(async () => {
        const r = await server.api('GET', `/api/calibrate/${id}`);
        assert.equal(r.status, 200, r.text);
        return FINAL.has(r.json.status) && r.json;
    }, { timeoutMs, intervalMs: 100, what: `calibration #${id} to end` });
}

describe('calibrate', { timeout: 120000 }, () => {
    let dir, server, calibFile;

    before(async () => {
        dir = makeTempDir('calibrate');
        // The engine saves where SCALELAB_CALIBRATION says: never over this machine's own.
        calibFile = path.join(dir, 'calibration.json');
        server = await startServer({ dir, env: { SCALELAB_CALIBRATION: calibFile } });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('a calibration waits for the running run, then becomes what /api/system shows', async () => {
        const before = await server.api('GET', '/api/system');
        assert.equal(before.json.calibration, null, 'a fresh calibration file should not exist yet');

        const runId = await server.postRun(RUN_JOB);
        await server.waitForStatus(runId, 'running', 10000);
        const r = await server.api('POST', '/api/calibrate', { body: {} });
        assert.equal(r.status, 202, r.text);
        assert.ok(Number.isInteger(r.json.id) && r.json.id > 0, r.text);
        assert.equal(r.json.status, 'queued');
        assert.equal(r.headers.get('location'), `/api/calibrate/${r.json.id}`);

        const waiting = await server.api('GET', `/api/calibrate/${r.json.id}`);
        assert.equal(waiting.status, 200, waiting.text);
        assert.equal(waiting.json.status, 'queued', 'the calibration started while a run was measuring');
        assert.ok(waiting.json.ahead >= 1, waiting.text);

        const c = await waitCalibration(server, r.json.id);
        const run = (await server.api('GET', `/api/runs/${runId}`)).json;
        assert.equal(run.status, 'done');
        assert.ok(c.started_at >= run.finished_at, `calibration started at ${c.started_at}, before the run ended at ${run.finished_at}`);

        // On a shared machine the engine's own sanity check may refuse a calibration; that
        // must then be said, and change nothing.
        const system = (await server.api('GET', '/api/system')).json;
        if (c.status === 'done') {
            assert.equal(c.message, null);
            assert.ok(c.calibration.read_gbs_1 > 0 && c.calibration.gflops_1 > 0, JSON.stringify(c));
            assert.equal(system.calibration.read_gbs_1, c.calibration.read_gbs_1);
            assert.equal(system.calibration.when, c.calibration.when);
            assert.ok(fs.existsSync(calibFile), 'the engine did not save the calibration');
        } else {
            assert.equal(c.status, 'refused', JSON.stringify(c));
            assert.ok(c.message && c.message.length > 10, JSON.stringify(c));
            assert.equal(system.calibration, null);
        }
    });

    test('options, a wrong content type and an unknown id are refused with a sentence', async () => {
        let r = await server.api('POST', '/api/calibrate', { body: { threads: 2 } });
        assert.equal(r.status, 400, r.text);
        assert.match(errorOf(r).message, /no options/);
        r = await server.api('POST', '/api/calibrate', { body: 'threads=2', headers: { 'content-type': 'text/plain' } });
        assert.equal(r.status, 415, r.text);
        r = await server.api('GET', '/api/calibrate/999');
        assert.equal(r.status, 404, r.text);
        assert.match(errorOf(r).message, /no calibration #999/);
    });
});

describe('a calibration the engine refuses', { timeout: 60000 }, () => {
    let dir, server, calibFile;

    before(async () => {
        dir = makeTempDir('calibrate-refused');
        // An engine whose sanity check fails as the contract says: the object with
        // "status": "suspect" (also written to --output), its reason on stderr, a non-zero exit.
        const fake = path.join(dir, 'engine');
        fs.writeFileSync(fake, `#!/bin/sh
[ "$1" = calibrate ] && [ "$3" = --output ] || exit 2
echo '{"threads":2,"read_gbs_1":30.1,"read_gbs_all":19.5,"gflops_1":100,"gflops_all":190,"status":"suspect","note":"2 threads read slower than 1"}' | tee "$4" 
echo 'calibrating: memory read' >&2
echo 'scalelab-engine: calibration refused, not saved: 2 threads read 19.5 GB/s, slower than 1 thread (30.1 GB/s) beyond noise; rerun on a quiet machine' >&2
exit 1
`, { mode: 0o755 });
        calibFile = path.join(dir, 'none.json');
        server = await startServer({ dir, args: ['--engine', fake], env: { SCALELAB_CALIBRATION: calibFile } });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('is reported with the engine\'s message and leaves no calibration in force', async () => {
        const r = await server.api('POST', '/api/calibrate');
        assert.equal(r.status, 202, r.text);
        const c = await waitCalibration(server, r.json.id, 10000);
        assert.equal(c.status, 'refused', JSON.stringify(c));
        assert.match(c.message, /^calibration refused, not saved: 2 threads read 19.5 GB\/s, slower than 1 thread/);
        assert.equal(c.calibration.status, 'suspect');
        const system = (await server.api('GET', '/api/system')).json;
        assert.equal(system.calibration, null, 'a refused calibration is in force');
        assert.ok(!fs.existsSync(calibFile), 'a refused calibration was saved where later runs load it');
        assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('pending')), [], 'a pending file was left behind');
    });
});

describe('calibrate with a token', { timeout: 30000 }, () => {
    let dir, server;
    before(async () => {
        dir = makeTempDir('calibrate-token');
        server = await startServer({ dir, token: 'calibrate-secret', env: { SCALELAB_CALIBRATION: path.join(dir, 'c.json') } });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('POST /api/calibrate needs the token; its state is a read', async () => {
        const r = await server.api('POST', '/api/calibrate', { body: {} });
        assert.equal(r.status, 401, r.text);
        assert.equal(errorOf(r).code, 'unauthorized');
        assert.equal((await server.api('GET', '/api/calibrate/1')).status, 404, 'an unauthorized calibration was queued');
        const ok = await server.api('POST', '/api/calibrate', { body: {}, token: 'calibrate-secret' });
        assert.equal(ok.status, 202, ok.text);
        assert.equal((await server.api('GET', `/api/calibrate/${ok.json.id}`)).status, 200);
    });
});
