"""Weight constraints: ``c(w)`` returns the projected weight; the optimizer applies it in place
after every update.

``c`` takes an ndarray (-> ndarray of the same dtype, computed with numpy) or a Tensor
(-> Tensor, built from Tensor ops, so differentiable). Formulas are Keras's, including the
1e-7 in the denominators: MaxNorm multiplies a column already under the limit by
n / (n + 1e-7), not exactly 1.
"""
import numpy as np

from ._registry import Configurable, Registry, deserialize_with, serialize_with
from .tensor import Tensor

registry = Registry("constraint")

EPSILON = 1e-7   # Keras's backend.epsilon() in the denominators


def _sqrt(x):
    return x.sqrt() if isinstance(x, Tensor) else np.sqrt(x)


def _norms(w, axis):
    """sqrt(sum(w**2, axis, keepdims=True)) for an ndarray or a Tensor."""
    return _sqrt((w * w).sum(axis=axis, keepdims=True))


def _as_input(w):
    """A Tensor as is; anything else as a float ndarray (integers become float64)."""
    if isinstance(w, Tensor):
        return w
    w = np.asarray(w)
    return w if w.dtype.kind == "f" else w.astype(np.float64)


def _same_kind(out, w):
    """ndarray in -> ndarray out in w's dtype; Tensor in -> Tensor out."""
    if isinstance(w, Tensor):
        return out
    return np.asarray(out, dtype=w.dtype)


class Constraint(Configurable):
    """Base class: ``__call__(w) -> constrained w`` (same kind); ``get_config``."""

    def __call__(self, w):
        return w


def _check_axis(owner, w, axis):
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    for a in axes:
        if not -w.ndim <= a < max(w.ndim, 1):
            raise ValueError(f"{owner}: axis {axis} is out of range for a weight of shape "
                             f"{w.shape}")


@registry.register("max_norm", "MaxNorm")
class MaxNorm(Constraint):
    """w * clip(n, 0, max_value) / (1e-7 + n), n = the L2 norm along ``axis`` (axis=0 on a
    Dense kernel (in, units): one norm per unit)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = _as_input(w)
        _check_axis("MaxNorm", w, self.axis)
        norms = _norms(w, self.axis)
        desired = norms.clip(0, self.max_value)
        return _same_kind(w * (desired / (EPSILON + norms)), w)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


@registry.register("non_neg", "NonNeg")
class NonNeg(Constraint):
    """w * (w >= 0): negative entries become 0."""

    def __call__(self, w):
        w = _as_input(w)
        return _same_kind(w * (w >= 0), w)


@registry.register("unit_norm", "UnitNorm")
class UnitNorm(Constraint):
    """w / (1e-7 + n), n = the L2 norm along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _as_input(w)
        _check_axis("UnitNorm", w, self.axis)
        return _same_kind(w / (EPSILON + _norms(w, self.axis)), w)

    def get_config(self):
        return {"axis": self.axis}


@registry.register("min_max_norm", "MinMaxNorm")
class MinMaxNorm(Constraint):
    """w * d / (1e-7 + n), d = rate * clip(n, min_value, max_value) + (1 - rate) * n,
    n = the L2 norm along ``axis`` (rate < 1 moves only part of the way each step)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        if min_value > max_value:
            raise ValueError(f"MinMaxNorm: min_value={min_value} is above "
                             f"max_value={max_value}")
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = _as_input(w)
        _check_axis("MinMaxNorm", w, self.axis)
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clip(self.min_value, self.max_value) \
            + (1 - self.rate) * norms
        return _same_kind(w * (desired / (EPSILON + norms)), w)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# the lower-case names are the classes, as in keras.constraints
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm


def get(identifier):
    """A constraint from a name ("max_norm", "MaxNorm", ...), a config dict, a class, an
    instance or a ``w -> w`` callable; None -> None."""
    return registry.get(identifier)


def serialize(constraint):
    """``{"class_name": ..., "config": ...}`` (a plain function: its name)."""
    return serialize_with(registry, constraint)


def deserialize(config, custom_objects=None):
    """Rebuild a constraint saved by ``serialize``."""
    return deserialize_with(registry, config, custom_objects)
