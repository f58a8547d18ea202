"""compile / fit / evaluate / predict / train_on_batch / test_on_batch (Keras 3 semantics).

One training step (``_train_step``), the loop a reader follows in one sitting:

    batch -> forward(training=True) -> loss = data loss (batch mean) + sum(model.losses)
          -> backward -> optimizer.apply_gradients -> metrics (on ndarrays) -> callbacks

``fit`` converts x and y once to contiguous arrays (x in the model's dtype), cuts the
validation rows (the LAST ``n - floor(n * (1 - split))``, before any shuffling), draws a fresh
permutation from ``minigrad.random`` at each epoch start and keeps the last partial batch.
The epoch ``loss`` is the sample-weighted mean of the batch losses (each on the pre-step
weights); metrics accumulate over the epoch. Logs are ordered as Keras's: metrics, ``loss``,
then ``val_`` metrics and ``val_loss``.
"""
import math

import numpy as np

from .. import _threads
from .. import random as mgrandom
from ..grad_mode import no_grad
from ..layers.symbolic import flatten
from ..tensor import Tensor
from .compile_utils import OutputLosses, output_names
from .structure import batch_shape, concat_outputs, prepare_many, unwrap

DEFAULT_BATCH_SIZE = 32


class Trainer:
    """The training half of ``Model`` (a mixin: it needs ``__call__``, ``losses``,
    ``trainable_weights``, ``dtype`` and ``_input_shape`` from the container). Several inputs
    or outputs: ``structure`` batches the arrays together, ``compile_utils`` holds the
    per-output losses and metrics."""

    def _init_training_state(self):
        self.optimizer = None
        self.loss = None               # the identifier given to compile (saved as given)
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_fn = None
        self._metric_ids = []          # identifiers given to compile, in order
        self.compiled_metrics = None   # metric objects, resolved at the first batch

    # ---- compile ----------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None):
        """Resolve the optimizer, loss and metrics (unknown names raise ValueError listing the
        valid ones). ``"accuracy"`` is resolved at the first batch from the shapes. Several
        outputs: ``loss``, ``loss_weights`` and ``metrics`` per output (lists or dicts)."""
        from .. import losses, optimizers
        from .. import metrics as metrics_mod
        from .compile_utils import OutputLosses, needs_output_losses
        if isinstance(metrics, (str, dict)) or callable(metrics):
            metrics = [metrics]
        metric_ids = list(metrics or [])
        for m in flatten_ids(metric_ids):   # check names now, as Keras does at compile
            if isinstance(m, str) and _canonical(m) not in ("accuracy", "acc"):
                metrics_mod.get(m)
        self.optimizer = optimizers.get(optimizer)
        if loss is not None and needs_output_losses(self, loss, loss_weights):
            self._loss_fn = OutputLosses(self, loss, loss_weights)
        else:
            self._loss_fn = None if loss is None else losses.get(loss)
        self.loss = loss
        self.loss_weights = loss_weights
        self._metric_ids = metric_ids
        self.compiled_metrics = None
        self.compiled = True

    @property
    def metrics(self):
        """The compiled metric objects (empty until the first batch resolves them)."""
        return list(self.compiled_metrics or [])

    @property
    def metrics_names(self):
        return ["loss"] + [_metric_name(m) for m in self._metric_ids]

    def _require_compiled(self, where):
        if not self.compiled or self._loss_fn is None:
            what = "has not been compiled" if not self.compiled else "was compiled without a loss"
            raise RuntimeError(
                f"{where}: the model {what}; call model.compile(optimizer=..., loss=..., "
                f"metrics=[...]) before {where}, e.g. model.compile(optimizer='adam', "
                f"loss='sparse_categorical_crossentropy', metrics=['accuracy'])")

    # ---- fit ----------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0):
        """Train for ``epochs`` epochs; returns the ``History`` (also ``model.history``)."""
        self._require_compiled("fit")
        batch_size = _check_batch_size(batch_size, "fit")
        epochs, initial_epoch = _check_epochs(epochs, initial_epoch)
        verbose = _check_verbose(verbose, "fit")
        x, y = self._prepare_xy(x, y, "fit")
        if not self.built:       # as Keras, built before the callbacks see the model
            self.build(batch_shape(x))
        (x, y), val = _validation(x, y, validation_split, validation_data, self)
        steps = -(-len(x) // batch_size)
        cbs = self._callback_list(callbacks, verbose, epochs=epochs, steps=steps)
        self.history = cbs.history
        self.stop_training = False
        logs = {}
        threads_before = _threads.enter_fit(self, min(batch_size, len(x)))
        cbs.on_train_begin()
        # BackupAndRestore sets model.resume_epoch in on_train_begin (Keras's _initial_epoch)
        resume, self.resume_epoch = getattr(self, "resume_epoch", None), None
        initial_epoch = initial_epoch if resume is None else resume
        try:
            for epoch in range(initial_epoch, epochs):
                cbs.on_epoch_begin(epoch)
                logs = self._fit_epoch(x, y, batch_size, shuffle, cbs)
                if val is not None:
                    val_logs = self._test_loop(val[0], val[1], batch_size, cbs)
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        except BaseException:
            _threads.policy.restore(threads_before)
            cbs.on_train_abort(logs)
            raise
        _threads.policy.restore(threads_before)
        cbs.on_train_end(logs)
        return self.history

    def _fit_epoch(self, x, y, batch_size, shuffle, cbs):
        """One pass over the data; returns the epoch logs: the sample-weighted mean loss and
        the metrics accumulated over the epoch."""
        n = len(x)
        order = mgrandom.generator().permutation(n) if shuffle else None
        self._reset_metrics()
        variables = self.trainable_weights
        seen, loss_sum = 0, 0.0
        for step, start in enumerate(range(0, n, batch_size)):
            cbs.on_train_batch_begin(step)
            if order is None:
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                xb, yb = x[idx], y[idx]
            loss = self._train_step(xb, yb, variables)
            seen += len(xb)
            loss_sum += loss * len(xb)
            cbs.on_train_batch_end(step, self._logs(loss_sum / seen))
            if self.stop_training:
                break
        return self._logs(loss_sum / seen)

    def compute_loss(self, y, y_pred, loss_fn=None):
        """The loss that fit minimises and every report shows: ``loss_fn(y, y_pred)`` (the
        compiled loss by default; batch mean) + ``sum(self.losses)`` (the penalties)."""
        loss = (loss_fn or self._loss_fn)(y, y_pred)
        for term in self.losses:
            loss = loss + term
        return loss

    def _train_step(self, xb, yb, variables):
        """Forward, loss + penalties, backward, optimizer step, metrics; returns the loss
        (data loss batch mean + sum(model.losses)) on the pre-step weights."""
        y_pred = self(xb, training=True)
        loss = self.compute_loss(yb, y_pred)
        for w in variables:
            w.grad = None
        if loss.requires_grad:
            loss.backward()
            self.optimizer.apply_gradients([(w.grad, w) for w in variables])
        self._update_metrics(yb, _values(y_pred))
        return float(loss.data)

    # ---- evaluation -------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False,
                 callbacks=None):
        """Loss (data loss + penalties, inference mode) and metrics over all of x, y: a float
        without metrics, else ``[loss, *metrics]``; a dict with ``return_dict=True``."""
        self._require_compiled("evaluate")
        batch_size = _check_batch_size(batch_size, "evaluate")
        verbose = _check_verbose(verbose, "evaluate")
        x, y = self._prepare_xy(x, y, "evaluate")
        steps = -(-len(x) // batch_size)
        cbs = self._callback_list(callbacks, verbose, epochs=1, steps=steps, history=False)
        logs = self._test_loop(x, y, batch_size, cbs)
        return self._return_logs(logs, return_dict)

    def _test_loop(self, x, y, batch_size, cbs):
        """Batched inference-mode loss and metrics; also validation inside ``fit``."""
        self._reset_metrics()
        cbs.on_test_begin()
        seen, loss_sum = 0, 0.0
        with no_grad():
            for step, start in enumerate(range(0, len(x), batch_size)):
                cbs.on_test_batch_begin(step)
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                loss = self._test_step(xb, yb)
                seen += len(xb)
                loss_sum += loss * len(xb)
                cbs.on_test_batch_end(step, self._logs(loss_sum / seen))
        logs = self._logs(loss_sum / seen)
        cbs.on_test_end(logs)
        return logs

    def _test_step(self, xb, yb):
        y_pred = self(xb, training=False)
        loss = self.compute_loss(yb, y_pred)
        self._update_metrics(yb, _values(y_pred))
        return float(loss.data)

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None):
        """The model's outputs on x in inference mode (no graph), as one ndarray."""
        batch_size = _check_batch_size(batch_size, "predict")
        verbose = _check_verbose(verbose, "predict")
        x = self._prepare_x(x, "predict")
        steps = -(-len(x) // batch_size)
        cbs = self._callback_list(callbacks, verbose, epochs=1, steps=steps, history=False)
        cbs.on_predict_begin()
        outputs = []
        with no_grad():
            for step, start in enumerate(range(0, len(x), batch_size)):
                cbs.on_predict_batch_begin(step)
                out = _values(self(x[start:start + batch_size], training=False))
                outputs.append(out)
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        return concat_outputs(outputs)

    # ---- single batches ---------------------------------------------------------------
    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on (x, y); no callbacks, no printing. Returns the loss (and
        metrics of this batch) on the weights before the step."""
        self._require_compiled("train_on_batch")
        x, y = self._prepare_xy(x, y, "train_on_batch")
        self._reset_metrics()
        _threads.set_for_step(self, len(x))
        loss = self._train_step(x, y, self.trainable_weights)
        return self._return_logs(self._logs(loss), return_dict)

    def test_on_batch(self, x, y, return_dict=False):
        """Loss (and metrics) of one batch in inference mode; nothing is updated."""
        self._require_compiled("test_on_batch")
        x, y = self._prepare_xy(x, y, "test_on_batch")
        self._reset_metrics()
        with no_grad():
            loss = self._test_step(x, y)
        return self._return_logs(self._logs(loss), return_dict)

    def predict_on_batch(self, x):
        """``predict`` on one batch, without callbacks."""
        x = self._prepare_x(x, "predict_on_batch")
        with no_grad():
            return _values(self(x, training=False))

    # ---- metrics and logs -------------------------------------------------------------
    def _update_metrics(self, y_true, y_pred):
        if self.compiled_metrics is None:
            if isinstance(self._loss_fn, OutputLosses):
                self.compiled_metrics = self._loss_fn.build_metrics(self._metric_ids, y_true,
                                                                    y_pred)
            else:
                self.compiled_metrics = [_resolve_metric(m, y_true, y_pred)
                                         for m in self._metric_ids]
        for m in self.compiled_metrics:
            m.update_state(y_true, y_pred)

    def _reset_metrics(self):
        for m in self.compiled_metrics or ():
            m.reset_state()

    reset_metrics = _reset_metrics

    def _logs(self, loss):
        """Keras's key order: the metrics (by the name given to compile), then ``loss``."""
        logs = {m.name: float(m.result()) for m in self.compiled_metrics or ()}
        logs["loss"] = loss
        return logs

    def _return_logs(self, logs, return_dict):
        if return_dict:
            return logs
        if not self.compiled_metrics:
            return logs["loss"]
        return [logs["loss"]] + [logs[m.name] for m in self.compiled_metrics]

    def _callback_list(self, callbacks, verbose, epochs, steps, history=True):
        from ..callbacks import CallbackList
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        return CallbackList(callbacks, model=self, add_history=history,
                            add_progbar=verbose != 0, verbose=verbose, epochs=epochs,
                            steps=steps)

    # ---- input checks -----------------------------------------------------------------
    def _prepare_x(self, x, where):
        """x as a C-contiguous array of the model's dtype, non-empty, finite, of the model's
        per-sample shape (when known)."""
        return self._prepare_one_x(x, self._input_shape, where, "x")

    def _prepare_one_x(self, x, expected, where, label):
        """One input array checked against its per-sample shape ``expected`` (None: any)."""
        if x is None:
            raise ValueError(f"{where}: {label} is None; pass the input data as an array")
        x = np.asarray(x.data if isinstance(x, Tensor) else x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{where}: x must be numeric, got an array of dtype {x.dtype}")
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"{where}: x is empty (shape {x.shape}); expected at least one "
                             f"sample along the first axis")
        x = np.ascontiguousarray(x, dtype=self.dtype)
        _check_finite(x, label, where)
        if expected is not None and (len(expected) != x.ndim - 1 or any(
                e is not None and e != d for e, d in zip(expected, x.shape[1:]))):
            raise ValueError(
                f"{where}: the model expects inputs of shape {(None,) + tuple(expected)} "
                f"(per sample {tuple(expected)}), got {label} of shape {x.shape}")
        return x

    def _prepare_y(self, y, n, where):
        names = output_names(self)
        if len(names) > 1:
            one = self._prepare_one_y
            return prepare_many(self, unwrap(y), names, [None] * len(names), where, "output",
                                lambda a, _shape, label: one(a, n, where, f"y for {label}"))
        y = unwrap(y)
        if isinstance(y, dict):
            if set(y) != set(names):
                raise ValueError(f"{where}: y is a dict with keys {sorted(y)}, but the model's "
                                 f"output is named {names}")
            y = y[names[0]]
        elif isinstance(y, (list, tuple)) and len(y) == 1 and not np.isscalar(y[0]) and \
                np.ndim(y[0]) >= 1 and len(y[0]) == n and n != 1:
            y = y[0]
        return self._prepare_one_y(y, n, where, "y")

    def _prepare_one_y(self, y, n, where, label):
        if y is None:
            raise ValueError(f"{where}: y is None; pass the targets (labels) as an array")
        y = np.asarray(y.data if isinstance(y, Tensor) else y)
        if y.dtype.kind == "f":
            y = np.ascontiguousarray(y, dtype=self.dtype)
        elif y.dtype.kind in "iub":
            y = np.ascontiguousarray(y, dtype=np.int64 if y.dtype.kind != "b" else y.dtype)
        else:
            raise TypeError(f"{where}: y must be numeric, got an array of dtype {y.dtype}")
        if y.ndim == 0 or len(y) != n:
            got = "a scalar" if y.ndim == 0 else f"{len(y)} samples (shape {y.shape})"
            raise ValueError(f"{where}: x and {label} must have the same number of samples: x "
                             f"has {n}, {label} has {got}")
        _check_finite(y, label, where)
        return y

    def _prepare_xy(self, x, y, where):
        x = self._prepare_x(x, where)
        return x, self._prepare_y(y, len(x), where)


# ---- helpers ----------------------------------------------------------------------------
def _values(y_pred):
    """The arrays of a model's output: one array, or a list for several outputs."""
    if isinstance(y_pred, Tensor):
        return y_pred.data
    if isinstance(y_pred, dict):
        return {k: t.data for k, t in y_pred.items()}
    return [t.data for t in flatten(y_pred)]


def flatten_ids(metric_ids):
    """Every metric identifier of a compile(metrics=...) list, also inside per-output lists
    and dicts."""
    out = []
    for m in metric_ids:
        if isinstance(m, dict) and "class_name" not in m:
            out += flatten_ids(list(m.values()))
        elif isinstance(m, (list, tuple)):
            out += flatten_ids(list(m))
        elif m is not None:
            out.append(m)
    return out


def _canonical(name):
    return name.replace("_", "").lower()


def _metric_name(identifier):
    if isinstance(identifier, str):
        return identifier
    return getattr(identifier, "name", None) or getattr(identifier, "__name__", "metric")


def _resolve_metric(identifier, y_true, y_pred):
    """A stateful metric object (``update_state``/``result``/``reset_state``/``name``)."""
    from .. import metrics as metrics_mod
    if isinstance(identifier, str):
        return metrics_mod.get(identifier, y_true=y_true, y_pred=y_pred)
    m = metrics_mod.get(identifier)
    if hasattr(m, "update_state"):
        return m
    return metrics_mod.MeanMetricWrapper(m, name=_metric_name(m))


def _check_batch_size(batch_size, where):
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"{where}: batch_size must be a positive integer (or None for "
                         f"{DEFAULT_BATCH_SIZE}), got {batch_size!r}")
    return int(batch_size)


