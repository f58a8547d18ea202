"""Row helpers shared by the row operations (ops/softmax.py, ops/norm.py), and the ops' one
axis normaliser (``normalize_axes``, also behind the reductions of ops/reduce.py).

A row op reduces over one axis (softmax, batch norm's channels) or several (layer norm's
features). Its kernels take C-contiguous 2-D ``(rows, features)`` arrays: the reduced axes
are moved last and flattened, everything else becomes the rows. For the last axis of a
contiguous array that is a view, never a copy.
"""
import numpy as np


def normalize_axes(name, axis, shape, all_if_none=False, empty_ok=False):
    """THE axis normaliser of the ops: ``axis`` (an int or a sequence of ints; None means
    every axis when ``all_if_none``) for a tensor of ``shape``, as a sorted tuple of distinct
    non-negative axes. TypeError for a non-integer axis; ValueError naming the op, the axis,
    the rank and the shape for one out of range (any axis of a 0-d tensor), a repeated axis,
    or no axis at all unless ``empty_ok`` (numpy's reduce-over-nothing)."""
    ndim = len(shape)
    if axis is None and all_if_none:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        if -ndim <= axis < ndim:            # the common case, kept short: reductions call it
            return (int(axis) % ndim,)
        axes = (axis,)
    else:
        try:
            axes = tuple(axis)
        except TypeError:
            raise TypeError(f"{name}: axis must be an int or a sequence of ints, got "
                            f"{axis!r}") from None
        if not axes and not empty_ok:
            raise ValueError(f"{name}: axis must name at least one axis, got {axis!r}")
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{name}: axis must be an int or a sequence of ints, got {axis!r}")
        if ndim == 0:
            raise ValueError(f"{name}: needs a tensor of rank >= 1 for axis {axis!r}, got a "
                             f"0-d tensor")
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis {a} is out of range for a tensor of rank {ndim} "
                             f"(shape {tuple(shape)}; an int in [-{ndim}, {ndim}) is expected)")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis of a tensor of rank {ndim} "
                         f"(shape {tuple(shape)})")
    return tuple(sorted(out))


def check_axis(name, x, axis):
    """``axis`` (one int) as a non-negative axis of ``x`` (``normalize_axes``' checks)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    return normalize_axes(name, axis, x.shape)[0]


def check_axes(name, x, axis):
    """``axis`` (an int or a sequence of ints) as a sorted tuple of distinct non-negative
    axes of ``x`` (``normalize_axes``)."""
    return normalize_axes(name, axis, x.shape)


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
