"""Weight initializers: ``init(shape, dtype=None) -> ndarray`` with Keras 3's formulas.

Every random initializer draws from ``minigrad.random.generator()`` looked up at call time
(so ``minigrad.random.seed(n)`` fixes them all), or, given ``seed=k``, from a generator made
afresh from ``k`` on every call: a seeded instance returns the same values each time, as in
Keras. ``dtype=None`` means ``minigrad.config.floatx()``. Truncated normals are exact: every
sample lies strictly within 2 standard deviations of the mean (Keras's torch backend lets a
few in a million through).
"""
import math

import numpy as np

from . import config
from . import random as _random
from ._registry import Configurable, Registry, deserialize_with, serialize_with

# std of a standard normal truncated to (-2, 2): dividing by it gives the truncated draw the
# variance asked for (Keras's constant)
TRUNCATED_STD = 0.87962566103423978

registry = Registry("initializer")


def compute_fans(shape):
    """(fan_in, fan_out) as Keras: (in, out) for a 2-D kernel; for rank > 2 (convolution
    kernels ``(*receptive_field, in, out)``) both times the receptive-field size; a 1-D shape
    (n,) gives (n, n) and a scalar shape (1, 1)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive = math.prod(shape[:-2])
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


def _shape(name, shape):
    """A tuple of non-negative ints from an int or a sequence, or a ValueError naming ``name``."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        out = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: shape must be a tuple of ints, got {shape!r}") from None
    if any(n < 0 for n in out):
        raise ValueError(f"{name}: shape {out} has a negative dimension")
    return out


def _float_dtype(name, dtype):
    dt = np.dtype(config.floatx() if dtype is None else dtype)
    if dt.kind != "f":
        raise ValueError(f"{name}: random values need a float dtype, got {dt}")
    return dt


class Initializer(Configurable):
    """Base class: ``__call__(shape, dtype=None) -> ndarray``; ``get_config``/``from_config``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError


@registry.register("zeros", "Zeros")
class Zeros(Initializer):
    """All zeros (any dtype)."""

    def __call__(self, shape, dtype=None):
        return np.zeros(_shape("Zeros", shape), dtype=config.floatx() if dtype is None else dtype)


@registry.register("ones", "Ones")
class Ones(Initializer):
    """All ones (any dtype)."""

    def __call__(self, shape, dtype=None):
        return np.ones(_shape("Ones", shape), dtype=config.floatx() if dtype is None else dtype)


@registry.register("constant", "Constant")
class Constant(Initializer):
    """``value`` (a scalar, or an array broadcast to the shape)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        shape = _shape("Constant", shape)
        try:
            out = np.broadcast_to(np.asarray(self.value), shape)
        except ValueError:
            raise ValueError(f"Constant: value of shape {np.shape(self.value)} cannot be "
                             f"broadcast to the shape {shape}") from None
        # astype copies: the broadcast view is read-only
        return out.astype(config.floatx() if dtype is None else dtype)

    def get_config(self):
        value = self.value
        return {"value": value.tolist() if isinstance(value, np.ndarray) else value}


class RandomInitializer(Initializer):
    """Base of the random initializers: ``seed=None`` (global generator) or an int."""

    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, (int, np.integer))
                                 or isinstance(seed, bool) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be None or a non-negative "
                             f"int, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def _rng(self):
        # a fresh generator per call: a seeded initializer repeats its values, as in Keras
        if self.seed is None:
            return _random.generator()
        return np.random.default_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


def _standard_normal(rng, shape, dt):
    if dt in (np.float32, np.float64):
        return rng.standard_normal(shape, dtype=dt)
    return rng.standard_normal(shape).astype(dt)


def truncated_standard_normal(rng, shape, dt):
    """Standard normal draws all strictly inside (-2, 2): the rejected ones are redrawn,
    vectorised, until none is left (each round keeps about 95 % of those it redraws)."""
    z = _standard_normal(rng, shape, dt).reshape(-1)
    bad = np.flatnonzero(np.abs(z) >= 2.0)
    while bad.size:
        z[bad] = _standard_normal(rng, bad.size, dt)
        bad = bad[np.abs(z[bad]) >= 2.0]
    return z.reshape(shape)


def _uniform(rng, shape, dt, low, high):
    u = rng.random(shape, dtype=dt) if dt in (np.float32, np.float64) else rng.random(shape)
    return (low + (high - low) * u).astype(dt, copy=False)


@registry.register("random_normal", "RandomNormal")
class RandomNormal(RandomInitializer):
    """Normal(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None):
        dt = _float_dtype("RandomNormal", dtype)
        z = _standard_normal(self._rng(), _shape("RandomNormal", shape), dt)
        return (self.mean + self.stddev * z).astype(dt, copy=False)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@registry.register("random_uniform", "RandomUniform")
class RandomUniform(RandomInitializer):
    """Uniform on [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None):
        dt = _float_dtype("RandomUniform", dtype)
        shape = _shape("RandomUniform", shape)
        return _uniform(self._rng(), shape, dt, self.minval, self.maxval)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


