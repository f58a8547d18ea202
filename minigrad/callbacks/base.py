"""Callbacks: hooks the training loop calls at fixed points, with Keras 3's names and rules.

``fit`` builds one ``CallbackList``: the user's callbacks in order, then ``History``, then the
progress bar (``ProgbarLogger``). Every hook receives the SAME logs dict, so a value an earlier
callback writes (``LearningRateScheduler``'s ``learning_rate``) is recorded by History and
shown by the bar. ``model.stop_training = True`` (EarlyStopping, TerminateOnNaN) ends ``fit``
after the current batch or epoch. The exact EarlyStopping rules are in KERAS_SEMANTICS.md.
"""
import csv
import math
import numbers
import os
import warnings

import numpy as np

from .progbar import Progbar

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
          "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: every hook is a no-op; ``model`` and ``params`` are set by the loop.

    ``on_batch_begin``/``on_batch_end`` are Keras's aliases: the default
    ``on_train_batch_begin``/``on_train_batch_end`` call them.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    # minigrad's own hook: fit calls it instead of on_train_end when an exception (e.g.
    # KeyboardInterrupt) leaves training, so callbacks can release what they hold
    def on_train_abort(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)


def _overrides(cb, hook):
    """Whether ``cb`` does something in ``hook`` (the batch hooks are skipped otherwise)."""
    method = getattr(cb, hook)
    if getattr(method, "__func__", None) is not getattr(Callback, hook):
        return True
    alias = {"on_train_batch_begin": "on_batch_begin",
             "on_train_batch_end": "on_batch_end"}.get(hook)
    return alias is not None and _overrides(cb, alias)


class CallbackList(Callback):
    """Fan-out to ``callbacks`` in order, then History, then the progress bar.

    ``add_history``/``add_progbar`` append a ``History``/``ProgbarLogger`` unless the list
    already holds one; ``.history`` is the History. ``params`` = ``{"verbose", "epochs",
    "steps"}``. Batch hooks only visit callbacks that override them (the hot path).
    """

    def __init__(self, callbacks=None, model=None, add_history=False, add_progbar=False,
                 verbose=1, epochs=None, steps=None):
        super().__init__()
        self.callbacks = list(callbacks) if callbacks else []
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"CallbackList: expected Callback instances, got "
                                f"{type(cb).__name__} ({cb!r})")
        self.history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
        if model is not None:
            self.set_model(model)
        self._refresh()

    def _refresh(self):
        self._active = {h: [cb for cb in self.callbacks if _overrides(cb, h)]
                        for h in _HOOKS if "batch" in h}

    def append(self, callback):
        self.callbacks.append(callback)
        callback.set_model(self.model)
        callback.set_params(self.params)
        self._refresh()

    def set_model(self, model):
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def _call(self, hook, logs, *args):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)
        return logs

    def _call_batch(self, hook, batch, logs):
        logs = {} if logs is None else logs
        for cb in self._active[hook]:
            getattr(cb, hook)(batch, logs)

    def on_train_begin(self, logs=None):
        self._refresh()
        self._call("on_train_begin", logs)

    def on_test_begin(self, logs=None):
        self._refresh()
        self._call("on_test_begin", logs)

    def on_predict_begin(self, logs=None):
        self._refresh()
        self._call("on_predict_begin", logs)

    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_train_abort(self, logs=None): self._call("on_train_abort", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", logs, epoch)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", logs, epoch)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, logs)

    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


