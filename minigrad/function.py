"""The op pattern: ``Function.apply`` -> ``forward`` on raw arrays -> graph node -> ``backward``.

Every differentiable op is a ``Function`` subclass with ``forward(*arrays, **config)`` and
``backward(g)`` (one array or ``None`` per input, written as if shapes matched). ``apply``
converts inputs, enforces the dtype rules, records ``needs_input_grad`` and links the graph
only when grad mode is on and some input requires a gradient. Broadcast gradients are
reduced once, here (``unbroadcast``), never inside an op.
"""
import numpy as np

from . import config, grad_mode
from .tensor import Tensor

FREED = ("freed",)  # sentinel for ``saved`` after backward without retain_graph


class Function:
    """Base class of every differentiable op (see the module docstring)."""

    # ops whose outputs are floats cast integer/bool inputs to the common float dtype
    casts_ints = True
    # True when each array backward returns is new (or a view of a new array), distinct per
    # input and referenced by nothing else: the walk may store it in a leaf's .grad uncopied
    fresh_grads = False

    # what a Function made by hand (``Linear()``, as the op tests do) starts with; ``apply``
    # sets each on the instance (class attributes, so that no ``__init__`` runs per op)
    inputs = ()
    saved = ()
    needs_input_grad = ()

    @property
    def name(self):
        return type(self).__name__

    def save(self, *arrays):
        """Keep what backward needs (and nothing more)."""
        self.saved = arrays

    def forward(self, *arrays, **config):
        raise NotImplementedError

    def backward(self, g):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run the op on Tensors, arrays or scalars; returns a Tensor (a graph node if needed)."""
        needs = _fast_needs(inputs)
        if needs is None:
            inputs = _to_tensors(cls, inputs)
            needs = tuple([t.requires_grad for t in inputs])
        fn = cls()
        fn.needs_input_grad = needs
        out = fn.forward(*[t.data for t in inputs], **kwargs)
        # integer/bool outputs (a cast to int) carry no gradient, as integer tensors cannot
        if True in needs and grad_mode._state["enabled"] and out.dtype.kind == "f":
            fn.inputs = inputs
            return _make(out, fn)
        return _make(out, None)


_make = Tensor._make


def _fast_needs(inputs):
    """``needs_input_grad`` when the inputs are all Tensors of one float dtype (nothing to
    convert or check: the common case, one loop instead of _to_tensors'); None otherwise."""
    dt = None
    needs = []
    for t in inputs:
        if not isinstance(t, Tensor):
            return None
        d = t.data.dtype
        if d is not dt:
            if dt is not None or d.kind != "f" or d.itemsize < 4:
                return None
            dt = d
        needs.append(t.requires_grad)
    return tuple(needs) if needs else None


def _is_scalar(x):
    return isinstance(x, (int, float, np.number, bool)) or (
        isinstance(x, np.ndarray) and x.ndim == 0)


def _to_tensors(cls, inputs):
    """Convert op inputs to Tensors. Scalars take the tensors' float dtype; integer data is
    cast to it; float32 mixed with float64 raises TypeError naming the op."""
    ftype = None
    for x in inputs:
        if isinstance(x, (Tensor, np.ndarray)) and not _is_scalar(x):
            dt = x.dtype
            if dt.kind == "f" and dt.itemsize >= 4:
                if ftype is None:
                    ftype = dt
                elif dt != ftype:
                    raise TypeError(
                        f"{cls.__name__}: mixed float dtypes {ftype} and {dt}; convert one "
                        f"first (Tensor(x, dtype=...) or layer dtype=)")
    if ftype is None:
        ftype = np.dtype(config.floatx())
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            if cls.casts_ints and x.data.dtype != ftype and x.data.dtype.kind != "f":
                x = Tensor(x.data.astype(ftype))
        elif _is_scalar(x):
            x = Tensor(np.asarray(x, dtype=ftype))
        else:
            arr = np.asarray(x)
            if arr.dtype.kind == "O":
                raise TypeError(f"{cls.__name__}: cannot use an object of type "
                                f"{type(x).__name__} as an input")
            if cls.casts_ints and arr.dtype != ftype:
                arr = arr.astype(ftype)
            x = Tensor(arr)
        out.append(x)
    return tuple(out)


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
