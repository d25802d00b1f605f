// validation.test.mjs — a catalogue of bad requests: each gets the contract's status and
// JSON error naming the field, and none of them stores anything.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, errorOf, metricValue, ALL_STATUSES } from './harness.mjs';

const TOKEN = 'validation-token';
const TINY_JOB = { workload: 'pi', params: { samples: 1e5 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 };
const pi = (extra) => ({ workload: 'pi', params: { samples: 1e5 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0, ...extra });

// Pad a JSON text with spaces before its closing brace to exactly n bytes.
const padTo = (json, n) => json.slice(0, -1) + ' '.repeat(n - json.length) + '}';

const INVALID = ['invalid'];
const UNKNOWN = ['unknown'];
const QUERY = { status: [400, 422], code: ['invalid', 'bad_request'] };
const NOT_FOUND = { status: 404, code: ['not_found'] };
const NO_RUN = { status: [400, 404], code: ['not_found', 'invalid', 'bad_request'] };

// [name, request, expected]. request: {method (POST), path (/api/runs), body, headers, token}.
// expected: {status (one or a list), code (list), field (the message names it)}.
// '{id}' in a path stands for a stored run's id. maxCores and oversubscribeMax are the
// limits of the server started below (checked by the first test).
function catalogue(maxCores, oversubscribeMax) {
    const id = '{id}';
    const job = (name, body, code, field, status = 422) => [name, { body }, { status, code, field }];
    return [
        ['malformed JSON', { body: '{"workload": "pi",' }, { status: 400, code: ['bad_json'] }],
        ['JSON with trailing garbage', { body: '{"workload": "pi"} x' }, { status: 400, code: ['bad_json'] }],
        ['body an array, not an object', { body: '[{"workload": "pi"}]' }, { status: [400, 422], code: ['bad_json', 'invalid'] }],
        ['body a string', { body: '"pi"' }, { status: [400, 422], code: ['bad_json', 'invalid'] }],
        ['empty body', { body: '' }, { status: [400, 422], code: ['bad_json', 'invalid'] }],
        ['body over 64 KiB', { body: padTo(JSON.stringify(TINY_JOB), 65537) }, { status: 413, code: ['too_large'] }],
        ['body of exactly 64 KiB is read (and refused for its content)', { body: padTo('{"workload":"no-such-workload"}', 65536) },
            { status: 422, code: UNKNOWN, field: 'workload' }],
        ['Content-Type text/plain', { body: JSON.stringify(TINY_JOB), headers: { 'content-type': 'text/plain' } }, { status: 415, code: ['unsupported_media_type'] }],
        ['Content-Type form-urlencoded', { body: JSON.stringify(TINY_JOB), headers: { 'content-type': 'application/x-www-form-urlencoded' } }, { status: 415, code: ['unsupported_media_type'] }],
        ['no Authorization', { body: TINY_JOB, token: null }, { status: 401, code: ['unauthorized'] }],
        ['wrong token', { body: TINY_JOB, token: 'not-the-token' }, { status: 401, code: ['unauthorized'] }],

        job('missing workload', { params: { samples: 1e5 } }, INVALID, 'workload'),
        job('unknown workload', { workload: 'fibonacci' }, UNKNOWN, 'workload'),
        job('test-only workload crash without SCALELAB_TEST_WORKLOADS', { workload: 'crash' }, UNKNOWN, 'workload'),
        job('workload a number', { workload: 3 }, INVALID, 'workload'),
        job('unknown top-level field', pi({ colour: 'red' }), UNKNOWN, 'colour'),
        job('params not an object', pi({ params: [1e5] }), INVALID, 'params'),
        job('unknown param', pi({ params: { bogus: 1 } }), UNKNOWN, 'bogus'),
        job('param below its minimum', pi({ params: { samples: 0 } }), INVALID, 'samples'),
        job('param above its maximum', pi({ params: { samples: 1e14 } }), INVALID, 'samples'),
        job('param not a whole number', pi({ params: { samples: 1000.5 } }), INVALID, 'samples'),
        job('param a string', pi({ params: { samples: '1e5' } }), INVALID, 'samples'),
        job('backends not an array', pi({ backends: 'serial' }), INVALID, 'backends'),
        job('backends empty', pi({ backends: [] }), INVALID, 'backends'),
        job('backends with a number', pi({ backends: [1] }), INVALID, 'backends'),
        job('unknown backend', pi({ backends: ['serial', 'gpu9'] }), UNKNOWN, 'backend'),
        job('backend listed twice', pi({ backends: ['serial', 'serial'] }), INVALID, 'backend'),
        job('cores not an array', pi({ cores: 2 }), INVALID, 'cores'),
        job('cores empty', pi({ cores: [] }), INVALID, 'cores'),
        job('cores 0', pi({ cores: [0] }), INVALID, 'cores'),
        job('cores 2.5', pi({ cores: [2.5] }), INVALID, 'cores'),
        job('cores a string', pi({ cores: ['2'] }), INVALID, 'cores'),
        job('cores above --max-cores', pi({ backends: ['threads'], cores: [1, maxCores + 1] }), ['limit'], 'cores'),
        job('cores above 4x --max-cores with oversubscribe', pi({ backends: ['threads'], cores: [oversubscribeMax + 1], oversubscribe: true }), ['limit'], 'cores'),
        job('repeats 0', pi({ repeats: 0 }), INVALID, 'repeats'),
        job('repeats 1001', pi({ repeats: 1001 }), INVALID, 'repeats'),
        job('repeats a string', pi({ repeats: '5' }), INVALID, 'repeats'),
        job('warmup 101', pi({ warmup: 101 }), INVALID, 'warmup'),
        job('warmup -1', pi({ warmup: -1 }), INVALID, 'warmup'),
        job('scaling not strong|weak', pi({ scaling: 'linear' }), INVALID, 'scaling'),
        job('variant not vector|scalar', pi({ variant: 'avx' }), INVALID, 'variant'),
        job('affinity not none|close|spread', pi({ affinity: 'numa' }), INVALID, 'affinity'),
        job('schedule not static|dynamic|guided', pi({ schedule: 'random' }), INVALID, 'schedule'),
        job('chunk negative', pi({ chunk: -1 }), INVALID, 'chunk'),
        job('oversubscribe a string', pi({ oversubscribe: 'yes' }), INVALID, 'oversubscribe'),

        ['GET /api/runs/abc', { method: 'GET', path: '/api/runs/abc' }, NO_RUN],
        ['GET /api/runs/-1', { method: 'GET', path: '/api/runs/-1' }, NO_RUN],
        ['GET a run id past 64 bits', { method: 'GET', path: '/api/runs/99999999999999999999999' }, NO_RUN],
        ['GET /api/runs/999999', { method: 'GET', path: '/api/runs/999999' }, NOT_FOUND],
        ['events of /api/runs/999999', { method: 'GET', path: '/api/runs/999999/events' }, NOT_FOUND],
        ['export of /api/runs/999999', { method: 'GET', path: '/api/runs/999999/export?format=csv' }, NOT_FOUND],
        ['cancel /api/runs/999999', { method: 'POST', path: '/api/runs/999999/cancel' }, NOT_FOUND],
        ['DELETE /api/runs/999999', { method: 'DELETE', path: '/api/runs/999999' }, NOT_FOUND],
        ['DELETE /api/runs/abc', { method: 'DELETE', path: '/api/runs/abc' }, NO_RUN],
        ['list limit=0', { method: 'GET', path: '/api/runs?limit=0' }, { ...QUERY, field: 'limit' }],
        ['list limit=501', { method: 'GET', path: '/api/runs?limit=501' }, { ...QUERY, field: 'limit' }],
        ['list limit=abc', { method: 'GET', path: '/api/runs?limit=abc' }, { ...QUERY, field: 'limit' }],
        ['list offset=-1', { method: 'GET', path: '/api/runs?offset=-1' }, { ...QUERY, field: 'offset' }],
        ['export format=xml', { method: 'GET', path: `/api/runs/${id}/export?format=xml` }, { ...QUERY, field: 'format' }],
        ['compare one id', { method: 'GET', path: `/api/compare?ids=${id}` }, { ...QUERY, field: 'ids' }],
        ['compare 11 ids', { method: 'GET', path: `/api/compare?ids=${Array.from({ length: 11 }, (_, i) => i + 1).join(',')}` }, { ...QUERY, field: 'ids' }],
        ['compare a non-number', { method: 'GET', path: `/api/compare?ids=${id},abc` }, { ...QUERY, field: 'ids' }],
        ['compare without ids', { method: 'GET', path: '/api/compare' }, { ...QUERY, field: 'ids' }],
        ['PUT /api/runs', { method: 'PUT', path: '/api/runs', body: TINY_JOB }, { status: 405, code: ['method_not_allowed'] }],
        ['PATCH /api/runs/{id}', { method: 'PATCH', path: `/api/runs/${id}`, body: { status: 'done' } }, { status: 405, code: ['method_not_allowed'] }],
        ['GET /api/runs/{id}/cancel', { method: 'GET', path: `/api/runs/${id}/cancel` }, { status: 405, code: ['method_not_allowed'] }],
    ];
}

describe('validation', { timeout: 90000 }, () => {
    let dir, server, validId, limits, totalBefore;

    before(async () => {
        dir = makeTempDir('validation');
        server = await startServer({ dir, maxCores: 2, token: TOKEN, autoToken: true });
        limits = (await server.api('GET', '/api/system')).json.limits;
        validId = await server.postRun(TINY_JOB);
        await server.waitForStatus(validId, 'done', 20000);
        totalBefore = (await server.api('GET', '/api/runs')).json.total;
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('the limits the catalogue relies on', () => {
        assert.equal(limits.max_cores, 2);
        assert.equal(limits.oversubscribe_max, 8, 'oversubscribe allows 4x --max-cores');
        assert.equal(totalBefore, 1);
    });

    const cases = catalogue(2, 8);
    assert.ok(cases.length >= 30);

    for (const [name, req, want] of cases) {
        test(`${name} -> ${[].concat(want.status).join('|')} ${want.code.join('|')}`, async () => {
            const p = (req.path || '/api/runs').replace('{id}', String(validId));
            const r = await server.api(req.method || 'POST', p,
                { body: req.body, headers: req.headers, token: req.token });
            const statuses = [].concat(want.status);
            assert.ok(statuses.includes(r.status), `status ${r.status} (want ${statuses.join('|')}): ${r.text.slice(0, 300)}`);
            assert.match(r.headers.get('content-type') || '', /^application\/json/);
            const e = errorOf(r);
            assert.ok(want.code.includes(e.code), `code ${e.code} (want ${want.code.join('|')}): ${e.message}`);
            if (want.field) assert.ok(e.message.includes(want.field), `the message does not name ${want.field}: "${e.message}"`);
            assert.ok(!e.message.includes(dir) && !/\/tmp\/|\.c:\d|sqlite|SELECT |INSERT /i.test(e.message), `the message leaks internals: "${e.message}"`);
            if (r.status === 405) assert.ok(r.headers.get('allow'), '405 without Allow');
        });
    }

    test('nothing was stored by any of the bad requests', async () => {
        const list = (await server.api('GET', '/api/runs')).json;
        assert.equal(list.total, totalBefore);
        assert.deepEqual(list.runs.map((x) => x.id), [validId]);
        const m = (await server.api('GET', '/metrics')).text;
        const runs = ALL_STATUSES.map((s) => metricValue(m, 'scalelab_runs', { status: s }) || 0).reduce((a, b) => a + b, 0);
        assert.equal(runs, 1);
        const run = (await server.api('GET', `/api/runs/${validId}`)).json;
        assert.equal(run.status, 'done', 'a bad request changed the stored run');
    });
});
