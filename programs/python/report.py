"""report.py — how a Python program tells scalelab its own figures.

One stdout line, `scalelab: {json}`: the work done and its unit (for a rate), the result (so
scalelab can check that every route computed the same thing), the phases in seconds (start-up:
imports, pool or cluster creation, JIT compilation; compute: the work itself) and each worker's
busy seconds (load imbalance). scalelab measures the wall time, CPU time and memory itself;
this line only adds what the program alone knows.
"""
import json
import sys
import time

T0 = time.perf_counter()  # when the script began (after the interpreter started)


def now():
    return time.perf_counter()


def emit(work, unit, result, startup, compute, busy=None, **extra):
    line = {"work": work, "unit": unit, "result": result,
            "phases": {"startup": max(startup, 0.0), "compute": max(compute, 0.0)}}
    if busy:
        line["busy"] = [max(b, 0.0) for b in busy]
    line.update(extra)
    sys.stdout.write("scalelab: " + json.dumps(line) + "\n")
    sys.stdout.flush()


def shares(n, k):
    """The static split of range(n) among k workers, as the engine's sl_split: the first
    n % k workers get one item more."""
    q, r = divmod(n, k)
    out, b = [], 0
    for i in range(k):
        e = b + q + (1 if i < r else 0)
        out.append((b, e))
        b = e
    return out
