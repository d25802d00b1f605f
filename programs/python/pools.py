"""pools.py — the Python routes that hand tasks to workers, timed the same way for every script.

run(kind, p, fn, tasks) calls fn(*task) for every task on p workers of the given kind and
returns (results in task order, startup seconds, compute seconds). Start-up is creating the
pool, cluster or threads and getting every worker running (a trivial task each); compute is
the mapping of the real tasks. fn must be a module-level function (processes pickle it).
"""
import report


def _threads(p, fn, tasks):
    import threading
    out = [None] * len(tasks)
    t0 = report.now()

    def work(k):
        for i in range(k, len(tasks), p):
            out[i] = fn(*tasks[i])
    threads = [threading.Thread(target=work, args=(k,)) for k in range(p)]
    t1 = report.now()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out, t1 - t0, report.now() - t1


def _star(args):
    fn, task = args
    return fn(*task)


def _executor(make):
    def run(p, fn, tasks):
        t0 = report.now()
        pool = make(p)
        list(pool.map(abs, range(p)))  # every worker up
        t1 = report.now()
        out = list(pool.map(_star, [(fn, t) for t in tasks]))
        t2 = report.now()
        (getattr(pool, "shutdown", None) or pool.terminate)()
        return out, t1 - t0, t2 - t1
    return run


def _mp_pool(p):
    import multiprocessing
    return multiprocessing.Pool(p)


def _process_pool(p):
    from concurrent.futures import ProcessPoolExecutor
    return ProcessPoolExecutor(max_workers=p)


def _thread_pool(p):
    from concurrent.futures import ThreadPoolExecutor
    return ThreadPoolExecutor(max_workers=p)


def _torch_mp_pool(p):
    import torch.multiprocessing as tmp
    return tmp.get_context("fork").Pool(p)


def _joblib(p, fn, tasks):
    t0 = report.now()
    from joblib import Parallel, delayed
    par = Parallel(n_jobs=p, backend="loky")
    par.__enter__()
    par(delayed(abs)(i) for i in range(p))
    t1 = report.now()
    out = par(delayed(fn)(*t) for t in tasks)
    t2 = report.now()
    par.__exit__(None, None, None)
    return list(out), t1 - t0, t2 - t1


def _dask(p, fn, tasks):
    t0 = report.now()
    import logging
    from dask.distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=p, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    client.wait_for_workers(p)
    t1 = report.now()
    # (a tuple whose first item is callable would be read as a dask task: map by columns)
    out = client.gather(client.map(fn, *zip(*tasks), pure=False))
    t2 = report.now()
    client.close()
    cluster.close()
    return list(out), t1 - t0, t2 - t1


def _serial(p, fn, tasks):
    t = report.now()
    return [fn(*task) for task in tasks], 0.0, report.now() - t


KINDS = {
    "loop": _serial,
    "threading": _threads,
    "mp-pool": _executor(_mp_pool),
    "process-pool": _executor(_process_pool),
    "thread-pool": _executor(_thread_pool),
    "joblib": _joblib,
    "dask": _dask,
    "torch-mp": _executor(_torch_mp_pool),
}


def run(kind, p, fn, tasks):
    return KINDS[kind](p, fn, tasks)
