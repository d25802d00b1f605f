// hardening-json.test.mjs — strict JSON in: one object, no key twice, nothing after it,
// bounded depth and size; each refusal names the problem.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, errorOf } from './harness.mjs';

describe('hardening: strict JSON bodies', { timeout: 60000 }, () => {
    let dir, server;
    before(async () => {
        dir = makeTempDir('hjson');
        server = await startServer({ dir });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    const refused = async (body, status, code, re, what) => {
        const r = await server.api('POST', '/api/runs', { body });
        assert.equal(r.status, status, `${what}: ${r.text.slice(0, 300)}`);
        const e = errorOf(r);
        assert.equal(e.code, code, what);
        assert.match(e.message, re, what);
    };

    test('a key given twice is refused, whichever value comes last', async () => {
        await refused('{"workload":"nope","workload":"pi"}', 400, 'bad_json', /duplicate object key.*workload/, 'workload twice');
        await refused('{"workload":"pi","repeats":100000,"repeats":1,"backends":["serial"],"cores":[1]}', 400, 'bad_json', /duplicate object key.*repeats/, 'repeats huge then small');
        await refused('{"workload":"pi","params":{"samples":1,"samples":2}}', 400, 'bad_json', /duplicate object key.*samples/, 'nested key twice');
        assert.equal((await server.api('GET', '/api/runs')).json.total, 0);
    });

    test('anything after the object is refused', async () => {
        for (const tail of [' x', '{}', ' {"workload":"pi"}', '\u0000', ',', ']']) {
            await refused(`{"workload":"pi"}${tail}`, 400, 'bad_json', /not valid JSON: end of file expected/, `tail ${JSON.stringify(tail)}`);
        }
        // Trailing white space is not garbage.
        const r = await server.api('POST', '/api/runs', { body: '{"workload":"nope"}\n \t' });
        assert.equal(r.status, 422, r.text);
    });

    test('nesting is bounded', async () => {
        const deep = (n) => '['.repeat(n) + ']'.repeat(n);
        await refused(`{"workload":"pi","x":${deep(8)}}`, 400, 'bad_json', /more than 8 deep/, 'depth 9');
        await refused(`{"workload":"pi","x":${deep(5000)}}`, 400, 'bad_json', /maximum parsing depth|more than 8 deep/, 'depth 5001');
        // Depth 8 passes the parser (the job check then names the unknown field).
        const r = await server.api('POST', '/api/runs', { body: `{"workload":"pi","x":${deep(7)}}` });
        assert.equal(r.status, 422, r.text);
    });

    test('size is bounded, and the body must be text JSON', async () => {
        await refused(`{"workload":"pi","pad":"${'x'.repeat(70000)}"}`, 413, 'too_large', /larger than 65536 bytes/, 'over 64 KiB');
        await refused(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 400, 'bad_json', /not valid JSON/, 'invalid UTF-8');
        await refused('', 400, 'bad_json', /JSON object/, 'empty');
        await refused('[]', 400, 'bad_json', /JSON object/, 'an array');
    });
});
