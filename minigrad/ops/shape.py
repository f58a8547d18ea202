"""Shape ops: reshape, flatten, transpose, indexing, concatenate, stack, where, cast,
broadcast_to."""
import numpy as np

from ..function import Function


def _shape_arg(shape):
    """Accept ``reshape(2, 3)`` and ``reshape((2, 3))`` as numpy does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """y = reshape(x, shape).  VJP: dx = reshape(g, x.shape)."""

    def forward(self, x, shape=()):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                             f"({x.size} elements) into shape {shape}") from None

    def backward(self, g):
        return g.reshape(self.in_shape)


class Transpose(Function):
    """y = transpose(x, axes).  VJP: dx = transpose(g, argsort(axes))."""

    def forward(self, x, axes=None):
        if axes is not None and sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{x.ndim} axes of a tensor of shape {x.shape}")
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, g):
        if self.axes is None:
            return np.transpose(g)
        return np.transpose(g, np.argsort([a % g.ndim for a in self.axes]))


def _index_arg(index):
    """Tensors inside an index become their arrays."""
    from ..tensor import Tensor
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, np.ndarray)) for p in parts)


class GetItem(Function):
    """y = x[index] (basic or integer-array indexing).

    VJP: dx = zeros, then g scattered back; with integer arrays ``np.add.at`` adds the
    gradient of repeated indices instead of overwriting it."""

    casts_ints = False

    def forward(self, x, index=None):
        self.index, self.shape = index, x.shape
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"getitem: index {index!r} on a tensor of shape {x.shape}: "
                             f"{e}") from None

    def backward(self, g):
        dx = np.zeros(self.shape, dtype=g.dtype)
        if _is_advanced(self.index):
            np.add.at(dx, self.index, g)
        else:
            dx[self.index] = g
        return dx


class Concatenate(Function):
    """y = concatenate(xs, axis).  VJP: dx_i = the slice of g that x_i filled."""

    def forward(self, *xs, axis=0):
        try:
            y = np.concatenate(xs, axis=axis)
        except (ValueError, np.exceptions.AxisError) as e:
            raise ValueError(f"concatenate: shapes {[x.shape for x in xs]} along axis "
                             f"{axis}: {e}") from None
        self.axis = axis % y.ndim
        self.bounds = np.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return y

    def backward(self, g):
        return tuple(np.split(g, self.bounds, axis=self.axis))


class Stack(Function):
    """y = stack(xs, axis).  VJP: dx_i = g taken at position i along ``axis``."""

    def forward(self, *xs, axis=0):
        try:
            y = np.stack(xs, axis=axis)
        except (ValueError, np.exceptions.AxisError) as e:
            raise ValueError(f"stack: shapes {[x.shape for x in xs]} along axis {axis}: "
                             f"{e}") from None
        self.axis = axis % y.ndim
        return y

    def backward(self, g):
        return tuple(np.moveaxis(g, self.axis, 0))


class Where(Function):
    """y = where(cond, a, b).  VJP: da = g where cond, db = g where not cond."""

    def forward(self, a, b, cond=None):
        try:
            y = np.where(cond, a, b)
        except ValueError as e:
            raise ValueError(f"where: condition {np.shape(cond)} and operands {a.shape}, "
                             f"{b.shape} cannot be broadcast together: {e}") from None
        self.cond = np.broadcast_to(cond, y.shape)
        return y

    def backward(self, g):
        zero = np.zeros((), dtype=g.dtype)
        return (np.where(self.cond, g, zero) if self.needs_input_grad[0] else None,
                np.where(self.cond, zero, g) if self.needs_input_grad[1] else None)


class Cast(Function):
    """y = x converted to ``dtype``.  VJP: dx = g converted back to x's dtype."""

    casts_ints = False

    def forward(self, x, dtype=None):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.in_dtype)


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (numpy rules; a new array).  VJP: dx = g, summed back to
    x's shape by the engine's unbroadcast."""

    def forward(self, x, shape=()):
        try:
            return np.broadcast_to(x, shape).copy()
        except ValueError:
            raise ValueError(f"broadcast_to: a tensor of shape {x.shape} cannot be broadcast "
                             f"to shape {tuple(shape)} (numpy broadcasting rules)") from None

    def backward(self, g):
        return g


def reshape(x, *shape):
    """Reshape (one -1 allowed); ``reshape(x, 2, 3)`` or ``reshape(x, (2, 3))``."""
    return Reshape.apply(x, shape=_shape_arg(shape))


def flatten(x, start_dim=1):
    """Collapse the axes from ``start_dim`` on into one (row-major, as Keras's Flatten)."""
    shape = x.shape
    return Reshape.apply(x, shape=tuple(shape[:start_dim]) + (-1,))


def transpose(x, *axes):
    """Permute axes (reverse them when none are given)."""
    axes = _shape_arg(axes)
    return Transpose.apply(x, axes=axes or None)


def getitem(x, index):
    """``x[index]``: basic slicing and integer-array indexing."""
    return GetItem.apply(x, index=_index_arg(index))


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors along a new axis."""
    return Stack.apply(*tensors, axis=axis)


def where(cond, a, b):
    """Elementwise ``a if cond else b`` (cond: bool array or Tensor, no gradient)."""
    return Where.apply(a, b, cond=np.asarray(_index_arg(cond), dtype=bool))


def cast(x, dtype):
    """Convert to ``dtype`` (float -> float keeps the gradient)."""
    return Cast.apply(x, dtype=np.dtype(dtype))


def broadcast_to(x, shape):
    """Broadcast to ``shape`` (numpy rules); the gradient is summed back."""
    return BroadcastTo.apply(x, shape=_shape_arg((shape,)) if isinstance(shape, (tuple, list))
                             else (int(shape),))
