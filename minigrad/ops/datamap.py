"""DataMap: a computation on data that carries no gradient (labels, sample weights, the
augmentation of a model's inputs), run inside an op.

Such values could be computed with numpy before the ops that use them, but then they would be
constants of the graph, fixed when a training step is captured (models/tape.py refuses them).
As an op, the computation runs again on each replayed step's data, random draws included.
"""
from ..function import Function


class DataMap(Function):
    """y = fn(*xs, *args): ``fn`` a module-level function or a bound method (so that two
    steps pass the same one), ``args`` hashable settings. No gradient flows through it."""

    casts_ints = False

    def forward(self, *xs, fn=None, args=()):
        return fn(*xs, *args)

    def backward(self, g):
        raise RuntimeError("DataMap: a computation on data carries no gradient; build a "
                           "differentiable path from Tensor ops")


def data_map(fn, *xs, args=()):
    """``DataMap`` of ``fn`` on arrays or Tensors: a Tensor without a gradient."""
    return DataMap.apply(*xs, fn=fn, args=tuple(args))
