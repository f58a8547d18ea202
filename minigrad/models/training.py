"""compile / fit / evaluate / predict / train_on_batch / test_on_batch (Keras 3 semantics).

One training step (``_train_step``), the loop a reader follows in one sitting:

    batch -> forward(training=True) -> loss = data loss (batch mean) + sum(model.losses)
          -> backward -> optimizer.apply_gradients -> metrics (on ndarrays) -> callbacks

The data (arrays, structures of arrays, generators, ``PyDataset``) reaches the loop through
``data_adapters`` (conversion, checks, shuffling, ``steps_per_epoch``, class weights); see
there. The epoch ``loss`` is the batch-size-weighted mean of the batch losses (each on the
pre-step weights); metrics accumulate over the epoch; sample weights (given or from
``class_weight``) weight the loss and the ``weighted_metrics``, never ``metrics``. Logs are
ordered as Keras's: metrics, weighted metrics, ``loss``, then ``val_`` metrics and
``val_loss``.
"""
import numpy as np

from ..grad_mode import no_grad
from . import data_adapters as da

DEFAULT_BATCH_SIZE = 32


class Trainer:
    """The training half of ``Sequential`` (a mixin: it needs ``__call__``, ``losses``,
    ``trainable_weights``, ``dtype`` and ``_input_shape`` from the container)."""

    def _init_training_state(self):
        self.optimizer = None
        self.loss = None               # the identifier given to compile (saved as given)
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_fn = None
        self._metric_ids = []          # identifiers given to compile, in order
        self._weighted_metric_ids = []
        self.compiled_metrics = None   # metric objects, resolved at the first batch
        self.compiled_weighted_metrics = None

    # ---- compile ----------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, weighted_metrics=None):
        """Resolve the optimizer, loss and metrics (unknown names raise ValueError listing the
        valid ones). ``"accuracy"`` is resolved at the first batch from the shapes. Sample
        weights apply to the loss and to ``weighted_metrics``; ``metrics`` stay unweighted."""
        from .. import losses, optimizers
        metric_ids = _metric_list(metrics)
        weighted_ids = _metric_list(weighted_metrics)
        self.optimizer = optimizers.get(optimizer)
        self._loss_fn = None if loss is None else losses.get(loss)
        self.loss = loss
        self._metric_ids = metric_ids
        self._weighted_metric_ids = weighted_ids
        self.compiled_metrics = self.compiled_weighted_metrics = None
        self.compiled = True

    @property
    def metrics(self):
        """The compiled metric objects (empty until the first batch resolves them)."""
        return list(self.compiled_metrics or []) + list(self.compiled_weighted_metrics or [])

    @property
    def metrics_names(self):
        """``loss``, then the metric names as logged (``weighted_<name>`` for a weighted
        metric whose name is taken)."""
        names = ["loss"] + [_metric_name(m) for m in self._metric_ids]
        for m in self._weighted_metric_ids:
            name = _metric_name(m)
            names.append("weighted_" + name if name in names else name)
        return names

    def _require_compiled(self, where):
        if not self.compiled or self._loss_fn is None:
            what = "has not been compiled" if not self.compiled else "was compiled without a loss"
            raise RuntimeError(
                f"{where}: the model {what}; call model.compile(optimizer=..., loss=..., "
                f"metrics=[...]) before {where}, e.g. model.compile(optimizer='adam', "
                f"loss='sparse_categorical_crossentropy', metrics=['accuracy'])")

    # ---- fit ----------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns the ``History`` (also ``model.history``).
        ``x``: arrays (a list/dict for several inputs), a generator/iterator yielding
        ``(x, y[, sample_weight])`` or a ``PyDataset``; see ``data_adapters``."""
        self._require_compiled("fit")
        batch_size = _check_batch_size(batch_size, "fit")
        val_batch_size = _check_batch_size(validation_batch_size, "fit (validation)",
                                           default=batch_size)
        epochs, initial_epoch = _check_epochs(epochs, initial_epoch)
        steps_per_epoch = _check_steps(steps_per_epoch, "fit", "steps_per_epoch")
        validation_steps = _check_steps(validation_steps, "fit", "validation_steps")
        da.should_validate(0, validation_freq)                  # checks its type and value
        verbose = _check_verbose(verbose, "fit")
        train, val = self._fit_data(x, y, sample_weight, validation_split, validation_data)
        adapter = da.get_adapter(self, *train, batch_size=batch_size, shuffle=shuffle,
                                 class_weight=class_weight, where="fit")
        epoch_iter = da.EpochIterator(adapter, steps_per_epoch)
        val_iter = None
        if val is not None:
            val_adapter = da.get_adapter(self, *val, batch_size=val_batch_size,
                                         where="fit (validation_data)")
            val_iter = da.EpochIterator(val_adapter, validation_steps)
        cbs = self._callback_list(callbacks, verbose, epochs=epochs,
                                  steps=epoch_iter.num_batches)
        self.history = cbs.history
        self.stop_training = False
        logs = {}
        cbs.on_train_begin()
        try:
            for epoch in range(initial_epoch, epochs):
                cbs.on_epoch_begin(epoch)
                epoch_logs = self._fit_epoch(epoch_iter, cbs)
                if epoch_logs is None:           # a used-up generator: nothing to log
                    break
                logs = epoch_logs
                if val_iter is not None and da.should_validate(epoch, validation_freq):
                    val_logs = self._test_loop(val_iter, cbs, "fit (validation_data)")
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training or epoch_iter.ran_out:
                    break
        except BaseException:
            cbs.on_train_abort(logs)
            raise
        cbs.on_train_end(logs)
        return self.history

    def _fit_data(self, x, y, sample_weight, validation_split, validation_data):
        """((x, y, w) to train on, (x, y, w) to validate on or None)."""
        if isinstance(validation_split, bool) or not isinstance(
                validation_split, (int, float, np.number)) or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: validation_split must be a float in [0, 1), got "
                             f"{validation_split!r}")
        if validation_data is not None:
            return (x, y, sample_weight), da.unpack_validation(validation_data)
        if validation_split == 0:
            return (x, y, sample_weight), None
        if da.is_stream(x):
            raise ValueError("fit: validation_split needs arrays; with a generator or a "
                             "PyDataset pass validation_data instead")
        x = da.prepare_x(self, x, "fit")
        n = da.num_samples(x)
        y = da.prepare_y(self, y, n, "fit")
        sample_weight = da.prepare_sample_weight(sample_weight, n, "fit")
        return da.split_validation(x, y, sample_weight, validation_split)

    def _fit_epoch(self, epoch_iter, cbs):
        """One epoch of training steps; returns the epoch logs (the batch-size-weighted mean
        loss and the metrics accumulated over the epoch), or None when the data had no batch
        left for it."""
        self._reset_metrics()
        variables = self.trainable_weights
        seen, loss_sum = 0, 0.0
        for step, (xb, yb, wb) in epoch_iter:
            cbs.on_train_batch_begin(step)
            loss = self._train_step(xb, yb, variables, wb)
            n = da.num_samples(xb)
            seen += n
            loss_sum += loss * n
            cbs.on_train_batch_end(step, self._logs(loss_sum / seen))
            if self.stop_training:
                break
        if seen == 0:
            return None
        return self._logs(loss_sum / seen)

    def compute_loss(self, y, y_pred, loss_fn=None, sample_weight=None):
        """The loss that fit minimises and every report shows: ``loss_fn(y, y_pred,
        sample_weight)`` (the compiled loss by default, reduced as the Loss says: the batch
        mean by default) + ``sum(self.losses)`` (the penalties)."""
        fn = loss_fn or self._loss_fn
        if not hasattr(fn, "reduction"):
            from .. import losses
            fn = losses.get(fn)
        loss = fn(y, y_pred, sample_weight)
        if loss.ndim:
            raise ValueError(f"loss {fn.name!r} with reduction={fn.reduction!r} gave values of "
                             f"shape {loss.shape}; training needs a scalar: use a reducing "
                             f"reduction such as 'sum_over_batch_size'")
        for term in self.losses:
            loss = loss + term
        return loss

    def _train_step(self, xb, yb, variables, sample_weight=None):
        """Forward, loss + penalties, backward, optimizer step, metrics; returns the loss
        (data loss + sum(model.losses)) on the pre-step weights."""
        y_pred = self(xb, training=True)
        loss = self.compute_loss(yb, y_pred, sample_weight=sample_weight)
        for w in variables:
            w.grad = None
        if loss.requires_grad:
            loss.backward()
            self.optimizer.apply_gradients([(w.grad, w) for w in variables])
        self._update_metrics(yb, y_pred.data, sample_weight)
        return float(loss.data)

    # ---- evaluation -------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss (data loss + penalties, inference mode) and metrics over all of x, y (or
        ``steps`` batches): a float without metrics, else ``[loss, *metrics]``; a dict with
        ``return_dict=True``."""
        self._require_compiled("evaluate")
        batch_size = _check_batch_size(batch_size, "evaluate")
        verbose = _check_verbose(verbose, "evaluate")
        steps = _check_steps(steps, "evaluate", "steps")
        adapter = da.get_adapter(self, x, y, sample_weight, batch_size=batch_size,
                                 where="evaluate")
        epoch_iter = da.EpochIterator(adapter, steps)
        cbs = self._callback_list(callbacks, verbose, epochs=1, steps=epoch_iter.num_batches,
                                  history=False)
        logs = self._test_loop(epoch_iter, cbs, "evaluate")
        return self._return_logs(logs, return_dict)

    def _test_loop(self, epoch_iter, cbs, where):
        """Batched inference-mode loss and metrics; also validation inside ``fit``."""
        self._reset_metrics()
        cbs.on_test_begin()
        seen, loss_sum = 0, 0.0
        with no_grad():
            for step, (xb, yb, wb) in epoch_iter:
                cbs.on_test_batch_begin(step)
                loss = self._test_step(xb, yb, wb)
                n = da.num_samples(xb)
                seen += n
                loss_sum += loss * n
                cbs.on_test_batch_end(step, self._logs(loss_sum / seen))
        if seen == 0:
            raise ValueError(f"{where}: the data gave no batch (a generator used up by an "
                             f"earlier pass?); pass an infinite generator with steps / "
                             f"validation_steps, or a PyDataset")
        logs = self._logs(loss_sum / seen)
        cbs.on_test_end(logs)
        return logs

    def _test_step(self, xb, yb, sample_weight=None):
        y_pred = self(xb, training=False)
        loss = self.compute_loss(yb, y_pred, sample_weight=sample_weight)
        self._update_metrics(yb, y_pred.data, sample_weight)
        return float(loss.data)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs on x (arrays, a generator or a PyDataset; ``steps`` batches at
        most) in inference mode (no graph), as one ndarray."""
        batch_size = _check_batch_size(batch_size, "predict")
        verbose = _check_verbose(verbose, "predict")
        steps = _check_steps(steps, "predict", "steps")
        adapter = da.get_adapter(self, x, batch_size=batch_size, where="predict",
                                 predict=True)
        epoch_iter = da.EpochIterator(adapter, steps)
        cbs = self._callback_list(callbacks, verbose, epochs=1, steps=epoch_iter.num_batches,
                                  history=False)
        cbs.on_predict_begin()
        outputs = []
        with no_grad():
            for step, (xb, _, _) in epoch_iter:
                cbs.on_predict_batch_begin(step)
                out = self(xb, training=False).data
                outputs.append(out)
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict: the data gave no batch")
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    # ---- single batches ---------------------------------------------------------------
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on (x, y); no callbacks, no printing. Returns the loss (and
        metrics of this batch) on the weights before the step."""
        self._require_compiled("train_on_batch")
        x, y, w = self._single_batch(x, y, sample_weight, class_weight, "train_on_batch")
        self._reset_metrics()
        loss = self._train_step(x, y, self.trainable_weights, w)
        return self._return_logs(self._logs(loss), return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """Loss (and metrics) of one batch in inference mode; nothing is updated."""
        self._require_compiled("test_on_batch")
        x, y, w = self._single_batch(x, y, sample_weight, None, "test_on_batch")
        self._reset_metrics()
        with no_grad():
            loss = self._test_step(x, y, w)
        return self._return_logs(self._logs(loss), return_dict)

    def predict_on_batch(self, x):
        """``predict`` on one batch, without callbacks."""
        x = self._prepare_x(x, "predict_on_batch")
        with no_grad():
            return self(x, training=False).data

    def _single_batch(self, x, y, sample_weight, class_weight, where):
        adapter = da.get_adapter(self, x, y, sample_weight, batch_size=1,
                                 class_weight=class_weight, where=where, all_classes=False)
        return adapter.x, adapter.y, adapter.sample_weight

    # ---- metrics and logs -------------------------------------------------------------
    def _update_metrics(self, y_true, y_pred, sample_weight=None):
        if self.compiled_metrics is None:
            self.compiled_metrics = [_resolve_metric(m, y_true, y_pred)
                                     for m in self._metric_ids]
            self.compiled_weighted_metrics = [_resolve_metric(m, y_true, y_pred)
                                              for m in self._weighted_metric_ids]
        for m in self.compiled_metrics:
            m.update_state(y_true, y_pred)
        for m in self.compiled_weighted_metrics:
            m.update_state(y_true, y_pred, sample_weight=sample_weight)

    def _reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    reset_metrics = _reset_metrics

    def _logs(self, loss):
        """Keras's key order: the metrics (by the name given to compile), the weighted
        metrics (``weighted_<name>`` when the name is taken, as Keras's CompileMetrics), then
        ``loss``."""
        logs = {m.name: _scalar(m.result()) for m in self.compiled_metrics or ()}
        for m in self.compiled_weighted_metrics or ():
            logs["weighted_" + m.name if m.name in logs else m.name] = _scalar(m.result())
        logs["loss"] = loss
        return logs

    def _return_logs(self, logs, return_dict):
        if return_dict:
            return logs
        if not self._metric_ids and not self._weighted_metric_ids:
            return logs["loss"]
        return [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]

    def _callback_list(self, callbacks, verbose, epochs, steps, history=True):
        from ..callbacks import CallbackList
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        return CallbackList(callbacks, model=self, add_history=history,
                            add_progbar=verbose != 0, verbose=verbose, epochs=epochs,
                            steps=steps)

    # ---- input checks (data_adapters has the rules) -----------------------------------
    def _prepare_x(self, x, where):
        return da.prepare_x(self, x, where)

    def _prepare_y(self, y, n, where):
        return da.prepare_y(self, y, n, where)

    def _prepare_xy(self, x, y, where):
        x = self._prepare_x(x, where)
        return x, self._prepare_y(y, da.num_samples(x), where)


# ---- helpers ----------------------------------------------------------------------------
def _canonical(name):
    return name.replace("_", "").lower()


def _metric_list(metrics):
    """compile's ``metrics``/``weighted_metrics`` as a list; names are checked now, as Keras
    does at compile."""
    from .. import metrics as metrics_mod
    if isinstance(metrics, (str, dict)) or callable(metrics):
        metrics = [metrics]
    ids = list(metrics or [])
    for m in ids:
        if isinstance(m, str) and _canonical(m) not in ("accuracy", "acc"):
            metrics_mod.get(m)
    return ids


def _scalar(value):
    """A metric result for the logs: a float, or the array (per class or threshold)."""
    arr = np.asarray(value)
    return float(arr) if arr.ndim == 0 else arr


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


def _check_batch_size(batch_size, where, default=DEFAULT_BATCH_SIZE):
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"{where}: batch_size must be a positive integer (or None for "
                         f"{default}), got {batch_size!r}")
    return int(batch_size)


def _check_steps(steps, where, name):
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be a positive integer or None, got {steps!r}")
    if steps <= 0:
        raise ValueError(f"{where}: {name} must be a positive integer or None, got {steps!r}")
    return int(steps)


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