@registry.register("truncated_normal", "TruncatedNormal")
class TruncatedNormal(RandomInitializer):
    """mean + stddev * z with z standard normal truncated exactly to (-2, 2)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None):
        dt = _float_dtype("TruncatedNormal", dtype)
        shape = _shape("TruncatedNormal", shape)
        z = truncated_standard_normal(self._rng(), shape, dt)
        return (self.mean + self.stddev * z).astype(dt, copy=False)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


@registry.register("variance_scaling", "VarianceScaling")
class VarianceScaling(RandomInitializer):
    """Draws with variance ``scale / n``, n = max(1, fan_in | fan_out | (fan_in+fan_out)/2).

    truncated_normal ("normal"): stddev sqrt(scale/n) / 0.8796... before truncation at 2
    stddev (so the result has variance scale/n); untruncated_normal: stddev sqrt(scale/n);
    uniform: on [-limit, limit), limit = sqrt(3 scale / n)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        name = type(self).__name__
        try:
            ok = math.isfinite(float(scale)) and float(scale) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{name}: scale must be a positive number, got {scale!r}")
        if mode not in _MODES:
            raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"{name}: distribution must be one of {_DISTRIBUTIONS} (or "
                             f"'normal'), got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None):
        name = type(self).__name__
        dt = _float_dtype(name, dtype)
        shape = _shape(name, shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        variance = self.scale / max(1.0, n[self.mode])
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return _uniform(rng, shape, dt, -limit, limit)
        if self.distribution == "untruncated_normal":
            return (math.sqrt(variance) * _standard_normal(rng, shape, dt)).astype(dt)
        stddev = math.sqrt(variance) / TRUNCATED_STD
        return (stddev * truncated_standard_normal(rng, shape, dt)).astype(dt, copy=False)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _PresetVarianceScaling(VarianceScaling):
    """VarianceScaling with fixed (scale, mode, distribution); only ``seed`` is config."""

    preset = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None):
        super().__init__(*self.preset, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


@registry.register("glorot_normal", "GlorotNormal")
class GlorotNormal(_PresetVarianceScaling):
    """Truncated normal, stddev sqrt(2/(fan_in+fan_out))/0.8796... before truncation."""

    preset = (1.0, "fan_avg", "truncated_normal")


@registry.register("glorot_uniform", "GlorotUniform")
class GlorotUniform(_PresetVarianceScaling):
    """Uniform on [-limit, limit), limit = sqrt(6/(fan_in+fan_out))."""

    preset = (1.0, "fan_avg", "uniform")


@registry.register("he_normal", "HeNormal")
class HeNormal(_PresetVarianceScaling):
    """Truncated normal, stddev sqrt(2/fan_in)/0.8796... before truncation."""

    preset = (2.0, "fan_in", "truncated_normal")


@registry.register("he_uniform", "HeUniform")
class HeUniform(_PresetVarianceScaling):
    """Uniform on [-limit, limit), limit = sqrt(6/fan_in)."""

    preset = (2.0, "fan_in", "uniform")


@registry.register("lecun_normal", "LecunNormal")
class LecunNormal(_PresetVarianceScaling):
    """Truncated normal, stddev sqrt(1/fan_in)/0.8796... before truncation."""

    preset = (1.0, "fan_in", "truncated_normal")


@registry.register("lecun_uniform", "LecunUniform")
class LecunUniform(_PresetVarianceScaling):
    """Uniform on [-limit, limit), limit = sqrt(3/fan_in)."""

    preset = (1.0, "fan_in", "uniform")


@registry.register("orthogonal", "Orthogonal")
class Orthogonal(RandomInitializer):
    """``gain * Q`` with Q from the QR decomposition of a standard normal matrix of shape
    (max(r, c), min(r, c)), r = prod(shape[:-1]), c = shape[-1]; columns signed by diag(R)
    (so Q is uniformly distributed), transposed when r < c, reshaped to ``shape``."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def __call__(self, shape, dtype=None):
        dt = _float_dtype("Orthogonal", dtype)
        shape = _shape("Orthogonal", shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the shape must have rank >= 2, got {shape} of "
                             f"rank {len(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _standard_normal(self._rng(), (max(rows, cols), min(rows, cols)), dt)
        q, r = np.linalg.qr(a.astype(np.float64))
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dt)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


# lower-case aliases, as keras.initializers exposes them
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_normal, glorot_uniform, he_normal, he_uniform = (
    GlorotNormal, GlorotUniform, HeNormal, HeUniform)
lecun_normal, lecun_uniform = LecunNormal, LecunUniform


# ---- resolving and saving -------------------------------------------------------------------
def get(identifier):
    """An initializer from a name ("glorot_uniform", "GlorotUniform"), a config dict, a class,
    an instance or any ``(shape, dtype) -> ndarray`` callable; None -> None."""
    return registry.get(identifier)


def serialize(initializer):
    """``{"class_name": ..., "config": ...}`` for an Initializer; a function's name."""
    return serialize_with(registry, initializer)


def deserialize(config, custom_objects=None):
    """Rebuild an initializer saved by ``serialize``."""
    return deserialize_with(registry, config, custom_objects)
