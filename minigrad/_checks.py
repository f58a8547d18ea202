"""Argument checks shared by every layer, op, optimizer, regularizer and callback.

One rule everywhere: a value of the wrong *type* raises TypeError, a value of the right type
that is out of range raises ValueError. Every message names the owner (``"Dense 'dense'"``,
``"SGD"``, ``"leaky_relu"``), the argument, the value given and what was expected.
"""
import math
import numbers

# float32's smallest normal: optimizer slots decaying below it are flushed to 0 (subnormal
# arithmetic made a fused Adam update 45x slower), and the one "tiny" constant elsewhere.
TINY = 1.1754943508222875e-38


def number(owner, name, value, *, finite=True):
    """``value`` as a float: TypeError for a non-number (bools included), ValueError for a
    non-finite one unless ``finite=False``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")
    return value


def in_range(owner, name, value, lo=None, hi=None, *, lo_open=False, hi_open=False):
    """``value`` as a finite float in the interval [lo, hi]; ``None`` leaves a side open, and
    ``lo_open``/``hi_open`` exclude the end point."""
    value = number(owner, name, value)
    below = lo is not None and (value < lo or (lo_open and value == lo))
    above = hi is not None and (value > hi or (hi_open and value == hi))
    if below or above:
        left = "(" if lo_open or lo is None else "["
        right = ")" if hi_open or hi is None else "]"
        lo_s = "-inf" if lo is None else lo
        hi_s = "inf" if hi is None else hi
        raise ValueError(f"{owner}: {name} must be in {left}{lo_s}, {hi_s}{right}, got {value!r}")
    return value


def nonneg(owner, name, value):
    """``value`` as a finite float >= 0."""
    return in_range(owner, name, value, 0.0)


def positive(owner, name, value):
    """``value`` as a finite float > 0."""
    return in_range(owner, name, value, 0.0, lo_open=True)


def rate(owner, name, value, *, hi_open=False):
    """A probability-like rate in [0, 1] (or [0, 1) with ``hi_open``)."""
    return in_range(owner, name, value, 0.0, 1.0, hi_open=hi_open)


def integer(owner, name, value, lo=None, hi=None):
    """``value`` as an int (numpy integers accepted, bools and floats refused) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an integer, got {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        lo_s = "-inf" if lo is None else lo
        hi_s = "inf" if hi is None else hi
        raise ValueError(f"{owner}: {name} must be an integer in [{lo_s}, {hi_s}], got {value!r}")
    return value


def boolean(owner, name, value):
    """``value`` as a bool (numpy bools accepted)."""
    if not isinstance(value, (bool, numbers.Integral)) or value not in (0, 1):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def choice(owner, name, value, choices):
    """``value`` if it is one of ``choices`` (strings compared as given), else ValueError
    listing them; TypeError when ``value`` is not even of the choices' type."""
    kinds = {type(c) for c in choices}
    if not any(isinstance(value, k) for k in kinds):
        raise TypeError(f"{owner}: {name} must be one of {list(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {list(choices)}, got {value!r}")
    return value


def axis(owner, value, ndim, name="axis"):
    """A non-negative axis index for an array of rank ``ndim`` (negative counts from the end)."""
    value = integer(owner, name, value)
    if not -ndim <= value < ndim:
        raise ValueError(f"{owner}: {name} {value} is out of range for an input of rank {ndim} "
                         f"(expected {-ndim} <= {name} < {ndim})")
    return value % ndim


def callable_name(owner, fn, what="callable"):
    """The name under which a custom callable is saved; a lambda or nameless callable raises
    at save time (it could never be found again on load)."""
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():   # "<lambda>", a bare object
        raise ValueError(f"{owner}: cannot save the {what} {fn!r}: it has no usable name, so "
                         "it cannot be saved; use a named function (def) and pass it to load "
                         "via custom_objects")
    return name
