// mpi.test.mjs — the mpi backend through the API: listed like any backend, runs stored with
// their launch, communication and per-rank hosts, hostfiles only as the operator allows,
// and a cancel or a timeout leaves no rank behind (mpirun's whole process tree).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, makeTempDir, removeDir, waitUntil, listProcesses, sleep, REPO } from './harness.mjs';

const RANK_NAME = 'scalelab-mpi-rank';
// a rank's own command line (mpirun's names the rank program too, as an argument)
const isRank = (p) => p.cmdline.split(' ')[0].endsWith(RANK_NAME);
// 2 ranks x 400 tasks of 50 ms: 10 s per timed run, 20 of them. Never finishes in a test, and
// a rank in the middle of its share would outlive a 5 s wait unless it is killed.
const LONG_JOB = { workload: 'sleep', params: { tasks: 400, us: 50000 }, backends: ['mpi'], cores: [2], repeats: 20, warmup: 0 };

/* The rank processes below pid (server -> engine -> mpirun -> ranks). */
function ranksBelow(pid) {
    const procs = listProcesses();
    const below = new Set([pid]);
    let grew = true;
    while (grew) {
        grew = false;
        for (const p of procs)
            if (below.has(p.ppid) && !below.has(p.pid)) { below.add(p.pid); grew = true; }
    }
    return procs.filter((p) => below.has(p.pid) && isRank(p));
}

/* Which of the recorded ranks still live (a zombie has ended: it only waits to be reaped). */
function alive(recorded) {
    const pids = new Set(recorded.map((p) => p.pid));
    return listProcesses().filter((p) => pids.has(p.pid) && p.state !== 'Z' && isRank(p));
}

