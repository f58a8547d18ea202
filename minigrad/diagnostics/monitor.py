"""GradientMonitor: a Callback that records per-layer gradient metrics during fit."""
import math

from ..callbacks import Callback
from ..probe import add_probe_listener, remove_probe_listener
from .rows import METRICS, format_table, kernel_rows, row_metrics, update_ratio


class _Probes:
    """Probe listener keeping the latest "output" and "delta" array per tag while armed.

    It stores references only (no copies): the arrays are fresh for every step."""

    def __init__(self):
        self.armed = False
        self.outputs, self.deltas = {}, {}

    def __call__(self, tag, kind, array):
        if self.armed:
            if kind == "output":
                self.outputs[tag] = array
            elif kind == "delta":
                self.deltas[tag] = array

    def clear(self):
        self.outputs.clear()
        self.deltas.clear()


class GradientMonitor(Callback):
    """Record API §8's metrics for every kernel layer at every ``every``-th optimizer step.

    Record k holds the gradient of the batch loss (training-mode forward, before clipping)
    at the weights *before* step ``steps[k]``; record 0 is the gradient at the initial
    weights on the first batch. ``update_ratio`` = |w_after - w_before| / |w_before| of that
    step. ``history[layer][metric]`` is a list with one value per record.
    """

    def __init__(self, every=1):
        super().__init__()
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"GradientMonitor: every must be a positive integer, got {every!r}")
        self.every = every
        self.history = {}
        self.steps = []
        self.shapes, self.activations = {}, {}
        self._rows = None
        self._probes = None
        self._before = None
        self._step = 0

    # -- lifecycle ------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._rows = kernel_rows(self.model)
        for row in self._rows:
            self.history.setdefault(row.name, {m: [] for m in METRICS})
            self.shapes[row.name] = tuple(row.layer.kernel.shape)
            self.activations[row.name] = row.activation
        self._probes = _Probes()
        add_probe_listener(self._probes)

    def on_train_end(self, logs=None):
        self.detach()

    def detach(self):
        """Remove the probe listener (also done at the end of fit); idempotent."""
        if self._probes is not None:
            remove_probe_listener(self._probes)
            self._probes = None
        self._before = None

    # -- per step -------------------------------------------------------------------------
    def _optimizer_step(self):
        opt = getattr(self.model, "optimizer", None)
        return int(getattr(opt, "iterations", self._step))

    def on_train_batch_begin(self, batch, logs=None):
        self._step = self._optimizer_step()
        record = self._step % self.every == 0 and self._probes is not None
        if record:
            self._probes.clear()
            self._before = [row.layer.kernel.data.copy() for row in self._rows]
        self._probes_armed(record)

    def _probes_armed(self, flag):
        if self._probes is not None:
            self._probes.armed = flag

    def on_train_batch_end(self, batch, logs=None):
        if self._probes is None or not self._probes.armed:
            return
        self._probes_armed(False)
        for row, before in zip(self._rows, self._before):
            values = row_metrics(row, self._probes.outputs, self._probes.deltas)
            values["update_ratio"] = update_ratio(row.layer.kernel.data, before)
            series = self.history[row.name]
            for m in METRICS:
                series[m].append(values[m])
        self.steps.append(self._step)
        self._before = None
        self._probes.clear()

    # -- views ----------------------------------------------------------------------------
    def to_records(self):
        """One dict per (recorded step, layer): step, layer, shape, activation, metrics."""
        out = []
        for k, step in enumerate(self.steps):
            for name, series in self.history.items():
                rec = {"step": step, "layer": name, "shape": self.shapes[name],
                       "activation": self.activations[name]}
                rec.update({m: series[m][k] for m in METRICS})
                out.append(rec)
        return out

    def rows_at(self, step=-1):
        """The per-layer rows of one record (index into ``steps``, -1 = the last)."""
        if not self.steps:
            raise ValueError("GradientMonitor: nothing recorded yet (attach it to fit first)")
        k = range(len(self.steps))[step]
        return [dict({"layer": n, "shape": self.shapes[n], "activation": self.activations[n]},
                     **{m: s[m][k] for m in METRICS}) for n, s in self.history.items()]

    def table(self, step=-1):
        """The readable per-layer table of one record."""
        rows = self.rows_at(step)
        k = range(len(self.steps))[step]
        return format_table(rows, title=f"gradients at optimizer step {self.steps[k]}")

    def __repr__(self):
        return f"<GradientMonitor every={self.every} records={len(self.steps)}>"
