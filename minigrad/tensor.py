"""Tensor: an ndarray with a gradient and a link to the op that made it; the backward walk.

A Tensor made by an op holds that op (``grad_fn``, a ``Function``) and the op holds its input
Tensors, so the graph is the chain of ``grad_fn.inputs``. ``backward`` sorts the graph once
(iteratively: a 10 000-op chain works) and walks it in reverse topological order, calling
each op's vector-Jacobian product exactly once, with the complete incoming gradient.

What only the walk uses lives here too: ``unbroadcast`` (broadcast gradients are reduced once,
centrally, never inside an op), the ``FREED`` marker of a walked graph, the version check of
saved variables and the rule that makes gradient aliasing impossible.
"""
import sys

import numpy as np

from . import _alloc, _flat, config
from .probe import STATELESS, TAPE, StateChange

_new = object.__new__
# the number of in-place changes of any tensor so far: an op records it at forward, and its
# backward looks at its inputs only when the count moved since (never within a training step)
CHANGES = [0]


def _convert(data, dtype):
    """The dtype rules: ndarrays keep float32/float64 and integer/bool types; Python floats,
    float lists and float16 become ``config.floatx()``; ``dtype`` overrides."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=np.dtype(dtype))
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "f" and data.dtype.itemsize < 4:
            return data.astype(config.floatx())
        return data
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return arr.astype(config.floatx(), copy=False)
    if arr.dtype.kind == "O":
        raise TypeError(f"Tensor: cannot build a tensor from {type(data).__name__} data")
    return arr


class Tensor:
    """A value (``data``), its gradient (``grad``) and, for op outputs, the op (``grad_fn``)."""

    # _version (in-place changes of this tensor) and _stamp (the global count of in-place
    # changes at its latest one) are set by bump_version only: op outputs skip two stores
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_hooks", "_version", "_stamp",
                 "__weakref__")
    __array_ufunc__ = None        # ndarray (op) Tensor defers to Tensor's reflected operator
    __hash__ = object.__hash__    # comparisons are elementwise, identity stays hashable

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _convert(data, dtype)
        self.grad = None
        self._ctx = None
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self._set_requires_grad(True)

    def _set_requires_grad(self, flag):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only float tensors can require grad; got dtype {self.data.dtype}")
        self.requires_grad = bool(flag)

    @staticmethod
    def _make(data, ctx):
        """The fast constructor for op outputs: no conversion, no checks."""
        t = _new(Tensor)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = ctx is not None
        t._ctx = ctx
        t._hooks = None
        return t

    # ---- inspection -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._ctx is None, doc="True unless made by a recorded op")
    grad_fn = property(lambda self: self._ctx,
                       doc="The op (a Function: ``inputs``, its config) that made this tensor, "
                           "or None for a leaf")
    version = property(lambda self: getattr(self, "_version", 0),
                       doc="How many in-place changes this tensor has seen (bump_version)")

    def bump_version(self):
        """Record an in-place change of ``data``: a graph that saved this tensor for backward
        before the change refuses to run backward (RuntimeError), as PyTorch does."""
        bump_versions((self,))

    def assign(self, value):
        """Overwrite the value in place (shape and dtype kept; the gradient is untouched) and
        bump the version."""
        value = np.asarray(_raw(value))
        if STATELESS[0]:        # a stand-in call (output shapes): no state changes
            return
        if value.shape != self.data.shape:
            raise ValueError(f"{_describe(self)}: cannot assign a value of shape "
                             f"{value.shape} to a variable of shape {self.data.shape}")
        self.data[...] = value
        self.bump_version()

    def assign_add(self, delta):
        """``assign(value + delta)`` (Keras's Variable method, e.g. a running total)."""
        self.assign(self.data + self._delta(delta))

    def assign_sub(self, delta):
        """``assign(value - delta)``."""
        self.assign(self.data - self._delta(delta))

    def _delta(self, delta):
        delta = np.asarray(_raw(delta), dtype=self.data.dtype)
        try:
            np.broadcast_shapes(self.data.shape, delta.shape)
        except ValueError:
            raise ValueError(f"{_describe(self)}: cannot add a value of shape {delta.shape} "
                             f"to a variable of shape {self.data.shape}") from None
        return delta

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __repr__(self):
        extra = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.data.dtype}{extra})"

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def numpy(self):
        """The value as an ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self.data.item()

    def detach(self):
        """A new leaf sharing ``data`` with no graph and no gradient."""
        return Tensor._make(self.data, None)

    def zero_grad(self):
        """Forget the accumulated gradient (``grad = None``)."""
        self.grad = None

    def astype(self, dtype):
        """A cast copy (differentiable for float -> float)."""
        return _cast(self, dtype)

    # ---- hooks and backward -------------------------------------------------------------
    def register_hook(self, fn):
        """Call ``fn(grad)`` with the complete gradient flowing into this tensor during
        backward; an array it returns replaces the gradient. Returns a handle with
        ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _HookHandle(self, fn)

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) . grad into every leaf's ``.grad``.

        ``grad`` defaults to 1 for a one-element tensor. The graph's saved values are freed
        afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no graph (were its "
                "inputs created with requires_grad=True, outside no_grad()?)")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be omitted only for a one-element tensor; this one "
                    f"has shape {self.data.shape}: pass grad= of that shape")
            g = np.array(1, dtype=self.data.dtype).reshape(self.data.shape)
        else:
            g = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if g.shape != self.data.shape:
                raise ValueError(f"backward: grad has shape {g.shape}, expected the tensor's "
                                 f"shape {self.data.shape}")
            g = g.astype(self.data.dtype, copy=False)
        _run_backward(self, g, retain_graph)

    # ---- operators ----------------------------------------------------------------------
    # the operators call the op classes directly (one Python call fewer per op than the
    # functions of ops/arith.py, which do the same)
    def __add__(self, o): return _arith.Add.apply(self, o)
    def __radd__(self, o): return _arith.Add.apply(o, self)
    def __sub__(self, o): return _arith.Sub.apply(self, o)
    def __rsub__(self, o): return _arith.Sub.apply(o, self)
    def __mul__(self, o): return _arith.Mul.apply(self, o)
    def __rmul__(self, o): return _arith.Mul.apply(o, self)
    def __truediv__(self, o): return _arith.Div.apply(self, o)
    def __rtruediv__(self, o): return _arith.Div.apply(o, self)
    def __pow__(self, o): return _arith.Pow.apply(self, o)
    def __rpow__(self, o): return _arith.Pow.apply(o, self)
    def __matmul__(self, o): return _MatMul.apply(self, o)
    def __rmatmul__(self, o): return _MatMul.apply(o, self)
    def __neg__(self): return _arith.Neg.apply(self)
    def __pos__(self): return self
    def __abs__(self): return _unary.Abs.apply(self)
    def __getitem__(self, index): return _getitem(self, index)

    # comparisons: boolean tensors, no gradient
    def __lt__(self, o): return Tensor._make(self.data < _raw(o), None)
    def __le__(self, o): return Tensor._make(self.data <= _raw(o), None)
    def __gt__(self, o): return Tensor._make(self.data > _raw(o), None)
    def __ge__(self, o): return Tensor._make(self.data >= _raw(o), None)
    def __eq__(self, o): return Tensor._make(self.data == _raw(o), None)
    def __ne__(self, o): return Tensor._make(self.data != _raw(o), None)

    # ---- methods (also module-level functions) ------------------------------------------
    def sum(self, axis=None, keepdims=False): return _reduce.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _reduce.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return _reduce.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _reduce.min(self, axis, keepdims)
    def var(self, axis=None, keepdims=False): return _reduce.var(self, axis, keepdims)
    def exp(self): return _unary.exp(self)
    def log(self): return _unary.log(self)
    def sqrt(self): return _unary.sqrt(self)
    def abs(self): return _unary.abs(self)
    def clip(self, lo, hi): return _unary.clip(self, lo, hi)
    def reshape(self, *shape): return _reshape(self, *shape)
    def flatten(self, start_dim=1): return _flatten(self, start_dim)
    def transpose(self, *axes): return _transpose(self, *axes)
    T = property(lambda self: _transpose(self))

    def matmul(self, o): return _matmul_fn(self, o)

    def relu(self): return _activation.relu(self)
    def sigmoid(self): return _activation.sigmoid(self)
    def tanh(self): return _activation.tanh(self)
    def softmax(self, axis=-1): return _softmax_fn(self, axis)
    def log_softmax(self, axis=-1): return _log_softmax_fn(self, axis)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def bump_versions(tensors):
    """``bump_version`` of several tensors changed together (an optimizer's pack): one count
    of the global changes, which is all the version check compares against."""
    if TAPE[0] is not None:     # changed outside the ops in a step being recorded
        TAPE[0].append((StateChange, tuple(tensors)))
    CHANGES[0] += 1
    stamp = CHANGES[0]
    for t in tensors:
        t._version = getattr(t, "_version", 0) + 1
        t._stamp = stamp


