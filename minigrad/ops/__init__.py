"""``minigrad.ops``: the numpy-like functions of Keras 3's ``keras.ops``, on Tensors and arrays.

Losses, metrics and custom layers written with ``keras.ops`` run unchanged: every function
takes Tensors, ndarrays or Python numbers and returns a Tensor, and is differentiable where
Keras's is (through the graph ops of this package's modules: arith, unary, reduce, shape,
matmul, activation, softmax). Comparisons, logical ops, rounding, ``arg*``, ``sign`` and the
constructors return Tensors outside the graph: their gradient is zero where it exists.

The op families stay in their modules (kernels, ``Function`` classes, wrappers). Four of them
share a name with a public function here (``shape``, ``softmax``, ``matmul``, ``norm``): the
function is this package's attribute, and the module is reached by its full path
(``from minigrad.ops.shape import cast``), which the import system resolves through
``sys.modules``. They are imported first, below, so that importing them later cannot rebind
the names to the modules.
"""
import builtins  # the module defines all, any, max, min, sum, abs, round: builtins by path
import functools
import math
import sys

import numpy as np

from .. import config
from .._checks import axis as _check_axis
from .._checks import integer as _integer
from ..tensor import Tensor
from . import activation as _activation
from . import arith as _arith
from . import matmul as _matmul_module
from . import norm as _norm_module  # noqa: F401 - loaded before ``norm`` names the function
from . import reduce as _reduce
from . import shape as _shape_module
from . import softmax as _softmax_module
from . import unary as _unary

# ---------------------------------------------------------------------------- conversion


def convert_to_tensor(x, dtype=None):
    """``x`` as a Tensor (a Tensor of the requested dtype is returned as it is; another dtype
    is a differentiable cast). ndarrays keep their dtype, Python floats become floatx."""
    if isinstance(x, Tensor):
        if dtype is None or np.dtype(dtype) == x.dtype:
            return x
        return _shape_module.cast(x, dtype)
    return Tensor(x, dtype=dtype)


def convert_to_numpy(x):
    """A NumPy copy of ``x`` (``Tensor.numpy()`` shares memory instead)."""
    return np.array(x.data if isinstance(x, Tensor) else x)


