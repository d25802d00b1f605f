// programs.test.mjs — the registry of programs: listing with availability, runs of registered
// programs (each one curve, the group's baseline first), parameter bounds, ad-hoc commands
// refused without --allow-commands, a crashing program as a failed point with its stderr,
// a cancel that kills the program's whole process tree, and the shipped Python pi group.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, makeTempDir, removeDir, waitUntil, REPO } from './harness.mjs';

const report = (result, work = '{n}') => `echo 'scalelab: {"work": ${work}, "unit": "item", "result": ${result}, "phases": {"startup": 0.001, "compute": 0.002}}'`;

/* A registry of small shell programs in dir/programs. */
function writeRegistry(dir) {
    const pdir = path.join(dir, 'programs');
    fs.mkdirSync(pdir, { recursive: true });
    const prog = (name, script, extra = {}) => ({
        name, title: name, route: `route of ${name}`, lesson: `lesson of ${name}`,
        argv: ['sh', '-c', script, name], requires: [], ...extra,
    });
    const group = {
        group: 'toy', title: 'Toy programs', lesson: 'Small shell programs for the API tests.',
        params: [{ name: 'n', meaning: 'items', default: 10, min: 1, max: 1000, integer: true }],
        size_param: 'n', tolerance: 0,
        programs: [
            prog('toy-base', report(1), { baseline: true, parallel: false }),
            prog('toy-par', `${report(1)}; echo "cores={cores} n={n} omp=$OMP_NUM_THREADS"`),
            prog('toy-crash', 'echo starting; echo "boom: the toy crashed" >&2; exit 3'),
            prog('toy-tree', 'sleep 300 & echo $! >> {dir}/pids; sleep 300 & echo $! >> {dir}/pids; wait'),
            // The same tree with a timeout runs in a process group of its own: a cancel must still end it.
            prog('toy-tree-timed', 'sleep 300 & echo $! >> {dir}/pids-timed; sleep 300 & echo $! >> {dir}/pids-timed; wait',
                { timeout_s: 120 }),
            prog('toy-hang', 'echo "hanging on purpose" >&2; trap "" TERM; sleep 30', { timeout_s: 0.5 }),
            prog('toy-missing', report(1), {
                requires: ['python3-nosuchthing'],
                probe: ['sh', '-c', 'echo "Traceback ..." >&2; echo "ModuleNotFoundError: No module named nosuchthing" >&2; exit 1'],
            }),
        ],
    };
    fs.writeFileSync(path.join(pdir, 'toy.json'), JSON.stringify(group, null, 2));
    const other = {
        group: 'other', title: 'Other', lesson: 'Another group.', params: [],
        programs: [prog('other-one', report(2, 1))],
    };
    fs.writeFileSync(path.join(pdir, 'other.json'), JSON.stringify(other, null, 2));
    return pdir;
}

