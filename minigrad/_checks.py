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


def shape(owner, value, why="it must be fully defined"):
    """A shape: an int or a sequence of non-negative ints, as a tuple. TypeError for a
    non-sequence; ValueError for a None entry (``why`` says why it may not be None) or a
    negative or non-integer one."""
    import numpy as np
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    try:
        dims = tuple(value)
    except TypeError:
        raise TypeError(f"{owner}: shape must be a tuple of integers, got {value!r}") from None
    if any(d is None for d in dims):
        raise ValueError(f"{owner}: shape {dims} must be fully defined, without None "
                         f"dimensions ({why})")
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in dims):
        raise ValueError(f"{owner}: shape {value!r} must hold non-negative integers")
    return tuple(int(d) for d in dims)


def dtype(owner, value, floating=False):
    """A dtype's name; None is ``config.floatx()``. ValueError for an unknown dtype, or (with
    ``floating``) a non-float one."""
    import numpy as np

    from . import config
    if value is None:
        return config.floatx()
    try:
        dt = np.dtype(value)
    except TypeError:
        raise ValueError(f"{owner}: invalid dtype {value!r}") from None
    if floating and dt.kind != "f":
        raise ValueError(f"{owner} requires a floating point dtype, got dtype={value!r}")
    return dt.name


def noise_shape(owner, value, input_shape):
    """The mask shape for an input of ``input_shape`` from a Keras ``noise_shape`` (None: the
    input's shape; a None entry takes the input's size there). It must have the input's rank
    and broadcast to it (each entry 1 or the input's size); the ValueError names ``owner``."""
    if value is None:
        return tuple(input_shape)
    value = tuple(value)
    if len(value) != len(input_shape):
        raise ValueError(f"{owner}: noise_shape {value} and the input shape {input_shape} "
                         f"have different ranks")
    mask = tuple(n if d is None else int(d) for d, n in zip(value, input_shape))
    if any(m not in (1, n) for m, n in zip(mask, input_shape)):
        raise ValueError(f"{owner}: noise_shape {value} does not broadcast to the input "
                         f"shape {input_shape} (each entry must be None, 1 or the input's size)")
    return mask
