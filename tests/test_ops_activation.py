"""The activation ops (ops/activation.py): op-level VJPs (forward then backward(g) on the
Function classes, against float64 numpy references), numerical edge cases and argument checks.
Value and gradcheck rows of every op are in the op table (test_ops.py)."""
import math
from math import erf

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F
from minigrad.ops import activation as A

SA, SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _x(shape=(6, 7), seed=0, dtype=np.float64):
    """Random inputs kept at least 1e-3 away from the kink at 0."""
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    x[np.abs(x) < 1e-3] = 0.5
    return x.astype(dtype)


def _sigmoid64(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# (Function class, config, reference forward, reference derivative dy/dx), all float64 numpy
ELEMENTWISE = {
    "relu": (A.Relu, {}, lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "leaky_relu": (A.LeakyRelu, {"negative_slope": 0.2}, lambda x: np.where(x > 0, x, 0.2 * x),
                   lambda x: np.where(x > 0, 1.0, 0.2)),
    "leaky_relu_neg": (A.LeakyRelu, {"negative_slope": -0.5},
                       lambda x: np.where(x > 0, x, -0.5 * x), lambda x: np.where(x > 0, 1, -0.5)),
    "leaky_relu_0": (A.LeakyRelu, {"negative_slope": 0.0}, lambda x: np.maximum(x, 0),
                     lambda x: (x > 0) * 1.0),
    "elu": (A.Elu, {"alpha": 1.0}, lambda x: np.where(x > 0, x, np.expm1(x)),
            lambda x: np.where(x > 0, 1.0, np.exp(x))),
    "elu_a0.5": (A.Elu, {"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)),
                 lambda x: np.where(x > 0, 1.0, 0.5 * np.exp(x))),
    "elu_neg": (A.Elu, {"alpha": -0.3}, lambda x: np.where(x > 0, x, -0.3 * np.expm1(x)),
                lambda x: np.where(x > 0, 1.0, -0.3 * np.exp(x))),
    "selu": (A.Selu, {}, lambda x: SS * np.where(x > 0, x, SA * np.expm1(x)),
             lambda x: SS * np.where(x > 0, 1.0, SA * np.exp(x))),
    "sigmoid": (A.Sigmoid, {}, _sigmoid64, lambda x: _sigmoid64(x) * _sigmoid64(-x)),
    "tanh": (A.Tanh, {}, np.tanh, lambda x: 1 / np.cosh(x) ** 2),
    "rrelu_eval": (A.Rrelu, {"lower": 0.1, "upper": 0.3},
                   lambda x: np.where(x > 0, x, 0.2 * x), lambda x: np.where(x > 0, 1.0, 0.2)),
}


def _phi(x):
    return np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


def _Phi(x):
    return 0.5 * (1 + np.vectorize(erf)(x / np.sqrt(2)))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def _gelu_tanh_d(x):
    t = np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * x * x)


def _softplus64(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# Keras 3's other elementwise activations (closed forms; derivatives by hand)
ELEMENTWISE.update({
    "celu": (A.Celu, {"alpha": 1.0}, lambda x: np.where(x > 0, x, np.expm1(x)),
             lambda x: np.where(x > 0, 1.0, np.exp(x))),
    "celu_a2": (A.Celu, {"alpha": 2.0}, lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2)),
                lambda x: np.where(x > 0, 1.0, np.exp(x / 2))),
    "celu_neg": (A.Celu, {"alpha": -1.5}, lambda x: np.where(x > 0, x, -1.5 * np.expm1(-x / 1.5)),
                 lambda x: np.where(x > 0, 1.0, np.exp(-x / 1.5))),
    "gelu": (A.Gelu, {}, lambda x: x * _Phi(x), lambda x: _Phi(x) + x * _phi(x)),
    "gelu_tanh": (A.Gelu, {"approximate": True}, _gelu_tanh, _gelu_tanh_d),
    "hard_shrink": (A.Shrink, {"threshold": 0.5}, lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
                    lambda x: (np.abs(x) > 0.5) * 1.0),
    "soft_shrink": (A.Shrink, {"threshold": 0.7, "soft": True},
                    lambda x: np.where(x > 0.7, x - 0.7, np.where(x < -0.7, x + 0.7, 0.0)),
                    lambda x: (np.abs(x) > 0.7) * 1.0),
    "hard_sigmoid": (A.HardSigmoid, {}, lambda x: np.clip(x / 6 + 0.5, 0, 1),
                     lambda x: (np.abs(x) < 3) / 6.0),
    "hard_silu": (A.HardSilu, {}, lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
                  lambda x: np.where(x < -3, 0.0, np.where(x > 3, 1.0, x / 3 + 0.5))),
    "hard_tanh": (A.HardTanh, {}, lambda x: np.clip(x, -1, 1), lambda x: (np.abs(x) < 1) * 1.0),
    "log_sigmoid": (A.LogSigmoid, {}, lambda x: -_softplus64(-x), lambda x: _sigmoid64(-x)),
    "mish": (A.Mish, {}, lambda x: x * np.tanh(_softplus64(x)),
             lambda x: np.tanh(_softplus64(x))
             + x * _sigmoid64(x) * (1 - np.tanh(_softplus64(x)) ** 2)),
    "relu6": (A.Relu6, {}, lambda x: np.clip(x, 0, 6), lambda x: ((x > 0) & (x < 6)) * 1.0),
    "silu": (A.Silu, {}, lambda x: x * _sigmoid64(x),
             lambda x: _sigmoid64(x) * (1 + x * (1 - _sigmoid64(x)))),
    "softplus": (A.Softplus, {}, _softplus64, _sigmoid64),
    "softsign": (A.Softsign, {}, lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2),
    "sparse_plus": (A.SparsePlus, {},
                    lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
                    lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, (x + 1) / 2))),
    "sparse_sigmoid": (A.SparseSigmoid, {}, lambda x: np.clip((x + 1) / 2, 0, 1),
                       lambda x: (np.abs(x) < 1) / 2.0),
    "squareplus": (A.Squareplus, {"b": 4.0}, lambda x: (x + np.sqrt(x * x + 4)) / 2,
                   lambda x: (1 + x / np.sqrt(x * x + 4)) / 2),
    "squareplus_b0.5": (A.Squareplus, {"b": 0.5}, lambda x: (x + np.sqrt(x * x + 0.5)) / 2,
                        lambda x: (1 + x / np.sqrt(x * x + 0.5)) / 2),
    "tanh_shrink": (A.TanhShrink, {}, lambda x: x - np.tanh(x), lambda x: np.tanh(x) ** 2),
    "threshold": (A.Threshold, {"threshold": 0.3, "default_value": -2.0},
                  lambda x: np.where(x > 0.3, x, -2.0), lambda x: (x > 0.3) * 1.0),
})


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_elementwise_forward_and_vjp(name, dtype):
    cls, cfg, ref, dref = ELEMENTWISE[name]
    x = _x((5, 9), dtype=dtype)
    g = _x((5, 9), seed=1, dtype=dtype)
    fn = cls()
    fn.needs_input_grad = (True,)
    y = fn.forward(x, **cfg)
    dx = fn.backward(g)
    assert y.dtype == dtype and dx.dtype == dtype and y.shape == dx.shape == x.shape
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-6, "atol": 2e-6}
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    np.testing.assert_allclose(y, ref(x64), **tol)
    np.testing.assert_allclose(dx, g64 * dref(x64), **tol)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_gradcheck(name):
    cls, cfg, _, _ = ELEMENTWISE[name]
    c = _x((3, 4), seed=7)          # a random cotangent: a backward ignoring g cannot pass
    x = mg.Tensor(_x((3, 4), seed=3), requires_grad=True)
    assert mg.gradcheck(lambda t: cls.apply(t, **cfg) * c, x)


