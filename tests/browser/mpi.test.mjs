// mpi.test.mjs — the mpi backend in the dashboard: offered like any backend, and a run view
// that shows the launch time, the communication share and the host of every rank, naming
// communication as the cause for a wavefront (paths) on ranks; and the System view's
// topology picture (hwloc), where ranks and workers are placed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openPage, assertClean, gotoView, waitView, waitFor, screenshot, checkOnly } from './browser.mjs';

describe('mpi in the dashboard', { timeout: 120000 }, () => {
    let stack, mpi;
    before(async () => {
        stack = await startStack('mpi', { maxCores: 2 });
        const b = (await stack.server.api('GET', '/api/backends')).json;
        mpi = (Array.isArray(b) ? b : b.backends).find((x) => x.name === 'mpi');
    });
    after(async () => { if (stack) await stack.close(); });

    test('the launch form offers mpi with its availability', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url('#/'), 'launch');
            const box = page.locator('input[name="backend"][value="mpi"]');
            await box.waitFor({ state: 'attached' });
            assert.equal(await box.isDisabled(), !mpi.available, 'disabled exactly when unavailable');
            assertClean(problems);
        } finally { await context.close(); }
    });

    test('threads per rank: only with mpi, checked against the core counts, sent in the job', async (t) => {
        if (!mpi.available) return t.skip(`mpi unavailable: ${mpi.reason}`);
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url('#/'), 'launch');
            await page.selectOption('select#workload', 'pi');
            await page.fill('input[name="param-samples"]', '1000000');
            await checkOnly(page, 'backend', ['serial']);
            assert.equal(await page.locator('#threads_per_rank').isDisabled(), true, 'off without mpi');
            await checkOnly(page, 'backend', ['mpi']);
            assert.equal(await page.locator('#threads_per_rank').isDisabled(), false, 'on with mpi');
            await checkOnly(page, 'cores', ['1', '2']);
            await page.fill('#custom-cores', '');
            await page.fill('#threads_per_rank', '2');
            await page.fill('#repeats', '1');
            await page.fill('#warmup', '0');
            let posted = false;
            page.on('request', (req) => { if (req.url().endsWith('/api/runs') && req.method() === 'POST') posted = true; });
            await page.click('button#launch');
            const msg = (await page.locator('#err-threads_per_rank').innerText()).trim();
            assert.match(msg, /every core count must be a multiple of it, 1 is not/);
            assert.equal(await page.locator('#threads_per_rank').getAttribute('aria-invalid'), 'true');
            assert.equal(posted, false, 'nothing sent while the form is wrong');
            await checkOnly(page, 'cores', ['2']);
            const sent = page.waitForRequest((req) => req.url().endsWith('/api/runs') && req.method() === 'POST');
            await page.click('button#launch');
            const job = JSON.parse((await sent).postData());
            assert.equal(job.threads_per_rank, 2);
            assert.deepEqual(job.backends, ['mpi']);
            await waitView(page, 'run');
            const id = Number((await page.evaluate(() => location.hash)).split('/').pop());
            const run = await stack.server.waitForStatus(id, 'done', 60000);
            assert.equal(run.job.threads_per_rank, 2, 'the stored job has it');
            assertClean(problems);
        } finally { await context.close(); }
    });

    test('the run view shows launch, communication share and per-rank hosts', async (t) => {
        if (!mpi.available) return t.skip(`mpi unavailable: ${mpi.reason}`);
        const id = await stack.server.postRun({ workload: 'paths', params: { m: 400, n: 300 }, backends: ['serial', 'mpi'], cores: [1, 2], repeats: 2, warmup: 0 });
        const run = await stack.server.waitForStatus(id, 'done', 60000);
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await page.goto(stack.url(`#/runs/${id}`));
            await waitView(page, 'run');
            const section = page.locator('#mpi-section');
            await section.waitFor({ state: 'visible' });
            const rows = await waitFor(page, 'two rows in the MPI table', () => {
                const r = [...document.querySelectorAll('#mpi-table tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent));
                return r.length === 2 ? r : false;
            });
            const host = run.measurements.find((m) => m.backend === 'mpi').hosts[0];
            assert.equal(rows[1][0], '2');
            assert.match(rows[1][1], /^2 ranks$/);
            assert.match(rows[1][2], new RegExp(`^${host} ×2$`), 'both ranks on this host');
            assert.match(rows[1][3], /s$/, 'launch time shown');
            assert.match(rows[1][6], /%$/, 'communication share shown');
            const words = await page.locator('#mpi-section .mpi-words').innerText();
            assert.match(words, /inside MPI calls/);
            // paths on 2 ranks: a message per diagonal, little work between them
            // (the table rounds: a share shown as 50% may be 49.7%, under the words' threshold)
            const share = Number(rows[1][6].replace('%', ''));
            if (share < 50) assert.doesNotMatch(words, /^Communication limits mpi/, `${share}%: ${words}`);
            if (share > 50) assert.match(words, /^Communication limits mpi/, `${share}%: ${words}`);
            if (/^Communication limits mpi/.test(words)) {
                // and the engine's diagnosis names the same cause for mpi
                assert.match(await page.locator('#analysis-words').innerText(), /mpi: communication: .*boundary messages/);
            }
            assert.match(await page.locator('#mpi-section .mpi-hosts').innerText(), /slot/);
            // where the ranks ran: the load chart's note names their CPUs
            await page.selectOption('#point-select', 'mpi:2');
            const note = await waitFor(page, 'the load note of mpi on 2 cores', () => {
                const t = document.querySelector('#load-note').textContent;
                return /measurement #\d+/.test(t) && t;
            });
            const seq = Number(note.match(/measurement #(\d+)/)[1]);
            const cpus = run.measurements.find((m) => m.seq === seq).cpus;
            assert.match(note, new RegExp(`It ran on CPUs ${cpus.join(', ')}\\.`));
            await screenshot(page, 'run-mpi', { docsName: 'run-mpi.png' });
            assertClean(problems);
        } finally { await context.close(); }
    });

    test('the System view draws the topology: a box per CPU inside its core', async () => {
        const host = (await stack.server.api('GET', '/api/system')).json.host;
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url('#/system'), 'system');
            await page.locator('#system-topology .topo-pu').first().waitFor({ state: 'visible' });
            const pict = await page.evaluate(() => ({
                pus: document.querySelectorAll('#system-topology .topo-pu').length,
                pusInCores: document.querySelectorAll('#system-topology .topo-core .topo-pu').length,
                cores: document.querySelectorAll('#system-topology .topo-core').length,
                packages: document.querySelectorAll('#system-topology .topo-package').length,
                caches: [...document.querySelectorAll('#system-topology .topo-cache > .topo-label')].map((x) => x.textContent),
            }));
            assert.equal(pict.pus, host.threads, 'a box per hardware thread');
            assert.equal(pict.pusInCores, host.threads, 'each inside its core');
            assert.equal(pict.cores, host.cores);
            assert.equal(pict.packages, host.sockets);
            assert.ok(pict.caches.some((c) => /^L3/.test(c)) || pict.caches.some((c) => /^L2/.test(c)), `caches drawn: ${pict.caches}`);
            await screenshot(page, 'system-topology');
            assertClean(problems);
        } finally { await context.close(); }
    });

    test('runs without mpi have no MPI section', async () => {
        const id = await stack.server.postRun({ workload: 'pi', params: { samples: 1e5 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 });
        await stack.server.waitForStatus(id, 'done', 30000);
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await page.goto(stack.url(`#/runs/${id}`));
            await waitView(page, 'run');
            await waitFor(page, 'the numbers table', () => document.querySelectorAll('#numbers tbody tr').length > 0);
            assert.equal(await page.locator('#mpi-section').isVisible(), false);
            assertClean(problems);
        } finally { await context.close(); }
    });
});
