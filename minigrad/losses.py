"""Losses: ``loss(y_true, y_pred) -> scalar Tensor``, the mean over the batch (Keras's
"sum_over_batch_size").

``y_pred`` is a Tensor (an array is wrapped); ``y_true`` is a constant, cast to ``y_pred``'s
dtype (integer class ids stay integers for the sparse loss). Ranks are aligned as Keras does:
y_true (n,) against y_pred (n, 1) becomes (n, 1) (and the reverse); any other mismatch
raises, naming the loss and both shapes.

Cross-entropy with ``from_logits=False`` is Keras's clipped form: p / sum(p), clipped to
[1e-7, 1 - 1e-7], then -sum(y log p) (zero gradient where a probability was clipped). When
``y_pred`` is the output of a softmax node, the fused ``softmax_cross_entropy`` kernel runs on
that node's logits with ``epsilon=1e-7`` instead: the same loss and gradient in one pass.
Unlike Keras, the loss *functions* here also return the batch mean, not per-sample values.
"""
import numpy as np

from . import config
from ._registry import Registry, deserialize_with, serialize_with
from .ops.softmax import Softmax, softmax_cross_entropy
from .tensor import Tensor

registry = Registry("loss")


# ---- inputs: conversion, rank alignment, label checks ----------------------------------------
def _pred(y_pred):
    p = y_pred if isinstance(y_pred, Tensor) else Tensor(y_pred)
    if p.data.dtype.kind != "f":
        p = Tensor(p.data.astype(config.floatx()))
    return p


def _raw(y_true):
    return np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)


def _check_batch(name, true_shape, pred_shape):
    if true_shape and pred_shape and true_shape[0] != pred_shape[0]:
        raise ValueError(f"{name}: y_true has {true_shape[0]} samples (shape {true_shape}) "
                         f"but y_pred has {pred_shape[0]} (shape {pred_shape})")


def aligned_shape(name, true_shape, pred_shape):
    """The common shape of y_true and y_pred after Keras's rank alignment: equal shapes, or
    shapes that differ only by a trailing 1 ((n,) against (n, 1) -> (n, 1)). Anything else
    raises ValueError naming ``name`` and both shapes (metrics use this too)."""
    t, p = tuple(true_shape), tuple(pred_shape)
    if len(t) == len(p) + 1 and t[-1] == 1 and t[:-1] == p:
        return t
    if len(p) == len(t) + 1 and p[-1] == 1 and p[:-1] == t:
        return p
    if t != p:
        _check_batch(name, t, p)
        hint = ""
        if p and t == p[:-1]:
            hint = " (integer class ids need the sparse_categorical_ variant)"
        raise ValueError(f"{name}: y_true of shape {t} does not match y_pred of shape {p}: "
                         f"expected equal shapes, or (n,) against (n, 1){hint}")
    return t


def _aligned(name, y_true, y_pred):
    """(y_true as an ndarray in y_pred's dtype, y_pred Tensor), both of the aligned shape."""
    p = _pred(y_pred)
    t = _raw(y_true)
    shape = aligned_shape(name, t.shape, p.shape)
    t = t.astype(p.dtype, copy=False).reshape(shape)
    if p.shape != shape:
        p = p.reshape(shape)
    return t, p


def sparse_ids(name, y_true, pred_shape):
    """Integer class ids (int64, shape ``pred_shape[:-1]``) from y_true of that shape or with
    a trailing 1; float labels must be whole numbers; every id must lie in [0, k)."""
    lab = _raw(y_true)
    batch, k = tuple(pred_shape[:-1]), pred_shape[-1]
    if lab.shape == batch + (1,):
        lab = lab.reshape(batch)
    if lab.shape != batch:
        _check_batch(name, lab.shape, tuple(pred_shape))
        raise ValueError(f"{name}: labels of shape {lab.shape} do not fit y_pred of shape "
                         f"{tuple(pred_shape)}: expected integer class ids of shape {batch}")
    if lab.dtype.kind == "f":
        whole = np.isfinite(lab) & (lab == np.round(lab))
        if not whole.all():
            raise ValueError(f"{name}: labels must be integer class ids; got "
                             f"{lab[~whole].reshape(-1)[0]!r}")
    elif lab.dtype.kind not in "iub":
        raise ValueError(f"{name}: labels must be integer class ids, got dtype {lab.dtype}")
    ids = lab.astype(np.int64, copy=False)
    # one reduction finds both kinds of bad id: negative ones wrap to huge unsigned values
    if ids.size and np.maximum.reduce(ids.view(np.uint64), axis=None) >= k:
        bad = ids[(ids < 0) | (ids >= k)]
        raise ValueError(f"{name}: label {int(bad.reshape(-1)[0])} is outside [0, {k}): "
                         f"y_pred of shape {tuple(pred_shape)} has {k} classes")
    return ids


# ---- the loss functions ---------------------------------------------------------------------
def _rows(x, k):
    """x viewed as (rows, k): one row per sample (a Tensor or an ndarray)."""
    return x if x.ndim == 2 else x.reshape(-1, k)