def _describe(t):
    """How errors name a variable: a Parameter (Variable) by its class and name, another
    tensor by shape/dtype."""
    name = getattr(t, "name", None)
    if name is not None:
        return f"{type(t).__name__} {name!r}"
    return f"a tensor of shape {t.data.shape} and dtype {t.data.dtype}"


class _HookHandle:
    __slots__ = ("tensor", "fn")

    def __init__(self, tensor, fn):
        self.tensor, self.fn = tensor, fn

    def remove(self):
        """Unregister the hook (no error if it is already gone)."""
        hooks = self.tensor._hooks
        if hooks and self.fn in hooks:
            hooks.remove(self.fn)
            if not hooks:
                self.tensor._hooks = None


class Parameter(Tensor):
    """A trainable variable: a leaf Tensor with ``name``, ``trainable`` (``requires_grad``
    follows it), ``constraint`` (ndarray -> ndarray, applied by the optimizer after each
    update) and ``regularizer`` (Tensor -> scalar Tensor, a loss term)."""

    __slots__ = ("name", "constraint", "regularizer")

    def __init__(self, data, name=None, trainable=True, constraint=None, regularizer=None,
                 dtype=None):
        super().__init__(data, dtype=dtype)
        if self.data.dtype.kind != "f":
            raise TypeError(f"Parameter {name!r}: expected float data, got {self.data.dtype}")
        self.name = name
        self.constraint = constraint
        self.regularizer = regularizer
        self.requires_grad = bool(trainable)

    @property
    def trainable(self):
        return self.requires_grad

    @trainable.setter
    def trainable(self, flag):
        self.requires_grad = bool(flag)

    def __repr__(self):
        return f"<Parameter {self.name!r} shape={self.data.shape} dtype={self.data.dtype}>"


