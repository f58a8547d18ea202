"""The op pattern: ``Function.apply`` -> ``forward`` on raw arrays -> graph node -> ``backward``.

Every differentiable op is a ``Function`` subclass with ``forward(*arrays, **config)`` and
``backward(g)`` (one array or ``None`` per input, written as if shapes matched). ``apply``
converts inputs, enforces the dtype rules, records ``needs_input_grad`` (all False when grad
mode is off, so no ``forward`` needs to read the global mode) and the count of in-place
changes (``tensor.CHANGES``, for the version check of saved inputs), and links the graph
only when grad mode is on and some input requires a gradient. The walk in ``tensor.py``
reduces broadcast gradients (``unbroadcast``) and decides by itself when a returned array
may become a leaf's ``.grad`` uncopied: a backward may return any array, even ``g``.
"""
import numpy as np

from . import config, grad_mode
from .probe import TAPE
from .tensor import CHANGES, Tensor


class Function:
    """Base class of every differentiable op (see the module docstring)."""

    # ops whose outputs are floats cast integer/bool inputs to the common float dtype
    casts_ints = True

    # config flags that promise a check the caller made (``ids_checked=True``); a replayed
    # step (models/tape.py) skips the caller, so it runs the op with these values instead
    unchecked = {}

    # what a Function made by hand (``Linear()``, as the op tests do) starts with; ``apply``
    # sets each on the instance (class attributes, so that no ``__init__`` runs per op)
    inputs = ()
    saved = ()
    needs_input_grad = ()
    changes = 0        # tensor.CHANGES at forward: backward checks saved inputs if it moved

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
        record = True in needs and grad_mode._state["enabled"]
        fn.needs_input_grad = needs if record else (False,) * len(needs)
        tape = TAPE[0]
        if tape is None:
            out = fn.forward(*[t.data for t in inputs], **kwargs)
        else:           # ops that run inside this forward are this op's business, not the tape's
            TAPE[0] = None
            try:
                out = fn.forward(*[t.data for t in inputs], **kwargs)
            finally:
                TAPE[0] = tape
        # integer/bool outputs (a cast to int) carry no gradient, as integer tensors cannot
        if record and out.dtype.kind == "f":
            fn.inputs = inputs
            fn.changes = CHANGES[0]
            t = _make(out, fn)
        else:
            t = _make(out, None)
        if tape is not None:          # a training step being captured (models/tape.py)
            tape.append((cls, inputs, kwargs, t, fn.needs_input_grad))
        return t


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


def _float_type(cls, inputs, counts):
    """The one float dtype (float32 or float64) of the inputs for which ``counts(x)``; None
    when there is none; TypeError naming the op when there are two."""
    ftype = None
    for x in inputs:
        if counts(x):
            dt = x.dtype
            if dt.kind == "f" and dt.itemsize >= 4:
                if ftype is None:
                    ftype = dt
                elif dt != ftype:
                    raise TypeError(
                        f"{cls.__name__}: mixed float dtypes {ftype} and {dt}; convert one "
                        f"first (Tensor(x, dtype=...) or layer dtype=)")
    return ftype


def _is_scalar(x):
    return isinstance(x, (int, float, np.number, bool)) or (
        isinstance(x, np.ndarray) and x.ndim == 0)


def _to_tensors(cls, inputs):
    """Convert op inputs to Tensors. Scalars take the tensors' float dtype; integer data is
    cast to it; float32 mixed with float64 raises TypeError naming the op. Without a tensor
    or array of rank >= 1, 0-d float arrays keep their dtype (an ndarray keeps its dtype);
    with neither, floatx."""
    ftype = _float_type(cls, inputs, lambda x: isinstance(x, Tensor) or (
        isinstance(x, np.ndarray) and x.ndim > 0))
    if ftype is None:
        ftype = _float_type(cls, inputs, lambda x: isinstance(x, np.ndarray))
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
