#!/usr/bin/python3
"""bench_programs.py — `make bench-programs`: programs measured by scalelab, each figure next
to its target.

1. Timing agrees with hyperfine: the same command measured by both, side by side in
   alternating rounds (`sleep 0.2` and a short Python script); the ratio of the medians,
   target within 2%, paired round by round. scalelab's own cost per program run: the engine's elapsed time beyond
   the programs' wall times, per run, and the median of `/bin/true` (fork + exec + reap).
2. The shipped Python pi group at cores 1,2 (programs/pi.json, run as the server would):
   threading's speedup <= 1.2 (the GIL), the process routes' >= 1.5 at a size where start-up
   is small (PROC_SAMPLES); at a small size the process routes' start-up share; Numba's compile time as
   start-up.

The machine may be shared: every figure is measured in several rounds and reported as the
median with the range. Environment: SCALELAB_ENGINE (the engine), PARTS (hyperfine,python:
which parts to run), ROUNDS (3), RUNS (15), HF_ROUNDS (40; an eighth of them for `sleep
0.2`, whose spread is small) and HF_RUNS (5) for the hyperfine pairs,
PI_SAMPLES (2e6, the group's size), PI_REPEATS (3), PROC_SAMPLES (2e7, where the process
routes' start-up is small) and PROC_REPEATS (3). Exit status 0 when every figure was
measured (a MISS is reported, not fatal, as in `make bench`), 1 when something could not be.
"""
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.environ.get("SCALELAB_ENGINE", os.path.join(REPO, "build/bin/scalelab-engine"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
RUNS = int(os.environ.get("RUNS", "15"))
HF_ROUNDS = int(os.environ.get("HF_ROUNDS", "40"))
HF_RUNS = int(os.environ.get("HF_RUNS", "5"))
PI_SAMPLES = float(os.environ.get("PI_SAMPLES", "2e6"))
PI_REPEATS = int(os.environ.get("PI_REPEATS", "3"))
PROC_SAMPLES = float(os.environ.get("PROC_SAMPLES", "2e7"))
PROC_REPEATS = int(os.environ.get("PROC_REPEATS", "3"))
PY = "/usr/bin/python3"
SHORT_PY = [PY, "-c", "sum(i * i for i in range(300000))"]


def verdict(ok):
    return "ok" if ok else "MISS"


def engine_json(job):
    """Run a job through the engine; returns (measurements, summary)."""
    p = subprocess.run([ENGINE, "run", "--job", "-", "--json"], input=json.dumps(job),
                       capture_output=True, text=True, timeout=3600)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    summary = next((l for l in lines if l.get("type") == "summary"), None)
    if summary is None:
        raise RuntimeError(f"the engine failed: {p.stderr.strip()[-400:]}")
    return [l for l in lines if l.get("type") == "measurement"], summary


def scalelab_median(argv, runs, warmup=2):
    """The median wall time of argv, and the engine's own time per run beyond the programs'
    wall times (meaningful with warmup=0: the warm-up runs' walls are not reported)."""
    ms, summary = engine_json({"command": {"argv": argv}, "cores": [1], "repeats": runs,
                               "warmup": warmup, "thread_env": False})
    walls = [m["wall_ns"] * 1e-9 for m in ms]
    return statistics.median(walls), (summary["elapsed_s"] - sum(walls)) / len(walls)


def hyperfine_times(argv, runs, tmp):
    out = os.path.join(tmp, "hf.json")
    # -N: no intermediate shell (hyperfine execs the command itself, as scalelab does)
    subprocess.run(["hyperfine", "-N", "--warmup", "2", "--runs", str(runs), "--export-json", out,
                    "--style", "none", shlex.join(argv)], check=True, capture_output=True, text=True)
    with open(out) as f:
        return json.load(f)["results"][0]["times"]


def scalelab_times(argv, runs):
    ms, _ = engine_json({"command": {"argv": argv}, "cores": [1], "repeats": runs, "warmup": 2,
                         "thread_env": False})
    return [m["wall_ns"] * 1e-9 for m in ms]


def rng(xs, fmt="{:.3f}"):
    return f"median {fmt.format(statistics.median(xs))} (range {fmt.format(min(xs))} .. {fmt.format(max(xs))})"


def part_hyperfine():
    """Both tools on the same command in many short rounds, the order flipping every round.
    The figure is the median of the per-round ratios: each round's two medians are taken
    minutes apart at most, so a shared machine's drift (which moved the pooled medians by up
    to 10% here) cancels in the pair. The pooled ratio is printed beside it."""
    if not shutil.which("hyperfine"):
        print("hyperfine: not installed (apt-get install hyperfine): timing comparison skipped")
        return True
    print(f"== timing against hyperfine: rounds of {HF_RUNS} runs each, order alternating ==")
    with tempfile.TemporaryDirectory() as tmp:
        for label, argv, rounds in (("sleep 0.2", ["sleep", "0.2"], max(3, HF_ROUNDS // 8)),
                                    ("short python script", SHORT_PY, HF_ROUNDS)):
            sl, hf, ratios, over = [], [], [], []
            for r in range(rounds):
                for tool in ((0, 1) if r % 2 == 0 else (1, 0)):
                    if tool == 0:
                        h = hyperfine_times(argv, HF_RUNS, tmp)
                    else:
                        s = scalelab_times(argv, HF_RUNS)
                hf += h
                sl += s
                ratios.append(statistics.median(s) / statistics.median(h))
            for _ in range(ROUNDS):
                over.append(scalelab_median(argv, max(3, RUNS // 3), warmup=0)[1])
            paired = statistics.median(ratios)
            pooled = statistics.median(sl) / statistics.median(hf)
            print(f"{label:22s} scalelab median {statistics.median(sl):.4f} s, hyperfine median "
                  f"{statistics.median(hf):.4f} s over {len(sl)} runs each ({rounds} rounds)")
            print(f"{'':22s} ratio of medians, paired by round {paired:.4f}  target within 2%: "
                  f"{verdict(abs(paired - 1) <= 0.02)}  (rounds {rng(ratios, '{:.3f}')}; pooled {pooled:.4f})")
            print(f"{'':22s} engine overhead per run (elapsed beyond the programs' wall) "
                  f"{rng([o * 1e3 for o in over], '{:.2f}')} ms")
        true_med = [scalelab_median(["/bin/true"], RUNS)[0] * 1e3 for _ in range(ROUNDS)]
        hf_true = [statistics.median(hyperfine_times(["/bin/true"], RUNS, tmp)) * 1e3 for _ in range(ROUNDS)]
        print(f"{'/bin/true':22s} start + exit + reap as scalelab times it: {rng(true_med, '{:.3f}')} ms; "
              f"hyperfine -N: {rng(hf_true, '{:.3f}')} ms")
    return True


def pi_job(names, samples, repeats):
    with open(os.path.join(REPO, "programs", "pi.json")) as f:
        group = json.load(f)
    pdir = os.path.join(REPO, "programs")
    progs = []
    for p in group["programs"]:
        if p["name"] not in names:
            continue
        sub = lambda v: v.replace("{dir}", pdir)  # noqa: E731 (the server's {dir})
        e = {"name": p["name"], "argv": [sub(a) for a in p["argv"]],
             "parallel": p.get("parallel", True)}
        if "env" in p:
            e["env"] = {k: sub(v) for k, v in p["env"].items()}
        progs.append(e)
    return {"workload": "pi", "programs": progs, "params": {"samples": samples, "seed": 0},
            "size_param": "samples", "tolerance": 0,
            "baseline": "py-pi-loop" if "py-pi-loop" in names else names[0],
            "cores": [1, 2], "repeats": repeats, "warmup": 1}


def points(summary):
    return {(p["backend"], p["cores"]): p for p in summary["analysis"]["points"]}


def part_process_routes(procs):
    """The process routes' target, at a size where their start-up is small: PROC_SAMPLES.
    joblib's loky runs n_jobs=1 in the calling process and starts its workers (fresh
    interpreters that import the task's module) only at 2, about 0.3 s that 2e6 samples
    (0.8 s of compute) cannot repay; the start-up share at 2 cores is printed with each."""
    print(f"\n== the process routes at samples={PROC_SAMPLES:g}, {PROC_REPEATS} repeats ==")
    ms, summary = engine_json(pi_job(procs, PROC_SAMPLES, PROC_REPEATS))
    pts = points(summary)
    for n in procs:
        one, two = pts[(n, 1)], pts[(n, 2)]
        v = one["wall_s"]["median"] / two["wall_s"]["median"]  # against the route's own 1 core
        share = two["spawn_s"] / two["wall_s"]["median"]
        print(f"{n} speedup at 2 cores {v:.2f}: target >= 1.5: {verdict(v >= 1.5)} "
              f"(start-up {two['spawn_s']:.2f} s = {100 * share:.0f}% of the run at 2 cores; "
              f"wall {one['wall_s']['median']:.2f} -> {two['wall_s']['median']:.2f} s)")


def part_python():
    names = ["py-pi-loop", "py-pi-threading", "py-pi-mp-pool", "py-pi-process-pool",
             "py-pi-joblib", "py-pi-numba", "py-pi-numba-parallel"]
    procs = ["py-pi-mp-pool", "py-pi-process-pool", "py-pi-joblib"]
    if subprocess.run([PY, "-c", "import numba, joblib"], capture_output=True).returncode:
        print("python routes: Debian's python3-numba / python3-joblib missing: skipped")
        return True
    n_rounds = max(1, ROUNDS - 1)
    print(f"\n== the Python pi group at cores 1,2: samples={PI_SAMPLES:g}, {PI_REPEATS} repeats, "
          f"{n_rounds} rounds ==")
    speed = {n: [] for n in names}     # wall-time speedup at 2 cores vs the route's 1 core
    cspeed = {n: [] for n in names}    # the same for the compute phase only (start-up left out)
    busy = {n: [] for n in names}      # cores kept busy at 2 workers: CPU time / wall time
    startup = {n: [] for n in names}
    results = set()
    nan = float("nan")
    for _ in range(n_rounds):
        ms, summary = engine_json(pi_job(names, PI_SAMPLES, PI_REPEATS))
        results |= {m.get("result") for m in ms}
        pts = points(summary)
        for n in names:
            one, two = pts.get((n, 1)), pts.get((n, 2)) or pts.get((n, 1))
            speed[n].append(two["speedup"] if two and two.get("speedup") is not None else nan)
            cspeed[n].append(one["compute_s"] / two["compute_s"] if one and two and two["compute_s"] else nan)
            busy[n].append(two["cpu_util"] * two["cores"] if two and two.get("cpu_util") is not None else nan)
            startup[n].append(one["spawn_s"] if one else nan)
    print(f"every route's estimate of pi: {sorted(results)} "
          f"({'identical' if len(results) == 1 else 'DIFFERENT'})")
    print(f"  {'route':22s} {'speedup (wall)':>30s} {'speedup (compute phase)':>30s} {'cores busy at 2':>28s} {'start-up at 1 core (s)':>30s}")
    for n in names:
        print(f"  {n:22s} {rng(speed[n], '{:.2f}'):>30s} {rng(cspeed[n], '{:.2f}'):>30s} "
              f"{rng(busy[n], '{:.2f}'):>28s} {rng(startup[n], '{:.3f}'):>30s}")
    thr = statistics.median(speed["py-pi-threading"])
    print(f"threading speedup at 2 cores {thr:.2f}: target <= 1.2 (the GIL): {verdict(thr <= 1.2)}; "
          f"it keeps {statistics.median(busy['py-pi-threading']):.2f} cores busy "
          f"(mp-pool: {statistics.median(busy['py-pi-mp-pool']):.2f})")
    for n in procs:
        v, c = statistics.median(speed[n]), statistics.median(cspeed[n])
        print(f"{n} speedup at 2 cores at samples={PI_SAMPLES:g}: {v:.2f} (compute phase alone {c:.2f})")
    part_process_routes(procs)
    nb = statistics.median(startup["py-pi-numba"])
    print(f"Numba's compile (start-up at 1 core) {nb:.3f} s vs the plain loop's "
          f"{statistics.median(startup['py-pi-loop']):.3f} s: visible: {verdict(nb > 0.1)}")
    load = os.getloadavg()[0]
    print(f"load average now {load:.1f} on {os.cpu_count()} CPUs"
          + (": the machine is shared, speedups above 1 need an idle second core" if load > os.cpu_count() else ""))

    small = 2e4
    print(f"\n== start-up share at a small size: samples={small:g} ==")
    ms, summary = engine_json(pi_job(["py-pi-loop"] + procs, small, PI_REPEATS))
    pts = points(summary)
    for n in procs:
        p = pts[(n, 2)]
        wall = p["wall_s"]["median"]
        share = p["spawn_s"] / wall
        print(f"  {n:22s} start-up {p['spawn_s'] * 1e3:.0f} ms of {1e3 * wall:.0f} ms "
              f"= {100 * share:.0f}% of the run: visible: {verdict(share >= 0.2)}")
    return True


def main():
    if not os.access(ENGINE, os.X_OK):
        print(f"bench_programs: no engine at {ENGINE} (make, or set SCALELAB_ENGINE)", file=sys.stderr)
        return 1
    try:
        parts = os.environ.get("PARTS", "hyperfine,python").split(",")
        ok = part_hyperfine() if "hyperfine" in parts else True
        ok &= part_python() if "python" in parts else True
    except (RuntimeError, subprocess.CalledProcessError, KeyError) as e:
        print(f"bench_programs: {e}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
