"""The frameworks a workload runs on. Each ``make_<peer>(workload, x, y)`` returns a function
``run(i)`` doing step i (a batch taken from the data in order), or raises ``NotInstalled``.

numpy is always there: the same step written by hand (GEMMs, in-place elementwise passes,
Adam in numpy ufuncs). The others run when importable: PyTorch (``nn.Sequential``,
``torch.optim.Adam``), Keras 3 on its torch backend (``train_on_batch``; ``fit`` for the fit
workload), MyGrad and HIPS autograd (numpy-backed autodiff; Adam written out in numpy).
"""
import importlib.util
import os

import numpy as np

from .workloads import initial_weights, minigrad_model

PEERS = ("numpy", "torch", "keras", "mygrad", "autograd")


class NotInstalled(Exception):
    """The peer's package cannot be imported here."""


def _need(module):
    if importlib.util.find_spec(module) is None:
        raise NotInstalled(module)


def _batches(w, x, y):
    n = len(x) - len(x) % w.batch
    starts = list(range(0, n, w.batch))
    return [(x[s:s + w.batch], y[s:s + w.batch]) for s in starts]


def _runner(w, step, batches):
    """``run(i)``: the fit workload runs ``step`` over every batch (one epoch); the others run
    one step on batch ``i`` (cycling)."""
    if w.fit:
        def run(i):
            for xb, yb in batches:
                step(xb, yb)
        return run

    def run(i):
        step(*batches[i % len(batches)])
    return run


def _model_runner(w, model, x, y):
    """``run(i)`` for a Keras-shaped model (minigrad's or Keras's): ``fit`` for one epoch on
    the fit workload, else ``train_on_batch`` on batch ``i``."""
    if w.fit:
        def run(i):
            model.fit(x, y, batch_size=w.batch, epochs=1, verbose=0, shuffle=False)
        return run
    batches = _batches(w, x, y)

    def run(i):
        xb, yb = batches[i % len(batches)]
        model.train_on_batch(xb, yb)
    return run


# ---- minigrad -------------------------------------------------------------------------------
def make_minigrad(w, x, y):
    model = minigrad_model(w)
    model.set_weights(initial_weights(w))
    return _model_runner(w, model, x, y)


# ---- numpy by hand --------------------------------------------------------------------------
def _act(name):
    if name == "relu":
        def fwd(z):
            np.maximum(z, 0.0, out=z)

        def bwd(y, g):
            g *= y > 0
    else:   # sigmoid
        def fwd(z):
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=z)

        def bwd(y, g):
            g *= y
            g *= 1.0 - y
    return fwd, bwd


def numpy_stepper(w, params):
    """``step(xb, yb)``: one training step written by hand in numpy, updating ``params``
    (``[W1, b1, ...]``) in place with Adam(1e-3) in Keras's form."""
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    fwd, bwd = _act(w.activation)
    state = {"t": 0}
    nl = len(w.layers)

    def step(xb, yb):
        acts = [xb]
        h = xb
        for k in range(nl):
            z = h @ params[2 * k]
            z += params[2 * k + 1]
            if k < nl - 1:
                fwd(z)
            h = z
            acts.append(h)
        z = acts[-1]                      # logits: softmax + CE gradient (p - onehot) / n
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        z[np.arange(len(yb)), yb] -= 1.0
        z /= len(yb)
        g = z
        grads = [None] * len(params)
        for k in range(nl - 1, -1, -1):
            if k < nl - 1:
                bwd(acts[k + 1], g)
            grads[2 * k] = acts[k].T @ g
            grads[2 * k + 1] = g.sum(axis=0)
            if k:
                g = g @ params[2 * k].T
        state["t"] += 1
        t = state["t"]
        alpha = 1e-3 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        for p, gr, mi, vi in zip(params, grads, m, v):
            mi *= 0.9
            mi += 0.1 * gr
            gr *= gr
            vi *= 0.999
            vi += 0.001 * gr
            np.sqrt(vi, out=gr)
            gr += 1e-7
            np.divide(mi, gr, out=gr)
            gr *= alpha
            p -= gr
    return step


def make_numpy(w, x, y):
    step = numpy_stepper(w, initial_weights(w))
    batches = _batches(w, x, y)
    return _runner(w, step, batches)


