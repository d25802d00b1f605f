"""xsquare.py — the teaching material's benchmark, f(x) = sum of x*x over a long loop, for scalelab.

    python3 xsquare.py ROUTE --tasks T --iterations N --workers P

Task x (1..T) runs `for i in range(N): j += x*x`, as in the material; the result is the sum
of every task's j, an exact integer (compared with tolerance 0). CPU-bound pure Python: threads
wait on the GIL, processes do not, Numba removes the interpreter from the loop.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import pools  # noqa: E402


def f(x, n):
    t = report.now()
    j = 0
    for _ in range(n):
        j += x * x
    return j, report.now() - t


def route_numba(tasks, n, p):
    t0 = report.now()
    from numba import njit

    @njit
    def g(x, n):
        j = 0
        for _ in range(n):
            j += x * x
        return j
    g(1, 1)  # compile: JIT time is start-up
    t1 = report.now()
    out = [g(x, n) for x in range(1, tasks + 1)]
    return sum(out), t1 - t0, report.now() - t1, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("route", choices=sorted(list(pools.KINDS) + ["numba"]))
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--iterations", type=float, default=1e6)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    n, p = int(a.iterations), max(1, a.workers)
    pre = report.now() - report.T0
    if a.route == "numba":
        total, startup, compute, busy = route_numba(a.tasks, n, p)
    else:
        out, startup, compute = pools.run(a.route, p, f, [(x, n) for x in range(1, a.tasks + 1)])
        total, busy = sum(o[0] for o in out), None
    report.emit(a.tasks * n, "iteration", float(total), pre + startup, compute, busy)


if __name__ == "__main__":
    main()
