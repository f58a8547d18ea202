"""gradient_report: per-layer gradients of one batch, leaving the model as it found it."""
import numpy as np

from .. import random as mgrandom
from ..grad_mode import enable_grad
from ..probe import add_probe_listener, remove_probe_listener
from .probes import PassRecorder
from .rows import format_table, kernel_rows, row_metrics


class GradientReport:
    """The metrics of one batch: ``layers`` = {name: {metric: float, "shape", "activation"}}
    in model order; ``to_records()``; ``table()``; ``print(report)`` shows the table."""

    def __init__(self, layers):
        self.layers = layers

    def to_records(self):
        """One dict per layer: layer, shape, activation and every metric."""
        return [dict(layer=name, **values) for name, values in self.layers.items()]

    def table(self):
        return format_table(self.to_records(), title="gradients of one batch (no training)")

    def __str__(self):
        return self.table()

    def __repr__(self):
        return f"<GradientReport layers={list(self.layers)}>"


def _resolve_loss(model, loss):
    """``loss=`` if given, else the compiled loss (per output for several outputs)."""
    from .. import losses
    if loss is not None:
        return losses.get(loss)
    compiled = getattr(model, "_loss_fn", None)
    if compiled is None:
        raise ValueError("gradient_report: the model is not compiled with a loss; pass loss= "
                         "(e.g. loss='sparse_categorical_crossentropy')")
    return compiled


def gradient_report(model, x, y, loss=None):
    """Gradients of ``loss(y, model(x, training=True)) + sum(model.losses)`` for one batch,
    without an optimizer step. Afterwards every weight, moving statistic, ``.grad`` and
    random-generator state is as it was before."""
    if not model.built:     # a subclassed model: build it (a stand-in call, no draws)
        from ..layers.symbolic import map_structure
        from ..models.data_adapters import is_structure

        def shape(a):
            return (None,) + np.shape(getattr(a, "data", a))[1:]
        model.build(map_structure(shape, x) if is_structure(x) else shape(x))
    rows = kernel_rows(model)
    loss_fn = _resolve_loss(model, loss)
    weights = list(model.weights)
    saved_data = [w.data.copy() for w in weights]
    saved_grad = [w.grad for w in weights]
    gens = mgrandom.private_generators()
    saved_rng = (mgrandom.get_state(), [g.bit_generator.state for g in gens])
    probes = PassRecorder()
    add_probe_listener(probes.record)
    try:
        for w in weights:
            w.grad = None
        with enable_grad():
            y_pred = model(x, training=True)
            model.compute_loss(y, y_pred, loss_fn).backward()
        layers = {}
        for row in rows:
            values = row_metrics(row, probes.outputs, probes.deltas,
                                 preactivations=probes.preactivations)
            layers[row.name] = dict(values, shape=tuple(row.layer.kernel.shape),
                                    activation=row.activation)
    finally:
        remove_probe_listener(probes.record)
        for w, data, grad in zip(weights, saved_data, saved_grad):
            w.assign(data)
            w.grad = grad
        mgrandom.set_state(saved_rng[0])
        for g, state in zip(gens, saved_rng[1]):
            g.bit_generator.state = state
    return GradientReport(layers)
