// hardening-crosssite.test.mjs — what a hostile page can send cannot change anything:
// mutating routes need Content-Type application/json exactly (parameters allowed), a
// same-origin Origin when one is sent, and every request a Host this server answers to
// (DNS rebinding), with or without a token.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, errorOf, rawRequest, rawExchange } from './harness.mjs';

const LONG_JOB = { workload: 'sleep', params: { tasks: 200, us: 50000 }, backends: ['threads'], cores: [1], repeats: 20, warmup: 0 };
const TINY_JOB = { workload: 'pi', params: { samples: 1e5 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 };

describe('hardening: cross-site requests', { timeout: 90000 }, () => {
    let dir, server;
    before(async () => {
        dir = makeTempDir('hxs');
        server = await startServer({ dir, args: ['--allowed-host', 'scalelab.example.org'] });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });
    const total = async () => (await server.api('GET', '/api/runs')).json.total;

    test('POST /api/runs: only application/json, with or without parameters', async () => {
        const refused = ['application/jsonx', 'application/json-patch+json', 'text/plain',
            'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
            'application/json+x', 'json', ''];
        for (const ct of refused) {
            const r = await rawRequest(server.port, 'POST', '/api/runs', { headers: { 'content-type': ct }, body: JSON.stringify(TINY_JOB) });
            assert.equal(r.status, 415, `Content-Type '${ct}': ${r.text}`);
            assert.equal(errorOf(r).code, 'unsupported_media_type');
        }
        // No Content-Type at all (what sendBeacon with a Blob and no-cors fetch may send).
        const none = await rawRequest(server.port, 'POST', '/api/runs', { body: JSON.stringify(TINY_JOB) });
        assert.equal(none.status, 415, none.text);
        assert.equal(await total(), 0, 'a refused POST stored a run');
        for (const ct of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/json ; x=y']) {
            const r = await server.api('POST', '/api/runs', { body: TINY_JOB, headers: { 'content-type': ct } });
            assert.equal(r.status, 202, `Content-Type '${ct}': ${r.text}`);
            await server.waitForStatus(r.json.id, 'done', 20000);
        }
    });

    test('cancel and DELETE carry no body but still need the header', async () => {
        const id = await server.postRun(LONG_JOB);
        await server.waitForStatus(id, 'running', 10000);
        for (const ct of [undefined, 'text/plain']) {
            const r = await rawRequest(server.port, 'POST', `/api/runs/${id}/cancel`, { headers: ct ? { 'content-type': ct } : {} });
            assert.equal(r.status, 415, r.text);
        }
        assert.equal((await server.api('GET', `/api/runs/${id}`)).json.status, 'running', 'a refused cancel cancelled');
        const ok = await server.api('POST', `/api/runs/${id}/cancel`);
        assert.equal(ok.status, 202, ok.text);
        await server.waitForStatus(id, 'cancelled', 5000);
        const del = await rawRequest(server.port, 'DELETE', `/api/runs/${id}`);
        assert.equal(del.status, 415, del.text);
        assert.equal((await server.api('GET', `/api/runs/${id}`)).status, 200, 'a refused DELETE deleted');
        assert.equal((await server.api('DELETE', `/api/runs/${id}`)).status, 204);
    });

    test('a cross-origin Origin is refused; the same origin passes', async () => {
        const before = await total();
        for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${server.port + 1}`,
            `https://evil.example`, `http://127.0.0.1:${server.port}.evil.example`, 'file://']) {
            const r = await server.api('POST', '/api/runs', { body: TINY_JOB, headers: { origin } });
            assert.equal(r.status, 403, `Origin ${origin}: ${r.text}`);
            assert.equal(errorOf(r).code, 'cross_origin');
        }
        assert.equal(await total(), before);
        const r = await server.api('POST', '/api/runs', { body: TINY_JOB, headers: { origin: `http://127.0.0.1:${server.port}` } });
        assert.equal(r.status, 202, r.text);
        await server.waitForStatus(r.json.id, 'done', 20000);
    });

    test('DNS rebinding: a Host that is not ours gets 421, reads and changes alike', async () => {
        const before = await total();
        const evil = 'rebind.evil.example';
        for (const [m, p] of [['GET', '/api/runs'], ['GET', '/api/health'], ['GET', '/'], ['POST', '/api/runs']]) {
            const r = await rawRequest(server.port, m, p, {
                headers: { host: `${evil}:${server.port}`, origin: `http://${evil}:${server.port}`, 'content-type': 'application/json' },
                body: m === 'POST' ? JSON.stringify(TINY_JOB) : undefined,
            });
            assert.equal(r.status, 421, `${m} ${p} with Host ${evil}: ${r.status} ${r.text.slice(0, 200)}`);
            assert.equal(errorOf(r).code, 'wrong_host');
        }
        assert.equal(await total(), before, 'a rebinding page stored a run');
        for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, 'localhost', 'scalelab.example.org',
            `SCALELAB.example.org:${server.port}`, '127.0.0.1']) {
            const r = await rawRequest(server.port, 'GET', '/api/health', { headers: { host } });
            assert.equal(r.status, 200, `Host ${host}: ${r.text}`);
        }
        for (const host of ['127.0.0.2', '[::1]', 'evil.localhost.example', 'localhost.evil.example', 'scalelab.example.org.evil', '127.0.0.1:x']) {
            const r = await rawRequest(server.port, 'GET', '/api/health', { headers: { host } });
            assert.ok([400, 421].includes(r.status), `Host '${host}': ${r.status} ${r.text}`);
        }
        // A POST from an allowed name, with its own origin, is accepted.
        const r = await rawRequest(server.port, 'POST', '/api/runs', {
            headers: { host: 'scalelab.example.org', origin: 'http://scalelab.example.org', 'content-type': 'application/json' },
            body: JSON.stringify(TINY_JOB),
        });
        assert.equal(r.status, 202, r.text);
        await server.waitForStatus(r.json.id, 'done', 20000);
    });

    test('refused before the body is read: the connection is closed, nothing more is parsed', async () => {
        const job = JSON.stringify(TINY_JOB);
        const x = await rawExchange(server.port,
            `POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${job.length}\r\n\r\n${job}` +
            'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { timeoutMs: 5000 });
        assert.deepEqual(x.responses, [415], x.text.slice(0, 400));
        assert.equal(x.closed, true);
    });
});

describe('hardening: cross-site requests with a token', { timeout: 60000 }, () => {
    let dir, server;
    before(async () => {
        dir = makeTempDir('hxst');
        server = await startServer({ dir, token: 't0ken', autoToken: true });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('the token does not replace the Content-Type, Origin and Host checks', async () => {
        const r1 = await server.api('POST', '/api/runs', { body: TINY_JOB, headers: { 'content-type': 'text/plain' } });
        assert.equal(r1.status, 415, r1.text);
        const r2 = await server.api('POST', '/api/runs', { body: TINY_JOB, headers: { origin: 'http://evil.example' } });
        assert.equal(r2.status, 403, r2.text);
        const r3 = await rawRequest(server.port, 'POST', '/api/runs', { headers: { host: 'evil.example', authorization: 'Bearer t0ken', 'content-type': 'application/json' }, body: JSON.stringify(TINY_JOB) });
        assert.equal(r3.status, 421, r3.text);
        assert.equal((await server.api('GET', '/api/runs')).json.total, 0);
    });
});
