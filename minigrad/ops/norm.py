"""Normalisation ops: batch norm, layer norm (each one fused op) and unit (L2) norm.

Kernels work on rows (ops/_rows.py): batch norm moves its channel ``axis`` last and
normalises columns; layer norm moves its feature axes last and normalises rows; an input
already laid out that way needs no copy. Batch norm, forward: one pass for the per-column
sums, one for normalise+affine; backward: one pass for sum(g) and sum(g * xhat), one for dx.
Layer norm does the same per row, each row staying in cache between its two passes. xhat is
recomputed from the saved input instead of being stored (one array less per layer).
"""
import math

import numpy as np

from .._kernel import kernel
from ..function import Function
from ..tensor import Tensor
from ._rows import check_axes, check_axis, from_rows, to_rows


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
        self.axis = check_axis("batch_norm", x, axis)
        c = x.shape[self.axis]
        for what, v in (("gamma", gamma), ("beta", beta), ("moving_mean", moving_mean),
                        ("moving_var", moving_var)):
            _check_vector(what, v, c, x.shape, axis)
        self.has_gamma, self.has_beta, self.training = has_gamma, has_beta, bool(training)
        rows, self.shape = to_rows(x, self.axis)
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
        return from_rows(y, self.shape, self.axis)

    def backward(self, g):
        rows, mean, inv, scale = self.saved
        g = to_rows(g, self.axis)[0]
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
            grads[0] = from_rows(dx, self.shape, self.axis)
        if self.has_gamma:
            grads.append(sgx.astype(dt))
        if self.has_beta:
            grads.append(sg.astype(dt))
        return tuple(grads) if len(grads) > 1 else grads[0]


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


# ---- layer normalisation ----------------------------------------------------------------
# Reassociation lets the row sums vectorise (measured: see benchmarks/bench_ops.py's
# layer_norm row); never nnan/ninf, so a NaN in a row still reaches the output.
_FAST = {"reassoc", "contract", "nsz", "arcp"}


@kernel(fastmath=_FAST)
def _ln_fwd(x, gamma, beta, eps, out, mean, rstd):
    """Per row: mean, rstd = 1/sqrt(biased var + eps) (two passes over the cached row, the
    variance from the deviations, so a large mean costs no accuracy), then
    out = (x - mean) * rstd * gamma + beta. Sums run in x's dtype: with reassociation they
    vectorise (about 2x faster than float64 sums for float32 rows)."""
    n, d = x.shape
    zero = x.dtype.type(0.0)
    fd = x.dtype.type(d)        # an int divisor would promote float32 sums to float64
    for i in range(n):
        s = zero
        for j in range(d):
            s += x[i, j]
        m = s / fd
        q = zero
        for j in range(d):
            t = x[i, j] - m
            q += t * t
        r = x.dtype.type(1.0 / math.sqrt(q / fd + eps))
        mean[i] = m
        rstd[i] = r
        for j in range(d):
            out[i, j] = (x[i, j] - m) * r * gamma[j] + beta[j]


@kernel(fastmath=_FAST)
def _ln_bwd(x, g, gamma, mean, rstd, want_dx, dx, dgamma, dbeta):
    """Per row, xhat = (x - mean) * rstd and gy = g * gamma:
    dx = rstd * (gy - mean(gy) - xhat * mean(gy * xhat)); dgamma += g * xhat, dbeta += g.
    The column sums run in x's dtype over blocks of 64 rows, each block added into the
    float64 ``dgamma``/``dbeta`` (vectorised, and accurate for any number of rows)."""
    n, d = x.shape
    zero = x.dtype.type(0.0)
    fd = x.dtype.type(d)
    acc_g = np.zeros(d, x.dtype)
    acc_b = np.zeros(d, x.dtype)
    for i in range(n):
        m = x.dtype.type(mean[i])
        r = x.dtype.type(rstd[i])
        s1 = zero
        s2 = zero
        for j in range(d):
            xh = (x[i, j] - m) * r
            gj = g[i, j]
            gy = gj * gamma[j]
            s1 += gy
            s2 += gy * xh
            acc_g[j] += gj * xh
            acc_b[j] += gj
        if want_dx:
            a = s1 / fd
            b = s2 / fd
            for j in range(d):
                xh = (x[i, j] - m) * r
                dx[i, j] = r * (g[i, j] * gamma[j] - a - xh * b)
        if (i & 63) == 63 or i == n - 1:
            for j in range(d):
                dgamma[j] += acc_g[j]
                dbeta[j] += acc_b[j]
                acc_g[j] = zero
                acc_b[j] = zero