describe('programs', { timeout: 120000 }, () => {
    let dir, pdir, server, open;

    before(async () => {
        dir = makeTempDir('programs');
        pdir = writeRegistry(dir);
        server = await startServer({ dir, args: ['--programs', pdir] });
        open = await startServer({ dir, args: ['--programs', pdir, '--allow-commands'] });
    });
    after(async () => {
        if (server) await server.kill9();
        if (open) await open.kill9();
        removeDir(dir);
    });

    test('GET /api/programs lists the groups with availability and the reason', async () => {
        const r = await server.api('GET', '/api/programs');
        assert.equal(r.status, 200, r.text);
        const toy = r.json.groups.find((g) => g.group === 'toy');
        assert.ok(toy, 'the toy group is listed');
        assert.equal(toy.baseline, 'toy-base');
        assert.equal(toy.size_param, 'n');
        assert.deepEqual(toy.params.map((p) => p.name), ['n']);
        const byName = Object.fromEntries(toy.programs.map((p) => [p.name, p]));
        assert.equal(byName['toy-base'].available, true);
        assert.equal(byName['toy-base'].parallel, false);
        assert.equal(byName['toy-par'].route, 'route of toy-par');
        assert.equal(byName['toy-missing'].available, false);
        assert.match(byName['toy-missing'].reason, /python3-nosuchthing/);
        assert.match(byName['toy-missing'].reason, /ModuleNotFoundError: No module named nosuchthing/);
        assert.ok(!byName['toy-tree'].argv.join(' ').includes('{dir}'), '{dir} is resolved to the folder');
        assert.ok(byName['toy-tree'].argv.join(' ').includes(pdir));
        assert.equal(byName['toy-hang'].timeout_s, 0.5, 'a declared timeout is listed');
        assert.equal(byName['toy-base'].timeout_s, undefined, 'no timeout: no limit');
    });

    test('a program past its timeout_s is a failed point saying so, and the run goes on', async () => {
        const t0 = Date.now();
        const id = await server.postRun({ programs: ['toy-hang'], cores: [1, 2], repeats: 1, warmup: 0 });
        const run = await server.waitForStatus(id, ['done', 'failed'], 30000);
        assert.ok(Date.now() - t0 < 25000, 'the 30 s sleeps were cut short');
        assert.equal(run.job.programs.find((p) => p.name === 'toy-hang').timeout_s, 0.5, 'the job carries the timeout');
        const full = (await server.api('GET', `/api/runs/${id}`)).json;
        const hang = full.measurements.filter((m) => m.backend === 'toy-hang');
        assert.equal(hang.length, 2, `both core counts were measured (${run.status}, ${run.error})`);
        for (const m of hang) {
            assert.equal(m.verified, false);
            assert.match(m.message, /timed out after 0\.5 s \(killed the process group\)/);
            assert.match(m.message, /hanging on purpose/, 'with the tail of its stderr');
        }
        assert.ok(full.measurements.some((m) => m.backend === 'toy-base' && m.verified), 'the baseline still ran');
        const out = full.outputs.find((o) => o.backend === 'toy-hang' && o.cores === 2);
        assert.equal(out.exit.timed_out, true, JSON.stringify(out));
    });

    test('an unavailable program is probed again after --probe-retry, a package installed later shows', async () => {
        // The probe asks for a file standing for an installed package.
        const flag = path.join(dir, 'installed');
        const rdir = path.join(dir, 'retry');
        fs.mkdirSync(rdir, { recursive: true });
        fs.writeFileSync(path.join(rdir, 'late.json'), JSON.stringify({
            group: 'late', title: 'Late', lesson: 'A package installed while the server runs.', params: [],
            programs: [{ name: 'late-one', title: 'late', route: 'r', lesson: 'l', requires: ['python3-late'],
                         argv: ['sh', '-c', report(1, 1)], probe: ['test', '-e', flag] }],
        }));
        const eager = await startServer({ dir, args: ['--programs', rdir, '--probe-retry', '0'] });
        const lazy = await startServer({ dir, args: ['--programs', rdir] });
        try {
            const late = async (s) => (await s.api('GET', '/api/programs')).json.groups[0].programs[0];
            assert.equal((await late(eager)).available, false);
            assert.equal((await late(lazy)).available, false);
            let r = await eager.api('POST', '/api/runs', { body: { programs: ['late-one'], cores: [1] } });
            assert.equal(r.status, 422, r.text);
            assert.match(r.json.error.message, /python3-late/);
            fs.writeFileSync(flag, '');
            assert.equal((await late(eager)).available, true, 'probed again at once with --probe-retry 0');
            assert.equal((await late(lazy)).available, false, 'the default keeps a "no" for 30 s');
            r = await eager.api('POST', '/api/runs', { body: { programs: ['late-one'], cores: [1], repeats: 1, warmup: 0 } });
            assert.equal(r.status, 202, r.text);
            fs.rmSync(flag);
            assert.equal((await late(eager)).available, true, 'a "yes" is kept');
        } finally {
            await eager.kill9();
            await lazy.kill9();
        }
    });

    test('a run of programs: one curve each, the baseline added first, values substituted', async () => {
        const id = await server.postRun({ programs: ['toy-par'], params: { n: 7 }, cores: [1, 2], repeats: 2, warmup: 0 });
        const run = await server.waitForStatus(id, 'done', 20000);
        assert.equal(run.workload, 'toy');
        assert.deepEqual(run.job.programs.map((p) => p.name), ['toy-base', 'toy-par']);
        assert.equal(run.job.baseline, 'toy-base');
        const full = (await server.api('GET', `/api/runs/${id}`)).json;
        const names = new Set(full.measurements.map((m) => `${m.backend}@${m.cores}`));
        assert.deepEqual([...names].sort(), ['toy-base@1', 'toy-par@1', 'toy-par@2'], 'the baseline runs at 1 core only');
        for (const m of full.measurements) {
            assert.equal(m.verified, true, JSON.stringify(m));
            assert.equal(m.work, 7, 'the report line gave the work, {n} substituted');
            assert.equal(m.result, 1);
            assert.equal(m.spawn_ns, 1000000, 'startup phase');
            assert.equal(m.compute_ns, 2000000, 'compute phase');
        }
        const par = full.analysis.points.find((p) => p.backend === 'toy-par' && p.cores === 2);
        assert.ok(Number.isFinite(par.speedup), 'speedup against the group baseline');
    });

    test('unknown, unavailable, mixed and ad-hoc program entries are refused with their field', async () => {
        let r = await server.api('POST', '/api/runs', { body: { programs: ['nope'] } });
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.error.code, 'unknown');
        assert.equal(r.json.error.field, 'programs');
        r = await server.api('POST', '/api/runs', { body: { programs: ['toy-missing'] } });
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.error.code, 'unavailable');
        assert.match(r.json.error.message, /python3-nosuchthing/);
        r = await server.api('POST', '/api/runs', { body: { programs: ['toy-par', 'other-one'] } });
        assert.equal(r.status, 422, r.text);
        assert.match(r.json.error.message, /different groups/);
        r = await server.api('POST', '/api/runs', { body: { programs: [{ name: 'x', argv: ['rm', '-rf', '/tmp/x'] }] } });
        assert.equal(r.status, 422, r.text);
        assert.match(r.json.error.message, /"command"/, 'an argv never comes in through programs');
        r = await server.api('POST', '/api/runs', { body: { programs: ['toy-par'], backends: ['serial'] } });
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.error.field, 'backends');
    });

    test('every parameter is checked against its declared range', async () => {
        const cases = [
            [{ n: 0 }, 'params.n', /out of range.*1 to 1000/],
            [{ n: 1001 }, 'params.n', /out of range/],
            [{ n: 2.5 }, 'params.n', /whole number/],
            [{ n: '5; rm -rf /' }, 'params.n', /must be a number/],
            [{ m: 3 }, 'params.m', /not a parameter of the toy programs/],
        ];
        for (const [params, field, re] of cases) {
            const r = await server.api('POST', '/api/runs', { body: { programs: ['toy-par'], params } });
            assert.equal(r.status, 422, `${JSON.stringify(params)}: ${r.text}`);
            assert.equal(r.json.error.field, field);
            assert.match(r.json.error.message, re);
        }
    });

    test('an ad-hoc command is refused with 403 unless the server allows commands', async () => {
        const job = { command: { argv: ['sh', '-c', 'echo "scalelab: {\\"result\\": {cores}}"'] }, cores: [1], repeats: 1, warmup: 0 };
        let r = await server.api('POST', '/api/runs', { body: job });
        assert.equal(r.status, 403, r.text);
        assert.equal(r.json.error.code, 'forbidden');
        assert.match(r.json.error.message, /--allow-commands/);
        assert.equal((await server.api('GET', '/api/system')).json.allow_commands, false);

        assert.equal((await open.api('GET', '/api/system')).json.allow_commands, true);
        const id = await open.postRun(job);
        await open.waitForStatus(id, 'done', 20000);
        const full = (await open.api('GET', `/api/runs/${id}`)).json;
        assert.equal(full.workload, 'command');
        assert.equal(full.measurements.length, 1);
        assert.equal(full.measurements[0].backend, 'command');
        assert.equal(full.measurements[0].result, 1);
        r = await open.api('POST', '/api/runs', { body: { command: { argv: ['x', '{nope}'] } } });
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.error.field, 'command.argv[1]');
    });

    test('an ad-hoc command may carry timeout_s, checked', async () => {
        for (const bad of [0, -1, '5', 86401]) {
            const r = await open.api('POST', '/api/runs', { body: { command: { argv: ['true'], timeout_s: bad } } });
            assert.equal(r.status, 422, `${bad}: ${r.text}`);
            assert.equal(r.json.error.field, 'command.timeout_s');
            assert.match(r.json.error.message, /above 0 and at most 86400.*leave it out for no limit/);
        }
        const id = await open.postRun({
            command: { argv: ['sh', '-c', 'echo "still going" >&2; sleep 30'], timeout_s: 0.5 },
            cores: [1, 2], repeats: 1, warmup: 0,
        });
        await open.waitForStatus(id, ['done', 'failed'], 30000);
        const full = (await open.api('GET', `/api/runs/${id}`)).json;
        assert.equal(full.measurements.length, 2, 'the sweep went on to the second point');
        for (const m of full.measurements) {
            assert.equal(m.verified, false);
            assert.match(m.message, /^timed out after 0\.5 s \(killed the process group\): still going/);
        }
    });

    test('a crashing program is a failed point with its stderr, and the run goes on', async () => {
        const id = await server.postRun({ programs: ['toy-crash'], cores: [1, 2], repeats: 1, warmup: 0 });
        const run = await server.waitForStatus(id, ['done', 'failed'], 20000);
        const full = (await server.api('GET', `/api/runs/${id}`)).json;
        const crash = full.measurements.filter((m) => m.backend === 'toy-crash');
        assert.equal(crash.length, 2, `both core counts were measured (${run.status}, ${run.error})`);
        for (const m of crash) {
            assert.equal(m.verified, false);
            assert.match(m.message, /exited with status 3/);
            assert.match(m.message, /boom: the toy crashed/);
        }
        assert.ok(full.measurements.some((m) => m.backend === 'toy-base' && m.verified), 'the baseline still ran');
        // The last run's output of each point is kept with the run (64 KiB of each stream).
        const out = full.outputs.find((o) => o.backend === 'toy-crash' && o.cores === 2);
        assert.ok(out, `outputs: ${JSON.stringify(full.outputs)}`);
        assert.equal(out.stdout_tail, 'starting\n');
        assert.equal(out.stderr_tail, 'boom: the toy crashed\n');
        assert.deepEqual(out.exit, { exited: true, code: 3 });
    });

    for (const [name, file] of [['toy-tree', 'pids'], ['toy-tree-timed', 'pids-timed']]) test(`cancel kills the program and every process it started (${name})`, async () => {
        const pids = path.join(pdir, file);
        fs.rmSync(pids, { force: true });
        const id = await server.postRun({ programs: [name], cores: [1], repeats: 1, warmup: 0 });
        await server.waitForStatus(id, 'running', 10000);
        const started = await waitUntil(() => {
            const text = fs.existsSync(pids) ? fs.readFileSync(pids, 'utf8').trim().split('\n').filter(Boolean) : [];
            return text.length >= 2 ? text.map(Number) : null;
        }, { timeoutMs: 10000, what: 'the program to start its two sleeps' });
        for (const pid of started) assert.ok(fs.existsSync(`/proc/${pid}`), `sleep ${pid} runs`);
        const r = await server.api('POST', `/api/runs/${id}/cancel`);
        assert.equal(r.status, 202, r.text);
        await server.waitForStatus(id, 'cancelled', 5000);
        const alive = (pid) => {
            try { return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
        };
        await waitUntil(() => started.every((pid) => !alive(pid)),
            { timeoutMs: 3000, what: `the program's processes ${started} to be gone` });
    });

    test('a malformed definition stops the server at start, naming the file', async () => {
        const bad = path.join(dir, 'bad-programs');
        fs.mkdirSync(bad, { recursive: true });
        fs.writeFileSync(path.join(bad, 'broken.json'), JSON.stringify({
            group: 'b', title: 'b', lesson: 'b', params: [],
            programs: [{ name: 'b1', title: 'b', route: 'b', lesson: 'b', argv: ['x', '{samples}'], requires: [] }],
        }));
        await assert.rejects(startServer({ dir, args: ['--programs', bad] }),
            (err) => /broken\.json/.test(err.message) && /\{samples\}/.test(err.message));
        fs.writeFileSync(path.join(bad, 'broken.json'), JSON.stringify({
            group: 'b', title: 'b', lesson: 'b', params: [],
            programs: [{ name: 'b1', title: 'b', route: 'b', lesson: 'b', argv: ['true'], requires: [], timeout_s: 0 }],
        }));
        await assert.rejects(startServer({ dir, args: ['--programs', bad] }),
            (err) => /broken\.json/.test(err.message) && /timeout_s must be a number of seconds above 0/.test(err.message));
    });
});

