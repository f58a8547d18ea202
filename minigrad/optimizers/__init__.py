"""Optimizers with Keras 3 formulas, each update one fused in-place numba kernel per variable.

``get("adam")`` / ``get(Adam(...))`` / ``get({"class_name": "Adam", "config": {...}})``;
``serialize(opt)`` -> ``{"class_name", "config"}``; ``deserialize(cfg, custom_objects)``.
Learning-rate schedules live in ``minigrad.optimizers.schedules``.
"""
from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer
from .base import registry as _registry
from .ftrl import Ftrl
from .lion import Lion
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lion", "Nadam",
           "Optimizer", "RMSprop", "deserialize", "get", "schedules", "serialize"]


def get(identifier):
    """An optimizer from a name ("sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam",
    "adamax", "adadelta", "ftrl", "lion": Keras defaults), a
    ``{"class_name", "config"}`` dict, a class or an instance (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    opt = _registry.get(identifier)
    if not isinstance(opt, Optimizer):
        raise TypeError(f"Could not interpret optimizer identifier {identifier!r}: expected "
                        f"a name ({', '.join(_registry.names())}), a config dict, an "
                        f"Optimizer class or an Optimizer instance")
    return opt


def serialize(optimizer):
    """``{"class_name": <class name>, "config": optimizer.get_config()}``."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config, custom_objects=None):
    """An optimizer from ``serialize``'s output; ``custom_objects`` resolves user classes,
    schedule classes and named learning-rate functions."""
    return Optimizer.from_config(config, custom_objects)
