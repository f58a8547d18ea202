"""Callbacks and the progress bar: Keras 3's rules (KERAS_SEMANTICS.md), driven by a small
fake training loop (``_run``) over a fake model, and once through the real ``Sequential.fit``.

The fake loop does what ``fit`` does around callbacks: train begin, then per epoch: epoch
begin, a few batches, the epoch's "training" (the weights become ``[epoch, epoch]``), epoch
end with the given logs, stop when ``model.stop_training``; train end.
"""
import csv
import io
import math
import re
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import minigrad as mg
from minigrad import callbacks as cbm
from minigrad import metrics as mg_metrics
from minigrad import models
from minigrad.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    TerminateOnNaN,
)
from minigrad.progbar import Progbar


class FakeMetric:
    def __init__(self, name, direction=None):
        self.name = name
        if direction is not None:
            self.direction = direction


class FakeModel:
    def __init__(self, metrics=()):
        self.stop_training = False
        self.compiled_metrics = list(metrics)
        self.optimizer = SimpleNamespace(learning_rate=0.1)
        self.weights = [np.zeros(2)]
        self.saves = []
        self.history = None

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, path):
        self.saves.append(("model", str(path)))
        with open(path, "w") as f:
            f.write("model")

    def save_weights(self, path):
        self.saves.append(("weights", str(path)))
        with open(path, "w") as f:
            f.write("weights")


def _run(callbacks, model, epoch_logs, steps=2, batch_logs=None, **kw):
    """Fake fit: returns the number of epochs run."""
    cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
        callbacks, model=model, epochs=len(epoch_logs), steps=steps, **kw)
    model.stop_training = False
    cbs.on_train_begin()
    run = 0
    for epoch, logs in enumerate(epoch_logs):
        cbs.on_epoch_begin(epoch)
        for step in range(steps):
            cbs.on_train_batch_begin(step)
            cbs.on_train_batch_end(step, dict(batch_logs or {"loss": 1.0}))
            if model.stop_training:
                break
        model.weights = [np.full(2, float(epoch))]
        cbs.on_epoch_end(epoch, dict(logs))
        run += 1
        if model.stop_training:
            break
    cbs.on_train_end()
    return run


def _seq(key, values):
    return [{key: v} for v in values]


ACC = [FakeMetric("accuracy", "up")]

# (EarlyStopping kwargs, monitored key, values, compiled metrics, epochs run, stopped_epoch)
# Expected numbers worked out by hand from KERAS_SEMANTICS.md's rules.
EARLY_STOPPING_TABLE = [
    # the lecture: stops after epoch index 3 (4 epochs run)
    ({"monitor": "accuracy", "min_delta": 0.05, "patience": 1}, "accuracy",
     [.30, .40, .50, .53, .60, .70], ACC, 4, 3),
    # defaults: val_loss, patience 0 -> first non-improving epoch stops
    ({}, "val_loss", [1.0, 0.9, 0.95, 0.8], (), 3, 2),
    ({"patience": 2}, "val_loss", [1.0, 1.1, 1.2, 0.5], (), 3, 2),
    # an improvement resets the wait
    ({"patience": 2}, "val_loss", [1.0, 1.1, 0.9, 1.0, 1.0, 1.0], (), 5, 4),
    # min_delta in min mode: 0.95 + 0.1 < 1.0 is false; its sign is ignored
    ({"min_delta": 0.1}, "val_loss", [1.0, 0.95, 0.85, 0.8], (), 2, 1),
    ({"min_delta": -0.1}, "val_loss", [1.0, 0.95, 0.85, 0.8], (), 2, 1),
    # equal is not an improvement
    ({"monitor": "loss"}, "loss", [1.0, 1.0, 0.5], (), 2, 1),
    # explicit mode overrides the name
    ({"monitor": "val_loss", "mode": "max"}, "val_loss", [1.0, 2.0, 3.0, 2.5], (), 4, 3),
    ({"monitor": "score", "mode": "min", "patience": 1}, "score", [3.0, 2.0, 2.5, 1.0], (), 3, 2),
    # "auto" with a compiled metric of direction "down"
    ({"monitor": "val_mae"}, "val_mae", [3.0, 2.0, 2.5], [FakeMetric("mae", "down")], 3, 2),
    # "auto" by name when the metric object has no direction
    ({"monitor": "val_accuracy"}, "val_accuracy", [.5, .6, .55],
     [FakeMetric("accuracy")], 3, 2),
    # start_from_epoch: epochs 0 and 1 are not counted
    ({"start_from_epoch": 2}, "val_loss", [1.0, 2.0, 3.0, 4.0, 3.5], (), 4, 3),
    # baseline quirk: improving epochs never stop, even above the baseline ...
    ({"baseline": 0.5, "patience": 2}, "val_loss", [1.0, 0.9, 0.8, 0.7, 0.6], (), 5, 0),
    # ... but the wait is not reset by them, so a plateau stops earlier than without it
    ({"baseline": 0.5, "patience": 2}, "val_loss", [1.0, 1.0, 1.0, 1.0], (), 2, 1),
    ({"patience": 2}, "val_loss", [1.0, 1.0, 1.0, 1.0], (), 3, 2),
    # a baseline that is beaten behaves as no baseline
    ({"baseline": 2.0, "patience": 1}, "val_loss", [1.0, 0.9, 1.0, 1.0], (), 3, 2),
]


