// fields.test.mjs — a refused job says which field it concerns ("error.field"), so that a
// form can show the message next to that field without parsing the sentence.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeTempDir, removeDir, errorOf } from './harness.mjs';

describe('error fields', { timeout: 60000 }, () => {
    let dir, server;
    before(async () => {
        dir = makeTempDir('fields');
        server = await startServer({ dir, maxCores: 2 });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    const cases = [
        [{ workload: 'nope' }, 'workload'],
        [{ workload: 'pi', params: { samples: 0 } }, 'params.samples'],
        [{ workload: 'pi', backends: ['gpu'] }, 'backends'],
        [{ workload: 'pi', cores: [64] }, 'cores'],
        [{ workload: 'pi', repeats: 1001 }, 'repeats'],
        [{ workload: 'pi', variant: 'fast' }, 'variant'],
    ];
    for (const [job, field] of cases) {
        test(`${JSON.stringify(job)} -> field ${field}`, async () => {
            const r = await server.api('POST', '/api/runs', { body: job });
            assert.equal(r.status, 422, r.text);
            assert.equal(errorOf(r).field, field, r.text);
        });
    }

    test('errors that concern no job field carry none', async () => {
        const r = await server.api('GET', '/api/runs/999999');
        assert.equal(r.status, 404);
        assert.equal(errorOf(r).field, undefined);
    });

    test('nothing was stored', async () => {
        assert.equal((await server.api('GET', '/api/runs')).json.total, 0);
    });
});