class LayerNorm(Function):
    """Layer normalisation over the feature axes ``axis`` of each sample (Keras
    LayerNormalization / ops.layer_normalization).

    mean, var = mean and biased variance over ``axis``; xhat = (x - mean) / sqrt(var + eps);
    y = gamma * xhat + beta (gamma, beta shaped like the feature axes).
    VJP, per sample with d features and gy = g * gamma:
    dx = (gy - mean(gy) - xhat * mean(gy * xhat)) / sqrt(var + eps),
    dgamma = sum over samples of g * xhat, dbeta = sum over samples of g.
    Inputs are (x, gamma?, beta?): ``has_gamma`` / ``has_beta`` say which are present."""

    def forward(self, x, *params, axis=-1, epsilon=1e-3, has_gamma=True, has_beta=True):
        self.axes = check_axes("layer_norm", x, axis)
        feature_shape = tuple(x.shape[a] for a in self.axes)
        gamma = params[0] if has_gamma else None
        beta = params[-1] if has_beta else None
        for what, v in (("gamma", gamma), ("beta", beta)):
            if v is not None and v.shape != feature_shape:
                raise ValueError(f"layer_norm: {what} has shape {v.shape}, expected "
                                 f"{feature_shape} for an input of shape {x.shape} "
                                 f"normalised over axis {axis}")
        self.has_gamma, self.has_beta, self.pshape = has_gamma, has_beta, feature_shape
        rows, self.shape = to_rows(x, self.axes)
        n, d = rows.shape
        dt = x.dtype
        gamma = np.ones(d, dt) if gamma is None else gamma.reshape(d)
        beta = np.zeros(d, dt) if beta is None else beta.reshape(d)
        y, mean, rstd = np.empty((n, d), dt), np.empty(n), np.empty(n)
        _ln_fwd(rows, gamma, beta, float(epsilon), y, mean, rstd)
        self.save(rows, gamma, mean, rstd)
        return from_rows(y, self.shape, self.axes)

    def backward(self, g):
        rows, gamma, mean, rstd = self.saved
        g = to_rows(g, self.axes)[0]
        n, d = rows.shape
        want_dx = bool(self.needs_input_grad[0])
        dx = np.empty((n, d), rows.dtype) if want_dx else np.empty((0, 0), rows.dtype)
        dgamma, dbeta = np.zeros(d), np.zeros(d)
        _ln_bwd(rows, g, gamma, mean, rstd, want_dx, dx, dgamma, dbeta)
        grads = [from_rows(dx, self.shape, self.axes) if want_dx else None]
        if self.has_gamma:
            grads.append(dgamma.astype(rows.dtype).reshape(self.pshape))
        if self.has_beta:
            grads.append(dbeta.astype(rows.dtype).reshape(self.pshape))
        return tuple(grads) if len(grads) > 1 else grads[0]


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3):
    """Layer normalisation (see LayerNorm): ``axis`` an int or a sequence of ints, ``gamma``
    / ``beta`` shaped like those axes of x, or None (scale=False / center=False)."""
    params = tuple(p for p in (gamma, beta) if p is not None)
    return LayerNorm.apply(x, *params, axis=axis, epsilon=epsilon,
                           has_gamma=gamma is not None, has_beta=beta is not None)


# ---- unit (L2) normalisation ------------------------------------------------------------
class UnitNorm(Function):
    """L2 normalisation over ``axis`` (Keras UnitNormalization / ops.normalize, order 2):
    r = min(1 / sqrt(sum(x^2)), 1 / epsilon), y = x * r.
    VJP: dx = r * (g - y * sum(g * y)) where 1/sqrt(sum(x^2)) < 1/epsilon, else dx = r * g
    (r is then the constant 1/epsilon)."""

    def forward(self, x, axis=-1, epsilon=1e-12):
        self.axes = check_axes("unit_norm", x, axis)
        with np.errstate(divide="ignore"):     # a zero vector: r = 1/epsilon, y = 0 (Keras)
            inv = 1.0 / np.sqrt(np.sum(x * x, axis=self.axes, keepdims=True))
        r = np.minimum(inv, 1.0 / epsilon).astype(x.dtype)
        y = x * r
        self.save(y, r, inv < 1.0 / epsilon)
        return y

    def backward(self, g):
        y, r, free = self.saved
        dot = np.sum(g * y, axis=self.axes, keepdims=True)
        return r * (g - np.where(free, y * dot, 0.0).astype(g.dtype))


def unit_norm(x, axis=-1, epsilon=1e-12):
    """L2 normalisation along ``axis`` (an int or a sequence of ints; see UnitNorm)."""
    return UnitNorm.apply(x, axis=axis, epsilon=epsilon)
