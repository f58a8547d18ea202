"""CallbackList: fan-out of every hook to the callbacks of one fit/evaluate/predict."""
from .base import _HOOKS, Callback, _overrides
from .logging import History, ProgbarLogger


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
