"""BatchNormalization (Keras 3 defaults, weight order and moving-statistics update)."""
from .. import constraints, initializers, regularizers
from ..ops.norm import batch_norm
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
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"BatchNormalization {self.name!r}: axis must be one integer, "
                            f"got {axis!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization {self.name!r}: momentum must be in [0, 1], "
                             f"got {momentum!r}")
        if not epsilon > 0.0:
            raise ValueError(f"BatchNormalization {self.name!r}: epsilon must be > 0, "
                             f"got {epsilon!r}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale, self.synchronized = bool(center), bool(scale), synchronized
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
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
            beta_regularizer=serialize_or_none(regularizers, self.beta_regularizer),
            gamma_regularizer=serialize_or_none(regularizers, self.gamma_regularizer),
            beta_constraint=serialize_or_none(constraints, self.beta_constraint),
            gamma_constraint=serialize_or_none(constraints, self.gamma_constraint))
        return cfg
