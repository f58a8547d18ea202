"""Overhead of the GradientMonitor: 10 x Dense(64, sigmoid), batch 32, the digits.

Prints the seconds per training step of ``fit`` without a monitor, with a monitor recording
every step, and with one recording every 10th step, and the overheads as fractions of the
plain step. Target: recording every step costs <= 25 % of the step time; no monitor costs
nothing (the engine's probe is one empty-list test).

    python benchmarks/bench_diagnostics.py
"""
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo
from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)

import minigrad as mg  # noqa: E402
from minigrad.diagnostics import GradientMonitor  # noqa: E402


def build():
    model = mg.models.Sequential([mg.layers.Input((64,))]
                                 + [mg.layers.Dense(64, activation="sigmoid")
                                    for _ in range(10)]
                                 + [mg.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=mg.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def seconds_per_step(x, y, callbacks_factory, repeats=5, epochs=2):
    times = []
    for _ in range(repeats):
        mg.random.seed(0)
        model = build()
        model.fit(x[:64], y[:64], epochs=1, verbose=0)   # warm-up (kernels compiled)
        cbs = callbacks_factory()
        start = time.perf_counter()
        model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=cbs)
        steps = epochs * -(-len(x) // 32)
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def main():
    (xa, ya), _ = mg.datasets.digits.load_data()
    x, y = xa.reshape(len(xa), -1), ya.astype(np.int64)
    print(f"CPU: {cpu_model()}; cores: {os.cpu_count()}; numpy {np.__version__}")
    plain = seconds_per_step(x, y, lambda: [])
    every1 = seconds_per_step(x, y, lambda: [GradientMonitor(every=1)])
    every10 = seconds_per_step(x, y, lambda: [GradientMonitor(every=10)])
    again = seconds_per_step(x, y, lambda: [])
    print("10 x Dense(64, sigmoid) + Dense(10, softmax), batch 32, SGD, digits (1,500 rows)")
    print(f"  no monitor            {plain * 1e6:8.1f} us/step")
    print(f"  monitor every step    {every1 * 1e6:8.1f} us/step  overhead "
          f"{100 * (every1 / plain - 1):5.1f} %  (target <= 25 %)")
    print(f"  monitor every 10th    {every10 * 1e6:8.1f} us/step  overhead "
          f"{100 * (every10 / plain - 1):5.1f} %")
    print(f"  no monitor (again)    {again * 1e6:8.1f} us/step  run-to-run noise "
          f"{100 * abs(again / plain - 1):5.1f} %")


if __name__ == "__main__":
    main()
