"""compile / fit / evaluate / predict / train_on_batch / test_on_batch (Keras 3 semantics).

One training step (``_train_step``), the loop a reader follows in one sitting:

    batch (x, y, sample_weight) -> forward(training=True)
          -> loss = compiled loss (per output, sample-weighted) + sum(model.losses)
          -> backward -> optimizer.apply_gradients -> metrics (on ndarrays) -> callbacks

The data (arrays, lists/dicts of arrays for several inputs or outputs, generators,
``PyDataset``) reaches the loop through ``data_adapters`` (conversion, checks, shuffling,
``steps_per_epoch``, class weights); the model's ``_prepare_x`` / ``_prepare_y`` hooks give
each batch the model's structure (a functional model checks its inputs by name and shape).
``compile_utils`` holds the compiled loss and metrics per output. The epoch ``loss`` is the
batch-size-weighted mean of the batch losses (each on the pre-step weights); metrics
accumulate over the epoch; sample weights (given or from ``class_weight``) weight the loss
and the ``weighted_metrics``, never ``metrics``. Logs are ordered as Keras's: the
``<output>_loss`` trackers, metrics, weighted metrics, ``loss``, then the same with ``val_``.
"""
import numpy as np

from .. import _threads
from ..grad_mode import no_grad
from ..layers.symbolic import flatten
from ..tensor import Tensor
from . import capture
from . import compile_utils as cu
from . import data_adapters as da
from .structure import batch_shape, concat_outputs

DEFAULT_BATCH_SIZE = 32


