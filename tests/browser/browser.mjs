// browser.mjs — what every browser test file shares: a real scalelab-server serving the real
// static/ directory (through tests/api/harness.mjs), a headless Chromium driven by
// playwright-core, pages that record their console errors and uncaught exceptions, the
// contract's readiness signal, a summary of window.scalelab.charts, and screenshots.
//
// Every wait is bounded: a helper that runs out of time throws, naming what it waited for.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { REPO, startServer, makeTempDir, removeDir } from '../api/harness.mjs';

// SCALELAB_TEST_STATIC serves another copy of the page (to check that the tests catch a broken one).
export const STATIC_DIR = process.env.SCALELAB_TEST_STATIC || path.join(REPO, 'static');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO, 'build', 'screenshots');
export const DOCS_SCREENSHOTS = path.join(REPO, 'docs', 'screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const WAIT_MS = 10000;          // default bound for one wait on the page
const pageProblems = new WeakMap(); // page -> its problems, quoted when a wait times out

/* What went wrong on the page so far, for an error message. */
function problemsOf(page) {
    const p = pageProblems.get(page);
    return p && p.length ? `; the page reported:\n${p.join('\n')}` : '';
}
const LAUNCH_TIMEOUT_MS = 30000;

/* The server (serving static/) and the browser of one test file. opts go to startServer
 * (maxCores, ...). Call close() in the file's `after` hook. */
export async function startStack(name, opts = {}) {
    if (!fs.existsSync(path.join(STATIC_DIR, 'index.html')))
        throw new Error(`${STATIC_DIR}/index.html is missing`);
    for (const f of ['chart.umd.js', 'chartjs-chart-error-bars.umd.js']) {
        if (!fs.existsSync(path.join(STATIC_DIR, 'vendor', f)))
            throw new Error(`static/vendor/${f} is missing: run make (or make vendor) first`);
    }
    const dir = makeTempDir(`browser-${name}`);
    let server, browser;
    try {
        server = await startServer({ dir, staticDir: STATIC_DIR, ...opts });
        browser = await chromium.launch({
            executablePath: CHROMIUM,
            args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                '--disable-component-update', '--no-first-run'],
            timeout: LAUNCH_TIMEOUT_MS,
        });
    } catch (err) {
        if (server) await server.stop();
        removeDir(dir);
        throw err;
    }
    return {
        server,
        browser,
        url: (hash = '#/') => new URL(`/${hash}`, server.url).href,
        async close() {
            try { await browser.close(); } finally {
                await server.stop();
                removeDir(dir);
            }
        },
    };
}

/**
 * A fresh context and page. opts: viewport (default DESKTOP), colorScheme ('light' unless
 * told), allowConsole (regexps of console errors that the test provokes on purpose).
 * Returns {context, page, problems}: problems lists every console error and uncaught
 * exception seen so far; assertClean(p) fails the test when there is one.
 */
export async function openPage(browser, { viewport = DESKTOP, colorScheme = 'light', allowConsole = [] } = {}) {
    const context = await browser.newContext({ viewport, colorScheme, acceptDownloads: true });
    context.setDefaultTimeout(WAIT_MS);
    const page = await context.newPage();
    const problems = [];
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const text = msg.text();
        if (allowConsole.some((re) => re.test(text))) return;
        const loc = msg.location();
        problems.push(`console error: ${text}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    });
    page.on('pageerror', (err) => problems.push(`uncaught: ${err.stack || err.message || err}`));
    pageProblems.set(page, problems);
    return { context, page, problems };
}

export function assertClean(problems) {
    assert.deepEqual(problems, [], `the page reported errors:\n${problems.join('\n')}`);
}

/* Go to a hash route and wait until the view has rendered its data (body data-view and
 * data-ready="1", as the contract says). */
export async function gotoView(page, url, view, timeoutMs = WAIT_MS) {
    await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
    await waitView(page, view, timeoutMs);
}

export async function waitView(page, view, timeoutMs = WAIT_MS) {
    try {
        await page.waitForFunction(
            (v) => document.body && document.body.dataset.ready === '1' && document.body.dataset.view === v,
            view, { timeout: timeoutMs });
    } catch (err) {
        const seen = await page.evaluate(() => ({
            hash: location.hash, view: document.body && document.body.dataset.view,
            ready: document.body && document.body.dataset.ready,
        })).catch(() => ({}));
        throw new Error(`view "${view}" not ready within ${timeoutMs} ms (body data-view=${seen.view}, data-ready=${seen.ready}, hash ${seen.hash}): ${err.message.split('\n')[0]}${problemsOf(page)}`);
    }
}

/* Wait until fn (run in the page with arg) returns a truthy value, and return that value. */
export async function waitFor(page, what, fn, arg, timeoutMs = WAIT_MS) {
    try {
        const handle = await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 50 });
        const value = await handle.jsonValue();
        await handle.dispose();
        return value;
    } catch (err) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${err.message.split('\n')[0]}${problemsOf(page)}`);
    }
}

