"""slow_square.py — the material's slow_square: tasks that sleep, then square, for scalelab.

    python3 slow_square.py ROUTE --tasks T --delay S --workers P

Each task sleeps `delay` seconds (waiting, not computing) and returns x * x. Waiting tasks
release the GIL, so threads help as much as processes, and far beyond the core count (run
with oversubscription to see it). The result is the sum of the squares (tolerance 0).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import pools  # noqa: E402


def slow_square(x, delay):
    t = report.now()
    time.sleep(delay)
    return x * x, report.now() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("route", choices=sorted(pools.KINDS))
    ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--delay", type=float, default=0.1)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    pre = report.now() - report.T0
    out, startup, compute = pools.run(a.route, max(1, a.workers), slow_square,
                                      [(x, a.delay) for x in range(a.tasks)])
    report.emit(a.tasks, "task", float(sum(o[0] for o in out)), pre + startup, compute)


if __name__ == "__main__":
    main()