def _check_epochs(epochs, initial_epoch):
    for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"fit: {name} must be a non-negative integer, got {value!r}")
    return int(epochs), int(initial_epoch)


def _check_verbose(verbose, where):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"{where}: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def _check_finite(a, name, where):
    """Raise naming the first rows that hold NaN or inf (float data only)."""
    if a.dtype.kind != "f" or np.isfinite(a).all():
        return
    rows = np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))
    first = ", ".join(str(r) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
    raise ValueError(f"{where}: {name} contains NaN or inf in {len(rows)} of {len(a)} rows "
                     f"(rows {first}); remove or impute them before training")


def _validation(x, y, split, validation_data, model):
    """((x_train, y_train), (x_val, y_val) or None): ``validation_data`` wins over
    ``validation_split``, which takes the LAST rows before any shuffling (Keras)."""
    if isinstance(split, bool) or not isinstance(split, (int, float, np.number)) \
            or not 0.0 <= split < 1.0:
        raise ValueError(f"fit: validation_split must be a float in [0, 1), got {split!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            got = type(validation_data).__name__
            if isinstance(validation_data, (tuple, list)):
                got += f" of {len(validation_data)} items (sample weights are not supported)"
            raise ValueError(f"fit: validation_data must be a tuple (x_val, y_val), got {got}")
        val = model._prepare_xy(validation_data[0], validation_data[1], "fit (validation_data)")
        return (x, y), val
    if split == 0:
        return (x, y), None
    n = len(x)
    cut = math.floor(n * (1.0 - split))
    if cut == 0 or cut == n:
        raise ValueError(f"fit: {n} samples are not enough to split into a training and a "
                         f"validation set with validation_split={split} ({cut} would train, "
                         f"{n - cut} validate); provide more data or change validation_split")
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
