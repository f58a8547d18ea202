"""Merge layers: combine a list of tensors of the same shape (Add, Subtract, Multiply,
Average, Maximum, Minimum), join them (Concatenate) or contract them (Dot).

Elementwise merges broadcast as numpy does, after the batch axis (Keras's rule); every one is
a composition of graph ops (add, mul, maximum, concatenate, matmul), so no merge hand-derives a
gradient.
"""
import numpy as np

from .. import _checks
from ..ops import arith
from ..ops.arith import mul, sub
from ..ops.matmul import matmul
from ..ops.reduce import sum as op_sum
from ..ops.shape import concatenate as op_concatenate
from ..ops.shape import reshape, transpose
from ..ops.unary import clip, sqrt
from .base import Layer


def _broadcast(layer, shapes):
    """The common shape of the inputs (batch axis first, None where unknown)."""
    out = shapes[0][1:]
    for s in shapes[1:]:
        a, b = list(out), list(s[1:])
        n = max(len(a), len(b))
        a, b = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
        dims = []
        for p, q in zip(a, b):
            if p is None or q is None:
                dims.append(None)
            elif p == q or q == 1:
                dims.append(p)
            elif p == 1:
                dims.append(q)
            else:
                raise ValueError(f"{type(layer).__name__} {layer.name!r}: inputs of shapes "
                                 f"{shapes} cannot be merged (they must be equal or "
                                 f"broadcastable after the batch axis)")
        out = tuple(dims)
    return (None,) + tuple(out)


class _Merge(Layer):
    """A layer called on a list of at least ``min_inputs`` tensors."""

    min_inputs, max_inputs = 2, None

    def _check_list(self, shapes):
        if not isinstance(shapes, list) or not all(isinstance(s, tuple) for s in shapes):
            raise ValueError(f"{type(self).__name__} {self.name!r}: expects a list of inputs, "
                             f"got input shape {shapes}")
        n = len(shapes)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = self.min_inputs if self.max_inputs == self.min_inputs else \
                f"at least {self.min_inputs}"
            raise ValueError(f"{type(self).__name__} {self.name!r}: expects {want} inputs, got "
                             f"{n} (shapes {shapes})")

    def build(self, input_shape):
        self._check_list(input_shape)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        return _broadcast(self, input_shape)

    def call(self, inputs, training=False):
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return out


class Add(_Merge):
    """y = x_1 + x_2 + ... + x_n."""

    def _merge(self, a, b):
        return arith.add(a, b)


class Subtract(_Merge):
    """y = x_1 - x_2 (exactly two inputs)."""

    max_inputs = 2

    def _merge(self, a, b):
        return sub(a, b)


class Multiply(_Merge):
    """y = x_1 * x_2 * ... * x_n (elementwise)."""

    def _merge(self, a, b):
        return mul(a, b)


class Average(_Merge):
    """y = (x_1 + ... + x_n) / n."""

    def call(self, inputs, training=False):
        out = inputs[0]
        for x in inputs[1:]:
            out = arith.add(out, x)
        return mul(out, np.asarray(1.0 / len(inputs), dtype=out.data.dtype))


class Maximum(_Merge):
    """y = max(x_1, ..., x_n) elementwise (``ops.maximum``: tied inputs share the gradient)."""

    def _merge(self, a, b):
        return arith.maximum(a, b)


class Minimum(_Merge):
    """y = min(x_1, ..., x_n) elementwise (``ops.minimum``: tied inputs share the gradient)."""

    def _merge(self, a, b):
        return arith.minimum(a, b)


