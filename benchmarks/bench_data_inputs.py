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
Each row: one warm-up epoch, then the best (and the mean) of ``--repeats`` runs of
``--epochs`` epochs, divided by the epoch count; rows are timed in blocks, not interleaved.
The ratio column divides by the matching unweighted array row.

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


def time_row(fit_epochs, epochs, repeats):
    """(best, mean) seconds per epoch after one warm-up epoch."""
    fit_epochs(1)
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit_epochs(epochs)
        runs.append((time.perf_counter() - t0) / epochs)
    return min(runs), sum(runs) / len(runs)


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

    def row(**fit_kw):
        model = lecture_model()
        source = fit_kw.pop("source", None)

        def run(epochs):
            if source == "generator":
                model.fit(forever(x, y), steps_per_epoch=steps, epochs=epochs, verbose=0)
            elif source == "pydataset":
                model.fit(Batches(x, y), epochs=epochs, shuffle=False, verbose=0)
            else:
                model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, **fit_kw)
        return time_row(run, args.epochs, args.repeats)

    rows = [("arrays (shuffled)", row(), None),
            ("arrays (shuffle=False)", row(shuffle=False), None),
            ("generator, steps_per_epoch", row(source="generator"), "arrays (shuffle=False)"),
            ("PyDataset (workers=1)", row(source="pydataset"), "arrays (shuffle=False)"),
            ("arrays + sample_weight", row(sample_weight=w), "arrays (shuffled)"),
            ("arrays + class_weight", row(class_weight=classes), "arrays (shuffled)")]
    print(f"# {cpu_model()} | {platform.python_version()} | numpy {np.__version__} | "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"# lecture model, {len(x)} samples, batch {BATCH}, {steps} steps per epoch; best "
          f"and mean of {args.repeats} x {args.epochs} epochs")
    best = {name: b for name, (b, _), _ in rows}
    print(f"{'input':30s} {'best s/epoch':>13s} {'mean s/epoch':>13s} {'ratio (best)':>13s}")
    for name, (b, mean), ref in rows:
        ratio = f"{b / best[ref]:.3f}" if ref else "-"
        print(f"{name:30s} {b:13.4f} {mean:13.4f} {ratio:>13s}")


if __name__ == "__main__":
    main()
