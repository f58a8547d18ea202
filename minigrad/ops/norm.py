"""Batch normalisation (Keras's BatchNormalization math) as one fused op.

Kernels work on rows: the normalised ``axis`` is moved last and every other axis flattened
into the rows, so a (n, c) input needs no copy. Forward: one pass for the per-column sums,
one for normalise+affine. Backward: one pass for sum(g) and sum(g * xhat), one for dx.
xhat is recomputed from the saved input instead of being stored (one array less per layer).
"""
import math

import numpy as np

from .._kernel import kernel
from ..function import Function
from ..tensor import Tensor


@kernel
def _bn_stats(x, mean, var):
    """Column mean and biased variance; sums of x - x[0] in float64 avoid the cancellation
    of E[x^2] - E[x]^2 when |mean| >> std."""
    n, c = x.shape
    s1 = np.zeros(c)
    s2 = np.zeros(c)
    for i in range(n):
        for j in range(c):
            d = float(x[i, j]) - float(x[0, j])
            s1[j] += d
            s2[j] += d * d
    for j in range(c):
        m = s1[j] / n
        mean[j] = float(x[0, j]) + m
        var[j] = max(s2[j] / n - m * m, 0.0)


@kernel
def _bn_ema(moving, stat, momentum):
    """moving <- moving * momentum + stat * (1 - momentum), in place (Keras's update)."""
    for j in range(moving.size):
        moving[j] = moving[j] * momentum + stat[j] * (1.0 - momentum)


@kernel
def _bn_channels(mean, var, gamma, eps, mu, inv, scale):
    """Per channel, in x's dtype: mu = mean, inv = 1/sqrt(var + eps), scale = gamma * inv
    (an empty gamma means scale=False)."""
    for j in range(mean.size):
        mu[j] = mean[j]
        inv[j] = 1.0 / math.sqrt(var[j] + eps)
        scale[j] = inv[j] * gamma[j] if gamma.size else inv[j]


@kernel
def _bn_fwd(x, mean, scale, shift, out):
    n, c = x.shape
    for i in range(n):
        for j in range(c):
            out[i, j] = (x[i, j] - mean[j]) * scale[j] + shift[j]


@kernel
def _bn_bwd_sums(x, g, mean, inv, sg, sgx):
    n, c = x.shape
    for j in range(c):
        sg[j] = 0.0
        sgx[j] = 0.0
    for i in range(n):
        for j in range(c):
            sg[j] += g[i, j]
            sgx[j] += g[i, j] * ((x[i, j] - mean[j]) * inv[j])


@kernel
def _bn_bwd_train(x, g, mean, inv, scale, sg, sgx, out):
    n, c = x.shape
    mg = sg / n
    mgx = sgx / n
    for i in range(n):
        for j in range(c):
            xhat = (x[i, j] - mean[j]) * inv[j]
            out[i, j] = scale[j] * (g[i, j] - mg[j] - xhat * mgx[j])


def _raw(a):
    return None if a is None else (a.data if isinstance(a, Tensor) else np.asarray(a))


def _check_vector(what, v, c, x_shape, axis):
    if v is not None and v.shape != (c,):
        raise ValueError(f"batch_norm: {what} has shape {v.shape}, expected ({c},) for an "
                         f"input of shape {x_shape} normalised over axis {axis}")


