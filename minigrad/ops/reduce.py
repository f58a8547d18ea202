"""Reductions with ``axis`` (int, tuple or None) and ``keepdims``: sum, mean, max, min, var."""
import builtins

import numpy as np

from ..function import Function


def _axes(axis, ndim, name):
    """Normalise ``axis`` to a sorted tuple of non-negative axes, checking the range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{name}: axis {a} is out of range for a tensor of rank {ndim}")
        out.append(int(a) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis}")
    return tuple(sorted(out))


def _expand(g, shape, axes):
    """Put the reduced axes back (as size 1) so ``g`` broadcasts against the input."""
    return g.reshape([1 if i in axes else n for i, n in enumerate(shape)])


class Sum(Function):
    """y = sum(x, axes).  VJP: dx = g broadcast over the reduced axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.ndim, "sum")
        self.shape = x.shape
        return np.sum(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return np.broadcast_to(_expand(g, self.shape, self.axes), self.shape)


class Mean(Function):
    """y = mean(x, axes).  VJP: dx = g / N broadcast, N = number of reduced elements."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.ndim, "mean")
        self.shape = x.shape
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        return np.mean(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return np.broadcast_to(_expand(g, self.shape, self.axes) / self.count, self.shape)


class Max(Function):
    """y = max(x, axes).  VJP: g shared equally among the positions that attain the max."""

    reducer = staticmethod(np.max)

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.ndim, type(self).__name__.lower())
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}: empty tensor of shape {x.shape}")
        y = self.reducer(x, axis=self.axes, keepdims=True)
        self.save(x, y)
        return y if keepdims else y.reshape([n for i, n in enumerate(x.shape)
                                             if i not in self.axes])

    def backward(self, g):
        x, y = self.saved
        mask = x == y
        share = mask / mask.sum(axis=self.axes, keepdims=True)
        return _expand(g, x.shape, self.axes) * share


class Min(Max):
    """y = min(x, axes).  VJP: g shared equally among the positions that attain the min."""

    reducer = staticmethod(np.min)


class Var(Function):
    """Population variance y = mean((x - mean(x))**2).  VJP: dx = g * 2 (x - mean) / N."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.ndim, "var")
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        centered = x - x.mean(axis=self.axes, keepdims=True)
        self.save(centered)
        return np.mean(centered * centered, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        (centered,) = self.saved
        return _expand(g, centered.shape, self.axes) * (2.0 / self.count) * centered


def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum over ``axis`` (all axes when None)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Maximum over ``axis``; ties share the gradient equally."""
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum over ``axis``; ties share the gradient equally."""
    return Min.apply(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance over ``axis`` (divides by N, as Keras and numpy)."""
    return Var.apply(x, axis=axis, keepdims=keepdims)
