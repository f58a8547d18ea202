"""Metrics: per-sample functions ``(y_true, y_pred) -> ndarray`` and stateful classes.

Metrics work on ndarrays (a Tensor's ``.data`` is read) and never build graph. ``y_true`` is
cast to ``y_pred``'s dtype and ranks are aligned as for the losses. A stateful metric keeps a
running weighted mean of the per-sample values (``update_state``, ``result() -> float``,
``reset_state``) and a ``direction`` ("up": larger is better, "down", or None) that
EarlyStopping's mode="auto" reads.

``get("accuracy", y_true, y_pred)`` (or "acc") picks the accuracy from the shapes, as Keras's
compile does: y_pred's last dim 1 -> binary; y_true of lower rank than y_pred (or last dims
1 vs > 1) -> sparse categorical; else categorical. The metric's ``name`` is the string given.
"""
import math

import numpy as np

from . import _checks, config
from ._labels import class_ids
from ._registry import Configurable, Registry, deserialize_with, serialize_with
from .losses import aligned_shape, squeeze_or_expand
from .tensor import Parameter, Tensor

registry = Registry("metric")


def _arrays(y_true, y_pred):
    """(y_true, y_pred) as ndarrays; y_true in y_pred's dtype when y_pred is float."""
    p = np.asarray(y_pred.data if isinstance(y_pred, Tensor) else y_pred)
    t = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    if p.dtype.kind != "f":
        p = p.astype(config.floatx())
    return t.astype(p.dtype, copy=False), p


def _aligned(name, y_true, y_pred):
    t, p = _arrays(y_true, y_pred)
    shape = aligned_shape(name, t.shape, p.shape)
    return t.reshape(shape), p.reshape(shape)


def _per_sample(values):
    """Mean over every axis but the first (a value per sample), in floatx."""
    values = np.asarray(values, dtype=config.floatx())
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values


