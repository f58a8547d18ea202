"""The callback base class: hooks the training loop calls at fixed points (Keras 3's names).

``fit`` builds one ``CallbackList`` (callback_list.py): the user's callbacks in order, then
``History``, then the progress bar. Every hook receives the SAME logs dict, so a value an
earlier callback writes (``learning_rate``) is recorded by History and shown by the bar.
"""

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


class LambdaCallback(Callback):
    """A callback from plain functions (Keras 3's ``LambdaCallback``): each given hook
    replaces the no-op of the same name, with the same arguments (``on_epoch_end(epoch,
    logs)``, ``on_train_begin(logs)``, ...). Further ``on_*`` keyword arguments (e.g.
    ``on_batch_end``, ``on_test_end``) are set as given, as Keras's ``**kwargs``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not hasattr(Callback, name):
                hooks = _HOOKS + ("on_train_abort", "on_batch_begin", "on_batch_end")
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; the hooks are "
                                f"{', '.join(hooks)}")
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {fn!r}")
            setattr(self, name, fn)