describe('mpi', { timeout: 120000 }, () => {
    let dir, server, timeoutServer, available;

    before(async () => {
        dir = makeTempDir('mpi');
        server = await startServer({ dir });
        // long enough for mpirun to start its ranks on a loaded machine, short for a test
        timeoutServer = await startServer({ dir, runTimeout: 8 });
        const b = (await server.api('GET', '/api/backends')).json;
        const list = Array.isArray(b) ? b : b.backends;
        available = list.find((x) => x.name === 'mpi')?.available;
    });
    after(async () => {
        if (server) await server.kill9();
        if (timeoutServer) await timeoutServer.kill9();
        removeDir(dir);
    });

    test('mpi is listed like any backend, with its availability', async () => {
        const b = (await server.api('GET', '/api/backends')).json;
        const mpi = (Array.isArray(b) ? b : b.backends).find((x) => x.name === 'mpi');
        assert.ok(mpi, 'mpi is in /api/backends');
        assert.equal(typeof mpi.available, 'boolean');
        if (!mpi.available) assert.match(mpi.reason, /openmpi/);
    });

    test('a run stores launch time, communication time and the host of every rank', async (t) => {
        if (!available) return t.skip('mpi unavailable here');
        const id = await server.postRun({ workload: 'paths', params: { m: 300, n: 200 }, backends: ['serial', 'mpi'], cores: [1, 2], repeats: 2, warmup: 0 });
        const run = await server.waitForStatus(id, 'done', 60000);
        const mpi = run.measurements.filter((m) => m.backend === 'mpi');
        assert.equal(mpi.length, 4);
        const serial = run.measurements.find((m) => m.backend === 'serial');
        for (const m of mpi) {
            assert.equal(m.verified, true);
            assert.equal(m.result_count, serial.result_count, 'bit-identical to serial');
            const same = mpi.filter((o) => o.cores === m.cores);
            assert.ok(m.launch_ns > 0 && same.every((o) => o.launch_ns === m.launch_ns),
                'ranks launched once per core count: the same launch on each of its runs');
            assert.ok(m.comm_ns > 0, 'communication is measured');
            assert.equal(m.hosts.length, m.cores, 'one host per rank');
        }
        assert.equal(serial.launch_ns, undefined, 'backends without ranks have no launch');
        assert.ok(run.mpi_hosts.length >= 1 && run.mpi_hosts[0].slots >= 1, 'the run lists hosts and slots');
        const csv = await server.api('GET', `/api/runs/${id}/export?format=csv`);
        assert.match(csv.text.split('\n')[0], /launch_ns,comm_ns,hosts/);
    });

    test('a job may name a hostfile only when the server was given one', async (t) => {
        const r = await server.api('POST', '/api/runs', { body: { workload: 'pi', backends: ['serial'], hostfile: '/etc/hosts' } });
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.error.field, 'hostfile');
        assert.match(r.json.error.message, /--mpi-hostfile/);
        if (!available) return t.skip('mpi unavailable here');
    });

    const this_server = () => server;
    for (const how of ['cancel', 'timeout']) {
        test(`${how} kills every rank`, async (t) => {
            if (!available) return t.skip('mpi unavailable here');
            const server = how === 'cancel' ? this_server() : timeoutServer;
            const id = await server.postRun(LONG_JOB);
            await server.waitForStatus(id, 'running', 10000);
            const engine = await waitUntil(() => server.engines()[0] || null, { timeoutMs: 5000, what: 'the engine' });
            const ranks = await waitUntil(() => { const r = ranksBelow(engine.pid); return r.length === 2 ? r : null; },
                { timeoutMs: 20000, what: 'two ranks under the engine' })
                .catch((err) => { throw new Error(`${err.message}: engine ${JSON.stringify(engine)}, processes ${JSON.stringify(listProcesses().filter((p) => /scalelab|mpirun/.test(p.cmdline)))}`); });
            await sleep(300); // inside a run
            if (how === 'cancel') {
                const r = await server.api('POST', `/api/runs/${id}/cancel`);
                assert.equal(r.status, 202, r.text);
                await server.waitForStatus(id, 'cancelled', 5000);
            } else {
                await server.waitForStatus(id, 'timed_out', 20000);
            }
            await waitUntil(() => alive(ranks).length === 0, { timeoutMs: 5000, intervalMs: 20, what: 'the ranks to be gone' })
                .catch((err) => { throw new Error(`${err.message}: still there: ${JSON.stringify(alive(ranks))}`); });
            assert.equal(listProcesses().filter((p) => p.pid === engine.pid && p.state !== 'Z').length, 0, 'the engine is gone');
        });
    }

    test('mpi4py, a registered program, runs pi and x*x beside the loop with the same results', async (t) => {
        const py = await startServer({ dir, args: ['--programs', path.join(REPO, 'programs')] });
        try {
            const list = (await py.api('GET', '/api/programs', { timeoutMs: 90000 })).json;
            for (const [group, loop, params] of [['pi', 'py-pi-loop', { samples: 20000 }],
                ['xsquare', 'py-xsquare-loop', { tasks: 3, iterations: 20000 }]]) {
                const g = list.groups.find((x) => x.group === group);
                const prog = g.programs.find((p) => p.name === `py-${group}-mpi4py`);
                assert.ok(prog, `py-${group}-mpi4py is registered`);
                if (!prog.available || !g.programs.find((p) => p.name === loop).available) {
                    t.diagnostic(`py-${group}-mpi4py unavailable here: ${prog.reason}`);
                    continue;
                }
                const id = await py.postRun({ programs: [loop, prog.name], params, cores: [1, 2], repeats: 1, warmup: 0 });
                const run = await py.waitForStatus(id, 'done', 90000);
                const ms = run.measurements;
                assert.equal(new Set(ms.map((m) => m.result)).size, 1, `one result from both routes: ${ms.map((m) => m.result)}`);
                for (const m of ms) assert.equal(m.verified, true, `${m.backend}: ${m.message}`);
                const two = ms.find((m) => m.backend === prog.name && m.cores === 2);
                assert.ok(two, `${prog.name} ran on 2 ranks`);
                assert.equal(two.busy_ns.length, 2, 'a busy time per rank');
            }
        } finally {
            await py.kill9();
        }
    });
});
