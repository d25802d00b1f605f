// layout.test.mjs — the page on a phone (no horizontal scrolling), in light and dark, and
// with the keyboard alone.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    startStack, openPage, assertClean, gotoView, waitFor, chartsSettled, screenshot,
    assertNoHorizontalScroll, PHONE, DESKTOP,
} from './browser.mjs';

const PI_JOB = { workload: 'pi', params: { samples: 1e5 }, backends: ['serial', 'threads'], cores: [1, 2], repeats: 2, warmup: 0 };

/* The colour the body is painted on: its own background, else the root's. */
const backdrop = (page) => page.evaluate(() => {
    const transparent = (c) => c === 'transparent' || /^rgba\(.*,\s*0\)$/.test(c);
    const body = getComputedStyle(document.body).backgroundColor;
    if (!transparent(body)) return body;
    const root = getComputedStyle(document.documentElement).backgroundColor;
    return transparent(root) ? 'canvas default' : root;
});

describe('layout', { timeout: 90000 }, () => {
    let stack, runId;
    before(async () => {
        stack = await startStack('layout', { maxCores: 2 });
        runId = await stack.server.postRun(PI_JOB);
        await stack.server.waitForStatus(runId, 'done', 30000);
    });
    after(async () => { if (stack) await stack.close(); });

    test('a phone (390x844): no horizontal scrolling on the launch and run views', async () => {
        const { page, problems, context } = await openPage(stack.browser, { viewport: PHONE });
        try {
            await gotoView(page, stack.url('#/'), 'launch');
            await screenshot(page, 'launch');
            await assertNoHorizontalScroll(page, 'launch view at 390x844');

            await gotoView(page, stack.url(`#/runs/${runId}`), 'run');
            await waitFor(page, 'the run view\'s time chart', () => window.scalelab && window.scalelab.charts && window.scalelab.charts.time);
            await chartsSettled(page);
            await screenshot(page, 'run');
            await assertNoHorizontalScroll(page, 'run view at 390x844');
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('dark follows prefers-color-scheme', async () => {
        const light = await openPage(stack.browser, { colorScheme: 'light' });
        const dark = await openPage(stack.browser, { colorScheme: 'dark' });
        try {
            await gotoView(light.page, stack.url('#/'), 'launch');
            await gotoView(dark.page, stack.url('#/'), 'launch');
            const [l, d] = [await backdrop(light.page), await backdrop(dark.page)];
            assert.notEqual(d, l, `the background is ${l} in light and in dark`);
            const [lc, dc] = await Promise.all([light.page, dark.page].map((p) => p.evaluate(() => getComputedStyle(document.body).color)));
            assert.notEqual(dc, lc, `the text colour is ${lc} in light and in dark`);
            await screenshot(dark.page, 'launch', { suffix: '-dark' });

            await gotoView(dark.page, stack.url(`#/runs/${runId}`), 'run');
            await waitFor(dark.page, 'the run view\'s time chart', () => window.scalelab && window.scalelab.charts && window.scalelab.charts.time);
            await chartsSettled(dark.page);
            await screenshot(dark.page, 'run', { suffix: '-dark' });
            assertClean(light.problems);
            assertClean(dark.problems);
        } finally {
            await light.context.close();
            await dark.context.close();
        }
    });

    test('every control of the launch view is reachable with Tab, with a visible focus', async () => {
        const { page, problems, context } = await openPage(stack.browser, { viewport: DESKTOP });
        try {
            await gotoView(page, stack.url('#/'), 'launch');
            // The controls a person uses: shown and enabled.
            const controls = await page.evaluate(() => {
                const shown = (el) => {
                    const r = el.getBoundingClientRect();
                    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
                };
                const all = [...document.querySelectorAll('section#launch-view :is(input, select, button, textarea, a[href])')]
                    .filter((el) => shown(el) && !el.disabled && el.type !== 'hidden');
                all.forEach((el, i) => { el.dataset.tabProbe = String(i); });
                window.__focused = new Set();
                document.addEventListener('focusin', (e) => {
                    if (e.target.dataset && e.target.dataset.tabProbe) window.__focused.add(e.target.dataset.tabProbe);
                });
                return all.map((el) => el.id || `${el.tagName.toLowerCase()}[name=${el.name}][value=${el.value}]`);
            });
            assert.ok(controls.length >= 10, `only ${controls.length} controls on the launch view: ${controls.join(', ')}`);
            const presses = await page.evaluate(() => document.querySelectorAll('input, select, button, textarea, a[href], [tabindex]').length + 5);

            let workloadFocus = null;
            for (let i = 0; i < presses; i++) {
                await page.keyboard.press('Tab');
                if (!workloadFocus && await page.evaluate(() => document.activeElement && document.activeElement.id === 'workload')) {
                    workloadFocus = await page.evaluate(() => {
                        const s = getComputedStyle(document.activeElement);
                        return { outline: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow };
                    });
                }
            }
            const reached = await page.evaluate(() => [...window.__focused].map(Number));
            const missed = controls.filter((_, i) => !reached.includes(i));
            assert.deepEqual(missed, [], `not reachable with Tab: ${missed.join(', ')}`);
            assert.ok(controls.includes('workload') && controls.includes('launch'), `#workload or #launch not among ${controls.join(', ')}`);
            assert.ok(workloadFocus, '#workload never had the focus');
            assert.ok((workloadFocus.outline !== 'none' && workloadFocus.width !== '0px') || workloadFocus.shadow !== 'none',
                `no visible focus on #workload: ${JSON.stringify(workloadFocus)}`);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });
});
