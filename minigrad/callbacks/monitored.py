"""Callbacks that watch a logged quantity: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
TerminateOnNaN; and BackupAndRestore, which saves the training state each epoch. The exact
rules (Keras 3's) are in docs/keras_semantics.md."""
import contextlib
import math
import os
import warnings

import numpy as np

from .. import _checks
from .. import random as mgrandom
from .base import Callback

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


def _metric_direction(model, metric_name):
    """The ``direction`` of the compiled metric called ``metric_name`` ("up"/"down"; guessed
    from the name when the metric object has none), or None without such a metric."""
    for m in getattr(model, "compiled_metrics", None) or ():
        if getattr(m, "name", None) == metric_name:
            return getattr(m, "direction", None) or _name_direction(metric_name)
    return None


class MonitorCallback(Callback):
    """Base of the callbacks that compare a logged quantity with its best value so far
    (Keras 3's ``MonitorCallback``): ``monitor_op`` from ``mode`` (set at the first epoch
    end, when the compiled metrics exist) and ``_is_improvement``."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode {mode!r} is unknown, fallback to auto "
                          f"mode.", stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(_checks.number(type(self).__name__, "min_delta", min_delta))
        self.monitor_op = None

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
        """``monitor_op(current - min_delta, reference)``; min_delta is negative in min mode,
        so both modes ask for a change larger than |min_delta|. No reference: True."""
        if reference is None:
            return True
        return bool(self.monitor_op(current - self.min_delta, reference))


class EarlyStopping(MonitorCallback):
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
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = _checks.integer("EarlyStopping", "patience", patience, lo=0)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = _checks.boolean("EarlyStopping", "restore_best_weights",
                                                    restore_best_weights)
        self.start_from_epoch = _checks.integer("EarlyStopping", "start_from_epoch",
                                                start_from_epoch, lo=0)
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


class ModelCheckpoint(MonitorCallback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) after every
    epoch, or only when ``monitor`` improved (``save_best_only``). ``filepath`` is formatted
    with ``epoch`` (1-based) and the epoch's log keys: ``"ckpt-{epoch:02d}-{val_loss:.2f}"``.
    Any extension is accepted (Keras insists on ``.keras``/``.weights.h5``)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto"):
        super().__init__(monitor, mode)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = _checks.boolean("ModelCheckpoint", "save_best_only", save_best_only)
        self.save_weights_only = _checks.boolean("ModelCheckpoint", "save_weights_only",
                                                 save_weights_only)

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


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's ``loss`` is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (Keras 3's rules).

    At each epoch end: ``logs["learning_rate"]`` = the rate used in that epoch; then, if the
    value is present: in cooldown, ``cooldown_counter -= 1`` and ``wait = 0``; an improvement
    (``_is_improvement``, min_delta 1e-4) sets ``best`` and ``wait = 0``; otherwise, out of
    cooldown, ``wait += 1`` and once ``wait >= patience``, if ``lr > float32(min_lr)``:
    ``lr = max(lr * factor, min_lr)``, ``cooldown_counter = cooldown``, ``wait = 0``.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        owner = "ReduceLROnPlateau"
        self.factor = _checks.number(owner, "factor", factor)
        if self.factor >= 1.0:
            raise ValueError(f"{owner} does not support a factor >= 1.0, got factor={factor!r}")
        self.min_lr = _checks.nonneg(owner, "min_lr", min_lr)
        self.patience = _checks.integer(owner, "patience", patience, lo=0)
        self.cooldown = _checks.integer(owner, "cooldown", cooldown, lo=0)
        self.verbose = verbose
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op(logs)
        logs = {} if logs is None else logs
        optimizer = _optimizer_of(self.model, "ReduceLROnPlateau")
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: "
                          f"{','.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, optimizer, epoch):
        old = float(optimizer.learning_rate)
        if not old > np.float32(self.min_lr):   # Keras compares with min_lr in float32
            return False
        new = max(old * self.factor, self.min_lr)
        try:
            optimizer.learning_rate = new
        except TypeError as e:
            raise TypeError(f"ReduceLROnPlateau: cannot lower the learning rate: {e}") from None
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
        return True


def _optimizer_of(model, owner):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f'{owner}: the model\'s optimizer must have a "learning_rate" '
                         f'attribute (was the model compiled?)')
    return optimizer


class BackupAndRestore(Callback):
    """Back up the training state so that an interrupted ``fit`` can resume (Keras 3's
    ``BackupAndRestore``).

    At each epoch end (or every ``save_freq`` batches) the weights, the optimizer state, the
    learning rate, the global random generator's state and the number of finished epochs are
    written to ``backup_dir/latest.weights`` in the atomic format of ``models/saving.py``
    (one file, so they never disagree). A later ``fit`` with this callback restores them in
    ``on_train_begin`` and starts at the saved epoch: with ``save_freq="epoch"`` it ends with
    the weights of an uninterrupted run, bit for bit. The backup is kept when ``fit`` raises
    and deleted when it completes (``delete_checkpoint``); the directory is removed when that
    leaves it empty (Keras removes the whole directory).
    """

    FILENAME = "latest.weights"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if backup_dir is None or (isinstance(backup_dir, str) and not backup_dir):
            raise ValueError("BackupAndRestore: empty backup_dir argument")
        self.backup_dir = os.fspath(backup_dir)
        if save_freq != "epoch":
            save_freq = _checks.integer("BackupAndRestore", "save_freq", save_freq, lo=1)
        self.save_freq = save_freq
        self.delete_checkpoint = _checks.boolean("BackupAndRestore", "delete_checkpoint",
                                                 delete_checkpoint)
        self.path = os.path.join(self.backup_dir, self.FILENAME)
        self._current_epoch = 0
        self._batches = 0

    def on_train_begin(self, logs=None):
        from ..models import saving
        if not getattr(self.model, "built", True):
            raise ValueError("BackupAndRestore: the model must be built before fit() (give it "
                             "an input shape) so that its weights can be restored")
        try:
            os.makedirs(self.backup_dir, exist_ok=True)
        except OSError as e:
            raise OSError(f"BackupAndRestore: cannot create backup_dir {self.backup_dir!r}: "
                          f"{e}") from None
        self._batches = 0
        self._current_epoch = 0
        if not os.path.exists(self.path):
            return
        state = saving.load_training_state(self.model, self.path)
        # a schedule refuses a float (TypeError): it follows the restored iterations
        with contextlib.suppress(TypeError):
            self.model.optimizer.learning_rate = state["learning_rate"]
        mgrandom.set_state(state["random_state"])
        self._current_epoch = int(state["epoch"])
        self.model.resume_epoch = self._current_epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches >= self.save_freq:
            self._batches = 0
            self._save()

    def _save(self):
        from ..models import saving
        state = {"epoch": self._current_epoch,
                 "learning_rate": float(self.model.optimizer.learning_rate),
                 "random_state": mgrandom.get_state()}
        saving.save_training_state(self.model, self.path, state)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        if os.path.exists(self.path):
            os.remove(self.path)
        with contextlib.suppress(OSError):   # other files in it: not ours to delete
            os.rmdir(self.backup_dir)
