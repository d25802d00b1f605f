// hardening-framing.test.mjs — requests that could be read two ways are refused before any
// handler runs and their connection closed (no second request read out of a body); a
// declared oversize body is refused at once; garbage is answered or closed within the idle
// timeout. Raw sockets: fetch and node:http will not send these.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, rawExchange, rawJson } from './harness.mjs';

const IDLE_S = 2;
const H = 'Host: 127.0.0.1\r\nContent-Type: application/json\r\n';
const HEALTH = 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

describe('hardening: HTTP framing', { timeout: 90000 }, () => {
    let dir, server;
    before(async () => {
        dir = makeTempDir('hframe');
        server = await startServer({ dir, args: ['--idle-timeout', String(IDLE_S)] });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });
    const total = async () => (await server.api('GET', '/api/runs')).json.total;

    test('two Content-Lengths: 400, closed, the smuggled request never answered', async () => {
        const smuggled = HEALTH;
        for (const cls of [['0', String(smuggled.length)], [String(smuggled.length), '0'], ['2', '2']]) {
            const body = cls[0] === '2' ? '{}' : smuggled;
            const x = await rawExchange(server.port,
                `POST /api/runs HTTP/1.1\r\n${H}Content-Length: ${cls[0]}\r\nContent-Length: ${cls[1]}\r\n\r\n${body}`, { timeoutMs: 5000 });
            assert.deepEqual(x.responses, [400], `Content-Length ${cls}: ${x.text.slice(0, 400)}`);
            assert.equal(x.closed, true);
            assert.match(rawJson(x.text).error.message, /more than one Content-Length/);
        }
        assert.equal(await total(), 0);
    });

    test('a malformed Content-Length is refused and the connection closed', async () => {
        for (const cl of ['1x', '-1', '+2', '0x10', '99999999999999999999']) {
            const x = await rawExchange(server.port, `POST /api/runs HTTP/1.1\r\n${H}Content-Length: ${cl}\r\n\r\n{}${HEALTH}`, { timeoutMs: 5000 });
            // libmicrohttpd 0.9.75 answers some of these itself (an HTML 400) before we see them.
            assert.ok(x.responses.length >= 1 && x.responses.every((s) => s === 400 || s === 413), `Content-Length ${cl}: ${x.text.slice(0, 300)}`);
            assert.ok(!x.text.includes('"status":"ok"'), `Content-Length ${cl}: a request was read out of the body`);
            assert.equal(x.closed, true, `Content-Length ${cl}: left open`);
        }
    });

    test('Transfer-Encoding other than one chunked, or with Content-Length, is a 400', async () => {
        const chunked = '2\r\n{}\r\n0\r\n\r\n';
        for (const te of ['gzip, chunked', 'chunked, gzip', 'gzip', 'identity', 'chunked\r\nTransfer-Encoding: chunked']) {
            const x = await rawExchange(server.port, `POST /api/runs HTTP/1.1\r\n${H}Transfer-Encoding: ${te}\r\n\r\n${chunked}`, { timeoutMs: 5000 });
            assert.deepEqual(x.responses, [400], `TE ${te}: ${x.text.slice(0, 300)}`);
            assert.ok(x.ms < 1000, `TE ${te}: answered after ${x.ms} ms`);
            assert.match(rawJson(x.text).error.message, /Transfer-Encoding/);
        }
        const both = await rawExchange(server.port, `POST /api/runs HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n${chunked}`, { timeoutMs: 5000 });
        assert.deepEqual(both.responses, [400], both.text.slice(0, 300));
        // Plain chunked is fine.
        const ok = await rawExchange(server.port, `POST /api/runs HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n13\r\n{"workload":"nope"}\r\n0\r\n\r\n`, { timeoutMs: 5000 });
        assert.deepEqual(ok.responses, [422], ok.text.slice(0, 300));
    });

    test('a declared 1 GB body is refused with 413 at once, before it is sent', async () => {
        const x = await rawExchange(server.port, `POST /api/runs HTTP/1.1\r\n${H}Content-Length: 1000000000\r\n\r\n{"work`, { timeoutMs: 5000 });
        assert.deepEqual(x.responses, [413], x.text.slice(0, 300));
        assert.ok(x.ms < 1000, `413 after ${x.ms} ms`);
        assert.equal(x.closed, true);
        const y = await rawExchange(server.port, `POST /api/runs HTTP/1.1\r\n${H}Content-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n`, { timeoutMs: 5000 });
        assert.deepEqual(y.responses, [413], y.text.slice(0, 300));
    });

    test('Host: none in HTTP/1.1, or two, is a 400', async () => {
        for (const req of ['GET /api/health HTTP/1.1\r\n\r\n', 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n']) {
            const x = await rawExchange(server.port, req, { timeoutMs: 5000 });
            assert.deepEqual(x.responses, [400], x.text.slice(0, 300));
        }
        const old = await rawExchange(server.port, 'GET /api/health HTTP/1.0\r\n\r\n', { timeoutMs: 5000 });
        assert.deepEqual(old.responses, [200], 'HTTP/1.0 without Host is not a browser; it passes');
    });

    test('garbage is answered or closed within the idle timeout, not minutes', async () => {
        const cases = [
            ['binary', Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256))],
            ['no end of line', 'GET /api/health HTTP/1.1'],
            ['half the headers', 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n'],
            ['half a body', `POST /api/runs HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\n{"wo`],
            ['junk method', '\x01\x02JUNK / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
            ['HTTP/0.9', 'GET /api/health\r\n\r\n'],
        ];
        for (const [what, bytes] of cases) {
            const x = await rawExchange(server.port, bytes, { timeoutMs: (IDLE_S + 4) * 1000 });
            assert.equal(x.closed, true, `${what}: still open after ${x.ms} ms`);
            assert.ok(x.ms <= (IDLE_S + 2) * 1000, `${what}: closed after ${x.ms} ms`);
        }
    });
});