def test_backward_accepts_broadcast_gradient():
    # Sum's backward hands a zero-stride view downstream
    x = mg.Tensor(_x((4, 3)), requires_grad=True)
    for f in (F.relu, F.sigmoid, F.tanh, F.elu, F.selu, F.leaky_relu):
        x.grad = None
        f(x).sum().backward()
        assert x.grad.shape == (4, 3) and np.isfinite(x.grad).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_for_large_inputs(dtype):
    x = np.array([-1e4, -745.0, -700.0, -100.0, -87.0, -50.0, -20.0, 0.0, 20.0, 50.0, 1e4],
                 dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = F.sigmoid(mg.Tensor(x)).data
    ref = _sigmoid64(x)
    assert np.isfinite(y).all() and (y >= 0).all() and (y <= 1).all()
    tiny = np.finfo(dtype).tiny
    normal = ref > tiny * 1e3          # away from the subnormal range: full relative accuracy
    np.testing.assert_allclose(y[normal], ref[normal], rtol=4 * np.finfo(dtype).eps)
    assert (np.abs(y[~normal] - ref[~normal]) <= 1e3 * tiny).all()
    assert y[0] == 0.0 and y[-1] == 1.0


def test_elu_on_a_transposed_input():
    x = _x((5, 3)).T                      # not C-contiguous
    np.testing.assert_allclose(F.elu(mg.Tensor(x)).data, np.where(x > 0, x, np.expm1(x)))
    np.testing.assert_allclose(F.sigmoid(mg.Tensor(x)).data, _sigmoid64(x), rtol=1e-14)


# ---- prelu ----------------------------------------------------------------------------------
PRELU_SHAPES = [((6, 5), (5,)), ((2, 4, 3), (1, 3)), ((2, 4, 3), (4, 3)), ((2, 4, 3), (4, 1)),
                ((3, 4), (1,)), ((3, 4), ())]


@pytest.mark.parametrize("xs, As", PRELU_SHAPES)
def test_prelu_forward_vjp_and_alpha_gradient(xs, As):
    x = _x(xs)
    a = np.random.default_rng(5).uniform(-0.5, 0.5, As)
    g = _x(xs, seed=2)
    xt, at = mg.Tensor(x, requires_grad=True), mg.Tensor(a, requires_grad=True)
    y = F.prelu(xt, at)
    np.testing.assert_allclose(y.data, np.where(x > 0, x, a * x), rtol=1e-14)
    y.backward(g)
    np.testing.assert_allclose(xt.grad, np.where(x > 0, g, a * g), rtol=1e-14)
    da_full = np.where(x > 0, 0.0, g * x)
    da = da_full.sum(axis=tuple(range(x.ndim - a.ndim))) if x.ndim > a.ndim else da_full
    da = da.sum(axis=tuple(i for i, n in enumerate(a.shape) if n == 1), keepdims=True)
    assert at.grad.shape == a.shape
    np.testing.assert_allclose(at.grad, da.reshape(a.shape), rtol=1e-12, atol=1e-12)


def test_prelu_gradcheck_and_float32():
    x = mg.Tensor(_x((3, 2, 4)), requires_grad=True)
    a = mg.Tensor(np.array([[0.1, -0.2, 0.3, 0.05]]), requires_grad=True)
    c = _x((3, 2, 4), seed=9)
    assert mg.gradcheck(lambda t, s: F.prelu(t, s) * c, x, a)
    y = F.prelu(mg.Tensor(_x(dtype=np.float32)), mg.Tensor(np.full(7, 0.25, np.float32)))
    assert y.dtype == np.float32


def test_prelu_rejects_alpha_that_does_not_broadcast():
    with pytest.raises(ValueError, match=r"prelu: alpha of shape \(4,\).*\(3, 5\)"):
        F.prelu(mg.Tensor(_x((3, 5))), mg.Tensor(np.ones(4)))
    with pytest.raises(ValueError, match="prelu"):       # alpha would enlarge the output
        F.prelu(mg.Tensor(_x((3, 5))), mg.Tensor(np.ones((2, 3, 5))))


# ---- rrelu ----------------------------------------------------------------------------------
def test_rrelu_training_draws_one_slope_per_element_and_backprops_it():
    x = _x((40, 50))
    xt = mg.Tensor(x, requires_grad=True)
    y = F.rrelu(xt, lower=0.1, upper=0.4, training=True, rng=np.random.default_rng(0))
    neg = x < 0
    np.testing.assert_array_equal(y.data[~neg], x[~neg])
    slopes = y.data[neg] / x[neg]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.4
    assert np.unique(np.round(slopes, 12)).size > 0.9 * slopes.size      # per element
    # U(0.1, 0.4) slopes: the mean of ~1 000 has std 0.3 / sqrt(12 * 1000) ~ 0.0027
    assert abs(slopes.mean() - 0.25) < 6 * 0.3 / np.sqrt(12 * slopes.size)   # 6 sigma
    g = _x((40, 50), seed=4)
    y.backward(g)
    np.testing.assert_allclose(xt.grad, np.where(neg, g * y.data / np.where(neg, x, 1), g),
                               rtol=1e-12)


def test_rrelu_randomness_follows_rng_and_global_seed():
    x = mg.Tensor(_x((8, 8)))
    a = F.rrelu(x, training=True, rng=np.random.default_rng(3)).data
    b = F.rrelu(x, training=True, rng=np.random.default_rng(3)).data
    np.testing.assert_array_equal(a, b)
    mg.random.seed(11)
    c = F.rrelu(x, training=True).data
    d = F.rrelu(x, training=True).data
    mg.random.seed(11)
    np.testing.assert_array_equal(F.rrelu(x, training=True).data, c)
    assert not np.array_equal(c, d)
    # inference is deterministic: slope (lower + upper) / 2
    np.testing.assert_allclose(F.rrelu(x).data, np.where(x.data > 0, x.data,
                                                         (1 / 8 + 1 / 3) / 2 * x.data))


def test_rrelu_keeps_float32():
    y = F.rrelu(mg.Tensor(_x(dtype=np.float32)), training=True)
    assert y.dtype == np.float32


def test_activation_argument_errors_name_the_op():
    x = mg.Tensor(_x((2, 2)))
    with pytest.raises(ValueError, match=r"rrelu: lower=0.5 is above upper=0.2"):
        F.rrelu(x, lower=0.5, upper=0.2)
    with pytest.raises(TypeError, match="rrelu: rng"):
        F.rrelu(x, training=True, rng=42)
    with pytest.raises(TypeError, match="leaky_relu: negative_slope"):
        F.leaky_relu(x, negative_slope=None)
    with pytest.raises(ValueError, match="elu: alpha must be finite"):
        F.elu(x, alpha=math.nan)


def test_tensor_methods_use_these_ops():
    x = mg.Tensor(_x((3, 3)), requires_grad=True)
    assert type(x.relu()._ctx) is A.Relu
    assert type(x.sigmoid()._ctx) is A.Sigmoid
    assert type(x.tanh()._ctx) is A.Tanh


# ---- Keras 3's other activations: row ops, edge cases, checks --------------------------------
def _sparsemax64(z):
    """Sparsemax of each row by the definition: the simplex point nearest to z (sorting)."""
    out = np.empty_like(z)
    for i, row in enumerate(z):
        s = np.sort(row)[::-1]
        k = max(j for j in range(1, row.size + 1) if 1 + j * s[j - 1] > s[:j].sum())
        tau = (s[:k].sum() - 1) / k
        out[i] = np.maximum(row - tau, 0)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparsemax_and_glu_forward_and_vjp(dtype):
    x = _x((4, 6), dtype=dtype)
    g = _x((4, 6), seed=1, dtype=dtype)
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-6, "atol": 2e-6}
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    fn = A.Sparsemax()
    fn.needs_input_grad = (True,)
    y = fn.forward(x)
    ref = _sparsemax64(x64)
    np.testing.assert_allclose(y, ref, **tol)
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
    s = ref > 0                                   # Jacobian on the support: I - 1 1^T / |S|
    mean = (g64 * s).sum(-1, keepdims=True) / s.sum(-1, keepdims=True)
    np.testing.assert_allclose(fn.backward(g), np.where(s, g64 - mean, 0.0), **tol)
    fn = A.Glu()
    fn.needs_input_grad = (True,)
    y = fn.forward(x, axis=1)
    a, b = x64[:, :3], x64[:, 3:]
    np.testing.assert_allclose(y, a * _sigmoid64(b), **tol)
    dx = fn.backward(g[:, :3])
    sb = _sigmoid64(b)
    np.testing.assert_allclose(dx, np.concatenate([g64[:, :3] * sb,
                                                   g64[:, :3] * a * sb * (1 - sb)], 1), **tol)
    assert y.dtype == dx.dtype == dtype


