"""One gradient experiment: build the net of a config, measure per-layer gradients at
initialisation, train, measure again (API §11). Runs in a worker: ``run_trial(config)``.

A record depends on its config alone: the trial seeds ``minigrad.random`` from it, names its
layers itself, sets float32, pins BLAS (and numba, when loaded) to one thread, and holds a
per-process lock so two trials in one worker process never overlap.
"""
import math
import sys
import threading
import time

import numpy as np

from .config import make_initializer

PROBE_BATCH = 512
_TRIAL_LOCK = threading.Lock()
_DATA = {}
GRAD_METRICS = ("kernel_grad_norm", "kernel_grad_mean_abs", "bias_grad_norm", "delta_norm",
                "activation_mean", "activation_std", "saturation", "update_ratio")


# ---- data -----------------------------------------------------------------------------------
def load_data(name):
    """Flattened float32 ``(x_train, y_train), (x_test, y_test)`` with int64 labels, cached per
    process. moons and spirals are fixed draws (seed 0): the data never varies with the seed."""
    if name not in _DATA:
        _DATA[name] = _load(name)
    return _DATA[name]


def _load(name):
    from ..datasets import digits, fashion_mnist, mnist, synthetic
    if name in ("digits", "digits28"):
        (xa, ya), (xb, yb) = digits.load_data(image_size=28 if name == "digits28" else 8)
    elif name in ("mnist", "fashion_mnist"):
        module = mnist if name == "mnist" else fashion_mnist
        (xa, ya), (xb, yb) = module.load_data()
        xa, xb = xa / np.float32(255), xb / np.float32(255)
    else:
        if name == "moons":
            x, y = synthetic.make_moons(n_samples=1200, noise=0.2, seed=0)
        else:
            x, y = synthetic.make_spirals(n_samples=1200, n_classes=3, noise=0.05, seed=0)
        (xa, ya), (xb, yb) = (x[:1000], y[:1000]), (x[1000:], y[1000:])

    def flat(a):
        return np.ascontiguousarray(a.reshape(len(a), -1), dtype=np.float32)
    return (flat(xa), ya.astype(np.int64)), (flat(xb), yb.astype(np.int64))


# ---- the network ----------------------------------------------------------------------------
class Block:
    """One hidden layer: Dense [+ BatchNormalization + Activation] [+ Dropout], with a skip
    connection around it when ``residual``."""

    def __init__(self, layers, residual):
        self.layers = layers
        self.residual = residual

    def pre_activation(self, h):
        """The input of the non-linearity for input ``h``, as an ndarray (batch norm as in a
        training step on ``h``: see ``probe_call``)."""
        dense = self.layers[0]
        if len(self.layers) > 1 and type(self.layers[1]).__name__ == "BatchNormalization":
            return probe_call(self.layers[1], dense(h, training=False)).data
        return h.data @ dense.kernel.data + dense.bias.data


def probe_call(layer, x):
    """``layer(x)`` as a probe sees it: inference mode, except that batch normalisation uses
    the statistics of ``x`` itself, as in a training step on it (what the next non-linearity
    receives during training, Ioffe & Szegedy's Fig. 1), and leaves its moving statistics
    untouched."""
    if type(layer).__name__ != "BatchNormalization":
        return layer(x, training=False)
    saved = [w.data.copy() for w in (layer.moving_mean, layer.moving_variance)]
    out = layer(x, training=True)
    for w, value in zip((layer.moving_mean, layer.moving_variance), saved):
        w.data[...] = value
    return out


def build_blocks(config, n_in, initializer=None):
    """The hidden blocks of a config: layers named hidden_k (Dense), hidden_k_bn,
    hidden_k_act, hidden_k_dropout. The first block has no skip (it changes the width).
    ``initializer`` (an object) replaces the config's kernel initializer."""
    from .. import layers, regularizers
    init = initializer or make_initializer(config["initializer"])
    binit = make_initializer(config["bias_initializer"])
    act, bn = config["activation"], config["batch_norm"]
    blocks = []
    for k in range(1, config["depth"] + 1):
        reg = regularizers.L2(config["l2"]) if config["l2"] else None
        stack = [layers.Dense(config["width"], activation=None if bn else act,
                              kernel_initializer=init, bias_initializer=binit,
                              kernel_regularizer=reg, name=f"hidden_{k}")]
        if bn:
            stack += [layers.BatchNormalization(name=f"hidden_{k}_bn"),
                      layers.Activation(act, name=f"hidden_{k}_act")]
        if config["dropout"]:
            stack.append(layers.Dropout(config["dropout"], name=f"hidden_{k}_dropout"))
        blocks.append(Block(stack, config["residual"] and k > 1))
    return blocks