def _crossentropy(labels, p, from_logits, sparse):
    """Batch-mean cross-entropy; ``labels``: int ids of shape p.shape[:-1] (sparse) or an
    array of p's shape. Picks the fused kernel whenever the logits are at hand."""
    k = p.data.shape[-1]
    rows = labels.reshape(-1) if sparse else _rows(labels, k)
    if from_logits:
        return softmax_cross_entropy(_rows(p, k), rows)
    ctx = p.grad_fn
    if isinstance(ctx, Softmax) and ctx.axis == p.data.ndim - 1:
        return softmax_cross_entropy(_rows(ctx.inputs[0], k), rows, epsilon=config.epsilon())
    eps = config.epsilon()
    probs = _rows(p, k)
    probs = probs / probs.sum(axis=-1, keepdims=True)
    if sparse:
        picked = probs[np.arange(rows.shape[0]), rows]
        return -picked.clip(eps, 1.0 - eps).log().mean()
    return -(rows * probs.clip(eps, 1.0 - eps).log()).sum(axis=-1).mean()


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """mean_i -log p[i, y_i] with integer labels y (shape (n,) or (n, 1)) and y_pred (n, k):
    probabilities (clipped to [1e-7, 1-1e-7]) or, with from_logits, logits."""
    name = "sparse_categorical_crossentropy"
    p = _pred(y_pred)
    if p.data.ndim < 1:
        raise ValueError(f"{name}: y_pred must have a class axis, got shape {p.shape}")
    return _crossentropy(sparse_ids(name, y_true, p.data.shape), p, from_logits, sparse=True)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """mean_i -sum_j y_ij log p_ij with one-hot (or probability) labels y of y_pred's shape;
    p clipped to [1e-7, 1-1e-7], or from_logits: p = softmax(y_pred)."""
    t, p = _aligned("categorical_crossentropy", y_true, y_pred)
    return _crossentropy(t, p, from_logits, sparse=False)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """mean of -(y log p + (1-y) log(1-p)), p clipped to [1e-7, 1-1e-7]; from_logits (x):
    max(x, 0) - x y + log(1 + exp(-|x|)), whose gradient is sigmoid(x) - y (also at x = 0,
    because max(x, 0) is written (x + |x|)/2)."""
    t, p = _aligned("binary_crossentropy", y_true, y_pred)
    if from_logits:
        a = p.abs()
        per = 0.5 * (p + a) - p * t + (1.0 + (-a).exp()).log()
    else:
        eps = config.epsilon()
        p = p.clip(eps, 1.0 - eps)
        per = -(t * p.log() + (1.0 - t) * (1.0 - p).log())
    return per.mean()


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)**2) over every element (= the batch mean of per-sample means)."""
    t, p = _aligned("mean_squared_error", y_true, y_pred)
    d = p - t
    return (d * d).mean()


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over every element; gradient sign(y_pred - y_true), 0 at 0."""
    t, p = _aligned("mean_absolute_error", y_true, y_pred)
    return (p - t).abs().mean()


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# ---- the classes ----------------------------------------------------------------------------
class Loss:
    """Base class: ``loss(y_true, y_pred) -> scalar Tensor``; ``name``, ``get_config``."""

    default_name = "loss"

    def __init__(self, name=None):
        self.name = name or self.default_name

    def __call__(self, y_true, y_pred):
        return self.call(y_true, y_pred)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _CrossentropyLoss(Loss):
    fn = None

    def __init__(self, from_logits=False, name=None):
        super().__init__(name)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, from_logits=self.from_logits)

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}


@registry.register("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(_CrossentropyLoss):
    """See ``sparse_categorical_crossentropy``."""

    default_name = "sparse_categorical_crossentropy"
    fn = staticmethod(sparse_categorical_crossentropy)


@registry.register("categorical_crossentropy", "CategoricalCrossentropy")
class CategoricalCrossentropy(_CrossentropyLoss):
    """See ``categorical_crossentropy``."""

    default_name = "categorical_crossentropy"
    fn = staticmethod(categorical_crossentropy)


@registry.register("binary_crossentropy", "BinaryCrossentropy")
class BinaryCrossentropy(_CrossentropyLoss):
    """See ``binary_crossentropy``."""

    default_name = "binary_crossentropy"
    fn = staticmethod(binary_crossentropy)


@registry.register("mse", "mean_squared_error", "MeanSquaredError")
class MeanSquaredError(Loss):
    """See ``mean_squared_error``."""

    default_name = "mean_squared_error"

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)


@registry.register("mae", "mean_absolute_error", "MeanAbsoluteError")
class MeanAbsoluteError(Loss):
    """See ``mean_absolute_error``."""

    default_name = "mean_absolute_error"

    def call(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)


def get(identifier):
    """A loss from a name (the snake-case function names, "mse", "mae" or class names; an
    instance of the class is returned), a config dict, a class, an instance or any
    ``(y_true, y_pred) -> scalar Tensor`` callable; None -> None."""
    return registry.get(identifier)


def serialize(loss):
    """``{"class_name": ..., "config": ...}`` for a Loss; a function's name."""
    return serialize_with(registry, loss)


def deserialize(config, custom_objects=None):
    """Rebuild a loss saved by ``serialize`` (a built-in function's name gives the class)."""
    return deserialize_with(registry, config, custom_objects)
