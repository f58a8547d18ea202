"""Losses, as Keras 3.15's ``losses/loss.py`` and ``losses/losses.py``.

A ``Loss`` object is called as ``loss(y_true, y_pred, sample_weight=None) -> Tensor``: its
``call`` gives the loss values (a scalar, one per sample or one per element), which
``reduce_weighted_values`` multiplies by the sample weights (ranks aligned first) and reduces:
"sum_over_batch_size" (the default) and "mean" divide the sum by the number of values, "sum"
sums, "mean_with_sample_weight" divides by the sum of the weights, "none"/None returns them.

``compile(loss=fn)`` with any ``(y_true, y_pred) -> values`` callable wraps it in
``LossFunctionWrapper``, which aligns y_true and y_pred as Keras's
``squeeze_or_expand_to_same_rank`` ((n,) against (n, 1) becomes (n, 1); other shapes pass
unchanged) and gives y_true as a constant Tensor in y_pred's dtype. A ``Loss`` subclass
receives the shapes as given.

The built-in loss *functions* (``mean_squared_error(y_true, y_pred)``, ...) return the batch
mean (API §7; Keras's return per-sample values). Their ranks are aligned strictly: equal
shapes or (n,) against (n, 1); anything else raises naming the loss and both shapes.

Cross-entropy with ``from_logits=False`` is Keras's clipped form: p / sum(p), clipped to
[1e-7, 1 - 1e-7], then -sum(y log p) (zero gradient where a probability was clipped). When
``y_pred`` is the output of a softmax node, the fused ``softmax_cross_entropy`` kernel runs on
that node's logits with ``epsilon=1e-7`` instead: the same loss and gradient in one pass (with
sample weights too: the label rows are scaled by the weights, which the loss is linear in).
"""
import math

import numpy as np

from . import _checks, config
from ._labels import class_ids
from ._registry import Configurable, Registry, deserialize_with, serialize_with
from .ops.activation import relu, sigmoid
from .ops.datamap import data_map
from .ops.shape import where
from .ops.softmax import Softmax, log_softmax, softmax, softmax_cross_entropy
from .tensor import Tensor

registry = Registry("loss")

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


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


def _aligned_t(name, y_true, y_pred):
    """``_aligned`` with y_true as a Tensor without a gradient: what a loss computes from the
    labels then runs as ops (so a captured step, models/tape.py, computes it anew)."""
    t, p = _aligned(name, y_true, y_pred)
    return Tensor(t), p


def squeeze_or_expand(a, b):
    """Keras's ``squeeze_or_expand_to_same_rank`` (loss.py): when the ranks differ by one and
    the longer shape ends in 1, expand the shorter if it has rank 1, else squeeze the longer.
    Works on Tensors and ndarrays."""
    ra, rb = len(a.shape), len(b.shape)
    if ra == rb + 1 and a.shape[-1] == 1:
        if rb == 1:
            b = b.reshape(b.shape + (1,))
        else:
            a = a.reshape(a.shape[:-1])
    elif rb == ra + 1 and b.shape[-1] == 1:
        if ra == 1:
            a = a.reshape(a.shape + (1,))
        else:
            b = b.reshape(b.shape[:-1])
    return a, b


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
    return class_ids(name, lab, k)


# ---- reduction (Keras 3.15 losses/loss.py: reduce_values, reduce_weighted_values) -----------
def check_reduction(owner, reduction):
    """``reduction`` if it is one of REDUCTIONS, else ValueError listing them."""
    if reduction is not None and not isinstance(reduction, str):
        raise TypeError(f"{owner}: reduction must be one of {list(REDUCTIONS)}, "
                        f"got {reduction!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{owner}: reduction must be one of {list(REDUCTIONS)}, "
                         f"got {reduction!r}")
    return reduction


