"""TensorBoard: training curves, weight histograms and per-layer gradients as event files.

The files are written with the ``tensorboard`` package's own event writer and summary
protos (``EventFileWriter``, ``scalar_pb``, the histogram plugin's metadata), imported when
a writer is first needed, never by ``import minigrad``. Layout and tags (API §12, Keras 3's
``TensorBoard`` callback): ``log_dir/train`` and ``log_dir/validation`` runs; ``epoch_<key>``
at step = epoch, ``val_`` keys in the validation run without the prefix, ``epoch_learning_rate``
from the optimizer; ``batch_<key>`` at the global batch count (1, 2, ...) when
``update_freq`` is "batch" or an integer k (every k-th batch); ``<layer>/<weight>`` histograms
every ``histogram_freq`` epochs; with ``gradient_freq`` k, the GradientMonitor's metrics as
``gradients/<layer>/<metric>`` and the kernel gradient histogram ``gradients/<layer>/kernel``
at the monitor's step numbers (optimizer steps; 0 = the initial weights).
"""
import json
import math
import os
import time
from types import SimpleNamespace

import numpy as np

from .. import _checks
from .._kernel import flat, kernel
from .base import Callback

INSTALL_HINT = 'pip install "minigrad[tensorboard]"'
BUCKETS = 30   # TensorBoard's default bucket count


def _tb():
    """The tensorboard pieces used here (imported once, on first use)."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2, types_pb2
        from tensorboard.plugins.histogram import metadata as histogram_metadata
        from tensorboard.plugins.scalar import metadata as scalar_metadata
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util
    except ImportError as e:
        raise ImportError(f"minigrad.callbacks.TensorBoard needs the tensorboard package, "
                          f"which could not be imported ({e}); install it with: "
                          f"{INSTALL_HINT}") from None
    _use_fast_checksum()
    return SimpleNamespace(event_pb2=event_pb2, summary_pb2=summary_pb2, types_pb2=types_pb2,
                           histogram_metadata=histogram_metadata,
                           scalar_metadata=scalar_metadata, EventFileWriter=EventFileWriter,
                           tensor_util=tensor_util)


def _masked_crc32c_fast(data):
    """TFRecord's masked CRC-32C, ((c >> 15 | c << 17) + 0xa282ead8) mod 2^32, with the
    checksum from google-crc32c's C implementation."""
    import google_crc32c
    c = google_crc32c.value(bytes(data))
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _use_fast_checksum():
    """Give tensorboard's record writer a compiled CRC-32C when google-crc32c has one.

    tensorboard (without TensorFlow) checksums every record in pure Python at ~2.5 MB/s: with
    gradient histograms every step that alone cost ~5 ms per step, 12x GradientMonitor's own
    overhead. The replacement returns the same value (tested against tensorboard's own
    function), so files stay byte-identical; without the C extension nothing changes."""
    try:
        import google_crc32c
        from tensorboard.summary.writer import record_writer
    except ImportError:
        return
    if google_crc32c.implementation == "c":
        record_writer.masked_crc32c = _masked_crc32c_fast


@kernel
def _range_kernel(x, out):
    """out = [min, max, count] of the finite values of x, in float64; one pass."""
    lo, hi, n = math.inf, -math.inf, 0
    for i in range(x.size):
        v = np.float64(x[i])
        if math.isfinite(v):
            n += 1
            lo = min(lo, v)
            hi = max(hi, v)
    out[0], out[1], out[2] = lo, hi, n


@kernel
def _count_kernel(x, lo, width, counts):
    """counts[min(floor((v - lo) / width), len - 1)] += 1 for each finite v (float64)."""
    last = counts.size - 1
    for i in range(x.size):
        v = np.float64(x[i])
        if math.isfinite(v):
            k = int(math.floor((v - lo) / width))
            counts[min(k, last)] += 1


