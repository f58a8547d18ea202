"""Cost of the model kinds: the lecture model as Sequential, functional and subclassed.

The model: Flatten(28x28) -> Dense(128, relu) -> Dense(10, softmax), Adam(1e-3), sparse
categorical cross-entropy, batch 32, float32, one BLAS thread. All three start from the same
weights and take the same steps (they compute the same ops, bit for bit), so the difference
is the per-call bookkeeping of each kind: the functional model walks its node plan, the
subclassed one runs its Python ``call``. Timed in blocks per kind (not interleaved call by
call), ``--rounds`` rounds of ``--steps`` ``train_on_batch`` calls after a warm-up; prints the
best, mean and median microseconds per step over the rounds and their ratios to Sequential
(on a shared machine the best round is the least disturbed one).

    python benchmarks/bench_model.py [--steps 300] [--rounds 5]
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo

import numpy as np
from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)

import minigrad as mg
from minigrad import layers as L


def sequential():
    return mg.models.Sequential([L.Input((28, 28)), L.Flatten(),
                                 L.Dense(128, activation="relu"),
                                 L.Dense(10, activation="softmax")])


def functional():
    inp = mg.Input((28, 28))
    h = L.Dense(128, activation="relu")(L.Flatten()(inp))
    return mg.Model(inp, L.Dense(10, activation="softmax")(h))


class Subclassed(mg.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten = L.Flatten()
        self.hidden = L.Dense(128, activation="relu")
        self.out = L.Dense(10, activation="softmax")

    def call(self, x, training=None):
        return self.out(self.hidden(self.flatten(x)))


def subclassed():
    model = Subclassed()
    model.build((None, 28, 28))
    return model


def time_steps(model, x, y, steps):
    t0 = time.perf_counter()
    for i in range(steps):
        j = (i * 32) % (len(x) - 32)
        model.train_on_batch(x[j:j + 32], y[j:j + 32])
    return (time.perf_counter() - t0) / steps * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    r = np.random.default_rng(0)
    x = r.random((2048, 28, 28), dtype=np.float32)
    y = r.integers(0, 10, 2048)
    mg.random.seed(0)
    start = sequential().get_weights()
    kinds = {"Sequential": sequential, "functional": functional, "subclassed": subclassed}
    models = {}
    for name, make in kinds.items():
        model = make()
        model.set_weights(start)
        model.compile(optimizer=mg.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy")
        time_steps(model, x, y, 20)                     # warm-up: numba, slots
        models[name] = model
    times = {name: [] for name in kinds}
    for _ in range(args.rounds):
        for name, model in models.items():              # one block per kind per round
            times[name].append(time_steps(model, x, y, args.steps))
    print(f"train_on_batch, lecture model, batch 32, float32 ({cpu_model()})")
    print(f"{'model':<12}{'best us':>9}{'mean us':>9}{'median us':>11}"
          f"{'best':>8}{'mean':>8}{'median':>8}   (ratios to Sequential)")
    base = times["Sequential"]
    for name, ts in times.items():
        stats = (min(ts), statistics.mean(ts), statistics.median(ts))
        refs = (min(base), statistics.mean(base), statistics.median(base))
        print(f"{name:<12}{stats[0]:>9.1f}{stats[1]:>9.1f}{stats[2]:>11.1f}"
              + "".join(f"{a / b:>8.3f}" for a, b in zip(stats, refs)))
    same = all(np.array_equal(a, b) for m in models.values()
               for a, b in zip(m.get_weights(), models["Sequential"].get_weights()))
    print(f"identical weights after the same steps: {same}")


if __name__ == "__main__":
    main()
