// calibrate.test.mjs — the System view's Calibrate button: it queues a calibration, shows its
// progress, a refused one's reason (the previous calibration stays), and an accepted one's
// figures in the calibration facts. The engine here is a stand-in whose answer the test
// chooses (refuse, then accept), since a real calibration's verdict depends on the machine;
// tests/api/calibrate.test.mjs runs the real one.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, openPage, assertClean, gotoView, waitFor, screenshot, assertNoHorizontalScroll, PHONE } from './browser.mjs';
import { makeTempDir, removeDir } from '../api/harness.mjs';

describe('calibrate from the System view', { timeout: 60000 }, () => {
    let stack, dir, accept;
    before(async () => {
        dir = makeTempDir('browser-calibrate-engine');
        accept = path.join(dir, 'accept');
        const fake = path.join(dir, 'engine');
        fs.writeFileSync(fake, `#!/bin/sh
[ "$1" = calibrate ] && [ "$3" = --output ] || exit 2
sleep 0.5
# scalelab-engine calibrate --json --output FILE: the object saved to FILE and printed.
if [ -e '${accept}' ]; then
  echo '{"threads":2,"array_bytes":268435456,"read_gbs_1":31.5,"read_gbs_all":37.25,"triad_gbs_1":28,"triad_gbs_all":34,"gflops_1":100,"gflops_all":199,"when":1796229511,"host":"vm","cpu_model":"Test CPU","status":"ok","note":null}' | tee "$4"
  exit 0
fi
echo '{"threads":2,"read_gbs_1":30.1,"read_gbs_all":19.5,"gflops_1":100,"gflops_all":190,"status":"suspect","note":"2 threads read slower than 1"}'
echo 'scalelab-engine: calibration refused, not saved: 2 threads read 19.5 GB/s, slower than 1 thread (30.1 GB/s) beyond noise' >&2
exit 1
`, { mode: 0o755 });
        stack = await startStack('calibrate', { args: ['--engine', fake], env: { SCALELAB_CALIBRATION: path.join(dir, 'none.json') } });
    });
    after(async () => {
        if (stack) await stack.close();
        removeDir(dir);
    });

    test('a refused calibration says why; an accepted one becomes the calibration shown', async () => {
        const { page, problems, context } = await openPage(stack.browser);
        try {
            await gotoView(page, stack.url('#/system'), 'system');
            assert.match(await page.locator('#system-calibration').innerText(), /none yet/);

            await page.click('button#calibrate');
            const refused = await waitFor(page, 'the refusal', () => {
                const s = document.querySelector('#calibrate-status');
                return s.dataset.status === 'refused' && s.textContent;
            });
            assert.match(refused, /not used.*2 threads read 19\.5 GB\/s, slower than 1 thread/);
            assert.match(await page.locator('#system-calibration').innerText(), /none yet/, 'a refused calibration is shown as in force');
            await screenshot(page, 'system', { suffix: '-refused' });

            fs.writeFileSync(accept, '');
            await page.click('button#calibrate');
            assert.ok(await page.locator('button#calibrate').isDisabled(), 'the button stays active while a calibration waits');
            await waitFor(page, 'the calibration to be done', () => document.querySelector('#calibrate-status').dataset.status === 'done');
            const facts = await waitFor(page, 'the new figures in the facts', () => {
                const t = document.querySelector('#system-calibration').textContent;
                return /31\.5 GB\/s on 1 core, 37\.3 GB\/s on 2/.test(t) && t;
            });
            assert.match(facts, /ok/);
            assert.ok(await page.locator('button#calibrate').isEnabled());
            await screenshot(page, 'system');
            await page.emulateMedia({ colorScheme: 'dark' });
            await page.setViewportSize(PHONE);
            await assertNoHorizontalScroll(page, 'system view at 390 px');
            await screenshot(page, 'system', { suffix: '-dark' });
            assertClean(problems);
        } finally {
            await context.close();
        }
    });
});
