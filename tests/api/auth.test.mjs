// auth.test.mjs — with a token, mutating requests need "Authorization: Bearer <token>";
// reads need none; a server on a public address refuses to start without a token.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { startServer, makeTempDir, removeDir, errorOf, runServerCommand, ENGINE } from './harness.mjs';

const TOKEN = 's3cret';
const TINY_JOB = { workload: 'pi', params: { samples: 1e5 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 };
const LONG_JOB = { workload: 'sleep', params: { tasks: 200, us: 50000 }, backends: ['threads'], cores: [1], repeats: 20, warmup: 0 };
const WRONG = [
    ['no Authorization header', {}],
    ['a wrong token', { token: 'wrong' }],
    ['the token with a suffix', { token: `${TOKEN}x` }],
    ['a prefix of the token', { token: TOKEN.slice(0, -1) }],
    ['the token as Basic credentials', { headers: { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` } }],
    ['the bare token without Bearer', { headers: { authorization: TOKEN } }],
];

describe('auth', { timeout: 90000 }, () => {
    let dir, server;

    before(async () => {
        dir = makeTempDir('auth');
        server = await startServer({ dir, token: TOKEN });
    });
    after(async () => {
        if (server) await server.kill9();
        removeDir(dir);
    });

    const total = async () => (await server.api('GET', '/api/runs')).json.total;

    test('POST /api/runs needs the token', async () => {
        for (const [what, o] of WRONG) {
            const r = await server.api('POST', '/api/runs', { body: TINY_JOB, ...o });
            assert.equal(r.status, 401, what);
            assert.equal(errorOf(r).code, 'unauthorized', what);
        }
        assert.equal(await total(), 0, 'an unauthorized POST stored a run');
        const ok = await server.api('POST', '/api/runs', { body: TINY_JOB, token: TOKEN });
        assert.equal(ok.status, 202, ok.text);
        await server.waitForStatus(ok.json.id, 'done', 20000);
        assert.equal(await total(), 1);
    });

    test('system says a token is required', async () => {
        const r = await server.api('GET', '/api/system');
        assert.equal(r.json.token_required, true);
    });

    test('reads need no token', async () => {
        const id = (await server.api('GET', '/api/runs')).json.runs[0].id;
        for (const p of ['/api/health', '/api/system', '/api/workloads', '/api/backends', '/api/runs',
            `/api/runs/${id}`, `/api/runs/${id}/export?format=json`, '/api/openapi.json', '/metrics', '/']) {
            const r = await server.api('GET', p);
            assert.equal(r.status, 200, `GET ${p} without a token: ${r.status} ${r.text.slice(0, 200)}`);
        }
        const s = await server.readSSE(`/api/runs/${id}/events`, () => false, 5000);
        assert.equal(s.status, 200);
        assert.equal(s.closed, true);
    });

    test('cancel needs the token', async () => {
        const id = await server.postRun(LONG_JOB, { token: TOKEN });
        await server.waitForStatus(id, 'running', 10000);
        for (const [what, o] of WRONG) {
            const r = await server.api('POST', `/api/runs/${id}/cancel`, o);
            assert.equal(r.status, 401, what);
            assert.equal(errorOf(r).code, 'unauthorized', what);
        }
        assert.equal((await server.api('GET', `/api/runs/${id}`)).json.status, 'running', 'an unauthorized cancel cancelled');
        const ok = await server.api('POST', `/api/runs/${id}/cancel`, { token: TOKEN });
        assert.equal(ok.status, 202, ok.text);
        await server.waitForStatus(id, 'cancelled', 5000);
    });

    test('DELETE needs the token', async () => {
        const id = await server.postRun(TINY_JOB, { token: TOKEN });
        await server.waitForStatus(id, 'done', 20000);
        for (const [what, o] of WRONG) {
            const r = await server.api('DELETE', `/api/runs/${id}`, o);
            assert.equal(r.status, 401, what);
            assert.equal(errorOf(r).code, 'unauthorized', what);
        }
        assert.equal((await server.api('GET', `/api/runs/${id}`)).status, 200, 'an unauthorized DELETE deleted');
        const ok = await server.api('DELETE', `/api/runs/${id}`, { token: TOKEN });
        assert.equal(ok.status, 204);
        assert.equal((await server.api('GET', `/api/runs/${id}`)).status, 404);
    });

    test('SCALELAB_TOKEN in the environment sets the token too', async () => {
        const other = await startServer({ dir, env: { SCALELAB_TOKEN: 'from-env' } });
        try {
            const none = await other.api('POST', '/api/runs', { body: TINY_JOB });
            assert.equal(none.status, 401);
            assert.equal(errorOf(none).code, 'unauthorized');
            const ok = await other.api('POST', '/api/runs', { body: TINY_JOB, token: 'from-env' });
            assert.equal(ok.status, 202, ok.text);
            await other.waitForStatus(ok.json.id, 'done', 20000);
        } finally {
            await other.stop();
        }
    });

    test('listening on 0.0.0.0 without a token is refused at start', async () => {
        const staticDir = path.join(dir, 'static-public');
        fs.mkdirSync(staticDir, { recursive: true });
        const r = await runServerCommand(['--listen', '0.0.0.0:0', '--db', path.join(dir, 'public.db'),
            '--static', staticDir, '--engine', ENGINE], { timeoutMs: 5000 });
        assert.equal(r.timedOut, false, `the server started (stdout: ${r.stdout})`);
        assert.notEqual(r.code, 0);
        assert.equal(r.code !== null, true, `killed by ${r.signal}`);
        assert.match(r.stderr, /token/i);
        assert.ok(!r.stdout.includes('listening'), `stdout: ${r.stdout}`);
    });
});