# ---- PyTorch --------------------------------------------------------------------------------
def _torch_model(w):
    import torch
    mods = []
    for k, (i, o) in enumerate(w.layers):
        mods.append(torch.nn.Linear(i, o))
        if k < len(w.layers) - 1:
            mods.append(torch.nn.ReLU() if w.activation == "relu" else torch.nn.Sigmoid())
    model = torch.nn.Sequential(*mods)
    lin = [m for m in mods if isinstance(m, torch.nn.Linear)]
    ws = initial_weights(w)
    with torch.no_grad():
        for k, m in enumerate(lin):
            m.weight.copy_(torch.from_numpy(ws[2 * k].T.copy()))
            m.bias.copy_(torch.from_numpy(ws[2 * k + 1]))
    return model


def make_torch(w, x, y):
    _need("torch")
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
    model = _torch_model(w)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    lossf = torch.nn.CrossEntropyLoss()
    batches = [(torch.from_numpy(xb), torch.from_numpy(yb)) for xb, yb in _batches(w, x, y)]

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), yb)
        loss.backward()
        opt.step()

    return _runner(w, step, batches)


# ---- Keras 3 on torch -----------------------------------------------------------------------
def make_keras(w, x, y):
    _need("keras")
    _need("torch")
    os.environ["KERAS_BACKEND"] = "torch"
    import keras
    if keras.backend.backend() != "torch":
        raise NotInstalled(f"keras with the torch backend (it runs on {keras.backend.backend()})")
    layers = [keras.Input((w.sizes[0],))]
    layers += [keras.layers.Dense(o, activation=w.activation) for o in w.sizes[1:-1]]
    layers.append(keras.layers.Dense(w.sizes[-1], activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy")
    model.set_weights(initial_weights(w))
    return _model_runner(w, model, x, y)


# ---- numpy-backed autodiff: MyGrad, autograd ------------------------------------------------
def _adam_numpy(params):
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    state = {"t": 0}

    def update(grads):
        state["t"] += 1
        t = state["t"]
        alpha = 1e-3 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        for p, g, mi, vi in zip(params, grads, m, v):
            mi += (g - mi) * 0.1
            vi += (g * g - vi) * 0.001
            p -= alpha * mi / (np.sqrt(vi) + 1e-7)
    return update


def make_mygrad(w, x, y):
    _need("mygrad")
    import mygrad as mgd
    params = [mgd.tensor(p) for p in initial_weights(w)]
    raw = [p.data for p in params]
    update = _adam_numpy(raw)
    batches = _batches(w, x, y)
    nl = len(w.layers)

    def step(xb, yb):
        h = xb
        for k in range(nl):
            h = mgd.matmul(h, params[2 * k]) + params[2 * k + 1]
            if k < nl - 1:
                h = mgd.maximum(h, 0.0) if w.activation == "relu" else 1 / (1 + mgd.exp(-h))
        h = h - mgd.max(h, axis=1, keepdims=True).data
        logp = h - mgd.log(mgd.sum(mgd.exp(h), axis=1, keepdims=True))
        loss = -mgd.mean(logp[np.arange(len(yb)), yb])
        loss.backward()
        update([p.grad for p in params])
        for p in params:
            p.null_grad()

    return _runner(w, step, batches)


def make_autograd(w, x, y):
    _need("autograd")
    import autograd
    import autograd.numpy as anp
    params = initial_weights(w)
    update = _adam_numpy(params)
    batches = _batches(w, x, y)
    nl = len(w.layers)

    def loss(ps, xb, yb):
        h = xb
        for k in range(nl):
            h = anp.dot(h, ps[2 * k]) + ps[2 * k + 1]
            if k < nl - 1:
                h = anp.maximum(h, 0.0) if w.activation == "relu" else 1 / (1 + anp.exp(-h))
        h = h - anp.max(h, axis=1, keepdims=True)
        logp = h - anp.log(anp.sum(anp.exp(h), axis=1, keepdims=True))
        return -anp.mean(logp[np.arange(len(yb)), yb])

    grad = autograd.grad(loss)

    def step(xb, yb):
        update(grad(params, xb, yb))

    return _runner(w, step, batches)


MAKERS = {"minigrad": make_minigrad, "numpy": make_numpy, "torch": make_torch,
          "keras": make_keras, "mygrad": make_mygrad, "autograd": make_autograd}