@pytest.mark.parametrize("kwargs, key, values, metrics, runs, stopped", EARLY_STOPPING_TABLE)
def test_early_stopping_table(kwargs, key, values, metrics, runs, stopped):
    model = FakeModel(metrics)
    es = EarlyStopping(**kwargs)
    assert _run([es], model, _seq(key, values)) == runs
    assert es.stopped_epoch == stopped
    assert model.stop_training == (stopped > 0)


def test_early_stopping_restores_best_weights_when_stopped():
    model = FakeModel()
    es = EarlyStopping(patience=1, restore_best_weights=True)
    assert _run([es], model, _seq("val_loss", [1.0, 0.5, 0.7, 0.8, 0.9])) == 3
    assert es.best == 0.5 and es.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_restores_best_weights_without_stopping():
    model = FakeModel()
    es = EarlyStopping(patience=10, restore_best_weights=True)
    assert _run([es], model, _seq("val_loss", [1.0, 0.5, 0.7])) == 3
    assert es.stopped_epoch == 0
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_without_restore_keeps_last_weights():
    model = FakeModel()
    _run([EarlyStopping(patience=1)], model, _seq("val_loss", [1.0, 0.5, 0.7, 0.8]))
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])


def test_early_stopping_state_resets_each_fit():
    model = FakeModel()
    es = EarlyStopping(patience=0)
    assert _run([es], model, _seq("val_loss", [1.0, 2.0])) == 2
    # a second fit starts from best=None: 5.0 is an improvement again
    assert _run([es], model, _seq("val_loss", [5.0, 4.0, 4.5])) == 3


def test_early_stopping_auto_mode_errors_list_the_log_keys():
    es = EarlyStopping(monitor="val_f1")
    with pytest.raises(ValueError, match="val_f1") as err:
        _run([es], FakeModel(ACC), [{"loss": 1.0, "val_f1": 0.5, "accuracy": 0.3}])
    assert "accuracy" in str(err.value) and "mode='max'" in str(err.value)
    # a compiled metric whose direction cannot be told
    es = EarlyStopping(monitor="score")
    with pytest.raises(ValueError, match="score"):
        _run([es], FakeModel([FakeMetric("score")]), [{"score": 1.0}])


def test_early_stopping_missing_value_warns_and_never_stops():
    model = FakeModel()
    with pytest.warns(UserWarning, match="val_loss"):
        assert _run([EarlyStopping()], model, _seq("loss", [1.0, 2.0, 3.0])) == 3


def test_early_stopping_unknown_mode_falls_back_to_auto():
    with pytest.warns(UserWarning, match="unknown"):
        es = EarlyStopping(mode="sideways")
    assert es.mode == "auto"


def test_early_stopping_verbose_messages(capsys):
    _run([EarlyStopping(patience=0, verbose=1, restore_best_weights=True)], FakeModel(),
         _seq("val_loss", [1.0, 0.8, 0.9]))
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "best epoch: 2" in out


