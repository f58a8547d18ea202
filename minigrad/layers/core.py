"""Core layers: Dense, Flatten, Activation (``Input`` lives in ``input_layer.py``)."""
import math

import numpy as np

from .. import activations, constraints, initializers, regularizers
from .._registry import canonical
from ..ops.linear import linear
from ..ops.softmax import softmax
from .base import InputSpec, Layer, serialize_or_none

# activations the fused linear kernel finishes in its epilogue
FUSABLE = ("relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh")


def activation_name(fn):
    """The name of an activation: its registered name for a built-in one ("relu"), else the
    callable's ``__name__`` (or a layer's ``name``); None for no activation or "linear"."""
    if fn is None:
        return None
    try:
        name = activations.serialize(fn)
    except (TypeError, ValueError):
        name = None
    if not isinstance(name, str):
        name = getattr(fn, "__name__", None) or getattr(fn, "name", None) or type(fn).__name__
    return None if name == "linear" else name


def activation_kind(fn):
    """How Dense runs ``fn``: ("none", None) for no activation or minigrad's linear,
    ("fused", name) for a built-in elementwise one the linear kernel finishes, ("softmax",
    None) for minigrad's softmax, ("callable", None) otherwise. Only minigrad's own functions
    are fused: a user function that happens to be called "relu" is applied as a callable."""
    if fn is None:
        return "none", None
    name = activation_name(fn)
    try:
        builtin = activations.get(name or "linear") is fn
    except (TypeError, ValueError):
        builtin = False
    if not builtin:
        return "callable", None
    if name is None:
        return "none", None
    key = canonical(name)
    if key == "softmax":
        return "softmax", None
    for fused in FUSABLE:
        if canonical(fused) == key:
            return "fused", fused
    return "callable", None


def serialize_activation(fn):
    """The activation's saved name ("linear" for none; a custom function by its name, resolved
    on load through ``custom_objects``; a lambda raises ValueError, as saving must)."""
    return activations.serialize(fn)


class Dense(Layer):
    """y = activation(x @ kernel + bias), kernel of shape (input_dim, units), applied to the
    last axis of an input of any rank >= 2.

    Built-in elementwise activations run fused in ``functional.linear`` (probe tag = the layer
    name); "softmax" computes the logits with ``linear``, then a softmax node (the losses read
    the logits from it); any other callable is applied to ``linear``'s output."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense {self.name!r}: units must be a positive integer, "
                             f"got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.activation_name = activation_name(self.activation)
        self._kind, self._fused = activation_kind(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense {self.name!r}: expected an input of shape (batch, ..., "
                             f"features) with known features, got {input_shape}")
        in_dim = input_shape[-1]
        self.kernel = self.add_weight((in_dim, self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, name="bias")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})

    def call(self, x, training=False):
        y = linear(x, self.kernel, self.bias, self._fused, tag=self.name)
        if self._kind in ("none", "fused"):
            return y
        if self._kind == "softmax":
            return softmax(y, axis=-1)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        cfg = super().get_config()
        cfg.update({
            "units": self.units,
            "activation": serialize_activation(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": serialize_or_none(regularizers, self.kernel_regularizer),
            "bias_regularizer": serialize_or_none(regularizers, self.bias_regularizer),
            "activity_regularizer": serialize_or_none(regularizers, self.activity_regularizer),
            "kernel_constraint": serialize_or_none(constraints, self.kernel_constraint),
            "bias_constraint": serialize_or_none(constraints, self.bias_constraint),
        })
        return cfg


class Flatten(Layer):
    """Row-major reshape of (batch, d1, d2, ...) to (batch, d1*d2*...), as Keras; with
    ``data_format="channels_first"`` the channel axis is moved last first."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"Flatten {self.name!r}: data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        self.data_format = data_format or "channels_last"

    def call(self, x, training=False):
        shape = x.data.shape
        if not shape:
            raise ValueError(f"Flatten {self.name!r}: expected an input with a batch axis, "
                             f"got a scalar")
        if self.data_format == "channels_first" and len(shape) >= 3:
            x = x.transpose(0, *range(2, len(shape)), 1)
            shape = x.data.shape
        return x.reshape(shape[0], math.prod(shape[1:]))   # np.prod: ~2 us per call

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if None in rest else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def get_config(self):
        cfg = super().get_config()
        cfg["data_format"] = self.data_format
        return cfg


class Activation(Layer):
    """Applies an activation: a name of ``minigrad.activations`` or any Tensor -> Tensor
    callable."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.activation_name = activation_name(self.activation)

    def call(self, x, training=False):
        return x if self.activation is None else self.activation(x)

    def get_config(self):
        cfg = super().get_config()
        cfg["activation"] = serialize_activation(self.activation)
        return cfg
