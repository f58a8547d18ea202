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
    BackupAndRestore,
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
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


# ---- ReduceLROnPlateau -------------------------------------------------------------------

# (kwargs, monitored key, values, compiled metrics, learning_rate logged per epoch, final lr)
# starting from lr 0.1; worked out by hand from the rules in docs/keras_semantics.md
REDUCE_LR_TABLE = [
    # no improvement (min_delta 1e-4 by default): one reduction per `patience` epochs
    ({"factor": 0.5, "patience": 1}, "val_loss", [1.0, 1.0, 1.0, 1.0], (),
     [0.1, 0.1, 0.05, 0.025], 0.0125),
    # the default min_delta: 1e-5 better is no improvement, 2e-4 better is
    ({"factor": 0.5, "patience": 1}, "val_loss", [1.0, 1.0 - 1e-5, 1.0 - 3e-4], (),
     [0.1, 0.1, 0.05], 0.05),
    # cooldown 2: the two epochs after a reduction neither count nor reduce
    ({"factor": 0.5, "patience": 1, "cooldown": 2}, "val_loss", [1.0] * 6, (),
     [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], 0.0125),
    # patience 0 still lets an improving epoch pass
    ({"factor": 0.5, "patience": 0}, "val_loss", [1.0, 0.5, 0.6, 0.4], (),
     [0.1, 0.1, 0.1, 0.05], 0.05),
    # min_delta 0.1: 0.95 is no improvement on 1.0, 0.85 is
    ({"factor": 0.5, "patience": 1, "min_delta": 0.1}, "val_loss", [1.0, 0.95, 0.85, 0.84],
     (), [0.1, 0.1, 0.05, 0.05], 0.025),
    # min_lr clamps, and a rate at min_lr is never reduced again
    ({"factor": 0.5, "patience": 0, "min_lr": 0.03}, "val_loss", [1.0, 1.0, 1.0, 1.0], (),
     [0.1, 0.1, 0.05, 0.03], 0.03),
    ({"factor": 0.25, "patience": 0, "min_lr": 0.025}, "val_loss", [1.0, 1.0, 1.0], (),
     [0.1, 0.1, 0.025], 0.025),
    # "auto" reads the compiled accuracy's direction (up)
    ({"monitor": "val_accuracy", "factor": 0.5, "patience": 1}, "val_accuracy",
     [0.5, 0.6, 0.6, 0.7], ACC, [0.1, 0.1, 0.1, 0.05], 0.05),
    ({"monitor": "score", "mode": "max", "factor": 0.1, "patience": 2}, "score",
     [3.0, 2.0, 1.0, 4.0], (), [0.1, 0.1, 0.1, 0.01], 0.01),
]


@pytest.mark.parametrize("kwargs, key, values, metrics, logged, final", REDUCE_LR_TABLE)
def test_reduce_lr_on_plateau_table(kwargs, key, values, metrics, logged, final):
    model = FakeModel(metrics)
    cbs = CallbackList([ReduceLROnPlateau(**kwargs)], model=model, add_history=True)
    fake_fit(cbs, model, seq(key, values))
    assert cbs.history.history["learning_rate"] == pytest.approx(logged, rel=1e-12)
    assert model.optimizer.learning_rate == pytest.approx(final, rel=1e-12)


def test_reduce_lr_on_plateau_missing_value_warns_and_keeps_rate(capsys):
    model = FakeModel()
    cbs = CallbackList([ReduceLROnPlateau(patience=0, verbose=1)], model=model,
                       add_history=True)
    with pytest.warns(UserWarning, match="val_loss.*Available metrics are: loss"):
        fake_fit(cbs, model, [{"loss": 1.0}] * 3)
    assert model.optimizer.learning_rate == 0.1
    assert cbs.history.history["learning_rate"] == [0.1] * 3
    assert capsys.readouterr().out == ""


def test_reduce_lr_on_plateau_state_resets_each_fit_and_verbose(capsys):
    model = FakeModel()
    cb = ReduceLROnPlateau(factor=0.5, patience=1, verbose=1)
    fake_fit([cb], model, seq("val_loss", [1.0, 1.0]))
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05." in capsys.readouterr().out
    fake_fit([cb], model, seq("val_loss", [5.0]))   # a new fit: best forgotten
    assert cb.best == 5.0 and cb.wait == 0 and model.optimizer.learning_rate == 0.05


@pytest.mark.parametrize("min_lr, reductions, final", [
    (0.03, 1, 0.03), (0.1 - 1e-9, 0, 0.1), (0.1 - 1e-7, 1, 0.1 - 1e-7)])
def test_reduce_lr_on_plateau_compares_min_lr_in_float32(capsys, min_lr, reductions, final):
    # Keras: reduce only if lr > np.float32(min_lr), which NumPy 2 evaluates in float32:
    # at lr == min_lr, or within float32 rounding of it (0.1 vs 0.1 - 1e-9), nothing happens
    model = FakeModel()
    fake_fit([ReduceLROnPlateau(factor=0.25, patience=0, min_lr=min_lr, verbose=1)], model,
             seq("val_loss", [1.0] * 4))
    assert capsys.readouterr().out.count("ReduceLROnPlateau reducing") == reductions
    assert model.optimizer.learning_rate == final


