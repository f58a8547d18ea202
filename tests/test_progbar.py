"""The progress bar (minigrad/progbar.py): in-place redraws, throttling, verbose modes, the
line fitted to a narrow terminal, an unknown total."""
import io
import re

import numpy as np
import pytest
from callback_fakes import TTY

from minigrad.progbar import Progbar


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