def histogram_buckets(values, buckets=BUCKETS):
    """TensorBoard's histogram layout, ``[[left, right, count], ...]`` (``buckets`` rows), and
    the number of non-finite values left out.

    Same rule as ``tensorboard.plugins.histogram.summary_v2.histogram_pb``: ``buckets``
    equal-width buckets from min to max (float64), a value in bucket ``floor((v - min) /
    width)`` (the max in the last one); all values equal -> every edge at that value, the
    count in the last bucket; no values -> zeros. Two passes of a kernel (``histogram_pb``
    builds an n x buckets one-hot matrix), over the finite values only: NaN and +-inf have
    no place on an axis, so they are counted apart (logged as a scalar by the writer)."""
    data = flat(np.asarray(values))
    if data.dtype.kind != "f":
        data = data.astype(np.float64)
    stats = np.empty(3)
    _range_kernel(data, stats)
    lo, hi, n = stats[0], stats[1], int(stats[2])
    nonfinite = data.size - n
    out = np.zeros((buckets, 3))
    if n == 0:
        return out, nonfinite
    if hi == lo:
        out[:, 0] = out[:, 1] = lo
        out[-1, 2] = n
        return out, nonfinite
    counts = np.zeros(buckets, np.int64)
    _count_kernel(data, lo, (hi - lo) / buckets, counts)
    edges = np.linspace(lo, hi, buckets + 1)
    out[:, 0], out[:, 1], out[:, 2] = edges[:-1], edges[1:], counts
    return out, nonfinite


def check_log_dir(path, owner="TensorBoard"):
    """Create ``path`` and make sure files can be written in it: a clear error now rather
    than a failed write in the middle of training."""
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise OSError(f"{owner}: cannot create log_dir {path!r}: {e.strerror or e}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(f"{owner}: log_dir {path!r} is not writable")
    return path


class RunWriter:
    """One TensorBoard run (a directory of event files): the scalars and histograms of one
    step go into one event.

    The summaries are the ones ``tensorboard.plugins.scalar.summary_v2.scalar_pb`` and
    ``...histogram.summary_v2.histogram_pb`` build (a float32 scalar tensor; a float64
    ``[buckets, 3]`` tensor), filled in place from the same proto classes rather than
    through ``make_tensor_proto``'s generic conversion (60 us a value: it dominated a
    gradient record of 100 scalars); the plugin metadata goes with the first value of each
    tag only, as TensorFlow's summary writer does. Events are handed to tensorboard's
    ``EventFileWriter`` in batches (at ``flush``, or every ``BATCH`` events), not one by
    one: each hand-over wakes its writer thread. ``flush`` makes the file complete and
    readable; ``close`` flushes."""

    BATCH = 256

    def __init__(self, logdir):
        tb = self.tb = _tb()
        self.logdir = check_log_dir(logdir)
        self._writer = tb.EventFileWriter(self.logdir, max_queue_size=self.BATCH)
        self._meta = {
            "scalar": tb.scalar_metadata.create_summary_metadata(display_name=None,
                                                                 description=None),
            "histogram": tb.histogram_metadata.create_summary_metadata(display_name=None,
                                                                       description=None)}
        self._tagged = set()
        self._pending = []
        self.closed = False

    def _tensor(self, summary, tag, kind):
        value = summary.value.add(tag=tag)
        if tag not in self._tagged:
            value.metadata.CopyFrom(self._meta[kind])
            self._tagged.add(tag)
        return value.tensor

    def write(self, step, scalars=None, histograms=None, wall_time=None):
        """``scalars``: {tag: float}; ``histograms``: {tag: array}. A histogram with
        non-finite entries adds the scalar ``<tag>/nonfinite`` (their count)."""
        tb = self.tb
        event = tb.event_pb2.Event(wall_time=time.time() if wall_time is None else wall_time,
                                   step=int(step))
        summary = event.summary
        scalars = dict(scalars or {})
        for tag, values in (histograms or {}).items():
            buckets, nonfinite = histogram_buckets(values)
            tensor = self._tensor(summary, tag, "histogram")
            tensor.dtype = tb.types_pb2.DT_DOUBLE
            tensor.tensor_shape.dim.add(size=buckets.shape[0])
            tensor.tensor_shape.dim.add(size=3)
            tensor.tensor_content = buckets.tobytes()
            if nonfinite:
                scalars[f"{tag}/nonfinite"] = nonfinite
        dt_float = tb.types_pb2.DT_FLOAT
        for tag, value in scalars.items():
            tensor = self._tensor(summary, tag, "scalar")
            tensor.dtype = dt_float
            tensor.tensor_shape.SetInParent()   # a scalar: present, without dimensions
            tensor.float_val.append(float(np.float32(value)))
        if not summary.value:
            return
        self._pending.append(event)
        if len(self._pending) >= self.BATCH:
            self._hand_over()

    def _hand_over(self):
        for event in self._pending:
            self._writer.add_event(event)
        self._pending = []

    def write_text_plugin(self, tag, plugin_name, content, text, step=0):
        """A string tensor for ``plugin_name`` (the Keras model summary of write_graph)."""
        tb = self.tb
        metadata = tb.summary_pb2.SummaryMetadata(
            plugin_data=tb.summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin_name,
                                                                  content=content))
        summary = tb.summary_pb2.Summary()
        summary.value.add(tag=tag, metadata=metadata,
                          tensor=tb.tensor_util.make_tensor_proto(text.encode("utf-8")))
        self._pending.append(tb.event_pb2.Event(wall_time=time.time(), step=step,
                                                summary=summary))

    def flush(self):
        if not self.closed:
            self._hand_over()
            self._writer.flush()

    def close(self):
        if not self.closed:
            self._hand_over()
            self._writer.close()
            self.closed = True


