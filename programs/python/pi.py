"""pi.py — Monte Carlo pi by every Python route of the teaching material, for scalelab.

    python3 pi.py ROUTE --samples N --workers P [--seed S]

Every route counts the same hits: sample i is the point made of the two 32-bit halves of
SplitMix64(seed * G + i * G) (mod 2^64), a hit when x^2 + y^2 <= 2^64 - 1, exactly as
scalelab's native `pi` workload does. Integer arithmetic only, so the count is bit-identical
on every route, worker count and machine; the report's result (4 * hits / samples) is compared
with tolerance 0. Start-up (imports, pools, clusters, JIT compilation) is timed apart from the
compute.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (report.T0 marks the script's start)
import pools  # noqa: E402

G = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
MASK = (1 << 64) - 1


def count_py(begin, end, seed):
    """Pure Python: the kernel the GIL serialises."""
    hits = 0
    z = (seed * G + begin * G) & MASK
    for _ in range(begin, end):
        x = ((z ^ (z >> 30)) * M1) & MASK
        x = ((x ^ (x >> 27)) * M2) & MASK
        x ^= x >> 31
        a = x >> 32
        b = x & 0xFFFFFFFF
        if a * a + b * b <= MASK:
            hits += 1
        z = (z + G) & MASK
    return hits


def timed_py(begin, end, seed):
    """A worker's share, with its busy time (for the imbalance figure)."""
    t = report.now()
    h = count_py(begin, end, seed)
    return h, report.now() - t


def _pooled(kind):
    """A route of pools.py over the pure Python kernel: one share per worker."""
    def route(n, p, seed):
        out, startup, compute = pools.run(kind, p, timed_py,
                                          [(b, e, seed) for b, e in report.shares(n, p)])
        return sum(o[0] for o in out), startup, compute, [o[1] for o in out]
    return route


# --- compiled kernels: NumPy, Numba, Cython, pybind11, PyTorch ---

def _numpy_count(np, begin, end, seed, chunk=1 << 20):
    g = np.uint64(G)
    hits = 0
    for b in range(begin, end, chunk):
        e = min(end, b + chunk)
        z = np.arange(b, e, dtype=np.uint64) * g + np.uint64((seed * G) & MASK)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(M2)
        z ^= z >> np.uint64(31)
        x = z >> np.uint64(32)
        y = z & np.uint64(0xFFFFFFFF)
        hits += int(np.count_nonzero(x * x <= ~(y * y)))
    return hits


def route_numpy(n, p, seed):
    t0 = report.now()
    import numpy as np
    t1 = report.now()
    with np.errstate(over="ignore"):
        h = _numpy_count(np, 0, n, seed)
    t2 = report.now()
    return h, t1 - t0, t2 - t1, [t2 - t1]


def route_numba(n, p, seed):
    t0 = report.now()
    numba, np, count, _, _, _ = _numba_kernels()
    base = np.uint64((seed * G) & MASK)
    count(0, 1, base)  # compile now: JIT time is start-up
    t1 = report.now()
    h = int(count(0, n, base))
    t2 = report.now()
    return h, t1 - t0, t2 - t1, [t2 - t1]


def route_numba_parallel(n, p, seed):
    t0 = report.now()
    numba, np, _, count_par, _, _ = _numba_kernels()
    numba.set_num_threads(p)
    base = np.uint64((seed * G) & MASK)
    count_par(1, base)  # compile and start the threading layer
    t1 = report.now()
    h = int(count_par(n, base))
    t2 = report.now()
    return h, t1 - t0, t2 - t1, None


def route_numba_vectorize(n, p, seed):
    t0 = report.now()
    import numba
    import numpy as np
    from numba import vectorize
    numba.set_num_threads(p)
    _, _, _, _, hit, g = _numba_kernels()
    base = np.uint64((seed * G) & MASK)

    @vectorize(["uint64(uint64)"], target="parallel")
    def hit_v(i):
        return hit(base + i * g)
    hit_v(np.arange(p, dtype=np.uint64))  # start the threads
    t1 = report.now()
    hits, chunk = 0, 1 << 22
    for b in range(0, n, chunk):
        hits += int(hit_v(np.arange(b, min(n, b + chunk), dtype=np.uint64)).sum())
    t2 = report.now()
    return hits, t1 - t0, t2 - t1, None


