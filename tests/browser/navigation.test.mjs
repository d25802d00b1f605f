// navigation.test.mjs — deep links to a run and to a comparison, the runs list (badges,
// filters, compare selection), browser history, and the system panel.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openPage, assertClean, gotoView, waitView, waitFor, chartSummary, chartsSettled, screenshot } from './browser.mjs';

const PI_JOB = { workload: 'pi', params: { samples: 1e5 }, backends: ['serial', 'threads'], cores: [1, 2], repeats: 2, warmup: 0 };
const SUMSQ_JOB = { workload: 'sumsq', params: { n: 1e5 }, backends: ['serial', 'threads'], cores: [1, 2], repeats: 2, warmup: 0 };
// Long enough to be cancelled while queued or running.
const SLOW_JOB = { workload: 'sleep', params: { tasks: 1000, us: 100000 }, backends: ['serial'], cores: [1], repeats: 1, warmup: 0 };

describe('navigation', { timeout: 90000 }, () => {
    let stack, server, a, b, c, runA, system;

    before(async () => {
        stack = await startStack('navigation', { maxCores: 2 });
        server = stack.server;
        a = await server.postRun(PI_JOB);
        b = await server.postRun(SUMSQ_JOB);
        runA = await server.waitForStatus(a, 'done', 30000);
        await server.waitForStatus(b, 'done', 30000);
        c = await server.postRun(SLOW_JOB);
        const cancel = await server.api('POST', `/api/runs/${c}/cancel`);
        assert.equal(cancel.status, 202, cancel.text);
        await server.waitForStatus(c, 'cancelled', 10000);
        system = (await server.api('GET', '/api/system')).json;
    });
    after(async () => { if (stack) await stack.close(); });

    /* ids of the rows of table#runs-table, as numbers, sorted. */
    const rowIds = (page) => page.evaluate(() => [...document.querySelectorAll('table#runs-table tbody tr[data-run-id]')]
        .map((tr) => Number(tr.dataset.runId)).sort((x, y) => x - y));
    async function waitRows(page, want, what) {
        const key = JSON.stringify([...want].sort((x, y) => x - y));
        try {
            await waitFor(page, what, (k) => {
                const ids = [...document.querySelectorAll('table#runs-table tbody tr[data-run-id]')]
                    .map((tr) => Number(tr.dataset.runId)).sort((x, y) => x - y);
                return JSON.stringify(ids) === k;
            }, key);
        } catch (err) {
            throw new Error(`${err.message}; rows are ${JSON.stringify(await rowIds(page))}`);
        }
    }

    test('a deep link to a run shows that run with its charts', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url(`#/runs/${a}`), 'run');
            assert.ok(await page.locator('section#run-view').isVisible(), 'section#run-view hidden');
            for (const other of ['launch-view', 'runs-view', 'compare-view', 'system-view'])
                assert.ok(!(await page.locator(`section#${other}`).isVisible()), `section#${other} shown on the run view`);
            assert.match(await page.locator('#run-status').innerText(), /\bdone\b/i);
            const progress = await page.locator('progress#run-progress').evaluate((p) => [p.value, p.max]);
            assert.deepEqual(progress, [6, 6]);
            await waitFor(page, 'the time chart to have its points', () => {
                const ch = window.scalelab && window.scalelab.charts && window.scalelab.charts.time;
                return ch && ch.data.datasets.reduce((n, d) => n + d.data.length, 0) >= 3;
            });
            const charts = await chartSummary(page);
            const labels = charts.time.datasets.map((d) => d.label).sort();
            assert.deepEqual(labels, ['serial', 'threads'], 'time chart datasets');
            const n = Object.fromEntries(charts.time.datasets.map((d) => [d.label, d.points.length]));
            assert.deepEqual(n, { serial: 1, threads: 2 });
            const median = runA.analysis.points.find((p) => p.backend === 'threads' && p.cores === 2).wall_s.median;
            const shown = charts.time.datasets.find((d) => d.label === 'threads').points.find((p) => Number(p.x) === 2);
            assert.ok(shown && Math.abs(shown.y - median) <= 1e-9 * Math.max(1, median), `threads@2 shows ${shown && shown.y}, median ${median}`);
            assert.equal(await page.locator('table#numbers tbody tr').count(), 3);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('a deep link to a comparison shows both runs', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url(`#/compare?ids=${a},${b}`), 'compare');
            assert.ok(await page.locator('section#compare-view').isVisible(), 'section#compare-view hidden');
            await waitFor(page, 'the compare chart', () => window.scalelab && window.scalelab.charts && window.scalelab.charts.compare);
            const { compare } = await chartSummary(page);
            assert.equal(compare.canvasId, 'chart-compare');
            const labels = compare.datasets.map((d) => d.label);
            for (const id of [a, b]) {
                for (const backend of ['serial', 'threads'])
                    assert.ok(labels.includes(`#${id} ${backend}`), `no dataset "#${id} ${backend}" (have ${labels.join(', ')})`);
            }
            assert.ok(labels.every((l) => l.startsWith(`#${a} `) || l.startsWith(`#${b} `) || /ideal/i.test(l)),
                `a dataset of neither run: ${labels.join(', ')}`);
            const hosts = await page.locator('.compare-host').allInnerTexts();
            assert.equal(hosts.length, 2, `.compare-host elements: ${hosts.length}`);
            for (const h of hosts) assert.ok(h.includes(system.host.cpu_model), `.compare-host does not name the CPU (${system.host.cpu_model}): ${h}`);
            await chartsSettled(page);
            await screenshot(page, 'compare');
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('the runs list: badges, filters, compare selection and history', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url('#/runs'), 'runs');
            await waitRows(page, [a, b, c], 'the three runs in table#runs-table');
            for (const [id, status] of [[a, 'done'], [b, 'done'], [c, 'cancelled']]) {
                const row = page.locator(`table#runs-table tbody tr[data-run-id="${id}"]`);
                assert.equal(await row.locator(`.badge.status-${status}`).count(), 1, `run ${id}: no .badge.status-${status}`);
                assert.ok(await row.locator(`a[href="#/runs/${id}"]`).count() > 0, `run ${id}: no link to #/runs/${id} in its row`);
                assert.equal(await row.locator('button[data-action="delete"]').count(), 1, `run ${id} ended: no delete button`);
                assert.equal(await row.locator('button[data-action="cancel"]').count(), 0, `run ${id} ended: a cancel button`);
            }
            const best = await page.locator(`tr[data-run-id="${a}"] .best-speedup`).innerText();
            assert.match(best, /\d/, `best speedup of run ${a}: "${best}"`);
            await screenshot(page, 'runs');

            await page.selectOption('select#filter-status', 'cancelled');
            await waitRows(page, [c], 'only the cancelled run after filtering on cancelled');
            await page.selectOption('select#filter-status', 'done');
            await waitRows(page, [a, b], 'only the done runs after filtering on done');
            await page.selectOption('select#filter-workload', 'sumsq');
            await waitRows(page, [b], 'only the sumsq run after filtering on done and sumsq');
            await page.selectOption('select#filter-workload', '');
            await page.selectOption('select#filter-status', '');
            await waitRows(page, [a, b, c], 'every run with the filters cleared');

            await page.locator(`input[type="checkbox"][name="compare"][value="${a}"]`).check();
            await page.locator(`input[type="checkbox"][name="compare"][value="${b}"]`).check();
            await page.click('button#compare-selected');
            await waitView(page, 'compare');
            const hash = await page.evaluate(() => location.hash);
            const m = /^#\/compare\?ids=(\d+),(\d+)$/.exec(hash);
            assert.ok(m, `hash after compare: ${hash}`);
            assert.deepEqual([Number(m[1]), Number(m[2])].sort((x, y) => x - y), [a, b].sort((x, y) => x - y));
            await waitFor(page, 'the compare chart', () => window.scalelab.charts && window.scalelab.charts.compare);

            await page.goBack({ timeout: 10000 });
            await waitView(page, 'runs');
            assert.equal(await page.evaluate(() => location.hash), '#/runs');
            await page.goForward({ timeout: 10000 });
            await waitView(page, 'compare');

            await page.click('nav#nav a[href="#/system"]');
            await waitView(page, 'system');
            await page.goBack({ timeout: 10000 });
            await waitView(page, 'compare');
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('the system panel shows the host, the backends and the limits', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url('#/system'), 'system');
            assert.ok(await page.locator('section#system-view').isVisible(), 'section#system-view hidden');
            const host = await page.locator('#system-host').innerText();
            assert.ok(host.includes(system.host.cpu_model), `#system-host does not name the CPU model "${system.host.cpu_model}": ${host}`);
            const backends = await page.locator('#system-backends').innerText();
            const list = (await server.api('GET', '/api/backends')).json.backends;
            for (const be of list) assert.ok(backends.includes(be.name), `#system-backends does not list ${be.name}`);
            const limits = await page.locator('#system-limits').innerText();
            assert.ok(limits.includes(String(system.limits.max_cores)), `#system-limits lacks max_cores ${system.limits.max_cores}: ${limits}`);
            await screenshot(page, 'system');
            assertClean(problems);
        } finally {
            await context.close();
        }
    });
});
