"""A Keras-style progress bar: ``  12/47 ━━━━━━━━━━━━━━━━━━━━ 1s 20ms/step - loss: 0.5123``.

verbose=1 draws one bar per epoch. On a terminal (``stream.isatty()``) the bar is redrawn in
place with ``\\r``; otherwise each redraw is a new line. Either way a redraw happens at most
once per ``interval`` seconds (Keras's 50 ms), plus the final line, so a fast training loop
pays for one clock read per batch and nothing else. On a terminal narrower than the line, a
redrawn line is shortened to fit (``_fit_line``), so it never wraps into a trail of rows. An
unknown ``target`` (None, or 0) is shown as Keras shows it: ``n/Unknown``, no bar.
verbose=2 prints one line when the bar is finalized; verbose=0 prints nothing.

Values not listed in ``stateful_metrics`` are shown as their running mean weighted by the
steps since the previous update: ``mean = sum(v_k * dsteps_k) / sum(dsteps_k)`` (Keras's
rule); stateful values (and every value given with ``finalize=True``) are shown as they are.
"""
import math
import os
import shutil
import sys
import time

from . import _checks

_BAR = "━"
_WIDTH = 20


def _format_value(v):
    """Keras's metric format: 4 decimals, or scientific notation for tiny magnitudes."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return f" {v}"
    return f" {v:.4f}" if abs(v) > 1e-3 else f" {v:.4e}"


def format_time_per_unit(seconds, unit_name="step"):
    """`` 20ms/step`` style: whole seconds, milliseconds or microseconds per unit."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def _format_eta(eta):
    eta = int(eta)
    if eta > 3600:
        return f"{eta // 3600}:{eta % 3600 // 60:02d}:{eta % 60:02d}"
    if eta > 60:
        return f"{eta // 60}:{eta % 60:02d}"
    return f"{eta}s"