def _raw(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _const(array):
    """A Tensor outside the graph (non-differentiable results)."""
    return Tensor._make(np.asarray(array), None)


def shape(x):
    """The shape as a tuple of ints."""
    return tuple(np.shape(_raw(x)))


def ndim(x):
    """The number of axes."""
    return np.ndim(_raw(x))


def size(x):
    """The number of elements."""
    return int(np.size(_raw(x)))


def cast(x, dtype):
    """Convert to ``dtype`` (float -> float keeps the gradient)."""
    return _shape_module.cast(x, dtype)


def stop_gradient(x):
    """The value of ``x`` as a constant: no gradient flows back through it."""
    return convert_to_tensor(x).detach()


# ---------------------------------------------------------------------------- constructors


def _float(dtype):
    return np.dtype(dtype or config.floatx())


def zeros(shape, dtype=None):
    """A tensor of zeros (floatx unless ``dtype``)."""
    return _const(np.zeros(shape, _float(dtype)))


def ones(shape, dtype=None):
    """A tensor of ones (floatx unless ``dtype``)."""
    return _const(np.ones(shape, _float(dtype)))


def full(shape, fill_value, dtype=None):
    """A tensor filled with ``fill_value`` (floatx unless ``dtype``, as Keras)."""
    return _const(np.full(shape, _raw(fill_value), _float(dtype)))


def zeros_like(x, dtype=None):
    """Zeros of ``x``'s shape and dtype (or ``dtype``)."""
    return _const(np.zeros_like(_raw(x), dtype=dtype))


def ones_like(x, dtype=None):
    """Ones of ``x``'s shape and dtype (or ``dtype``)."""
    return _const(np.ones_like(_raw(x), dtype=dtype))


def full_like(x, fill_value, dtype=None):
    """``fill_value`` in ``x``'s shape and dtype (or ``dtype``)."""
    return _const(np.full_like(_raw(x), _raw(fill_value), dtype=dtype))


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras's argument names
    """An N x M matrix with ones on diagonal ``k`` (floatx unless ``dtype``)."""
    return _const(np.eye(N, M, k, dtype=_float(dtype)))


def identity(n, dtype=None):
    """The n x n identity matrix (floatx unless ``dtype``)."""
    return eye(n, dtype=dtype)


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop). Without ``dtype``: int32 for integer
    arguments, else floatx (Keras's result type of the arguments)."""
    if dtype is None:
        given = [v for v in (start, stop, step) if v is not None]
        ints = builtins.all(isinstance(v, (int, np.integer)) for v in given)
        dtype = "int32" if ints else config.floatx()
    if stop is None:
        start, stop = 0, start
    return _const(np.arange(start, stop, step, dtype=dtype))


def linspace(start, stop, num=50, endpoint=True, dtype=None):
    """``num`` evenly spaced values from start to stop (floatx unless ``dtype``)."""
    return _const(np.linspace(start, stop, num, endpoint=endpoint, dtype=_float(dtype)))


def one_hot(x, num_classes, axis=-1, dtype=None):
    """One-hot rows: out[..., c] = 1 where x == c; a negative or out-of-range class gives a
    row of zeros (Keras). The new axis goes to ``axis``; floatx unless ``dtype``."""
    num_classes = _integer("one_hot", "num_classes", num_classes, lo=1)
    labels = _raw(x)
    if labels.dtype.kind not in "iub":
        raise TypeError(f"one_hot: x must hold integer class ids, got dtype {labels.dtype}")
    out = (labels[..., None] == np.arange(num_classes)).astype(_float(dtype))
    axis = _check_axis("one_hot", axis, out.ndim)
    return _const(np.moveaxis(out, -1, axis) if axis != out.ndim - 1 else out)


# ---------------------------------------------------------------------------- arithmetic

add = _arith.add
subtract = _arith.sub
multiply = _arith.mul
divide = _arith.div
true_divide = _arith.div
power = _arith.pow
negative = _arith.neg
maximum = _arith.maximum
minimum = _arith.minimum
abs = _unary.abs  # noqa: A001 - Keras's name
absolute = _unary.abs
exp = _unary.exp
expm1 = _unary.expm1
log = _unary.log
log1p = _unary.log1p
sqrt = _unary.sqrt
sin = _unary.sin
cos = _unary.cos


def square(x):
    """x * x."""
    return _arith.Mul.apply(x, x)


def reciprocal(x):
    """1 / x."""
    return _arith.Div.apply(1.0, x)


def log2(x):
    """log(x) / log(2)."""
    return _arith.Mul.apply(_unary.log(x), 1.0 / math.log(2.0))


def log10(x):
    """log(x) / log(10)."""
    return _arith.Mul.apply(_unary.log(x), 1.0 / math.log(10.0))


def clip(x, x_min, x_max):
    """min(max(x, x_min), x_max); the gradient is 0 where x is clipped."""
    return _unary.clip(x, x_min, x_max)


def sign(x):
    """-1, 0 or 1 (a constant: its gradient is 0 almost everywhere)."""
    return _const(np.sign(_raw(x)))


def floor(x):
    """Round down (a constant)."""
    return _const(np.floor(_raw(x)))


def ceil(x):
    """Round up (a constant)."""
    return _const(np.ceil(_raw(x)))


def round(x, decimals=0):  # noqa: A001 - Keras's name
    """Round half to even to ``decimals`` (a constant)."""
    return _const(np.round(_raw(x), decimals))


# ---------------------------------------------------------------------------- comparisons


def _compare(ufunc):
    def compare(x1, x2):
        return _const(ufunc(_raw(x1), _raw(x2)))
    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Elementwise ``{ufunc.__name__}`` as a boolean tensor (no gradient)."
    return compare


equal = _compare(np.equal)
not_equal = _compare(np.not_equal)
greater = _compare(np.greater)
greater_equal = _compare(np.greater_equal)
less = _compare(np.less)
less_equal = _compare(np.less_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def logical_not(x):
    """Elementwise not, as a boolean tensor."""
    return _const(np.logical_not(_raw(x)))


def isnan(x):
    """Elementwise x != x, as a boolean tensor."""
    return _const(np.isnan(_raw(x)))


def isinf(x):
    """Elementwise |x| == inf, as a boolean tensor."""
    return _const(np.isinf(_raw(x)))


def isfinite(x):
    """Elementwise not nan and not inf, as a boolean tensor."""
    return _const(np.isfinite(_raw(x)))


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` else ``x2`` (differentiable in both); with neither given,
    the indices of the nonzero elements of ``condition`` (a tuple of int tensors)."""
    if x1 is None and x2 is None:
        return tuple(_const(i) for i in np.nonzero(_raw(condition)))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither (for the nonzero indices)")
    return _shape_module.where(condition, x1, x2)


# ---------------------------------------------------------------------------- reductions


def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Sum over ``axis`` (all axes when None)."""
    return _reduce.sum(x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``."""
    return _reduce.mean(x, axis, keepdims)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - Keras's name
    """Maximum over ``axis`` (ties share the gradient), and at least ``initial``."""
    y = _reduce.max(x, axis, keepdims)
    return y if initial is None else _arith.maximum(y, initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - Keras's name
    """Minimum over ``axis`` (ties share the gradient), and at most ``initial``."""
    y = _reduce.min(x, axis, keepdims)
    return y if initial is None else _arith.minimum(y, initial)


def var(x, axis=None, keepdims=False):
    """Population variance mean((x - mean(x))**2) over ``axis``."""
    return _reduce.var(x, axis, keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation sqrt(var(x)) over ``axis``."""
    return _unary.sqrt(_reduce.var(x, axis, keepdims))


prod = _reduce.prod


def cumsum(x, axis=None, dtype=None):
    """Running sum along ``axis`` (of the flattened input when None)."""
    x = convert_to_tensor(x, dtype)
    if axis is None:
        return _reduce.cumsum(_shape_module.reshape(x, -1), 0)
    return _reduce.cumsum(x, axis)


def average(x, axis=None, weights=None):
    """Weighted mean sum(x * w) / sum(w) over ``axis`` (the plain mean without weights);
    1-D weights along a single axis are broadcast along it, as numpy does."""
    x = convert_to_tensor(x)
    if weights is None:
        return _reduce.mean(x, axis)
    w = convert_to_tensor(weights)
    if w.shape != x.shape:
        if axis is None or w.ndim != 1:
            raise ValueError(f"average: weights of shape {w.shape} do not fit x of shape "
                             f"{x.shape}; expected x's shape, or 1-D along one axis")
        a = _check_axis("average", axis, x.ndim)
        if w.shape[0] != x.shape[a]:
            raise ValueError(f"average: {w.shape[0]} weights for axis {a} of length "
                             f"{x.shape[a]}")
        w = _shape_module.reshape(w, tuple(-1 if i == a else 1 for i in range(x.ndim)))
    return _reduce.sum(x * w, axis) / _reduce.sum(_shape_module.broadcast_to(w, x.shape), axis)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum of the diagonal ``offset`` of the (axis1, axis2) planes."""
    x = moveaxis(x, (axis1, axis2), (-2, -1))
    n, m = x.shape[-2:]
    rows = np.arange(builtins.max(0, -offset), builtins.min(n, m - offset))
    diag = x[(..., rows, rows + offset)]
    return _reduce.sum(diag, -1)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, computed as m + log(sum(exp(x - m))) with m the
    (constant) maximum, so it never overflows. VJP: dx = g * softmax(x) over ``axis``."""
    x = convert_to_tensor(x)
    axes = _reduce._axes(axis, x.shape, "logsumexp")
    if x.size:
        m = np.max(x.data, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype)   # an all -inf row stays -inf
    else:
        m = np.zeros([1 if i in axes else n for i, n in enumerate(x.shape)], x.dtype)
    lse = _unary.log(_reduce.sum(_unary.exp(x - m), axes, keepdims))
    return lse + (m if keepdims else m.reshape(lse.shape))


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum along ``axis`` (of the flattened input when None), int32."""
    return _const(np.argmax(_raw(x), axis=axis, keepdims=keepdims).astype(np.int32))


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum along ``axis`` (of the flattened input when None), int32."""
    return _const(np.argmin(_raw(x), axis=axis, keepdims=keepdims).astype(np.int32))


def argsort(x, axis=-1):
    """Indices that sort ``x`` along ``axis`` (stable), int32."""
    return _const(np.argsort(_raw(x), axis=axis, kind="stable").astype(np.int32))


def all(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """True where every element along ``axis`` is nonzero."""
    return _const(np.all(_raw(x), axis=axis, keepdims=keepdims))


def any(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """True where some element along ``axis`` is nonzero."""
    return _const(np.any(_raw(x), axis=axis, keepdims=keepdims))


def count_nonzero(x, axis=None):
    """The number of nonzero elements along ``axis``, int32."""
    return _const(np.asarray(np.count_nonzero(_raw(x), axis=axis), dtype=np.int32))


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - Keras's name
    """Vector or matrix norm (numpy's rules for ``ord`` and ``axis``).

    Vector (``axis`` an int, or None on a 1-D input): ord None/2: sqrt(sum x**2) (zero
    gradient at 0); 1: sum|x|; inf/-inf: max/min |x|; 0: the count of nonzeros (no
    gradient); other p: (sum |x|**p)**(1/p). Matrix (``axis`` two ints, or None on a 2-D
    input): None/"fro": sqrt(sum x**2); 1/-1: max/min column sum of |x|; inf/-inf: max/min
    row sum of |x|. ``ord=None`` with ``axis=None`` is the 2-norm of all elements."""
    x = convert_to_tensor(x)
    if axis is None:
        if ord is None:
            return _reduce.norm(x, None, keepdims)
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(_check_axis("norm", a, x.ndim) for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must be one axis or two distinct axes, got {axis!r} for a "
                     f"tensor of shape {x.shape}")


def _vector_norm(x, ord, axis, keepdims):  # noqa: A002
    if ord is None or ord == 2:
        return _reduce.norm(x, axis, keepdims)
    if ord == 0:
        return _const(np.sum(x.data != 0, axis=axis, keepdims=keepdims).astype(x.dtype))
    a = _unary.abs(x)
    if ord == math.inf:
        return _reduce.max(a, axis, keepdims)
    if ord == -math.inf:
        return _reduce.min(a, axis, keepdims)
    if ord == 1:
        return _reduce.sum(a, axis, keepdims)
    if isinstance(ord, (str, bool)) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"norm: ord {ord!r} is not a vector norm order (a number, inf or "
                        f"-inf)")
    return _reduce.sum(a ** float(ord), axis, keepdims) ** (1.0 / float(ord))


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    rows, cols = axes   # ord 1 sums over rows (column sums), inf over columns
    if ord is None or ord == "fro":
        return _reduce.norm(x, axes, keepdims)
    reduce = {1: (_reduce.max, rows), -1: (_reduce.min, rows),
              math.inf: (_reduce.max, cols), -math.inf: (_reduce.min, cols)}
    if isinstance(ord, str) or ord not in reduce:
        raise ValueError(f"norm: matrix norm order {ord!r} is not supported; expected None, "
                         f"'fro', 1, -1, inf or -inf (the orders 2, -2 and 'nuc' need an SVD)")
    pick, summed = reduce[ord]
    # the summed axis has length 1 after keepdims: picking over both axes drops or keeps both
    return pick(_reduce.sum(_unary.abs(x), summed, True), axes, keepdims)


# ---------------------------------------------------------------------------- linear algebra


def matmul(x1, x2):
    """x1 @ x2 (numpy's rules: batched, 1-D operands promoted)."""
    return _matmul_module.matmul(x1, x2)


def dot(x1, x2):
    """numpy's dot: a product for a 0-d operand, x1 @ x2 when x2 has rank <= 2, otherwise
    the sum over x1's last axis and x2's second-to-last axis."""
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return _arith.mul(x1, x2)
    if x2.ndim <= 2:
        return _matmul_module.matmul(x1, x2)
    k = x2.shape[-2]
    rest = x2.shape[:-2] + x2.shape[-1:]
    b = _shape_module.reshape(moveaxis(x2, -2, 0), (k, -1))
    y = _matmul_module.matmul(_shape_module.reshape(x1, (-1, k)), b)
    return _shape_module.reshape(y, x1.shape[:-1] + rest)


def outer(x1, x2):
    """The outer product of the flattened inputs: out[i, j] = x1[i] * x2[j]."""
    return _arith.mul(_shape_module.reshape(x1, (-1, 1)), _shape_module.reshape(x2, (1, -1)))


# ---------------------------------------------------------------------------- shapes


def reshape(x, newshape):
    """Reshape (one -1 allowed)."""
    newshape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    return _shape_module.reshape(x, newshape)


def ravel(x):
    """Flatten to one axis."""
    return _shape_module.reshape(x, -1)


def transpose(x, axes=None):
    """Permute the axes (reverse them when None)."""
    return _shape_module.transpose(x, *(() if axes is None else (tuple(axes),)))


def swapaxes(x, axis1, axis2):
    """Exchange two axes."""
    x = convert_to_tensor(x)
    perm = list(range(x.ndim))
    a = _check_axis("swapaxes", axis1, x.ndim, "axis1")
    b = _check_axis("swapaxes", axis2, x.ndim, "axis2")
    perm[a], perm[b] = perm[b], perm[a]
    return _shape_module.transpose(x, tuple(perm))


def moveaxis(x, source, destination):
    """Move the axes ``source`` to the positions ``destination`` (ints or sequences)."""
    x = convert_to_tensor(x)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} "
                         f"differ in length")
    src = [_check_axis("moveaxis", a, x.ndim, "source") for a in src]
    dst = [_check_axis("moveaxis", a, x.ndim, "destination") for a in dst]
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _shape_module.transpose(x, tuple(order))


def expand_dims(x, axis):
    """Insert axes of length 1 at ``axis`` (an int or a tuple, positions in the result)."""
    x = convert_to_tensor(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out_ndim = x.ndim + len(axes)
    axes = sorted(_check_axis("expand_dims", a, out_ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"expand_dims: repeated axis in {axis!r}")
    dims = iter(x.shape)
    new = tuple(1 if i in axes else next(dims) for i in range(out_ndim))
    return _shape_module.reshape(x, new)


def squeeze(x, axis=None):
    """Remove axes of length 1 (all of them when ``axis`` is None)."""
    x = convert_to_tensor(x)
    if axis is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        axes = [_check_axis("squeeze", a, x.ndim)
                for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)]
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise ValueError(f"squeeze: axis {bad[0]} of a tensor of shape {x.shape} has "
                             f"length {x.shape[bad[0]]}, expected 1")
    return _shape_module.reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pad with ``constant_values`` (0 by default): ``pad_width`` is one (before, after) pair
    per axis, one pair for all axes, or one int (numpy's forms); only mode "constant"."""
    x = convert_to_tensor(x)
    if mode != "constant":
        raise ValueError(f"pad: only mode 'constant' is supported, got {mode!r}")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    fill = 0 if constant_values is None else constant_values
    for axis, (before, after) in enumerate(widths.tolist()):
        parts = []
        for width in (before, None, after):
            if width is None:
                parts.append(x)
            elif width:
                shape_ = x.shape[:axis] + (width,) + x.shape[axis + 1:]
                parts.append(np.full(shape_, fill, dtype=x.dtype))
        if len(parts) > 1:
            x = _shape_module.concatenate(parts, axis)
    return x


def broadcast_to(x, shape):
    """Broadcast to ``shape`` (numpy rules); the gradient is summed back."""
    return _shape_module.broadcast_to(x, shape)


def concatenate(xs, axis=0):
    """Join tensors along an existing axis."""
    return _shape_module.concatenate(xs, axis)


def stack(x, axis=0):
    """Join tensors along a new axis."""
    return _shape_module.stack(x, axis)


def split(x, indices_or_sections, axis=0):
    """A list of pieces along ``axis``: ``n`` equal sections, or cut at the given indices."""
    x = convert_to_tensor(x)
    axis = _check_axis("split", axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = _integer("split", "indices_or_sections", indices_or_sections, lo=1)
        if n % k:
            raise ValueError(f"split: axis {axis} of length {n} cannot be split into {k} "
                             f"equal sections")
        cuts = [i * (n // k) for i in range(1, k)]
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0, *cuts, n]
    lead = (slice(None),) * axis
    return [x[lead + (slice(a, builtins.max(a, b)),)] for a, b in zip(bounds, bounds[1:])]


def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (all axes when None)."""
    x = convert_to_tensor(x)
    axes = range(x.ndim) if axis is None else (
        [axis] if isinstance(axis, (int, np.integer)) else axis)
    axes = {_check_axis("flip", a, x.ndim) for a in axes}
    return x[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))]


def take(x, indices, axis=None):
    """Elements at ``indices`` along ``axis`` (of the flattened input when None);
    differentiable in x (repeated indices add their gradients)."""
    x = convert_to_tensor(x)
    idx = np.asarray(_raw(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers, got dtype {idx.dtype}")
    if axis is None:
        return _shape_module.reshape(x, -1)[idx]
    axis = _check_axis("take", axis, x.ndim)
    return x[(slice(None),) * axis + (idx,)]


def take_along_axis(x, indices, axis=None):
    """out[..., i, ...] = x[..., indices[..., i, ...], ...] along ``axis`` (numpy's
    take_along_axis; the flattened input when None); differentiable in x."""
    x = convert_to_tensor(x)
    idx = np.asarray(_raw(indices))
    if axis is None:
        x, axis = _shape_module.reshape(x, -1), 0
        idx = idx.reshape(-1)
    axis = _check_axis("take_along_axis", axis, x.ndim)
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of rank {idx.ndim} for a tensor of rank "
                         f"{x.ndim}; expected equal ranks")
    index = tuple(idx if d == axis else np.arange(n).reshape(
        [-1 if i == d else 1 for i in range(x.ndim)]) for d, n in enumerate(x.shape))
    return x[index]


def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along
    ``axis`` (of the flattened input when None)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = _shape_module.reshape(x, -1), 0
    axis = _check_axis("repeat", axis, x.ndim)
    return take(x, np.repeat(np.arange(x.shape[axis]), _raw(repeats)), axis)


def tile(x, repeats):
    """Repeat the whole tensor ``repeats[i]`` times along axis i (numpy's tile)."""
    x = convert_to_tensor(x)
    reps = (repeats,) if isinstance(repeats, (int, np.integer)) else tuple(repeats)
    if len(reps) > x.ndim:
        x = _shape_module.reshape(x, (1,) * (len(reps) - x.ndim) + x.shape)
    reps = (1,) * (x.ndim - len(reps)) + reps
    for axis, r in enumerate(reps):
        if r != 1:
            x = take(x, np.tile(np.arange(x.shape[axis]), int(r)), axis)
    return x


def sort(x, axis=-1):
    """Sorted along ``axis``; differentiable (the gradient follows each element)."""
    x = convert_to_tensor(x)
    return take_along_axis(x, np.argsort(x.data, axis=axis, kind="stable"), axis)


# ---------------------------------------------------------------------------- neural network

relu = _activation.relu
sigmoid = _activation.sigmoid
tanh = _activation.tanh


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, computed stably."""
    return _softmax_module.softmax(x, axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``, computed stably."""
    return _softmax_module.log_softmax(x, axis)


# activations that ops/activation.py defines under Keras's ops names join the namespace
# when it has them (the building-blocks issue adds softplus, gelu, silu, ...)
_ACTIVATIONS = ("elu", "selu", "leaky_relu", "relu6", "softplus", "softsign", "silu",
                "swish", "gelu", "mish", "hard_sigmoid", "hard_silu", "hard_swish",
                "log_sigmoid", "celu", "glu", "hard_tanh", "soft_shrink", "sparse_plus",
                "squareplus", "tanh_shrink")


def __getattr__(name):
    if name in _ACTIVATIONS and callable(getattr(_activation, name, None)):
        return _symbolic_dispatch(name, getattr(_activation, name))
    raise AttributeError(f"module 'minigrad.ops' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {n for n in _ACTIVATIONS if hasattr(_activation, n)})


__all__ = sorted(name for name, value in globals().items()
                 if not name.startswith("_") and callable(value) and not isinstance(value, type)
                 and getattr(value, "__module__", "").startswith("minigrad."))

# Keras 3's other `keras.ops` activations (issue 13), and `gelu` with ops' default
# approximate=True (keras.activations.gelu, minigrad.activations.gelu: False)
gelu = _activation.ops_gelu
hard_shrink = _activation.hard_shrink
sparse_sigmoid = _activation.sparse_sigmoid
sparsemax = _activation.sparsemax
threshold = _activation.threshold
__all__ = sorted({*__all__, "gelu", "hard_shrink", "sparse_sigmoid", "sparsemax", "threshold"})


# ---------------------------------------------------------------------------- symbolic tensors
# Keras 3 (``if any_symbolic_tensors(...): return Op().symbolic_call(...)``): every public
# function also takes KerasTensors (from Input, a layer or another op) and then records an op
# node of the functional graph instead of computing (minigrad/layers/op_node.py). The check is
# a type test per argument; on Tensors the function runs as before.
class _NoSymbolic:   # until minigrad.layers.symbolic is imported no KerasTensor can exist
    pass


_KerasTensor = _NoSymbolic   # set to the class by minigrad.layers.symbolic on import
_DISPATCHED = {}


def _nested_symbolic(values):
    """True when an element of ``values`` (or of a list/tuple/dict in it) is a KerasTensor."""
    for v in values:
        t = type(v)
        if t is _KerasTensor:
            return True
        if (t is list or t is tuple) and _nested_symbolic(v):
            return True
        if t is dict and _nested_symbolic(v.values()):
            return True
    return False


def _symbolic_dispatch(name, fn):
    """``fn`` taking symbolic tensors too (one wrapper per function, so aliases stay one)."""
    wrapped = _DISPATCHED.get(id(fn))
    if wrapped is not None:
        return wrapped

    @functools.wraps(fn)
    def op(*args, **kwargs):
        for a in args:
            t = type(a)
            if t is _KerasTensor or (t is list or t is tuple) and _nested_symbolic(a):
                break
        else:
            if not kwargs or not _nested_symbolic(kwargs.values()):
                return fn(*args, **kwargs)
        from ..layers.op_node import call_symbolic
        return call_symbolic(name, args, kwargs)

    _DISPATCHED[id(fn)] = op
    return op


for _name in __all__:
    globals()[_name] = _symbolic_dispatch(_name, globals()[_name])
del _name
if "minigrad.layers.symbolic" in sys.modules:
    _KerasTensor = sys.modules["minigrad.layers.symbolic"].KerasTensor
