// charts.test.mjs — the run view's charts say what the analysis says: the parallel speedup
// against its named baseline (the total gain vs serial only as its own view), readable log
// ticks on any range, the CI's real level, the host's physical cores, the calibrated
// bandwidth as a limit line, noisy points marked; and a run from an older server (no
// baselines, median runs or diagnoses) is drawn honestly and says what it lacks.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startStack, openPage, assertClean, gotoView, waitFor, chartSummary, chartsSettled, screenshot } from './browser.mjs';
import { ENGINE, makeTempDir, removeDir } from '../api/harness.mjs';

const JOB = { workload: 'sumsq', params: { n: 2e6 }, backends: ['serial', 'simd', 'threads'], cores: [1, 2], repeats: 3, warmup: 1 };
// A calibration of this host, made up so that the limit line's values are known.
const CALIB = { threads: 2, array_bytes: 268435456, read_gbs_1: 21.5, read_gbs_all: 33.5, triad_gbs_1: 20, triad_gbs_all: 30, gflops_1: 50, gflops_all: 100, when: 1796229511, host: 'test' };

const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} != ${b}`);

/* Serve GET /api/runs/{id} through edit(run) (a run as an older server, or with a noisy point). */
async function rewriteRun(page, id, edit) {
    await page.route(`**/api/runs/${id}`, async (route) => {
        const res = await route.fetch();
        const run = await res.json();
        edit(run);
        await route.fulfill({ response: res, json: run });
    });
}

describe('charts that agree with the analysis', { timeout: 120000 }, () => {
    let stack, dir, id, run;
    before(async () => {
        dir = makeTempDir('browser-charts');
        const host = JSON.parse(execFileSync(ENGINE, ['info', '--json'], { encoding: 'utf8' }));
        const file = path.join(dir, 'calibration.json');
        fs.writeFileSync(file, JSON.stringify({ ...CALIB, cpu_model: host.cpu_model }));
        stack = await startStack('charts', { maxCores: 2, env: { SCALELAB_CALIBRATION: file } });
        id = await stack.server.postRun(JOB);
        run = (await stack.server.waitForStatus(id, 'done', 60000));
        run = (await stack.server.api('GET', `/api/runs/${id}`)).json;
    });
    after(async () => {
        if (stack) await stack.close();
        removeDir(dir);
    });

    test('parallel speedup with its baseline; serial gain as its own view; limits and CI level', async () => {
        const { page, problems, context } = await openPage(stack.browser, { viewport: { width: 1440, height: 900 } });
        try {
            await gotoView(page, stack.url(`#/runs/${id}`), 'run');
            await waitFor(page, 'the charts', () => window.scalelab.charts.speedup && window.scalelab.charts.rate);
            const a = run.analysis;
            const point = (b, c) => a.points.find((p) => p.backend === b && p.cores === c);
            let charts = await chartSummary(page);
            const ds = (chart, label) => chart.datasets.find((d) => d.label === label);

            // Parallel gain against the ideal line, the baseline named in the caption.
            assert.equal(point('threads', 2).baseline, 'simd, 1 core');
            for (const p of ds(charts.speedup, 'threads').points) near(p.y, point('threads', p.x).speedup, `speedup threads@${p.x}`);
            assert.ok(ds(charts.speedup, 'ideal'), 'no ideal line');
            assert.match(await page.locator('#speedup-caption').innerText(), /Parallel speedup vs simd, 1 core/);
            // Two core counts: no model is drawn or stated.
            assert.ok(!charts.speedup.datasets.some((d) => / model$/.test(d.label)), 'a model drawn from two core counts');
            assert.doesNotMatch(await page.locator('#analysis-words').innerText(), /serial fraction/);

            // The total gain vs serial is another view, never against y = x.
            await page.selectOption('#speedup-view', 'serial');
            charts = await chartSummary(page);
            for (const p of ds(charts.speedup, 'threads').points) near(p.y, point('threads', p.x).speedup_serial, `gain vs serial threads@${p.x}`);
            assert.ok(!ds(charts.speedup, 'ideal'), 'the serial view draws the ideal line');
            assert.match(await page.locator('#speedup-caption').innerText(), /vectorisation included/);
            await page.selectOption('#speedup-view', 'parallel');

            // The CI's real level (3 repeats: 75%, not 95%) in the caption and the table.
            const level = `${Math.round(a.ci_level_min * 100)}% CI`;
            assert.equal(a.ci_level_min, 0.75);
            assert.match(await page.locator('#time-caption').innerText(), new RegExp(level));
            assert.match(await page.locator('#numbers-ci').innerText(), new RegExp(level));

            // The host's physical cores on the time, speedup and efficiency charts.
            const marks = await page.evaluate(() => Object.fromEntries(['time', 'speedup', 'efficiency']
                .map((n) => [n, window.scalelab.charts[n].options.plugins.scalelabMarks.x.map((m) => m.value)])));
            for (const n of ['time', 'speedup', 'efficiency']) assert.deepEqual(marks[n], [run.host.cores], `${n} marks`);

            // The calibrated bandwidth as a limit line on the throughput chart: measured at 1 and 2 threads.
            assert.equal(a.calibration.read_gbs_1, CALIB.read_gbs_1, 'the run was not compared with the calibration');
            const limit = ds(charts.rate, 'calibrated bandwidth');
            assert.ok(limit, `no limit line: ${charts.rate.datasets.map((d) => d.label)}`);
            assert.deepEqual(limit.points.map((p) => [p.x, p.y]), [[1, CALIB.read_gbs_1], [2, CALIB.read_gbs_all]]);
            for (const p of ds(charts.rate, 'threads').points) near(p.y, point('threads', p.x).gbs, `GB/s threads@${p.x}`);
            assert.match(await page.locator('#rate-caption').innerText(), /calibrated read bandwidth/);

            // Cores kept busy = cpu_util x cores, against "all cores busy"; no memory chart for
            // built-in backends (the engine's peak is a high-water mark of the whole sweep).
            for (const b of ['serial', 'threads'])
                for (const p of ds(charts.cpu, b).points) near(p.y, point(b, p.x).cpu_util * p.x, `cores busy ${b}@${p.x}`);
            assert.deepEqual(ds(charts.cpu, 'all cores busy').points.filter((p) => Number.isInteger(p.x)).map((p) => p.y),
                ds(charts.cpu, 'all cores busy').points.filter((p) => Number.isInteger(p.x)).map((p) => p.x));
            assert.equal(await page.locator('#memory-figure').isVisible(), false, 'memory chart for a built-in run');
            assert.equal(charts.memory, undefined);

            // Log ticks: every tick labelled, in s/ms/µs, at least two, on this range and narrow ones.
            const labels = await page.evaluate(() => window.scalelab.charts.time.scales.y.ticks.map((t) => t.label));
            assert.ok(labels.length >= 2 && labels.every((l) => /^[\d.]+ (s|ms|µs|ns)$/.test(l)), `time ticks: ${JSON.stringify(labels)}`);
            const narrow = await page.evaluate(async () => {
                const { logTicks } = await import('/js/charts.js');
                return [[0.0102, 0.0118], [0.0101, 0.0102], [2.1e-6, 9e-6], [0.004, 0.6]].map(([lo, hi]) => logTicks(lo, hi));
            });
            for (const ticks of narrow) assert.ok(ticks.length >= 2, `too few ticks: ${JSON.stringify(narrow)}`);

            // Nothing cut: the numbers table fits its box at 1440 and 1280 px.
            for (const width of [1440, 1280]) {
                await page.setViewportSize({ width, height: 900 });
                const table = await page.evaluate(() => {
                    const w = document.querySelector('#numbers').parentElement;
                    return { scroll: w.scrollWidth, client: w.clientWidth };
                });
                assert.ok(table.scroll <= table.client, `the numbers table scrolls sideways at ${width} px: ${JSON.stringify(table)}`);
                await chartsSettled(page);
                await screenshot(page, 'run', { suffix: '-calibrated' });
            }
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('while a run goes, the bar and the words count the same measurements', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            // 40 measurements of 40-80 ms: live for two to three seconds.
            const live = await stack.server.postRun({ workload: 'sleep', params: { tasks: 4, us: 20000 }, backends: ['threads'], cores: [1, 2], repeats: 20, warmup: 0 });
            await gotoView(page, stack.url(`#/runs/${live}`), 'run');
            const seen = [];
            for (let i = 0; i < 200; i++) {
                const s = await page.evaluate(() => ({
                    bar: document.querySelector('#run-progress-text').textContent,
                    value: document.querySelector('#run-progress').value,
                    words: document.querySelector('#analysis-words').textContent,
                    status: document.querySelector('#run-status').textContent,
                }));
                const m = /cover the (\d+) measurements/.exec(s.words);
                if (m) {
                    seen.push(`${s.bar} / ${m[1]}`);
                    assert.equal(Number(s.bar.split(' / ')[0]), Number(m[1]), `the bar says ${s.bar}, the words ${m[0]}`);
                    assert.equal(s.value, Number(m[1]));
                }
                if (/done/.test(s.status)) break;
                await new Promise((r) => setTimeout(r, 25));
            }
            assert.ok(seen.length > 0, 'the run was never seen live');
            await stack.server.waitForStatus(live, 'done', 30000);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('a noisy point and unverified runs are flagged on the chart and in words', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await rewriteRun(page, id, (r) => {
                for (const p of r.analysis.points) {
                    const chosen = p.backend === 'threads' && p.cores === 2;
                    p.noisy = chosen;
                    p.noise = chosen ? 'CV 31%' : null;
                    if (chosen) Object.assign(p, { verified: p.runs - 2, excluded: 2 });
                }
                r.analysis.excluded_unverified = 2;
            });
            await gotoView(page, stack.url(`#/runs/${id}`), 'run');
            await waitFor(page, 'the time chart', () => window.scalelab.charts.time);
            const style = await page.evaluate(() => {
                const chart = window.scalelab.charts.time;
                const i = chart.data.datasets.findIndex((d) => d.label === 'threads');
                return chart.getDatasetMeta(i).data.map((el) => el.options.pointStyle);
            });
            assert.deepEqual(style, ['circle', 'triangle'], 'the noisy point is not marked');
            assert.match(await page.locator('#analysis-words').innerText(), /Noisy: threads at 2 cores \(CV 31%\)/);
            assert.match(await page.locator('#numbers tbody').innerText(), /noisy \(CV 31%\)/);
            // Unverified runs are counted where the user reads, and said to be left out.
            const runs = run.analysis.points.reduce((n, p) => n + p.runs, 0);
            assert.match(await page.locator('#analysis-words').innerText(), new RegExp(`2 of ${runs} timed results did not verify and are left out of every figure`));
            assert.match(await page.locator('#numbers tbody tr:last-child td:last-child').innerText(), /^1\/3$/);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('a model is drawn and stated only when the analysis trusts its fit', async () => {
        const fit = { a: 1e-4, b: 1e-3, c: 0, serial_fraction: 0.09, best_cores: null, best_speedup: 11 };
        for (const trusted of [true, false]) {
            const { page, problems, context } = await openPage(stack.browser);
            try {
                await rewriteRun(page, id, (r) => {
                    const b = r.analysis.backends.find((x) => x.backend === 'threads');
                    b.fit = { ...fit, trusted, worst_miss: trusted ? null : { cores: 2, predicted_s: 6e-4, median_s: 9e-4 } };
                    b.fit_missing = null;
                });
                await gotoView(page, stack.url(`#/runs/${id}`), 'run');
                await waitFor(page, 'the speedup chart', () => window.scalelab.charts.speedup);
                const labels = (await chartSummary(page)).speedup.datasets.map((d) => d.label);
                const words = await page.locator('#analysis-words').innerText();
                if (trusted) {
                    assert.ok(labels.includes('threads model'), `no model drawn: ${labels}`);
                    assert.match(words, /threads: (best speedup [^;]*; )?model T\(p\) = a \+ b\/p fits every point within its CI: serial fraction 9%/);
                } else {
                    assert.ok(!labels.includes('threads model'), 'an untrusted model is drawn');
                    assert.doesNotMatch(words, /serial fraction/);
                    assert.match(words, /no model stated: the fit predicts 600 µs at 2 cores where 900 µs was measured/);
                }
                assertClean(problems);
            } finally {
                await context.close();
            }
        }
    });

    test('a run from an older server: own-1-core speedups, per-phase medians, no invented diagnosis', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await rewriteRun(page, id, (r) => {
                const a = r.analysis;
                for (const k of ['ci_level_min', 'excluded_unverified', 'calibration', 'vectorisation']) delete a[k];
                for (const p of a.points) {
                    p.speedup = p.speedup_serial; // what `speedup` meant then: against serial
                    for (const k of ['baseline', 'speedup_serial', 'median_run', 'noisy', 'noise', 'excluded', 'barrier_s']) delete p[k];
                }
                for (const b of a.backends) for (const k of ['diagnosis', 'fit_missing', 'best_baseline']) delete b[k];
                Object.assign(a.backends.find((b) => b.backend === 'threads'), { best_cores_measured: 2, best_speedup_measured: 3.1 });
            });
            await gotoView(page, stack.url(`#/runs/${id}`), 'run');
            await waitFor(page, 'the charts', () => window.scalelab.charts.speedup && window.scalelab.charts.phases);
            const charts = await chartSummary(page);
            const threads = charts.speedup.datasets.find((d) => d.label === 'threads');
            const own = run.analysis.points.filter((p) => p.backend === 'threads').map((p) => p.speedup_self);
            assert.deepEqual(threads.points.map((p) => p.y), own, 'an older run is drawn against serial on the ideal line');
            assert.match(await page.locator('#speedup-caption').innerText(), /each backend's own 1 core/);
            assert.match(await page.locator('#phases-caption').innerText(), /per-phase medians .*need not add up/);
            assert.deepEqual(charts.phases.datasets.map((d) => d.label), ['spawn', 'compute', 'combine']);
            const words = await page.locator('#analysis-words').innerText();
            assert.match(words, /gives no diagnosis/);
            assert.doesNotMatch(words, /memory-bound|serial fraction|bandwidth/);
            assert.match(words, /threads: best speedup 3\.1× at 2 cores \(vs serial, vectorisation included\)/);
            // The bars and the note still come from one run: the median measurement here.
            const note = await page.locator('#load-note').innerText();
            assert.match(note, /The median run \(measurement #\d+/);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });
});
