"""The noise layers' op: the draw happens inside ``forward`` (not in the layer's ``call``), so
a replayed training step (models/tape.py) draws the same numbers in the same order as the
eager step."""
import numpy as np

from ..function import Function


class RandomAffine(Function):
    """y = x * s + t with (s, t) = draw(x.shape, x.dtype) drawn per call (either may be None:
    no scale, no shift); s and t broadcast to x. VJP: dx = g * s (g where s is None).
    GaussianNoise is t ~ N(0, sd^2), GaussianDropout s ~ N(1, r/(1-r)), AlphaDropout a
    keep-mask scale and shift."""

    def forward(self, x, draw=None):
        scale, shift = draw(x.shape, x.dtype)
        y = x if scale is None else x * scale
        if shift is not None:
            y = y + shift
        self.save(scale)
        return y if y is not x else x.copy()

    def backward(self, g):
        scale = self.saved[0]
        if scale is None:
            return g
        dx = g * scale
        return dx if dx.shape == g.shape else np.broadcast_to(dx, g.shape).copy()