class BatchNorm(Function):
    """Batch normalisation over every axis but ``axis`` (Keras BatchNormalization).

    Training: mean, var = batch mean and biased variance; xhat = (x - mean) / sqrt(var + eps);
    y = gamma * xhat + beta; moving <- moving * momentum + stat * (1 - momentum), in place.
    VJP (training), a = gamma / sqrt(var + eps), n = rows per channel:
    dx = a * (g - mean(g) - xhat * mean(g * xhat)), dgamma = sum(g * xhat), dbeta = sum(g).
    Inference: y = (x - moving_mean) * a + beta with a = gamma / sqrt(moving_var + eps);
    VJP: dx = g * a, dgamma = sum(g * xhat), dbeta = sum(g).
    Inputs are (x, gamma?, beta?): ``has_gamma`` / ``has_beta`` say which are present."""

    def forward(self, x, *params, moving_mean=None, moving_var=None, training=False,
                momentum=0.99, epsilon=1e-3, axis=-1, has_gamma=True, has_beta=True):
        gamma = params[0] if has_gamma else None
        beta = params[-1] if has_beta else None
        self.axis = _check_axis(x, axis)
        c = x.shape[self.axis]
        for what, v in (("gamma", gamma), ("beta", beta), ("moving_mean", moving_mean),
                        ("moving_var", moving_var)):
            _check_vector(what, v, c, x.shape, axis)
        self.has_gamma, self.has_beta, self.training = has_gamma, has_beta, bool(training)
        rows, self.shape = _to_rows(x, self.axis)
        dt = x.dtype
        if training:
            mean, var = _batch_stats(rows, x.shape)
            for moving, stat in ((moving_mean, mean), (moving_var, var)):
                if moving is not None:
                    _bn_ema(moving, stat, momentum)
        else:
            if moving_mean is None or moving_var is None:
                raise ValueError("batch_norm: inference (training=False) needs moving_mean "
                                 "and moving_var")
            mean, var = moving_mean, moving_var
        mu, inv, scale = np.empty(c, dt), np.empty(c, dt), np.empty(c, dt)
        _bn_channels(mean, var, np.empty(0, dt) if gamma is None else gamma, epsilon,
                     mu, inv, scale)
        y = np.empty(rows.shape, dtype=dt)
        _bn_fwd(rows, mu, scale, np.zeros(c, dt) if beta is None else beta, y)
        self.save(rows, mu, inv, scale)
        return _from_rows(y, self.shape, self.axis)

    def backward(self, g):
        rows, mean, inv, scale = self.saved
        g = _to_rows(g, self.axis)[0]
        dt, c = rows.dtype, rows.shape[1]
        sg, sgx = np.zeros(c), np.zeros(c)      # float64 sums over possibly many rows
        if self.training or True in self.needs_input_grad[1:]:
            _bn_bwd_sums(rows, g, mean, inv, sg, sgx)
        grads = [None]
        if self.needs_input_grad[0]:
            if self.training:
                dx = np.empty(rows.shape, dtype=dt)
                _bn_bwd_train(rows, g, mean, inv, scale, sg, sgx, dx)
            else:
                dx = g * scale
            grads[0] = _from_rows(dx, self.shape, self.axis)
        if self.has_gamma:
            grads.append(sgx.astype(dt))
        if self.has_beta:
            grads.append(sg.astype(dt))
        return tuple(grads) if len(grads) > 1 else grads[0]


def _check_axis(x, axis):
    if x.ndim == 0:
        raise ValueError("batch_norm: needs an input of rank >= 1, got a 0-d tensor")
    if not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"batch_norm: axis {axis!r} is out of range for an input of shape "
                         f"{x.shape} (an int in [-{x.ndim}, {x.ndim}) is expected)")
    return int(axis) % x.ndim


def _to_rows(a, axis):
    """(C-contiguous (rows, channels) array, the moved shape) for ``axis`` moved last; no
    copy (and no numpy.moveaxis, ~5 us) for the last axis of a contiguous array."""
    if axis == a.ndim - 1 and a.flags.c_contiguous:
        return (a if a.ndim == 2 else a.reshape(-1, a.shape[-1])), a.shape
    moved = np.moveaxis(a, axis, -1)
    return np.ascontiguousarray(moved).reshape(-1, moved.shape[-1]), moved.shape


def _from_rows(rows, shape, axis):
    out = rows if rows.shape == shape else rows.reshape(shape)
    return out if axis == len(shape) - 1 else np.moveaxis(out, -1, axis)


def _batch_stats(rows, x_shape):
    if rows.shape[0] == 0:
        raise ValueError(f"batch_norm: training needs a non-empty batch, got an input of "
                         f"shape {x_shape}")
    mean, var = np.empty(rows.shape[1]), np.empty(rows.shape[1])
    _bn_stats(rows, mean, var)
    return mean, var


def batch_norm(x, gamma, beta, moving_mean, moving_var, training=False, momentum=0.99,
               epsilon=1e-3, axis=-1):
    """Batch normalisation (see BatchNorm). ``gamma``/``beta`` may be None (scale=False /
    center=False). ``moving_mean``/``moving_var`` (Tensor, Parameter or ndarray of shape
    (C,)) are read in inference and updated in place when ``training`` is truthy."""
    params = tuple(p for p in (gamma, beta) if p is not None)
    mm, mv = _raw(moving_mean), _raw(moving_var)
    for what, v in (("moving_mean", mm), ("moving_var", mv)):
        if v is not None and v.dtype.kind != "f":
            raise TypeError(f"batch_norm: {what} must be a float array, got {v.dtype}")
    return BatchNorm.apply(x, *params, moving_mean=mm, moving_var=mv, training=bool(training),
                           momentum=momentum, epsilon=epsilon, axis=axis,
                           has_gamma=gamma is not None, has_beta=beta is not None)
