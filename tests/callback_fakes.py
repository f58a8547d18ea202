"""Shared fakes for the callback tests: a fake model and the fake fit loop ``fake_fit``.

``fake_fit`` does what ``fit`` does around callbacks: train begin, then per epoch: epoch
begin, a few batches, the epoch's "training" (the weights become ``[epoch, epoch]``), epoch
end with the given logs, stop when ``model.stop_training``; train end.
"""
import csv
import io
from types import SimpleNamespace

import numpy as np

import minigrad as mg
from minigrad import models
from minigrad.callbacks import CallbackList


class FakeMetric:
    def __init__(self, name, direction=None):
        self.name = name
        if direction is not None:
            self.direction = direction


class FakeModel:
    def __init__(self, metrics=()):
        self.stop_training = False
        self.compiled_metrics = list(metrics)
        self.optimizer = SimpleNamespace(learning_rate=0.1)
        self.weights = [np.zeros(2)]
        self.saves = []
        self.history = None

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, path):
        self.saves.append(("model", str(path)))
        with open(path, "w") as f:
            f.write("model")

    def save_weights(self, path):
        self.saves.append(("weights", str(path)))
        with open(path, "w") as f:
            f.write("weights")


def fake_fit(callbacks, model, epoch_logs, steps=2, batch_logs=None, known_steps=True, **kw):
    """Fake fit: returns the number of epochs run. ``known_steps=False`` tells the callbacks
    an unknown number of steps (as fit over a generator does)."""
    cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
        callbacks, model=model, epochs=len(epoch_logs), steps=steps if known_steps else None,
        **kw)
    model.stop_training = False
    cbs.on_train_begin()
    run = 0
    for epoch, logs in enumerate(epoch_logs):
        cbs.on_epoch_begin(epoch)
        for step in range(steps):
            cbs.on_train_batch_begin(step)
            cbs.on_train_batch_end(step, dict(batch_logs or {"loss": 1.0}))
            if model.stop_training:
                break
        model.weights = [np.full(2, float(epoch))]
        cbs.on_epoch_end(epoch, dict(logs))
        run += 1
        if model.stop_training:
            break
    cbs.on_train_end()
    return run


def seq(key, values):
    return [{key: v} for v in values]


def read_csv(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


class TTY(io.StringIO):
    def isatty(self):
        return True


def real_model():
    mg.random.seed(0)
    model = models.Sequential([mg.layers.Dense(8, activation="relu", input_shape=(2,)),
                               mg.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    from minigrad.datasets.synthetic import make_blobs
    x, y = make_blobs(n_samples=120, centers=3, cluster_std=1.0, seed=1)
    return model, x, y


class FakeClock:
    """Stands in for ``time`` in minigrad.progbar: ``monotonic()`` returns ``t``, which only
    the test moves. It starts far from 0, as a real monotonic clock does."""

    def __init__(self, t=1000.0, tick=0.0):
        self.t = t
        self.tick = tick   # seconds added at every reading

    def monotonic(self):
        self.t += self.tick
        return self.t
