"""Callbacks that record what training logs: History, the progress bar, CSVLogger."""
import csv
import os

import numpy as np

from ..progbar import Progbar
from .base import Callback


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
        if self.target is None:
            # an unknown total is known after the first epoch (as Keras's ProgbarLogger)
            self.target = self.seen
            self.progbar.target = self.target
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
        if self.file is not None and not self.file.closed:
            self.file.close()
        self.file = None
        self.writer = None

    # an interrupted fit (KeyboardInterrupt, an exception) closes the file too: the rows
    # written so far stay, and the handle is not leaked
    on_train_abort = on_train_end


def _csv_value(v):
    if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim > 0):
        return f"[{', '.join(map(str, v))}]"
    return v
