"""First-call latency: a fresh interpreter, from ``import minigrad`` to the end of the first
``fit`` step of the lecture model (Flatten 28x28 -> Dense 128 relu -> Dense 10 softmax, Adam,
one batch of 32), with numba's on-disk cache warm and cold.

- warm: the kernels are in numba's cache (one priming run first); numba is imported and its
  cached machine code loaded on the first kernel call;
- cold: ``NUMBA_CACHE_DIR`` points at an empty temporary directory, so every kernel the step
  calls is compiled.

Each child prints its own timings: ``import minigrad``, building and compiling the model, the
first step, and inside the step the numba import, numba's one-time set-up (its first compile or
cache load: typing and lowering registries, which import ``numba.np.linalg`` and, through it,
``scipy.linalg`` when SciPy is installed) and the kernels themselves (compiled or loaded, per
kernel). Medians over ``--runs`` children.

    python benchmarks/bench_startup.py [--runs 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np
rng = np.random.default_rng(0)
x = rng.random((32, 28, 28), dtype=np.float32)
y = rng.integers(0, 10, 32)
t0 = time.perf_counter()
import minigrad as mg
t1 = time.perf_counter()
model = mg.models.Sequential([mg.layers.Flatten(input_shape=[28, 28]),
                              mg.layers.Dense(128, activation="relu"),
                              mg.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
t2 = time.perf_counter()

kernels, depth = {}, [0]
class Timer:                       # wraps numba's Dispatcher.compile (also a cache load)
    def install(self):
        import numba.core.dispatcher as d
        self.orig = d.Dispatcher.compile
        def compile(disp, sig):    # outermost calls only: numba compiles helpers inside
            s = time.perf_counter()
            depth[0] += 1
            try:
                return self.orig(disp, sig)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    name = disp.py_func.__name__
                    kernels[name] = kernels.get(name, 0.0) + time.perf_counter() - s
        d.Dispatcher.compile = compile
t_numba = 0.0
if "--split" in sys.argv:          # numba imported separately, to time it on its own
    s = time.perf_counter(); import numba; t_numba = time.perf_counter() - s
    Timer().install()
t3 = time.perf_counter()
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "build": t2 - t1, "step": t4 - t3 + t_numba,
                  "total": t4 - t0 - (t3 - t2) + t_numba, "numba_import": t_numba,
                  "kernels": kernels, "scipy": "scipy.linalg" in sys.modules}))
"""


def child(env, split=False):
    out = subprocess.run([sys.executable, "-c", CHILD] + (["--split"] if split else []),
                         env=env, cwd=str(ROOT), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(label, runs):
    med = {k: statistics.median(r[k] for r in runs) for k in ("import", "build", "step",
                                                               "total")}
    print(f"{label:6s} total {med['total'] * 1e3:7.0f} ms   (import minigrad "
          f"{med['import'] * 1e3:4.0f} ms, model + compile {med['build'] * 1e3:4.0f} ms, "
          f"first fit step {med['step'] * 1e3:6.0f} ms)")


def breakdown(label, runs):
    """The first step of the --split runs: numba import, then each kernel's compile/load (the
    first one includes numba's one-time set-up)."""
    numba_import = statistics.median(r["numba_import"] for r in runs)
    names = list(runs[0]["kernels"])
    per = {n: statistics.median(r["kernels"].get(n, 0.0) for r in runs) for n in names}
    step = statistics.median(r["step"] for r in runs)
    rest = step - numba_import - sum(per.values())
    parts = ", ".join(f"{n} {t * 1e3:.0f}" for n, t in per.items())
    print(f"  {label} step: numba import {numba_import * 1e3:.0f} ms; kernels "
          f"({len(names)}, the first includes numba's set-up) {parts} ms; everything else "
          f"{rest * 1e3:.0f} ms")
    if runs[0]["scipy"]:
        print(f"    (numba's set-up imported scipy.linalg: {scipy_import_ms():.0f} ms of it in a "
              f"fresh interpreter after numpy)")


def scipy_import_ms():
    code = ("import time, numpy; t = time.perf_counter(); import scipy.linalg; "
            "print(time.perf_counter() - t)")
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(3)]
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="children per case (median)")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child(env)                                   # prime the cache for the warm runs
    warm = [child(env) for _ in range(args.runs)]
    warm_split = [child(env, split=True) for _ in range(args.runs)]
    cold, cold_split = [], []
    for split, sink in ((False, cold), (True, cold_split)):
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as cache:
                sink.append(child(dict(env, NUMBA_CACHE_DIR=cache), split))
    print(f"first-call latency, fresh interpreters, median of {args.runs}:")
    summary("warm", warm)
    summary("cold", cold)
    print("inside the first step (separate runs, numba imported apart to time it):")
    breakdown("warm", warm_split)
    breakdown("cold", cold_split)


if __name__ == "__main__":
    main()