/* window.scalelab.charts as plain data: {name: {canvasId, type, datasets: [{label, type,
 * points: [{x, y, yMin, yMax}]}]}}; a dataset of bare numbers gets its x from the labels. */
export async function chartSummary(page) {
    return page.evaluate(() => {
        const charts = (window.scalelab && window.scalelab.charts) || {};
        const out = {};
        for (const [name, chart] of Object.entries(charts)) {
            if (!chart || !chart.data) { out[name] = null; continue; }
            const labels = chart.data.labels || [];
            out[name] = {
                canvasId: chart.canvas && chart.canvas.id,
                type: chart.config && chart.config.type,
                animating: typeof Chart !== 'undefined' && Chart.animator ? Chart.animator.running(chart) : false,
                datasets: chart.data.datasets.map((d) => ({
                    label: d.label,
                    type: d.type,
                    points: (d.data || []).map((p, i) => (p !== null && typeof p === 'object'
                        ? { x: p.x, y: p.y, yMin: p.yMin, yMax: p.yMax }
                        : { x: labels[i], y: p })),
                })),
            };
        }
        return out;
    });
}

/* Wait (bounded) until no chart of window.scalelab.charts is animating, so that a
 * screenshot shows them drawn. */
export async function chartsSettled(page, timeoutMs = 5000) {
    await waitFor(page, 'the charts to finish animating', () => {
        const charts = Object.values((window.scalelab && window.scalelab.charts) || {});
        return charts.every((c) => !c || typeof Chart === 'undefined' || !Chart.animator || !Chart.animator.running(c));
    }, undefined, timeoutMs);
}

/* Save the page as build/screenshots/<view>-<W>x<H><suffix>.png. With docsName and
 * SCALELAB_UPDATE_SCREENSHOTS=1 (`make screenshots`), copy it to docs/screenshots/<docsName>
 * as well: the README shows those, and an ordinary test run must not rewrite committed
 * files. Returns the path. */
export async function screenshot(page, view, { suffix = '', docsName } = {}) {
    const vp = page.viewportSize();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${view}-${vp.width}x${vp.height}${suffix}.png`);
    await page.screenshot({ path: file, fullPage: true, timeout: WAIT_MS });
    if (docsName && process.env.SCALELAB_UPDATE_SCREENSHOTS === '1') {
        fs.mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
        fs.copyFileSync(file, path.join(DOCS_SCREENSHOTS, docsName));
    }
    return file;
}

/* The page's width against the viewport's: no horizontal scrolling. */
export async function assertNoHorizontalScroll(page, where) {
    const m = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        wide: [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5)
            .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} (right ${Math.round(el.getBoundingClientRect().right)})`),
    }));
    assert.ok(m.scrollWidth <= m.innerWidth,
        `${where}: the page scrolls horizontally (scrollWidth ${m.scrollWidth} > innerWidth ${m.innerWidth}); wider elements: ${m.wide.join(', ')}`);
}

/* Check exactly the checkboxes named name whose value is in values; fails when one of them is
 * missing or disabled. */
export async function checkOnly(page, name, values) {
    const boxes = await page.locator(`input[type="checkbox"][name="${name}"]`).all();
    const present = [];
    for (const box of boxes) {
        const value = await box.getAttribute('value');
        present.push(value);
        const want = values.includes(value);
        if (want) assert.ok(await box.isEnabled(), `checkbox ${name}=${value} is disabled: ${await box.getAttribute('title')}`);
        if (await box.isEnabled()) await box.setChecked(want);
    }
    for (const v of values)
        assert.ok(present.includes(v), `no checkbox ${name}=${v} (have ${present.join(', ')})`);
}
