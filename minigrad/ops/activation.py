"""Activations as graph ops: relu, leaky_relu, elu, selu, sigmoid, tanh, prelu, rrelu and
Keras 3's others (celu, gelu, glu, hard_*, log_sigmoid, mish, relu6, silu, soft_shrink,
softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax, squareplus, tanh_shrink,
threshold), plus the epilogues the fused ``linear`` runs for the fusable ones.

Forward: one numba pass for relu, leaky_relu, prelu and rrelu; sigmoid, tanh, elu and selu
use numpy's SIMD exp / tanh / expm1 with at most one numba pass on either side (numba's scalar
libm calls are several times slower). Backward: one numba pass. It reads the saved output ``y``
whenever the derivative is a function of it (relu, leaky_relu, elu, selu, sigmoid, tanh), so
the input can be freed; it reads ``x`` only where ``y`` cannot tell the branch (a negative
slope or alpha) or the derivative needs ``x`` itself (prelu's dalpha).
"""
import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .. import _checks
from .. import random as _random
from .._kernel import elementwise, flat, kernel
from ..function import Function

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# ---- kernels (flat contiguous views, one pass, output preallocated in the input's dtype) ----
@kernel
def _relu_fwd(x, out):
    for i in range(x.size):               # not max(): NaN must propagate (NaN <= 0 is False)
        out[i] = 0.0 if x[i] <= 0.0 else x[i]  # noqa: FURB136


@kernel
def _leaky_relu_fwd(x, slope, out):
    for i in range(x.size):
        out[i] = x[i] if x[i] > 0.0 else slope * x[i]


@kernel
def _leaky_relu_bwd(s, g, slope, out):    # s: y (slope >= 0, same sign as x) or x itself
    for i in range(s.size):
        out[i] = slope * g[i] if s[i] <= 0.0 else g[i]


# exp, expm1 and tanh stay numpy ufuncs (SIMD): numba's scalar libm calls measured 4-20x
# slower (256x2048 float32: sigmoid 3.4 ms in one numba pass, 0.6 ms as the three passes
# below). The kernels do the cheap passes around them.
@kernel
def _elu_post(x, t, alpha, scale, out):   # t = expm1(min(x, 0)); out may be t itself
    for i in range(x.size):
        out[i] = scale * x[i] if x[i] > 0.0 else scale * alpha * t[i]


@kernel
def _elu_bwd(y, g, alpha, scale, out):    # x <= 0: dy/dx = scale*alpha*exp(x) = y + scale*alpha
    for i in range(y.size):
        out[i] = scale * g[i] if y[i] > 0.0 else g[i] * (y[i] + scale * alpha)


@kernel
def _elu_bwd_x(x, g, alpha, out):         # alpha < 0: y's sign no longer tells the branch
    for i in range(x.size):
        out[i] = g[i] if x[i] > 0.0 else g[i] * alpha * math.exp(x[i])


@kernel
def _sigmoid_pre(x, cap, out):            # out = -x, or +inf past cap: exp never overflows
    for i in range(x.size):               # (exp(inf) = inf raises no flag; 1/(1+inf) = 0)
        v = -x[i]
        out[i] = math.inf if v >= cap else v      # NaN stays NaN


@kernel
def _sigmoid_post(t, one):                # t = exp(-x) -> 1/(1 + t), in place
    for i in range(t.size):                # ``one`` has t's dtype: float32 division vectorises
        t[i] = one / (one + t[i])


@kernel
def _sigmoid_bwd(y, g, out):
    for i in range(y.size):
        out[i] = g[i] * y[i] * (1.0 - y[i])


@kernel
def _tanh_bwd(y, g, out):
    for i in range(y.size):
        out[i] = g[i] * (1.0 - y[i] * y[i])