class Concatenate(_Merge):
    """y = the inputs joined along ``axis`` (default -1; other sizes must be equal)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _checks.integer(f"Concatenate {self.name!r}", "axis", axis)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        who = f"Concatenate {self.name!r}"
        rank = len(input_shape[0])
        axis = _checks.axis(who, self.axis, rank)
        if axis == 0:
            raise ValueError(f"{who}: cannot concatenate along the batch axis (axis {self.axis})")
        out = list(input_shape[0])
        for s in input_shape[1:]:
            if len(s) != rank or any(p is not None and q is not None and p != q
                                     for i, (p, q) in enumerate(zip(out, s)) if i not in (0, axis)):
                raise ValueError(f"{who}: inputs of shapes {input_shape} differ outside axis "
                                 f"{self.axis}; all other dimensions must match")
            out[axis] = None if out[axis] is None or s[axis] is None else out[axis] + s[axis]
        return (None,) + tuple(out[1:])

    def call(self, inputs, training=False):
        return op_concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        cfg = super().get_config()
        cfg["axis"] = self.axis
        return cfg


class Dot(_Merge):
    """Batched dot product of two inputs: for each sample, contract axis ``axes[0]`` of the
    first with ``axes[1]`` of the second (an int: the same axis of both); with
    ``normalize=True`` each is first divided by its L2 norm along that axis (cosine
    proximity). Output shape: the remaining axes of x, then of y; (batch, 1) for vectors."""

    max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        who = f"Dot {self.name!r}"
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"{who}: axes must be an int or a pair, got {axes!r}")
            axes = tuple(_checks.integer(who, "axes", a) for a in axes)
        else:
            axes = _checks.integer(who, "axes", axes)
        self.axes = axes
        self.normalize = _checks.boolean(who, "normalize", normalize)

    def _axes_for(self, shapes):
        who = f"Dot {self.name!r}"
        pair = self.axes if isinstance(self.axes, tuple) else (self.axes, self.axes)
        ax = [_checks.axis(who, a, len(s), "axes") for a, s in zip(pair, shapes)]
        if 0 in ax:
            raise ValueError(f"{who}: cannot contract the batch axis (axes {self.axes})")
        return ax

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        (sx, sy), (ax, ay) = input_shape, self._axes_for(input_shape)
        if sx[ax] is not None and sy[ay] is not None and sx[ax] != sy[ay]:
            raise ValueError(f"Dot {self.name!r}: axis {ax} of {sx} and axis {ay} of {sy} "
                             f"differ in size; the contracted axes must match")
        rest = [d for i, d in enumerate(sx) if i not in (0, ax)] + \
            [d for i, d in enumerate(sy) if i not in (0, ay)]
        return (None,) + (tuple(rest) if rest else (1,))

    def call(self, inputs, training=False):
        x, y = inputs
        ax, ay = self._axes_for([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, ax), _l2_normalize(y, ay)
        # x -> (b, M, k), y -> (b, k, N), one batched matmul, back to (b, *m, *n)
        px = [0] + [i for i in range(x.ndim) if i not in (0, ax)] + [ax]
        py = [0, ay] + [i for i in range(y.ndim) if i not in (0, ay)]
        xt, yt = transpose(x, *px), transpose(y, *py)
        m, n = xt.shape[1:-1], yt.shape[2:]
        b, k = x.shape[0], x.shape[ax]
        out = matmul(reshape(xt, b, int(np.prod(m, dtype=np.int64)), k),
                     reshape(yt, b, k, int(np.prod(n, dtype=np.int64))))
        return reshape(out, b, *(tuple(m) + tuple(n) or (1,)))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axes=list(self.axes) if isinstance(self.axes, tuple) else self.axes,
                   normalize=self.normalize)
        return cfg


def _l2_normalize(x, axis):
    """x * rsqrt(max(sum(x^2, axis), eps^2)) with eps = 1e-7, Keras 3's ``normalize``
    (the squared norm clamped, so a zero vector gets a finite gradient)."""
    sq = op_sum(mul(x, x), axis=axis, keepdims=True)
    return mul(x, 1.0 / sqrt(clip(sq, 1e-14, np.inf)))


# ---- Keras's functional forms: ``layers.add([a, b])`` is ``layers.Add()([a, b])`` --------
def add(inputs, **kwargs):
    """y = sum of the inputs (an ``Add`` layer called on them)."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """y = inputs[0] - inputs[1] (a ``Subtract`` layer called on them)."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """y = product of the inputs (a ``Multiply`` layer called on them)."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """y = mean of the inputs (an ``Average`` layer called on them)."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """y = elementwise maximum of the inputs (a ``Maximum`` layer called on them)."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """y = elementwise minimum of the inputs (a ``Minimum`` layer called on them)."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """y = the inputs joined along ``axis`` (a ``Concatenate`` layer called on them)."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Batched dot product of two inputs (a ``Dot`` layer called on them)."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
