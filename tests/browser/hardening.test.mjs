// hardening.test.mjs — in a real Chromium: the dashboard's own cancel and delete still work
// against the cross-site checks (it sends Content-Type application/json and its own
// Origin), while a page of another site cannot queue a run (form, no-cors fetch,
// sendBeacon) and a DNS-rebinding name mapped to the server gets nothing (421).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { startStack, openPage, assertClean, gotoView, waitFor, CHROMIUM } from './browser.mjs';
import { waitUntil } from '../api/harness.mjs';

const SLOW_JOB = { workload: 'sleep', params: { tasks: 1000, us: 100000 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 };
const TINY_JOB = { workload: 'pi', params: { samples: 1e5 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 };

describe('hardening in the browser', { timeout: 120000 }, () => {
    let stack, server, evil, evilPort, rebinder;

    before(async () => {
        stack = await startStack('hardening', { maxCores: 2 });
        server = stack.server;
        // Another site: a page that tries every cross-site request a browser lets it make
        // without a CORS preflight.
        const target = `http://127.0.0.1:${server.port}`;
        const job = JSON.stringify(TINY_JOB);
        const page = `<!doctype html><title>evil</title>
<form id="f" method="POST" action="${target}/api/runs" enctype="text/plain" target="sink">
<input name='${job.slice(0, -1)},"x":"' value='"}'></form><iframe name="sink"></iframe>
<script>
window.attempts = (async () => {
  const out = [];
  out.push(navigator.sendBeacon('${target}/api/runs', new Blob([${JSON.stringify(job)}], { type: 'text/plain' })));
  try { await fetch('${target}/api/runs', { method: 'POST', mode: 'no-cors', body: ${JSON.stringify(job)} }); out.push('no-cors sent'); } catch (e) { out.push('no-cors ' + e.message); }
  try { await fetch('${target}/api/runs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: ${JSON.stringify(job)} }); out.push('cors read'); } catch (e) { out.push('cors blocked'); }
  try { await fetch('${target}/api/runs/1/cancel', { method: 'POST', mode: 'no-cors' }); out.push('cancel sent'); } catch (e) { out.push('cancel ' + e.message); }
  document.getElementById('f').submit();
  out.push('form submitted');
  return out;
})();
</script>`;
        evil = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); });
        await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
        evilPort = evil.address().port;
        // A browser whose DNS sends *.evil.test to 127.0.0.1, as a rebinding attack would.
        rebinder = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP *.evil.test 127.0.0.1'] });
    });
    after(async () => {
        if (rebinder) await rebinder.close();
        if (evil) evil.close();
        if (stack) await stack.close();
    });

    test('the dashboard cancels and deletes a run', async () => {
        const id = await server.postRun(SLOW_JOB);
        await server.waitForStatus(id, 'running', 10000);
        const { page, problems, context } = await openPage(stack.browser);
        try {
            const sent = [];
            page.on('request', (r) => { if (r.method() !== 'GET') sent.push({ method: r.method(), headers: r.headers() }); });
            page.on('dialog', (d) => d.accept());
            await gotoView(page, stack.url('#/runs'), 'runs');
            await page.click(`button[data-action="cancel"][data-id="${id}"]`);
            await server.waitForStatus(id, 'cancelled', 10000);
            await waitFor(page, 'the delete button of the cancelled run', (i) => !!document.querySelector(`button[data-action="delete"][data-id="${i}"]`), id);
            await page.click(`button[data-action="delete"][data-id="${id}"]`);
            await waitUntil(async () => (await server.api('GET', `/api/runs/${id}`)).status === 404, { what: 'the run deleted' });
            assert.deepEqual(sent.map((s) => s.method), ['POST', 'DELETE']);
            for (const s of sent) assert.match(s.headers['content-type'] || '', /^application\/json/, `${s.method} without the JSON Content-Type`);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('a page of another site cannot queue or cancel a run', async () => {
        const before = (await server.api('GET', '/api/runs')).json.total;
        const { page, context } = await openPage(stack.browser, { allowConsole: [/.*/] });
        try {
            await page.goto(`http://localhost:${evilPort}/`);
            const attempts = await page.evaluate(() => window.attempts);
            assert.ok(attempts.includes('form submitted'), JSON.stringify(attempts));
            await page.waitForTimeout(1000); // let the form post and the beacon land
        } finally {
            await context.close();
        }
        assert.equal((await server.api('GET', '/api/runs')).json.total, before, 'a cross-site request queued a run');
        const m = (await server.api('GET', '/metrics')).text;
        assert.match(m, /route="\/api\/runs",code="(415|403)"/, 'the cross-site requests never reached the server');
    });

    test('a DNS-rebinding name gets 421 for the page and the API', async () => {
        const context = await rebinder.newContext();
        try {
            const page = await context.newPage();
            for (const p of ['/', '/api/runs', '/api/health']) {
                const res = await page.goto(`http://rebind.evil.test:${server.port}${p}`);
                assert.equal(res.status(), 421, `${p}: ${res.status()}`);
                assert.match(await res.text(), /wrong_host/);
            }
            // The same browser under the server's own address is served.
            const ok = await page.goto(`http://127.0.0.1:${server.port}/api/health`);
            assert.equal(ok.status(), 200);
        } finally {
            await context.close();
        }
    });
});
