"""mpi.py — the pi and x*x workloads with mpi4py, for scalelab: MPI's Python route.

    mpirun -np P python3 mpi.py pi --samples N [--seed S]
    mpirun -np P python3 mpi.py xsquare --tasks T --iterations N

Every rank is a process with its own interpreter (no GIL shared), computing its static share
(report.shares, as the engine's split) with the same pure Python kernels as pi.py and
xsquare.py; the partial results are combined by a message (comm.reduce to rank 0), which
reports. Start-up is what every rank paid before computing: its process start under mpirun,
the interpreter, the imports and MPI_Init, up to a barrier (the slowest rank's); the native
`mpi` backend, which keeps its ranks, reports that launch apart instead.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (report.T0 marks the script's start)


def since_process_start():
    """Seconds since this process was created (its start under mpirun), from /proc."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, in ticks
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workload", choices=["pi", "xsquare"])
    ap.add_argument("--samples", type=float, default=1e6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--iterations", type=float, default=1e6)
    a = ap.parse_args()
    from mpi4py import MPI
    import pi
    import xsquare
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    comm.Barrier()
    startup = comm.reduce(since_process_start(), op=MPI.MAX, root=0)
    t0 = report.now()
    if a.workload == "pi":
        n = int(a.samples)
        b, e = report.shares(n, size)[rank]
        t = report.now()
        part = pi.count_py(b, e, a.seed)
        busy = report.now() - t
    else:
        n = int(a.iterations)
        b, e = report.shares(a.tasks, size)[rank]
        part, busy = 0, 0.0
        for x in range(b + 1, e + 1):
            j, dt = xsquare.f(x, n)
            part, busy = part + j, busy + dt
    total = comm.reduce(part, op=MPI.SUM, root=0)
    busies = comm.gather(busy, root=0)
    compute = report.now() - t0
    if rank != 0:
        return
    if a.workload == "pi":
        report.emit(n, "sample", 4.0 * total / n, startup, compute, busies, hits=total)
    else:
        report.emit(a.tasks * n, "iteration", float(total), startup, compute, busies)


if __name__ == "__main__":
    main()
