"""Reductions with ``axis`` (int, tuple or None) and ``keepdims``: sum, mean, max, min, var,
prod, the Euclidean norm; and the running sum ``cumsum``."""

import numpy as np

from ..function import Function
from ._rows import normalize_axes


def _axes(axis, shape, name):
    """``axis`` (int, sequence or None: every axis; ``()`` reduces nothing, as numpy) as a
    sorted tuple of non-negative axes (``_rows.normalize_axes``)."""
    return normalize_axes(name, axis, shape, all_if_none=True, empty_ok=True)


def _expand(g, shape, axes):
    """Put the reduced axes back (as size 1) so ``g`` broadcasts against the input."""
    return g.reshape([1 if i in axes else n for i, n in enumerate(shape)])


class Sum(Function):
    """y = sum(x, axes).  VJP: dx = g broadcast over the reduced axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.shape, "sum")
        self.shape = x.shape
        return np.sum(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return np.broadcast_to(_expand(g, self.shape, self.axes), self.shape)


class Mean(Function):
    """y = mean(x, axes).  VJP: dx = g / N broadcast, N = number of reduced elements."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.shape, "mean")
        self.shape = x.shape
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        return np.mean(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return np.broadcast_to(_expand(g, self.shape, self.axes) / self.count, self.shape)


class Max(Function):
    """y = max(x, axes).  VJP: g shared equally among the positions that attain the max."""

    reducer = staticmethod(np.max)

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.shape, type(self).__name__.lower())
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
        self.axes = _axes(axis, x.shape, "var")
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        centered = x - x.mean(axis=self.axes, keepdims=True)
        self.save(centered)
        return np.mean(centered * centered, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        (centered,) = self.saved
        return _expand(g, centered.shape, self.axes) * (2.0 / self.count) * centered


class Prod(Function):
    """y = prod(x, axes).  VJP: dx_i = g * prod_{j != i} x_j over the reduced group, from
    exclusive running products from the left and from the right (exact when x has zeros,
    where g * y / x would divide by zero)."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.shape, "prod")
        self.save(x)
        return np.prod(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        (x,) = self.saved
        kept = [i for i in range(x.ndim) if i not in self.axes]
        perm = kept + list(self.axes)
        moved = np.transpose(x, perm)
        n = int(np.prod([x.shape[a] for a in self.axes]))
        rows = moved.reshape(int(np.prod([x.shape[a] for a in kept])), n)  # n may be 0
        left = np.ones_like(rows)
        right = np.ones_like(rows)
        if n > 1:
            np.cumprod(rows[:, :-1], axis=1, out=left[:, 1:])
            np.cumprod(rows[:, :0:-1], axis=1, out=right[:, -2::-1])
        gr = _expand(g, x.shape, self.axes).reshape(-1, 1)
        dx = (left * right * gr).reshape(moved.shape)
        return np.transpose(dx, np.argsort(perm))


class Norm(Function):
    """Euclidean norm y = sqrt(sum(x**2, axes)).  VJP: dx = g * x / y, and 0 where y == 0
    (the subgradient PyTorch takes: a zero vector must not make the gradient NaN)."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _axes(axis, x.shape, "norm")
        y = np.sqrt(np.sum(x * x, axis=self.axes, keepdims=True))
        self.save(x, y)
        return y if keepdims else y.reshape([n for i, n in enumerate(x.shape)
                                             if i not in self.axes])

    def backward(self, g):
        x, y = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(y > 0, _expand(g, x.shape, self.axes) / y, 0.0)
        return x * scale.astype(x.dtype, copy=False)


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along ``axis``.  VJP: dx_i = sum_{j >= i} g_j (the running sum
    of g from the end)."""

    def forward(self, x, axis=0):
        if x.ndim == 0:
            raise ValueError("cumsum: needs a tensor of rank >= 1, got a 0-d tensor")
        self.axis = _axes(axis, x.shape, "cumsum")[0]
        return np.cumsum(x, axis=self.axis)

    def backward(self, g):
        flipped = np.flip(g, self.axis)
        return np.flip(np.cumsum(flipped, axis=self.axis), self.axis)


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


def prod(x, axis=None, keepdims=False):
    """Product over ``axis`` (all axes when None)."""
    return Prod.apply(x, axis=axis, keepdims=keepdims)


def norm(x, axis=None, keepdims=False):
    """Euclidean norm sqrt(sum(x**2)) over ``axis``; zero gradient at a zero vector."""
    return Norm.apply(x, axis=axis, keepdims=keepdims)


def cumsum(x, axis=0):
    """Running sum along ``axis``."""
    return Cumsum.apply(x, axis=axis)
