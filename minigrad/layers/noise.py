"""Regularisation layers besides Dropout, as Keras 3 (keras/src/layers/regularization):
GaussianNoise, GaussianDropout and AlphaDropout act only when training (identity, the same
Tensor, at inference); ActivityRegularization adds its penalty on every call.

Noise is drawn from the layer's own generator when ``seed`` is given, else from minigrad's
global generator at call time (so ``minigrad.random.seed(n)`` fixes it). The draws are
drawn inside an op (ops/noise.py, so a replayed step draws them too); the gradient flows
through x only.
"""
import math

import numpy as np

from .. import _checks, regularizers
from .. import random as _random
from ..ops.noise import RandomAffine
from .base import Layer
from .dropout import noise_shape_for

# SELU's constants (Klambauer et al. 2017), as Keras's AlphaDropout writes them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _NoiseLayer(Layer):
    """A layer with a ``seed`` and a generator looked up at call time."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None:
            _checks.integer(f"{type(self).__name__} {self.name!r}", "seed", seed, lo=0)
        self.seed = seed
        self._rng = None if seed is None else _random.make_generator(seed)

    def _generator(self):
        return self._rng if self._rng is not None else _random.generator()

    def get_config(self):
        cfg = super().get_config()
        cfg.update(seed=self.seed)
        return cfg


class GaussianNoise(_NoiseLayer):
    """Training: y = x + n, n ~ N(0, stddev^2) drawn per element; inference: y = x.
    ``stddev`` in [0, 1] (Keras 3's range)."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _checks.in_range(f"GaussianNoise {self.name!r}", "stddev", stddev,
                                       0.0, 1.0)

    def call(self, x, training=False):
        if not training or self.stddev == 0.0:
            return x
        return RandomAffine.apply(x, draw=self._draw)

    def _draw(self, shape, dtype):
        return None, self._generator().normal(0.0, self.stddev, shape).astype(dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(stddev=self.stddev)
        return cfg


class GaussianDropout(_NoiseLayer):
    """Training: y = x * n, n ~ N(1, rate / (1 - rate)) per element (mean kept, variance
    as dropout's); inference: y = x. ``rate`` in [0, 1) (rate 1 would be an infinite
    standard deviation: Keras fails with ZeroDivisionError at the call)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _checks.rate(f"GaussianDropout {self.name!r}", "rate", rate, hi_open=True)

    def call(self, x, training=False):
        if not training or self.rate == 0.0:
            return x
        return RandomAffine.apply(x, draw=self._draw)

    def _draw(self, shape, dtype):
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return self._generator().normal(1.0, stddev, shape).astype(dtype), None

    def get_config(self):
        cfg = super().get_config()
        cfg.update(rate=self.rate)
        return cfg


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps SELU's self-normalising mean and variance. Training, with
    keep = (u >= rate), u ~ U[0, 1) per element of ``noise_shape`` (None entries take the
    input's size), alpha' = -SELU_alpha * SELU_scale,
    a = ((1 - rate) * (1 + rate * alpha'^2))^-1/2, b = -a * alpha' * rate:
    y = a * (x * keep + alpha' * (1 - keep)) + b. Inference: y = x. ``rate`` in [0, 1)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _checks.rate(f"AlphaDropout {self.name!r}", "rate", rate, hi_open=True)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, x, training=False):
        if not training or self.rate == 0.0:
            return x
        noise_shape_for(self, self.noise_shape, x.shape)     # a bad one fails here, named
        return RandomAffine.apply(x, draw=self._draw)

    def _draw(self, shape, dtype):
        mask_shape = noise_shape_for(self, self.noise_shape, shape)
        keep = self._generator().random(mask_shape) >= self.rate
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        # a * (x * keep + alpha' * (1 - keep)) + b as one scale and one shift of x
        return (np.where(keep, a, 0.0).astype(dtype),
                np.where(keep, b, a * alpha_p + b).astype(dtype))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(rate=self.rate,
                   noise_shape=None if self.noise_shape is None else list(self.noise_shape))
        return cfg


class ActivityRegularization(Layer):
    """y = x, and on every call the penalty (l1 * sum|x| + l2 * sum x^2) / batch size joins
    the layer's ``losses`` (Keras 3 divides activity penalties by the batch size)."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)      # the config never carries it
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = self.activity_regularizer.l1, self.activity_regularizer.l2

    def call(self, x):
        return x

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("activity_regularizer", None)
        cfg.update(l1=self.l1, l2=self.l2)
        return cfg
