"""euler.py — Euler's method for dy/dt = -y + sin(t), one trajectory or many, for scalelab.

    python3 euler.py ROUTE --trajectories K --steps N --workers P

Trajectory k starts at y0 = 1 + k / K and takes N steps of dt = 1e-4. Each step needs the one
before (the material's lesson: one trajectory cannot be parallelised); independent
trajectories can. The result is the sum of the final values (compared with a tolerance of
1e-9: the routes add the trajectories in different orders).
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import pools  # noqa: E402

DT = 1e-4


def trajectories(begin, end, k_total, n):
    """Final values of trajectories [begin, end), summed, with the busy time."""
    t0 = report.now()
    s = 0.0
    for k in range(begin, end):
        y, t = 1.0 + k / k_total, 0.0
        for _ in range(n):
            y = y + (-y + math.sin(t)) * DT
            t += DT
        s += y
    return s, report.now() - t0


def route_numpy(k_total, n, p):
    t0 = report.now()
    import numpy as np
    t1 = report.now()
    y = 1.0 + np.arange(k_total) / k_total
    t = 0.0
    for _ in range(n):  # every trajectory advances at once: the steps stay serial
        y = y + (-y + math.sin(t)) * DT
        t += DT
    return float(y.sum()), t1 - t0, report.now() - t1, None


def _numba(parallel):
    def route(k_total, n, p):
        t0 = report.now()
        import numba
        from numba import njit, prange
        numba.set_num_threads(p)

        @njit(parallel=parallel)
        def run(k_total, n):
            s = 0.0
            for k in prange(k_total):
                y, t = 1.0 + k / k_total, 0.0
                for _ in range(n):
                    y = y + (-y + math.sin(t)) * DT
                    t += DT
                s += y
            return s
        run(1, 1)  # compile: JIT time is start-up
        t1 = report.now()
        s = run(k_total, n)
        return s, t1 - t0, report.now() - t1, None
    return route


COMPILED = {"numpy": route_numpy, "numba": _numba(False), "numba-parallel": _numba(True)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("route", choices=sorted(list(pools.KINDS) + list(COMPILED)))
    ap.add_argument("--trajectories", type=int, default=1)
    ap.add_argument("--steps", type=float, default=1e6)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    k, n, p = max(1, a.trajectories), int(a.steps), max(1, a.workers)
    pre = report.now() - report.T0
    if a.route in COMPILED:
        s, startup, compute, busy = COMPILED[a.route](k, n, p)
    else:
        out, startup, compute = pools.run(a.route, p, trajectories,
                                          [(b, e, k, n) for b, e in report.shares(k, p)])
        s, busy = sum(o[0] for o in out), [o[1] for o in out]
    report.emit(k * n, "step", s, pre + startup, compute, busy)


if __name__ == "__main__":
    main()
