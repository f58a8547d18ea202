"""Row helpers shared by the row operations (ops/softmax.py, ops/norm.py).

A row op reduces over one axis (softmax, batch norm's channels) or several (layer norm's
features). Its kernels take C-contiguous 2-D ``(rows, features)`` arrays: the reduced axes
are moved last and flattened, everything else becomes the rows. For the last axis of a
contiguous array that is a view, never a copy.
"""
import numpy as np


def check_axis(name, x, axis):
    """``axis`` as a non-negative int for ``x``; ValueError naming the op otherwise."""
    if x.ndim == 0:
        raise ValueError(f"{name}: needs a tensor of rank >= 1, got a 0-d tensor")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{name}: axis {axis!r} is out of range for a tensor of shape "
                         f"{x.shape} (an int in [-{x.ndim}, {x.ndim}) is expected)")
    return int(axis) % x.ndim


def check_axes(name, x, axis):
    """``axis`` (an int or a sequence of ints) as a sorted tuple of distinct non-negative
    axes of ``x``; ValueError naming the op otherwise."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if not axes:
        raise ValueError(f"{name}: axis must name at least one axis, got {axis!r}")
    out = sorted(check_axis(name, x, a) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis of a tensor of shape "
                         f"{x.shape}")
    return tuple(out)


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def to_rows(a, axis):
    """(C-contiguous ``(rows, features)`` array, the moved shape) with ``axis`` (an int, or
    a sorted tuple of axes) moved last. The row count is explicit: ``reshape(-1, 0)`` is
    ambiguous when a feature axis is empty."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    k, nd = len(axes), a.ndim
    if axes == tuple(range(nd - k, nd)) and a.flags.c_contiguous:
        if nd == 2 and k == 1:
            return a, a.shape
        moved = a
    else:
        moved = np.moveaxis(a, axes, tuple(range(nd - k, nd)))
    rows = np.ascontiguousarray(moved).reshape(_prod(moved.shape[:nd - k]),
                                               _prod(moved.shape[nd - k:]))
    return rows, moved.shape


def from_rows(rows, shape, axis):
    """The inverse of ``to_rows``: ``rows`` reshaped to the moved ``shape``, axes put back."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    k, nd = len(axes), len(shape)
    out = rows if rows.shape == shape else rows.reshape(shape)
    if axes == tuple(range(nd - k, nd)):
        return out
    return np.moveaxis(out, tuple(range(nd - k, nd)), axes)
