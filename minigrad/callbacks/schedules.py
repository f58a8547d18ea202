"""LearningRateScheduler: the learning rate as a function of the epoch."""
import numbers

from .base import Callback
from .monitored import _optimizer_of


class LearningRateScheduler(Callback):
    """Set ``model.optimizer.learning_rate = schedule(epoch, lr)`` at each epoch's start
    (``schedule(epoch)`` if it takes one argument) and write the rate into the epoch's logs
    as ``learning_rate``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer_of(self.model, "LearningRateScheduler")
        current = float(optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, current)
        except TypeError:   # the old one-argument schedule(epoch)
            lr = self.schedule(epoch)
        if not isinstance(lr, numbers.Real) or isinstance(lr, bool):
            raise ValueError(  # noqa: TRY004 (Keras raises ValueError here)
                f"LearningRateScheduler: the schedule must return a float, got {lr!r} at "
                f"epoch {epoch}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