def _weights(owner, sample_weight, dtype):
    w = _raw(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: sample_weight must be numeric, got dtype {w.dtype}")
    return w.astype(dtype, copy=False)


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size",
                           owner="loss"):
    """Weight and reduce loss values (a Tensor) as Keras 3.15: with weights w, align the ranks
    (``squeeze_or_expand``) and take v * w; then "sum": sum(v w); "sum_over_batch_size" and
    "mean": sum(v w) / size(v); "mean_with_sample_weight": sum(v w) / sum(w); "none"/None
    (or scalar values without weights): v w unreduced. A zero divisor gives 0 (divide_no_nan).
    Weights whose shape is a prefix of the values' get trailing axes (one weight per sample
    against per-element values; Keras would fail to broadcast them)."""
    w = None
    if sample_weight is not None:
        w = _weights(owner, sample_weight, values.dtype)
        values, w = squeeze_or_expand(values, w)
        if 0 < w.ndim < values.ndim and w.shape == values.shape[:w.ndim]:
            # one weight per sample against per-element values: weight each sample's row
            # (Keras would fail to broadcast (n,) against (n, k))
            w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
        try:
            np.broadcast_shapes(values.shape, w.shape)
        except ValueError:
            raise ValueError(
                f"{owner}: sample_weight of shape {w.shape} does not fit the loss values of "
                f"shape {values.shape}: expected one weight per sample "
                f"({values.shape[0] if values.ndim else 1})") from None
        values = values * w
    if reduction is None or reduction == "none" or values.ndim == 0 or values.shape == (0,):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and w is not None:
        return values.sum() * data_map(_inverse_sum, w)
    # sum / size: one mean node (the training hot path)
    return values.mean() if values.size else values.sum() * 0.0


def _inverse_sum(w):
    """1 / sum(w), 0 for a zero sum (divide_no_nan), in w's dtype."""
    total = float(w.sum(dtype=np.float64))
    return np.asarray(1.0 / total if total else 0.0, dtype=w.dtype)


def _weighted_ids(ids, w, k):
    """Label rows w_i e_{y_i} for integer ids y (n,) and weights w (n, 1)."""
    rows = np.zeros((ids.shape[0], k), dtype=w.dtype)
    rows[np.arange(ids.shape[0]), ids] = w[:, 0]
    return rows


def _mean_scale(w, n):
    """n / sum(w) (0 for a zero sum): the batch mean turned into the weighted mean."""
    total = float(w.sum(dtype=np.float64))
    return np.asarray(n / total if total else 0.0, dtype=w.dtype)


def _check_values(name, values, t_shape, p_shape):
    """Loss values must be a scalar, one per sample or one per element: a prefix of y_pred's or
    y_true's shape. A broadcast such as (n,) - (n, 1) -> (n, n) raises here."""
    v = tuple(values.shape)
    if not v or any(v == tuple(s)[:len(v)] for s in (p_shape, t_shape)):
        return
    raise ValueError(
        f"loss {name!r} returned values of shape {v} for y_true of shape {tuple(t_shape)} "
        f"and y_pred of shape {tuple(p_shape)}: expected a scalar, one value per sample "
        f"{tuple(p_shape[:1])} or one per element {tuple(p_shape)} (did y_true and y_pred "
        f"broadcast against each other?)")


def _as_tensor(name, values, like):
    if isinstance(values, Tensor):
        return values
    try:
        arr = np.asarray(values, dtype=like.dtype)
    except (TypeError, ValueError):
        raise TypeError(f"loss {name!r} returned {type(values).__name__}; expected a Tensor "
                        f"(or an array) of loss values") from None
    return Tensor(arr)


def _softplus(u):
    """log(1 + exp(u)) = (u + |u|)/2 + log(1 + exp(-|u|)): stable, slope 1/2 at 0."""
    a = u.abs()
    return 0.5 * (u + a) + (1.0 + (-a).exp()).log()


# ---- per-sample values of the built-in losses (Keras 3.15 losses/losses.py) ----------------
def _ce_rows(labels, p, sparse):
    k = p.shape[-1]
    if p.ndim == 2:         # no reshape node: the fused path must see the softmax's logits
        return labels.reshape(-1) if sparse else labels, p
    return (labels.reshape(-1) if sparse else labels.reshape(-1, k)), p.reshape(-1, k)


