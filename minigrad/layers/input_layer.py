"""``InputLayer`` and ``Input``: where a functional model's graph starts.

``Input(shape=(64,))`` returns a symbolic tensor (``KerasTensor``) of shape ``(None, 64)``
whose history is an ``InputLayer``; calling layers on it records the graph that
``Model(inputs, outputs)`` runs. As the first element of a ``Sequential`` it fixes the
per-sample input shape and is absent from ``layers`` and ``weights``.
"""
import numpy as np

from .base import Layer, _float_dtype, unique_name
from .symbolic import KerasTensor, Node


def _per_sample(shape, who):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{who}: shape must be a tuple of dimensions, got {shape!r}") from None
    if any(d is not None and d <= 0 for d in shape):
        raise ValueError(f"{who}: dimensions must be positive (or None), got {shape}")
    return shape


class InputLayer(Layer):
    """The layer behind ``Input``: identity on data; ``output`` is its symbolic tensor."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 **kwargs):
        if shape is None and batch_shape is None:
            raise ValueError("InputLayer: give shape= (per sample) or batch_shape=")
        if shape is None:
            batch_shape = tuple(batch_shape)
            batch_size, shape = batch_shape[0], batch_shape[1:]
        shape = _per_sample(shape, "Input")
        super().__init__(name=name or unique_name("input_layer"),
                         dtype=_float_dtype(dtype, "Input"), **kwargs)
        self.shape = shape
        self.batch_size = batch_size
        self.batch_shape = (batch_size,) + shape
        self.built = True
        self._build_shape = (None,) + shape
        output = KerasTensor((None,) + shape, self.dtype, self.name)
        node = Node(self, [], output)
        output.node = node
        self._inbound_nodes.append(node)     # ``output`` (Layer's) reads it

    def call(self, x, training=False):
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "batch_shape": list(self.batch_shape)}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):  # noqa: N802
    """A symbolic input of per-sample ``shape`` (batch axis None): ``Input((64,)).shape ==
    (None, 64)``. Keras's function of the same name."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                      batch_shape=batch_shape).output
