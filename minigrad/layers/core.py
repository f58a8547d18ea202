"""Core layers: Dense, Flatten, Activation (``Input`` lives in ``input_layer.py``)."""
import math

import numpy as np

from .. import _checks, activations, constraints, initializers, regularizers
from ..ops.linear import fused_linear
from ..probe import probe, probe_listeners
from .base import InputSpec, Layer, serialize_or_none


def activation_name(fn):
    """The name of an activation: its entry's Keras name for a built-in one ("relu"), else the
    callable's ``__name__`` (or a layer's ``name``); None for no activation or "linear"."""
    entry = activations.entry_of(fn)
    if entry is activations.LINEAR:
        return None
    if entry is not None:
        return entry.name
    return getattr(fn, "__name__", None) or getattr(fn, "name", None) or type(fn).__name__


def serialize_activation(fn):
    """The activation's saved name ("linear" for none; a custom function by its name, resolved
    on load through ``custom_objects``; a lambda raises ValueError, as saving must)."""
    return activations.serialize(fn)


def _probe_preactivation(tag, entry, z):
    """Send the pre-activation while a listener waits and the saturation rule needs it."""
    if entry is not None and entry.saturation.needs_preactivation and probe_listeners():
        probe(tag, "preactivation", z)


class Dense(Layer):
    """y = activation(x @ kernel + bias), kernel of shape (input_dim, units), applied to the
    last axis of an input of any rank >= 2.

    The activation's registry entry decides: one with an epilogue runs fused in ``linear``
    (probe tag = the layer name); any other ("softmax": the logits, then a softmax node whose
    logits the losses read; a user's callable) is applied to ``linear``'s output."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _checks.integer(f"Dense {self.name!r}", "units", units, lo=1)
        self.activation = activations.get(activation)
        self.activation_entry = activations.entry_of(self.activation)   # None: a user's callable
        self.activation_name = activation_name(self.activation)
        entry = self.activation_entry
        self._epilogue = None if entry is None else entry.fused
        self._probe_z = entry is not None and entry.saturation.needs_preactivation
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
        ep = self._epilogue
        if ep is not None:
            return fused_linear(x, self.kernel, self.bias, ep, ep.alpha, tag=self.name,
                                probe_z=self._probe_z)
        z = fused_linear(x, self.kernel, self.bias, tag=self.name)
        _probe_preactivation(self.name, self.activation_entry, z.data)
        return self.activation(z)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[:-1]) + (self.units,)
        entry = self.activation_entry
        return shape if entry is None else entry.shape_of(shape)

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
        self.activation_entry = activations.entry_of(self.activation)   # None: a user's callable
        self.activation_name = activation_name(self.activation)

    def call(self, x, training=False):
        _probe_preactivation(self.name, self.activation_entry, x.data)
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        entry = self.activation_entry
        return tuple(input_shape) if entry is None else entry.shape_of(input_shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["activation"] = serialize_activation(self.activation)
        return cfg