def build_model(config, n_in, n_out):
    """``(model, blocks)``: the config's net ending in the layer ``output`` (linear logits
    for "softmax", sigmoid units for "sigmoid")."""
    from .. import layers, models, regularizers
    blocks = build_blocks(config, n_in)
    reg = regularizers.L2(config["l2"]) if config["l2"] else None
    head = layers.Dense(n_out, activation="sigmoid" if config["output"] == "sigmoid" else None,
                        kernel_regularizer=reg, name="output")
    if config["residual"]:
        return _residual_model(blocks, head, n_in), blocks
    stack = [layers.Input((n_in,))]
    for block in blocks:
        stack += block.layers
    return models.Sequential(stack + [head]), blocks


def _residual_model(blocks, head, n_in):
    """h <- h + f(h) for hidden layers 2..depth, with the functional API."""
    import minigrad as mg
    inputs = mg.layers.Input((n_in,))
    h = inputs
    for k, block in enumerate(blocks, 1):
        f = h
        for layer in block.layers:
            f = layer(f)
        h = mg.layers.Add(name=f"hidden_{k}_add")([h, f]) if block.residual else f
    return mg.Model(inputs, head(h))


def compile_model(model, config):
    """The optimizer and loss of a config. "softmax": the output gives logits and the loss is
    sparse cross-entropy from logits (a softmax then Keras's clipped-probability cross-entropy
    would zero the gradient of a saturated net); "sigmoid": binary cross-entropy on one-hot
    targets (Nielsen's cost)."""
    from .. import losses, metrics, optimizers
    cls = type(optimizers.get(config["optimizer"]))
    opt = cls(learning_rate=config["learning_rate"], clipnorm=config["clipnorm"])
    if config["output"] == "softmax":
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)
        metric = metrics.SparseCategoricalAccuracy(name="accuracy")
    else:
        loss = losses.BinaryCrossentropy()
        metric = metrics.CategoricalAccuracy(name="accuracy")
    model.compile(optimizer=opt, loss=loss, metrics=[metric])


# ---- measuring ------------------------------------------------------------------------------
def grad_rows(report):
    """``{layer: {metric: float}}`` of a GradientReport (the record's form)."""
    return {name: {m: float(values.get(m, math.nan)) for m in GRAD_METRICS}
            for name, values in report.layers.items()}


def accuracy(model, x, y):
    """Fraction of argmax predictions equal to the labels (inference mode)."""
    p = model.predict(x, batch_size=512, verbose=0)
    return float(np.mean(np.argmax(p, axis=-1) == y))


def _tracer(config, model, blocks, probe_x, test):
    from ..callbacks import Callback
    from ..grad_mode import no_grad
    wanted = config["trace"]
    every = config["trace_every"]
    trace = {"step": []}
    if "test_accuracy" in wanted:
        trace["test_accuracy"] = []
    for key in ("activation_mean", "activation_std"):
        if key in wanted:
            trace[key] = {f"hidden_{k}": [] for k in range(1, len(blocks) + 1)}
    if "preactivation_percentiles" in wanted:
        trace.update(p15=[], p50=[], p85=[])

    def record(step):
        trace["step"].append(int(step))
        if "test_accuracy" in trace:
            trace["test_accuracy"].append(accuracy(model, *test))
        if len(trace) == 2 and "test_accuracy" in trace:
            return
        with no_grad():
            h = probe_x
            for k, block in enumerate(blocks, 1):
                if k == len(blocks) and "p15" in trace:
                    z = block.pre_activation(_tensor(h))[:, 0]       # one fixed unit: unit 0
                    for q, key in ((15, "p15"), (50, "p50"), (85, "p85")):
                        trace[key].append(float(np.percentile(z, q)))
                a = _tensor(h)
                for layer in block.layers:
                    a = probe_call(layer, a)
                for key in ("activation_mean", "activation_std"):
                    if key in trace:
                        stat = np.mean if key == "activation_mean" else np.std
                        trace[key][f"hidden_{k}"].append(float(stat(a.data)))
                h = (_tensor(h) + a) if block.residual else a

    class Trace(Callback):
        def on_train_begin(self, logs=None):
            record(0)

        def on_train_batch_end(self, batch, logs=None):
            step = int(model.optimizer.iterations)
            if step % every == 0:
                record(step)

    return (Trace() if wanted else None), trace


