"""The benchmark workloads: MLP classifiers trained with Adam(1e-3) on sparse labels, and what a
step costs at the physical limit.

Each workload is one ``train_on_batch`` step (or one ``fit`` epoch for ``fit``): Dense layers
of ``sizes`` (input first), the hidden ones with ``activation``, a 10-way softmax output,
sparse categorical cross-entropy, float32, random data (the speed does not depend on it).
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple          # (input, hidden..., classes)
    activation: str
    batch: int
    samples: int = 2048   # rows of the random data set (fit: one epoch over all of them)
    fit: bool = False     # time one fit epoch instead of one step
    title: str = ""

    @property
    def layers(self):
        """(fan_in, fan_out) of every Dense layer."""
        return list(zip(self.sizes[:-1], self.sizes[1:]))

    def params(self):
        return sum(i * o + o for i, o in self.layers)

    def gemm_flops(self):
        """Floating-point operations of the step's GEMMs: forward x@W, backward x^T dz and
        dz W^T (none for the first layer, whose input needs no gradient); 2 per multiply-add."""
        b, total = self.batch, 0
        for k, (i, o) in enumerate(self.layers):
            total += 2 * b * i * o * (2 if k == 0 else 3)
        return total

    def optimizer_bytes(self, itemsize=4):
        """Adam's memory traffic: read w, g, m, v and write w, m, v, per parameter."""
        return 7 * itemsize * self.params()

    def elementwise_bytes(self, itemsize=4):
        """The elementwise passes over the activations: the forward epilogue (read and write
        z) and the backward activation derivative (read y and g, write dz), per layer."""
        return 5 * itemsize * self.batch * sum(o for _, o in self.layers)

    def data(self, seed=0):
        r = np.random.default_rng(seed)
        x = r.random((self.samples, self.sizes[0]), dtype=np.float32)
        y = r.integers(0, self.sizes[-1], self.samples)
        return x, y


WORKLOADS = {
    "lecture": Workload("lecture", (784, 128, 10), "relu", 32,
                        title="784-128-10 relu, batch 32"),
    "medium": Workload("medium", (784, 256, 256, 10), "relu", 128,
                       title="784-256-256-10 relu, batch 128"),
    "deep": Workload("deep", (64,) * 21 + (10,), "sigmoid", 64,
                     title="64 x 20 sigmoid, batch 64"),
    "large": Workload("large", (1024, 2048, 2048, 10), "relu", 256, samples=1024,
                      title="1024-2048-2048-10 relu, batch 256"),
    "fit": Workload("fit", (784, 128, 10), "relu", 32, samples=8192, fit=True,
                    title="lecture model, fit 1 epoch of 8192 samples (ms per epoch)"),
}


def minigrad_model(w):
    """The workload as a compiled minigrad Sequential."""
    import minigrad as mg
    from minigrad import layers as L
    layers = [L.Input((w.sizes[0],))]
    layers += [L.Dense(o, activation=w.activation) for o in w.sizes[1:-1]]
    layers.append(L.Dense(w.sizes[-1], activation="softmax"))
    model = mg.models.Sequential(layers)
    model.compile(optimizer=mg.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model


def initial_weights(w, seed=0):
    """Glorot-uniform kernels and zero biases, ``[W1, b1, W2, b2, ...]`` (shared by all)."""
    r = np.random.default_rng(seed)
    out = []
    for i, o in w.layers:
        lim = np.sqrt(6.0 / (i + o))
        out += [r.uniform(-lim, lim, (i, o)).astype(np.float32), np.zeros(o, np.float32)]
    return out
