"""A Keras-style progress bar: ``  12/47 ━━━━━━━━━━━━━━━━━━━━ 1s 20ms/step - loss: 0.5123``.

verbose=1 draws one bar per epoch. On a terminal (``stream.isatty()``) the bar is redrawn in
place with ``\\r``; otherwise each redraw is a new line. Either way a redraw happens at most
once per ``interval`` seconds (Keras's 50 ms), plus the final line, so a fast training loop
pays for one clock read per batch and nothing else. verbose=2 prints one line when the bar is
finalized; verbose=0 prints nothing.

Values not listed in ``stateful_metrics`` are shown as their running mean weighted by the
steps since the previous update: ``mean = sum(v_k * dsteps_k) / sum(dsteps_k)`` (Keras's
rule); stateful values (and every value given with ``finalize=True``) are shown as they are.
"""
import math
import sys
import time

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
        if verbose not in (0, 1, 2):
            raise ValueError(f"Progbar: verbose must be 0, 1 or 2, got {verbose!r}")
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
        if self.target is not None:
            filled = min(int(self.width * current / self.target), self.width) if self.target else 0
            count = self._count(current)
            bar_done, bar_todo = _BAR * filled, _BAR * (self.width - filled)
            if self._dynamic:
                # bold count, green done part, grey rest (as Keras); only on a terminal
                bar = (f"\x1b[1m{count}\x1b[0m \x1b[32m{bar_done}\x1b[0m"
                       f"\x1b[37m{bar_todo}\x1b[0m")
            else:
                bar = f"{count} {bar_done}{bar_todo}"
            visible = len(count) + 1 + self.width
        else:
            bar = f"{current:7d}/Unknown"
            visible = len(bar)
        if self.target is not None and not finalize:
            elapsed = _format_eta(per_step * (self.target - current))
        else:
            elapsed = f"{now - self._start:.0f}s"
        info = (f" {elapsed}" + format_time_per_unit(per_step, self.unit_name)
                + self._metrics_text())
        width = visible + len(info)
        if self._dynamic:
            pad = " " * max(self._prev_width - width, 0)
            self.write("\r" + bar + info + pad + ("\n" if finalize else ""))
        else:
            self.write(bar + info + "\n")
        self._prev_width = width

    def _summary_line(self, current, now):
        count = self._count(current) if self.target is not None else f"{current}"
        per_step = self._time_per_step(current, now)
        return (f"{count} - {now - self._start:.0f}s -"
                + format_time_per_unit(per_step, self.unit_name)
                + self._metrics_text() + "\n")

    def write(self, text):
        """Write ``text`` to the stream and flush (also used for the "Epoch i/N" lines)."""
        self.stream.write(text)
        self.stream.flush()