def test_sparsemax_along_another_axis_and_ties():
    x = _x((3, 5, 2))
    y = A.sparsemax(mg.Tensor(x), axis=1).data
    np.testing.assert_allclose(y, np.moveaxis(_sparsemax64(np.moveaxis(x, 1, -1).reshape(-1, 5))
                                              .reshape(3, 2, 5), -1, 1), rtol=1e-12)
    np.testing.assert_allclose(A.sparsemax(mg.Tensor(np.zeros((2, 4)))).data, 0.25)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_family_is_stable_for_large_inputs(dtype):
    x = np.array([-1e4, -800.0, -100.0, -20.0, 0.0, 20.0, 100.0, 800.0, 1e4], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        outs = {f.__name__: f(mg.Tensor(x, requires_grad=True)) for f in
                (A.softplus, A.log_sigmoid, A.silu, A.mish, A.gelu)}
        for y in outs.values():
            y.backward(np.ones_like(x))
    x64 = x.astype(np.float64)
    tiny = 1e3 * np.finfo(dtype).tiny           # subnormal results: absolute accuracy only
    np.testing.assert_allclose(outs["softplus"].data, _softplus64(x64), rtol=1e-6, atol=tiny)
    np.testing.assert_allclose(outs["log_sigmoid"].data, -_softplus64(-x64), rtol=1e-6,
                               atol=tiny)
    for name, y in outs.items():
        assert np.isfinite(y.data).all(), name
    assert outs["silu"].data[0] == 0.0 and outs["silu"].data[-1] == x[-1]
    assert outs["gelu"].data[0] == 0.0 and outs["gelu"].data[-1] == x[-1]


def test_new_activations_keep_nan_visible():
    x = np.array([[np.nan, 1.0, -1.0]])
    with np.errstate(invalid="ignore"):        # numpy's logaddexp flags a NaN input
        for f in (A.celu, A.gelu, A.hard_shrink, A.hard_sigmoid, A.hard_silu, A.hard_tanh,
                  A.log_sigmoid, A.mish, A.relu6, A.silu, A.soft_shrink, A.softplus,
                  A.softsign, A.sparse_plus, A.sparse_sigmoid, A.squareplus, A.tanh_shrink,
                  lambda t: A.threshold(t, 0.0, 5.0)):
            y = f(mg.Tensor(x)).data
            assert np.isnan(y[0, 0]) and not np.isnan(y[0, 1:]).any(), f


def test_new_activation_argument_errors_name_the_op():
    x = mg.Tensor(_x((2, 4)))
    with pytest.raises(ValueError, match="celu: alpha must be nonzero"):
        A.celu(x, alpha=0.0)
    with pytest.raises(TypeError, match="gelu: approximate must be True or False"):
        A.gelu(x, approximate="yes")
    with pytest.raises(ValueError, match=r"squareplus: b must be in \[0.0, inf\), got -1"):
        A.squareplus(x, b=-1)
    with pytest.raises(TypeError, match="hard_shrink: threshold must be a real number"):
        A.hard_shrink(x, threshold="a")
    with pytest.raises(ValueError, match=r"glu: the size of axis 0 must be even.*\(3, 4\)"):
        A.glu(mg.Tensor(_x((3, 4))), axis=0)
    with pytest.raises(TypeError, match="glu: axis must be an integer"):
        A.glu(x, axis=1.0)
    with pytest.raises(TypeError, match="threshold"):          # no defaults, as Keras
        A.threshold(x)