@kernel
def _prelu_fwd(x, a, out):                # x: (n*m,) flat, a: (m,) the slope of each column
    m = a.size
    for r in range(x.size // m):
        for j in range(m):
            v = x[r * m + j]
            out[r * m + j] = v if v > 0.0 else a[j] * v


@kernel
def _prelu_bwd(x, a, g, dx, da):          # da accumulates over the rows (zeroed by the caller)
    m = a.size
    for r in range(x.size // m):
        for j in range(m):
            k = r * m + j
            if x[k] > 0.0:
                dx[k] = g[k]
            else:
                dx[k] = a[j] * g[k]
                da[j] += g[k] * x[k]


@kernel
def _rrelu_fwd(x, noise, lower, upper, out):   # noise: uniform [0,1) in, per-element slope out
    for i in range(x.size):
        if x[i] > 0.0:
            noise[i] = 1.0
        else:
            noise[i] = lower + (upper - lower) * noise[i]
        out[i] = noise[i] * x[i]


@kernel
def _scale_bwd(s, g, out):
    for i in range(s.size):
        out[i] = g[i] * s[i]


# ---- array helpers shared with the fused Linear ------------------------------------------------
@functools.cache
def _exp_cap(dtype, _caps={}):  # noqa: B006 (a cache: np.finfo costs ~0.5 us a call)
    """An argument below which exp is finite in ``dtype`` (log of the largest float, floored)."""
    cap = _caps.get(dtype)
    if cap is None:
        cap = _caps[dtype] = float(math.floor(math.log(np.finfo(dtype).max)))
    return cap


def sigmoid_into(x, out):
    """out = sigmoid(x) in three SIMD-friendly passes; ``out`` may be ``x`` itself."""
    fx, fo = flat(x), flat(out)
    _sigmoid_pre(fx, _exp_cap(x.dtype), fo)
    np.exp(fo, out=fo)
    _sigmoid_post(fo, x.dtype.type(1.0))
    return out


def elu_array(x, alpha, scale):
    """scale*(x if x > 0 else alpha*expm1(x)) as a new array (numpy's expm1 is SIMD)."""
    y = np.empty(x.shape, dtype=x.dtype)      # C order, so that y.reshape(-1) is a view
    np.minimum(x, 0.0, out=y)
    np.expm1(y, out=y)
    fy = y.reshape(-1)
    _elu_post(flat(x), fy, alpha, scale, fy)
    return y


# ---- Function classes -----------------------------------------------------------------------
class Relu(Function):
    """y = max(x, 0).  VJP: dx = g where y > 0, else 0 (0 at the kink, as torch and Keras)."""

    def forward(self, x):
        y = elementwise(_relu_fwd, x)
        self.save(y)
        return y

    def backward(self, g):
        return elementwise(_leaky_relu_bwd, self.saved[0], g, 0.0)


class LeakyRelu(Function):
    """y = x if x > 0 else s*x.  VJP: dx = g if x > 0 else s*g.

    With s >= 0, y > 0 exactly where x > 0, so backward reads y; a negative s keeps x."""

    def forward(self, x, negative_slope=0.2):
        self.slope = _checks.number("leaky_relu", "negative_slope", negative_slope)
        y = elementwise(_leaky_relu_fwd, x, self.slope)
        self.save(y if self.slope >= 0.0 else x)
        return y

    def backward(self, g):
        return elementwise(_leaky_relu_bwd, self.saved[0], g, self.slope)


class Elu(Function):
    """y = x if x > 0 else alpha*(exp(x) - 1).

    VJP: dx = g if x > 0 else g*alpha*exp(x) = g*(y + alpha) (from y when alpha >= 0)."""

    def forward(self, x, alpha=1.0):
        self.alpha = _checks.number("elu", "alpha", alpha)
        y = elu_array(x, self.alpha, 1.0)
        self.save(y if self.alpha >= 0.0 else x)
        return y

    def backward(self, g):
        if self.alpha >= 0.0:
            return elementwise(_elu_bwd, self.saved[0], g, self.alpha, 1.0)
        return elementwise(_elu_bwd_x, self.saved[0], g, self.alpha)


class Selu(Function):
    """y = scale*(x if x > 0 else alpha*(exp(x) - 1)), torch's alpha and scale.

    VJP: dx = g*scale if x > 0 else g*(y + scale*alpha)."""

    def forward(self, x):
        y = elu_array(x, SELU_ALPHA, SELU_SCALE)
        self.save(y)
        return y

    def backward(self, g):
        return elementwise(_elu_bwd, self.saved[0], g, SELU_ALPHA, SELU_SCALE)


class Sigmoid(Function):
    """y = 1/(1 + exp(-x)); where exp(-x) would overflow (x < -88 in float32, -709 in
    float64) y = 0 exactly (the true value is below 1e-38 / 1e-307), never NaN or a warning.

    VJP: dx = g*y*(1 - y)."""

    def forward(self, x):
        y = np.empty(x.shape, dtype=x.dtype)
        sigmoid_into(x, y)
        self.save(y)
        return y

    def backward(self, g):
        return elementwise(_sigmoid_bwd, self.saved[0], g)


class Tanh(Function):
    """y = tanh(x).  VJP: dx = g*(1 - y**2)."""

    def forward(self, x):
        y = np.tanh(x, out=np.empty_like(x))   # out=: an array even for 0-d x (not a scalar)
        self.save(y)
        return y

    def backward(self, g):
        return elementwise(_tanh_bwd, self.saved[0], g)


def _prelu_columns(x, alpha):
    """The slope of each column of x viewed as (rows, m): alpha broadcast over the trailing
    axes it varies along, materialised once (small: at most x.shape[1:])."""
    try:
        shape = np.broadcast_shapes(x.shape, alpha.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"prelu: alpha of shape {alpha.shape} must broadcast to the input's "
                         f"shape {x.shape} (e.g. x.shape[1:] with shared axes of size 1)")
    padded = (1,) * (x.ndim - alpha.ndim) + alpha.shape
    k = 0                      # leading axes along which alpha is constant
    while k < x.ndim and padded[k] == 1:
        k += 1
    cols = np.ascontiguousarray(np.broadcast_to(alpha.reshape(padded[k:]), x.shape[k:]))
    # dalpha's shape: the columns, with alpha's own leading 1-axes kept for the engine
    return cols, (1,) * max(alpha.ndim - cols.ndim, 0) + cols.shape


class Prelu(Function):
    """y = x if x > 0 else alpha*x, alpha broadcast against x.

    VJP: dx = g if x > 0 else alpha*g;  dalpha = g*x where x <= 0, else 0 (summed over the
    axes alpha is broadcast along: over the rows here, the rest by the engine)."""

    def forward(self, x, alpha):
        cols, self.da_shape = _prelu_columns(x, alpha)
        y = elementwise(_prelu_fwd, x, cols) if x.size else x.copy()
        self.save(x, cols)
        return y

    def backward(self, g):
        x, cols = self.saved
        dx = np.empty(x.shape, dtype=x.dtype)
        da = np.zeros(cols.shape, dtype=x.dtype)
        if x.size:
            _prelu_bwd(x.reshape(-1), cols.reshape(-1), np.ascontiguousarray(g).reshape(-1),
                       dx.reshape(-1), da.reshape(-1))
        return (dx if self.needs_input_grad[0] else None,
                da.reshape(self.da_shape) if self.needs_input_grad[1] else None)


class Rrelu(Function):
    """Randomized leaky ReLU. Training: y = x if x > 0 else a*x, a ~ U[lower, upper] drawn per
    element; inference: a = (lower + upper)/2 (as torch).  VJP: dx = g if x > 0 else a*g."""

    def forward(self, x, lower=1 / 8, upper=1 / 3, training=False, rng=None):
        if not training:
            self.slope = (lower + upper) / 2
            y = elementwise(_leaky_relu_fwd, x, self.slope)
            self.save(y if self.slope >= 0.0 else x)
            return y
        self.slope = None
        # the slopes double as the saved derivative (1 where x > 0): one array, one pass
        noise = rng.random(x.shape, dtype=x.dtype)
        y = elementwise(_rrelu_fwd, x, noise, lower, upper)
        self.save(noise)
        return y

    def backward(self, g):
        if self.slope is not None:
            return elementwise(_leaky_relu_bwd, self.saved[0], g, self.slope)
        return elementwise(_scale_bwd, self.saved[0], g)


# ---- wrappers --------------------------------------------------------------------------------
def relu(x):
    """Rectified linear unit max(x, 0) (see Relu)."""
    return Relu.apply(x)


def leaky_relu(x, negative_slope=0.2):
    """x if x > 0 else negative_slope*x; 0.2 is Keras's activation default (see LeakyRelu)."""
    return LeakyRelu.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    """Exponential linear unit (see Elu)."""
    return Elu.apply(x, alpha=alpha)


def selu(x):
    """Scaled exponential linear unit with torch's constants (see Selu)."""
    return Selu.apply(x)


def sigmoid(x):
    """Logistic function 1/(1 + exp(-x)), stable for large |x| (see Sigmoid)."""
    return Sigmoid.apply(x)


def tanh(x):
    """Hyperbolic tangent (see Tanh)."""
    return Tanh.apply(x)


def prelu(x, alpha):
    """Parametric ReLU: x if x > 0 else alpha*x, alpha a Tensor broadcast against x (e.g. of
    shape x.shape[1:] with shared axes of size 1); differentiable in x and alpha."""
    return Prelu.apply(x, alpha)


def rrelu(x, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    """Randomized leaky ReLU (see Rrelu). In training, one slope per element is drawn from
    ``rng`` (a numpy Generator; None: minigrad's global generator, looked up now)."""
    lower = _checks.number("rrelu", "lower", lower)
    upper = _checks.number("rrelu", "upper", upper)
    if lower > upper:
        raise ValueError(f"rrelu: lower={lower} is above upper={upper}; expected lower <= upper")
    if training:
        if rng is None:
            rng = _random.generator()
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(f"rrelu: rng must be a numpy.random.Generator or None, got "
                            f"{type(rng).__name__}")
    return Rrelu.apply(x, lower=lower, upper=upper, training=bool(training), rng=rng)


# ==== Keras 3's other activations ===============================================================
# Elementwise ops whose numpy form is one or two ufunc passes stay numpy (SIMD); numba kernels
# where one pass replaces several np.where temporaries or numpy has no ufunc (erf).
# benchmarks/bench_ops.py ("activation kernels") prints the measured choice.
def _out(v, dtype):
    """An ndarray of ``dtype`` (numpy returns a scalar for 0-d inputs)."""
    return np.asarray(v, dtype=dtype)


@kernel
def _relu6_fwd(x, out):
    for i in range(x.size):               # comparisons, not min/max: NaN propagates
        v = x[i]
        out[i] = 0.0 if v <= 0.0 else (6.0 if v >= 6.0 else v)  # noqa: FURB136


@kernel
def _band_bwd(y, g, lo, hi, slope, out):  # dx = slope*g where lo < y < hi, else 0
    for i in range(y.size):
        out[i] = slope * g[i] if (y[i] > lo and y[i] < hi) else 0.0


# constants come in the input's dtype (``_c``): a float64 literal would turn float32 arithmetic
# into float64 and stop the loop vectorising (hard_sigmoid at 256x2048: 9x slower)
def _c(x, *values):
    return tuple(x.dtype.type(v) for v in values)


@kernel
def _hard_sigmoid_fwd(x, sixth, half, out):    # clip(x/6 + 1/2, 0, 1)
    for i in range(x.size):
        v = x[i] * sixth + half
        out[i] = 0.0 if v <= 0.0 else (1.0 if v >= 1.0 else v)  # noqa: FURB136


@kernel
def _hard_silu_fwd(x, sixth, half, out):  # x * clip(x/6 + 1/2, 0, 1)
    for i in range(x.size):
        v = x[i] * sixth + half
        out[i] = 0.0 if v <= 0.0 else (x[i] if v >= 1.0 else x[i] * v)


@kernel
def _hard_silu_bwd(x, g, third, half, out):   # 0 (x < -3), x/3 + 1/2 (|x| < 3), 1 (x > 3)
    for i in range(x.size):
        v = x[i]
        out[i] = 0.0 if v <= -3.0 else (g[i] if v >= 3.0 else g[i] * (v * third + half))


@kernel
def _hard_tanh_fwd(x, out):
    for i in range(x.size):
        v = x[i]
        out[i] = -1.0 if v <= -1.0 else (1.0 if v >= 1.0 else v)  # noqa: FURB136


@kernel
def _sparse_sigmoid_fwd(x, half, out):    # 0 (x <= -1), (x + 1)/2, 1 (x >= 1)
    for i in range(x.size):
        v = x[i]
        out[i] = 0.0 if v <= -1.0 else (1.0 if v >= 1.0 else v * half + half)


@kernel
def _sparse_plus_fwd(x, quarter, one, out):   # 0 (x <= -1), (x + 1)^2/4, x (x >= 1)
    for i in range(x.size):
        v = x[i]
        out[i] = 0.0 if v <= -1.0 else (v if v >= 1.0 else quarter * (v + one) * (v + one))


@kernel
def _sparse_plus_bwd(y, g, out):          # dy/dx = (x + 1)/2 = sqrt(y) inside, 0 or 1 outside
    for i in range(y.size):
        out[i] = g[i] * min(math.sqrt(y[i]), 1.0)


@kernel
def _shrink_fwd(x, t, soft, out):         # |x| <= t: 0; else x (hard) or x -+ t (soft)
    for i in range(x.size):
        v = x[i]
        if v > t:
            out[i] = v - t if soft else v
        elif v < -t:
            out[i] = v + t if soft else v
        else:
            out[i] = 0.0 * v               # NaN stays NaN


@kernel
def _shrink_bwd(x, g, t, out):
    for i in range(x.size):
        out[i] = g[i] if (x[i] > t or x[i] < -t) else 0.0


@kernel
def _threshold_fwd(x, t, value, out):
    for i in range(x.size):
        out[i] = x[i] if not x[i] <= t else value     # NaN stays NaN


@kernel
def _threshold_bwd(x, g, t, out):
    for i in range(x.size):
        out[i] = 0.0 if x[i] <= t else g[i]


_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# numpy has no erf ufunc, so exact gelu is one numba pass (scalar erf and exp)
@kernel
def _gelu_fwd(x, approximate, out):
    for i in range(x.size):
        v = x[i]
        if approximate:
            out[i] = 0.5 * v * (1.0 + math.tanh(_SQRT_2_PI * (v + 0.044715 * v * v * v)))
        else:
            out[i] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT_2))


@kernel
def _gelu_bwd(x, g, approximate, out):
    for i in range(x.size):
        v = x[i]
        if approximate:
            t = math.tanh(_SQRT_2_PI * (v + 0.044715 * v * v * v))
            d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _SQRT_2_PI * (
                1.0 + 3.0 * 0.044715 * v * v)
        else:
            d = 0.5 * (1.0 + math.erf(v * _INV_SQRT_2)) + v * _INV_SQRT_2PI * math.exp(
                -0.5 * v * v)
        out[i] = g[i] * d


@kernel
def _silu_bwd(x, s, g, out):              # s = sigmoid(x); out may be s
    for i in range(x.size):
        out[i] = g[i] * s[i] * (1.0 + x[i] * (1.0 - s[i]))


@kernel
def _mish_bwd(x, t, s, g, out):           # t = tanh(softplus(x)), s = sigmoid(x); out may be t
    for i in range(x.size):
        out[i] = g[i] * (t[i] + x[i] * s[i] * (1.0 - t[i] * t[i]))


@kernel
def _scaled_mul(a, b, c, out):            # out = a * b * c
    for i in range(a.size):
        out[i] = a[i] * b[i] * c[i]


@kernel
def _softplus_post(x, t, out):            # out = max(x, 0) + t; out may be x or t
    for i in range(x.size):
        v = x[i]
        out[i] = (v if v > 0.0 else 0.0) + t[i]  # noqa: FURB136 (x NaN: t is NaN too)


def softplus_into(x, out):
    """out = max(x, 0) + log1p(exp(-|x|)) = log(1 + exp(x)) without overflow; ``out`` may be
    ``x``. numpy's SIMD exp and log1p plus one numba pass: 12x faster than np.logaddexp
    (not vectorised) at 256x2048 float32."""
    t = np.abs(x, out=np.empty(x.shape, dtype=x.dtype))   # out=: an array even for 0-d x
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    _softplus_post(flat(x), flat(t), out.reshape(-1))
    return out


def silu_into(x, out):
    """out = x * sigmoid(x); ``out`` must not be ``x``."""
    sigmoid_into(x, out)
    np.multiply(out, x, out=out)
    return out


def mish_into(x, out):
    """out = x * tanh(softplus(x)); ``out`` must not be ``x``."""
    softplus_into(x, out)
    np.tanh(out, out=out)
    np.multiply(out, x, out=out)
    return out


def gelu_into(x, approximate, out):
    """out = x * Phi(x) (exact: erf) or its tanh form; ``out`` may be ``x``."""
    _gelu_fwd(flat(x), bool(approximate), out.reshape(-1))
    return out


def silu_vjp(x, g, out):
    """out = g * s * (1 + x (1 - s)), s = sigmoid(x)."""
    sigmoid_into(x, out)
    _silu_bwd(flat(x), out.reshape(-1), flat(g), out.reshape(-1))
    return out


def mish_vjp(x, g, out):
    """out = g * (t + x s (1 - t^2)), t = tanh(softplus(x)), s = sigmoid(x)."""
    s = sigmoid_into(x, np.empty(x.shape, dtype=x.dtype))
    np.tanh(softplus_into(x, out), out=out)
    _mish_bwd(flat(x), out.reshape(-1), s.reshape(-1), flat(g), out.reshape(-1))
    return out


def gelu_vjp(x, g, approximate, out):
    """out = g * (Phi(x) + x phi(x)) (exact) or the derivative of the tanh form."""
    _gelu_bwd(flat(x), flat(g), bool(approximate), out.reshape(-1))
    return out


class Celu(Function):
    """y = max(x, 0) + alpha*expm1(min(x, 0)/alpha) (Keras 3, alpha != 0).

    VJP: dx = g if x > 0 else g*exp(x/alpha) = g*(y/alpha + 1) (y <= 0 exactly where x <= 0)."""

    def forward(self, x, alpha=1.0):
        self.alpha = alpha
        a = x.dtype.type(alpha)
        y = _out(np.maximum(x, 0.0) + a * np.expm1(np.minimum(x, 0.0) / a), x.dtype)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return _out(np.where(y > 0, g, g * (y / y.dtype.type(self.alpha) + 1)), y.dtype)


class Relu6(Function):
    """y = min(max(x, 0), 6).  VJP: dx = g where 0 < y < 6, else 0 (0 at both kinks)."""

    def forward(self, x):
        y = elementwise(_relu6_fwd, x)
        self.save(y)
        return y

    def backward(self, g):
        y = self.saved[0]
        return elementwise(_band_bwd, y, g, 0.0, 6.0, *_c(y, 1.0))


class HardSigmoid(Function):
    """y = clip(x/6 + 1/2, 0, 1) (Keras 3's slope 1/6).  VJP: dx = g/6 where 0 < y < 1."""

    def forward(self, x):
        y = elementwise(_hard_sigmoid_fwd, x, *_c(x, 1 / 6, 0.5))
        self.save(y)
        return y

    def backward(self, g):
        y = self.saved[0]
        return elementwise(_band_bwd, y, g, 0.0, 1.0, *_c(y, 1 / 6))


class HardSilu(Function):
    """y = x * hard_sigmoid(x).  VJP: dx = g*(x/3 + 1/2) for |x| < 3, 0 below, g above."""

    def forward(self, x):
        self.save(x)
        return elementwise(_hard_silu_fwd, x, *_c(x, 1 / 6, 0.5))

    def backward(self, g):
        x = self.saved[0]
        return elementwise(_hard_silu_bwd, x, g, *_c(x, 1 / 3, 0.5))


class HardTanh(Function):
    """y = clip(x, -1, 1).  VJP: dx = g where -1 < y < 1, else 0."""

    def forward(self, x):
        y = elementwise(_hard_tanh_fwd, x)
        self.save(y)
        return y

    def backward(self, g):
        y = self.saved[0]
        return elementwise(_band_bwd, y, g, -1.0, 1.0, *_c(y, 1.0))


class SparseSigmoid(Function):
    """y = 0 (x <= -1), (x + 1)/2, 1 (x >= 1).  VJP: dx = g/2 where 0 < y < 1."""

    def forward(self, x):
        y = elementwise(_sparse_sigmoid_fwd, x, *_c(x, 0.5))
        self.save(y)
        return y

    def backward(self, g):
        y = self.saved[0]
        return elementwise(_band_bwd, y, g, 0.0, 1.0, *_c(y, 0.5))


class SparsePlus(Function):
    """y = 0 (x <= -1), (x + 1)^2/4 (|x| < 1), x (x >= 1).

    VJP: dx = g*min(sqrt(y), 1) (= g*(x + 1)/2 inside, 0 below, g above)."""

    def forward(self, x):
        y = elementwise(_sparse_plus_fwd, x, *_c(x, 0.25, 1.0))
        self.save(y)
        return y

    def backward(self, g):
        return elementwise(_sparse_plus_bwd, self.saved[0], g)


class Shrink(Function):
    """hard_shrink: y = x where |x| > t, else 0; soft_shrink: y = x - t (x > t), x + t
    (x < -t), else 0.  VJP (both): dx = g where |x| > t, else 0."""

    def forward(self, x, threshold=0.5, soft=False):
        self.threshold = threshold
        self.save(x)
        return elementwise(_shrink_fwd, x, threshold, bool(soft))

    def backward(self, g):
        return elementwise(_shrink_bwd, self.saved[0], g, self.threshold)


class Threshold(Function):
    """y = x if x > threshold else default_value.  VJP: dx = g where x > threshold, else 0."""

    def forward(self, x, threshold, default_value):
        self.threshold = threshold
        self.save(x)
        return elementwise(_threshold_fwd, x, threshold, default_value)

    def backward(self, g):
        return elementwise(_threshold_bwd, self.saved[0], g, self.threshold)


class Softplus(Function):
    """y = log(1 + exp(x)) = logaddexp(x, 0).  VJP: dx = g*sigmoid(x) = -g*expm1(-y)."""

    def forward(self, x):
        y = softplus_into(x, np.empty(x.shape, dtype=x.dtype))
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return _out(-g * np.expm1(-y), y.dtype)


class LogSigmoid(Function):
    """y = log(sigmoid(x)) = -softplus(-x).  VJP: dx = g*sigmoid(-x) = -g*expm1(y)."""

    def forward(self, x):
        y = softplus_into(np.negative(x, out=np.empty(x.shape, dtype=x.dtype)),
                          np.empty(x.shape, dtype=x.dtype))
        np.negative(y, out=y)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return _out(-g * np.expm1(y), y.dtype)


class Softsign(Function):
    """y = x / (1 + |x|).  VJP: dx = g/(1 + |x|)^2 = g*(1 - |y|)^2."""

    def forward(self, x):
        y = _out(x / (1 + np.abs(x)), x.dtype)
        self.save(y)
        return y

    def backward(self, g):
        t = 1 - np.abs(self.saved[0])
        return _out(g * t * t, t.dtype)


class Squareplus(Function):
    """y = (x + sqrt(x^2 + b)) / 2 (b >= 0).  VJP: dx = g*(1 + x/sqrt(x^2 + b))/2."""

    def forward(self, x, b=4.0):
        r = np.sqrt(x * x + x.dtype.type(b))
        self.save(x, r)
        return _out((x + r) / 2, x.dtype)

    def backward(self, g):
        x, r = self.saved
        return _out(g * (1 + x / r) / 2, x.dtype)


class TanhShrink(Function):
    """y = x - tanh(x).  VJP: dx = g*tanh(x)^2."""

    def forward(self, x):
        t = np.tanh(x, out=np.empty_like(x))
        self.save(t)
        return _out(x - t, x.dtype)

    def backward(self, g):
        t = self.saved[0]
        return elementwise(_scaled_mul, t, t, np.ascontiguousarray(g, dtype=t.dtype))


class Gelu(Function):
    """y = x*Phi(x) = x/2*(1 + erf(x/sqrt2)); approximate: x/2*(1 + tanh(sqrt(2/pi)(x +
    0.044715 x^3))).  VJP: dx = g*(Phi(x) + x*phi(x)) (phi the normal density), or the
    derivative of the tanh form."""

    def forward(self, x, approximate=False):
        self.approximate = approximate
        self.save(x)
        return gelu_into(x, approximate, np.empty(x.shape, dtype=x.dtype))

    def backward(self, g):
        x = self.saved[0]
        return gelu_vjp(x, np.ascontiguousarray(g, dtype=x.dtype), self.approximate,
                        np.empty(x.shape, dtype=x.dtype))


class Silu(Function):
    """y = x*sigmoid(x) (swish).  VJP: dx = g*s*(1 + x*(1 - s)), s = sigmoid(x)."""

    def forward(self, x):
        self.save(x)
        return silu_into(x, np.empty(x.shape, dtype=x.dtype))

    def backward(self, g):
        x = self.saved[0]
        return silu_vjp(x, g, np.empty(x.shape, dtype=x.dtype))


class Mish(Function):
    """y = x*tanh(softplus(x)).  VJP: dx = g*(t + x*s*(1 - t^2)), t = tanh(softplus(x)),
    s = sigmoid(x)."""

    def forward(self, x):
        self.save(x)
        return mish_into(x, np.empty(x.shape, dtype=x.dtype))

    def backward(self, g):
        x = self.saved[0]
        return mish_vjp(x, g, np.empty(x.shape, dtype=x.dtype))


class Glu(Function):
    """a, b = the two halves of x along ``axis``; y = a*sigmoid(b).

    VJP: da = g*s, db = g*a*s*(1 - s) with s = sigmoid(b), concatenated back along the axis."""

    def forward(self, x, axis=-1):
        if x.ndim == 0 or x.shape[axis] % 2:
            raise ValueError(f"glu: the size of axis {axis} must be even (it is split in two "
                             f"halves), got an input of shape {x.shape}")
        self.axis = axis
        a, b = np.split(x, 2, axis=axis)
        s = sigmoid_into(np.ascontiguousarray(b), np.empty(b.shape, dtype=x.dtype))
        self.save(a, s)
        return _out(a * s, x.dtype)

    def backward(self, g):
        a, s = self.saved
        gs = g * s
        return np.concatenate([gs, gs * a * (1 - s)], axis=self.axis)


class Sparsemax(Function):
    """y = max(x - tau, 0) along ``axis``, tau such that the y sum to 1 (the Euclidean
    projection onto the simplex; Martins & Astudillo 2016).

    VJP: on the support S (y > 0) dx = g - mean_S(g), off it 0."""

    def forward(self, x, axis=-1):
        if x.ndim == 0:
            raise ValueError("sparsemax: expected an input with at least one axis, got a scalar")
        self.axis = axis
        z = np.moveaxis(x, axis, -1)
        zs = -np.sort(-z, axis=-1)
        r = np.arange(1, z.shape[-1] + 1, dtype=x.dtype)
        cs = np.cumsum(zs, axis=-1)
        support = zs - (cs - 1) / r > 0
        k = support.sum(axis=-1, keepdims=True)
        tau = (np.take_along_axis(cs, k - 1, axis=-1) - 1) / k
        y = np.moveaxis(_out(np.maximum(z - tau, 0.0), x.dtype), -1, axis)
        y = np.ascontiguousarray(y)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        s = y > 0
        gs = np.where(s, g, 0.0)
        mean = gs.sum(axis=self.axis, keepdims=True) / s.sum(axis=self.axis, keepdims=True)
        return _out(np.where(s, g - mean, 0.0), y.dtype)


# ---- wrappers of Keras 3's other activations (defaults as keras/src/activations) ------------
def celu(x, alpha=1.0):
    """Continuously differentiable ELU: max(x, 0) + alpha*expm1(min(x, 0)/alpha) (see Celu)."""
    alpha = _checks.number("celu", "alpha", alpha)
    if alpha == 0.0:
        raise ValueError("celu: alpha must be nonzero (it divides x), got 0.0")
    return Celu.apply(x, alpha=alpha)


def gelu(x, approximate=False):
    """Gaussian error linear unit x*Phi(x); ``approximate=True``: the tanh form (see Gelu).
    (Keras's ``ops.gelu`` defaults to approximate=True; ``activations.gelu`` to False.)"""
    return Gelu.apply(x, approximate=_checks.boolean("gelu", "approximate", approximate))


def glu(x, axis=-1):
    """Gated linear unit: a*sigmoid(b), a and b the halves of ``axis`` (see Glu)."""
    return Glu.apply(x, axis=_checks.integer("glu", "axis", axis))


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0 (see Shrink)."""
    return Shrink.apply(x, threshold=_checks.number("hard_shrink", "threshold", threshold))


def soft_shrink(x, threshold=0.5):
    """x - threshold (x > threshold), x + threshold (x < -threshold), else 0 (see Shrink)."""
    return Shrink.apply(x, threshold=_checks.number("soft_shrink", "threshold", threshold),
                        soft=True)


def hard_sigmoid(x):
    """clip(x/6 + 1/2, 0, 1) (see HardSigmoid)."""
    return HardSigmoid.apply(x)


def hard_silu(x):
    """Hard swish x*hard_sigmoid(x) (see HardSilu)."""
    return HardSilu.apply(x)


def hard_tanh(x):
    """clip(x, -1, 1) (see HardTanh)."""
    return HardTanh.apply(x)


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x| (see LogSigmoid)."""
    return LogSigmoid.apply(x)


def mish(x):
    """x*tanh(softplus(x)) (see Mish)."""
    return Mish.apply(x)


def relu6(x):
    """min(max(x, 0), 6) (see Relu6)."""
    return Relu6.apply(x)


def silu(x):
    """Sigmoid linear unit (swish) x*sigmoid(x) (see Silu)."""
    return Silu.apply(x)


def softplus(x):
    """log(1 + exp(x)), stable for large |x| (see Softplus)."""
    return Softplus.apply(x)


def softsign(x):
    """x / (1 + |x|) (see Softsign)."""
    return Softsign.apply(x)


def sparse_plus(x):
    """0 (x <= -1), (x + 1)^2/4 (|x| < 1), x (x >= 1) (see SparsePlus)."""
    return SparsePlus.apply(x)


def sparse_sigmoid(x):
    """0 (x <= -1), (x + 1)/2 (|x| < 1), 1 (x >= 1) (see SparseSigmoid)."""
    return SparseSigmoid.apply(x)


def sparsemax(x, axis=-1):
    """Projection onto the probability simplex along ``axis`` (see Sparsemax)."""
    return Sparsemax.apply(x, axis=_checks.integer("sparsemax", "axis", axis))


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2, b >= 0 (see Squareplus)."""
    return Squareplus.apply(x, b=_checks.nonneg("squareplus", "b", b))


def tanh_shrink(x):
    """x - tanh(x) (see TanhShrink)."""
    return TanhShrink.apply(x)


def threshold(x, threshold, default_value):
    """x if x > threshold else default_value; both required, as in Keras (see Threshold)."""
    return Threshold.apply(x, threshold=_checks.number("threshold", "threshold", threshold),
                           default_value=_checks.number("threshold", "default_value",
                                                        default_value))


# ==== epilogues of the fused linear =============================================================
class Epilogue(NamedTuple):
    """How ``linear`` finishes act(z + b) after its GEMM (z: (n, m) C-contiguous, b: (m,) or
    None) and differentiates it.

    ``saves``: "y" when act'(z) is a function of the output y, so the pre-activation is never
    kept; "z" when it is not (gelu, silu, mish): backward reads the saved pre-activation.
    ``forward(z, b, alpha, out)``: out = act(z + b); for "y" out is z itself (in place), for
    "z" z becomes z + b and out is a new array. ``backward(s, g, alpha, dz, db)``: dz = g *
    act'(z) from s (y or z), db = the column sums of dz (skipped when db has size 0).
    ``alpha``: the default of the one parameter (leaky_relu's slope, elu's alpha); None when
    the activation takes none."""

    saves: str
    forward: Callable
    backward: Callable
    alpha: float | None = None


# one kernel per direction for the y-derivable family, the activation chosen by an integer
# code outside the inner loops: one compile per dtype instead of one per activation, as fast
# as a relu-only kernel (benchmarks/bench_ops.py, "kernel choices"). Each row is finished
# while it sits in cache; exp, expm1, tanh and logaddexp are left to numpy's SIMD ufuncs.
_LINEAR, _RELU, _LEAKY, _ELU, _SIGMOID, _TANH, _RELU6, _SOFTPLUS = range(8)


@kernel
def _linear_fwd(z, b, act, alpha, scale, cap, t):
    """z (n, m) in place. relu/leaky_relu/relu6: z = act(z + b) complete; sigmoid: z = -(z + b)
    or +inf past cap (exp then yields inf, 1/(1+inf) = 0, no overflow); elu: z += b and
    t = min(z, 0) (t unused otherwise); others: z += b."""
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
        elif act == _RELU6:
            for j in range(m):
                v = z[r, j] + b[j]
                z[r, j] = 0.0 if v <= 0.0 else (6.0 if v >= 6.0 else v)  # noqa: FURB136
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


def _finish(z, b, act, alpha, scale):
    """Finish y = act(z + b) in place on the GEMM output z (2-D, C-contiguous)."""
    if act in (_TANH, _SOFTPLUS):
        if b is not None:
            z += b
        if act == _TANH:
            np.tanh(z, out=z)
        else:
            softplus_into(z, z)
        return
    if b is None:
        b = np.zeros(z.shape[1], dtype=z.dtype)
    t = np.empty_like(z) if act == _ELU else z
    cap = _exp_cap(z.dtype) if act == _SIGMOID else 0.0
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
        elif act == _RELU6:
            for j in range(m):
                dz[r, j] = g[r, j] if (y[r, j] > 0.0 and y[r, j] < 6.0) else 0.0
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
        elif act == _SOFTPLUS:          # dz holds expm1(-y) = -sigmoid(z) (see _softplus_bwd)
            for j in range(m):
                dz[r, j] = -g[r, j] * dz[r, j]
        if db.size:
            for j in range(m):
                db[j] += dz[r, j]


def _coded(code, alpha=None, fixed=0.0, scale=1.0):
    """The epilogue of a y-derivable activation run by the coded kernels; ``fixed`` is the
    alpha used when the activation takes none (selu's)."""
    def forward(z, b, a, out):
        _finish(z, b, code, fixed if a is None else a, scale)

    def backward(y, g, a, dz, db):
        _linear_bwd(y, g, code, fixed if a is None else a, scale, dz, db)
    return Epilogue("y", forward, backward, alpha)


def _from_z(into, vjp):
    """The epilogue of an activation whose derivative needs z: bias added in place, the
    activation into a new array, the saved z read back in backward."""
    def forward(z, b, a, out):
        if b is not None:
            z += b
        into(z, out)

    def backward(z, g, a, dz, db):
        vjp(z, g, dz)
        if db.size:
            np.add.reduce(dz, axis=0, out=db)
    return Epilogue("z", forward, backward)


RELU_EPILOGUE = _coded(_RELU)
LEAKY_RELU_EPILOGUE = _coded(_LEAKY, alpha=0.2)
RELU6_EPILOGUE = _coded(_RELU6)
ELU_EPILOGUE = _coded(_ELU, alpha=1.0)
SELU_EPILOGUE = _coded(_ELU, fixed=SELU_ALPHA, scale=SELU_SCALE)
SIGMOID_EPILOGUE = _coded(_SIGMOID)
TANH_EPILOGUE = _coded(_TANH)


def _softplus_bwd(y, g, a, dz, db):
    """softplus' = sigmoid(z) = -expm1(-y): numpy's SIMD expm1 first (numba's scalar expm1 made
    the fused backward slower than the unfused op), then the coded pass with db."""
    np.negative(y, out=dz)
    np.expm1(dz, out=dz)
    _linear_bwd(y, g, _SOFTPLUS, 0.0, 1.0, dz, db)


SOFTPLUS_EPILOGUE = _coded(_SOFTPLUS)._replace(backward=_softplus_bwd)
GELU_EPILOGUE = _from_z(lambda z, out: gelu_into(z, False, out),
                        lambda z, g, dz: gelu_vjp(z, g, False, dz))
SILU_EPILOGUE = _from_z(silu_into, silu_vjp)
MISH_EPILOGUE = _from_z(mish_into, mish_vjp)


def _identity_forward(z, b, a, out):
    if b is not None:
        z += b


def _identity_backward(z, g, a, dz, db):
    dz[...] = g
    if db.size:
        np.add.reduce(g, axis=0, out=db)


# "linear": nothing to finish; ``saves == "none"`` lets linear skip the copies altogether
IDENTITY_EPILOGUE = Epilogue("none", _identity_forward, _identity_backward)


def ops_gelu(x, approximate=True):
    """``keras.ops.gelu``: the same op with Keras ops' default approximate=True (the
    activation ``keras.activations.gelu`` defaults to False)."""
    return gelu(x, approximate=approximate)


# Keras's other names of the same functions (keras.ops.swish, keras.ops.hard_swish)
swish = silu
hard_swish = hard_silu