@pytest.mark.parametrize("kwargs, error, match", [
    ({"factor": 1.0}, ValueError, "factor >= 1.0"),
    ({"factor": "half"}, TypeError, "factor"),
    ({"patience": 1.5}, TypeError, "patience"),
    ({"cooldown": -1}, ValueError, "cooldown"),
    ({"min_lr": -0.1}, ValueError, "min_lr"),
])
def test_reduce_lr_on_plateau_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ReduceLROnPlateau(**kwargs)


def test_reduce_lr_on_plateau_real_fit_and_schedule_error():
    model, x, y = real_model()
    history = model.fit(x, y, epochs=4, batch_size=40, verbose=0,
                        callbacks=[ReduceLROnPlateau("loss", factor=0.5, patience=0,
                                                     min_delta=10.0)])
    # min_delta 10 makes every epoch after the first a plateau
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.0125)
    model.compile(optimizer=mg.optimizers.SGD(
        mg.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)),
        loss="sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match="ReduceLROnPlateau: cannot lower the learning rate"):
        model.fit(x, y, epochs=3, verbose=0,
                  callbacks=[ReduceLROnPlateau("loss", patience=0, min_delta=10.0)])


# ---- BackupAndRestore --------------------------------------------------------------------

def _dropout_model():
    """A model whose training draws random numbers (shuffling, dropout): resuming must
    restore the generator too to end where an uninterrupted run ends."""
    mg.random.seed(3)
    model = models.Sequential([mg.layers.Input((2,)), mg.layers.Dense(16, activation="relu"),
                               mg.layers.Dropout(0.3), mg.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=mg.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class Interrupt(Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError(f"interrupted at epoch {epoch}")


def test_backup_and_restore_resumes_bit_identical(tmp_path):
    _, x, y = real_model()
    reference = _dropout_model()
    ref_history = reference.fit(x, y, epochs=6, batch_size=16, verbose=0)

    backup_dir = tmp_path / "backup"
    model = _dropout_model()
    with pytest.raises(RuntimeError, match="interrupted at epoch 4"):
        model.fit(x, y, epochs=6, batch_size=16, verbose=0,
                  callbacks=[BackupAndRestore(backup_dir), Interrupt(4)])
    path = backup_dir / BackupAndRestore.FILENAME
    assert path.exists()                       # kept after the exception
    state = models.saving.load_training_state(_dropout_model(), path)
    assert state["epoch"] == 4

    resumed = _dropout_model()                 # a new process would build it afresh
    history = resumed.fit(x, y, epochs=6, batch_size=16, verbose=0,
                          callbacks=[BackupAndRestore(backup_dir)])
    assert history.epoch == [4, 5]             # only the missing epochs ran (as Keras)
    assert history.history["loss"] == ref_history.history["loss"][4:]
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)    # bit for bit
    assert resumed.optimizer.iterations == reference.optimizer.iterations
    assert not backup_dir.exists()             # deleted on completion


def test_backup_and_restore_keeps_learning_rate_and_other_files(tmp_path):
    _, x, y = real_model()
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "notes.txt").write_text("mine")
    model = _dropout_model()
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=4, batch_size=40, verbose=0,
                  callbacks=[ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=10.0),
                             BackupAndRestore(backup_dir), Interrupt(2)])
    resumed = _dropout_model()
    resumed.fit(x, y, epochs=3, batch_size=40, verbose=0,
                callbacks=[BackupAndRestore(backup_dir)])
    # the rate lowered at the end of epoch 1 (0.01 -> 0.005) was restored with the weights
    assert resumed.optimizer.learning_rate == pytest.approx(0.005)
    assert (backup_dir / "notes.txt").read_text() == "mine"
    assert not (backup_dir / BackupAndRestore.FILENAME).exists()


def test_backup_and_restore_every_n_batches_and_no_delete(tmp_path):
    _, x, y = real_model()   # 120 rows, batch 40: 3 batches per epoch
    backup_dir = tmp_path / "b"
    path = backup_dir / BackupAndRestore.FILENAME
    seen = []
    probe = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(
        path.exists() and models.saving.load_training_state(_dropout_model(), path)["epoch"]))
    _dropout_model().fit(x, y, epochs=2, batch_size=40, verbose=0,
                         callbacks=[BackupAndRestore(backup_dir, save_freq=2,
                                                     delete_checkpoint=False), probe])
    # saved after the 2nd, 4th and 6th batch, with the number of finished epochs (Keras)
    assert seen == [False, 0, 0, 1, 1, 1]
    assert path.exists()


@pytest.mark.parametrize("kwargs, error", [
    ({"backup_dir": ""}, ValueError), ({"backup_dir": "b", "save_freq": 0}, ValueError),
    ({"backup_dir": "b", "save_freq": "batch"}, TypeError),
])
def test_backup_and_restore_bad_arguments(kwargs, error):
    with pytest.raises(error, match="BackupAndRestore"):
        BackupAndRestore(**kwargs)