def samplewise(owner, values, sample_weight, reduce_fn=np.mean):
    """(values reduced to one per sample and weighted, weights per sample or None): Keras
    3.15 ``reduce_to_samplewise_values`` (metrics/reduction_metrics.py) in float64."""
    values = np.asarray(_raw(values), dtype=np.float64)
    w = None
    if sample_weight is not None:
        w = np.asarray(_raw(sample_weight), dtype=np.float64)
        values, w = squeeze_or_expand(values, w)
        if values.ndim > w.ndim:
            values = reduce_fn(values, axis=tuple(range(w.ndim, values.ndim)))
        try:
            w = np.broadcast_to(w, values.shape)
        except ValueError:
            raise ValueError(f"{owner}: sample_weight of shape {w.shape} does not fit values "
                             f"of shape {values.shape}: expected one weight per sample "
                             f"({values.shape[0] if values.ndim else 1})") from None
        values = values * w
        if w.ndim > 1:
            w = reduce_fn(w, axis=tuple(range(1, w.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, w


# ---- per-sample functions -------------------------------------------------------------------
def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred exactly, else 0.0 (per sample)."""
    t, p = _aligned("accuracy", y_true, y_pred)
    return _per_sample(t == p)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where y_true == (y_pred > threshold) (strictly greater), else 0.0."""
    t, p = _aligned("binary_accuracy", y_true, y_pred)
    return _per_sample(t == (p > threshold).astype(t.dtype))


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_true) == argmax(y_pred) over the last axis (first max wins)."""
    return _per_sample(_categorical_hits(y_true, y_pred))


def _categorical_hits(y_true, y_pred):
    t, p = _arrays(y_true, y_pred)
    if t.shape != p.shape or p.ndim < 1:
        aligned_shape("categorical_accuracy", t.shape, p.shape)   # raises with both shapes
    return t.argmax(axis=-1) == p.argmax(axis=-1)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the class id y_true (shape (n,) or (n, 1)) == argmax(y_pred, -1)."""
    return _per_sample(_sparse_hits(y_true, y_pred))


def _sparse_hits(y_true, y_pred):
    t, p = _arrays(y_true, y_pred)
    batch = p.shape[:-1]
    if t.shape == batch + (1,):
        t = t.reshape(batch)
    if p.ndim < 1 or t.shape != batch:
        raise ValueError(f"sparse_categorical_accuracy: y_true of shape {t.shape} does not "
                         f"fit y_pred of shape {p.shape}: expected class ids of shape {batch}")
    return t == p.argmax(axis=-1).astype(t.dtype)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis (per sample)."""
    t, p = _aligned("mean_absolute_error", y_true, y_pred)
    return _per_sample(np.abs(t - p))


mae = mean_absolute_error


# ---- stateful metrics -----------------------------------------------------------------------
class Metric(Configurable):
    """Base class: a running weighted mean of per-sample values. Subclasses set ``fn``."""

    default_name = "metric"
    direction = None

    def __init__(self, name=None, dtype=None):
        self.name = name or self.default_name
        self.dtype = np.dtype(dtype or config.floatx()).name
        self._variables = []
        if type(self).reset_state.__module__ == __name__:
            self.reset_state()
        else:   # a user subclass (Keras style) creates its variables after this __init__
            Metric.reset_state(self)

    def reset_state(self):
        """Forget every update (result() is 0.0 until the next one); variables made by
        ``add_variable`` go back to zeros, as Keras's."""
        self.total = 0.0
        self.count = 0.0
        for v in self._variables:
            v.assign(np.zeros_like(v.data))

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """A state variable for a user metric (Keras 3): a non-trainable Parameter with
        ``assign``, ``assign_add``, ``assign_sub`` and ``value``."""
        from . import initializers
        dtype = np.dtype(dtype or self.dtype)
        shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,) if shape else ()
        value = np.asarray(initializers.get(initializer)(shape, dtype), dtype=dtype)
        var = MetricVariable(value, name=f"{self.name}/{name or 'variable'}", trainable=False)
        self._variables.append(var)
        return var

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None):
        """``add_variable`` (Keras 3 keeps both names)."""
        return self.add_variable(shape, initializer, dtype, name=name)

    @property
    def variables(self):
        return list(self._variables)

    def _accumulate(self, values, sample_weight, reduce_fn=np.mean):
        """Add values with weights, in float64, as Keras's ``reduce_to_samplewise_values``:
        the weights' rank is aligned (``squeeze_or_expand``), values are reduced with
        ``reduce_fn`` over the axes the weights lack, weighted, then reduced to one value per
        sample; ``total += sum(v w)``, ``count += sum(w)`` (the sample count without weights)."""
        values, w = samplewise(self.name, values, sample_weight, reduce_fn)
        self.total += float(values.sum())
        if w is not None:
            self.count += float(w.sum())
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self):
        """The weighted mean so far, a float (0.0 before any update)."""
        return self.total / self.count if self.count else 0.0

    def __call__(self, *args, **kwargs):
        """update_state(...), then result() (as Keras)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result()}>"


class MetricVariable(Parameter):
    """A metric's state (``Metric.add_variable``): a Parameter with Keras's ``value``."""

    __slots__ = ()

    @property
    def value(self):
        return Tensor(self.data.copy())


@registry.register("mean", "Mean")
class Mean(Metric):
    """Running (weighted) mean of the values given: ``update_state(values, sample_weight)``.
    Values of rank > 1 are first averaged to one value per sample; a scalar counts as one."""

    default_name = "mean"

    def update_state(self, values, sample_weight=None):
        self._accumulate(values, sample_weight)


class MeanMetricWrapper(Metric):
    """The running mean of ``fn(y_true, y_pred, **kwargs)`` per sample; a plain metric
    function passed to ``get`` or compile is wrapped in one."""

    fn = None   # subclasses: staticmethod(per-sample function)

    def __init__(self, fn=None, name=None, direction=None, **kwargs):
        self._fn = fn if fn is not None else type(self).fn
        if not callable(self._fn):
            raise TypeError(f"MeanMetricWrapper: fn must be a callable, got {fn!r}")
        if direction is not None:
            self.direction = direction
        self._kwargs = kwargs
        super().__init__(name or getattr(self._fn, "__name__", None))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: one value of ``fn`` per sample, weighted by ``sample_weight``."""
        self._accumulate(self._fn(y_true, y_pred, **self._kwargs), sample_weight)