def _crossentropy_values(labels, p, from_logits, sparse):
    """Per-sample cross-entropy, shape p.shape[:-1]: -sum_j y_j log q_j with q = softmax(p)
    (from_logits, exact log-softmax) or q = clip(p / sum(p), eps, 1 - eps)."""
    rows_y, rows_p = _ce_rows(labels, p, sparse)
    if from_logits:
        logq = log_softmax(rows_p, axis=-1)
    else:
        eps = config.epsilon()
        logq = (rows_p / rows_p.sum(axis=-1, keepdims=True)).clip(eps, 1.0 - eps).log()
    if sparse:
        per = -logq[np.arange(rows_y.shape[0]), rows_y]
    else:
        per = -(rows_y * logq).sum(axis=-1)
    return per.reshape(p.shape[:-1])


def _fused_crossentropy(labels, p, from_logits, sparse, sample_weight, reduction):
    """The reduced cross-entropy through the fused ``softmax_cross_entropy`` kernel when the
    logits are at hand (from_logits, or y_pred made by a softmax over its last axis); None
    when the reduction or the weights' shape need the per-sample values. Weights w enter as
    label rows w_i y_i (the loss and its gradient are linear in y): sum_i w_i l_i / n."""
    if reduction is None or reduction == "none" or p.ndim < 2 or p.size == 0:
        return None
    eps = None
    z = p
    if not from_logits:
        ctx = p.grad_fn
        if not (isinstance(ctx, Softmax) and ctx.axis == p.ndim - 1):
            return None
        z, eps = ctx.inputs[0], config.epsilon()
    rows_y, rows_z = _ce_rows(labels, z, sparse)
    n, k = rows_z.shape
    if sample_weight is None:
        # sparse ids come from sparse_ids (class_ids): checked once, not again in the kernel op
        loss = softmax_cross_entropy(rows_z, rows_y, epsilon=eps, ids_checked=sparse)
        return loss * float(n) if reduction == "sum" else loss
    w = _weights("cross-entropy", sample_weight, rows_z.dtype)
    if w.shape not in (p.shape[:-1], p.shape[:-1] + (1,)):
        return None
    w = w.reshape(n, 1)
    # the weighted label rows are computed in an op: a captured step computes them anew
    if sparse:
        weighted = data_map(_weighted_ids, rows_y, w, args=(k,))
    else:
        weighted = data_map(np.multiply, rows_y, w)
    loss = softmax_cross_entropy(rows_z, weighted.data, epsilon=eps)
    if reduction == "sum":
        return loss * float(n)
    if reduction == "mean_with_sample_weight":
        return loss * data_map(_mean_scale, w, args=(n,))
    return loss


def _sparse_labels(name, y_true, p):
    if p.ndim < 1:
        raise ValueError(f"{name}: y_pred must have a class axis, got shape {p.shape}")
    return sparse_ids(name, y_true, p.shape)


def _bce_elements(t, p, from_logits):
    if from_logits:
        a = p.abs()
        return 0.5 * (p + a) - p * t + (1.0 + (-a).exp()).log()
    eps = config.epsilon()
    q = p.clip(eps, 1.0 - eps)
    return -(t * q.log() + (1.0 - t) * (1.0 - q).log())


def _smooth_binary(t, label_smoothing):
    return t * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else t


def _smooth_categorical(t, label_smoothing):
    if not label_smoothing:
        return t
    return t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]


def mse_values(y_true, y_pred):
    """mean((y_pred - y_true)**2, axis=-1)."""
    t, p = _aligned_t("mean_squared_error", y_true, y_pred)
    d = p - t
    return (d * d).mean(axis=-1)


def mae_values(y_true, y_pred):
    """mean(|y_pred - y_true|, axis=-1); gradient sign(y_pred - y_true), 0 at 0."""
    t, p = _aligned_t("mean_absolute_error", y_true, y_pred)
    return (p - t).abs().mean(axis=-1)


