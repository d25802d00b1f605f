// launch.test.mjs — a run launched from the form, followed live to its end: progress, the
// charts' data, the numbers table, the analysis, the export links and a PNG download.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
    startStack, openPage, assertClean, gotoView, waitView, waitFor, chartSummary, chartsSettled,
    screenshot, checkOnly,
} from './browser.mjs';

const SAMPLES = 1e6;
// serial runs one point (1 core), threads one per core count: 3 points x 2 repeats.
const PLANNED = 6;

describe('launch a run from the form', { timeout: 90000 }, () => {
    let stack;
    before(async () => { stack = await startStack('launch', { maxCores: 2 }); });
    after(async () => { if (stack) await stack.close(); });

    test('the form launches a run, whose view follows it to the end', { timeout: 80000 }, async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url('#/'), 'launch');
            assert.ok(await page.locator('section#launch-view').isVisible(), 'section#launch-view hidden on #/');

            await page.selectOption('select#workload', 'pi');
            const samples = page.locator('input[name="param-samples"]');
            await samples.waitFor({ state: 'visible' });
            assert.ok((await page.locator('#workload-lesson').innerText()).trim().length > 0, '#workload-lesson is empty');

            await checkOnly(page, 'backend', ['serial', 'threads']);
            await checkOnly(page, 'cores', ['1', '2']);
            await page.fill('#custom-cores', '');
            await page.locator('#oversubscribe').setChecked(false);
            await page.fill('#repeats', '2');
            await page.fill('#warmup', '0');

            // The estimate follows the form: a million times more samples is not the same
            // duration.
            const estimate = page.locator('#estimate');
            await samples.fill('1e12');
            const huge = await waitFor(page, '#estimate to show text', () => {
                const t = document.querySelector('#estimate');
                return t && t.textContent.trim();
            });
            await samples.fill(String(SAMPLES));
            const small = await waitFor(page, '#estimate to change after the sample count did',
                (before) => {
                    const t = document.querySelector('#estimate').textContent.trim();
                    return t && t !== before ? t : false;
                }, huge);
            assert.notEqual(small, huge);
            assert.ok((await estimate.innerText()).trim().length > 0);
            await page.evaluate(() => document.activeElement && document.activeElement.blur());
            await screenshot(page, 'launch', { docsName: 'launch-view.png' });

            await page.click('button#launch');
            const hash = await waitFor(page, 'the hash to become #/runs/{id}',
                () => /^#\/runs\/\d+$/.test(location.hash) && location.hash);
            const id = Number(hash.slice('#/runs/'.length));

            // What the form sent is what was filled in.
            const stored = await stack.server.api('GET', `/api/runs/${id}`);
            assert.equal(stored.status, 200, stored.text);
            const job = stored.json.job;
            assert.equal(stored.json.workload, 'pi');
            assert.equal(job.params.samples, SAMPLES);
            assert.deepEqual([...job.backends].sort(), ['serial', 'threads']);
            assert.deepEqual([...job.cores].sort((a, b) => a - b), [1, 2]);
            assert.equal(job.repeats, 2);
            assert.equal(job.warmup, 0);
            assert.equal(job.oversubscribe, false);

            await waitFor(page, '#run-status to say done', () => {
                const s = document.querySelector('#run-status');
                return s && /\bdone\b/i.test(s.textContent);
            }, undefined, 60000);
            await waitView(page, 'run');
            await waitFor(page, `progress#run-progress at ${PLANNED} / ${PLANNED}`, (n) => {
                const p = document.querySelector('progress#run-progress');
                return p && p.value === n && p.max === n;
            }, PLANNED);
            assert.match(await page.locator('#run-progress-text').innerText(), new RegExp(`\\b${PLANNED}\\s*/\\s*${PLANNED}\\b`));
            assert.ok(await page.locator('section#run-view').isVisible(), 'section#run-view hidden');
            assert.ok(!(await page.locator('section#launch-view').isVisible()), 'section#launch-view still shown on the run view');

            // The charts end up with every point (they re-render as measurements arrive).
            await waitFor(page, 'the time chart to hold serial 1 point and threads 2', () => {
                const c = window.scalelab && window.scalelab.charts && window.scalelab.charts.time;
                if (!c) return false;
                const n = (label) => (c.data.datasets.find((d) => d.label === label) || { data: [] }).data.length;
                return n('serial') === 1 && n('threads') === 2;
            });
            const run = (await stack.server.api('GET', `/api/runs/${id}`)).json;
            const point = (backend, cores) => run.analysis.points.find((p) => p.backend === backend && p.cores === cores);
            const charts = await chartSummary(page);
            const byLabel = (chart, label) => {
                const found = chart.datasets.filter((d) => d.label === label);
                assert.equal(found.length, 1, `one dataset labelled ${label}: have ${chart.datasets.map((d) => d.label).join(', ')}`);
                return found[0];
            };
            const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} != ${b}`);

            for (const name of ['time', 'speedup', 'efficiency', 'rate', 'load', 'phases'])
                assert.ok(charts[name], `window.scalelab.charts.${name} missing (have ${Object.keys(charts).join(', ')})`);
            assert.equal(charts.time.canvasId, 'chart-time');
            assert.equal(charts.speedup.canvasId, 'chart-speedup');
            assert.equal(charts.efficiency.canvasId, 'chart-efficiency');
            assert.equal(charts.load.canvasId, 'chart-load');
            assert.equal(charts.phases.canvasId, 'chart-phases');

            // time: {x: cores, y: median, yMin: ci_lo, yMax: ci_hi} per point.
            for (const [backend, cores] of [['serial', [1]], ['threads', [1, 2]]]) {
                const ds = byLabel(charts.time, backend);
                assert.deepEqual(ds.points.map((p) => Number(p.x)), cores, `time chart ${backend} x values`);
                for (const p of ds.points) {
                    const a = point(backend, Number(p.x));
                    near(p.y, a.wall_s.median, `time ${backend}@${p.x} median`);
                    near(p.yMin, a.wall_s.ci_lo, `time ${backend}@${p.x} yMin`);
                    near(p.yMax, a.wall_s.ci_hi, `time ${backend}@${p.x} yMax`);
                }
            }

            // speedup: the threads points, and the ideal line y = x through (1, 1).
            const ideal = byLabel(charts.speedup, 'ideal');
            assert.ok(ideal.points.some((p) => Number(p.x) === 1 && p.y === 1), `ideal has no (1,1): ${JSON.stringify(ideal.points)}`);
            for (const p of ideal.points) assert.equal(p.y, Number(p.x), `ideal is y = x: ${JSON.stringify(p)}`);
            const tSpeed = byLabel(charts.speedup, 'threads');
            assert.deepEqual(tSpeed.points.map((p) => Number(p.x)), [1, 2]);
            // The parallel gain: against the point's baseline (one core of the same kernel); a
            // server without baselines: against the backend's own 1 core, never against serial.
            const parallel = (a) => (typeof a.baseline === 'string' ? a.speedup : a.speedup_self);
            for (const p of tSpeed.points) near(p.y, parallel(point('threads', Number(p.x))), `speedup threads@${p.x}`);
            assert.ok(Math.abs(tSpeed.points[0].y - 1) < 1e-9 || typeof point('threads', 1).baseline === 'string',
                `threads at 1 core sits at ${tSpeed.points[0].y}x, not 1x`);

            const tEff = byLabel(charts.efficiency, 'threads');
            assert.deepEqual(tEff.points.map((p) => Number(p.x)), [1, 2]);

            assert.equal(await page.locator('table#numbers tbody tr').count(), 3, 'table#numbers rows');
            const words = (await page.locator('#analysis-words').innerText()).trim();
            assert.ok(words.length > 0, '#analysis-words is empty');
            assert.match(words, /threads/, `#analysis-words does not mention threads: ${words}`);

            const href = async (sel) => page.locator(sel).evaluate((a) => a.href);
            assert.equal(await href('a#export-csv'), new URL(`/api/runs/${id}/export?format=csv`, stack.server.url).href);
            assert.equal(await href('a#export-json'), new URL(`/api/runs/${id}/export?format=json`, stack.server.url).href);

            await chartsSettled(page);
            await screenshot(page, 'run', { docsName: 'run-view.png' });

            // A chart's PNG button downloads a PNG.
            const button = page.locator('button[data-png="speedup"]');
            const [download] = await Promise.all([
                page.waitForEvent('download', { timeout: 10000 }),
                button.click(),
            ]);
            assert.match(download.suggestedFilename(), /\.png$/, `download named ${download.suggestedFilename()}`);
            const file = await download.path();
            const head = fs.readFileSync(file).subarray(0, 8);
            assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'the download is not a PNG');
            assert.ok(fs.statSync(file).size > 1000, `PNG of ${fs.statSync(file).size} bytes: an empty canvas?`);

            assertClean(problems);
        } finally {
            await context.close();
        }
    });
});