class Trainer:
    """The training half of ``Model`` (a mixin: it needs ``__call__``, ``losses``,
    ``trainable_weights``, ``dtype`` and ``_input_shape`` from the container)."""

    # set by fit and callbacks; not edits of the model (config.EDITS)
    _loop_state = frozenset({"history", "stop_training", "resume_epoch", "compiled_metrics"})

    def _init_training_state(self):
        self.optimizer = None
        self.loss = None               # the identifier given to compile (saved as given)
        self.loss_weights = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_fn = None           # compile_utils.OutputLosses
        self._metric_ids = []          # identifiers given to compile, in order
        self._weighted_metric_ids = []
        self._metric_layout = []       # (log key, identifier, output, weighted)
        self.compiled_metrics = None   # CompiledMetric entries, resolved at the first batch

    # ---- compile ----------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, jit_compile="auto"):
        """Resolve the optimizer, loss and metrics (unknown names raise ValueError listing the
        valid ones). ``"accuracy"`` is resolved at the first batch from the shapes. Several
        outputs: ``loss``, ``loss_weights``, ``metrics`` and ``weighted_metrics`` per output
        (lists or dicts). Sample weights apply to the loss and to ``weighted_metrics``;
        ``metrics`` stay unweighted. ``jit_compile``: "auto" replays a captured training step
        (``models/capture.py``, ``models/tape.py``) for every model whose step runs only
        minigrad's code (layers, activations, regularizers, loss), True also for the user's
        own (or raises naming what cannot be captured), False is always eager."""
        from .. import optimizers
        self.__dict__["_jit_compile"] = capture.check_flag(jit_compile)
        self.__dict__.pop("_captured", None)      # plans of the previous compile
        metric_ids = cu.metric_list(metrics)
        weighted_ids = cu.metric_list(weighted_metrics)
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self.loss_weights = loss_weights
        self._metric_ids = metric_ids
        self._weighted_metric_ids = weighted_ids
        self._loss_fn, self._metric_layout = None, []
        if loss is not None and not self._outputs_pending():
            self._compile_outputs()
        self.compiled_metrics = None
        self.compiled = True

    def _outputs_pending(self):
        """True while the model's outputs are unknown (an unbuilt subclassed model): the
        per-output loss and metrics are then laid out when it is built (Keras builds its
        compiled loss at the first batch too)."""
        return False

    def _compile_outputs(self):
        """The compiled loss and metric layout, per output, from compile's arguments."""
        self._loss_fn = cu.OutputLosses(self, self.loss, self.loss_weights)
        self._metric_layout = cu.metric_layout(self._loss_fn, self._metric_ids,
                                               self._weighted_metric_ids)

    @property
    def metrics(self):
        """The compiled metric objects (empty until the first batch resolves them)."""
        return [e.metric for e in self.compiled_metrics or ()]

    @property
    def metrics_names(self):
        """``loss``, then the metric names as logged."""
        return ["loss"] + [key for key, *_ in self._metric_layout]

    def _require_compiled(self, where):
        _no_custom_steps(self, where)
        if not self.compiled or self.loss is None:
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
        if not self.built:       # as Keras, built before the callbacks see the model
            first = adapter.first_x()
            if first is not None:
                self.build(batch_shape(first))
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
        n = getattr(adapter, "n", None)      # arrays: the sample count; generators: unknown
        threads_before = _threads.enter_fit(self, batch_size if n is None else min(batch_size, n))
        cbs.on_train_begin()
        # BackupAndRestore sets model.resume_epoch in on_train_begin (Keras's _initial_epoch)
        resume, self.resume_epoch = getattr(self, "resume_epoch", None), None
        initial_epoch = initial_epoch if resume is None else resume
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
            _threads.policy.restore(threads_before)
            cbs.on_train_abort(logs)
            raise
        _threads.policy.restore(threads_before)
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
        x, y = self._prepare_xy(x, y, "fit")
        n = da.num_samples(x)
        sample_weight = da.prepare_sample_weight(self, sample_weight, n, "fit")
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
        """The loss that fit minimises and every report shows: the compiled loss (or
        ``loss_fn``, for every output) of ``(y, y_pred, sample_weight)``, each output's loss
        reduced as its Loss says (the batch mean by default) and weighted by
        ``loss_weights``, + ``sum(self.losses)`` (the penalties)."""
        if loss_fn is None and self._loss_fn is None and self.loss is not None:
            self._compile_outputs()     # a subclassed model built without Model.build
        fn = self._loss_fn if loss_fn is None else loss_fn
        if not isinstance(fn, cu.OutputLosses):
            fn = cu.OutputLosses(self, fn)
        loss = fn(y, y_pred, sample_weight)
        for term in self.losses:
            loss = loss + term
        return loss

    def _train_step(self, xb, yb, variables, sample_weight=None, try_capture=True):
        """Forward, loss + penalties, backward, optimizer step, metrics; returns the loss
        (data loss + sum(model.losses)) on the pre-step weights."""
        self._build_optimizer(variables)
        if try_capture:
            loss = capture.step(self, xb, yb, sample_weight, variables)
            if loss is not None:
                return loss
        loss, y_pred = self._forward_loss(xb, yb, sample_weight)
        return self._backward_step(loss, y_pred, yb, sample_weight, variables)

    def _build_optimizer(self, variables):
        if len(getattr(self.optimizer, "_vars", variables)) < len(variables):
            # built before the forward: the weights move into the optimizer's flat buffers
            # (minigrad._flat) before any graph saves them, so backward writes into them
            self.optimizer.build(variables)

    def _forward_loss(self, xb, yb, sample_weight):
        """The eager step's first half: ``(loss Tensor, y_pred)``."""
        y_pred = self(xb, training=True)
        return self.compute_loss(yb, y_pred, sample_weight=sample_weight), y_pred

    def _backward_step(self, loss, y_pred, yb, sample_weight, variables):
        """The eager step's second half: backward, update, metrics; the loss as a float."""
        for w in variables:
            w.grad = None
        if loss.requires_grad:
            loss.backward()
            self.optimizer.apply_gradients([(w.grad, w) for w in variables])
        self._update_metrics(yb, _values(y_pred), sample_weight)
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
        self._update_metrics(yb, _values(y_pred), sample_weight)
        return float(loss.data)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs on x (arrays, a generator or a PyDataset; ``steps`` batches at
        most) in inference mode (no graph): one ndarray, or a list/dict for several outputs."""
        _no_custom_steps(self, "predict")
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
                out = _values(self(xb, training=False))
                outputs.append(out)
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict: the data gave no batch")
        return concat_outputs(outputs)

    # ---- single batches ---------------------------------------------------------------
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on (x, y); no callbacks, no printing. Returns the loss (and
        metrics of this batch) on the weights before the step."""
        self._require_compiled("train_on_batch")
        x, y, w = self._single_batch(x, y, sample_weight, class_weight, "train_on_batch")
        self._reset_metrics()
        _threads.set_for_step(self, x)
        loss = capture.step(self, x, y, w)   # a replayed step needs no trainable_weights walk
        if loss is None:
            loss = self._train_step(x, y, self.trainable_weights, w, try_capture=False)
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
        _no_custom_steps(self, "predict_on_batch")
        x = self._prepare_x(x, "predict_on_batch")
        with no_grad():
            return _values(self(x, training=False))

    def _single_batch(self, x, y, sample_weight, class_weight, where):
        adapter = da.get_adapter(self, x, y, sample_weight, batch_size=1,
                                 class_weight=class_weight, where=where, all_classes=False)
        return adapter.x, adapter.y, adapter.sample_weight

    # ---- metrics and logs -------------------------------------------------------------
    def _update_metrics(self, y_true, y_pred, sample_weight=None):
        if self.compiled_metrics is None:
            self.compiled_metrics = cu.build_metrics(self._loss_fn, self._metric_layout,
                                                     y_true, y_pred)
        cu.update_metrics(self._loss_fn, self.compiled_metrics, y_true, y_pred, sample_weight)

    def _reset_metrics(self):
        for m in self.compiled_metrics or ():
            m.reset_state()

    reset_metrics = _reset_metrics

    def _logs(self, loss):
        """Keras's key order: the metrics (by their log keys, see ``compile_utils``), then
        ``loss``."""
        logs = {m.name: _scalar(m.result()) for m in self.compiled_metrics or ()}
        logs["loss"] = loss
        return logs

    def _return_logs(self, logs, return_dict):
        if return_dict:
            return logs
        if len(logs) == 1:
            return logs["loss"]
        return [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]

    def _callback_list(self, callbacks, verbose, epochs, steps, history=True):
        from ..callbacks import CallbackList
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        return CallbackList(callbacks, model=self, add_history=history,
                            add_progbar=verbose != 0, verbose=verbose, epochs=epochs,
                            steps=steps)

    # ---- data conversion hooks (a functional model refines _prepare_x; the rules are in
    # data_adapters) ---------------------------------------------------------------------
    def _prepare_x(self, x, where):
        return da.prepare_x(self, x, where)

    def _prepare_one_x(self, x, expected, where, label):
        return da.x_leaf(x, self.dtype, where, label, expected)

    def _prepare_y(self, y, n, where):
        return da.prepare_y(self, y, n, where)

    def _prepare_xy(self, x, y, where):
        x = self._prepare_x(x, where)
        return x, self._prepare_y(y, da.num_samples(x), where)


# ---- helpers ----------------------------------------------------------------------------
_CUSTOM_STEPS = ("train_step", "test_step", "predict_step")


def _no_custom_steps(model, where):
    """Keras's fit calls an overridden ``train_step`` (test_step, predict_step); minigrad's
    loop has no such hook, so one is refused rather than silently skipped."""
    steps = [n for n in _CUSTOM_STEPS if getattr(type(model), n, None) is not None]
    if steps:
        raise NotImplementedError(
            f"{where}: model {model.name!r} ({type(model).__name__}) defines {steps}, which "
            f"minigrad's fit/evaluate/predict do not call (they would be skipped silently); "
            f"put the computation in call(), the loss in compile(loss=...) or a "
            f"losses.Loss, and extra terms in add_loss()")


def _values(y_pred):
    """The arrays of a model's output: one array, or a list/dict for several outputs."""
    if isinstance(y_pred, Tensor):
        return y_pred.data
    if isinstance(y_pred, dict):
        return {k: t.data for k, t in y_pred.items()}
    return [t.data for t in flatten(y_pred)]


def _scalar(value):
    """A metric result for the logs: a float, or the array (per class or threshold)."""
    arr = np.asarray(value)
    return float(arr) if arr.ndim == 0 else arr


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