def mape_values(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)."""
    t, p = _aligned_t("mean_absolute_percentage_error", y_true, y_pred)
    scale = 100.0 / t.abs().clip(config.epsilon(), None)
    return ((p - t).abs() * scale).mean(axis=-1)


def msle_values(y_true, y_pred):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)."""
    t, p = _aligned_t("mean_squared_logarithmic_error", y_true, y_pred)
    eps = config.epsilon()
    d = (p.clip(eps, None) + 1.0).log() - (t.clip(eps, None) + 1.0).log()
    return (d * d).mean(axis=-1)


def huber_values(y_true, y_pred, delta=1.0):
    """mean(e**2 / 2 if |e| <= delta else delta |e| - delta**2 / 2, axis=-1), e = p - t."""
    t, p = _aligned_t("huber", y_true, y_pred)
    e = p - t
    a = e.abs()
    small = data_map(np.less_equal, a, args=(delta,)).data
    return where(small, 0.5 * (e * e), delta * a - 0.5 * delta * delta).mean(axis=-1)


def log_cosh_values(y_true, y_pred):
    """mean(log(cosh(e)), axis=-1) computed as e + softplus(-2 e) - log 2, e = y_pred - y_true."""
    t, p = _aligned_t("log_cosh", y_true, y_pred)
    e = p - t
    return (e + _softplus(-2.0 * e) - math.log(2.0)).mean(axis=-1)


def kld_values(y_true, y_pred):
    """sum(t log(t / q), axis=-1) with t, q = y_true, y_pred clipped to [eps, 1]."""
    t, p = _aligned_t("kl_divergence", y_true, y_pred)
    eps = config.epsilon()
    t = t.clip(eps, 1.0)
    return (t * (t.log() - p.clip(eps, 1.0).log())).sum(axis=-1)


def poisson_values(y_true, y_pred):
    """mean(y_pred - y_true log(y_pred + eps), axis=-1)."""
    t, p = _aligned_t("poisson", y_true, y_pred)
    return (p - t * (p + config.epsilon()).log()).mean(axis=-1)


def _hinge_array(t):
    return 2.0 * t - 1.0 if np.isin(t, (0, 1)).all() else t


def _hinge_labels(t):
    """Keras's convert_binary_labels_to_hinge: labels all in {0, 1} become 2 t - 1 (decided
    per batch, inside an op)."""
    return data_map(_hinge_array, t)


def hinge_values(y_true, y_pred):
    """mean(max(1 - t y_pred, 0), axis=-1); 0/1 labels become -1/1."""
    t, p = _aligned_t("hinge", y_true, y_pred)
    return relu(1.0 - _hinge_labels(t) * p).mean(axis=-1)


def squared_hinge_values(y_true, y_pred):
    """mean(max(1 - t y_pred, 0)**2, axis=-1); 0/1 labels become -1/1."""
    t, p = _aligned_t("squared_hinge", y_true, y_pred)
    h = relu(1.0 - _hinge_labels(t) * p)
    return (h * h).mean(axis=-1)


def categorical_hinge_values(y_true, y_pred):
    """max(neg - pos + 1, 0), pos = sum(t y_pred, -1), neg = max((1 - t) y_pred, -1)."""
    t, p = _aligned_t("categorical_hinge", y_true, y_pred)
    pos = (t * p).sum(axis=-1)
    neg = ((1.0 - t) * p).max(axis=-1)
    return relu(neg - pos + 1.0)


def cosine_similarity_values(y_true, y_pred, axis=-1):
    """-sum(l2n(y_true) l2n(y_pred), axis), l2n(x) = x / sqrt(max(sum(x**2, axis), eps**2))
    (Keras: x * min(rsqrt(sum x**2), 1/eps))."""
    t, p = _aligned_t("cosine_similarity", y_true, y_pred)
    axis = _checks.axis("cosine_similarity", axis, p.ndim)
    eps2 = config.epsilon() ** 2
    tn = t / (t * t).sum(axis=axis, keepdims=True).clip(eps2, None).sqrt()
    pn = p / (p * p).sum(axis=axis, keepdims=True).clip(eps2, None).sqrt()
    return -(pn * tn).sum(axis=axis)


