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
import numpy as np

from . import config
from ._registry import Registry, deserialize_with, serialize_with
from .losses import aligned_shape
from .tensor import Tensor

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
class Metric:
    """Base class: a running weighted mean of per-sample values. Subclasses set ``fn``."""

    default_name = "metric"
    direction = None

    def __init__(self, name=None):
        self.name = name or self.default_name
        self.reset_state()

    def reset_state(self):
        """Forget every update (result() is 0.0 until the next one)."""
        self.total = 0.0
        self.count = 0.0

    def _accumulate(self, values, sample_weight):
        """Add per-sample values with weights (broadcast to one weight per sample), in
        float64: Keras's weighted mean sum(w v) / sum(w)."""
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
            return
        w = np.asarray(sample_weight.data if isinstance(sample_weight, Tensor)
                       else sample_weight, dtype=np.float64)
        if w.ndim > values.ndim:
            w = w.reshape(w.shape[:values.ndim] + (-1,)).mean(axis=-1)
        try:
            w = np.broadcast_to(w, values.shape)
        except ValueError:
            raise ValueError(f"{self.name}: sample_weight of shape {w.shape} does not fit "
                             f"{values.shape[0] if values.ndim else 1} samples") from None
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def result(self):
        """The weighted mean so far, a float (0.0 before any update)."""
        return self.total / self.count if self.count else 0.0

    def __call__(self, *args, **kwargs):
        """update_state(...), then result() (as Keras)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.6g}>"


@registry.register("mean", "Mean")
class Mean(Metric):
    """Running (weighted) mean of the values given: ``update_state(values, sample_weight)``.
    Values of rank > 1 are first averaged to one value per sample; a scalar counts as one."""

    default_name = "mean"

    def update_state(self, values, sample_weight=None):
        v = np.asarray(values.data if isinstance(values, Tensor) else values)
        self._accumulate(_per_sample(v) if v.ndim else v, sample_weight)


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
        self._accumulate(_per_sample(self._fn(y_true, y_pred, **self._kwargs)), sample_weight)


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


_DIRECTIONS = {accuracy: "up", binary_accuracy: "up", categorical_accuracy: "up",
               sparse_categorical_accuracy: "up", mean_absolute_error: "down"}


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