class TensorBoard(Callback):
    """Log training to TensorBoard (API §12; Keras 3's argument names, no TensorFlow).

    ``update_freq``: "epoch" (epoch scalars only), "batch" (also ``batch_<key>`` at every
    batch) or an integer k (every k-th batch). ``histogram_freq`` k: a histogram of every
    weight at epochs 0, k, 2k, ... ``gradient_freq`` k: a GradientMonitor(every=k) runs
    inside this callback, and each of its records is written as it is taken. Histograms
    and gradient records are flushed at every epoch end; an interrupted fit closes the
    files, so what was logged stays readable. Needs the ``tensorboard`` extra
    (``pip install "minigrad[tensorboard]"``).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=False,
                 update_freq="epoch", gradient_freq=0):
        super().__init__()
        owner = "TensorBoard"
        _tb()   # fail now, naming the extra, rather than at the first write
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _checks.integer(owner, "histogram_freq", histogram_freq, lo=0)
        self.gradient_freq = _checks.integer(owner, "gradient_freq", gradient_freq, lo=0)
        self.write_graph = _checks.boolean(owner, "write_graph", write_graph)
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch":
            if isinstance(update_freq, str):
                raise ValueError(f"{owner}: update_freq must be 'epoch', 'batch' or a positive "
                                 f"integer, got {update_freq!r}")
            update_freq = _checks.integer(owner, "update_freq", update_freq, lo=1)
        self.update_freq = update_freq
        self._writers = {}
        self._monitor = None
        self._rows = ()
        self._written = 0
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._in_fit = False

    # ---- writers ------------------------------------------------------------------------
    def _writer(self, run):
        w = self._writers.get(run)
        if w is None:
            w = self._writers[run] = RunWriter(os.path.join(self.log_dir, run))
        return w

    def _close_writers(self):
        for w in self._writers.values():
            w.close()
        self._writers = {}

    # ---- lifecycle ----------------------------------------------------------------------
    def set_model(self, model):
        super().set_model(model)
        if self._monitor is not None:
            self._monitor.set_model(model)

    def on_train_begin(self, logs=None):
        check_log_dir(self.log_dir)
        self._in_fit = True
        self._global_train_batch = 0
        self._global_test_batch = 0
        train = self._writer("train")
        if self.write_graph:
            self._write_model_summary(train)
        if self.gradient_freq:
            from ..diagnostics.monitor import GradientMonitor
            from ..diagnostics.rows import kernel_rows
            self._monitor = GradientMonitor(every=self.gradient_freq)
            self._monitor.set_model(self.model)
            self._monitor.set_params(self.params)
            self._monitor.on_train_begin(logs)
            self._rows = kernel_rows(self.model)
            self._written = 0

    def on_train_end(self, logs=None):
        self._in_fit = False
        if self._monitor is not None:
            self._monitor.on_train_end(logs)
        self._close_writers()

    def on_train_abort(self, logs=None):
        self._in_fit = False
        if self._monitor is not None:
            self._monitor.on_train_abort(logs)
        self._close_writers()

    # ---- batches ------------------------------------------------------------------------
    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self._monitor is not None:
            self._monitor.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if self._monitor is not None:
            self._monitor.on_train_batch_end(batch, logs)
            if len(self._monitor.steps) > self._written:
                self._write_gradients()
        if (self.update_freq != "epoch" and logs
                and self._global_train_batch % self.update_freq == 0):
            self._writer("train").write(self._global_train_batch,
                                        {f"batch_{k}": v for k, v in logs.items()})

    def _write_gradients(self):
        """The monitor's newest record: its metrics as scalars, and the kernel gradients
        (still in ``.grad`` at this batch end) as histograms."""
        monitor = self._monitor
        k = len(monitor.steps) - 1
        history = monitor.history
        scalars, histograms = {}, {}
        for row in self._rows:
            for metric, series in history[row.name].items():
                scalars[f"gradients/{row.name}/{metric}"] = series[k]
            grad = row.layer.kernel.grad
            if grad is not None:
                histograms[f"gradients/{row.name}/kernel"] = grad
        self._writer("train").write(monitor.steps[k], scalars, histograms)
        self._written = len(monitor.steps)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        # Keras: evaluation_<key>_vs_iterations at the optimizer's step, in the validation
        # run; with an integer update_freq only when the test batch count is a multiple
        optimizer = getattr(self.model, "optimizer", None)
        if not logs or optimizer is None or not hasattr(optimizer, "iterations"):
            return
        if self.update_freq != "epoch" and self._global_test_batch % self.update_freq:
            return
        writer = self._writer("validation")
        writer.write(int(optimizer.iterations),
                     {f"evaluation_{k}_vs_iterations": v for k, v in logs.items()})
        if not self._in_fit:   # a standalone evaluate(): no train end will flush it
            writer.flush()

    # ---- epochs -------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if logs:
            train = {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")}
            optimizer = getattr(self.model, "optimizer", None)
            if optimizer is not None and hasattr(optimizer, "learning_rate"):
                train["epoch_learning_rate"] = float(optimizer.learning_rate)
            self._writer("train").write(epoch, train)
            val = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
            if val:
                self._writer("validation").write(epoch, val)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._writer("train").write(epoch, histograms=self._weight_histograms())
        for w in self._writers.values():
            w.flush()

    def _weight_histograms(self):
        """``{"<layer>/<weight>": values}`` for every weight of every layer."""
        out = {}
        for layer in self.model.layers:
            for w in layer.weights:
                short = w.name.rsplit("/", 1)[-1]
                out[f"{layer.name}/{short}"] = w.data
        return out

    def _write_model_summary(self, writer):
        config = {"class_name": type(self.model).__name__, "config": self.model.get_config()}
        try:
            text = json.dumps(config, default=str)
        except (TypeError, ValueError):   # as Keras: a model that fails to serialize is skipped
            return
        writer.write_text_plugin("keras", "graph_keras_model", b"1", text)

    def __repr__(self):
        return (f"<TensorBoard log_dir={self.log_dir!r} histogram_freq={self.histogram_freq} "
                f"update_freq={self.update_freq!r} gradient_freq={self.gradient_freq}>")


def write_trial(logdir, run_name, record):
    """Write one experiment record as the TensorBoard run ``logdir/run_name``.

    ``record["history"]``: ``{key: [value per epoch]}``, written as ``epoch_<key>`` at steps
    0, 1, ...; ``record["grad_init"]`` / ``record["grad_final"]``: ``{layer: {metric:
    value}}``, written as ``gradients/<layer>/<metric>`` at step 0 and at the final step
    (the number of epochs; 1 when there is no history). Returns the run's directory."""
    history = record.get("history") or {}
    path = os.path.join(os.fspath(logdir), run_name)
    writer = RunWriter(path)
    try:
        n = max((len(v) for v in history.values()), default=0)
        for epoch in range(n):
            writer.write(epoch, {f"epoch_{k}": float(v[epoch]) for k, v in history.items()
                                 if epoch < len(v) and _is_number(v[epoch])})
        final_step = max(n, 1)
        for step, key in ((0, "grad_init"), (final_step, "grad_final")):
            layers = record.get(key) or {}
            writer.write(step, {f"gradients/{layer}/{m}": float(v)
                                for layer, metrics in layers.items()
                                for m, v in metrics.items() if _is_number(v)})
    finally:
        writer.close()
    return path


def _is_number(v):
    """A real number (NaN and inf included: they are logged as such)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
