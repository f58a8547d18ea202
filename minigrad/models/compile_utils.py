"""Losses and metrics per output (models with several outputs, or ``loss_weights``).

``OutputLosses`` is the compiled loss of such a model: called as ``loss(y_true, y_pred)`` it
returns ``sum_i loss_weights[i] * loss_i(y_true[i], y_pred[i])`` over the outputs that have a
loss, as Keras 3's ``CompileLoss``, and remembers each unweighted ``loss_i`` of the batch, which
the ``<output>_loss`` trackers average (sample-weighted) over the epoch. Metrics per output are
named ``<output>_<metric>`` as in Keras 3.
"""
import numpy as np

from .. import _checks
from ..layers.symbolic import flatten
from .structure import as_list, unwrap


def output_names(model):
    """The model's output names (functional: dict keys or layer names); one for others."""
    names = getattr(model, "output_names", None)
    return list(names) if names else [model.name]


def needs_output_losses(model, loss, loss_weights):
    return len(output_names(model)) > 1 or isinstance(loss, (dict, list, tuple)) or \
        loss_weights is not None


class OutputLosses:
    """The weighted sum of one loss per output (see the module docstring)."""

    def __init__(self, model, loss, loss_weights):
        from .. import losses
        self.names = output_names(model)
        owner = f"compile (model {model.name!r})"
        ids = as_list(loss, self.names, "loss", owner) if isinstance(loss, (dict, list, tuple)) \
            else [loss] * len(self.names)
        self.fns = [None if i is None else losses.get(i) for i in ids]
        if all(f is None for f in self.fns):
            raise ValueError(f"{owner}: no output has a loss (loss={loss!r})")
        weights = [1.0] * len(self.names) if loss_weights is None else \
            as_list(loss_weights, self.names, "loss_weights", owner)
        self.weights = [1.0 if w is None else _checks.number(owner, "loss_weights", w)
                        for w in weights]
        self.last = [None] * len(self.names)

    def _true(self, y_true):
        y = unwrap(y_true)
        if isinstance(y, dict):
            return [y.get(n) for n in self.names]
        if isinstance(y, (list, tuple)):
            return list(y)
        return [y]

    def __call__(self, y_true, y_pred):
        """sum_i w_i * loss_i(y_true[i], y_pred[i]) as a graph tensor."""
        ts, ps = self._true(y_true), flatten(y_pred)
        total = None
        for i, (fn, w, t, p) in enumerate(zip(self.fns, self.weights, ts, ps)):
            if fn is None:
                continue
            value = fn(t, p)
            self.last[i] = (float(value.data), len(t))
            term = value if w == 1.0 else value * np.asarray(w, dtype=value.data.dtype)
            total = term if total is None else total + term
        return total

    def build_metrics(self, metric_ids, y_true, y_pred):
        """The ``<output>_loss`` trackers (several outputs only, as Keras), then each
        output's metrics, resolved from that output's shapes."""
        from .training import _metric_name, _resolve_metric
        out = []
        if sum(f is not None for f in self.fns) > 1:     # Keras: more than one loss
            out = [_LossTracker(self, i) for i, f in enumerate(self.fns) if f is not None]
        if not metric_ids:
            return out
        per_output = _metrics_per_output(metric_ids, self.names)
        ts, ps = self._true(y_true), flatten(y_pred)
        for i, ids in enumerate(per_output):
            for m in ids:
                metric = _resolve_metric(m, ts[i], ps[i])
                name = _metric_name(m) if len(self.names) == 1 else \
                    f"{self.names[i]}_{_metric_name(m)}"
                out.append(_OutputMetric(metric, i, name) if len(self.names) > 1 else metric)
        return out


def _metrics_per_output(metric_ids, names):
    """``compile(metrics=...)`` as one list per output: a dict by output name or a list with
    one entry (a metric or a list of them) per output, as Keras 3 requires."""
    if len(metric_ids) == 1 and isinstance(metric_ids[0], dict):
        spec = as_list(metric_ids[0], names, "metrics", "compile")
    elif len(names) == 1:
        return [list(metric_ids)]
    else:
        spec = as_list(list(metric_ids), names, "metrics", "compile")
    return [[] if s is None else list(s) if isinstance(s, (list, tuple)) else [s] for s in spec]


class _LossTracker:
    """``<output>_loss``: the sample-weighted mean of that output's unweighted batch losses."""

    def __init__(self, container, index):
        self.container, self.index = container, index
        self.name = f"{container.names[index]}_loss"
        self.reset_state()

    def update_state(self, y_true, y_pred):
        value, n = self.container.last[self.index]
        self.total += value * n
        self.count += n

    def result(self):
        return self.total / self.count if self.count else 0.0

    def reset_state(self):
        self.total, self.count = 0.0, 0


class _OutputMetric:
    """A metric applied to one output (``index``) of a model with several."""

    def __init__(self, metric, index, name):
        self.metric, self.index, self.name = metric, index, name

    def update_state(self, y_true, y_pred):
        y = unwrap(y_true)
        t = list(y.values())[self.index] if isinstance(y, dict) else y[self.index]
        self.metric.update_state(t, flatten(y_pred)[self.index])   # dicts: output order

    def result(self):
        return self.metric.result()

    def reset_state(self):
        self.metric.reset_state()
