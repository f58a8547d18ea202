"""Preprocessing layers as Keras 3 (keras/src/layers/preprocessing): Normalization (with
``adapt``) and Rescaling. Both are the same in training and inference and have nothing to
train; the gradient flows through x."""
import math

import numpy as np

from .. import _checks
from .. import config as _config
from ..ops.arith import maximum
from ..ops.unary import sqrt
from ..tensor import Tensor
from .base import Layer


def _array_arg(owner, name, value):
    """A number or an array-like of numbers, as given (a list stays a list for the config)."""
    if isinstance(value, (np.ndarray, list, tuple)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf" or arr.dtype.kind == "b":
            raise TypeError(f"{owner}: {name} must be a number or an array of numbers, got "
                            f"{value!r}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{owner}: {name} must be finite, got {value!r}")
        return arr.astype(np.float64)
    return _checks.number(owner, name, value)


def _jsonable(value):
    return value.tolist() if isinstance(value, np.ndarray) else value


class Normalization(Layer):
    """y = (x - mean) / max(sqrt(variance), epsilon), or with ``invert=True``
    y = mean + x * max(sqrt(variance), epsilon); epsilon is ``minigrad.config.epsilon()``
    (1e-7). One mean and variance per position of the kept ``axis`` (an int, a tuple, or
    None for a single scalar pair); every other axis is reduced over by ``adapt``.

    The statistics come from ``mean=`` and ``variance=`` (both, broadcastable to the kept
    axes) or from ``adapt(data)``: an array (or Tensor), or an iterable of batches (arrays,
    or tuples whose first element is the batch), merged exactly: the result equals the
    biased mean and variance of all the data at once. Without either, calling the layer
    raises. Weights (adapt only, non-trainable): mean, variance, count (the number of values
    averaged per position; 0 before adapt)."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        owner = self._owner = f"Normalization {self.name!r}"
        if axis is None:
            axis = ()
        elif isinstance(axis, (list, tuple)):
            axis = tuple(_checks.integer(owner, "axis", a) for a in axis)
        else:
            axis = (_checks.integer(owner, "axis", axis),)
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(f"{owner}: mean and variance must be given together, got "
                             f"mean={mean!r}, variance={variance!r}")
        self.input_mean = None if mean is None else _array_arg(owner, "mean", mean)
        self.input_variance = None if variance is None else _array_arg(owner, "variance",
                                                                        variance)
        if mean is not None:
            if np.shape(self.input_mean) != np.shape(self.input_variance):
                raise ValueError(f"{owner}: mean and variance must have the same shape, got "
                                 f"{np.shape(mean)} and {np.shape(variance)}")
            if np.ndim(self.input_mean) > len(self.axis):
                raise ValueError(f"{owner}: mean of shape {np.shape(mean)} has more "
                                 f"dimensions than axis {self.axis} keeps")
            if np.any(np.asarray(self.input_variance) < 0):
                raise ValueError(f"{owner}: variance must be >= 0, got {variance!r}")
        self.invert = _checks.boolean(owner, "invert", invert)
        self.mean = self.variance = self.count = None

    def build(self, input_shape):
        ndim = len(input_shape)
        keep = sorted(_checks.axis(self._owner, a, ndim) for a in self.axis)
        for d in keep:
            if input_shape[d] is None:
                raise ValueError(f"{self._owner}: axis {d} of the input shape {input_shape} "
                                 f"must be known (it keeps a mean and variance per position)")
        self._keep = tuple(keep)
        self._reduce = tuple(d for d in range(ndim) if d not in keep)
        self._bshape = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        stat_shape = tuple(input_shape[d] for d in keep)
        if self.input_mean is None:
            self.mean = self.add_weight(stat_shape, "zeros", trainable=False, name="mean")
            self.variance = self.add_weight(stat_shape, "ones", trainable=False,
                                            name="variance")
            self.count = self.add_weight((), "zeros", trainable=False, name="count")
        else:
            # a given mean fills the kept axes from the right, as Keras's reshape
            shape = [1] * ndim
            for i in range(1, np.ndim(self.input_mean) + 1):
                shape[keep[-i]] = np.shape(self.input_mean)[-i]
            try:
                self._given = tuple(np.broadcast_to(np.reshape(v, shape), self._bshape)
                                    .astype(self.dtype)
                                    for v in (self.input_mean, self.input_variance))
            except ValueError:
                raise ValueError(f"{self._owner}: mean of shape {np.shape(self.input_mean)} "
                                 f"does not broadcast to the kept axes {stat_shape} of the "
                                 f"input shape {input_shape}") from None

    # ---- adapt ----------------------------------------------------------------------------
    def adapt(self, data):
        """Set mean and variance to those of ``data`` over every axis but the kept ones.
        ``data``: an array or Tensor, or an iterable of batches. Batches are merged with the
        pairwise update of Chan et al. in float64 (n = n_a + n_b, delta = mean_b - mean_a,
        mean = mean_a + delta * n_b / n, M2 = M2_a + M2_b + delta^2 * n_a * n_b / n,
        variance = M2 / n), which equals the statistics of the concatenated data."""
        if self.input_mean is not None:
            raise ValueError(f"{self._owner}: adapt() cannot change a mean and variance "
                             f"given to the constructor")
        if isinstance(data, (np.ndarray, Tensor)):
            batches = iter([data])
        elif isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
            raise TypeError(f"{self._owner}: adapt() takes an array or an iterable of "
                            f"batches, got {type(data).__name__}")
        else:
            batches = iter(data)
        n, mean, m2, seen = 0, None, None, 0
        for batch in batches:
            if isinstance(batch, tuple):          # (x, y) or (x, y, sample_weight) batches
                batch = batch[0]
            x = np.asarray(batch.data if isinstance(batch, Tensor) else batch,
                           dtype=np.float64)
            seen += 1
            if not self.built:
                self.build((None,) + x.shape[1:])
            self._check_batch(x, seen)
            nb = math.prod(x.shape[d] for d in self._reduce)
            if nb == 0:
                continue
            mb = x.mean(axis=self._reduce)
            m2b = ((x - mb.reshape(self._bshape)) ** 2).sum(axis=self._reduce)
            if mean is None:
                n, mean, m2 = nb, mb, m2b
                continue
            total = n + nb
            delta = mb - mean
            mean = mean + delta * (nb / total)
            m2 = m2 + m2b + delta ** 2 * (n * nb / total)
            n = total
        if seen == 0:
            raise ValueError(f"{self._owner}: adapt() received no batches")
        if n == 0:
            raise ValueError(f"{self._owner}: adapt() received only empty batches")
        self.mean.data[...] = mean
        self.variance.data[...] = m2 / n
        self.count.data[...] = n

    def _check_batch(self, x, index):
        if x.ndim != len(self._bshape) or any(x.shape[d] != self._bshape[d]
                                              for d in self._keep):
            expected = tuple(s if d in self._keep else None
                             for d, s in enumerate(self._bshape))
            raise ValueError(f"{self._owner}: adapt() batch {index} has shape {x.shape}, "
                             f"expected {expected} (None: any size)")

    # ---- call -----------------------------------------------------------------------------
    def _statistics(self):
        if self.input_mean is not None:
            return self._given
        if not float(self.count.data) > 0:
            raise ValueError(f"{self._owner}: the layer has no statistics: call "
                             f"adapt(data) first, or pass mean= and variance=")
        # the weights themselves, through ops: a captured step (models/tape.py) reads them
        # live, so a later adapt() (which writes them in place) is seen
        return self.mean.reshape(self._bshape), self.variance.reshape(self._bshape)

    def call(self, x):
        mean, variance = self._statistics()
        if isinstance(variance, Tensor):
            std = maximum(sqrt(variance), _config.epsilon())
        else:
            std = np.maximum(np.sqrt(variance), _config.epsilon()).astype(self.dtype)
        return x * std + mean if self.invert else (x - mean) / std

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=list(self.axis) if len(self.axis) != 1 else self.axis[0],
                   invert=self.invert, mean=_jsonable(self.input_mean),
                   variance=_jsonable(self.input_variance))
        if not self.axis:
            cfg["axis"] = None
        return cfg


class Rescaling(Layer):
    """y = x * scale + offset (each a number, or an array broadcast against the trailing
    axes of x, e.g. one value per channel); e.g. ``Rescaling(1 / 255)`` maps pixels to
    [0, 1] and ``Rescaling(1 / 127.5, offset=-1)`` to [-1, 1]."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        owner = f"Rescaling {self.name!r}"
        self.scale = _array_arg(owner, "scale", scale)
        self.offset = _array_arg(owner, "offset", offset)

    def call(self, x):
        scale, offset = self.scale, self.offset
        if isinstance(scale, np.ndarray):
            scale = scale.astype(self.dtype)
        if isinstance(offset, np.ndarray):
            offset = offset.astype(self.dtype)
        return x * scale + offset

    def compute_output_shape(self, input_shape):
        extra = np.broadcast_shapes(np.shape(self.scale), np.shape(self.offset))
        try:
            np.broadcast_shapes(tuple(1 if d is None else d for d in input_shape), extra)
        except ValueError:
            raise ValueError(f"Rescaling {self.name!r}: scale/offset of shape {extra} do not "
                             f"broadcast to the input shape {input_shape}") from None
        return tuple(input_shape)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(scale=_jsonable(self.scale), offset=_jsonable(self.offset))
        return cfg