def _numba_kernels():
    import numba
    import numpy as np
    from numba import njit, prange
    g, m1, m2 = np.uint64(G), np.uint64(M1), np.uint64(M2)

    @njit(inline="always")
    def hit(z):
        z = (z ^ (z >> np.uint64(30))) * m1
        z = (z ^ (z >> np.uint64(27))) * m2
        z = z ^ (z >> np.uint64(31))
        x = z >> np.uint64(32)
        y = z & np.uint64(0xFFFFFFFF)
        return np.uint64(1) if x * x <= ~(y * y) else np.uint64(0)

    @njit
    def count(begin, end, base):
        hits = np.uint64(0)
        for i in range(begin, end):
            hits += hit(base + np.uint64(i) * g)
        return hits

    @njit(parallel=True)
    def count_par(n, base):
        hits = np.uint64(0)
        for i in prange(n):
            hits += hit(base + np.uint64(i) * g)
        return hits

    return numba, np, count, count_par, hit, g


def route_cython(n, p, seed):
    t0 = report.now()
    import pi_cython  # built from pi_cython.pyx by `make programs`
    t1 = report.now()
    h = pi_cython.count(0, n, (seed * G) & MASK, p)
    t2 = report.now()
    return h, t1 - t0, t2 - t1, None


def route_pybind11(n, p, seed):
    t0 = report.now()
    import threading
    import pi_pybind  # built from pi_pybind.cpp by `make programs`
    out = [None] * p
    base = (seed * G) & MASK

    def work(i, b, e):
        t = report.now()
        out[i] = (pi_pybind.count(b, e, base), report.now() - t)  # releases the GIL inside
    threads = [threading.Thread(target=work, args=(i, b, e))
               for i, (b, e) in enumerate(report.shares(n, p))]
    t1 = report.now()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t2 = report.now()
    return sum(o[0] for o in out), t1 - t0, t2 - t1, [o[1] for o in out]


def _torch_count(torch, begin, end, seed, chunk=1 << 21):
    """int64 tensors: multiplication wraps like uint64; right shifts are made logical by
    masking off the sign copies; the hit test compares as unsigned by flipping the sign bit."""
    def srl(z, k):
        return (z >> k) & ((1 << (64 - k)) - 1)

    def signed(v):
        v &= MASK
        return v - (1 << 64) if v >> 63 else v
    g, m1, m2 = signed(G), signed(M1), signed(M2)
    base = signed((seed * G) & MASK)
    sign = signed(1 << 63)
    hits = 0
    for b in range(begin, end, chunk):
        e = min(end, b + chunk)
        z = torch.arange(b, e, dtype=torch.int64) * g + base
        z = (z ^ srl(z, 30)) * m1
        z = (z ^ srl(z, 27)) * m2
        z = z ^ srl(z, 31)
        x = srl(z, 32)
        y = z & 0xFFFFFFFF
        hits += int(((x * x) ^ sign).le((~(y * y)) ^ sign).sum())
    return hits


def route_torch(n, p, seed):
    t0 = report.now()
    import torch
    torch.set_num_threads(p)  # intra-op threads
    _torch_count(torch, 0, 1024, seed)
    t1 = report.now()
    h = _torch_count(torch, 0, n, seed)
    t2 = report.now()
    return h, t1 - t0, t2 - t1, None


def _torch_share(begin, end, seed):
    import torch
    torch.set_num_threads(1)
    t = report.now()
    h = _torch_count(torch, begin, end, seed)
    return h, report.now() - t


def route_torch_mp(n, p, seed):
    t0 = report.now()
    import torch  # noqa: F401  (imported once here, inherited by the forked workers)
    t1 = report.now()
    out, startup, compute = pools.run("torch-mp", p, _torch_share,
                                      [(b, e, seed) for b, e in report.shares(n, p)])
    return sum(o[0] for o in out), t1 - t0 + startup, compute, [o[1] for o in out]


ROUTES = {
    "loop": _pooled("loop"),
    "threading": _pooled("threading"),
    "mp-pool": _pooled("mp-pool"),
    "process-pool": _pooled("process-pool"),
    "thread-pool": _pooled("thread-pool"),
    "joblib": _pooled("joblib"),
    "dask": _pooled("dask"),
    "numpy": route_numpy,
    "numba": route_numba,
    "numba-parallel": route_numba_parallel,
    "numba-vectorize": route_numba_vectorize,
    "cython": route_cython,
    "pybind11": route_pybind11,
    "torch": route_torch,
    "torch-mp": route_torch_mp,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("route", choices=sorted(ROUTES))
    ap.add_argument("--samples", type=float, default=1e6)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    n, p = int(a.samples), max(1, a.workers)
    pre = report.now() - report.T0  # this script's own imports
    hits, startup, compute, busy = ROUTES[a.route](n, p, a.seed)
    report.emit(n, "sample", 4.0 * hits / n, pre + startup, compute, busy, hits=hits)


if __name__ == "__main__":
    main()
