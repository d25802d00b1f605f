// hardening-accesslog.test.mjs — the access log cannot be forged (control characters are
// escaped), can go to a file that is reopened on SIGHUP (logrotate) and rotated past a size
// bound; the token can come from a file and is never in argv or in the log.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, makeTempDir, removeDir, rawExchange, rawRequest, waitUntil, runServerCommand } from './harness.mjs';

const MAX = 4096;

describe('hardening: access log', { timeout: 60000 }, () => {
    let dir, server, log;
    before(async () => {
        dir = makeTempDir('hlog');
        log = path.join(dir, 'access.log');
        server = await startServer({ dir, args: ['--access-log', log, '--access-log-max', String(MAX)] });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });
    const read = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'latin1') : '');

    test('CR, LF and other control bytes in the URL or method are escaped: no forged lines', async () => {
        await rawRequest(server.port, 'GET', '/x%0d%0a127.0.0.1%20GET%20/forged%20200%200.1%20ms%0d%0a');
        await rawExchange(server.port, '\x01\x1b[31mJUNK /y HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', { timeoutMs: 3000 });
        await rawRequest(server.port, 'GET', '/q%22%5c%7f%c3%a9');
        const text = await waitUntil(() => { const t = read(log); return t.includes('/q') && t; }, { what: 'the log lines' });
        const lines = text.split('\n').filter(Boolean);
        assert.ok(lines.every((l) => /^127\.0\.0\.1 \S+ \S+ \d{3} [\d.]+ ms( \(aborted\))?$/.test(l)), `a line of another shape:\n${text}`);
        assert.ok(!lines.some((l) => l.includes('GET /forged') && !l.includes('\\x0d')), text);
        assert.ok(text.includes('/x\\x0d\\x0a127.0.0.1\\x20GET\\x20/forged'), text);
        assert.ok(text.includes('\\x01\\x1b[31mJUNK /y 404'), text);
        assert.ok(text.includes('/q\\x22\\x5c\\x7f\\xc3\\xa9 404'), text);
        assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\xff]/.test(text), 'a raw control or high byte in the log');
    });

    test('past its size bound the file is renamed .1 and started anew', async () => {
        for (let i = 0; i < 80; i++) await server.api('GET', `/pad-${'p'.repeat(60)}-${i}`);
        await waitUntil(() => fs.existsSync(`${log}.1`), { what: `${log}.1` });
        assert.ok(fs.statSync(log).size <= MAX, `the log is ${fs.statSync(log).size} bytes`);
        assert.ok(fs.statSync(`${log}.1`).size <= MAX);
        assert.ok(fs.statSync(`${log}.1`).size > MAX / 2);
    });

    test('SIGHUP reopens the file after logrotate moved it', async () => {
        const moved = path.join(dir, 'access.log.rotated');
        fs.renameSync(log, moved);
        await server.api('GET', '/before-hup');
        // (the line is written when the request completes, just after the answer)
        await waitUntil(() => read(moved).includes('before-hup'), { what: 'lines in the moved file until SIGHUP' });
        server.proc.kill('SIGHUP');
        // The reopen creates the file anew; lines after that go there and only there.
        await waitUntil(() => fs.existsSync(log), { what: 'a new log file after SIGHUP' });
        await server.api('GET', '/after-hup');
        await waitUntil(() => read(log).includes('after-hup'), { what: 'the line in the new file' });
        assert.ok(!read(moved).includes('after-hup'));
        assert.equal(server.exited, false, 'SIGHUP stopped the server');
    });
});

describe('hardening: token from a file', { timeout: 60000 }, () => {
    const TOKEN = 'f1le-t0ken-XYZ';
    let dir, server, log;
    before(async () => {
        dir = makeTempDir('htok');
        const tf = path.join(dir, 'token');
        fs.writeFileSync(tf, `${TOKEN}\n`, { mode: 0o600 });
        log = path.join(dir, 'access.log');
        server = await startServer({ dir, args: ['--token-file', tf, '--access-log', log] });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('the token is read from the file, is not in argv, and is never logged', async () => {
        const cmdline = fs.readFileSync(`/proc/${server.pid}/cmdline`, 'utf8');
        assert.ok(!cmdline.includes(TOKEN), 'the token is in /proc/PID/cmdline');
        const no = await server.api('POST', '/api/runs', { body: { workload: 'nope' } });
        assert.equal(no.status, 401, no.text);
        const yes = await server.api('POST', '/api/runs', { body: { workload: 'nope' }, token: TOKEN });
        assert.equal(yes.status, 422, yes.text);
        await server.api('GET', '/api/health', { token: TOKEN });
        await waitUntil(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('/api/health'), { what: 'the log' });
        assert.ok(!fs.readFileSync(log, 'utf8').includes(TOKEN), 'the token is in the access log');
        assert.ok(!server.stderr.includes(TOKEN) && !server.stdout.includes(TOKEN), 'the token is in the output');
    });
});

describe('hardening: the new options refuse bad values', { timeout: 30000 }, () => {
    let dir;
    before(() => { dir = makeTempDir('hopt'); });
    after(() => removeDir(dir));

    test('a missing or empty token file, a bad Host name, a bad bound: exit 2 with one line', async () => {
        const empty = path.join(dir, 'empty');
        fs.writeFileSync(empty, '\n');
        const cases = [
            [['--token-file', path.join(dir, 'nope')], /--token-file: cannot read a token/],
            [['--token-file', empty], /--token-file: cannot read a token/],
            [['--allowed-host', 'evil example'], /--allowed-host takes a DNS name/],
            [['--allowed-host', 'a/b'], /--allowed-host takes a DNS name/],
            [['--access-log-max', '-1'], /--access-log-max takes bytes/],
            [['--idle-timeout', '0'], /--idle-timeout takes seconds/],
        ];
        for (const [args, re] of cases) {
            const r = await runServerCommand(['--listen', '127.0.0.1:0', '--db', path.join(dir, 'x.db'), ...args]);
            assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
            assert.match(r.stderr, re, args.join(' '));
            assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        }
    });

    test('an access log that cannot be opened stops the start with a sentence', async () => {
        const r = await runServerCommand(['--listen', '127.0.0.1:0', '--db', path.join(dir, 'y.db'), '--access-log', path.join(dir, 'no', 'such', 'dir', 'a.log')]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /cannot open the access log/);
    });
});
