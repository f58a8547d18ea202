"""Activation layers: ReLU, LeakyReLU, PReLU, RReLU, ELU, Softmax (Keras 3 defaults).

Each names the registry entry it stands for (``activation_entry``), which is how the gradient
diagnostics read its name and saturation rule when it follows a kernel layer."""
from .. import _checks, activations, constraints, initializers, regularizers
from .. import random as _random
from ..ops import activation as A
from ..ops.shape import where
from ..ops.softmax import softmax
from ..ops.unary import clip
from .base import InputSpec, Layer, serialize_or_none


def _number(layer, what, value, minimum=None):
    """A finite float (>= minimum): TypeError for a non-number, ValueError out of range."""
    return _checks.in_range(f"{type(layer).__name__} {layer.name!r}", what, value, minimum)


class _ActivationLayer(Layer):
    """An activation-type layer: ``activation_entry`` is its registry entry."""

    activation_entry = None

    @property
    def activation_name(self):
        return self.activation_entry.name


class ReLU(_ActivationLayer):
    """Keras's ReLU: y = min(x, max_value) if x > threshold (x >= threshold when threshold is
    0: plain relu), else negative_slope * (x - threshold). With the defaults, max(x, 0)."""

    activation_entry = activations.RELU

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _number(self, "max_value", max_value, 0)
        self.negative_slope = _number(self, "negative_slope", negative_slope, 0)
        self.threshold = _number(self, "threshold", threshold, 0)

    def call(self, x, training=False):
        if self.max_value is None and self.threshold == 0.0:
            if self.negative_slope == 0.0:
                return A.relu(x)
            return A.leaky_relu(x, self.negative_slope)
        # the general case as Keras composes it: positive part, clip, minus the negative part
        if self.threshold != 0.0:
            y = where(x.data > self.threshold, x, 0.0)
        else:
            y = A.relu(x)
        if self.max_value is not None:
            y = clip(y, 0.0, self.max_value)
        if self.negative_slope != 0.0:
            y = y - self.negative_slope * A.relu(self.threshold - x)
        return y

    def get_config(self):
        cfg = super().get_config()
        cfg.update(max_value=self.max_value, negative_slope=self.negative_slope,
                   threshold=self.threshold)
        return cfg


class LeakyReLU(_ActivationLayer):
    """y = x if x > 0 else negative_slope * x (Keras layer default 0.3; ``alpha=`` alias)."""

    activation_entry = activations.LEAKY_RELU

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _number(self, "negative_slope", negative_slope, 0)

    def call(self, x, training=False):
        return A.leaky_relu(x, self.negative_slope)

    def get_config(self):
        cfg = super().get_config()
        cfg["negative_slope"] = self.negative_slope
        return cfg


class PReLU(_ActivationLayer):
    """y = x if x > 0 else alpha * x with a learned alpha of shape input_shape[1:], the
    ``shared_axes`` (axes of the input, 1-based as Keras) set to size 1. Alpha starts at 0, so
    a fresh PReLU is a ReLU."""

    activation_entry = activations.PRELU

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, int):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = [int(a) for a in shared_axes]
        self.alpha = None

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"PReLU {self.name!r}: shared axis {axis} is not an axis of an "
                                 f"input of shape {input_shape} (axes 1..{len(input_shape) - 1})")
            param_shape[axis - 1] = 1
        if None in param_shape:
            raise ValueError(f"PReLU {self.name!r}: every non-shared axis must be known, got "
                             f"input shape {input_shape}")
        self.alpha = self.add_weight(tuple(param_shape), self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint, name="alpha")
        shared = set(self.shared_axes or ())
        axes = {i: input_shape[i] for i in range(1, len(input_shape)) if i not in shared}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)

    def call(self, x, training=False):
        return A.prelu(x, self.alpha)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(alpha_initializer=initializers.serialize(self.alpha_initializer),
                   alpha_regularizer=serialize_or_none(regularizers, self.alpha_regularizer),
                   alpha_constraint=serialize_or_none(constraints, self.alpha_constraint),
                   shared_axes=self.shared_axes)
        return cfg


class RReLU(_ActivationLayer):
    """Randomized leaky ReLU (not in Keras): in training each negative element gets its own
    slope drawn from U[lower, upper]; at inference the slope is (lower + upper) / 2 (as torch).
    ``seed=k`` gives the layer its own generator; None draws from the global one at call
    time."""

    activation_entry = activations.RRELU

    def __init__(self, lower=1 / 8, upper=1 / 3, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.lower = _number(self, "lower", lower, 0)
        self.upper = _number(self, "upper", upper, 0)
        if self.lower > self.upper:
            raise ValueError(f"RReLU {self.name!r}: lower={lower} is above upper={upper}; "
                             f"expected 0 <= lower <= upper")
        self.seed = seed
        self._rng = None if seed is None else _random.make_generator(seed)

    def call(self, x, training=False):
        return A.rrelu(x, self.lower, self.upper, training=training, rng=self._rng)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(lower=self.lower, upper=self.upper, seed=self.seed)
        return cfg


class ELU(_ActivationLayer):
    """y = x if x > 0 else alpha * (exp(x) - 1)."""

    activation_entry = activations.ELU

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number(self, "alpha", alpha)

    def call(self, x, training=False):
        return A.elu(x, self.alpha)

    def get_config(self):
        cfg = super().get_config()
        cfg["alpha"] = self.alpha
        return cfg


class Softmax(_ActivationLayer):
    """y = exp(x - max) / sum(exp(x - max)) along ``axis``."""

    activation_entry = activations.SOFTMAX

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _checks.integer(f"Softmax {self.name!r}", "axis", axis)

    def call(self, x, training=False):
        return softmax(x, axis=self.axis)

    def get_config(self):
        cfg = super().get_config()
        cfg["axis"] = self.axis
        return cfg
