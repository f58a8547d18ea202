"""Activations and the fused Linear: op-level VJPs (forward then backward(g) on the Function
classes, against float64 numpy references), graph gradients, probes and argument checks."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional as F
from minigrad.ops import activation as A
from minigrad.ops.linear import Linear, _activation, linear

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


# ---- linear ---------------------------------------------------------------------------------
def _act64(name, alpha=None):
    """float64 numpy reference activation and its derivative in terms of z."""
    if name in (None, "linear"):
        return (lambda z: z), (lambda z: np.ones_like(z))
    fwd = {"relu": ELEMENTWISE["relu"], "sigmoid": ELEMENTWISE["sigmoid"],
           "tanh": ELEMENTWISE["tanh"], "selu": ELEMENTWISE["selu"]}
    if name in fwd:
        return fwd[name][2], fwd[name][3]
    s = (0.2 if name == "leaky_relu" else 1.0) if alpha is None else alpha
    if name == "leaky_relu":
        return (lambda z: np.where(z > 0, z, s * z)), (lambda z: np.where(z > 0, 1.0, s))
    return (lambda z: np.where(z > 0, z, s * np.expm1(z))), (
        lambda z: np.where(z > 0, 1.0, s * np.exp(z)))


LIN_CASES = [(None, None), ("linear", None), ("relu", None), ("leaky_relu", None),
             ("leaky_relu", 0.05), ("elu", None), ("elu", 0.7), ("selu", None),
             ("sigmoid", None), ("tanh", None)]


def _lin_data(dtype, xshape=(9, 5), units=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xshape).astype(dtype)
    w = rng.standard_normal((xshape[-1], units)).astype(dtype)
    b = rng.standard_normal(units).astype(dtype)
    g = rng.standard_normal(xshape[:-1] + (units,)).astype(dtype)
    return x, w, b, g


@pytest.mark.parametrize("act, alpha", LIN_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_op_level_vjp(act, alpha, dtype, with_bias):
    x, w, b, g = _lin_data(dtype)
    f, df = _act64(act, alpha)
    code_act = _activation(act, alpha)
    fn = Linear()
    fn.needs_input_grad = (True, True, True) if with_bias else (True, True)
    args = (x, w, b) if with_bias else (x, w)
    y = fn.forward(*args, act=code_act[0], alpha=code_act[1], scale=code_act[2])
    grads = fn.backward(g)
    x64, w64, b64, g64 = (a.astype(np.float64) for a in (x, w, b, g))
    z = x64 @ w64 + (b64 if with_bias else 0.0)
    dz = g64 * df(z)
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-4}
    assert y.dtype == dtype and all(d.dtype == dtype for d in grads)
    np.testing.assert_allclose(y, f(z), **tol)
    np.testing.assert_allclose(grads[0], dz @ w64.T, **tol)
    np.testing.assert_allclose(grads[1], x64.T @ dz, **tol)
    if with_bias:
        np.testing.assert_allclose(grads[2], dz.sum(0), **tol)
    else:
        assert len(grads) == 2


def test_linear_skips_gradients_nobody_needs():
    x, w, b, g = _lin_data(np.float64)
    fn = Linear()
    fn.needs_input_grad = (False, True, False)
    fn.forward(x, w, b, act=1)
    dx, dw, db = fn.backward(g)
    assert dx is None and db is None and dw.shape == w.shape


UNFUSED = {None: lambda t: t, "linear": lambda t: t, "relu": F.relu, "sigmoid": F.sigmoid,
           "tanh": F.tanh, "selu": F.selu}


def _unfused(act, alpha):
    if act in UNFUSED:
        return UNFUSED[act]
    if act == "leaky_relu":
        return lambda t: F.leaky_relu(t, 0.2 if alpha is None else alpha)
    return lambda t: F.elu(t, 1.0 if alpha is None else alpha)


@pytest.mark.parametrize("act, alpha", LIN_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xshape", [(6, 5), (2, 3, 5)], ids=["2d", "3d"])
def test_linear_matches_unfused_graph_and_probe_delta_is_the_preactivation_gradient(
        act, alpha, dtype, xshape):
    x, w, b, g = _lin_data(dtype, xshape=xshape)           # N-D input: leading axes flattened
    leaves = [mg.Tensor(a, requires_grad=True) for a in (x, w, b)]
    twins = [mg.Tensor(a, requires_grad=True) for a in (x, w, b)]
    seen = []
    listener = mg.add_probe_listener(lambda tag, kind, arr: seen.append((tag, kind,
                                                                          np.array(arr))))
    try:
        y = F.linear(*leaves, activation=act, alpha=alpha, tag="dense_7")
        y.backward(g)
    finally:
        mg.remove_probe_listener(listener)
    z = twins[0] @ twins[1] + twins[2]
    hooked = []
    z.register_hook(lambda grad: hooked.append(grad.copy()))
    y2 = _unfused(act, alpha)(z)
    y2.backward(g)
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-5}
    assert y.shape == xshape[:-1] + (4,) and y.dtype == dtype
    np.testing.assert_allclose(y.data, y2.data, **tol)
    for fused, plain in zip(leaves, twins):
        assert fused.grad.dtype == dtype
        np.testing.assert_allclose(fused.grad, plain.grad, **tol)
    assert [(t, k) for t, k, _ in seen] == [("dense_7", "output"), ("dense_7", "delta")]
    np.testing.assert_array_equal(seen[0][2], y.data)
    assert seen[1][2].shape == xshape[:-1] + (4,)
    np.testing.assert_allclose(seen[1][2], hooked[0], **tol)


def test_linear_without_tag_sends_no_probe():
    x, w, b, g = _lin_data(np.float32)
    seen = []
    listener = mg.add_probe_listener(lambda *a: seen.append(a))
    wt = mg.Tensor(w, requires_grad=True)
    try:
        F.linear(mg.Tensor(x), wt, b, "relu").backward(g)
    finally:
        mg.remove_probe_listener(listener)
    assert seen == [] and wt.grad is not None        # the backward ran, silently


@pytest.mark.parametrize("act, alpha", LIN_CASES)
def test_linear_gradcheck(act, alpha):
    x, w, b, _ = _lin_data(np.float64, xshape=(3, 4), units=3, seed=2)
    c = np.random.default_rng(8).standard_normal((3, 3))
    ts = [mg.Tensor(a, requires_grad=True) for a in (x, w, b)]
    assert mg.gradcheck(lambda *t: F.linear(*t, activation=act, alpha=alpha) * c, *ts)


def test_linear_one_dimensional_input_and_frozen_kernel():
    x, w, b, _ = _lin_data(np.float64, xshape=(5,))
    xt = mg.Tensor(x, requires_grad=True)
    wt = mg.Tensor(w)                                     # frozen: no dW
    y = F.linear(xt, wt, b, "tanh")
    np.testing.assert_allclose(y.data, np.tanh(x @ w + b), rtol=1e-14)
    y.backward(np.ones(4))
    np.testing.assert_allclose(xt.grad, (1 - np.tanh(x @ w + b) ** 2) @ w.T, rtol=1e-12)
    assert wt.grad is None


def test_linear_sigmoid_saturates_without_overflow():
    x = np.array([[1e3], [-1e3]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = F.linear(mg.Tensor(x), np.ones((1, 2), np.float32), activation="sigmoid").data
    np.testing.assert_array_equal(y, [[1, 1], [0, 0]])


def test_linear_errors_name_the_op_and_shapes():
    x, w, b, _ = _lin_data(np.float32)
    with pytest.raises(ValueError, match=r"linear: input of shape \(9, 3\) and kernel of shape "
                                         r"\(5, 4\).*\(batch, in\) @ kernel \(in, units\)"):
        F.linear(x[:, :3], w)
    with pytest.raises(ValueError, match=r"linear: bias of shape \(3,\).*expected bias \(4,\)"):
        F.linear(x, w, b[:3])
    with pytest.raises(ValueError, match=r"linear:.*kernel of shape \(5,\)"):
        F.linear(x, w[:, 0])
    with pytest.raises(ValueError, match=r"linear: unknown activation 'softmax'.*relu"):
        F.linear(x, w, b, "softmax")
    with pytest.raises(ValueError, match=r"linear: alpha=-0.1"):
        F.linear(x, w, b, "leaky_relu", alpha=-0.1)
    with pytest.raises(TypeError, match="Linear: mixed float dtypes"):
        F.linear(x, w.astype(np.float64))


def test_linear_activation_names_ignore_case_and_underscores():
    x, w, b, _ = _lin_data(np.float64)
    a = F.linear(x, w, b, "LeakyReLU").data
    np.testing.assert_allclose(a, np.where(x @ w + b > 0, x @ w + b, 0.2 * (x @ w + b)))


def test_functional_exports_the_api_names():
    names = ["relu", "leaky_relu", "elu", "selu", "prelu", "rrelu", "sigmoid", "tanh",
             "softmax", "log_softmax", "dropout", "linear", "batch_norm",
             "softmax_cross_entropy"]
    assert mg.F is mg.functional is F
    for n in names:
        assert callable(getattr(F, n)), n
    assert F.linear is linear and F.relu is A.relu


def test_nan_stays_visible():
    x = np.array([[np.nan, 1.0, -1.0]])
    for f in (F.relu, F.leaky_relu, F.elu, F.selu, F.sigmoid, F.tanh, F.rrelu):
        assert np.isnan(f(mg.Tensor(x)).data[0, 0]), f.__name__
    for act in ("relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh"):
        y = F.linear(x.T, np.ones((1, 1)), np.zeros(1), act).data     # rows nan, 1, -1
        assert np.isnan(y[0, 0]) and not np.isnan(y[1:]).any(), act
