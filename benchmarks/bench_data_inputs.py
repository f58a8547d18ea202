"""Seconds per epoch of ``fit`` on the lecture model by kind of input (issue 12's budget:
a generator costs <= 10 % over arrays, sample weights <= 5 %).

The model: Flatten(28x28) -> Dense(128, relu) -> Dense(10, softmax), Adam(1e-3), sparse
categorical cross-entropy, accuracy, batch 32, on the 1,500 training digits at 28x28 (47 steps
per epoch). Rows, each ``fit(verbose=0)``:
- arrays: ``fit(x, y)`` (shuffled, the default) and ``fit(x, y, shuffle=False)``;
- generator: an infinite Python generator yielding the same batches, ``steps_per_epoch=47``;
- PyDataset: ``__getitem__`` slicing the arrays, ``workers=1``;
- sample weights: ``fit(x, y, sample_weight=w)`` (the fused cross-entropy with weighted label
  rows) and ``class_weight`` (turned into the same per-sample weights once).
Each row: one warm-up epoch, then the best (and the mean) of ``--repeats`` blocks of
``--epochs`` epochs, divided by the epoch count; the rounds alternate the rows block by block
(never call by call), so load that drifts during the run falls on all of them. The ratio
column divides by the matching unweighted array row. Last, the microseconds per step spent
producing the batch alone (no model step), the part of an epoch the input kind decides.

    python benchmarks/bench_data_inputs.py [--epochs 3] [--repeats 5]
"""
import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo

import numpy as np
from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)

import minigrad as mg
from minigrad.datasets import digits

BATCH = 32


def lecture_model():
    mg.random.seed(0)
    model = mg.models.Sequential([
        mg.layers.Flatten(input_shape=[28, 28]),
        mg.layers.Dense(128, activation="relu"),
        mg.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=mg.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Batches(mg.utils.PyDataset):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return -(-len(self.x) // BATCH)

    def __getitem__(self, i):
        return self.x[i * BATCH:(i + 1) * BATCH], self.y[i * BATCH:(i + 1) * BATCH]


def forever(x, y):
    while True:
        for i in range(0, len(x), BATCH):
            yield x[i:i + BATCH], y[i:i + BATCH]


def time_rows(runners, epochs, repeats):
    """{name: (best, mean)} seconds per epoch: one warm-up epoch each, then ``repeats`` rounds
    in which every row fits ``epochs`` epochs in one block (rounds alternate the rows, so load
    that drifts during the run falls on all of them)."""
    for run in runners.values():
        run(1)
    runs = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            t0 = time.perf_counter()
            run(epochs)
            runs[name].append((time.perf_counter() - t0) / epochs)
    return {name: (min(r), sum(r) / len(r)) for name, r in runs.items()}


def input_path_us(x, y, steps):
    """Microseconds per step spent producing the batch alone (no model step): the array
    adapter's shuffled gather, and a generator's / PyDataset's per-batch checks."""
    from minigrad.models import data_adapters as da
    model = lecture_model()
    arrays = da.ArrayAdapter(x, y, batch_size=BATCH, shuffle=True)
    gen = da.EpochIterator(da.GeneratorAdapter(forever(x, y), model, "fit"), steps)
    pyds = da.EpochIterator(da.PyDatasetAdapter(Batches(x, y), model, "fit"))
    out = {}
    for name, make in (("arrays (shuffled)", lambda: arrays.batches()),
                       ("generator", lambda: gen), ("PyDataset", lambda: pyds)):
        best = float("inf")
        for _ in range(20):
            t0 = time.perf_counter()
            for _ in make():
                pass
            best = min(best, time.perf_counter() - t0)
        out[name] = best / steps * 1e6
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    (x, y), _ = digits.load_data(image_size=28)
    x = x.astype(np.float32)
    steps = -(-len(x) // BATCH)
    w = np.random.default_rng(0).random(len(x)).astype(np.float32)
    classes = {c: float(i + 1) / 10 for i, c in enumerate(range(10))}

    def runner(**fit_kw):
        model = lecture_model()
        source = fit_kw.pop("source", None)

        def run(epochs):
            if source == "generator":
                model.fit(forever(x, y), steps_per_epoch=steps, epochs=epochs, verbose=0)
            elif source == "pydataset":
                model.fit(Batches(x, y), epochs=epochs, shuffle=False, verbose=0)
            else:
                model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, **fit_kw)
        return run

    plan = [("arrays (shuffled)", {}, None),
            ("arrays (shuffle=False)", {"shuffle": False}, None),
            ("generator, steps_per_epoch", {"source": "generator"}, "arrays (shuffle=False)"),
            ("PyDataset (workers=1)", {"source": "pydataset"}, "arrays (shuffle=False)"),
            ("arrays + sample_weight", {"sample_weight": w}, "arrays (shuffled)"),
            ("arrays + class_weight", {"class_weight": classes}, "arrays (shuffled)")]
    times = time_rows({name: runner(**kw) for name, kw, _ in plan}, args.epochs, args.repeats)
    rows = [(name, times[name], ref) for name, _, ref in plan]
    print(f"# {cpu_model()} | {platform.python_version()} | numpy {np.__version__} | "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"# lecture model, {len(x)} samples, batch {BATCH}, {steps} steps per epoch; best "
          f"and mean of {args.repeats} x {args.epochs} epochs")
    best = {name: b for name, (b, _), _ in rows}
    print(f"{'input':30s} {'best s/epoch':>13s} {'mean s/epoch':>13s} {'ratio (best)':>13s}")
    for name, (b, mean), ref in rows:
        ratio = f"{b / best[ref]:.3f}" if ref else "-"
        print(f"{name:30s} {b:13.4f} {mean:13.4f} {ratio:>13s}")
    step_us = best["arrays (shuffled)"] / steps * 1e6
    print(f"# producing the batch alone, us per step (a whole step: {step_us:.0f} us)")
    for name, us in input_path_us(x, y, steps).items():
        print(f"{name:30s} {us:13.1f}")


if __name__ == "__main__":
    main()