describe('the shipped Python pi group', { timeout: 120000 }, () => {
    let dir, server;
    before(async () => {
        dir = makeTempDir('pygroup');
        server = await startServer({ dir, args: ['--programs', path.join(REPO, 'programs')] });
    });
    after(async () => {
        if (server) await server.kill9();
        removeDir(dir);
    });

    test('the routes run side by side and count the same hits', async (t) => {
        const list = (await server.api('GET', '/api/programs', { timeoutMs: 90000 })).json; // probes: interpreters importing numba, dask, torch
        const pi = list.groups.find((g) => g.group === 'pi');
        assert.ok(pi, 'the pi group ships');
        // PyTorch's routes too where python3-torch is installed (CI installs it)
        const want = ['py-pi-threading', 'py-pi-mp-pool', 'py-pi-numpy', 'py-pi-torch', 'py-pi-torch-mp'];
        const avail = pi.programs.filter((p) => want.includes(p.name) && p.available).map((p) => p.name);
        if (!pi.programs.find((p) => p.name === 'py-pi-loop').available)
            return t.skip('Debian python3 is not installed');
        const id = await server.postRun({ programs: avail, params: { samples: 20000 }, cores: [1, 2], repeats: 1, warmup: 0 });
        await server.waitForStatus(id, 'done', 90000);
        const full = (await server.api('GET', `/api/runs/${id}`)).json;
        const results = new Set(full.measurements.map((m) => m.result));
        assert.equal(results.size, 1, `one estimate of pi from every route: ${[...results]}`);
        for (const m of full.measurements) assert.equal(m.verified, true, `${m.backend}: ${m.message}`);
        assert.ok(full.measurements.some((m) => m.backend === 'py-pi-loop'), 'the baseline ran');
        for (const name of avail)
            assert.ok(full.measurements.some((m) => m.backend === name), `${name} ran`);
    });
});
