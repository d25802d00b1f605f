// bench_export.mjs — what exporting a big run costs the server: a run of 25,000
// measurements (25 points x 1000 repeats of a tiny pi), then 4 exports at once (2 JSON,
// 2 CSV), 3 rounds: wall time of the 4, and the server's RSS before and at its peak.
// `make bench-export`; SCALELAB_SERVER / SCALELAB_ENGINE choose the binaries (so that two
// builds can be compared). Target: RSS growth under 16 MiB for the 4 (the document is
// streamed a page at a time); a whole-document build took hundreds.
import fs from 'node:fs';
import { startServer, waitUntil } from '../tests/api/harness.mjs';

const JOB = { workload: 'pi', params: { samples: 100 }, backends: ['serial', 'threads', 'pool', 'openmp'], cores: [1, 2, 3, 4, 5, 6, 7, 8], repeats: 1000, warmup: 0, oversubscribe: true };
const TARGET_MIB = 16;
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

const server = await startServer({ args: ['--no-access-log'] });
try {
    const t0 = Date.now();
    const id = await server.postRun(JOB);
    await waitUntil(async () => {
        const h = (await server.api('GET', '/api/health')).json;
        return h.queue.running === null && h.queue.length === 0;
    }, { timeoutMs: 600000, intervalMs: 500, what: 'the run to finish' });
    const run = (await server.api('GET', `/api/runs/${id}`, { timeoutMs: 120000 })).json;
    console.log(`export: run of ${run.measurements.length} measurements made in ${((Date.now() - t0) / 1000).toFixed(1)} s (${run.status})`);
    if (run.status !== 'done') throw new Error(`the run ended ${run.status}: ${run.error}`);
    let worst = 0;
    for (let round = 1; round <= 3; round++) {
        const before = rssKiB(server.pid);
        let peak = before;
        const timer = setInterval(() => { peak = Math.max(peak, rssKiB(server.pid)); }, 5);
        const t = Date.now();
        const rs = await Promise.all([0, 1, 2, 3].map((i) => fetch(`${server.url}api/runs/${id}/export?format=${i % 2 ? 'csv' : 'json'}`).then(async (r) => ({ status: r.status, bytes: (await r.arrayBuffer()).byteLength }))));
        const ms = Date.now() - t;
        clearInterval(timer);
        peak = Math.max(peak, rssKiB(server.pid));
        const grew = (peak - before) / 1024;
        worst = Math.max(worst, grew);
        console.log(`export: round ${round}: 4 parallel exports (${rs.map((r) => `${r.status} ${(r.bytes / 1e6).toFixed(1)} MB`).join(', ')}) in ${ms} ms; RSS ${(before / 1024).toFixed(1)} -> ${(peak / 1024).toFixed(1)} MiB (+${grew.toFixed(1)})`);
    }
    console.log(`export: worst RSS growth ${worst.toFixed(1)} MiB   target < ${TARGET_MIB} MiB   ${worst < TARGET_MIB ? 'ok' : 'MISSED'}`);
} finally {
    await server.stop();
}
