"""Learning-rate schedules: functions of the optimizer step, with Keras 3 formulas and configs.

An optimizer whose ``learning_rate`` is a schedule uses ``schedule(k)`` for its step k
(0-based, read before the step counter is incremented), as Keras does. Every schedule is a
plain object with ``__call__(step) -> float``, ``get_config()`` and ``from_config(cfg)``;
``serialize`` / ``deserialize`` turn it into ``{"class_name", "config"}`` and back.
"""
import math
from itertools import pairwise

from .._registry import Registry

_registry = Registry("learning rate schedule")


def _check_decay_steps(owner, decay_steps):
    if not decay_steps > 0:
        raise ValueError(f"{owner}: decay_steps must be > 0, got {decay_steps!r}")


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self):
        raise NotImplementedError(
            f"{type(self).__name__} must implement get_config() to be serialisable")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            config = self.get_config()
        except NotImplementedError:   # a user schedule without a config
            return f"<{type(self).__name__}>"
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


class _DecaySchedule(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments, their config and
    the progress p = step / decay_steps (floored when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _check_decay_steps(type(self).__name__, decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _progress(self, step):
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


@_registry.register("ExponentialDecay")
class ExponentialDecay(_DecaySchedule):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps).

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``.
    """

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


@_registry.register("InverseTimeDecay")
class InverseTimeDecay(_DecaySchedule):
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps).

    With ``staircase=True``, ``step / decay_steps`` is floored.
    """

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


@_registry.register("PiecewiseConstantDecay")
class PiecewiseConstantDecay(LearningRateSchedule):
    """lr(step) = values[0] if step <= boundaries[0]; values[i] if boundaries[i-1] < step <=
    boundaries[i]; values[-1] if step > boundaries[-1].  ``len(values) == len(boundaries)+1``.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"PiecewiseConstantDecay: boundaries must have one element fewer than values; "
                f"got {len(boundaries)} boundaries {boundaries} and {len(values)} values "
                f"{values}")
        if any(b >= c for b, c in pairwise(boundaries)):
            raise ValueError(
                f"PiecewiseConstantDecay: boundaries must be strictly increasing, got "
                f"{boundaries}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values),
                "name": self.name}


@_registry.register("CosineDecay")
class CosineDecay(LearningRateSchedule):
    """Cosine decay with an optional linear warmup (Keras 3).

    Without ``warmup_target``: s = min(step, decay_steps),
    lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha).
    With ``warmup_target``: s = min(step, warmup_steps + decay_steps); for s < warmup_steps
    lr = initial_learning_rate + (warmup_target - initial_learning_rate) * s / warmup_steps,
    else the cosine formula above from ``warmup_target`` at s - warmup_steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_steps("CosineDecay", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step, decay_from):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return decay_from * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (step / self.warmup_steps) + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


def serialize(schedule):
    """``{"class_name": ..., "config": ...}`` for a schedule object."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"schedules.serialize: expected a LearningRateSchedule, got "
                        f"{schedule!r}")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config, custom_objects=None):
    """A schedule from ``{"class_name", "config"}``; ``custom_objects`` maps the names of
    user-defined schedule classes to the classes."""
    name = config["class_name"]
    if isinstance(name, type):   # already resolved (e.g. by a loader's custom_objects pass)
        return name.from_config(config.get("config", {}))
    cls = (custom_objects or {}).get(name) or _registry.lookup(name)
    return cls.from_config(config.get("config", {}))