def _toposort(root):
    """Tensors that require grad, reachable from ``root``, inputs before outputs."""
    order, seen, stack = [], set(), [root]
    while stack:
        t = stack.pop()
        if t is None:               # the marker pushed below: t's inputs are all in order
            order.append(stack.pop())
            continue
        k = id(t)
        if k in seen:
            continue
        seen.add(k)
        ctx = t._ctx
        if ctx is None:             # a leaf waits for nothing
            order.append(t)
            continue
        stack.append(t)
        stack.append(None)
        for p in ctx.inputs:
            if p.requires_grad and id(p) not in seen:
                stack.append(p)
    return order


FREED = ("freed",)  # ``Function.saved`` after a walk without retain_graph


def unbroadcast(grad, shape, fn):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    if extra >= 0:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise RuntimeError(
            f"internal error in {fn.name}.backward: gradient of shape {grad.shape} cannot be "
            f"reduced to its input's shape {shape}")
    return grad


def _sole_reference_count():
    g = np.empty(0)
    return sys.getrefcount(g)


# What sys.getrefcount reports for an array that one local variable alone refers to, measured
# with the same code as the check in _run_backward (interpreters may count differently; the
# measurement keeps the rule exact on each).
_SOLE = _sole_reference_count()


def _check_versions(ctx):
    """RuntimeError when an input that ``ctx`` saved for backward changed in place since."""
    for t in ctx.inputs:
        if getattr(t, "_stamp", 0) > ctx.changes and _saved_by(ctx, t.data):
            raise RuntimeError(
                f"backward: {_describe(t)} was modified in place (assign, set_weights or an "
                f"optimizer step; now at version {t.version}) after {ctx.name} saved it for "
                f"backward; compute the forward again after the change, or make the change "
                f"after backward")


