"""The compiled loss and metrics, per output (Keras 3's ``trainers/compile_utils.py``).

``OutputLosses`` is the compiled loss of every model (Keras's ``CompileLoss``): called as
``loss(y_true, y_pred, sample_weight)`` it returns

    sum_i loss_weights[i] * loss_i(y_true[i], y_pred[i], sample_weight_i)

over the outputs that have a loss; ``sample_weight_i`` is the one sample weight given, for
every output, unless a list (or a dict by output name) gives one per output. Each loss reduces
its weighted values itself (``losses.Loss``). It remembers each unweighted ``loss_i`` of the
batch, which the ``<output>_loss`` trackers average (by batch size) over the epoch; they exist
only with more than one loss, as in Keras.

``metric_layout`` lays out ``compile(metrics=..., weighted_metrics=...)`` per output with the log
keys, known at compile: ``<output>_<metric>`` for several outputs, a weighted metric whose key
is taken becomes ``weighted_<metric>`` and a repeated key gets ``_1``, ``_2`` (Keras's
``CompileMetrics.result``). ``build_metrics`` resolves them at the first batch ("accuracy" from
the shapes); ``update_metrics`` feeds each its output, with that output's sample weight for a
weighted metric and without for the others (Keras 3: ``metrics=`` stay unweighted).
"""
import numpy as np

from .. import _checks
from .._registry import canonical
from ..layers.symbolic import flatten
from .structure import as_list


def output_names(model):
    """The model's output names (functional: dict keys or layer names); one for others."""
    names = getattr(model, "output_names", None)
    return list(names) if names else [model.name]


def _per_output(identifier):
    """A compile argument given per output: a list/tuple, or a dict that is not a config."""
    return isinstance(identifier, (list, tuple)) or (
        isinstance(identifier, dict) and "class_name" not in identifier)


class OutputLosses:
    """The weighted sum of one loss per output (see the module docstring)."""

    def __init__(self, model, loss, loss_weights=None):
        from .. import losses
        self.names = output_names(model)
        owner = f"compile (model {model.name!r})"
        ids = as_list(loss, self.names, "loss", owner) if _per_output(loss) \
            else [loss] * len(self.names)
        self.fns = [None if i is None else losses.get(i) for i in ids]
        if all(f is None for f in self.fns):
            raise ValueError(f"{owner}: no output has a loss (loss={loss!r})")
        weights = [1.0] * len(self.names) if loss_weights is None else \
            as_list(loss_weights, self.names, "loss_weights", owner)
        self.weights = [1.0 if w is None else _checks.number(owner, "loss_weights", w)
                        for w in weights]
        self.tracked = sum(f is not None for f in self.fns) > 1    # Keras: more than one loss
        self.last = [None] * len(self.names)
        self.last_values = [(None, 0)] * len(self.names)   # the Tensors behind ``last``

    def split(self, y):
        """Targets, predictions or sample weights as one entry per output: a list (prepared
        targets; several outputs' predictions), a dict by output name, or one value for all."""
        k = len(self.names)
        if isinstance(y, dict):
            return [y.get(n) for n in self.names]
        if isinstance(y, (list, tuple)):
            if k > 1:
                return flatten(y)
            if len(y) == 1 and not np.isscalar(y[0]):
                return list(y)
        return [y] * k

    def __call__(self, y_true, y_pred, sample_weight=None):
        """sum_i w_i * loss_i(y_true[i], y_pred[i], sample_weight_i) as a graph tensor."""
        ts, ps = self.split(y_true), self.split(y_pred)
        ws = [None] * len(ts) if sample_weight is None else self.split(sample_weight)
        total = None
        for i, (fn, w) in enumerate(zip(self.fns, self.weights)):
            if fn is None:
                continue
            value = fn(ts[i], ps[i], ws[i])
            if value.ndim:
                raise ValueError(f"loss {fn.name!r} with reduction={fn.reduction!r} gave "
                                 f"values of shape {value.shape}; training needs a scalar: "
                                 f"use a reducing reduction such as 'sum_over_batch_size'")
            if self.tracked:   # Keras records the unweighted loss with the batch size
                self.last[i] = (float(value.data), ps[i].shape[0])
                self.last_values[i] = (value, ps[i].shape[0])
            term = value if w == 1.0 else value * np.asarray(w, dtype=value.data.dtype)
            total = term if total is None else total + term
        return total


# ---- metrics ----------------------------------------------------------------------------------
def metric_list(metrics):
    """compile's ``metrics`` / ``weighted_metrics`` as a list; names are checked now (also
    inside per-output lists and dicts), as Keras does at compile."""
    from .. import metrics as metrics_mod
    if isinstance(metrics, (str, dict)) or callable(metrics):
        metrics = [metrics]
    ids = list(metrics or [])
    for m in _flatten_ids(ids):
        if isinstance(m, str) and canonical(m) not in ("accuracy", "acc"):
            metrics_mod.get(m)
    return ids


