"""Elementwise math: exp, log, sqrt, abs, clip, log1p, expm1, sin, cos (numpy ufuncs: one
pass each)."""
import numpy as np

from ..function import Function


class Exp(Function):
    """y = exp(x).  VJP: dx = g * y."""

    def forward(self, x):
        y = np.exp(x)
        self.save(y)
        return y

    def backward(self, g):
        return g * self.saved[0]


class Log(Function):
    """y = log(x).  VJP: dx = g / x."""

    def forward(self, x):
        self.save(x)
        return np.log(x)

    def backward(self, g):
        return g / self.saved[0]


class Log1p(Function):
    """y = log(1 + x), accurate for small x.  VJP: dx = g / (1 + x)."""

    def forward(self, x):
        self.save(x)
        return np.log1p(x)

    def backward(self, g):
        return g / (1.0 + self.saved[0])


class Expm1(Function):
    """y = exp(x) - 1, accurate for small x.  VJP: dx = g * (y + 1)."""

    def forward(self, x):
        y = np.expm1(x)
        self.save(y)
        return y

    def backward(self, g):
        return g * (self.saved[0] + 1.0)


class Sin(Function):
    """y = sin(x).  VJP: dx = g * cos(x)."""

    def forward(self, x):
        self.save(x)
        return np.sin(x)

    def backward(self, g):
        return g * np.cos(self.saved[0])


class Cos(Function):
    """y = cos(x).  VJP: dx = -g * sin(x)."""

    def forward(self, x):
        self.save(x)
        return np.cos(x)

    def backward(self, g):
        return -g * np.sin(self.saved[0])


class Sqrt(Function):
    """y = sqrt(x).  VJP: dx = g / (2 y)."""

    def forward(self, x):
        y = np.sqrt(x)
        self.save(y)
        return y

    def backward(self, g):
        return g / (2 * self.saved[0])


class Abs(Function):
    """y = |x|.  VJP: dx = g * sign(x) (0 at x = 0, as torch and Keras's l1)."""

    def forward(self, x):
        self.save(x)
        return np.abs(x)

    def backward(self, g):
        return g * np.sign(self.saved[0])


class Clip(Function):
    """y = min(max(x, lo), hi).  VJP: dx = g where lo <= x <= hi, else 0."""

    def forward(self, x, lo=None, hi=None):
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lower bound {lo} is above upper bound {hi}")
        # bounds take x's dtype (a numpy float64 bound would promote a float32 x)
        lo = None if lo is None else x.dtype.type(lo)
        hi = None if hi is None else x.dtype.type(hi)
        self.save(x)
        self.lo, self.hi = lo, hi
        return np.clip(x, lo, hi)

    def backward(self, g):
        (x,) = self.saved
        keep = np.ones(x.shape, dtype=bool)
        if self.lo is not None:
            keep &= x >= self.lo
        if self.hi is not None:
            keep &= x <= self.hi
        return g * keep


def exp(x):
    """Elementwise e**x."""
    return Exp.apply(x)


def log(x):
    """Elementwise natural logarithm."""
    return Log.apply(x)


def log1p(x):
    """Elementwise log(1 + x)."""
    return Log1p.apply(x)


def expm1(x):
    """Elementwise exp(x) - 1."""
    return Expm1.apply(x)


def sin(x):
    """Elementwise sine."""
    return Sin.apply(x)


def cos(x):
    """Elementwise cosine."""
    return Cos.apply(x)


def sqrt(x):
    """Elementwise square root."""
    return Sqrt.apply(x)


def abs(x):  # noqa: A001 - the builtin's name, as numpy and torch
    """Elementwise |x|."""
    return Abs.apply(x)


def clip(x, lo, hi):
    """Elementwise clip to [lo, hi] (either bound may be None)."""
    return Clip.apply(x, lo=lo, hi=hi)