def _saved_by(ctx, data):
    """True when one of ``ctx.saved`` is ``data`` or a view of the same memory owner."""
    owner = data if data.base is None else data.base
    for s in ctx.saved:
        if s is data or (isinstance(s, np.ndarray) and (s is owner or s.base is owner)):
            return True
    return False


def _run_backward(root, g, retain_graph, order=None):
    """Reverse topological order: each op's VJP runs once, with its complete gradient.

    Gradient aliasing is impossible by construction: a leaf keeps the array that reaches it
    only when nothing but this walk refers to it (it owns its memory, is writable, and
    ``sys.getrefcount`` shows this function's local as the only reference: not the caller's
    ``grad=``, an op's saved array or input, another leaf's pending gradient or a hook's
    closure); otherwise it keeps a copy. No op has to promise anything. ``order``: the
    graph's ``_toposort(root)`` when the caller kept it (a replayed step's graph)."""
    grads = {id(root): g}
    for t in reversed(_toposort(root) if order is None else order):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if type(g) is not np.ndarray:   # numpy returns scalars from 0-d arithmetic; kernels
            g = np.asarray(g)            # and hooks need arrays
        if t._hooks:
            g = _run_hooks(t, g)
        ctx = t._ctx
        if ctx is None:
            if t.grad is not None:
                t.grad += g
            # kept without a copy: g written into t's flat gradient view (an optimizer's pack),
            # or owned by nothing else (a staggered buffer's view counts as owning its memory)
            elif _flat.is_dest(t, g) or (sys.getrefcount(g) == _SOLE and g.flags.writeable and (
                    g.base is None or _alloc.owns(g))):
                t.grad = g
            else:
                t.grad = np.array(g, dtype=t.data.dtype)
            continue
        if ctx.saved is FREED:
            raise RuntimeError(
                f"backward through {ctx.name} a second time: its saved values were freed; "
                f"call backward(retain_graph=True) the first time")
        if ctx.changes != CHANGES[0]:
            _check_versions(ctx)
        dxs = ctx.backward(g)
        if type(dxs) is not tuple:
            dxs = (dxs,)
        for inp, dx, need in zip(ctx.inputs, dxs, ctx.needs_input_grad):
            if dx is None or not need:
                continue
            data = inp.data
            if dx.shape != data.shape:
                dx = unbroadcast(dx, data.shape, ctx)
            if dx.dtype is not data.dtype and dx.dtype != data.dtype:
                dx = dx.astype(data.dtype)
            ki = id(inp)
            prev = grads.get(ki)
            grads[ki] = dx if prev is None else prev + dx
        dxs = dx = prev = None          # the walk's references end here (see the docstring)
        if not retain_graph:
            ctx.saved = FREED


def _run_hooks(t, g):
    """Call t's hooks in order on its complete gradient; an array a hook returns replaces it."""
    for hook in tuple(t._hooks):
        r = hook(g)
        if r is not None:
            r = np.asarray(r, dtype=t.data.dtype)
            if r.shape != g.shape:
                raise ValueError(f"hook {hook!r} returned a gradient of shape {r.shape},"
                                 f" expected {g.shape}")
            g = r
    return g


# imported last: these modules import Tensor from here (the circle closes at call time)
from .ops import activation as _activation  # noqa: E402
from .ops import arith as _arith  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import unary as _unary  # noqa: E402

# minigrad.ops.matmul, .shape and .softmax name public functions of minigrad.ops (see its
# docstring): their modules are imported by full path
from .ops.matmul import MatMul as _MatMul  # noqa: E402
from .ops.matmul import matmul as _matmul_fn  # noqa: E402
from .ops.shape import cast as _cast  # noqa: E402
from .ops.shape import flatten as _flatten  # noqa: E402
from .ops.shape import getitem as _getitem  # noqa: E402
from .ops.shape import reshape as _reshape  # noqa: E402
from .ops.shape import transpose as _transpose  # noqa: E402
from .ops.softmax import log_softmax as _log_softmax_fn  # noqa: E402
from .ops.softmax import softmax as _softmax_fn  # noqa: E402
