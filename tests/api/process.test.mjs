// process.test.mjs — the engine's process: what it inherits (environment, descriptors), that
// nothing of it outlives a cancel (the whole process group, forked workers included) or a
// kill -9 of the server, and that a measurement the store refuses fails the run.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { serverScope, waitUntil, listProcesses, sleep } from './harness.mjs';

// Long repetitions (200 tasks x 50 ms per worker share): a run that never finishes in a test.
const longJob = (backend) => ({ workload: 'sleep', params: { tasks: 200, us: 50000 }, backends: [backend], cores: [2], repeats: 20, warmup: 0, oversubscribe: true });

/* The engine of the running run (the server's child process), once it runs. */
async function engineOf(server) {
    return waitUntil(() => listProcesses().find((p) => p.ppid === server.pid && p.cmdline.includes('scalelab-engine')),
        { timeoutMs: 5000, what: 'the engine process' });
}

/* Processes of process group pgrp that are still alive (zombies are dead: not counted). */
const liveInGroup = (pgrp) => listProcesses().filter((p) => p.pgrp === pgrp && p.state !== 'Z');

describe('the engine process', { timeout: 120000 }, () => {
    const scope = serverScope('process', { before, after });
    const start = (opts) => scope.start(opts);

    test('gets an allow-listed environment (never the token) and no inherited descriptor', async () => {
        const inherited = fs.openSync(path.join(scope.dir, 'inherited.txt'), 'w');
        const server = await start({
            token: 'tok-secret-123', autoToken: true, extraFds: [inherited],
            env: { SCALELAB_TOKEN: 'tok-secret-123', LAUNCHER_SECRET: 'x', OMP_DISPLAY_ENV: 'false', LC_ALL: 'C' },
        });
        fs.closeSync(inherited);
        // The server itself does hold fd 3 and the variables: what follows can fail.
        assert.match(fs.readlinkSync(`/proc/${server.pid}/fd/3`), /inherited\.txt$/);
        assert.match(fs.readFileSync(`/proc/${server.pid}/environ`, 'utf8'), /LAUNCHER_SECRET=x/);

        const id = await server.postRun(longJob('threads'));
        await server.waitForStatus(id, 'running', 10000);
        const engine = await engineOf(server);
        const env = fs.readFileSync(`/proc/${engine.pid}/environ`, 'utf8').split('\0').filter(Boolean);
        const names = env.map((v) => v.slice(0, v.indexOf('=')));
        assert.ok(!names.includes('SCALELAB_TOKEN'), 'the token reached the engine');
        assert.ok(!env.some((v) => v.includes('tok-secret-123')), 'the token value reached the engine');
        assert.ok(!names.includes('LAUNCHER_SECRET'), 'a variable outside the allow-list reached the engine');
        for (const want of ['PATH', 'OMP_DISPLAY_ENV', 'LC_ALL'])
            assert.ok(names.includes(want), `${want} (allowed) did not reach the engine: ${names.join(' ')}`);
        const fds = fs.readdirSync(`/proc/${engine.pid}/fd`).map(Number).sort((a, b) => a - b);
        assert.deepEqual(fds, [0, 1, 2], `the engine holds more than its stdio: ${fds.map((fd) => {
            try { return `${fd} -> ${fs.readlinkSync(`/proc/${engine.pid}/fd/${fd}`)}`; } catch { return String(fd); }
        }).join(', ')}`);
        assert.equal((await server.api('POST', `/api/runs/${id}/cancel`)).status, 202);
    });

    for (const backend of ['processes', 'pool']) {
        test(`cancelling a ${backend} run leaves no process of its group`, async () => {
            const server = await start();
            const id = await server.postRun(longJob(backend));
            await server.waitForStatus(id, 'running', 10000);
            const engine = await engineOf(server);
            assert.equal(engine.pgrp, engine.pid, 'the engine leads its own process group');
            if (backend === 'processes') // the workers exist before the cancel, in the group
                await waitUntil(() => liveInGroup(engine.pgrp).length >= 3, { timeoutMs: 5000, what: 'the two forked workers' });
            const t0 = Date.now();
            assert.equal((await server.api('POST', `/api/runs/${id}/cancel`)).status, 202);
            await waitUntil(() => listProcesses().every((p) => p.pgrp !== engine.pgrp), { timeoutMs: 1000, intervalMs: 10, what: `process group ${engine.pgrp} to be gone (zombies included)` })
                .catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(listProcesses().filter((p) => p.pgrp === engine.pgrp))}`); });
            assert.ok(Date.now() - t0 <= 1500);
            assert.equal((await server.waitForStatus(id, 'cancelled', 2000)).status, 'cancelled');
        });
    }

    test('kill -9 of the server mid-repetition: the engine and its workers are gone within 1 s', async () => {
        const server = await start();
        const id = await server.postRun(longJob('processes'));
        await server.waitForStatus(id, 'running', 10000);
        const engine = await engineOf(server);
        await waitUntil(() => liveInGroup(engine.pgrp).length >= 3, { timeoutMs: 5000, what: 'the two forked workers' });
        const group = liveInGroup(engine.pgrp);
        server.proc.kill('SIGKILL');
        const t0 = Date.now();
        await waitUntil(() => liveInGroup(engine.pgrp).length === 0, { timeoutMs: 1000, intervalMs: 10, what: 'the orphaned engine and workers to die' })
            .catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(liveInGroup(engine.pgrp))} of ${JSON.stringify(group)}`); });
        assert.ok(Date.now() - t0 <= 1000);
    });

    test('a measurement that fails to store fails the run with the reason, never done', async () => {
        const db = path.join(scope.dir, 'faulty.db');
        const server = await start({ db });
        // Fault injection from outside: the store refuses the third measurement of any run.
        execFileSync('sqlite3', [db, "CREATE TRIGGER refuse_third BEFORE INSERT ON measurements WHEN NEW.seq = 3 BEGIN SELECT RAISE(FAIL, 'injected fault'); END;"]);
        const id = await server.postRun({ workload: 'sleep', params: { tasks: 1, us: 20000 }, backends: ['serial'], cores: [1], repeats: 10, warmup: 0 });
        const run = await server.waitForStatus(id, 'failed', 20000);
        assert.match(run.error, /measurement 3 could not be stored/, `error: ${run.error}`);
        assert.deepEqual(run.measurements.map((m) => m.seq), [1, 2]);
        assert.equal(run.progress.done, 2);
        await sleep(300);
        assert.equal((await server.api('GET', `/api/runs/${id}`)).json.status, 'failed', 'the run changed after failing');
        // The engine was stopped, and the queue goes on.
        assert.equal(listProcesses().filter((p) => p.ppid === server.pid && p.cmdline.includes('scalelab-engine')).length, 0);
        assert.equal((await server.api('GET', '/api/health')).json.queue.running, null);
    });
});
