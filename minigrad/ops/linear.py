"""Fused dense layer: y = act(x @ W + b), one BLAS GEMM plus a fused in-place epilogue.

The pre-activation z = x @ W + b is never materialised: the GEMM output is finished in place
(bias and relu / leaky_relu in one numba pass; sigmoid, tanh, elu and selu add numpy's SIMD
exp / tanh / expm1 pass) and backward recovers act'(z) from the saved output y in one numba
pass that also sums db. The gradient at z (Nielsen's delta) is reported through
``probe(tag, "delta", dz)``.
"""
import math

import numpy as np

from .. import _alloc
from .._kernel import kernel
from ..function import Function
from ..probe import _listeners, probe
from .activation import SELU_ALPHA, SELU_SCALE, _elu_post, _exp_cap, _number, _sigmoid_post

# activation codes understood by the kernels (selu is elu with alpha and scale)
_LINEAR, _RELU, _LEAKY, _ELU, _SIGMOID, _TANH = range(6)
# name (lowercase, no underscores) -> (code, default alpha, scale)
_ACTIVATIONS = {
    "linear": (_LINEAR, 0.0, 1.0), "relu": (_RELU, 0.0, 1.0),
    "leakyrelu": (_LEAKY, 0.2, 1.0), "elu": (_ELU, 1.0, 1.0),
    "selu": (_ELU, SELU_ALPHA, SELU_SCALE), "sigmoid": (_SIGMOID, 0.0, 1.0),
    "tanh": (_TANH, 0.0, 1.0),
}
_NAMES = ("linear", "relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh")
# the exact spellings with default alpha: one dict lookup per call (Dense calls this per step)
_DEFAULTS = {name: _ACTIVATIONS[name.replace("_", "")] for name in _NAMES}
_DEFAULTS[None] = _ACTIVATIONS["linear"]


# dX = dz @ W^T copies W^T contiguous up to this many elements (`python -m minigrad bench
# --micro`: faster at 64x64, 256x10 and 2048x10, slower from 256x256 on)
_COPY_WT_MAX = 32768


# ---- kernels ------------------------------------------------------------------------------
# One kernel per direction, the activation chosen by an integer code outside the inner loops:
# one compile per dtype instead of one per activation, and as fast as a relu-only kernel
# (benchmarks/bench_ops.py: within 0.2 us at 32x128, within noise at 256x2048). Each row is
# finished while it sits in cache. exp, expm1 and tanh are left to numpy's SIMD ufuncs
# (numba's scalar libm calls are 4-20x slower), so sigmoid, tanh and elu/selu take a numba
# pass, a numpy pass and (sigmoid, elu) a second numba pass.
@kernel
def _linear_fwd(z, b, act, alpha, scale, cap, t):
    """z (n, m) in place. relu/leaky_relu/linear: z = act(z + b) complete; sigmoid: z = -(z + b)
    or +inf past cap (exp then yields inf, 1/(1+inf) = 0, no overflow); tanh: z += b;
    elu: z += b and t = min(z, 0) (t unused otherwise)."""
    n, m = z.shape
    for r in range(n):
        if act == _RELU:
            for j in range(m):
                v = z[r, j] + b[j]
                z[r, j] = 0.0 if v <= 0.0 else v  # noqa: FURB136 (not max: NaN propagates)
        elif act == _LEAKY:
            for j in range(m):
                v = z[r, j] + b[j]
                z[r, j] = v if v > 0.0 else alpha * v
        elif act == _SIGMOID:
            for j in range(m):
                v = -(z[r, j] + b[j])
                z[r, j] = math.inf if v >= cap else v
        elif act == _ELU:
            for j in range(m):
                v = z[r, j] + b[j]
                z[r, j] = v
                t[r, j] = 0.0 if v >= 0.0 else v  # noqa: FURB136 (not min: NaN propagates)
        else:
            for j in range(m):
                z[r, j] += b[j]


def _epilogue(z, b, act, alpha, scale):
    """Finish y = act(z + b) in place on the GEMM output z (2-D, C-contiguous)."""
    if act in (_LINEAR, _TANH):
        if b is not None:
            z += b
        if act == _TANH:
            np.tanh(z, out=z)
        return
    if b is None:
        b = np.zeros(z.shape[1], dtype=z.dtype)
    t = np.empty_like(z) if act == _ELU else z
    cap = _exp_cap(z.dtype) if act == _SIGMOID else 0.0   # np.finfo costs ~0.5 us a call
    _linear_fwd(z, b, act, alpha, scale, cap, t)
    if act == _SIGMOID:
        fz = z.reshape(-1)
        np.exp(fz, out=fz)
        _sigmoid_post(fz, z.dtype.type(1.0))
    elif act == _ELU:
        np.expm1(t, out=t)
        fz = z.reshape(-1)
        _elu_post(fz, t.reshape(-1), alpha, scale, fz)


