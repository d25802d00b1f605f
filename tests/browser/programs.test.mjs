// programs.test.mjs — "Your program" in the launch view: a shipped Python group launched from
// the form and charted like backends (one curve per route, the GIL lesson on one chart), and
// an ad-hoc command offered only by a server started with --allow-commands.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
    startStack, openPage, assertClean, gotoView, waitView, waitFor, chartSummary, chartsSettled,
    screenshot, checkOnly,
} from './browser.mjs';
import { REPO } from '../api/harness.mjs';

const ROUTES = ['py-pi-threading', 'py-pi-mp-pool'];

describe('your program: the Python pi group from the form', { timeout: 150000 }, () => {
    let stack;
    before(async () => {
        stack = await startStack('programs', { maxCores: 2, args: ['--programs', path.join(REPO, 'programs')] });
    });
    after(async () => { if (stack) await stack.close(); });

    test('a Python group is launched and charted route by route', { timeout: 140000 }, async (t) => {
        const list = await stack.server.api('GET', '/api/programs', { timeoutMs: 90000 });
        const pi = list.json.groups.find((g) => g.group === 'pi');
        if (!pi.programs.find((p) => p.name === 'py-pi-loop').available)
            return t.skip('Debian python3 is not installed');
        // (the 422 of the out-of-range sample count below is expected)
        const { page, problems, context } = await openPage(stack.browser, { allowConsole: [/status of 422/] });
        try {
            await gotoView(page, stack.url('#/'), 'launch');
            assert.equal(await page.locator('#program-form').isVisible(), false, 'the program form waits for its mode');
            await page.click('#mode-program');
            await page.locator('#launch-form').waitFor({ state: 'hidden' });
            await waitFor(page, 'the pi group in the form', () => document.querySelector('#program-source option[value="pi"]'), undefined, 90000);
            await page.selectOption('#program-source', 'pi');
            await page.locator('input[name="program"][value="py-pi-loop"]').waitFor({ state: 'attached' });
            assert.match(await page.locator('#program-lesson').innerText(), /GIL/);
            // The baseline is always run: checked and not to be unticked.
            const base = page.locator('input[name="program"][value="py-pi-loop"]');
            assert.equal(await base.isChecked(), true);
            assert.equal(await base.isDisabled(), true);
            // An unavailable route says why (none may be unavailable on a full install).
            for (const p of pi.programs.filter((x) => !x.available)) {
                const title = await page.locator(`input[name="program"][value="${p.name}"]`).getAttribute('title');
                assert.match(title, /unavailable: needs/);
            }
            await checkOnly(page, 'program', ROUTES);
            await checkOnly(page, 'program-cores', ['1', '2']);
            await page.fill('#program-param-samples', '0');
            await page.fill('#program-repeats', '1');
            await page.fill('#program-warmup', '0');
            await page.click('#program-launch');
            // The server's range check, next to the field.
            await waitFor(page, 'the samples range error', () => {
                const e = [...document.querySelectorAll('#program-form .field-error')].find((x) => x.dataset.field === 'params.samples');
                return e && /out of range/.test(e.textContent) && e.textContent;
            });
            await page.fill('#program-param-samples', '100000');
            await screenshot(page, 'launch-program', { docsName: 'launch-program.png' });
            await page.click('#program-launch');
            const hash = await waitFor(page, 'the hash to become #/runs/{id}', () => /^#\/runs\/\d+$/.test(location.hash) && location.hash);
            const id = Number(hash.slice('#/runs/'.length));
            const stored = (await stack.server.api('GET', `/api/runs/${id}`)).json;
            assert.equal(stored.workload, 'pi');
            assert.deepEqual(stored.job.programs.map((p) => p.name), ['py-pi-loop', ...ROUTES]);
            assert.equal(stored.job.params.samples, 100000);
            assert.deepEqual(stored.job.cores, [1, 2]);

            await waitFor(page, '#run-status to say done', () => /\bdone\b/i.test(document.querySelector('#run-status').textContent), undefined, 120000);
            await waitView(page, 'run');
            await chartsSettled(page);
            const charts = await chartSummary(page);
            const time = charts.time;
            assert.ok(time, `a time chart: ${JSON.stringify(Object.keys(charts))}`);
            const labels = time.datasets.map((d) => d.label).join(' | ');
            for (const name of ['py-pi-loop', ...ROUTES])
                assert.ok(labels.includes(name), `the time chart has a curve for ${name}: ${labels}`);
            assert.match(await page.locator('#run-job').innerText(), /Programs\s+py-pi-loop, py-pi-threading, py-pi-mp-pool/);
            // CPU use and peak memory per route, as the analysis gives them: the GIL keeps
            // threading near one busy core, the process pool uses both.
            const analysis = (await stack.server.api('GET', `/api/runs/${id}`)).json.analysis;
            const at = (b, c) => analysis.points.find((p) => p.backend === b && p.cores === c);
            for (const name of ['py-pi-loop', ...ROUTES]) {
                const cpu = charts.cpu.datasets.find((d) => d.label === name);
                const mem = charts.memory.datasets.find((d) => d.label === name);
                assert.ok(cpu && mem, `cpu and memory curves for ${name}`);
                for (const p of cpu.points) assert.ok(Math.abs(p.y - at(name, p.x).cpu_util * p.x) < 1e-9, `cores busy ${name}@${p.x}`);
                for (const p of mem.points) assert.ok(Math.abs(p.y - at(name, p.x).maxrss_kb / 1024) < 1e-9, `MiB ${name}@${p.x}`);
                assert.ok(mem.points.every((p) => p.y > 5), `a Python process takes megabytes: ${JSON.stringify(mem.points)}`);
            }
            // A route keeps one colour in every chart, and the routes' colours differ.
            const colours = await page.evaluate(() => Object.fromEntries(['time', 'speedup', 'efficiency', 'cpu', 'memory']
                .map((n) => [n, Object.fromEntries(window.scalelab.charts[n].data.datasets.map((d) => [d.label, d.borderColor]))])));
            const names = ['py-pi-loop', ...ROUTES];
            for (const n of Object.keys(colours))
                for (const name of names)
                    if (colours[n][name]) assert.equal(colours[n][name], colours.cpu[name], `${name}'s colour in ${n}`);
            assert.equal(new Set(names.map((name) => colours.cpu[name])).size, names.length, `distinct colours: ${JSON.stringify(colours.cpu)}`);
            assert.equal(await page.locator('#memory-figure').isVisible(), true);
            assert.match(await page.locator('#memory-caption').innerText(), /max RSS of the program's largest process/);
            await screenshot(page, 'run-program', { docsName: 'run-program.png' });

            // The Python run beside a native run of pi: overlaid, the differing sizes said.
            const native = await stack.server.postRun({ workload: 'pi', params: { samples: 1e6 }, backends: ['serial', 'threads'], cores: [1, 2], repeats: 1, warmup: 0 });
            await stack.server.waitForStatus(native, 'done', 30000);
            await gotoView(page, stack.url(`#/compare?ids=${id},${native}`), 'compare');
            const note = await waitFor(page, 'the note that the sizes differ', () => {
                const n = document.querySelector('.compare-sizes');
                return n && n.textContent;
            });
            assert.match(note, /sizes differ/);
            assert.match(await page.locator('#compare-hosts').innerText(), /programs py-pi-loop, py-pi-threading, py-pi-mp-pool/);
            await chartsSettled(page);
            const overlaid = (await chartSummary(page)).compare.datasets.map((d) => d.label).join(' | ');
            assert.ok(/py-pi-threading/.test(overlaid) && /threads/.test(overlaid), `both runs' curves: ${overlaid}`);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });
});

describe('your program: a command where the server allows it', { timeout: 60000 }, () => {
    let stack;
    before(async () => { stack = await startStack('commands', { maxCores: 2, args: ['--allow-commands'] }); });
    after(async () => { if (stack) await stack.close(); });

    test('the command is offered and launched, one argument per line', async () => {
        // (the 422 of the too-long timeout below is expected)
        const { page, problems, context } = await openPage(stack.browser, { allowConsole: [/status of 422/] });
        try {
            await gotoView(page, stack.url('#/'), 'launch');
            await page.click('#mode-program');
            await waitFor(page, 'the command option', () => document.querySelector('#program-source option[value="__command__"]'), undefined, 90000);
            await page.selectOption('#program-source', '__command__');
            await page.locator('#program-command').waitFor({ state: 'visible' });
            await page.fill('#program-command', 'sh\n-c\necho "scalelab: {\\"result\\": {n}}"; echo $GREETING >&2');
            await page.fill('#program-env', 'GREETING=hello world');
            await page.fill('#program-command-params', 'n=7');
            await checkOnly(page, 'program-cores', ['1']);
            await page.fill('#program-repeats', '1');
            await page.fill('#program-warmup', '0');
            // A timeout per run: refused here when not above 0, by the server past a day,
            // each time next to its field; then carried into the job.
            await page.fill('#program-timeout', '0');
            await page.click('#program-launch');
            await waitFor(page, 'the timeout error here', () => /above 0/.test(document.querySelector('#err-command-timeout').textContent));
            await page.fill('#program-timeout', '100000');
            await page.click('#program-launch');
            await waitFor(page, 'the server\'s timeout error', () => /at most 86400/.test(document.querySelector('#err-command-timeout').textContent));
            assert.ok(!/#\/runs\//.test(page.url()), 'no run was launched');
            await screenshot(page, 'launch-command', { suffix: '-timeout-refused' });
            await page.fill('#program-timeout', '30');
            await page.click('#program-launch');
            const hash = await waitFor(page, 'the hash to become #/runs/{id}', () => /^#\/runs\/\d+$/.test(location.hash) && location.hash);
            const id = Number(hash.slice('#/runs/'.length));
            const run = await stack.server.waitForStatus(id, 'done', 20000);
            assert.equal(run.job.programs[0].timeout_s, 30, 'the form sent the timeout');
            assert.deepEqual(run.job.programs[0].argv, ['sh', '-c', 'echo "scalelab: {\\"result\\": {n}}"; echo $GREETING >&2']);
            assert.equal(run.job.programs[0].env.GREETING, 'hello world');
            const full = (await stack.server.api('GET', `/api/runs/${id}`)).json;
            assert.equal(full.measurements[0].result, 7);
            assertClean(problems);
        } finally {
            await context.close();
        }
    });
});