def binary_crossentropy_values(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """mean(-(t log q + (1-t) log(1-q)), axis=-1), q = clip(y_pred, eps, 1-eps); from_logits
    (x): max(x, 0) - x t + log(1 + exp(-|x|)). Smoothing: t (1 - s) + s / 2."""
    t, p = _aligned_t("binary_crossentropy", y_true, y_pred)
    t = _smooth_binary(t, label_smoothing)
    return _bce_elements(t, p, from_logits).mean(axis=-1)


def binary_focal_crossentropy_values(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                                     gamma=2.0, from_logits=False, label_smoothing=0.0):
    """mean((1 - p_t)**gamma bce(t, q), axis=-1), q = y_pred (sigmoid(y_pred) from logits),
    p_t = t q + (1-t)(1-q); with class balancing times t alpha + (1-t)(1-alpha)."""
    t, p = _aligned_t("binary_focal_crossentropy", y_true, y_pred)
    t = _smooth_binary(t, label_smoothing)
    q = sigmoid(p) if from_logits else p
    bce = _bce_elements(t, q, False)
    pt = t * q + (1.0 - t) * (1.0 - q)
    focal = (1.0 - pt) ** gamma * bce
    if apply_class_balancing:
        focal = focal * (t * alpha + (1.0 - t) * (1.0 - alpha))
    return focal.mean(axis=-1)


def categorical_focal_crossentropy_values(y_true, y_pred, alpha=0.25, gamma=2.0,
                                          from_logits=False, label_smoothing=0.0):
    """sum(-alpha (1 - q)**gamma t log q, axis=-1), q = clip(p / sum(p), eps, 1 - eps) with
    p = y_pred (softmax(y_pred) from logits); smoothing t (1 - s) + s / k."""
    t, p = _aligned_t("categorical_focal_crossentropy", y_true, y_pred)
    t = _smooth_categorical(t, label_smoothing)
    if from_logits:
        p = softmax(p, axis=-1)
    eps = config.epsilon()
    q = (p / p.sum(axis=-1, keepdims=True)).clip(eps, 1.0 - eps)
    return (alpha * (1.0 - q) ** gamma * (-(t * q.log()))).sum(axis=-1)


def categorical_crossentropy_values(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Per-sample -sum_j y_j log q_j (see _crossentropy_values); smoothing y (1 - s) + s / k."""
    t, p = _aligned_t("categorical_crossentropy", y_true, y_pred)
    return _crossentropy_values(_smooth_categorical(t, label_smoothing), p, from_logits, False)


def sparse_categorical_crossentropy_values(y_true, y_pred, from_logits=False):
    """Per-sample -log q[y] with integer labels y."""
    p = _pred(y_pred)
    ids = _sparse_labels("sparse_categorical_crossentropy", y_true, p)
    return _crossentropy_values(ids, p, from_logits, True)


# ---- the loss functions (batch means, API §7) ----------------------------------------------
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """mean_i -log p[i, y_i] with integer labels y (shape (n,) or (n, 1)) and y_pred (n, k):
    probabilities (clipped to [1e-7, 1-1e-7]) or, with from_logits, logits."""
    return SparseCategoricalCrossentropy(from_logits=from_logits)(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """mean_i -sum_j y_ij log p_ij with one-hot (or probability) labels y of y_pred's shape;
    p clipped to [1e-7, 1-1e-7], or from_logits: p = softmax(y_pred)."""
    return CategoricalCrossentropy(from_logits=from_logits)(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """mean of -(y log p + (1-y) log(1-p)), p clipped to [1e-7, 1-1e-7]; from_logits (x):
    max(x, 0) - x y + log(1 + exp(-|x|)), whose gradient is sigmoid(x) - y (also at x = 0,
    because max(x, 0) is written (x + |x|)/2)."""
    return binary_crossentropy_values(y_true, y_pred, from_logits).mean()


def _batch_mean(values_fn, name):
    def fn(y_true, y_pred, **kwargs):
        return values_fn(y_true, y_pred, **kwargs).mean()
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Batch mean of ``{values_fn.__name__}``: {values_fn.__doc__}"
    return fn


mean_squared_error = _batch_mean(mse_values, "mean_squared_error")
mean_absolute_error = _batch_mean(mae_values, "mean_absolute_error")
mean_absolute_percentage_error = _batch_mean(mape_values, "mean_absolute_percentage_error")
mean_squared_logarithmic_error = _batch_mean(msle_values, "mean_squared_logarithmic_error")
huber = _batch_mean(huber_values, "huber")
log_cosh = _batch_mean(log_cosh_values, "log_cosh")
kl_divergence = _batch_mean(kld_values, "kl_divergence")
poisson = _batch_mean(poisson_values, "poisson")
hinge = _batch_mean(hinge_values, "hinge")
squared_hinge = _batch_mean(squared_hinge_values, "squared_hinge")
categorical_hinge = _batch_mean(categorical_hinge_values, "categorical_hinge")
cosine_similarity = _batch_mean(cosine_similarity_values, "cosine_similarity")
binary_focal_crossentropy = _batch_mean(binary_focal_crossentropy_values,
                                        "binary_focal_crossentropy")
categorical_focal_crossentropy = _batch_mean(categorical_focal_crossentropy_values,
                                             "categorical_focal_crossentropy")

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh


# ---- the classes ----------------------------------------------------------------------------
def _snake(name):
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out


def _const(y_true, dtype):
    """y_true as a constant Tensor in y_pred's dtype (what a loss's ``call`` receives)."""
    if isinstance(y_true, Tensor) and y_true.dtype == dtype:
        return y_true
    return Tensor(_raw(y_true).astype(dtype, copy=False))


def _named_error(loss, e, t_shape, p_shape):
    """``e`` re-raised with the loss's name and both shapes in front of its message."""
    msg = (f"loss {loss.name!r} failed on y_true of shape {tuple(t_shape)} and y_pred of "
           f"shape {tuple(p_shape)}: {e}")
    try:
        return type(e)(msg)
    except Exception:        # an exception class with a custom constructor
        return ValueError(msg)


class Loss(Configurable, config.Watched):
    """Base class: ``loss(y_true, y_pred, sample_weight=None) -> Tensor``.

    Subclasses implement ``call(y_true, y_pred)`` returning the loss values (a scalar, one per
    sample or one per element) as a Tensor built from Tensor ops (the gradient comes from the
    graph); ``__call__`` weights and reduces them (``reduce_weighted_values``). y_true reaches
    ``call`` as a constant Tensor in y_pred's dtype, with the shape given."""

    default_name = None
    _cast_labels = True     # the sparse losses keep integer labels

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        self.name = name or self.default_name or _snake(type(self).__name__)
        self.reduction = check_reduction(type(self).__name__, reduction)

    def __call__(self, y_true, y_pred, sample_weight=None):
        p = _pred(y_pred)
        fused = self._fused(y_true, p, sample_weight)
        if fused is not None:
            return fused
        t = _const(y_true, p.dtype) if self._cast_labels else y_true
        if type(self).__module__ == __name__ and not isinstance(self, LossFunctionWrapper):
            values = self.call(t, p)          # built-ins name themselves in their errors
        else:
            try:
                values = self.call(t, p)
            except (ValueError, TypeError, IndexError) as e:
                raise _named_error(self, e, np.shape(_raw(y_true)), p.shape) from e
        values = _as_tensor(self.name, values, p)
        _check_values(self.name, values, np.shape(_raw(y_true)), p.shape)
        return reduce_weighted_values(values, sample_weight, self.reduction,
                                      f"loss {self.name!r}")

    def _fused(self, y_true, p, sample_weight):
        """A faster route to the reduced loss, or None (the default: values, then reduce)."""
        return None

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__}: a Loss subclass must implement "
                                  f"call(y_true, y_pred)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


