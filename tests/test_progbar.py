"""The progress bar (minigrad/progbar.py): in-place redraws, throttling, verbose modes, the
line fitted to a narrow terminal, an unknown total."""
import io
import re

import numpy as np
import pytest
from callback_fakes import TTY, FakeClock

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


# ---- the line on a narrow terminal ----------------------------------------------------------

def screen(text, columns):
    """The rows a terminal ``columns`` wide shows after ``text``, emulated independently of
    the bar: a character past the right margin wraps to a new row (xterm's deferred
    auto-wrap), ``\\r`` returns to the start of the cursor's row, ``\\n`` starts a new row,
    colour codes take no room."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    rows, col = [[]], 0
    for ch in text:
        if ch == "\r":
            col = 0
        elif ch == "\n":
            rows.append([])
            col = 0
        else:
            if col == columns:
                rows.append([])
                col = 0
            row = rows[-1]
            if col < len(row):
                row[col] = ch
            else:
                row.append(ch)
            col += 1
    return ["".join(r).rstrip() for r in rows if r or r is not rows[-1]]


def _epoch_on_terminal(monkeypatch, columns, steps=100, metrics=("accuracy", "loss")):
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setattr("minigrad.progbar.time", FakeClock(tick=0.1))   # every step drawn
    stream = TTY()
    bar = Progbar(steps, stream=stream, stateful_metrics=True)
    for i in range(1, steps + 1):
        bar.update(i, [(m, 0.5 + 0.001 * i) for m in metrics], finalize=False)
    final = [(m, 0.6) for m in metrics] + [("val_" + m, 0.7) for m in metrics]
    bar.update(steps, final, finalize=True)
    return stream.getvalue()


def test_narrow_terminal_leaves_no_trail_of_wrapped_rows(monkeypatch):
    # two metrics, one with Keras's long name: a 98-character line on an 80-column terminal
    out = _epoch_on_terminal(monkeypatch, 80, metrics=("sparse_categorical_accuracy", "loss"))
    frames = [re.sub(r"\x1b\[[0-9;]*m", "", f).rstrip() for f in out.split("\r")[1:]]
    assert len(frames) == 101
    assert all(len(f) <= 79 for f in frames[:-1])     # every redraw fits the terminal
    final = frames[-1]
    assert len(final) > 80                            # the final line is written in full ...
    rows = screen(out, 80)
    assert rows == [final[:80].rstrip(), final[80:]]  # ... and nothing else stays on screen
    assert "val_loss: 0.7000" in final and "100/100" in final


def test_the_old_full_width_line_would_wrap_into_a_trail(monkeypatch):
    # the emulator's check of the problem this fixes: full lines of ~90 characters
    # redrawn with \r on an 80-column terminal leave one row per redraw
    line = ("\r 50/100 " + "━" * 20
            + " 5s 10ms/step - sparse_categorical_accuracy: 0.5000 - loss: 0.6931")
    assert len(screen(line * 16, 80)) == 17


# three metrics: the full line ' 50/100 <20 cells> 5s 102ms/step - accuracy: 0.5500 - loss:
# 0.5500 - mae: 0.5500' has 90 characters; a redraw may use columns - 1
@pytest.mark.parametrize("columns, bar_cells, per_step, cut", [
    (200, 20, True, False),   # wide: the Keras line unchanged
    (91, 20, True, False),    # exactly fits
    (90, 19, True, False),    # the bar shrinks first, one cell per missing column
    (80, 9, True, False),
    (70, 0, True, False),     # a bar under 4 cells is dropped with its space
    (60, 0, False, False),    # then the time per step goes
    (40, 0, False, True),     # then the metrics are cut, ending in an ellipsis
    (12, 0, False, False),    # count and ETA only (no room for even the ellipsis)
])
def test_redrawn_line_gives_way_in_order(monkeypatch, columns, bar_cells, per_step, cut):
    out = _epoch_on_terminal(monkeypatch, columns, metrics=("accuracy", "loss", "mae"))
    frame = re.sub(r"\x1b\[[0-9;]*m", "", out.split("\r")[50]).rstrip()
    assert frame.startswith(" 50/100")
    assert len(frame) <= columns - 1
    assert frame.count("━") == bar_cells
    assert ("ms/step" in frame or "us/step" in frame) == per_step
    assert frame.endswith("…") == cut
    if columns >= 60:
        assert frame.endswith("loss: 0.5500 - mae: 0.5500")


def test_non_terminal_lines_are_never_shortened(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    stream = io.StringIO()
    bar = Progbar(4, interval=0.0, stream=stream)
    bar.update(2, [("accuracy", 0.5), ("loss", 0.25)])
    line = stream.getvalue().splitlines()[0]
    assert line.count("━") == 20 and line.endswith("loss: 0.2500")


# ---- an unknown total (generators) ----------------------------------------------------------

def test_unknown_target_is_shown_as_keras_shows_it(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr("minigrad.progbar.time", FakeClock(tick=0.1))
    stream = TTY()
    bar = Progbar(None, stream=stream, stateful_metrics=True)
    for i in range(1, 4):
        bar.update(i, [("loss", 1.0 / i)])
    frames = [re.sub(r"\x1b\[[0-9;]*m", "", f) for f in stream.getvalue().split("\r")[1:]]
    # Keras: "%7d/Unknown", no bar, the elapsed time instead of an ETA
    assert [f[:15] for f in frames] == ["      1/Unknown", "      2/Unknown", "      3/Unknown"]
    assert re.fullmatch(r"      3/Unknown \d+s \d+ms/step - loss: 0\.3333 *", frames[-1])
    assert "━" not in stream.getvalue() and "\n" not in stream.getvalue()
    bar.update(3, [("loss", 0.25)], finalize=True)   # finalize is explicit when unknown
    assert stream.getvalue().endswith("loss: 0.2500\n")
    assert Progbar(0, stream=io.StringIO()).target == 0   # 0 is shown as unknown too
