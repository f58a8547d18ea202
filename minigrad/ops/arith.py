"""Binary arithmetic with NumPy broadcasting: + - * / **, unary minus, maximum, minimum.

Broadcasting is resolved by numpy in forward and undone once by the engine
(``tensor.unbroadcast``), so each backward is written as if shapes matched.
"""
import numpy as np

from ..function import Function


def _broadcast_error(name, a, b, err):
    return ValueError(f"{name}: operands of shapes {a.shape} and {b.shape} cannot be "
                      f"broadcast together (numpy broadcasting rules): {err}")


class Add(Function):
    """y = a + b.  VJP: da = g, db = g."""

    def forward(self, a, b):
        try:
            return a + b
        except ValueError as e:
            raise _broadcast_error("add", a, b, e) from None

    def backward(self, g):
        return g, g


class Sub(Function):
    """y = a - b.  VJP: da = g, db = -g."""

    def forward(self, a, b):
        try:
            return a - b
        except ValueError as e:
            raise _broadcast_error("sub", a, b, e) from None

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b.  VJP: da = g * b, db = g * a."""

    def forward(self, a, b):
        try:
            y = a * b
        except ValueError as e:
            raise _broadcast_error("mul", a, b, e) from None
        self.save(a, b)
        return y

    def backward(self, g):
        a, b = self.saved
        return (g * b if self.needs_input_grad[0] else None,
                g * a if self.needs_input_grad[1] else None)


class Div(Function):
    """y = a / b.  VJP: da = g / b, db = -g * a / b**2 = -g * y / b."""

    def forward(self, a, b):
        try:
            y = a / b
        except ValueError as e:
            raise _broadcast_error("div", a, b, e) from None
        self.save(b, y)
        return y

    def backward(self, g):
        b, y = self.saved
        da = g / b if self.needs_input_grad[0] else None
        db = -g * y / b if self.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    """y = -x.  VJP: dx = -g."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


class Pow(Function):
    """y = a ** b.  VJP: da = g * b * a**(b-1), 0 where b == 0 (d(a**0)/da = 0, also at a = 0);
    db = g * y * log(a), 0 where a == 0 and b >= 0 (a**b is flat in b there: 0 or 1), as
    PyTorch: one zero base (a relu output) must not turn the exponent's gradient into NaN."""

    def forward(self, a, b):
        try:
            y = a ** b
        except ValueError as e:
            raise _broadcast_error("pow", a, b, e) from None
        self.save(a, b, y)
        return y

    def backward(self, g):
        a, b, y = self.saved
        da = db = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                da = g * b * a ** (b - 1)
                zero = b == 0
                if zero.any():
                    da = np.where(zero, 0.0, da)
            if self.needs_input_grad[1]:
                db = g * y * np.log(a)
                flat = (a == 0) & (b >= 0)
                if flat.any():
                    db = np.where(flat, 0.0, db)
        return da, db


class Maximum(Function):
    """y = maximum(a, b).  VJP: g goes to the larger input; ties share it equally (as
    PyTorch, and as the max reduction here): da = g * w, db = g * (1 - w),
    w = [a > b] + [a == b] / 2."""

    ufunc = staticmethod(np.maximum)

    def forward(self, a, b):
        try:
            y = self.ufunc(a, b)
        except ValueError as e:
            raise _broadcast_error(type(self).__name__.lower(), a, b, e) from None
        self.save(a, b)
        return y

    def backward(self, g):
        a, b = self.saved
        w = (self._wins(a, b) + 0.5 * (a == b)).astype(g.dtype, copy=False)
        return (g * w if self.needs_input_grad[0] else None,
                g * (1.0 - w) if self.needs_input_grad[1] else None)

    @staticmethod
    def _wins(a, b):
        return a > b


class Minimum(Maximum):
    """y = minimum(a, b).  VJP: g goes to the smaller input; ties share it equally."""

    ufunc = staticmethod(np.minimum)

    @staticmethod
    def _wins(a, b):
        return a < b


def add(a, b):
    """a + b with broadcasting."""
    return Add.apply(a, b)


def sub(a, b):
    """a - b with broadcasting."""
    return Sub.apply(a, b)


def mul(a, b):
    """a * b with broadcasting."""
    return Mul.apply(a, b)


def div(a, b):
    """a / b with broadcasting."""
    return Div.apply(a, b)


def neg(x):
    """-x."""
    return Neg.apply(x)


def pow(a, b):  # noqa: A001 - the operator's name
    """a ** b with broadcasting (either side may be a tensor)."""
    return Pow.apply(a, b)


def maximum(a, b):
    """Elementwise max(a, b) with broadcasting; ties share the gradient."""
    return Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise min(a, b) with broadcasting; ties share the gradient."""
    return Minimum.apply(a, b)
