"""``minigrad.Variable``: Keras 3's ``keras.Variable`` on minigrad's Parameter.

A Variable is a Parameter (so a Tensor: arithmetic, ``@``, indexing and every op take it, and
gradients reach it) built the Keras way, from an initial value or from an initializer and a
shape. ``assign``/``assign_add``/``assign_sub`` write in place and bump the version (a graph
that saved the old value for backward refuses to run, as Tensor.assign). A Variable assigned as
an attribute of a layer is tracked as one of the layer's weights (layers/base.py), so
``layer.weights`` lists it, fit trains it when it is trainable, and saving stores it.
"""
import numpy as np

from . import _checks
from .probe import STATELESS
from .tensor import Parameter, Tensor

_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = ("none", "on_read", "on_write", "auto")


class Variable(Parameter):
    """``Variable(initializer, shape=None, dtype=None, trainable=True, autocast=True,
    aggregation="none", synchronization="auto", name=None)`` (Keras 3's arguments).

    ``initializer``: an initial value (array-like, Tensor; copied) whose shape and dtype the
    variable takes (Python floats: floatx, Python ints: int32, as Keras), or an initializer
    (a name such as "glorot_uniform", an instance, or any ``(shape, dtype) -> array``
    callable) called with ``shape`` (then required) and ``dtype`` (default floatx). Only a
    floating point variable can be trainable (integer ones hold counters and seeds).
    ``aggregation``/``synchronization`` are recorded as given (they annotate distributed
    training, which minigrad does not do)."""

    __slots__ = ("_autocast", "_aggregation", "_synchronization", "_owners")

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, autocast=True,
                 aggregation="none", synchronization="auto", name=None):
        if name is None:
            from .layers.base import unique_name
            name = unique_name("variable")
        if not isinstance(name, str) or "/" in name:
            raise ValueError(f"Variable: name must be a string without '/', got {name!r}")
        who = f"Variable {name!r}"
        if aggregation is None:
            aggregation = "none"
        if synchronization is None:
            synchronization = "none"
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"{who}: aggregation must be one of None, "
                             f"{', '.join(map(repr, _AGGREGATIONS))}; got {aggregation!r}")
        if synchronization not in _SYNCHRONIZATIONS:
            raise ValueError(f"{who}: synchronization must be one of None, "
                             f"{', '.join(map(repr, _SYNCHRONIZATIONS))}; got "
                             f"{synchronization!r}")
        value = _initial_value(who, initializer, shape, dtype)
        if value.dtype.kind not in "fiub":
            raise TypeError(f"{who}: dtype must be a float, integer or bool type, got "
                            f"{value.dtype}")
        Tensor.__init__(self, value)
        self.name = name
        self.constraint = None
        self.regularizer = None
        self._autocast = bool(autocast)
        self._aggregation = aggregation
        self._synchronization = synchronization
        self._owners = 0
        self.trainable = trainable

    # ---- Keras's attributes ---------------------------------------------------------------
    @property
    def trainable(self):
        return self.requires_grad

    @trainable.setter
    def trainable(self, flag):
        if flag and self.data.dtype.kind != "f":
            raise ValueError(f"Variable {self.name!r}: a variable of dtype {self.data.dtype} "
                             f"cannot be trainable (no gradient reaches integers); pass "
                             f"trainable=False or a floating point dtype")
        self.requires_grad = bool(flag)

    @property
    def value(self):
        """The variable itself (a Tensor: ops on it reach the variable's gradient)."""
        return self

    @property
    def path(self):
        """The variable's name (minigrad has no name scopes)."""
        return self.name

    autocast = property(lambda self: self._autocast)
    aggregation = property(lambda self: self._aggregation)
    synchronization = property(lambda self: self._synchronization)

    def numpy(self):
        """A copy of the value (Keras: ``np.array(variable)``; later assigns do not show)."""
        return self.data.copy()

    # ---- in-place updates -------------------------------------------------------------------
    def assign(self, value):
        """Write ``value`` (cast to the variable's dtype; its shape must be the variable's)
        in place and bump the version; returns the variable."""
        value = value.data if isinstance(value, Tensor) else value
        arr = np.asarray(value)
        if arr.dtype.kind == "O":
            raise TypeError(f"Variable {self.name!r}: cannot assign a value of type "
                            f"{type(value).__name__}")
        if arr.shape != self.data.shape:
            raise ValueError(f"Variable {self.name!r}: cannot assign a value of shape "
                             f"{arr.shape} to a variable of shape {self.data.shape}")
        if STATELESS[0]:        # a stand-in call (output shapes): no state changes
            return self
        self.data[...] = arr
        self.bump_version()
        return self

    def assign_add(self, value):
        """``assign(variable + value)``; returns the variable."""
        return self.assign(self.data + self._delta(value))

    def assign_sub(self, value):
        """``assign(variable - value)``; returns the variable."""
        return self.assign(self.data - self._delta(value))

    def __repr__(self):
        return (f"<Variable path={self.name}, shape={self.data.shape}, "
                f"dtype={self.data.dtype.name}, value={self.data}>")


def _initial_value(who, initializer, shape, dtype):
    """The initial ndarray (a fresh copy, the variable's dtype) from the Keras arguments."""
    if isinstance(initializer, str):
        from . import initializers
        initializer = initializers.get(initializer)
    if callable(initializer) and not isinstance(initializer, (Tensor, np.ndarray)):
        if shape is None:
            raise ValueError(f"{who}: an initializer ({initializer!r}) needs shape=; got "
                             f"shape=None")
        shape = _checks.shape(who, shape, "a variable needs one")
        dt = _checks.dtype(who, dtype)
        value = np.asarray(initializer(shape, dtype=dt))
        if value.shape != shape:
            raise ValueError(f"{who}: the initializer {initializer!r} returned shape "
                             f"{value.shape}, expected shape {shape}")
        return np.array(value, dtype=dt)
    if initializer is None:
        raise ValueError(f"{who}: initializer is None; pass an initial value or an "
                         f"initializer with shape=")
    if isinstance(initializer, Tensor):
        value = initializer.data
    else:
        value = initializer
    if dtype is not None:
        dt = _checks.dtype(who, dtype)
    elif isinstance(value, (np.ndarray, np.generic)):
        dt = value.dtype if value.dtype.kind != "f" or value.dtype.itemsize >= 4 else \
            np.dtype(_checks.dtype(who, None))
    else:
        probe = np.asarray(value)
        kind = probe.dtype.kind
        if kind == "O" or kind not in "fiub":
            raise TypeError(f"{who}: cannot make a variable from {type(value).__name__} data"
                            f" ({initializer!r})")
        # Keras's conversion of Python data: floats -> floatx, ints -> int32
        dt = np.dtype(_checks.dtype(who, None)) if kind == "f" else \
            np.dtype("int32") if kind in "iu" else probe.dtype
    try:
        arr = np.array(value, dtype=dt)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who}: cannot convert the initial value {initializer!r} to "
                        f"{np.dtype(dt).name}: {e}") from None
    if shape is not None and tuple(arr.shape) != _checks.shape(who, shape, "a variable needs one"):
        raise ValueError(f"{who}: the initial value has shape {arr.shape}, but shape="
                         f"{tuple(shape)!r} was given")
    return arr
