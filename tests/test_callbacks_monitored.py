"""EarlyStopping, ModelCheckpoint, TerminateOnNaN, ReduceLROnPlateau and BackupAndRestore
(minigrad/callbacks/monitored.py): Keras 3's rules, written down with their source lines in
docs/keras_semantics.md; expected numbers worked out by hand from those rules."""
import math
import warnings

import numpy as np
import pytest
from callback_fakes import FakeMetric, FakeModel, fake_fit, read_csv, real_model, seq

import minigrad as mg
from minigrad import metrics as mg_metrics
from minigrad import models
from minigrad.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
)

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
    assert fake_fit([es], model, seq(key, values)) == runs
    assert es.stopped_epoch == stopped
    assert model.stop_training == (stopped > 0)


def test_early_stopping_restores_best_weights_when_stopped():
    model = FakeModel()
    es = EarlyStopping(patience=1, restore_best_weights=True)
    assert fake_fit([es], model, seq("val_loss", [1.0, 0.5, 0.7, 0.8, 0.9])) == 3
    assert es.best == 0.5 and es.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_restores_best_weights_without_stopping():
    model = FakeModel()
    es = EarlyStopping(patience=10, restore_best_weights=True)
    assert fake_fit([es], model, seq("val_loss", [1.0, 0.5, 0.7])) == 3
    assert es.stopped_epoch == 0
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_without_restore_keeps_last_weights():
    model = FakeModel()
    fake_fit([EarlyStopping(patience=1)], model, seq("val_loss", [1.0, 0.5, 0.7, 0.8]))
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])


def test_early_stopping_state_resets_each_fit():
    model = FakeModel()
    es = EarlyStopping(patience=0)
    assert fake_fit([es], model, seq("val_loss", [1.0, 2.0])) == 2
    # a second fit starts from best=None: 5.0 is an improvement again
    assert fake_fit([es], model, seq("val_loss", [5.0, 4.0, 4.5])) == 3


def test_early_stopping_auto_mode_errors_list_the_log_keys():
    es = EarlyStopping(monitor="val_f1")
    with pytest.raises(ValueError, match="val_f1") as err:
        fake_fit([es], FakeModel(ACC), [{"loss": 1.0, "val_f1": 0.5, "accuracy": 0.3}])
    assert "accuracy" in str(err.value) and "mode='max'" in str(err.value)
    # a compiled metric whose direction cannot be told
    es = EarlyStopping(monitor="score")
    with pytest.raises(ValueError, match="score"):
        fake_fit([es], FakeModel([FakeMetric("score")]), [{"score": 1.0}])


def test_early_stopping_missing_value_warns_and_never_stops():
    model = FakeModel()
    with pytest.warns(UserWarning, match="val_loss"):
        assert fake_fit([EarlyStopping()], model, seq("loss", [1.0, 2.0, 3.0])) == 3


def test_early_stopping_unknown_mode_falls_back_to_auto():
    with pytest.warns(UserWarning, match="unknown"):
        es = EarlyStopping(mode="sideways")
    assert es.mode == "auto"


def test_early_stopping_verbose_messages(capsys):
    fake_fit([EarlyStopping(patience=0, verbose=1, restore_best_weights=True)], FakeModel(),
         seq("val_loss", [1.0, 0.8, 0.9]))
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "best epoch: 2" in out


def test_early_stopping_reads_real_metric_direction():
    y_true = np.array([0, 1, 1])
    y_pred = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], dtype=np.float32)
    acc = mg_metrics.get("accuracy", y_true=y_true, y_pred=y_pred)
    model = FakeModel([acc])
    assert fake_fit([EarlyStopping(monitor="val_accuracy")], model,
                seq("val_accuracy", [0.5, 0.6, 0.55])) == 3


def test_terminate_on_nan_stops_at_the_batch():
    for bad in (math.nan, math.inf):
        model = FakeModel()
        runs = fake_fit([TerminateOnNaN()], model, [{"loss": 1.0}] * 3, steps=3,
                    batch_logs={"loss": bad})
        assert model.stop_training and runs == 1
    model = FakeModel()
    assert fake_fit([TerminateOnNaN()], model, [{"loss": 1.0}] * 3) == 3
    assert not model.stop_training


def test_model_checkpoint_every_epoch_with_formatted_names(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{loss:.2f}.mg")
    fake_fit([ModelCheckpoint(pattern)], model, [{"loss": 0.5}, {"loss": 0.25}])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01-0.50.mg", "ckpt-02-0.25.mg"]
    assert [kind for kind, _ in model.saves] == ["model", "model"]


def test_model_checkpoint_best_only_and_weights_only(tmp_path, capsys):
    model = FakeModel()
    path = tmp_path / "sub" / "best.weights"
    cb = ModelCheckpoint(path, save_best_only=True, save_weights_only=True, verbose=1)
    fake_fit([cb], model, seq("val_loss", [1.0, 0.8, 0.9, 0.7]))
    assert [kind for kind, _ in model.saves] == ["weights"] * 3   # epochs 1, 2 and 4
    assert path.exists()
    out = capsys.readouterr().out
    assert "val_loss improved from inf to 1.00000" in out
    assert "Epoch 3: val_loss did not improve from 0.80000" in out


def test_model_checkpoint_max_mode_and_bad_pattern(tmp_path):
    model = FakeModel(ACC)
    cb = ModelCheckpoint(tmp_path / "m.mg", monitor="val_accuracy", save_best_only=True)
    fake_fit([cb], model, seq("val_accuracy", [0.5, 0.4, 0.6]))
    assert len(model.saves) == 2
    with pytest.raises(KeyError, match="val_auc"):
        fake_fit([ModelCheckpoint(str(tmp_path / "{val_auc}.mg"))], FakeModel(), [{"loss": 1.0}])


class WeightRecorder(Callback):
    def __init__(self):
        super().__init__()
        self.snapshots = []

    def on_epoch_end(self, epoch, logs=None):
        self.snapshots.append(self.model.get_weights())


def test_callbacks_with_real_sequential(tmp_path):
    model, x, y = real_model()
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
    assert len(hist["loss"]) == len(history.epoch) == len(read_csv(log)) - 1
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
    model, x, y = real_model()
    path = tmp_path / "best.mg"
    history = model.fit(x, y, epochs=6, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[ModelCheckpoint(path, save_best_only=True)])
    best = models.load_model(path)
    loss = best.evaluate(x[90:], y[90:], verbose=0)[0]
    assert loss == pytest.approx(min(history.history["val_loss"]), rel=1e-5)


def test_terminate_on_nan_with_real_sequential(capsys):
    model, x, y = real_model()
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=1e30), loss="mse")
    with np.errstate(all="ignore"):
        history = model.fit(x, np.eye(3, dtype=np.float32)[y], epochs=5, batch_size=10,
                            verbose=0, callbacks=[TerminateOnNaN()])
    assert len(history.epoch) == 1 and not math.isfinite(history.history["loss"][0])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
