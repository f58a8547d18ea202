"""Callbacks: hooks the training loop calls at fixed points, with Keras 3's names and rules.

``fit`` builds one ``CallbackList``: the user's callbacks in order, then ``History``, then the
progress bar (``ProgbarLogger``). Every hook receives the SAME logs dict, so a value an earlier
callback writes (``LearningRateScheduler``'s or ``ReduceLROnPlateau``'s ``learning_rate``) is
recorded by History and shown by the bar. ``model.stop_training = True`` (EarlyStopping,
TerminateOnNaN) ends ``fit`` after the current batch or epoch. When an exception leaves
``fit``, ``on_train_abort`` is called instead of ``on_train_end``.

Modules: base (Callback, LambdaCallback), callback_list, logging (History, ProgbarLogger,
CSVLogger), monitored (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
BackupAndRestore), schedules (LearningRateScheduler), tensorboard (TensorBoard; needs the
``tensorboard`` extra, imported only when a TensorBoard callback is created).
"""
from .base import Callback, LambdaCallback
from .callback_list import CallbackList
from .logging import CSVLogger, History, ProgbarLogger
from .monitored import (
    BackupAndRestore,
    EarlyStopping,
    ModelCheckpoint,
    MonitorCallback,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .schedules import LearningRateScheduler
from .tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "LambdaCallback", "History", "ProgbarLogger",
           "CSVLogger", "MonitorCallback", "EarlyStopping", "ModelCheckpoint",
           "ReduceLROnPlateau", "TerminateOnNaN", "BackupAndRestore", "LearningRateScheduler",
           "TensorBoard", "GradientMonitor"]  # noqa: F822 (GradientMonitor: __getattr__)


def __getattr__(name):
    # GradientMonitor is a Callback built with the diagnostics (which import this package),
    # so it is looked up on first use rather than imported here
    if name == "GradientMonitor":
        from ..diagnostics.monitor import GradientMonitor
        return GradientMonitor
    raise AttributeError(f"module 'minigrad.callbacks' has no attribute {name!r}")
