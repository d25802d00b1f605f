// runs.test.mjs — a run's life through the API: submit, finish, read, list, export,
// compare, delete.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, errorOf, metricValue, parseCSV } from './harness.mjs';

// serial runs one point (1 core); threads one per core count: 3 points x 2 repeats.
const PI_JOB = {
    workload: 'pi', params: { samples: 1e5 }, backends: ['serial', 'threads'],
    cores: [1, 2], repeats: 2, warmup: 0,
};
const SUMSQ_JOB = { workload: 'sumsq', params: { n: 1e4 }, backends: ['serial'], cores: [1], repeats: 2, warmup: 0 };

describe('runs', { timeout: 90000 }, () => {
    let dir, server;
    let piId, sumsqId, piPost, piRun, sumsqRun;

    before(async () => {
        dir = makeTempDir('runs');
        server = await startServer({ dir });
        piPost = await server.api('POST', '/api/runs', { body: PI_JOB });
        assert.equal(piPost.status, 202, piPost.text);
        piId = piPost.json.id;
        sumsqId = await server.postRun(SUMSQ_JOB);
        piRun = await server.waitForStatus(piId, 'done', 30000);
        sumsqRun = await server.waitForStatus(sumsqId, 'done', 30000);
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('POST answers 202 queued with the id, its url and a Location header', () => {
        assert.ok(Number.isInteger(piPost.json.id) && piPost.json.id > 0, `id ${piPost.json.id}`);
        assert.equal(piPost.json.status, 'queued');
        assert.equal(piPost.json.url, `/api/runs/${piId}`);
        const location = piPost.headers.get('location');
        assert.ok(location && location.endsWith(`/api/runs/${piId}`), `Location: ${location}`);
        assert.notEqual(sumsqId, piId);
    });

    test('a finished run has every planned measurement, verified', async () => {
        const r = await server.api('GET', `/api/runs/${piId}`);
        assert.equal(r.status, 200);
        const run = r.json;
        assert.equal(run.id, piId);
        assert.equal(run.workload, 'pi');
        assert.equal(run.status, 'done');
        assert.equal(run.error, null);
        assert.deepEqual(run.job.backends, ['serial', 'threads']);
        assert.deepEqual(run.job.cores, [1, 2]);
        assert.equal(run.job.repeats, 2);
        assert.equal(run.job.warmup, 0);
        assert.equal(run.job.params.samples, 1e5);
        assert.equal(run.job.scaling, 'strong', 'defaults are made explicit in the stored job');
        assert.ok(run.host && typeof run.host === 'object', 'host missing');
        assert.deepEqual(run.progress, { done: 6, total: 6 });
        assert.ok(run.created_at > 1e9 && run.created_at <= run.started_at && run.started_at <= run.finished_at,
            `times ${run.created_at} ${run.started_at} ${run.finished_at}`);
        assert.ok(Math.abs(Date.now() / 1000 - run.finished_at) < 300, 'finished_at is not unix seconds of now');

        assert.equal(run.measurements.length, 6);
        const seqs = run.measurements.map((m) => m.seq);
        assert.equal(new Set(seqs).size, 6, `seqs not unique: ${seqs}`);
        for (const m of run.measurements) {
            assert.equal(m.verified, true, `measurement ${m.seq} not verified: ${m.message}`);
            assert.ok(m.wall_ns > 0, `wall_ns ${m.wall_ns}`);
        }
        const perPoint = {};
        for (const m of run.measurements) perPoint[`${m.backend}@${m.cores}`] = (perPoint[`${m.backend}@${m.cores}`] || 0) + 1;
        assert.deepEqual(perPoint, { 'serial@1': 2, 'threads@1': 2, 'threads@2': 2 });

        assert.equal(run.analysis.scaling, 'strong');
        assert.equal(run.analysis.points.length, 3);
        for (const p of run.analysis.points) assert.equal(p.wall_s.n, 2, `${p.backend}@${p.cores}: wall_s.n`);
        const threads = run.analysis.backends.find((b) => b.backend === 'threads');
        assert.ok(threads, 'no analysis for threads');
        // Two core counts carry no model: a + b/p through two points fits whatever they are.
        assert.equal(threads.fit, null, `threads fit from 2 core counts: ${JSON.stringify(threads.fit)}`);
        assert.match(threads.fit_missing, /2 core counts measured \(1,2\): add a third/);
        assert.equal(typeof threads.diagnosis.cause, 'string');
        assert.match(threads.diagnosis.sentence, /\d/, 'the sentence names a figure');
        const t2 = run.analysis.points.find((p) => p.backend === 'threads' && p.cores === 2);
        assert.equal(t2.baseline, 'threads, 1 core', 'no simd ran: against its own core');
        assert.equal(typeof t2.speedup_serial, 'number');
        assert.ok(Array.isArray(run.measurements[0].wait_ns), 'wait_ns is stored');
    });

    test('the list shows finished runs without measurements, and filters', async () => {
        const all = await server.api('GET', '/api/runs');
        assert.equal(all.status, 200);
        assert.equal(all.json.total, 2);
        assert.equal(all.json.limit, 50);
        assert.equal(all.json.offset, 0);
        const listed = all.json.runs.find((r) => r.id === piId);
        assert.ok(listed, 'pi run not listed');
        assert.equal(listed.status, 'done');
        assert.equal(listed.workload, 'pi');
        assert.ok(!('measurements' in listed) && !('analysis' in listed), 'the list carries measurements/analysis');

        const ids = async (q) => {
            const r = await server.api('GET', `/api/runs?${q}`);
            assert.equal(r.status, 200, q);
            return r.json.runs.map((x) => x.id);
        };
        assert.deepEqual(await ids('workload=pi&status=done'), [piId]);
        assert.deepEqual(await ids('workload=pi'), [piId]);
        assert.deepEqual(await ids('workload=sumsq'), [sumsqId]);
        assert.deepEqual((await ids('status=done')).sort(), [piId, sumsqId].sort());
        assert.deepEqual(await ids('status=failed'), []);
        assert.deepEqual(await ids('workload=sleep'), []);
        const filtered = await server.api('GET', '/api/runs?status=failed');
        assert.equal(filtered.json.total, 0);
    });

    test('pagination: limit and offset slice the list, total counts all', async () => {
        const page = async (offset) => {
            const r = await server.api('GET', `/api/runs?limit=1&offset=${offset}`);
            assert.equal(r.status, 200);
            assert.equal(r.json.total, 2);
            assert.equal(r.json.limit, 1);
            assert.equal(r.json.offset, offset);
            return r.json.runs.map((x) => x.id);
        };
        const first = await page(0);
        const second = await page(1);
        assert.equal(first.length, 1);
        assert.equal(second.length, 1);
        assert.deepEqual([...first, ...second].sort(), [piId, sumsqId].sort());
        assert.deepEqual(await page(2), []);
    });

    test('export as CSV: a header line and one row per measurement', async () => {
        const r = await server.api('GET', `/api/runs/${piId}/export?format=csv`);
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type'), /^text\/csv/);
        assert.match(r.headers.get('content-disposition') || '', /^attachment/);
        const rows = parseCSV(r.text).filter((row) => !(row.length === 1 && row[0] === ''));
        assert.equal(rows.length, 7, `expected header + 6 rows, got ${rows.length}:\n${r.text}`);
        const header = rows[0];
        for (const col of ['seq', 'backend', 'cores', 'wall_ns', 'verified'])
            assert.ok(header.includes(col), `CSV header lacks ${col}: ${header}`);
        for (const row of rows.slice(1)) assert.equal(row.length, header.length, `row ${row} has ${row.length} fields`);
        const col = (name) => rows.slice(1).map((row) => row[header.indexOf(name)]);
        const bySeq = new Map(piRun.measurements.map((m) => [m.seq, m]));
        const seqs = col('seq').map(Number);
        assert.deepEqual([...seqs].sort((a, b) => a - b), [...bySeq.keys()].sort((a, b) => a - b));
        col('wall_ns').forEach((w, i) => assert.equal(Number(w), bySeq.get(seqs[i]).wall_ns, `wall_ns of seq ${seqs[i]}`));
        col('backend').forEach((b, i) => assert.equal(b, bySeq.get(seqs[i]).backend));
    });

    test('export as JSON: the run object with the same measurements', async () => {
        const r = await server.api('GET', `/api/runs/${piId}/export?format=json`);
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type'), /json/);
        assert.match(r.headers.get('content-disposition') || '', /^attachment/);
        assert.ok(r.json, 'export does not parse as JSON');
        assert.equal(r.json.id, piId);
        assert.equal(r.json.status, 'done');
        const strip = (ms) => ms.map((m) => ({ seq: m.seq, backend: m.backend, cores: m.cores, wall_ns: m.wall_ns, verified: m.verified }))
            .sort((a, b) => a.seq - b.seq);
        assert.deepEqual(strip(r.json.measurements), strip(piRun.measurements));
    });

    test('compare returns both runs with their analysis points', async () => {
        const r = await server.api('GET', `/api/compare?ids=${piId},${sumsqId}`);
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.runs.map((x) => x.id).sort(), [piId, sumsqId].sort());
        const pi = r.json.runs.find((x) => x.id === piId);
        const sq = r.json.runs.find((x) => x.id === sumsqId);
        assert.equal(pi.workload, 'pi');
        assert.equal(sq.workload, 'sumsq');
        assert.equal(pi.status, 'done');
        assert.equal(pi.points.length, 3);
        assert.equal(sq.points.length, 1);
        assert.deepEqual(pi.points.map((p) => `${p.backend}@${p.cores}`).sort(), ['serial@1', 'threads@1', 'threads@2']);
        assert.equal(pi.job.workload, 'pi');
        assert.ok(Array.isArray(pi.backends));
        assert.equal(sumsqRun.analysis.points.length, 1);
    });

    test('metrics count the finished runs and their measurements', async () => {
        const r = await server.api('GET', '/metrics');
        assert.equal(r.status, 200);
        assert.equal(metricValue(r.text, 'scalelab_runs', { status: 'done' }), 2);
        assert.equal(metricValue(r.text, 'scalelab_measurements_stored'), 8);
    });

    test('delete answers 204; the run and its measurements are gone; again is 404', async () => {
        const del = await server.api('DELETE', `/api/runs/${piId}`);
        assert.equal(del.status, 204);
        assert.equal(del.text, '');
        const get = await server.api('GET', `/api/runs/${piId}`);
        assert.equal(get.status, 404);
        assert.equal(errorOf(get).code, 'not_found');
        const again = await server.api('DELETE', `/api/runs/${piId}`);
        assert.equal(again.status, 404);
        assert.equal(errorOf(again).code, 'not_found');
        const exp = await server.api('GET', `/api/runs/${piId}/export?format=csv`);
        assert.equal(exp.status, 404);
        const list = await server.api('GET', '/api/runs');
        assert.equal(list.json.total, 1);
        assert.deepEqual(list.json.runs.map((x) => x.id), [sumsqId]);
        const m = await server.api('GET', '/metrics');
        assert.equal(metricValue(m.text, 'scalelab_measurements_stored'), 2, 'the deleted run\'s measurements are still counted');
        assert.equal(metricValue(m.text, 'scalelab_runs', { status: 'done' }), 1);
        // The other run is untouched.
        const other = await server.api('GET', `/api/runs/${sumsqId}`);
        assert.equal(other.status, 200);
        assert.equal(other.json.measurements.length, 2);
    });
});
