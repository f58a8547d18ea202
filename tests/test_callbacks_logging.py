"""History, CSVLogger and ProgbarLogger (minigrad/callbacks/logging.py)."""
import pytest
from callback_fakes import TTY, FakeClock, FakeModel, fake_fit, read_csv, real_model

from minigrad.callbacks import (
    CSVLogger,
    History,
    LambdaCallback,
)


def test_history_records_epochs_and_appends_across_fits():
    model = FakeModel()
    h = History()
    fake_fit([h], model, [{"loss": 3.0, "accuracy": 0.1}, {"loss": 2.0, "accuracy": 0.2}])
    assert h.epoch == [0, 1] and h.history == {"loss": [3.0, 2.0], "accuracy": [0.1, 0.2]}
    # Keras: a reused History keeps its lists (only ``epoch`` restarts)
    fake_fit([h], model, [{"loss": 1.0, "accuracy": 0.3}])
    assert h.epoch == [0] and h.history["loss"] == [3.0, 2.0, 1.0]


def test_csv_logger_content_and_append(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "accuracy": 0.8}, {"loss": 0.25, "accuracy": 0.9}]
    fake_fit([CSVLogger(path)], FakeModel(), logs)
    rows = read_csv(path)
    # Keras's layout: sorted keys, val_ columns added (NA) when there is no val_ key
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert rows[1] == ["0", "0.8", "0.5", "NA", "NA"]
    assert rows[2] == ["1", "0.9", "0.25", "NA", "NA"]
    fake_fit([CSVLogger(path, append=True)], FakeModel(), logs[:1])
    rows = read_csv(path)
    assert len(rows) == 4 and rows[3][:3] == ["0", "0.8", "0.5"]


def test_csv_logger_with_validation_keys_and_separator(tmp_path):
    path = tmp_path / "log.csv"
    fake_fit([CSVLogger(path, separator=";")], FakeModel(), [{"loss": 1.0, "val_loss": 2.0}])
    assert read_csv(path, ";") == [["epoch", "loss", "val_loss"], ["0", "1.0", "2.0"]]


def test_progbar_logger_prints_epochs_and_final_logs(monkeypatch):
    stream = TTY()
    monkeypatch.setattr("sys.stdout", stream)
    model = FakeModel()
    logs = [{"accuracy": 0.5, "loss": 1.0, "val_accuracy": 0.4, "val_loss": 1.2},
            {"accuracy": 0.75, "loss": 0.5, "val_accuracy": 0.6, "val_loss": 0.9}]
    fake_fit([], model, logs, steps=3, add_progbar=True, verbose=1)
    out = stream.getvalue()
    assert "Epoch 1/2\n" in out and "Epoch 2/2\n" in out
    finals = [seg for seg in out.split("\r") if "3/3" in seg]
    assert "val_loss: 0.9000" in finals[-1] and "accuracy: 0.7500" in finals[-1]
    assert out.endswith("\n")


def test_progbar_logger_verbose_2_one_line_per_epoch(capsys):
    logs = [{"loss": 1.0}, {"loss": 0.5}, {"loss": 0.25}]
    fake_fit([], FakeModel(), logs, steps=4, add_progbar=True, verbose=2)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("4/4")]
    assert len(lines) == 3 and "loss: 0.2500" in lines[-1]


def test_progress_bar_of_real_fit(monkeypatch):
    model, x, y = real_model()
    stream = TTY()
    monkeypatch.setattr("sys.stdout", stream)
    model.fit(x, y, epochs=2, batch_size=40, validation_split=0.25)
    out = stream.getvalue()
    assert "Epoch 2/2" in out and "3/3" in out and "val_loss:" in out and "\r" in out


def test_csv_logger_closes_its_file_when_fit_is_interrupted(tmp_path):
    model, x, y = real_model()
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    opened = []
    grab = LambdaCallback(on_train_begin=lambda logs: opened.append(logger.file))

    def stop(epoch, logs):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, batch_size=40, verbose=0,
                  callbacks=[logger, grab, LambdaCallback(on_epoch_end=stop)])
    assert opened[0].closed and logger.file is None
    rows = read_csv(path)
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2"]   # every finished epoch kept


def test_progbar_logger_unknown_steps_learns_the_total(monkeypatch):
    # fit over a generator passes steps=None: the first epoch counts "n/Unknown", later
    # epochs know the total (Keras's ProgbarLogger)
    stream = TTY()
    monkeypatch.setattr("sys.stdout", stream)
    monkeypatch.setattr("minigrad.progbar.time", FakeClock(tick=0.1))   # every update drawn
    fake_fit([], FakeModel(), [{"loss": 1.0}, {"loss": 0.5}], steps=3, add_progbar=True,
             verbose=1, known_steps=False)
    first, second = stream.getvalue().split("Epoch 2/2")
    assert "      1/Unknown" in first and "3/3" in first.split("\r")[-1]
    assert "Unknown" not in second and "1/3" in second
