// hardening-errors.test.mjs — every error path answers a well-formed JSON body: a refusal
// quoting the client's text is cut on a UTF-8 character boundary, never a broken literal.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, errorOf, rawExchange, rawJson } from './harness.mjs';

describe('hardening: error bodies', { timeout: 60000 }, () => {
    let dir, server;
    before(async () => {
        dir = makeTempDir('herr');
        server = await startServer({ dir });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('a refusal longer than its buffer, in multi-byte characters, is a 422 with valid JSON', async () => {
        for (const [ch, n] of [['é', 300], ['€', 250], ['😀', 200], ['aé', 257]]) {
            const r = await server.api('POST', '/api/runs', { body: { workload: ch.repeat(n) } });
            assert.equal(r.status, 422, `${ch} x ${n}: ${r.text.slice(0, 200)}`);
            const e = errorOf(r);
            assert.equal(e.field, 'workload');
            assert.equal(e.code, 'unknown');
            assert.match(e.message, /^workload "/);
            // Cut on a character boundary: the text decodes without U+FFFD.
            assert.ok(!e.message.includes('\uFFFD'), 'a broken character in the message');
            assert.equal(Buffer.byteLength(r.text), Number(r.headers.get('content-length')));
        }
    });

    test('every refusal, whatever stage sends it, is {"error": {code, message}} as JSON', async () => {
        const cases = [
            ['GET', '/api/nope', {}, 404],
            ['PUT', '/api/runs', { body: {} }, 405],
            ['POST', '/api/runs', { body: 'x'.repeat(70000) }, 413],
            ['POST', '/api/runs', { body: '{}', headers: { 'content-type': 'text/plain' } }, 415],
            ['POST', '/api/runs', { body: '{', }, 400],
            ['POST', '/api/runs', { body: {}, headers: { origin: 'http://evil.example' } }, 403],
            ['GET', '/api/runs/99', {}, 404],
            ['POST', '/api/runs/99/cancel', {}, 404],
            ['GET', '/api/runs?limit=0', {}, 422],
        ];
        for (const [m, p, o, status] of cases) {
            const r = await server.api(m, p, o);
            assert.equal(r.status, status, `${m} ${p}: ${r.text.slice(0, 200)}`);
            assert.match(r.headers.get('content-type') || '', /^application\/json/, `${m} ${p}`);
            errorOf(r);
        }
        // Refusals sent before the body is read, on the raw wire.
        const raw = [
            ['POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}', 400],
            ['GET /api/health HTTP/1.1\r\nHost: evil.example\r\n\r\n', 421],
        ];
        for (const [req, status] of raw) {
            const x = await rawExchange(server.port, req, { timeoutMs: 5000 });
            assert.deepEqual(x.responses, [status], x.text.slice(0, 300));
            const j = rawJson(x.text);
            assert.ok(j && j.error && typeof j.error.code === 'string' && j.error.message, x.text.slice(0, 300));
        }
    });
});
