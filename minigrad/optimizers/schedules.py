"""Learning-rate schedules: functions of the optimizer step, with Keras 3 formulas and configs.

An optimizer whose ``learning_rate`` is a schedule uses ``schedule(k)`` for its step k
(0-based, read before the step counter is incremented), as Keras does. Every schedule is a
plain object with ``__call__(step) -> float``, ``get_config()`` and ``from_config(cfg)``;
``serialize`` / ``deserialize`` turn it into ``{"class_name", "config"}`` and back.
"""
import math
from itertools import pairwise

from .. import _checks
from .._registry import Registry

_registry = Registry("learning rate schedule")


def _checked(owner, **values):
    """Check each argument by the kind its name says; the values are stored as given (an int
    stays an int in the config, as in Keras)."""
    for name, value in values.items():
        if name in ("decay_steps", "first_decay_steps", "t_mul"):
            _checks.positive(owner, name, value)
        elif name in ("staircase", "cycle"):
            _checks.boolean(owner, name, value)
        elif name == "warmup_steps":
            _checks.nonneg(owner, name, value)
        elif not (name == "warmup_target" and value is None):
            _checks.number(owner, name, value)


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
        _checked(type(self).__name__, initial_learning_rate=initial_learning_rate,
                 decay_steps=decay_steps, decay_rate=decay_rate, staircase=staircase)
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
        for k, b in enumerate(boundaries):
            _checks.number("PiecewiseConstantDecay", f"boundaries[{k}]", b)
        for k, v in enumerate(values):
            _checks.number("PiecewiseConstantDecay", f"values[{k}]", v)
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
    else the cosine formula above from ``warmup_target`` at s - warmup_steps (alpha applies
    to the decay only; ``warmup_steps`` is ignored while ``warmup_target`` is None).
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _checked("CosineDecay", initial_learning_rate=initial_learning_rate,
                 decay_steps=decay_steps, alpha=alpha, warmup_target=warmup_target,
                 warmup_steps=warmup_steps)
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


@_registry.register("PolynomialDecay")
class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` (Keras 3):

        lr = (initial_learning_rate - end_learning_rate) * (1 - s / D) ** power
             + end_learning_rate

    Without ``cycle``: s = min(step, decay_steps), D = decay_steps (constant at
    ``end_learning_rate`` afterwards). With ``cycle``: s = step and D = decay_steps *
    ceil(step / decay_steps) (D = decay_steps at step 0), so the decay restarts from a
    smaller height after every multiple of decay_steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        _checked("PolynomialDecay", initial_learning_rate=initial_learning_rate,
                 decay_steps=decay_steps, end_learning_rate=end_learning_rate, power=power,
                 cycle=cycle)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        if self.cycle:
            span = self.decay_steps * (math.ceil(step / self.decay_steps) if step != 0 else 1)
        else:
            span, step = self.decay_steps, min(step, self.decay_steps)
        height = self.initial_learning_rate - self.end_learning_rate
        return height * (1.0 - step / span) ** self.power + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


@_registry.register("CosineDecayRestarts")
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter), as Keras 3.

    Period i (i = 0, 1, ...) lasts ``first_decay_steps * t_mul**i`` steps and starts at
    ``initial_learning_rate * m_mul**i``. With f = step / first_decay_steps, the period is
    i = floor(f) when t_mul == 1, else i = floor(log(1 - f*(1 - t_mul)) / log(t_mul)), and the
    fraction done in it is x = f - i (t_mul == 1) or (f - (1 - t_mul**i)/(1 - t_mul)) /
    t_mul**i. Then

        lr = initial_learning_rate * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * x)) + alpha)

    The period index is corrected by one where the logarithm's rounding lands it on the wrong
    side of a restart step (so x is always in [0, 1)); Keras computes it in float32 without
    that correction. With t_mul < 1 the periods shrink and sum to first_decay_steps /
    (1 - t_mul); past that step the rate is NaN, as in Keras (an optimizer then raises).
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _checked("CosineDecayRestarts", initial_learning_rate=initial_learning_rate,
                 first_decay_steps=first_decay_steps, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def _period(self, f):
        """(i, x): the period index of the fraction f and the part of period i done."""
        t_mul = self.t_mul
        if t_mul == 1.0:
            i = math.floor(f)
            return i, f - i
        arg = 1.0 - f * (1.0 - t_mul)
        if arg <= 0.0:   # t_mul < 1: past the total length of the ever shorter periods
            return math.nan, math.nan
        i = math.floor(math.log(arg) / math.log(t_mul))

        def start(k):   # where period k begins, in units of first_decay_steps
            return (1.0 - t_mul ** k) / (1.0 - t_mul)
        if start(i) > f:
            i -= 1
        elif start(i + 1) <= f:
            i += 1
        return i, (f - start(i)) / t_mul ** i

    def __call__(self, step):
        i, x = self._period(step / self.first_decay_steps)
        cosine = 0.5 * self.m_mul ** i * (1.0 + math.cos(math.pi * x))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


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
