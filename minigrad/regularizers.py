"""Weight penalties as graph terms: ``reg(weight) -> scalar Tensor`` added to the loss.

The penalty is built from Tensor ops, so its gradient comes from the graph like every other
gradient: ``l1 * sum(|w|)`` gives ``l1 * sign(w)`` (0 at w = 0, as Keras/torch), and
``l2 * sum(w*w)`` gives ``2 * l2 * w`` (Keras has no 1/2 factor).
"""
import math

import numpy as np

from . import config
from ._registry import Configurable, Registry, deserialize_with, serialize_with
from .tensor import Tensor

registry = Registry("regularizer")


def _factor(owner, arg, value, default):
    """A finite non-negative float (``None`` -> ``default``), else a ValueError naming it."""
    if value is None:
        return default
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {arg} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{owner}: {arg} must be a finite number >= 0, got {value!r}")
    return v


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class Regularizer(Configurable, config.Watched):
    """Base class: ``__call__(weight) -> scalar Tensor``; ``get_config``/``from_config``."""

    def __call__(self, x):
        raise NotImplementedError


@registry.register("l1", "L1")
class L1(Regularizer):
    """penalty = l1 * sum(|w|);  d/dw = l1 * sign(w)."""

    def __init__(self, l1=0.01):
        self.l1 = _factor("L1", "l1", l1, 0.01)

    def __call__(self, x):
        return self.l1 * _tensor(x).abs().sum()

    def get_config(self):
        return {"l1": self.l1}


@registry.register("l2", "L2")
class L2(Regularizer):
    """penalty = l2 * sum(w**2) (no 1/2);  d/dw = 2 * l2 * w."""

    def __init__(self, l2=0.01):
        self.l2 = _factor("L2", "l2", l2, 0.01)

    def __call__(self, x):
        x = _tensor(x)
        return self.l2 * (x * x).sum()

    def get_config(self):
        return {"l2": self.l2}


@registry.register("l1_l2", "L1L2")
class L1L2(Regularizer):
    """penalty = l1 * sum(|w|) + l2 * sum(w**2); a zero factor adds no term (both zero:
    a constant 0 in the weight's dtype, with no graph)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor("L1L2", "l1", l1, 0.0)
        self.l2 = _factor("L1L2", "l2", l2, 0.0)

    def __call__(self, x):
        x = _tensor(x)
        terms = []
        if self.l1:
            terms.append(self.l1 * x.abs().sum())
        if self.l2:
            terms.append(self.l2 * (x * x).sum())
        if not terms:
            return Tensor(np.zeros((), dtype=x.dtype))
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# the lower-case names are the classes, as in keras.regularizers
l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier):
    """A regularizer from a name ("l1", "l2", "l1_l2", class names), a config dict, a class,
    an instance or a ``Tensor -> scalar Tensor`` callable; None -> None."""
    return registry.get(identifier)


def serialize(regularizer):
    """``{"class_name": ..., "config": ...}`` (a plain function: its name)."""
    return serialize_with(registry, regularizer)


def deserialize(config, custom_objects=None):
    """Rebuild a regularizer saved by ``serialize``."""
    return deserialize_with(registry, config, custom_objects)
