"""Dropout: inverted dropout in training, identity at inference (Keras semantics)."""
import numpy as np

from .. import _checks
from .. import random as _random
from ..ops.dropout import dropout
from ..tensor import Tensor
from .base import Layer


def noise_shape_for(layer, noise_shape, shape):
    """The mask shape for an input of ``shape`` from a Keras ``noise_shape`` (None: the input's
    shape; a None entry takes the input's size there). It must have the input's rank and
    broadcast to the input's shape (each entry 1 or the input's size); the ValueError names
    the layer."""
    return _checks.noise_shape(f"{type(layer).__name__} {layer.name!r}", noise_shape, shape)


class Dropout(Layer):
    """In training, each element is zeroed with probability ``rate`` and the survivors are
    scaled by 1/(1 - rate), so E[y] = x; at inference y = x (the same Tensor, no node).

    ``noise_shape``: the shape of the mask, broadcast against the input (None entries take the
    input's size), e.g. (batch, 1, features) drops whole features for every time step.
    ``seed=k`` gives the layer its own generator; None draws from the global one at call time,
    so ``minigrad.random.seed(n)`` fixes the masks of layers built earlier too."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _checks.rate(f"Dropout {self.name!r}", "rate", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else _random.make_generator(seed)

    def call(self, x, training=False):
        if not training or self.rate == 0.0:
            return x
        if self.noise_shape is None:
            return dropout(x, self.rate, training=True, rng=self._rng)
        return x * dropout(Tensor._make(self._mask_ones(x.shape), None), self.rate,
                           training=True, rng=self._rng)

    def _mask_ones(self, shape):
        return np.ones(noise_shape_for(self, self.noise_shape, shape), dtype=self.dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(rate=self.rate, seed=self.seed,
                   noise_shape=None if self.noise_shape is None else list(self.noise_shape))
        return cfg
