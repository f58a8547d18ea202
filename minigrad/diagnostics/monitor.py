"""GradientMonitor: a Callback that records per-layer gradient metrics during fit."""
import numpy as np

from .. import _checks
from ..callbacks import Callback
from ..probe import add_probe_listener, remove_probe_listener
from .probes import PassRecorder
from .rows import METRICS, RAW_SIZE, format_table, kernel_rows, raw_metrics, row_raw


class GradientMonitor(Callback):
    """Record API §8's metrics for every kernel layer at every ``every``-th optimizer step.

    Record k holds the gradient of the batch loss (training-mode forward, before clipping)
    at the weights *before* step ``steps[k]``; record 0 is the gradient at the initial
    weights on the first batch. ``update_ratio`` = |w_after - w_before| / |w_before| of that
    step. ``history[layer][metric]`` is a list with one value per record.
    """

    def __init__(self, every=1):
        super().__init__()
        self.every = _checks.integer("GradientMonitor", "every", every, lo=1)
        self.steps = []
        self.shapes, self.activations = {}, {}
        # per record: (rows, raw sums of shape (len(rows), RAW_SIZE)); turned into metrics
        # only when ``history`` is read, so that recording a step stays one kernel call a row
        self._records = []
        self._history, self._converted = {}, 0
        self._rows = None
        self._probes = None
        self._listening = False
        self._before = None
        self._step = 0

    # -- lifecycle ------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._rows = kernel_rows(self.model)
        for row in self._rows:
            self.shapes[row.name] = tuple(row.layer.kernel.shape)
            self.activations[row.name] = row.activation
        self._before = [np.empty(row.layer.kernel.size, row.layer.kernel.dtype)
                        for row in self._rows]
        self._probes = PassRecorder()
        self._listening = False

    def on_train_end(self, logs=None):
        self.detach()

    def on_train_abort(self, logs=None):
        self.detach()

    def detach(self):
        """Remove the probe listener if one is registered (also done at the end of fit and
        when fit is interrupted); idempotent."""
        if self._listening:
            remove_probe_listener(self._probes.record)
            self._listening = False
        self._before = None

    # -- per step -------------------------------------------------------------------------
    def on_train_batch_begin(self, batch, logs=None):
        opt = getattr(self.model, "optimizer", None)
        self._step = int(getattr(opt, "iterations", self._step))
        if self._before is None or self._step % self.every:
            return
        self._probes.clear()
        for row, buf in zip(self._rows, self._before):
            np.copyto(buf, row.layer.kernel.data.reshape(-1))
        add_probe_listener(self._probes.record)
        self._listening = True

    def on_train_batch_end(self, batch, logs=None):
        if not self._listening:
            return
        remove_probe_listener(self._probes.record)
        self._listening = False
        probes = self._probes
        raw = np.empty((len(self._rows), RAW_SIZE))
        for i, (row, before) in enumerate(zip(self._rows, self._before)):
            row_raw(row, probes.outputs, probes.deltas, before, raw[i],
                    probes.preactivations)
        self._records.append((self._rows, raw))
        self.steps.append(self._step)
        probes.clear()

    @property
    def history(self):
        """``{layer: {metric: [one value per record]}}`` (API §8)."""
        for rows, raw in self._records[self._converted:]:
            for row, sums in zip(rows, raw):
                series = self._history.setdefault(row.name, {m: [] for m in METRICS})
                for m, value in raw_metrics(sums, row.mode).items():
                    series[m].append(value)
        self._converted = len(self._records)
        return self._history

    # -- views ----------------------------------------------------------------------------
    def to_records(self):
        """One dict per (recorded step, layer): step, layer, shape, activation, metrics."""
        out, history = [], self.history
        for k, step in enumerate(self.steps):
            for name, series in history.items():
                rec = {"step": step, "layer": name, "shape": self.shapes[name],
                       "activation": self.activations[name]}
                rec.update({m: series[m][k] for m in METRICS})
                out.append(rec)
        return out

    def rows_at(self, step=-1):
        """The per-layer rows of one record (index into ``steps``, -1 = the last)."""
        k = self._record(step)
        return [dict({"layer": n, "shape": self.shapes[n], "activation": self.activations[n]},
                     **{m: s[m][k] for m in METRICS}) for n, s in self.history.items()]

    def table(self, step=-1):
        """The readable per-layer table of one record."""
        rows = self.rows_at(step)
        k = self._record(step)
        return format_table(rows, title=f"gradients at optimizer step {self.steps[k]}")

    def _record(self, step):
        """The record index of ``step`` (an index into ``steps``; negative from the end)."""
        if not self.steps:
            raise ValueError("GradientMonitor: nothing recorded yet (attach it to fit first)")
        n = len(self.steps)
        step = _checks.integer("GradientMonitor", "step", step)
        if not -n <= step < n:
            raise ValueError(f"GradientMonitor: step {step} is out of range: {n} records were "
                             f"made (at optimizer steps {self.steps[0]}..{self.steps[-1]}); "
                             f"pass an index in [{-n}, {n - 1}]")
        return step % n

    def __repr__(self):
        return f"<GradientMonitor every={self.every} records={len(self.steps)}>"
