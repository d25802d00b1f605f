// basics.test.mjs — the read-only endpoints, static files, unknown paths and methods.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, makeTempDir, removeDir, errorOf, metricValue, waitUntil, ALL_STATUSES } from './harness.mjs';

const WORKLOADS = ['pi', 'sumsq', 'euler', 'paths', 'sleep', 'matmul'];
const BACKENDS = ['serial', 'simd', 'threads', 'processes', 'pool', 'openmp'];

describe('basics', { timeout: 90000 }, () => {
    let dir, server;
    const secret = `secret outside the static dir ${Date.now()}`;

    before(async () => {
        dir = makeTempDir('basics');
        // A file next to the static dir: what a traversal would reach.
        fs.writeFileSync(path.join(dir, 'secret.txt'), secret);
        server = await startServer({ dir, maxCores: 1, maxQueue: 7, runTimeout: 123 });
        fs.writeFileSync(path.join(server.staticDir, 'app.js'), 'console.log("app at the root");\n');
        fs.mkdirSync(path.join(server.staticDir, 'static'));
        fs.writeFileSync(path.join(server.staticDir, 'static', 'app.js'), 'console.log("app under static/");\n');
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('the listening line is the only line on stdout', async () => {
        await server.api('GET', '/api/health');
        assert.equal(server.stdout, `scalelab-server listening on ${server.url}\n`);
    });

    test('health answers ok with a version and an empty queue', async () => {
        const r = await server.api('GET', '/api/health');
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type'), /^application\/json/);
        assert.equal(r.json.status, 'ok');
        assert.equal(typeof r.json.version, 'string');
        assert.ok(r.json.version.length > 0, 'version is empty');
        assert.equal(typeof r.json.uptime_s, 'number');
        assert.ok(r.json.uptime_s >= 0 && r.json.uptime_s < 600, `uptime_s ${r.json.uptime_s}`);
        assert.equal(r.json.queue.length, 0);
        assert.equal(r.json.queue.running, null);
    });

    test('access log lines go to stderr', async () => {
        await server.api('GET', '/api/health?from=access-log-test');
        await waitUntil(() => server.stderr.includes('/api/health'), { timeoutMs: 2000, what: 'an access log line naming /api/health on stderr' });
    });

    test('system describes the host and the limits given on the command line', async () => {
        const r = await server.api('GET', '/api/system');
        assert.equal(r.status, 200);
        const { host, limits } = r.json;
        assert.equal(typeof host, 'object');
        assert.ok(host && !Array.isArray(host) && Object.keys(host).length > 0, 'host is not a non-empty object');
        assert.ok(Number.isInteger(limits.max_cores) && limits.max_cores >= 1, `max_cores ${limits.max_cores}`);
        assert.equal(limits.max_cores, 1, '--max-cores 1 not reflected');
        assert.equal(limits.max_queue, 7, '--max-queue 7 not reflected');
        assert.equal(limits.run_timeout_s, 123, '--run-timeout 123 not reflected');
        assert.equal(limits.max_body_bytes, 65536);
        assert.equal(r.json.token_required, false, 'this server runs without a token');
        assert.equal(limits.max_repeats, 1000);
        assert.ok(limits.oversubscribe_max >= limits.max_cores, `oversubscribe_max ${limits.oversubscribe_max}`);
        assert.ok('calibration' in r.json, 'calibration missing (null is allowed)');
    });

    test('workloads lists the six workloads with their parameter ranges, crash hidden', async () => {
        const r = await server.api('GET', '/api/workloads');
        assert.equal(r.status, 200);
        const names = r.json.workloads.map((w) => w.name);
        assert.deepEqual([...names].sort(), [...WORKLOADS].sort());
        assert.ok(!names.includes('crash'));
        for (const w of r.json.workloads) {
            assert.equal(typeof w.title, 'string', `${w.name}.title`);
            assert.ok(Array.isArray(w.params) && w.params.length > 0, `${w.name} has no params`);
            for (const p of w.params) {
                assert.equal(typeof p.name, 'string');
                for (const k of ['default', 'min', 'max'])
                    assert.equal(typeof p[k], 'number', `${w.name}.${p.name}.${k} is ${p[k]}`);
                assert.ok(p.min <= p.default && p.default <= p.max, `${w.name}.${p.name}: ${p.min} <= ${p.default} <= ${p.max}`);
            }
        }
        const pi = r.json.workloads.find((w) => w.name === 'pi');
        const samples = pi.params.find((p) => p.name === 'samples');
        assert.ok(samples, 'pi has no samples parameter');
        assert.equal(samples.integer, true);
        const sleepW = r.json.workloads.find((w) => w.name === 'sleep');
        assert.deepEqual(sleepW.params.map((p) => p.name).sort(), ['tasks', 'us']);
    });

    test('backends lists serial..openmp with availability and a reason when unavailable', async () => {
        const r = await server.api('GET', '/api/backends');
        assert.equal(r.status, 200);
        const names = r.json.backends.map((b) => b.name);
        for (const b of BACKENDS) assert.ok(names.includes(b), `backend ${b} missing from ${names}`);
        for (const b of r.json.backends) {
            assert.equal(typeof b.available, 'boolean', `${b.name}.available`);
            if (!b.available) assert.ok(typeof b.reason === 'string' && b.reason.length > 0, `${b.name} unavailable without a reason`);
        }
        assert.equal(r.json.backends.find((b) => b.name === 'serial').available, true);
    });

    test('openapi.json is an OpenAPI 3 document describing /api/runs', async () => {
        const r = await server.api('GET', '/api/openapi.json');
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type'), /json/);
        assert.ok(r.json, 'openapi.json does not parse');
        assert.match(r.json.openapi, /^3\.\d+/);
        assert.ok(r.json.paths['/api/runs'], 'no /api/runs path');
        assert.ok(r.json.paths['/api/runs'].post, 'no POST /api/runs');
        assert.ok(Object.keys(r.json.paths).some((p) => /^\/api\/runs\/\{[^}]+\}$/.test(p)), 'no /api/runs/{id} path');
    });

    test('GET / and /index.html serve the static index.html', async () => {
        for (const p of ['/', '/index.html']) {
            const r = await server.api('GET', p);
            assert.equal(r.status, 200, p);
            assert.match(r.headers.get('content-type'), /^text\/html/, p);
            assert.equal(r.text, server.indexHtml, p);
        }
    });

    test('/static/ serves files of the static dir; an unknown one is 404', async () => {
        const r = await server.api('GET', '/static/app.js');
        assert.equal(r.status, 200);
        assert.ok(['console.log("app at the root");\n', 'console.log("app under static/");\n'].includes(r.text), r.text);
        const missing = await server.api('GET', '/static/nope.js');
        assert.equal(missing.status, 404);
    });

    test('path traversal never leaves the static dir', async () => {
        const attempts = [
            '/static/../../etc/passwd',
            '/static/../../../../../../etc/passwd',
            '/static/%2e%2e/%2e%2e/etc/passwd',
            '/static/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd',
            '/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
            '/static/..%2f..%2f..%2f..%2fetc%2fpasswd',
            '/static/.%2e/.%2e/.%2e/.%2e/etc/passwd',
            '/static/%252e%252e/%252e%252e/etc/passwd',
            '/static/..%5c..%5c..%5cetc%5cpasswd',
            '/../../../../etc/passwd',
            '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
            '/static/../secret.txt',
            '/static/%2e%2e/secret.txt',
            '/static/static/../../secret.txt',
            '/..%2fsecret.txt',
            '/static//etc/passwd',
        ];
        const passwd = fs.existsSync('/etc/passwd') ? fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0] : 'root:x:0:0';
        for (const p of attempts) {
            const r = await server.raw('GET', p);
            assert.ok([400, 404].includes(r.status), `${p} answered ${r.status}`);
            assert.ok(!r.text.includes(passwd) && !r.text.includes('root:'), `${p} returned /etc/passwd`);
            assert.ok(!r.text.includes(secret), `${p} returned a file outside the static dir`);
        }
    });

    test('an unknown /api path is a 404 JSON error', async () => {
        for (const p of ['/api/nope', '/api/runs/1/nope', '/api/health/extra']) {
            const r = await server.api('GET', p);
            assert.equal(r.status, 404, p);
            assert.match(r.headers.get('content-type'), /^application\/json/, p);
            assert.equal(errorOf(r).code, 'not_found', p);
        }
    });

    test('a known path with the wrong method is a 405 JSON error with Allow', async () => {
        const cases = [
            ['PUT', '/api/health', ['GET']],
            ['DELETE', '/api/workloads', ['GET']],
            ['POST', '/api/system', ['GET']],
            ['PUT', '/api/runs', ['GET', 'POST']],
            ['DELETE', '/api/runs', ['GET', 'POST']],
        ];
        for (const [method, p, allowed] of cases) {
            const r = await server.api(method, p);
            assert.equal(r.status, 405, `${method} ${p}`);
            assert.equal(errorOf(r).code, 'method_not_allowed', `${method} ${p}`);
            const allow = (r.headers.get('allow') || '').split(',').map((s) => s.trim().toUpperCase());
            for (const m of allowed) assert.ok(allow.includes(m), `${method} ${p}: Allow "${r.headers.get('allow')}" lacks ${m}`);
            assert.ok(!allow.includes(method), `${method} ${p}: Allow "${r.headers.get('allow')}" lists ${method}`);
        }
    });

    test('metrics is Prometheus text with run counts per status and request counters', async () => {
        await server.api('GET', '/api/health');
        const r = await server.api('GET', '/metrics');
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type'), /^text\/plain/);
        for (const s of ALL_STATUSES)
            assert.equal(metricValue(r.text, 'scalelab_runs', { status: s }), 0, `scalelab_runs{status="${s}"} in:\n${r.text}`);
        assert.equal(metricValue(r.text, 'scalelab_queue_length'), 0);
        assert.equal(metricValue(r.text, 'scalelab_measurements_stored'), 0);
        const ok = metricValue(r.text, 'scalelab_http_requests_total', { method: 'GET', code: '200' });
        assert.ok(ok >= 1, `no scalelab_http_requests_total{method="GET",code="200"} >= 1 in:\n${r.text}`);
        const notFound = metricValue(r.text, 'scalelab_http_requests_total', { code: '404' });
        assert.ok(notFound >= 1, 'the 404s answered earlier are not counted');
        assert.ok(metricValue(r.text, 'scalelab_http_request_duration_seconds_bucket', { le: '+Inf' }) >= 1, 'no histogram +Inf bucket');
        assert.ok(metricValue(r.text, 'scalelab_http_request_duration_seconds_count') >= 1, 'no histogram _count');
    });
});
