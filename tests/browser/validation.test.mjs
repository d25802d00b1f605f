// validation.test.mjs — a job the server refuses shows the API's message next to the field
// it concerns, marks that input invalid, and stores nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openPage, assertClean, gotoView, waitFor, screenshot, checkOnly } from './browser.mjs';

// The server's 422 answers are the point of these tests; Chromium logs each failed request.
const ALLOW = [/Failed to load resource: the server responded with a status of 422/];

describe('the form shows what the server refuses', { timeout: 60000 }, () => {
    let stack;
    before(async () => { stack = await startStack('validation', { maxCores: 2 }); });
    after(async () => { if (stack) await stack.close(); });

    /* A fresh page on the launch view with a small valid pi job filled in. */
    async function launchForm() {
        const opened = await openPage(stack.browser, { allowConsole: ALLOW });
        const { page } = opened;
        await gotoView(page, stack.url('#/'), 'launch');
        await page.selectOption('select#workload', 'pi');
        await page.locator('input[name="param-samples"]').fill('1000000');
        await checkOnly(page, 'backend', ['serial']);
        await checkOnly(page, 'cores', ['1']);
        await page.fill('#repeats', '1');
        await page.fill('#warmup', '0');
        return opened;
    }

    /* The visible .field-error for field, once it has text; and the hash, still #/. */
    async function fieldError(page, field) {
        const text = await waitFor(page, `a visible .field-error[data-field="${field}"] with text`, (f) => {
            const el = document.querySelector(`.field-error[data-field="${f}"]`);
            if (!el) return false;
            const r = el.getBoundingClientRect();
            const shown = r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
            return shown && el.textContent.trim();
        }, field);
        assert.ok(!/^#\/runs\/\d+/.test(await page.evaluate(() => location.hash)), 'the page went to a run view');
        return text;
    }

    test('cores above the host limit without oversubscribe: the server\'s message at the cores field', async () => {
        const { page, problems, context } = await launchForm();
        try {
            await page.locator('#oversubscribe').setChecked(false);
            await page.fill('#custom-cores', '64');
            await page.click('button#launch');
            const text = await fieldError(page, 'cores');
            assert.match(text, /oversubscribe/i, `cores error: ${text}`);
            const invalid = await page.evaluate(() => [document.querySelector('#custom-cores'),
                ...document.querySelectorAll('input[name="cores"]')]
                .filter((el) => el && el.getAttribute('aria-invalid') === 'true').map((el) => el.id || el.value));
            assert.ok(invalid.length > 0, 'no cores input has aria-invalid="true"');
            assert.equal(await page.evaluate(() => (document.querySelector('#form-error') || { textContent: '' }).textContent.trim()), '',
                '#form-error filled although the message names the cores field');
            await screenshot(page, 'launch', { suffix: '-error' });
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('a parameter out of range: a message at that parameter', async () => {
        const { page, problems, context } = await launchForm();
        try {
            assert.equal(await page.locator('form#launch-form').evaluate((f) => f.noValidate), true,
                'form#launch-form has no novalidate: the browser would stop the submission itself');
            const samples = page.locator('input[name="param-samples"]');
            await samples.fill('0');
            await page.click('button#launch');
            const text = await fieldError(page, 'params.samples');
            assert.ok(text.length > 0);
            assert.equal(await samples.getAttribute('aria-invalid'), 'true', 'input[name="param-samples"] is not aria-invalid');
            assertClean(problems);
        } finally {
            await context.close();
        }
    });

    test('nothing refused was stored', async () => {
        const r = await stack.server.api('GET', '/api/runs');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.total, 0, `runs stored: ${JSON.stringify(r.json.runs.map((x) => x.job))}`);
    });
});