class _Builtin(MeanMetricWrapper):
    """A Keras metric class over one of the functions above; config: ``name`` only."""

    def __init__(self, name=None):
        super().__init__(name=name or self.fn.__name__)


@registry.register("accuracy", "acc", "Accuracy")
class Accuracy(_Builtin):
    """Fraction of exact matches y_true == y_pred (see ``accuracy``)."""

    fn = staticmethod(accuracy)
    direction = "up"


@registry.register("binary_accuracy", "BinaryAccuracy")
class BinaryAccuracy(_Builtin):
    """Fraction with y_true == (y_pred > threshold) (see ``binary_accuracy``)."""

    fn = staticmethod(binary_accuracy)
    direction = "up"

    def __init__(self, name=None, threshold=0.5):
        super().__init__(name)
        self.threshold = float(threshold)
        self._kwargs = {"threshold": self.threshold}

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}


# per-sample accuracy function -> the same test as a bool array (hit or miss)
_HITS = {categorical_accuracy: _categorical_hits, sparse_categorical_accuracy: _sparse_hits}


class _HitRate(_Builtin):
    """An accuracy kept as (hits, samples): without sample weights, a batch of one hit or
    miss per sample adds ``count_nonzero(hits)``, the same sum as its float 0/1 values give,
    in a few numpy calls instead of a dozen (fit updates the metrics at every step)."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits_of = _HITS.get(self._fn)
        if sample_weight is not None or hits_of is None:
            return super().update_state(y_true, y_pred, sample_weight)
        hits = hits_of(y_true, y_pred)
        if hits.ndim > 1:   # several values per sample: their means, as the base class does
            return self._accumulate(_per_sample(hits), None)
        self.total += np.count_nonzero(hits)
        self.count += hits.size


@registry.register("categorical_accuracy", "CategoricalAccuracy")
class CategoricalAccuracy(_HitRate):
    """Fraction with argmax(y_true) == argmax(y_pred) (see ``categorical_accuracy``)."""

    fn = staticmethod(categorical_accuracy)
    direction = "up"


@registry.register("sparse_categorical_accuracy", "SparseCategoricalAccuracy")
class SparseCategoricalAccuracy(_HitRate):
    """Fraction with y_true == argmax(y_pred) (see ``sparse_categorical_accuracy``)."""

    fn = staticmethod(sparse_categorical_accuracy)
    direction = "up"


@registry.register("mae", "mean_absolute_error", "MeanAbsoluteError")
class MeanAbsoluteError(_Builtin):
    """Mean of |y_true - y_pred| (see ``mean_absolute_error``)."""

    fn = staticmethod(mean_absolute_error)
    direction = "down"


# ---- regression metrics ---------------------------------------------------------------------
def _squeezed(y_true, y_pred):
    t, p = _arrays(y_true, y_pred)
    return squeeze_or_expand(t, p)


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)**2) over the last axis (per sample)."""
    t, p = _aligned("mean_squared_error", y_true, y_pred)
    return _per_sample((t - p) ** 2)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps)) over the last axis (per sample)."""
    t, p = _aligned("mean_absolute_percentage_error", y_true, y_pred)
    return _per_sample(100.0 * np.abs(t - p) / np.maximum(np.abs(t), config.epsilon()))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the class argmax(y_true) is among the k largest of y_pred (ties with the k-th
    largest count, as Keras's ``in_top_k``)."""
    t, p = _arrays(y_true, y_pred)
    if t.shape != p.shape or p.ndim < 1:
        aligned_shape("top_k_categorical_accuracy", t.shape, p.shape)
    return _in_top_k(t.argmax(axis=-1), p, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the class id y_true is among the k largest of y_pred (ties count)."""
    t, p = _arrays(y_true, y_pred)
    batch = p.shape[:-1]
    if t.shape == batch + (1,):
        t = t.reshape(batch)
    if p.ndim < 1 or t.shape != batch:
        raise ValueError(f"sparse_top_k_categorical_accuracy: y_true of shape {t.shape} does "
                         f"not fit y_pred of shape {p.shape}: expected class ids of shape "
                         f"{batch}")
    return _in_top_k(class_ids("sparse_top_k_categorical_accuracy", t, p.shape[-1]), p, k)


def _in_top_k(ids, p, k):
    rows = p.reshape(-1, p.shape[-1])
    k = min(int(k), rows.shape[-1])
    kth = np.partition(rows, -k, axis=-1)[:, -k]
    target = rows[np.arange(rows.shape[0]), ids.reshape(-1)]
    return (target >= kth).reshape(ids.shape).astype(config.floatx())


mse = mean_squared_error
mape = mean_absolute_percentage_error


@registry.register("mse", "mean_squared_error", "MeanSquaredError")
class MeanSquaredError(_Builtin):
    """Mean of (y_true - y_pred)**2 (see ``mean_squared_error``)."""

    fn = staticmethod(mean_squared_error)
    direction = "down"


@registry.register("mape", "mean_absolute_percentage_error", "MeanAbsolutePercentageError")
class MeanAbsolutePercentageError(_Builtin):
    """Mean absolute percentage error (see ``mean_absolute_percentage_error``)."""

    fn = staticmethod(mean_absolute_percentage_error)
    direction = "down"


@registry.register("root_mean_squared_error", "rmse", "RootMeanSquaredError")
class RootMeanSquaredError(Metric):
    """sqrt(weighted mean of (y_pred - y_true)**2): the squared errors (ranks aligned as
    Keras) are averaged per sample, weighted, and the root is taken of the running mean."""

    default_name = "root_mean_squared_error"
    direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _squeezed(y_true, y_pred)
        self._accumulate((p - t) ** 2, sample_weight)

    def result(self):
        return math.sqrt(super().result())


class _TopK(_Builtin):
    def __init__(self, k=5, name=None):
        super().__init__(name)
        self.k = _checks.integer(type(self).__name__, "k", k, lo=1)
        self._kwargs = {"k": self.k}

    def get_config(self):
        return {"name": self.name, "k": self.k}


@registry.register("top_k_categorical_accuracy", "TopKCategoricalAccuracy")
class TopKCategoricalAccuracy(_TopK):
    """Fraction of samples whose true class is among the k top predictions (one-hot labels)."""

    fn = staticmethod(top_k_categorical_accuracy)
    direction = "up"


@registry.register("sparse_top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy")
class SparseTopKCategoricalAccuracy(_TopK):
    """Fraction of samples whose class id is among the k top predictions."""

    fn = staticmethod(sparse_top_k_categorical_accuracy)
    direction = "up"


@registry.register("sum", "Sum")
class Sum(Metric):
    """Running weighted sum of the values given: ``update_state(values, sample_weight)``
    (values of rank > 1 are first summed to one value per sample)."""

    default_name = "sum"

    def update_state(self, values, sample_weight=None):
        self._accumulate(values, sample_weight, reduce_fn=np.sum)

    def result(self):
        return self.total


@registry.register("r2_score", "R2Score")
class R2Score(Metric):
    """Coefficient of determination per output column c, from weighted running sums:
    r2_c = 1 - SSE_c / (sum w y**2 - (sum w y)**2 / sum w); columns with a zero total give 0.
    ``class_aggregation``: "uniform_average" (mean), "variance_weighted_average" (weighted
    by the totals) or None (the array); ``num_regressors`` p > 0 adjusts:
    1 - (1 - r2)(n - 1) / (n - p - 1), n counting every element (Keras)."""

    default_name = "r2_score"
    direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name=None):
        self.class_aggregation = _checks.choice(
            "R2Score", "class_aggregation", class_aggregation,
            ("uniform_average", "variance_weighted_average", None))
        self.num_regressors = _checks.integer("R2Score", "num_regressors", num_regressors, 0)
        super().__init__(name)

    def reset_state(self):
        self.sums = None            # (sum w y, sum w y**2, sum w (y - p)**2, sum w) per column
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _squeezed(y_true, y_pred)
        if t.ndim != 2 or p.ndim != 2:
            raise ValueError(f"R2Score: expects 2-D inputs (batch_size, output_dim), got "
                             f"y_true {t.shape} and y_pred {p.shape}")
        t, p = t.astype(np.float64), p.astype(np.float64)
        w = np.ones(1) if sample_weight is None else np.asarray(_raw(sample_weight), np.float64)
        if w.ndim == 1 and w.size > 1:
            w = w[:, None]
        try:
            w = np.broadcast_to(w, t.shape)
        except ValueError:
            raise ValueError(f"R2Score: sample_weight of shape {w.shape} does not fit y_true "
                             f"of shape {t.shape}") from None
        new = np.stack([(w * t).sum(0), (w * t * t).sum(0), (w * (t - p) ** 2).sum(0),
                        w.sum(0)])
        self.sums = new if self.sums is None else self.sums + new
        self.num_samples += t.size

    def result(self):
        if self.sums is None:
            return 0.0
        s, sq, sse, count = self.sums
        with np.errstate(divide="ignore", invalid="ignore"):
            total = sq - s * (s / count)
            raw = 1.0 - sse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            r2 = float(raw.mean())
        elif self.class_aggregation == "variance_weighted_average":
            r2 = float((total * raw).sum() / total.sum())
        else:
            return raw
        n, k = self.num_samples, self.num_regressors
        if k and k < n - 1:
            r2 = 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1)
        return r2

    def get_config(self):
        return {"name": self.name, "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


# ---- confusion-matrix metrics (Keras 3.15 metrics/confusion_metrics.py, metrics_utils.py) --
def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None,
                     class_id=None):
    """(tp, fp, tn, fn), each of shape (len(thresholds),): weighted counts of
    label & (pred > threshold) etc. over every element, as Keras's
    ``update_confusion_matrix_variables`` (not multi-label): ranks aligned, weights
    broadcast to y_pred's shape, ``top_k`` keeps only each row's k largest, ``class_id``
    one column."""
    t, p = _arrays(y_true, y_pred)
    p = p.astype(np.float64)
    p, t = squeeze_or_expand(p, t.astype(np.float64))
    w = None
    if sample_weight is not None:
        w = np.asarray(_raw(sample_weight), dtype=np.float64)[..., None]
        if w.ndim == t.ndim + 1 and w.shape[-1] == 1:
            w = w[..., 0]
        try:
            w = np.broadcast_to(w, p.shape)
        except ValueError:
            raise ValueError(f"confusion metrics: sample_weight of shape "
                             f"{np.shape(_raw(sample_weight))} does not fit y_pred of shape "
                             f"{p.shape}") from None
    if top_k is not None:
        kth = np.partition(p, -top_k, axis=-1)[..., -top_k:-top_k + 1 or None]
        p = np.where(p >= kth, p, -np.inf)
    if class_id is not None:
        if p.ndim < 2:
            raise ValueError(f"class_id={class_id} needs y_pred of shape (n, classes), "
                             f"got {p.shape}")
        t, p = t[..., class_id], p[..., class_id]
        w = None if w is None else w[..., class_id]
    label = t.reshape(-1).astype(bool)
    pred_pos = p.reshape(1, -1) > np.asarray(thresholds, np.float64).reshape(-1, 1)
    weight = np.ones(label.shape) if w is None else w.reshape(-1)
    lw, nw = weight * label, weight * ~label
    tp = pred_pos @ lw
    fp = pred_pos @ nw
    return tp, fp, nw.sum() - fp, lw.sum() - tp


def _divide_no_nan(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


class _Confusion(Metric):
    """Running confusion counts at ``thresholds`` (one float or a list in [0, 1]; default
    0.5, or -inf with ``top_k``)."""

    direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        owner = type(self).__name__
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else _checks.integer(owner, "top_k", top_k, 1)
        self.class_id = None if class_id is None else _checks.integer(owner, "class_id",
                                                                      class_id, 0)
        if thresholds is None:
            self.thresholds = [0.5 if top_k is None else -np.inf]
        else:
            listed = list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]
            self.thresholds = [_checks.rate(owner, "thresholds", v) for v in listed]
        super().__init__(name)

    def reset_state(self):
        m = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(m) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.top_k,
                                  self.class_id)
        for name, c in zip(("tp", "fp", "tn", "fn"), counts):
            setattr(self, name, getattr(self, name) + c)

    def _value(self, v):
        return float(v[0]) if len(self.thresholds) == 1 else v

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


@registry.register("precision", "Precision")
class Precision(_Confusion):
    """tp / (tp + fp) at each threshold (0 when nothing was predicted positive)."""

    default_name = "precision"

    def result(self):
        return self._value(_divide_no_nan(self.tp, self.tp + self.fp))


@registry.register("recall", "Recall")
class Recall(_Confusion):
    """tp / (tp + fn) at each threshold (0 when there are no positives)."""

    default_name = "recall"

    def result(self):
        return self._value(_divide_no_nan(self.tp, self.tp + self.fn))


@registry.register("auc", "AUC")
class AUC(Metric):
    """Area under the ROC or PR curve from confusion counts at ``num_thresholds`` thresholds
    [-eps, 1/(m-1), ..., (m-2)/(m-1), 1 + eps] (or ``thresholds`` given, with -eps and 1+eps
    added). ROC: Riemann sum of recall over the false-positive rate; PR with "interpolation":
    Davis & Goadrich's interpolation (Keras's ``interpolate_pr_auc``); "minoring" /
    "majoring": the smaller / larger height of each step. ``from_logits``: sigmoid first."""

    default_name = "auc"
    direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, thresholds=None, from_logits=False):
        self.curve = _checks.choice("AUC", "curve", str(curve).upper(), ("ROC", "PR"))
        self.summation_method = _checks.choice(
            "AUC", "summation_method", str(summation_method).lower(),
            ("interpolation", "minoring", "majoring"))
        self.from_logits = _checks.boolean("AUC", "from_logits", from_logits)
        self._init_thresholds = thresholds
        if thresholds is not None:
            inner = sorted(_checks.rate("AUC", "thresholds", v) for v in thresholds)
        else:
            num_thresholds = _checks.integer("AUC", "num_thresholds", num_thresholds, 2)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        eps = config.epsilon()
        self.thresholds = np.array([0.0 - eps] + inner + [1.0 + eps])
        self.num_thresholds = len(self.thresholds)
        super().__init__(name)

    def reset_state(self):
        self.tp, self.fp, self.tn, self.fn = (np.zeros(len(self.thresholds)) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = np.asarray(_raw(y_pred), dtype=np.float64)
        if self.from_logits:
            p = 1.0 / (1.0 + np.exp(-p))
        counts = confusion_counts(y_true, p, self.thresholds, sample_weight)
        for name, c in zip(("tp", "fp", "tn", "fn"), counts):
            setattr(self, name, getattr(self, name) + c)

    def _interpolate_pr(self):
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        pos = tp + fp
        dp = pos[:-1] - pos[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * pos[1:]
        ratio = np.where((pos[:-1] > 0) & (pos[1:] > 0),
                         _divide_no_nan(pos[:-1], np.maximum(pos[1:], 0)), 1.0)
        inc = _divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                             np.maximum(tp[1:] + fn[1:], 0))
        return float(inc.sum())

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr()
        recall = _divide_no_nan(self.tp, self.tp + self.fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(self.fp, self.fp + self.tn), recall
        else:
            x, y = recall, _divide_no_nan(self.tp, self.tp + self.fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(((x[:-1] - x[1:]) * heights).sum())

    def get_config(self):
        cfg = {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
               "summation_method": self.summation_method, "from_logits": self.from_logits}
        if self._init_thresholds is not None:
            cfg["thresholds"] = list(self._init_thresholds)
        return cfg


@registry.register("f1_score", "F1Score")
class F1Score(Metric):
    """F1 = 2 P R / (P + R) per class from running weighted tp, fp, fn (with Keras's
    epsilons: P = tp / (tp + fp + eps), R = tp / (tp + fn + eps), F1 = 2 P R / (P + R + eps)).
    Predictions are 1 where y_pred > ``threshold``, or (threshold None) at each row's maximum
    (if |max| > 1e-9). ``average``: None (per class), "micro" (counts pooled over classes),
    "macro" (mean), "weighted" (weighted by each class's weighted support)."""

    default_name = "f1_score"
    direction = "up"
    beta = 1.0

    def __init__(self, average=None, threshold=None, name=None):
        self.average = _checks.choice(type(self).__name__, "average", average,
                                      (None, "micro", "macro", "weighted"))
        self.threshold = None if threshold is None else _checks.in_range(
            type(self).__name__, "threshold", threshold, 0.0, 1.0, lo_open=True)
        super().__init__(name)

    def reset_state(self):
        self.counts = None          # tp, fp, fn, support

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _arrays(y_true, y_pred)
        if t.ndim != 2 or p.ndim != 2:
            raise ValueError(f"{type(self).__name__}: expects 2-D inputs (batch_size, "
                             f"output_dim), got y_true {t.shape} and y_pred {p.shape}")
        if self.threshold is None:
            pred = (p >= p.max(axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            pred = p > self.threshold
        pred, t = pred.astype(np.float64), t.astype(np.float64)
        w = 1.0 if sample_weight is None else np.asarray(_raw(sample_weight),
                                                          np.float64).reshape(-1, 1)
        axis = None if self.average == "micro" else 0
        new = np.stack([np.sum(x * w, axis=axis) for x in
                        (pred * t, pred * (1 - t), (1 - pred) * t, t)])
        self.counts = new if self.counts is None else self.counts + new

    def result(self):
        if self.counts is None:
            return 0.0
        tp, fp, fn, support = self.counts
        eps, b2 = config.epsilon(), self.beta ** 2
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        f = (1 + b2) * precision * recall / (b2 * precision + recall + eps)
        if self.average == "weighted":
            return float(np.sum(f * support / (support.sum() + eps)))
        if self.average is not None:
            return float(np.mean(f))
        return f

    def get_config(self):
        return {"name": self.name, "average": self.average, "threshold": self.threshold}


_DIRECTIONS = {accuracy: "up", binary_accuracy: "up", categorical_accuracy: "up",
               sparse_categorical_accuracy: "up", mean_absolute_error: "down",
               mean_squared_error: "down", mean_absolute_percentage_error: "down",
               top_k_categorical_accuracy: "up", sparse_top_k_categorical_accuracy: "up"}


# ---- resolving ------------------------------------------------------------------------------
def resolve_accuracy(true_shape, pred_shape):
    """The accuracy class Keras's compile picks for "accuracy" from the shapes of the first
    batch's labels and predictions."""
    t, p = tuple(true_shape), tuple(pred_shape)
    if p and p[-1] == 1:
        return BinaryAccuracy
    if len(t) < len(p) or (t and p and t[-1] == 1 and p[-1] > 1):
        return SparseCategoricalAccuracy
    return CategoricalAccuracy


def get(identifier, y_true=None, y_pred=None):
    """A stateful metric from a name, a config dict, a class, an instance (returned as is)
    or a per-sample function (wrapped in MeanMetricWrapper). "accuracy"/"acc" with y_true
    and y_pred is resolved from their shapes (without them: exact-match Accuracy). A string
    identifier becomes the metric's ``name``, as Keras's log keys."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if y_true is not None and y_pred is not None:
            return resolve_accuracy(np.shape(_raw(y_true)), np.shape(_raw(y_pred)))(
                name=identifier)
        return Accuracy(name=identifier)
    obj = registry.get(identifier)
    if isinstance(obj, Metric):
        if isinstance(identifier, str):
            obj.name = identifier
        return obj
    if obj is None:
        return None
    return MeanMetricWrapper(obj, direction=_DIRECTIONS.get(obj))


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def serialize(metric):
    """``{"class_name": ..., "config": ...}`` for a Metric; a function's name (also for a
    MeanMetricWrapper around a custom function, which is all there is to save of it)."""
    if type(metric) is MeanMetricWrapper:
        metric = metric._fn
    return serialize_with(registry, metric)


def deserialize(config, custom_objects=None):
    """Rebuild a metric saved by ``serialize`` (always a stateful Metric)."""
    obj = deserialize_with(registry, config, custom_objects)
    return obj if isinstance(obj, Metric) else get(obj)
