"""Speed-up of a sweep on 2 cores: local process pool and Dask LocalCluster vs serial.

The grid: the lecture-sized gradient experiment (10 hidden layers of 32 units on the digits,
SGD 0.1, batch 32, 20 epochs, gradient reports at init and at the end) for 6 activations x 8
seeds = 48 trials. Each path runs the whole grid:
- serial: ``SerialExecutor`` in this process (warmed up by one untimed trial);
- pool: ``run_grid(workers=2)``, the default local process pool (its start-up counted);
- dask: a ``dask.distributed.LocalCluster`` of 2 worker processes with 1 thread each (its
  start-up, including one warm-up trial per worker, printed apart: a cluster outlives one
  sweep).
Targets on 2 cores: pool >= 1.8x serial, Dask >= 1.6x serial, and the Dask path's per-trial
overhead over the pool <= 10 %. The records of the three paths must be identical apart from
timings (printed).

    python benchmarks/bench_sweep.py [--epochs 20] [--seeds 8]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo
from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)

from minigrad import experiments as ex  # noqa: E402

ACTIVATIONS = [("sigmoid", "glorot_uniform"), ("tanh", "glorot_uniform"),
               ("relu", "he_normal"), ("leaky_relu", "he_normal"), ("elu", "he_normal"),
               ("selu", "lecun_normal")]


def grid(epochs, seeds):
    return [dict(case=f"{act} + {init}", activation=act, initializer=init, depth=10,
                 width=32, epochs=epochs, seed=list(range(seeds)))
            for act, init in ACTIVATIONS]


def strip(results):
    return [json.dumps({k: v for k, v in r.items() if k != "seconds"}, sort_keys=True)
            for r in results]


def timed(label, fn):
    start = time.perf_counter()
    results = fn()
    seconds = time.perf_counter() - start
    failed = sum(r["error"] is not None for r in results)
    print(f"{label:<34}{seconds:9.2f} s{seconds / len(results) * 1000:10.1f} ms/trial"
          f"{'' if not failed else f'   ({failed} failed)'}", flush=True)
    return results, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args(argv)
    g = ex.Grid.from_configs(grid(args.epochs, args.seeds))
    n = len(g)
    print(f"bench_sweep: {n} trials (10 x 32 on the digits, {args.epochs} epochs), "
          f"{os.cpu_count()} cores, {cpu_model()}")
    ex.run_trial(g.configs()[0])                     # warm-up: kernels loaded, data cached
    serial, t_serial = timed("serial (this process)", lambda: ex.run_grid(
        g, executor=ex.SerialExecutor(), progress=False))
    pool, t_pool = timed("local pool, 2 workers", lambda: ex.run_grid(
        g, workers=2, progress=False))
    from distributed import Client, LocalCluster
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    # a cluster's workers are fresh processes (the pool's are forked from this warm one):
    # importing minigrad and loading the compiled kernels there is start-up, not per trial
    client.run(ex.run_trial, g.configs()[0])
    print(f"{'  (Dask LocalCluster start-up':<34}{time.perf_counter() - start:9.2f} s, "
          f"workers warmed up by one trial)")
    try:
        dask, t_dask = timed("Dask LocalCluster, 2 workers", lambda: ex.run_grid(
            g, executor=client, progress=False))
    finally:
        client.close()
        cluster.close()
    same = strip(serial) == strip(pool) == strip(dask)
    print(f"\nrecords identical apart from timings: {'yes' if same else 'NO'}")
    print(f"speed-up pool vs serial: {t_serial / t_pool:5.2f}x   (target >= 1.8x)")
    print(f"speed-up Dask vs serial: {t_serial / t_dask:5.2f}x   (target >= 1.6x)")
    print(f"Dask per-trial overhead vs pool: {(t_dask - t_pool) / n * 1000:+.1f} ms/trial = "
          f"{(t_dask / t_pool - 1) * 100:+.1f} %   (target <= 10 %)")
    print("\nsummary of the serial run:")
    print(serial.summary())
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
