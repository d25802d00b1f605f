// form.test.mjs — every workload can be chosen in the launch form and every field of every
// workload set, with no page error; the estimate and the job follow the chosen workload.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openPage, assertClean, gotoView, waitFor, checkOnly } from './browser.mjs';

/* A value inside [min, max] that differs from the default, so that setting it is seen. */
function valueFor(p) {
    const candidates = [p.min, p.max, p.integer ? Math.round((p.min + p.max) / 2) : (p.min + p.max) / 2];
    const v = candidates.find((c) => c !== p.default && Number.isFinite(c)) ?? p.default;
    return p.integer ? Math.round(v) : v;
}

describe('the launch form, workload by workload', { timeout: 90000 }, () => {
    let stack, workloads;
    before(async () => {
        stack = await startStack('form', { maxCores: 2 });
        const r = await stack.server.api('GET', '/api/workloads');
        assert.equal(r.status, 200, r.text);
        workloads = r.json.workloads;
        assert.ok(workloads.length >= 6, `only ${workloads.length} workloads`);
    });
    after(async () => { if (stack) await stack.close(); });

    test('choosing each workload and setting each field raises no error', { timeout: 80000 }, async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url('#/'), 'launch');
            // Backends are labelled with the engine's own route (what the backend is in C and
            // which Python route it stands for): the page adds no label of its own.
            const backends = (await stack.server.api('GET', '/api/backends')).json.backends;
            for (const b of backends.filter((x) => x.available)) {
                const label = (await page.locator(`label:has(input[name="backend"][value="${b.name}"])`).innerText()).trim();
                assert.equal(label, `${b.name} ${b.route}`);
                assert.doesNotMatch(label, /^\S+ (a )?plain Python loop/, `${b.name} is labelled as Python: ${label}`);
            }
            // The common fields once, before the workloads change under them.
            await checkOnly(page, 'backend', ['serial', 'threads']);
            await checkOnly(page, 'cores', ['1', '2']);
            await page.fill('#custom-cores', '');
            await page.locator('#oversubscribe').setChecked(false);
            await page.fill('#repeats', '3');
            await page.fill('#warmup', '1');
            await page.selectOption('#scaling', 'weak');
            await page.selectOption('#variant', 'scalar');

            // Last first: the bug was that any workload other than the first broke the form.
            for (const w of [...workloads].reverse()) {
                await page.selectOption('select#workload', w.name);
                const names = await waitFor(page, `the parameters of ${w.name}`, (want) => {
                    const got = [...document.querySelectorAll('#params input')].map((i) => i.name);
                    return got.join() === want.join() && got;
                }, w.params.map((p) => `param-${p.name}`));
                assert.equal(names.length, w.params.length);
                assert.equal((await page.locator('#workload-lesson').innerText()).trim(), w.lesson.trim());

                for (const p of w.params) {
                    const input = page.locator(`input[name="param-${p.name}"]`);
                    assert.equal(Number(await input.inputValue()), p.default, `${w.name}.${p.name} does not start at its default`);
                    await input.fill(String(valueFor(p)));
                }
                const estimate = await waitFor(page, `an estimate for ${w.name}`, () => {
                    const t = document.querySelector('#estimate').textContent;
                    return /Estimated duration: (about|under)/.test(t) && t;
                });
                assert.match(estimate, /points/);
                const errors = await page.locator('.field-error').allInnerTexts();
                assert.deepEqual(errors.filter((e) => e.trim()), [], `field errors for ${w.name}`);
                assertClean(problems);
            }

            // The job sent is the last workload chosen with the values typed: refused by the
            // server or not, it must be the right job (a refused one names a field).
            const last = workloads[0];
            const sent = page.waitForRequest((req) => req.url().endsWith('/api/runs') && req.method() === 'POST');
            await page.click('button#launch');
            const job = JSON.parse((await sent).postData());
            assert.equal(job.workload, last.name);
            for (const p of last.params) assert.equal(job.params[p.name], valueFor(p), `${last.name}.${p.name}`);
            assert.equal(job.repeats, 3);
            assert.equal(job.warmup, 1);
            assert.equal(job.scaling, 'weak');
            assert.equal(job.variant, 'scalar');
            assert.deepEqual(job.cores, [1, 2]);
            // Let the answer arrive and the page settle, then cancel what was launched.
            await waitFor(page, 'the launch to be answered', () => /^#\/runs\/\d+$/.test(location.hash)
                || [...document.querySelectorAll('.field-error, #form-error')].some((e) => e.textContent.trim()));
            const hash = await page.evaluate(() => location.hash);
            if (/^#\/runs\/\d+$/.test(hash)) await stack.server.api('POST', `/api/runs/${hash.slice(7)}/cancel`);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });
});
