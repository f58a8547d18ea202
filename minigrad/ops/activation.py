"""Elementwise activations: relu, leaky_relu, elu, selu, sigmoid, tanh, prelu, rrelu.

Forward: one numba pass for relu, leaky_relu, prelu and rrelu; sigmoid, tanh, elu and selu
use numpy's SIMD exp / tanh / expm1 with at most one numba pass on either side (numba's scalar
libm calls are several times slower). Backward: one numba pass. It reads the saved output ``y``
whenever the derivative is a function of it (relu, leaky_relu, elu, selu, sigmoid, tanh), so
the input can be freed; it reads ``x`` only where ``y`` cannot tell the branch (a negative
slope or alpha) or the derivative needs ``x`` itself (prelu's dalpha).
"""
import functools
import math

import numpy as np

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


def _number(op, name, value):
    """A finite Python float from a config value; TypeError/ValueError naming the op."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{op}: {name} must be finite, got {value!r}")
    return v


# ---- array helpers shared with the fused Linear ------------------------------------------------
@functools.cache
def _exp_cap(dtype):
    """An argument below which exp is finite in ``dtype`` (log of the largest float, floored)."""
    return float(math.floor(math.log(np.finfo(dtype).max)))


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
        self.slope = _number("leaky_relu", "negative_slope", negative_slope)
        y = elementwise(_leaky_relu_fwd, x, self.slope)
        self.save(y if self.slope >= 0.0 else x)
        return y

    def backward(self, g):
        return elementwise(_leaky_relu_bwd, self.saved[0], g, self.slope)


class Elu(Function):
    """y = x if x > 0 else alpha*(exp(x) - 1).

    VJP: dx = g if x > 0 else g*alpha*exp(x) = g*(y + alpha) (from y when alpha >= 0)."""

    def forward(self, x, alpha=1.0):
        self.alpha = _number("elu", "alpha", alpha)
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
    lower = _number("rrelu", "lower", lower)
    upper = _number("rrelu", "upper", upper)
    if lower > upper:
        raise ValueError(f"rrelu: lower={lower} is above upper={upper}; expected lower <= upper")
    if training:
        if rng is None:
            rng = _random.generator()
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(f"rrelu: rng must be a numpy.random.Generator or None, got "
                            f"{type(rng).__name__}")
    return Rrelu.apply(x, lower=lower, upper=upper, training=bool(training), rng=rng)