class LossFunctionWrapper(Loss):
    """A ``(y_true, y_pred, **kwargs) -> values`` function as a Loss: y_true and y_pred are
    aligned first (``squeeze_or_expand``: (n,) against (n, 1) -> (n, 1)), as Keras's
    LossFunctionWrapper; the values are then weighted and reduced."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be callable, got {fn!r}")
        self.fn = fn
        self.fn_kwargs = kwargs
        super().__init__(name or getattr(fn, "__name__", None) or "loss", reduction)

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand(y_true, y_pred)
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}


class _Builtin(Loss):
    """A built-in loss: ``values`` (a static per-sample function) with the arguments named in
    ``params`` (attributes, also the config)."""

    values = None
    params = ()

    def call(self, y_true, y_pred):
        return type(self).values(y_true, y_pred, **{k: getattr(self, k) for k in self.params})

    def get_config(self):
        return {**super().get_config(), **{k: getattr(self, k) for k in self.params}}


class _CrossentropyLoss(_Builtin):
    sparse = False

    def __init__(self, from_logits=False, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits = _checks.boolean(type(self).__name__, "from_logits", from_logits)

    def _labels(self, y_true, p):
        return _aligned(self.name, y_true, p)[0]

    def _fused(self, y_true, p, sample_weight):
        if getattr(self, "label_smoothing", 0.0) or (p.ndim < 2 and not self.sparse):
            return None
        labels = self._labels(y_true, p)
        return _fused_crossentropy(labels, p, self.from_logits, self.sparse, sample_weight,
                                   self.reduction)


@registry.register("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy")
class SparseCategoricalCrossentropy(_CrossentropyLoss):
    """Per-sample -log q[y], integer labels (see ``sparse_categorical_crossentropy``)."""

    values = staticmethod(sparse_categorical_crossentropy_values)
    params = ("from_logits",)
    sparse = True
    _cast_labels = False

    def _labels(self, y_true, p):
        return _sparse_labels(self.name, y_true, p)


@registry.register("categorical_crossentropy", "CategoricalCrossentropy")
class CategoricalCrossentropy(_CrossentropyLoss):
    """Per-sample -sum y log q (see ``categorical_crossentropy``)."""

    values = staticmethod(categorical_crossentropy_values)
    params = ("from_logits", "label_smoothing")

    def __init__(self, from_logits=False, label_smoothing=0.0, name=None,
                 reduction="sum_over_batch_size"):
        super().__init__(from_logits, name, reduction)
        self.label_smoothing = _checks.rate(type(self).__name__, "label_smoothing",
                                            label_smoothing)


@registry.register("binary_crossentropy", "bce", "BinaryCrossentropy")
class BinaryCrossentropy(_Builtin):
    """Per-sample binary cross-entropy (see ``binary_crossentropy_values``)."""

    values = staticmethod(binary_crossentropy_values)
    params = ("from_logits", "label_smoothing")

    def __init__(self, from_logits=False, label_smoothing=0.0, name=None,
                 reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits = _checks.boolean("BinaryCrossentropy", "from_logits", from_logits)
        self.label_smoothing = _checks.rate("BinaryCrossentropy", "label_smoothing",
                                            label_smoothing)


def _simple(cls_name, values_fn, *names, default_name=None):
    """A built-in loss class without hyperparameters, registered under ``names``."""
    cls = type(cls_name, (_Builtin,), {
        "values": staticmethod(values_fn), "default_name": default_name,
        "__doc__": f"Per-sample ``{values_fn.__name__}``: {values_fn.__doc__}",
        "__module__": __name__, "__qualname__": cls_name})
    return registry.register(*names, cls_name)(cls)


MeanSquaredError = _simple("MeanSquaredError", mse_values, "mse", "mean_squared_error")
MeanAbsoluteError = _simple("MeanAbsoluteError", mae_values, "mae", "mean_absolute_error")
MeanAbsolutePercentageError = _simple("MeanAbsolutePercentageError", mape_values, "mape",
                                      "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _simple("MeanSquaredLogarithmicError", msle_values, "msle",
                                      "mean_squared_logarithmic_error")
LogCosh = _simple("LogCosh", log_cosh_values, "log_cosh", "logcosh", default_name="log_cosh")
KLDivergence = _simple("KLDivergence", kld_values, "kld", "kl_divergence",
                       default_name="kl_divergence")
Poisson = _simple("Poisson", poisson_values, "poisson")
Hinge = _simple("Hinge", hinge_values, "hinge")
SquaredHinge = _simple("SquaredHinge", squared_hinge_values, "squared_hinge")
CategoricalHinge = _simple("CategoricalHinge", categorical_hinge_values, "categorical_hinge")


@registry.register("huber", "huber_loss", "Huber")
class Huber(_Builtin):
    """Per-sample Huber loss with threshold ``delta`` (see ``huber_values``)."""

    values = staticmethod(huber_values)
    params = ("delta",)
    default_name = "huber_loss"

    def __init__(self, delta=1.0, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.delta = _checks.nonneg("Huber", "delta", delta)


@registry.register("cosine_similarity", "CosineSimilarity")
class CosineSimilarity(_Builtin):
    """Per-sample negative cosine similarity along ``axis`` (see ``cosine_similarity_values``)."""

    values = staticmethod(cosine_similarity_values)
    params = ("axis",)

    def __init__(self, axis=-1, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.axis = _checks.integer("CosineSimilarity", "axis", axis)


class _Focal(_Builtin):
    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        owner = type(self).__name__
        self.alpha = _checks.number(owner, "alpha", alpha)
        self.gamma = _checks.nonneg(owner, "gamma", gamma)
        self.from_logits = _checks.boolean(owner, "from_logits", from_logits)
        self.label_smoothing = _checks.rate(owner, "label_smoothing", label_smoothing)


@registry.register("binary_focal_crossentropy", "BinaryFocalCrossentropy")
class BinaryFocalCrossentropy(_Focal):
    """Per-sample binary focal cross-entropy (see ``binary_focal_crossentropy_values``)."""

    values = staticmethod(binary_focal_crossentropy_values)
    params = ("apply_class_balancing", "alpha", "gamma", "from_logits", "label_smoothing")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, name=None, reduction="sum_over_batch_size"):
        super().__init__(alpha, gamma, from_logits, label_smoothing, name, reduction)
        self.apply_class_balancing = _checks.boolean(
            "BinaryFocalCrossentropy", "apply_class_balancing", apply_class_balancing)


@registry.register("categorical_focal_crossentropy", "CategoricalFocalCrossentropy")
class CategoricalFocalCrossentropy(_Focal):
    """Per-sample categorical focal cross-entropy (``categorical_focal_crossentropy_values``)."""

    values = staticmethod(categorical_focal_crossentropy_values)
    params = ("alpha", "gamma", "from_logits", "label_smoothing")


# a built-in loss *function* passed to compile becomes its class (per-sample values, so that
# sample weights apply per sample as in Keras)
_FUNCTION_CLASSES = {
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy, binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, huber: Huber,
    log_cosh: LogCosh, kl_divergence: KLDivergence, poisson: Poisson, hinge: Hinge,
    squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
    cosine_similarity: CosineSimilarity, binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
}


def get(identifier):
    """A Loss object from a name (snake-case function names, Keras's aliases "mse", "mae",
    "mape", "msle", "kld", "bce", ... or class names), a config dict, a class, an instance (as
    is), a built-in function (its class) or any ``(y_true, y_pred) -> values`` callable
    (wrapped in LossFunctionWrapper); None -> None."""
    obj = registry.get(identifier)
    if obj is None or isinstance(obj, Loss):
        return obj
    if obj in _FUNCTION_CLASSES:
        return _FUNCTION_CLASSES[obj]()
    if callable(obj):
        return LossFunctionWrapper(obj)
    raise TypeError(f"Could not interpret loss identifier {identifier!r}")


def serialize(loss):
    """``{"class_name": ..., "config": ...}`` for a Loss; a function's name."""
    if isinstance(loss, LossFunctionWrapper):
        loss = loss.fn
    return serialize_with(registry, loss)


def deserialize(config, custom_objects=None):
    """Rebuild a loss saved by ``serialize`` (a built-in function's name gives the class)."""
    return deserialize_with(registry, config, custom_objects)