class History(Callback):
    """Records every epoch's logs: ``history = {key: [value per epoch]}``, ``epoch`` = the
    epoch indices; sets ``model.history = self`` after each epoch (as Keras)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """The progress bar of ``fit``/``evaluate``/``predict`` (verbose from ``params``).

    Prints ``Epoch i/N`` (when N > 1, as Keras) and a ``Progbar`` per epoch fed with the
    batch logs, which ``fit`` fills with the running means of the epoch so far (so they are
    shown as given, not averaged a second time as Keras 3's bar does); the epoch's final
    line shows the epoch logs, ``val_`` metrics included. Validation inside ``fit`` is
    silent.
    """

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.progbar = None
        self.seen = 0
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs") or 1
        self.target = params.get("steps")

    def _start_bar(self):
        self.seen = 0
        self.progbar = Progbar(self.target, verbose=self.verbose, stateful_metrics=True,
                               unit_name="step", stream=self.stream)

    def _update(self, batch, logs):
        if self.progbar is None:
            self._start_bar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, logs.items() if logs else None, finalize=False)

    def _finalize(self, logs):
        if self.progbar is None:
            return
        if self.progbar.target is None:
            self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, list((logs or {}).items()), finalize=True)
        self.progbar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._start_bar()
        if self.verbose and self.epochs > 1:
            self.progbar.write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finalize(logs)

    def on_predict_begin(self, logs=None):
        self._start_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)   # predictions are not metrics

    def on_predict_end(self, logs=None):
        self._finalize(None)


# ---- monitoring a logged quantity (EarlyStopping, ModelCheckpoint) ---------------------------

_UP_WORDS = ("acc", "auc", "precision", "recall", "iou", "r2")
_DOWN_WORDS = ("loss", "error", "crossentropy", "mse", "mae", "mape", "msle", "hinge",
               "divergence", "poisson", "cosh")


def _name_direction(name):
    """A metric's direction guessed from its name, for metric objects without ``direction``."""
    lowered = name.lower()
    if any(w in lowered for w in _DOWN_WORDS):
        return "down"
    if any(w in lowered for w in _UP_WORDS):
        return "up"
    return None


def _compiled_metrics(model):
    """The model's metric objects (``compiled_metrics`` or ``metrics``), containers flattened."""
    found = getattr(model, "compiled_metrics", None) or getattr(model, "metrics", None) or []
    out = []
    for m in found:
        inner = getattr(m, "metrics", None)
        out.extend(inner if isinstance(inner, (list, tuple)) else [m])
    return out


def _metric_direction(model, metric_name):
    for m in _compiled_metrics(model):
        if getattr(m, "name", None) == metric_name:
            direction = getattr(m, "direction", None) or getattr(m, "_direction", None)
            return direction or _name_direction(metric_name)
    return None


class _MonitorMixin:
    """Keras's MonitorCallback: ``monitor_op`` from ``mode`` and ``_is_improvement``."""

    def _init_monitor(self, monitor, mode, min_delta):
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode {mode!r} is unknown, fallback to auto "
                          f"mode.", stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(min_delta)
        self.monitor_op = None
        self.best = None

    def _set_monitor_op(self, logs):
        if self.mode == "auto":
            name = self.monitor.removeprefix("val_")
            direction = "down" if name == "loss" else _metric_direction(self.model, name)
            if direction not in ("up", "down"):
                raise ValueError(
                    f"{type(self).__name__}: cannot tell whether monitor={self.monitor!r} "
                    f"should be minimised or maximised: it is not 'loss'/'val_loss' and the "
                    f"model has no compiled metric named {name!r} with a direction. Pass "
                    f"mode='min' or mode='max'. Available log keys: "
                    f"{', '.join(logs or {}) or '(none)'}")
            self.monitor_op = np.greater if direction == "up" else np.less
        else:
            self.monitor_op = np.greater if self.mode == "max" else np.less
        if self.monitor_op is np.less:
            self.min_delta = -self.min_delta

    def _is_improvement(self, current, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(current - self.min_delta, reference))


class EarlyStopping(_MonitorMixin, Callback):
    """Stop training when ``monitor`` has stopped improving (Keras 3's rules).

    Improvement: ``current - min_delta > best`` (max mode) or ``current + |min_delta| < best``
    (min mode); the first value always improves. Each counted epoch (``epoch >=
    start_from_epoch``, value present) does ``wait += 1``; an improvement sets ``best`` and
    resets ``wait = 0`` only if ``baseline`` is None or beaten too; otherwise training stops
    once ``wait >= patience`` and ``epoch > 0``. ``restore_best_weights`` restores the best
    epoch's weights at the end of training, stopped early or not.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self._init_monitor(monitor, mode, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op(logs)
        current = self._monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def _monitor_value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs or {})}",
                          stacklevel=3)
        return value


class ModelCheckpoint(_MonitorMixin, Callback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) after every
    epoch, or only when ``monitor`` improved (``save_best_only``). ``filepath`` is formatted
    with ``epoch`` (1-based) and the epoch's log keys: ``"ckpt-{epoch:02d}-{val_loss:.2f}"``.
    Any extension is accepted (Keras insists on ``.keras``/``.weights.h5``)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto"):
        super().__init__()
        self._init_monitor(monitor, mode, 0)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self._path(epoch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available.",
                              stacklevel=2)
                return
            if self.monitor_op is None:
                self._set_monitor_op(logs)
            if not self._is_improvement(current, self.best):
                self._say(f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            before = self.best if self.best is not None else (
                math.inf if self.monitor_op is np.less else -math.inf)
            self._say(f"Epoch {epoch + 1}: {self.monitor} improved from {before:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        else:
            self._say(f"Epoch {epoch + 1}: saving model to {path}")
        self._save(path)

    def _path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as e:
            raise KeyError(f"ModelCheckpoint: failed to format filepath {self.filepath!r} "
                           f"({type(e).__name__}: {e}); available keys: epoch, "
                           f"{', '.join(logs)}") from None

    def _save(self, path):
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _say(self, message):
        if self.verbose > 0:
            print(message)


class LearningRateScheduler(Callback):
    """Set ``model.optimizer.learning_rate = schedule(epoch, lr)`` at each epoch's start
    (``schedule(epoch)`` if it takes one argument) and write the rate into the epoch's logs
    as ``learning_rate``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            raise ValueError('LearningRateScheduler: the model\'s optimizer must have a '
                             '"learning_rate" attribute (was the model compiled?)')
        current = float(optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, current)
        except TypeError:   # the old one-argument schedule(epoch)
            lr = self.schedule(epoch)
        if not isinstance(lr, numbers.Real) or isinstance(lr, bool):
            raise ValueError(  # noqa: TRY004 (Keras raises ValueError here)
                f"LearningRateScheduler: the schedule must return a float, got {lr!r} at "
                f"epoch {epoch}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's ``loss`` is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` then the log keys, sorted (Keras's layout: if no
    ``val_`` key exists, ``val_<key>`` columns are added and hold ``NA``). ``append=True``
    continues an existing file (its header is kept)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self.file = None
        self._write_header = True

    def on_train_begin(self, logs=None):
        self._write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self._write_header = not f.readline()
        self.keys = None
        self.writer = None
        # kept open across epochs, closed in on_train_end (as Keras)
        self.file = open(self.filename, "a" if self.append else "w",  # noqa: SIM115
                         newline="", encoding="utf-8")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in self.keys]
        if self.writer is None:
            self.writer = csv.writer(self.file, delimiter=self.sep)
            if self._write_header:
                self.writer.writerow(["epoch"] + self.keys)
        self.writer.writerow([epoch] + [_csv_value(logs.get(k, "NA")) for k in self.keys])
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
        self.file = None
        self.writer = None


def _csv_value(v):
    if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim > 0):
        return f"[{', '.join(map(str, v))}]"
    return v


def __getattr__(name):
    # GradientMonitor lives with the diagnostics; imported on first use to avoid a cycle
    if name == "GradientMonitor":
        from .diagnostics import GradientMonitor
        return GradientMonitor
    raise AttributeError(f"module 'minigrad.callbacks' has no attribute {name!r}")