@kernel
def _linear_bwd(y, g, act, alpha, scale, dz, db):
    """dz = g * act'(z) read from y = act(z); db = column sums of dz (db of size 0: skip)."""
    n, m = y.shape
    for j in range(db.size):
        db[j] = 0.0
    for r in range(n):
        if act == _RELU:
            for j in range(m):
                dz[r, j] = 0.0 if y[r, j] <= 0.0 else g[r, j]
        elif act == _LEAKY:
            for j in range(m):
                dz[r, j] = g[r, j] if y[r, j] > 0.0 else alpha * g[r, j]
        elif act == _ELU:
            for j in range(m):
                v = y[r, j]
                dz[r, j] = scale * g[r, j] if v > 0.0 else g[r, j] * (v + scale * alpha)
        elif act == _SIGMOID:
            for j in range(m):
                dz[r, j] = g[r, j] * y[r, j] * (1.0 - y[r, j])
        elif act == _TANH:
            for j in range(m):
                dz[r, j] = g[r, j] * (1.0 - y[r, j] * y[r, j])
        if db.size:
            for j in range(m):
                db[j] += dz[r, j]


# ---- Function class -------------------------------------------------------------------------
def _activation(activation, alpha):
    """(code, alpha, scale) for an activation name; ValueError listing the valid names."""
    if activation is None:
        return _DEFAULTS[None]
    if alpha is None and type(activation) is str:
        hit = _DEFAULTS.get(activation)
        if hit is not None:
            return hit
    key = activation.lower().replace("_", "") if isinstance(activation, str) else None
    if key not in _ACTIVATIONS:
        raise ValueError(f"linear: unknown activation {activation!r}; expected None or one of "
                         f"{', '.join(_NAMES)} (apply other activations after linear)")
    code, default, scale = _ACTIVATIONS[key]
    if alpha is None or code not in (_LEAKY, _ELU) or scale != 1.0:
        return code, default, scale
    alpha = _number("linear", "alpha", alpha)
    if alpha < 0.0:
        # backward tells the branch from the sign of y, which needs alpha >= 0
        raise ValueError(f"linear: alpha={alpha} for {activation!r}; the fused epilogue needs "
                         f"alpha >= 0 (apply the activation after linear instead)")
    return code, alpha, scale


def _check_shapes(x, w, b):
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[0]:
        raise ValueError(f"linear: input of shape {x.shape} and kernel of shape {w.shape} do "
                         f"not match; expected x (batch, in) @ kernel (in, units)")
    if b is not None and b.shape != (w.shape[1],):
        raise ValueError(f"linear: bias of shape {b.shape} for a kernel of shape {w.shape}; "
                         f"expected bias ({w.shape[1]},)")


class Linear(Function):
    """y = act(x @ W + b) for x (batch, in) (leading axes flattened), W (in, units), b (units,).

    VJP: dz = g * act'(z), taken from y (relu: y > 0; leaky: 1 or alpha; elu/selu: scale or
    y + scale*alpha; sigmoid: y (1 - y); tanh: 1 - y**2); db = sum over rows of dz;
    dW = x^T dz; dx = dz W^T (computed only when x needs a gradient)."""

    def forward(self, x, w, b=None, act=_LINEAR, alpha=0.0, scale=1.0, tag=None):
        _check_shapes(x, w, b)
        self.act, self.alpha, self.scale, self.tag = act, alpha, scale, tag
        self.x_shape = x.shape
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        y = x2 @ w
        _epilogue(y, b, act, alpha, scale)
        self.save(x2, w, None if act == _LINEAR else y)
        if x.ndim != 2:
            y = y.reshape(x.shape[:-1] + (w.shape[1],))
        if tag is not None and _listeners:
            probe(tag, "output", y)
        return y

    def backward(self, g):
        x2, w, y = self.saved
        needs = self.needs_input_grad
        g = np.ascontiguousarray(g).reshape(x2.shape[0], w.shape[1])
        has_db = len(needs) == 3 and needs[2]
        if self.act == _LINEAR:
            dz = g
            db = np.add.reduce(g, axis=0) if has_db else None   # = g.sum(0), one call less
        else:
            db = np.empty(w.shape[1] if has_db else 0, dtype=g.dtype)   # size 0: not summed
            dz = np.empty(g.shape, dtype=g.dtype)
            _linear_bwd(y, g, self.act, self.alpha, self.scale, dz, db)
        if self.tag is not None and _listeners:
            probe(self.tag, "delta", dz if len(self.x_shape) == 2 else
                  dz.reshape(self.x_shape[:-1] + (w.shape[1],)))
        dw = _alloc.matmul(x2.T, dz) if needs[1] else None   # staggered off the slots
        dx = None
        if needs[0]:
            # a small kernel's transpose copied contiguous first: BLAS's transposed path
            # costs more than the copy there (64x64: 5.4 us vs 3.0 + the copy)
            dx = dz @ (np.ascontiguousarray(w.T) if w.size <= _COPY_WT_MAX else w.T)
            if len(self.x_shape) != 2:
                dx = dx.reshape(self.x_shape)
        if len(needs) == 2:
            return dx, dw
        return dx, dw, (db if has_db else None)


def linear(x, kernel, bias=None, activation=None, *, tag=None, alpha=None):
    """Dense layer act(x @ kernel + bias) with the bias and a deterministic elementwise
    activation (None/"linear", "relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh") fused
    into one pass after the BLAS GEMM. ``alpha``: leaky_relu's slope (0.2) or elu's alpha (1.0).
    ``tag`` names the probes: forward sends ``(tag, "output", y)``, backward
    ``(tag, "delta", dz)`` with dz the gradient at the pre-activation."""
    act, alpha, scale = _activation(activation, alpha)
    if bias is None:
        return Linear.apply(x, kernel, act=act, alpha=alpha, scale=scale, tag=tag)
    return Linear.apply(x, kernel, bias, act=act, alpha=alpha, scale=scale, tag=tag)