def _flatten_ids(metric_ids):
    out = []
    for m in metric_ids:
        if _per_output(m):
            out += _flatten_ids(list(m.values()) if isinstance(m, dict) else list(m))
        elif m is not None:
            out.append(m)
    return out


def metric_name(identifier):
    if isinstance(identifier, str):
        return identifier
    return getattr(identifier, "name", None) or getattr(identifier, "__name__", "metric")


def _metrics_per_output(metric_ids, names):
    """A metric list as one list per output: a dict by output name or a list with one entry
    (a metric or a list of them) per output, as Keras 3 requires; all for one output."""
    if len(metric_ids) == 1 and isinstance(metric_ids[0], dict) and \
            "class_name" not in metric_ids[0]:
        spec = as_list(metric_ids[0], names, "metrics", "compile")
    elif len(names) == 1:
        return [list(_flatten_ids(metric_ids))]
    else:
        spec = as_list(list(metric_ids), names, "metrics", "compile")
    return [[] if s is None else list(s) if isinstance(s, (list, tuple)) else [s] for s in spec]


def metric_layout(loss, metric_ids, weighted_ids):
    """``[(log key, identifier, output index, weighted)]`` in log order: the ``<output>_loss``
    trackers (identifier None), the metrics, then the weighted metrics (module docstring)."""
    names, several = loss.names, len(loss.names) > 1
    layout = [(f"{n}_loss", None, i, False) for i, (n, f) in enumerate(zip(names, loss.fns))
              if loss.tracked and f is not None]
    taken = {}
    for weighted, ids in ((False, metric_ids), (True, weighted_ids)):
        if not ids:
            continue
        for i, per in enumerate(_metrics_per_output(ids, names)):
            prefix = f"{names[i]}_" if several else ""
            for m in per:
                key = prefix + metric_name(m)
                if key in taken and weighted:
                    key = prefix + "weighted_" + metric_name(m)
                if key in taken:
                    taken[key] += 1
                    key = f"{key}_{taken[key] - 1}"
                taken.setdefault(key, 1)
                layout.append((key, m, i, weighted))
    return layout


def _resolve_metric(identifier, y_true, y_pred):
    """A stateful metric object (``update_state``/``result``/``reset_state``/``name``)."""
    from .. import metrics as metrics_mod
    if isinstance(identifier, str):
        return metrics_mod.get(identifier, y_true=y_true, y_pred=y_pred)
    m = metrics_mod.get(identifier)
    if hasattr(m, "update_state"):
        return m
    return metrics_mod.MeanMetricWrapper(m, name=metric_name(m))


class CompiledMetric:
    """One entry of ``model.compiled_metrics``: a metric fed output ``index``, named by its
    log key; ``weighted`` ones receive that output's sample weight."""

    __slots__ = ("name", "metric", "index", "weighted")

    def __init__(self, name, metric, index, weighted):
        self.name, self.metric, self.index, self.weighted = name, metric, index, weighted

    @property
    def direction(self):
        return getattr(self.metric, "direction", None)

    def update(self, ts, ps, ws):
        i = self.index
        if self.weighted:
            self.metric.update_state(ts[i], ps[i], sample_weight=ws[i])
        else:
            self.metric.update_state(ts[i], ps[i])

    def result(self):
        return self.metric.result()

    def reset_state(self):
        self.metric.reset_state()


class _LossTracker:
    """``<output>_loss``: the batch-size-weighted mean of that output's unweighted losses."""

    direction = "down"

    def __init__(self, container, index, name):
        self.container, self.index, self.name = container, index, name
        self.metric = self
        self.reset_state()

    def update(self, ts, ps, ws):
        value, n = self.container.last[self.index]
        self.total += value * n
        self.count += n

    def result(self):
        return self.total / self.count if self.count else 0.0

    def reset_state(self):
        self.total, self.count = 0.0, 0


def build_metrics(loss, layout, y_true, y_pred):
    """The entries of ``layout``, resolved from the shapes of the first batch."""
    ts, ps = loss.split(y_true), loss.split(y_pred)
    return [_LossTracker(loss, i, key) if m is None else
            CompiledMetric(key, _resolve_metric(m, ts[i], ps[i]), i, weighted)
            for key, m, i, weighted in layout]


def update_metrics(loss, entries, y_true, y_pred, sample_weight=None):
    """Each entry updated from its output (see the module docstring)."""
    ts, ps = loss.split(y_true), loss.split(y_pred)
    ws = [None] * len(ts) if sample_weight is None else loss.split(sample_weight)
    for e in entries:
        e.update(ts, ps, ws)
