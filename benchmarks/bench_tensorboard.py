"""Cost of the TensorBoard callback (issue 15's targets).

1. ``gradient_freq=1`` against the GradientMonitor's own overhead, on the monitor's benchmark
   model (10 x Dense(64, sigmoid) + Dense(10, softmax), batch 32, SGD, the digits): seconds
   per step of fit without callbacks, with ``GradientMonitor(every=1)`` and with
   ``TensorBoard(gradient_freq=1)`` (which runs such a monitor and writes every record: the
   metric scalars and a kernel-gradient histogram per layer). Target: TensorBoard's overhead
   <= 1.3 x the monitor's.
2. ``histogram_freq=1`` on the lecture model (Flatten(28x28) -> Dense(128, relu) ->
   Dense(10, softmax), Adam, batch 32) against one epoch of 60,000 synthetic samples of
   MNIST's shape: the epoch with and without the callback, and the time spent inside its
   epoch-end hook (the histograms of every weight and the flush). Target: <= 10 %.

Medians of ``--repeats`` runs; each configuration is warmed up first (numba compiles).

    python benchmarks/bench_tensorboard.py [--repeats 5]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo
from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)

import minigrad as mg  # noqa: E402
from minigrad.callbacks import GradientMonitor, TensorBoard  # noqa: E402


def monitor_model():
    model = mg.models.Sequential([mg.layers.Input((64,))]
                                 + [mg.layers.Dense(64, activation="sigmoid")
                                    for _ in range(10)]
                                 + [mg.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=mg.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def lecture_model():
    model = mg.models.Sequential([mg.layers.Input((28, 28)), mg.layers.Flatten(),
                                  mg.layers.Dense(128, activation="relu"),
                                  mg.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=mg.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class TimedTensorBoard(TensorBoard):
    """TensorBoard that adds up the seconds spent in its epoch-end hook."""

    seconds = 0.0

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        super().on_epoch_end(epoch, logs)
        self.seconds += time.perf_counter() - start


def per_step(build, x, y, make_callbacks, repeats, epochs=2):
    times = []
    for _ in range(repeats):
        mg.random.seed(0)
        model = build()
        model.fit(x[:64], y[:64], epochs=1, verbose=0, callbacks=make_callbacks())  # warm-up
        cbs = make_callbacks()
        start = time.perf_counter()
        model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=cbs)
        times.append((time.perf_counter() - start) / (epochs * -(-len(x) // 32)))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; cores: {os.cpu_count()}; numpy {np.__version__}")
    tmp = tempfile.mkdtemp(prefix="bench_tb_")
    counter = iter(range(10**6))

    def tb(**kw):
        return TensorBoard(os.path.join(tmp, f"run{next(counter)}"), **kw)

    # 1. gradient_freq=1 vs the GradientMonitor
    (xa, ya), _ = mg.datasets.digits.load_data()
    x, y = xa.reshape(len(xa), -1), ya.astype(np.int64)
    rows = {}
    for name, factory in (("none", lambda: []),
                          ("monitor", lambda: [GradientMonitor(every=1)]),
                          ("tensorboard", lambda: [tb(gradient_freq=1)]),
                          ("none again", lambda: [])):
        rows[name] = per_step(monitor_model, x, y, factory, args.repeats)
    plain = rows["none"]
    mon, board = rows["monitor"] - plain, rows["tensorboard"] - plain
    print("\n1. gradient_freq=1: 10 x Dense(64, sigmoid) + Dense(10, softmax), batch 32, SGD, "
          "digits (1,500 rows)")
    for name, t in rows.items():
        print(f"  {name:24s} {t * 1e6:8.1f} us/step  overhead {100 * (t / plain - 1):6.1f} %")
    print(f"  TensorBoard overhead / GradientMonitor overhead = {board / mon:.2f} "
          f"(target <= 1.3)")

    # 2. histogram_freq=1 vs one epoch of 60,000 MNIST-shaped samples
    rng = np.random.default_rng(0)
    xm = rng.random((60000, 28, 28), dtype=np.float32)
    ym = rng.integers(0, 10, 60000)
    epochs = {"none": [], "histogram_freq=1": []}
    hook = []
    for _ in range(max(2, args.repeats // 2)):
        for name in epochs:
            mg.random.seed(0)
            model = lecture_model()
            model.fit(xm[:64], ym[:64], epochs=1, verbose=0)   # warm-up
            cbs = []
            if name != "none":
                cbs = [TimedTensorBoard(os.path.join(tmp, f"hist{next(counter)}"),
                                        histogram_freq=1)]
            start = time.perf_counter()
            model.fit(xm, ym, epochs=1, batch_size=32, verbose=0, callbacks=cbs)
            epochs[name].append(time.perf_counter() - start)
            if cbs:
                hook.append(cbs[0].seconds)
    base = statistics.median(epochs["none"])
    with_tb = statistics.median(epochs["histogram_freq=1"])
    inside = statistics.median(hook)
    print("\n2. histogram_freq=1: Flatten(28x28) -> Dense(128, relu) -> Dense(10, softmax), "
          "Adam, batch 32, 60,000 synthetic samples")
    print(f"  epoch without callback   {base:8.2f} s")
    print(f"  epoch with TensorBoard   {with_tb:8.2f} s  difference "
          f"{100 * (with_tb / base - 1):+6.1f} % (run-to-run noise included)")
    print(f"  inside its epoch-end hook {inside * 1e3:7.1f} ms = {100 * inside / base:.2f} % of "
          f"the epoch (target <= 10 %)")


if __name__ == "__main__":
    main()
