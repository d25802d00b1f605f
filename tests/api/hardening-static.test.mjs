// hardening-static.test.mjs — static files come from static/ only: a symlink placed in it
// that leads outside is refused like a ".." path; one that stays inside is served.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, makeTempDir, removeDir, errorOf, rawRequest } from './harness.mjs';

describe('hardening: static files and symlinks', { timeout: 30000 }, () => {
    let dir, server, staticDir;
    const SECRET = `outside-secret-${process.pid}`;
    before(async () => {
        dir = makeTempDir('hstatic');
        staticDir = path.join(dir, 'static');
        fs.mkdirSync(path.join(staticDir, 'sub'), { recursive: true });
        fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>in</title>\n');
        fs.writeFileSync(path.join(staticDir, 'sub', 'inside.txt'), 'inside\n');
        const outside = path.join(dir, 'outside');
        fs.mkdirSync(outside);
        fs.writeFileSync(path.join(outside, 'secret.txt'), SECRET);
        fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(staticDir, 'link-file.txt'));
        fs.symlinkSync(outside, path.join(staticDir, 'link-dir'));
        fs.symlinkSync('../outside/secret.txt', path.join(staticDir, 'sub', 'rel.txt'));
        fs.symlinkSync('/etc/passwd', path.join(staticDir, 'passwd.txt'));
        fs.symlinkSync(path.join(staticDir, 'sub', 'inside.txt'), path.join(staticDir, 'ok-link.txt'));
        // A sibling whose name starts with the root's: /x/static-evil is not under /x/static.
        fs.mkdirSync(`${staticDir}-evil`);
        fs.writeFileSync(`${staticDir}-evil/secret.txt`, SECRET);
        fs.symlinkSync(`${staticDir}-evil/secret.txt`, path.join(staticDir, 'prefix.txt'));
        server = await startServer({ dir, staticDir });
    });
    after(async () => {
        if (server) await server.stop();
        removeDir(dir);
    });

    test('a symlink out of static/ is a 404, whatever its form', async () => {
        for (const p of ['/link-file.txt', '/link-dir/secret.txt', '/sub/rel.txt', '/passwd.txt', '/prefix.txt',
            '/sub/../link-file.txt', '/%2e%2e/outside/secret.txt']) {
            const r = await rawRequest(server.port, 'GET', p);
            assert.equal(r.status, 404, `${p}: ${r.status} ${r.text.slice(0, 100)}`);
            assert.equal(errorOf(r).code, 'not_found');
            assert.ok(!r.text.includes(SECRET) && !r.text.includes('root:'), `${p} leaked the file`);
        }
    });

    test('a symlink that stays inside static/ is served', async () => {
        const r = await rawRequest(server.port, 'GET', '/ok-link.txt');
        assert.equal(r.status, 200);
        assert.equal(r.text, 'inside\n');
    });
});
