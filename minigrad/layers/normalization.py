"""Normalisation layers with Keras 3's defaults and weight order: BatchNormalization (and
its moving-statistics update), LayerNormalization, UnitNormalization."""
import numbers

from .. import _checks, constraints, initializers, regularizers
from ..ops.norm import batch_norm, layer_norm, unit_norm
from .base import InputSpec, Layer, serialize_or_none


class BatchNormalization(Layer):
    """y = (x - mean) / sqrt(var + epsilon) * gamma + beta, per feature along ``axis``.

    Training (``training=True`` and the layer trainable): mean and biased variance of the
    batch over every axis but ``axis``, then, in place,
    moving = moving * momentum + batch_stat * (1 - momentum) (biased variance, as Keras).
    Otherwise (inference, or ``trainable=False``) the moving statistics are used.
    Weights in order: gamma, beta (trainable; absent when ``scale``/``center`` is False),
    moving_mean, moving_variance (non-trainable)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        owner = f"BatchNormalization {self.name!r}"
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        axis = _checks.integer(owner, "axis", axis)
        momentum = _checks.rate(owner, "momentum", momentum)
        epsilon = _checks.positive(owner, "epsilon", epsilon)
        center = _checks.boolean(owner, "center", center)
        scale = _checks.boolean(owner, "scale", scale)
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale, self.synchronized = bool(center), bool(scale), synchronized
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        _set_affine(self, beta_regularizer, gamma_regularizer, beta_constraint,
                    gamma_constraint)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or ndim < 2:
            raise ValueError(f"BatchNormalization {self.name!r}: axis {self.axis} is not a "
                             f"feature axis of an input of shape {input_shape}")
        axis = self.axis % ndim
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(f"BatchNormalization {self.name!r}: axis {self.axis} of the input "
                             f"shape {input_shape} must be known")
        if self.scale:
            self.gamma = self.add_weight((dim,), self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight((dim,), self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight((dim,), self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight((dim,), self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")
        self.input_spec = InputSpec(ndim=ndim, axes={axis: dim})

    def call(self, x, training=False):
        # a frozen layer always normalises with the moving statistics (Keras)
        return batch_norm(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                          training=bool(training) and self.trainable, momentum=self.momentum,
                          epsilon=self.epsilon, axis=self.axis)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(
            axis=self.axis, momentum=self.momentum, epsilon=self.epsilon, center=self.center,
            scale=self.scale, synchronized=self.synchronized,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
            **_affine_config(self))
        return cfg


def _set_affine(layer, beta_regularizer, gamma_regularizer, beta_constraint,
                gamma_constraint):
    """Resolve a normalization's gamma and beta regularizers and constraints (names, configs
    or objects), the counterpart of ``_affine_config``."""
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def _affine_config(layer):
    """The config of a normalization's gamma and beta: their regularizers and constraints."""
    return dict(beta_regularizer=serialize_or_none(regularizers, layer.beta_regularizer),
                gamma_regularizer=serialize_or_none(regularizers, layer.gamma_regularizer),
                beta_constraint=serialize_or_none(constraints, layer.beta_constraint),
                gamma_constraint=serialize_or_none(constraints, layer.gamma_constraint))


def _axes_arg(owner, axis):
    """Keras's ``axis``: an int, or a list/tuple of ints (kept as given for the config)."""
    if isinstance(axis, (list, tuple)):
        for a in axis:
            _checks.integer(owner, "axis", a)
        if not axis:
            raise ValueError(f"{owner}: axis must name at least one axis, got {axis!r}")
        return [int(a) for a in axis]
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{owner}: axis must be an int or a list/tuple of ints, got {axis!r}")
    return int(axis)


def _build_axes(owner, axis, input_shape, known=True):
    """The sorted non-negative axes of ``axis`` for ``input_shape`` (each of known size
    when ``known``)."""
    ndim = len(input_shape)
    axes = sorted(_checks.axis(owner, a, ndim) for a in (axis if isinstance(axis, list)
                                                         else [axis]))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{owner}: axis {axis} repeats an axis of the input shape "
                         f"{input_shape}")
    for a in axes:
        if known and input_shape[a] is None:
            raise ValueError(f"{owner}: axis {a} of the input shape {input_shape} must be "
                             f"known")
    return axes


class LayerNormalization(Layer):
    """y = (x - mean) / sqrt(var + epsilon) * gamma + beta, with the mean and biased variance
    of each sample over ``axis`` (an int or a list of ints), the same in training and
    inference (Keras 3). gamma and beta have the shape of those axes; weights in order:
    gamma (absent when ``scale=False``), beta (absent when ``center=False``)."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        owner = f"LayerNormalization {self.name!r}"
        self.axis = _axes_arg(owner, axis)
        self.epsilon = _checks.positive(owner, "epsilon", epsilon)
        self.center = _checks.boolean(owner, "center", center)
        self.scale = _checks.boolean(owner, "scale", scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        _set_affine(self, beta_regularizer, gamma_regularizer, beta_constraint,
                    gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        self._axes = _build_axes(f"LayerNormalization {self.name!r}", self.axis, input_shape)
        shape = tuple(input_shape[a] for a in self._axes)
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.input_spec = InputSpec(ndim=len(input_shape),
                                    axes={a: input_shape[a] for a in self._axes})

    def call(self, x):
        return layer_norm(x, self.gamma, self.beta, axis=self._axes, epsilon=self.epsilon)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(
            axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            **_affine_config(self))
        return cfg


class UnitNormalization(Layer):
    """y = x / ||x||_2 over ``axis`` (an int or a list of ints), computed as Keras 3 does:
    x * min(1 / sqrt(sum(x^2)), 1e12), so a zero vector stays zero. No weights."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axes_arg(f"UnitNormalization {self.name!r}", axis)

    def build(self, input_shape):
        self._axes = _build_axes(f"UnitNormalization {self.name!r}", self.axis, input_shape,
                                 known=False)

    def call(self, x):
        return unit_norm(x, axis=self._axes, epsilon=1e-12)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis)
        return cfg
