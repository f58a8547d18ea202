"""Inverted dropout (Keras's Dropout): an identity outside training.

The cost is the mask: uniform floats are drawn in the input's dtype (float32 draws are
cheaper than float64 ones) from the global generator looked up at call time, so
``minigrad.random.seed(n)`` fixes every mask; one kernel pass then writes the output and a
one-byte mask together, and only the mask is kept for backward.
"""
import numpy as np

from .. import random as _random
from .._kernel import flat, kernel
from ..function import Function
from ..tensor import Tensor


@kernel
def _dropout_fwd(x, u, rate, scale, out, mask):
    for i in range(x.size):
        if u[i] >= rate:
            out[i] = x[i] * scale
            mask[i] = 1
        else:
            out[i] = 0.0    # not x * 0: a dropped inf or nan must not leak through
            mask[i] = 0


@kernel
def _dropout_bwd(g, mask, scale, out):
    for i in range(g.size):
        out[i] = g[i] * scale if mask[i] else 0.0


class Dropout(Function):
    """y = x * m / (1 - rate), m_i = [u_i >= rate], u_i ~ U[0, 1) drawn per call.

    VJP: dx = g * m / (1 - rate). With rate == 1 every unit is dropped: y = 0, dx = 0."""

    def forward(self, x, rate=0.5, rng=None):
        self.shape = x.shape
        if rate >= 1.0:
            self.save(None)
            return np.zeros_like(x)
        gen = _random.generator() if rng is None else rng
        u = gen.random(x.shape, dtype=x.dtype)
        # the scale in x's dtype, so float32 survivors are float32(x * float32(1/(1-rate)))
        self.scale = x.dtype.type(1.0 / (1.0 - rate))
        y = np.empty(x.shape, dtype=x.dtype)
        mask = np.empty(x.shape, dtype=np.uint8)
        _dropout_fwd(flat(x), u.reshape(-1), float(rate), self.scale, y.reshape(-1),
                     mask.reshape(-1))
        self.save(mask)
        return y

    def backward(self, g):
        (mask,) = self.saved
        if mask is None:
            return np.zeros(self.shape, dtype=g.dtype)
        dx = np.empty(g.shape, dtype=g.dtype)
        _dropout_bwd(flat(g), mask.reshape(-1), self.scale, dx.reshape(-1))
        return dx


def dropout(x, rate, training=False, rng=None):
    """Inverted dropout (see Dropout): drops each unit with probability ``rate`` and scales
    the survivors by 1/(1 - rate) when ``training`` is truthy; otherwise returns ``x``
    itself (no graph node). ``rng``: a numpy Generator, default the global one at call time.
    """
    is_number = isinstance(rate, (int, float, np.integer, np.floating))
    if isinstance(rate, bool) or not is_number or not 0.0 <= rate <= 1.0:
        raise ValueError(f"dropout: rate must be a number in [0, 1], got {rate!r}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"dropout: rng must be a numpy.random.Generator or None, got "
                        f"{type(rng).__name__}")
    if not training or rate == 0:
        return x if isinstance(x, Tensor) else Tensor(x)
    return Dropout.apply(x, rate=float(rate), rng=rng)
