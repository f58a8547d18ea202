"""Structure layers: Reshape, Lambda, Identity."""
import math

from .. import _checks
from .._registry import CUSTOM, registered_name, resolve_custom
from ..ops.shape import reshape
from .base import Layer


class Reshape(Layer):
    """y = x reshaped to (batch, *target_shape), row-major; one entry may be -1 (inferred)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        who = f"Reshape {self.name!r}"
        if isinstance(target_shape, int):
            target_shape = (target_shape,)
        if not isinstance(target_shape, (list, tuple)):
            raise TypeError(f"{who}: target_shape must be a tuple of ints, got {target_shape!r}")
        shape = tuple(_checks.integer(who, "target_shape", d, lo=-1) for d in target_shape)
        if shape.count(-1) > 1 or 0 in shape:
            raise ValueError(f"{who}: target_shape may hold one -1 and no 0, got {shape}")
        self.target_shape = shape

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            known = None if None in rest else math.prod(rest)
            if known is not None and known != math.prod(self.target_shape):
                raise ValueError(self._mismatch(input_shape))
            return (input_shape[0],) + self.target_shape
        if None in rest:
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        fixed = -math.prod(self.target_shape)
        if math.prod(rest) % fixed:
            raise ValueError(self._mismatch(input_shape))
        return (input_shape[0],) + tuple(math.prod(rest) // fixed if d == -1 else d
                                         for d in self.target_shape)

    def _mismatch(self, input_shape):
        return (f"Reshape {self.name!r}: cannot reshape inputs of shape {input_shape} to "
                f"(batch, *{self.target_shape}): the sizes differ")

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, x, training=False):
        return reshape(x, (x.shape[0],) + self.target_shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["target_shape"] = list(self.target_shape)
        return cfg


class Identity(Layer):
    """y = x."""

    def call(self, x, training=False):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


class Lambda(Layer):
    """y = function(x, **arguments) for a Tensor -> Tensor callable (graph ops only, so it
    has a gradient). ``output_shape`` (per sample, or a callable of the input shape) skips
    the stand-in call that otherwise finds it. Saved by the function's name: a lambda cannot
    be saved; a named function is resolved on load through ``custom_objects`` or
    ``register_keras_serializable``."""

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        # a config built without layers.deserialize (which resolves these with the caller's
        # custom_objects) can still carry saved-by-name markers: resolved from the registry
        function, output_shape = (self._custom(v, what) for v, what in
                                  ((function, "function"), (output_shape, "output_shape")))
        if not callable(function):
            raise TypeError(f"Lambda {self.name!r}: function must be callable, got "
                            f"{function!r}")
        self.function = function
        self.output_shape_arg = None if output_shape is None or callable(output_shape) \
            else tuple(output_shape)
        self._output_shape_fn = output_shape if callable(output_shape) else None
        self.arguments = dict(arguments or {})

    def _custom(self, value, what):
        if not (isinstance(value, dict) and CUSTOM in value):
            return value
        try:
            return resolve_custom(what, value, None)
        except ValueError as e:
            raise ValueError(f"Lambda {self.name!r}: {e}") from None

    def call(self, x, training=False):
        return self.function(x, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape_fn is not None:
            return tuple(self._output_shape_fn(input_shape))
        if self.output_shape_arg is not None:
            return (None,) + self.output_shape_arg
        return super().compute_output_shape(input_shape)

    def get_config(self):
        cfg = super().get_config()
        _checks.callable_name(f"Lambda {self.name!r}", self.function, "function")
        cfg["function"] = {CUSTOM: registered_name(self.function)}
        if self._output_shape_fn is not None:
            _checks.callable_name(f"Lambda {self.name!r}", self._output_shape_fn,
                                  "output_shape function")
            cfg["output_shape"] = {CUSTOM: registered_name(self._output_shape_fn)}
        elif self.output_shape_arg is not None:
            cfg["output_shape"] = list(self.output_shape_arg)
        if self.arguments:
            cfg["arguments"] = self.arguments
        return cfg
