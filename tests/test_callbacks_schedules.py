"""LearningRateScheduler (minigrad/callbacks/schedules.py)."""

import pytest
from callback_fakes import FakeModel, fake_fit

from minigrad.callbacks import (
    CallbackList,
    LearningRateScheduler,
)


def test_learning_rate_scheduler_sets_rate_and_writes_logs():
    model = FakeModel()
    calls = []

    def schedule(epoch, lr):
        calls.append((epoch, lr))
        return lr * 0.5

    cbs = CallbackList([LearningRateScheduler(schedule)], model=model, add_history=True)
    fake_fit(cbs, model, [{"loss": 1.0}] * 3)
    assert calls == [(0, 0.1), (1, 0.05), (2, 0.025)]
    assert model.optimizer.learning_rate == pytest.approx(0.0125)
    assert cbs.history.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])


def test_learning_rate_scheduler_one_argument_schedule_and_bad_output(capsys):
    model = FakeModel()
    fake_fit([LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1), verbose=1)], model,
         [{"loss": 1.0}] * 2)
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    assert "setting learning rate to 0.02" in capsys.readouterr().out
    with pytest.raises(ValueError, match="float"):
        fake_fit([LearningRateScheduler(lambda epoch, lr: "fast")], FakeModel(), [{}])