def _terminal_columns(stream):
    """The terminal's width: ``$COLUMNS`` if set (as ``shutil.get_terminal_size``), else the
    size of the terminal behind ``stream``, else of stdout's (80 when none is known)."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size().columns


_ELLIPSIS = "…"


def _fit_line(columns, count_len, width, timing, per_unit, metrics):
    """(bar width, per-unit text, metrics text) so that the redrawn line fits ``columns``
    characters: a line longer than the terminal wraps, and ``\\r`` returns only to the start
    of its last row, so every redraw would leave a row behind. Given up in this order: the
    bar shrinks (to nothing), the time per step goes, then the metrics are cut at the right
    and end in an ellipsis. The count and the ETA always stay; the final line of an epoch is
    written in full (it is never redrawn, so wrapping it leaves no trail)."""
    def length(w, unit, text):
        return count_len + (1 + w if w else 0) + len(timing) + len(unit) + len(text)

    excess = length(width, per_unit, metrics) - columns
    if excess <= 0:
        return width, per_unit, metrics
    if width:
        width = max(width - excess, 0)
        if width < 4:   # a bar of a few cells says nothing: drop it with its space
            width = 0
        if length(width, per_unit, metrics) <= columns:
            return width, per_unit, metrics
    if length(0, "", metrics) <= columns:
        return 0, "", metrics
    room = columns - length(0, "", "")
    if room <= len(_ELLIPSIS):
        return 0, "", ""
    return 0, "", metrics[:room - len(_ELLIPSIS)] + _ELLIPSIS


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (ValueError, OSError):   # a closed stream
        return False


class Progbar:
    """Progress bar for ``target`` steps (``None``: unknown, shown as ``n/Unknown``).

    ``update(current, values=None, finalize=None)``: ``current`` is the number of steps done,
    ``values`` a list of ``(name, value)`` pairs; ``finalize`` defaults to
    ``current >= target``. ``stateful_metrics``: names whose values are shown as given
    rather than averaged, or ``True`` for all of them. ``stream`` defaults to ``sys.stdout``
    at construction time.
    """

    def __init__(self, target, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", width=_WIDTH, stream=None):
        verbose = _checks.choice("Progbar", "verbose", verbose, (0, 1, 2))
        self.target = target
        self.verbose = verbose
        self.interval = interval
        self._all_stateful = stateful_metrics is True
        self.stateful_metrics = set() if self._all_stateful else set(stateful_metrics or ())
        self.unit_name = unit_name
        self.width = width
        self.stream = sys.stdout if stream is None else stream
        self._dynamic = _is_terminal(self.stream)
        self._values = {}          # name -> [weighted sum, weight]
        self._seen = 0
        self._prev_width = 0
        self._start = time.monotonic()
        self._last_update = self._start   # no line before ``interval`` has passed
        self._after_first = None         # time when step 1 finished (excludes compile time)

    def update(self, current, values=None, finalize=None):
        """Record ``values`` at step ``current`` and redraw if a redraw is due.

        When every value is stateful (``stateful_metrics=True``) nothing but the clock is
        read unless a line is printed: the per-batch cost of a fast loop."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values and not self._all_stateful:
            self._accumulate(current, values, finalize)   # averages need every step
            values = None
        if current == 1 and self._after_first is None:
            self._after_first = time.monotonic()
        self._seen = current
        if self.verbose == 0 or (self.verbose == 2 and not finalize):
            return
        now = time.monotonic()
        if not finalize and now - self._last_update < self.interval:
            return
        self._last_update = now
        if values:
            self._accumulate(current, values, finalize)
        if self.verbose == 1:
            self._draw(current, now, finalize)
        else:
            self.write(self._summary_line(current, now))

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen + n, values)

    # ---- internals --------------------------------------------------------------------
    def _accumulate(self, current, values, finalize):
        weight = max(current - self._seen, 1)
        table = self._values
        for k, v in values:
            if finalize or self._all_stateful or k in self.stateful_metrics:
                table[k] = [v, 1]
            else:
                acc = table.get(k)
                if acc is None:
                    table[k] = [v * weight, weight]
                else:
                    acc[0] += v * weight
                    acc[1] += weight

    def _metrics_text(self):
        parts = []
        for k, (total, weight) in self._values.items():
            try:
                value = total / max(1, weight)
            except TypeError:
                value = total
            parts.append(f" - {k}:{_format_value(value)}")
        return "".join(parts)

    def _time_per_step(self, current, now):
        if not current:
            return 0.0
        if self._after_first is not None and current > 1:
            return (now - self._after_first) / (current - 1)
        return (now - self._start) / current

    def _count(self, current):
        digits = int(math.log10(self.target)) + 1 if self.target else 1
        return f"{current:{digits}d}/{self.target}"

    def _draw(self, current, now, finalize):
        per_step = self._time_per_step(current, now)
        known = bool(self.target)   # Keras shows a target of 0 as unknown too
        if known and not finalize:
            elapsed = _format_eta(per_step * (self.target - current))
        else:
            elapsed = f"{now - self._start:.0f}s"
        count = self._count(current) if known else f"{current:7d}/Unknown"
        timing = f" {elapsed}"
        per_unit = format_time_per_unit(per_step, self.unit_name)
        metrics = self._metrics_text()
        width = self.width if known else 0
        if self._dynamic and not finalize:
            width, per_unit, metrics = _fit_line(_terminal_columns(self.stream) - 1,
                                                 len(count), width, timing, per_unit, metrics)
        filled = min(int(width * current / self.target), width) if known else 0
        if width and self._dynamic:
            # bold count, green done part, grey rest (as Keras); only on a terminal
            bar = (f"\x1b[1m{count}\x1b[0m \x1b[32m{_BAR * filled}\x1b[0m"
                   f"\x1b[37m{_BAR * (width - filled)}\x1b[0m")
        elif width:
            bar = f"{count} {_BAR * filled}{_BAR * (width - filled)}"
        else:
            bar = count
        info = timing + per_unit + metrics
        visible = len(count) + (1 + width if width else 0) + len(info)
        if self._dynamic:
            pad = " " * max(self._prev_width - visible, 0)
            self.write("\r" + bar + info + pad + ("\n" if finalize else ""))
        else:
            self.write(bar + info + "\n")
        self._prev_width = visible

    def _summary_line(self, current, now):
        count = self._count(current) if self.target else f"{current}"
        per_step = self._time_per_step(current, now)
        return (f"{count} - {now - self._start:.0f}s -"
                + format_time_per_unit(per_step, self.unit_name)
                + self._metrics_text() + "\n")

    def write(self, text):
        """Write ``text`` to the stream and flush (also used for the "Epoch i/N" lines)."""
        self.stream.write(text)
        self.stream.flush()
