"""CallbackList (order, one shared logs dict, batch aliases), LambdaCallback and the
package's exports, driven by the fake fit loop of callback_fakes.py."""
import os
import subprocess
import sys

import pytest
from callback_fakes import FakeModel, fake_fit

from minigrad import callbacks as cbm
from minigrad.callbacks import (
    Callback,
    CallbackList,
    History,
    LambdaCallback,
    ProgbarLogger,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    fake_fit(cbs, model, [{"loss": 0.5}])
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
    fake_fit(cbs, model, [{"loss": 1.0}], steps=3)
    assert seen == [0, 1, 2]


def test_gradient_monitor_is_exported_lazily():
    from minigrad import diagnostics
    assert cbm.GradientMonitor is diagnostics.GradientMonitor
    assert issubclass(cbm.GradientMonitor, Callback)
    with pytest.raises(AttributeError):
        cbm.NoSuchCallback  # noqa: B018


def test_lambda_callback_hooks_receive_the_loop_arguments():
    events = []
    cb = LambdaCallback(on_train_begin=lambda logs: events.append(("begin",)),
                        on_epoch_end=lambda epoch, logs: events.append(("epoch", epoch,
                                                                         logs["loss"])),
                        on_train_batch_end=lambda batch, logs: events.append(("batch", batch)),
                        on_train_end=lambda logs: events.append(("end",)))
    fake_fit([cb], FakeModel(), [{"loss": 0.5}, {"loss": 0.25}], steps=2)
    assert events == [("begin",), ("batch", 0), ("batch", 1), ("epoch", 0, 0.5),
                      ("batch", 0), ("batch", 1), ("epoch", 1, 0.25), ("end",)]


def test_lambda_callback_extra_hooks_and_bad_input():
    seen = []
    cb = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))  # Keras's kwargs
    fake_fit([cb], FakeModel(), [{"loss": 1.0}], steps=3)
    assert seen == [0, 1, 2]
    with pytest.raises(TypeError, match="LambdaCallback: unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="LambdaCallback: on_epoch_end must be callable"):
        LambdaCallback(on_epoch_end=3)


def test_package_exports_and_no_import_cycle():
    # GradientMonitor is reachable from either side first, in a fresh interpreter
    for first in ("minigrad.callbacks", "minigrad.diagnostics"):
        code = (f"import {first}, minigrad.callbacks as c, minigrad.diagnostics as d, sys; "
                f"assert c.GradientMonitor is d.GradientMonitor; "
                f"assert 'tensorboard' not in sys.modules")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    for name in cbm.__all__:
        assert isinstance(getattr(cbm, name), type), name