def test_early_stopping_reads_real_metric_direction():
    y_true = np.array([0, 1, 1])
    y_pred = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], dtype=np.float32)
    acc = mg_metrics.get("accuracy", y_true=y_true, y_pred=y_pred)
    model = FakeModel([acc])
    assert _run([EarlyStopping(monitor="val_accuracy")], model,
                _seq("val_accuracy", [0.5, 0.6, 0.55])) == 3


# ---- CallbackList ------------------------------------------------------------------------

class Recorder(Callback):
    def __init__(self, tag, events):
        super().__init__()
        self.tag, self.events = tag, events

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((self.tag, "epoch_end", id(logs), dict(logs)))
        logs[f"seen_by_{self.tag}"] = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.events.append((self.tag, "batch_end", id(logs), None))


def test_callback_order_and_one_shared_logs_dict():
    events = []
    model = FakeModel()
    a, b = Recorder("a", events), Recorder("b", events)
    cbs = CallbackList([a, b], model=model, add_history=True, add_progbar=True, verbose=0,
                       epochs=1, steps=2)
    assert isinstance(cbs.callbacks[2], History) and isinstance(cbs.callbacks[3], ProgbarLogger)
    assert cbs.history is cbs.callbacks[2]
    _run(cbs, model, [{"loss": 0.5}])
    ends = [e for e in events if e[1] == "epoch_end"]
    assert [e[0] for e in ends] == ["a", "b"]
    assert ends[0][2] == ends[1][2]                     # the same dict object
    assert "seen_by_a" in ends[1][3]                    # b sees what a wrote
    # History comes after the user callbacks: it recorded both additions
    assert cbs.history.history == {"loss": [0.5], "seen_by_a": [0], "seen_by_b": [0]}
    assert model.history is cbs.history
    batch_ids = [e[2] for e in events if e[1] == "batch_end"]
    assert batch_ids[0] == batch_ids[1] and batch_ids[2] == batch_ids[3]


def test_callback_list_keeps_a_given_history_in_place():
    history = History()
    cbs = CallbackList([history, Recorder("a", [])], add_history=True)
    assert cbs.history is history and len(cbs) == 2


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="Callback"):
        CallbackList([lambda: None])


def test_batch_aliases_and_params():
    seen = []

    class OldStyle(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    model = FakeModel()
    cb = OldStyle()
    cbs = CallbackList([cb], model=model, verbose=2, epochs=3, steps=4)
    assert cb.model is model and cb.params == {"verbose": 2, "epochs": 3, "steps": 4}
    _run(cbs, model, [{"loss": 1.0}], steps=3)
    assert seen == [0, 1, 2]


def test_history_records_epochs_and_appends_across_fits():
    model = FakeModel()
    h = History()
    _run([h], model, [{"loss": 3.0, "accuracy": 0.1}, {"loss": 2.0, "accuracy": 0.2}])
    assert h.epoch == [0, 1] and h.history == {"loss": [3.0, 2.0], "accuracy": [0.1, 0.2]}
    # Keras: a reused History keeps its lists (only ``epoch`` restarts)
    _run([h], model, [{"loss": 1.0, "accuracy": 0.3}])
    assert h.epoch == [0] and h.history["loss"] == [3.0, 2.0, 1.0]


# ---- LearningRateScheduler, TerminateOnNaN ---------------------------------------------

def test_learning_rate_scheduler_sets_rate_and_writes_logs():
    model = FakeModel()
    calls = []

    def schedule(epoch, lr):
        calls.append((epoch, lr))
        return lr * 0.5

    cbs = CallbackList([LearningRateScheduler(schedule)], model=model, add_history=True)
    _run(cbs, model, [{"loss": 1.0}] * 3)
    assert calls == [(0, 0.1), (1, 0.05), (2, 0.025)]
    assert model.optimizer.learning_rate == pytest.approx(0.0125)
    assert cbs.history.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])


def test_learning_rate_scheduler_one_argument_schedule_and_bad_output(capsys):
    model = FakeModel()
    _run([LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1), verbose=1)], model,
         [{"loss": 1.0}] * 2)
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    assert "setting learning rate to 0.02" in capsys.readouterr().out
    with pytest.raises(ValueError, match="float"):
        _run([LearningRateScheduler(lambda epoch, lr: "fast")], FakeModel(), [{}])