def _tensor(x):
    from ..tensor import Tensor
    return x if isinstance(x, Tensor) else Tensor(x)


# ---- the trial ------------------------------------------------------------------------------
def empty_record(config):
    return {"config": config, "grad_init": None, "grad_final": None, "history": {},
            "trace": {}, "test_accuracy": None, "epochs_to_target": None, "diverged": False,
            "seconds": 0.0, "error": None}


def run_trial(config):
    """The record of one canonical config (API §11); an exception inside the trial is recorded
    in ``error`` instead of raised."""
    with _TRIAL_LOCK, _one_thread():
        from .. import config as mgconfig
        floatx = mgconfig.floatx()
        mgconfig.set_floatx("float32")
        start = time.perf_counter()
        record = empty_record(config)
        try:
            # an exploding net overflows on purpose: the record marks it, numpy need not warn
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                _measure(config, record)
        except Exception as e:     # the sweep goes on; the record says what went wrong
            record["error"] = f"{type(e).__name__}: {e}"
        finally:
            mgconfig.set_floatx(floatx)
        record["seconds"] = time.perf_counter() - start
        return record


def _measure(config, record):
    from .. import random
    from ..diagnostics.report import gradient_report
    (xa, ya), (xb, yb) = load_data(config["dataset"])
    n_out = int(max(ya.max(), yb.max())) + 1
    if config["train_samples"]:              # the first n training samples (a quick study)
        xa, ya = xa[:config["train_samples"]], ya[:config["train_samples"]]
    random.seed(config["seed"])
    model, blocks = build_model(config, xa.shape[1], n_out)
    compile_model(model, config)
    if config["output"] == "sigmoid":
        eye = np.eye(n_out, dtype=np.float32)
        ta, tb = eye[ya], eye[yb]
    else:
        ta, tb = ya, yb
    probe_x, probe_t = xa[:PROBE_BATCH], ta[:PROBE_BATCH]
    record["grad_init"] = grad_rows(gradient_report(model, probe_x, probe_t))
    tracer, trace = _tracer(config, model, blocks, probe_x, (xb, yb))
    if config["epochs"] > 0:
        hist = model.fit(xa, ta, epochs=config["epochs"], batch_size=config["batch_size"],
                         verbose=0, validation_data=(xb, tb),
                         callbacks=[tracer] if tracer else None)
        record["history"] = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
        record["grad_final"] = grad_rows(gradient_report(model, probe_x, probe_t))
        val = record["history"].get("val_accuracy", [])
        record["epochs_to_target"] = next(
            (i + 1 for i, a in enumerate(val) if a >= config["target"]), None)
    elif tracer is not None:
        tracer.on_train_begin()
    record["trace"] = trace if config["trace"] else {}
    record["test_accuracy"] = accuracy(model, xb, yb)
    losses = record["history"].get("loss", [])
    weights_finite = all(np.isfinite(w.data).all() for w in model.weights)
    record["diverged"] = bool(not weights_finite or not all(math.isfinite(v) for v in losses))


class _one_thread:
    """BLAS (threadpoolctl) and numba (if imported) limited to one thread for the trial, so
    that N workers on N cores do not oversubscribe them."""

    def __enter__(self):
        from threadpoolctl import threadpool_limits
        self._blas = threadpool_limits(limits=1)
        self._numba = None
        numba = sys.modules.get("numba")
        if numba is not None:
            self._numba = numba.get_num_threads()
            numba.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self._numba is not None:
            sys.modules["numba"].set_num_threads(self._numba)
        self._blas.restore_original_limits()
        return False