def test_terminate_on_nan_stops_at_the_batch():
    for bad in (math.nan, math.inf):
        model = FakeModel()
        runs = _run([TerminateOnNaN()], model, [{"loss": 1.0}] * 3, steps=3,
                    batch_logs={"loss": bad})
        assert model.stop_training and runs == 1
    model = FakeModel()
    assert _run([TerminateOnNaN()], model, [{"loss": 1.0}] * 3) == 3
    assert not model.stop_training


# ---- CSVLogger, ModelCheckpoint ----------------------------------------------------------

def _read_csv(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_content_and_append(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "accuracy": 0.8}, {"loss": 0.25, "accuracy": 0.9}]
    _run([CSVLogger(path)], FakeModel(), logs)
    rows = _read_csv(path)
    # Keras's layout: sorted keys, val_ columns added (NA) when there is no val_ key
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert rows[1] == ["0", "0.8", "0.5", "NA", "NA"]
    assert rows[2] == ["1", "0.9", "0.25", "NA", "NA"]
    _run([CSVLogger(path, append=True)], FakeModel(), logs[:1])
    rows = _read_csv(path)
    assert len(rows) == 4 and rows[3][:3] == ["0", "0.8", "0.5"]


def test_csv_logger_with_validation_keys_and_separator(tmp_path):
    path = tmp_path / "log.csv"
    _run([CSVLogger(path, separator=";")], FakeModel(), [{"loss": 1.0, "val_loss": 2.0}])
    assert _read_csv(path, ";") == [["epoch", "loss", "val_loss"], ["0", "1.0", "2.0"]]


def test_model_checkpoint_every_epoch_with_formatted_names(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{loss:.2f}.mg")
    _run([ModelCheckpoint(pattern)], model, [{"loss": 0.5}, {"loss": 0.25}])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01-0.50.mg", "ckpt-02-0.25.mg"]
    assert [kind for kind, _ in model.saves] == ["model", "model"]


def test_model_checkpoint_best_only_and_weights_only(tmp_path, capsys):
    model = FakeModel()
    path = tmp_path / "sub" / "best.weights"
    cb = ModelCheckpoint(path, save_best_only=True, save_weights_only=True, verbose=1)
    _run([cb], model, _seq("val_loss", [1.0, 0.8, 0.9, 0.7]))
    assert [kind for kind, _ in model.saves] == ["weights"] * 3   # epochs 1, 2 and 4
    assert path.exists()
    out = capsys.readouterr().out
    assert "val_loss improved from inf to 1.00000" in out
    assert "Epoch 3: val_loss did not improve from 0.80000" in out


def test_model_checkpoint_max_mode_and_bad_pattern(tmp_path):
    model = FakeModel(ACC)
    cb = ModelCheckpoint(tmp_path / "m.mg", monitor="val_accuracy", save_best_only=True)
    _run([cb], model, _seq("val_accuracy", [0.5, 0.4, 0.6]))
    assert len(model.saves) == 2
    with pytest.raises(KeyError, match="val_auc"):
        _run([ModelCheckpoint(str(tmp_path / "{val_auc}.mg"))], FakeModel(), [{"loss": 1.0}])


def test_gradient_monitor_is_exported_lazily():
    from minigrad import diagnostics
    assert cbm.GradientMonitor is diagnostics.GradientMonitor
    assert issubclass(cbm.GradientMonitor, Callback)
    with pytest.raises(AttributeError):
        cbm.NoSuchCallback  # noqa: B018


# ---- progress bar ------------------------------------------------------------------------

class TTY(io.StringIO):
    def isatty(self):
        return True


def test_progbar_terminal_mode_updates_in_place():
    stream = TTY()
    bar = Progbar(10, interval=0.0, stream=stream)
    for i in range(1, 11):
        bar.update(i, [("loss", 1.0 / i)])
    out = stream.getvalue()
    assert out.count("\r") == 10 and out.count("\n") == 1 and out.endswith("\n")
    final = out.split("\r")[-1]
    assert "10/10" in final and "━" in final and "/step" in final
    # running mean of 1/i weighted by one step each, then the exact value at the end
    assert f"loss: {np.mean(1.0 / np.arange(1, 10)):.4f}" in out.split("\r")[-2]
    assert "loss: 0.1000" in final


class FakeClock:
    """Stands in for ``time`` in minigrad.progbar: ``monotonic()`` returns ``t``, which only
    the test moves. It starts far from 0, as a real monotonic clock does."""

    def __init__(self, t=1000.0):
        self.t = t

    def monotonic(self):
        return self.t


# (Progbar kwargs, fake seconds per update, updates between two lines). The steps keep
# every line time well clear of a multiple of the interval, so float rounding cannot move
# a line: e.g. 10 ms steps would put a line exactly on each 50 ms boundary.
THROTTLE_TABLE = [
    ({}, 0.011, 5),                   # default interval, 50 ms: 44 ms < 50 ms <= 55 ms
    ({}, 0.0013, 39),                 # 49.4 ms < 50 ms <= 50.7 ms
    ({}, 0.02, 3),
    ({}, 0.07, 1),
    ({"interval": 0.1}, 0.011, 10),   # 99 ms < 100 ms <= 110 ms
    # binary fractions, exact in float: a line due exactly one interval later is drawn
    ({"interval": 2.0 ** -4}, 2.0 ** -6, 4),
]


@pytest.mark.parametrize("kwargs, step, every", THROTTLE_TABLE)
@pytest.mark.parametrize("stream_type", [io.StringIO, TTY])
def test_progbar_redraws_once_per_interval(monkeypatch, kwargs, step, every, stream_type):
    clock = FakeClock()
    monkeypatch.setattr("minigrad.progbar.time", clock)
    target = 4 * every + 2
    stream = stream_type()
    bar = Progbar(target, stream=stream, **kwargs)     # the clock starts at construction
    for i in range(1, target + 1):
        clock.t += step
        bar.update(i, [("loss", 0.5)])
    out = stream.getvalue()
    # a line once ``every`` updates (never at once: the first waits a whole interval), and
    # the final line regardless of the interval
    expected = [*range(every, target, every), target]
    if stream_type is TTY:
        frames = out.split("\r")[1:]
        assert out.count("\n") == 1 and out.endswith("\n")
    else:
        frames = out.splitlines()
        assert "\r" not in out and "\x1b[" not in out   # no colour codes off a terminal
    counts = [re.match(r"(?:\x1b\[1m)? *(\d+)/(\d+)\b", f).groups() for f in frames]
    assert counts == [(str(i), str(target)) for i in expected]


def test_progbar_non_terminal_mode_is_throttled():
    stream = io.StringIO()
    bar = Progbar(50, interval=1e9, stream=stream)
    for i in range(1, 51):
        bar.update(i, [("loss", 0.5)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("50/50 ") and "\r" not in stream.getvalue()
    stream = io.StringIO()
    bar = Progbar(5, interval=0.0, stream=stream)
    for i in range(1, 6):
        bar.update(i, [("loss", 0.5)])
    lines = stream.getvalue().splitlines()
    assert [line.split(" ")[0] for line in lines] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    assert "\x1b[" not in stream.getvalue()        # no colour codes off a terminal


def test_progbar_verbose_2_and_0():
    stream = io.StringIO()
    bar = Progbar(4, verbose=2, interval=0.0, stream=stream)
    for i in range(1, 5):
        bar.update(i, [("acc", 0.25 * i)])
    assert stream.getvalue().count("\n") == 1
    assert stream.getvalue().startswith("4/4 - ") and "acc: 1.0000" in stream.getvalue()
    stream = io.StringIO()
    bar = Progbar(4, verbose=0, stream=stream)
    for i in range(1, 5):
        bar.update(i, [("acc", 1.0)])
    assert stream.getvalue() == ""


def test_progbar_stateful_values_and_unknown_target():
    stream = io.StringIO()
    bar = Progbar(None, interval=0.0, stateful_metrics=True, stream=stream)
    bar.update(1, [("loss", 4.0)])
    bar.update(2, [("loss", 2.0)])
    last = stream.getvalue().splitlines()[-1]
    assert "2/Unknown" in last and "loss: 2.0000" in last
    assert "loss: 1.0000e-04" in _one_line(Progbar(1, stream=io.StringIO()), 1e-4)


def _one_line(bar, value):
    bar.update(1, [("loss", value)])
    return bar.stream.getvalue()


def test_progbar_logger_prints_epochs_and_final_logs(monkeypatch):
    stream = TTY()
    monkeypatch.setattr("sys.stdout", stream)
    model = FakeModel()
    logs = [{"accuracy": 0.5, "loss": 1.0, "val_accuracy": 0.4, "val_loss": 1.2},
            {"accuracy": 0.75, "loss": 0.5, "val_accuracy": 0.6, "val_loss": 0.9}]
    _run([], model, logs, steps=3, add_progbar=True, verbose=1)
    out = stream.getvalue()
    assert "Epoch 1/2\n" in out and "Epoch 2/2\n" in out
    finals = [seg for seg in out.split("\r") if "3/3" in seg]
    assert "val_loss: 0.9000" in finals[-1] and "accuracy: 0.7500" in finals[-1]
    assert out.endswith("\n")


def test_progbar_logger_verbose_2_one_line_per_epoch(capsys):
    logs = [{"loss": 1.0}, {"loss": 0.5}, {"loss": 0.25}]
    _run([], FakeModel(), logs, steps=4, add_progbar=True, verbose=2)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("4/4")]
    assert len(lines) == 3 and "loss: 0.2500" in lines[-1]


# ---- the real model ----------------------------------------------------------------------

def _real_model():
    mg.random.seed(0)
    model = models.Sequential([mg.layers.Dense(8, activation="relu", input_shape=(2,)),
                               mg.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    from minigrad.datasets.synthetic import make_blobs
    x, y = make_blobs(n_samples=120, centers=3, cluster_std=1.0, seed=1)
    return model, x, y


class WeightRecorder(Callback):
    def __init__(self):
        super().__init__()
        self.snapshots = []

    def on_epoch_end(self, epoch, logs=None):
        self.snapshots.append(self.model.get_weights())


def test_callbacks_with_real_sequential(tmp_path):
    model, x, y = _real_model()
    es = EarlyStopping(monitor="val_accuracy", patience=0, restore_best_weights=True)
    lrs = LearningRateScheduler(lambda epoch, lr: lr * 0.9)
    recorder = WeightRecorder()
    log = tmp_path / "fit.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(x, y, epochs=30, batch_size=16, validation_split=0.25, verbose=0,
                            callbacks=[lrs, recorder, es, CSVLogger(log)])
    hist = history.history
    assert set(hist) == {"accuracy", "loss", "val_accuracy", "val_loss", "learning_rate"}
    assert len(hist["loss"]) == len(history.epoch) == len(_read_csv(log)) - 1
    assert hist["learning_rate"][:2] == pytest.approx([0.09, 0.081])
    # "auto" read the compiled accuracy's direction: it stopped at the first epoch that
    # did not raise val_accuracy, and restored the best epoch's weights
    assert 0 < es.stopped_epoch == len(hist["loss"]) - 1 < 29
    assert hist["val_accuracy"][es.stopped_epoch] <= max(hist["val_accuracy"][:-1])
    assert es.best_epoch < es.stopped_epoch
    for restored, best in zip(model.get_weights(), recorder.snapshots[es.best_epoch]):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(model.get_weights()[0], recorder.snapshots[-1][0])


def test_model_checkpoint_with_real_sequential(tmp_path):
    model, x, y = _real_model()
    path = tmp_path / "best.mg"
    history = model.fit(x, y, epochs=6, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[ModelCheckpoint(path, save_best_only=True)])
    best = models.load_model(path)
    loss = best.evaluate(x[90:], y[90:], verbose=0)[0]
    assert loss == pytest.approx(min(history.history["val_loss"]), rel=1e-5)


def test_terminate_on_nan_with_real_sequential(capsys):
    model, x, y = _real_model()
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=1e30), loss="mse")
    with np.errstate(all="ignore"):
        history = model.fit(x, np.eye(3, dtype=np.float32)[y], epochs=5, batch_size=10,
                            verbose=0, callbacks=[TerminateOnNaN()])
    assert len(history.epoch) == 1 and not math.isfinite(history.history["loss"][0])
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_progress_bar_of_real_fit(monkeypatch):
    model, x, y = _real_model()
    stream = TTY()
    monkeypatch.setattr("sys.stdout", stream)
    model.fit(x, y, epochs=2, batch_size=40, validation_split=0.25)
    out = stream.getvalue()
    assert "Epoch 2/2" in out and "3/3" in out and "val_loss:" in out and "\r" in out
