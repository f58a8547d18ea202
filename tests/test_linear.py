"""The fused linear (ops/linear.py): op-level VJPs against float64 numpy references, the fused
path against the unfused graph for every fusable activation (value, gradients, delta probe),
probes and argument checks."""

import numpy as np
import pytest
from test_ops_activation import ELEMENTWISE

import minigrad as mg
from minigrad import activations
from minigrad import functional as F
from minigrad.ops import activation as A
from minigrad.ops.linear import Linear, _entry, _epilogue, linear


def _act64(name, alpha=None):
    """float64 numpy reference activation and its derivative in terms of z."""
    if name in (None, "linear"):
        return (lambda z: z), (lambda z: np.ones_like(z))
    fwd = {n: ELEMENTWISE[n] for n in ("relu", "sigmoid", "tanh", "selu", "relu6", "softplus",
                                       "gelu", "silu", "mish")}
    if name in fwd:
        return fwd[name][2], fwd[name][3]
    s = (0.2 if name == "leaky_relu" else 1.0) if alpha is None else alpha
    if name == "leaky_relu":
        return (lambda z: np.where(z > 0, z, s * z)), (lambda z: np.where(z > 0, 1.0, s))
    return (lambda z: np.where(z > 0, z, s * np.expm1(z))), (
        lambda z: np.where(z > 0, 1.0, s * np.exp(z)))


LIN_CASES = [(None, None), ("linear", None), ("relu", None), ("leaky_relu", None),
             ("leaky_relu", 0.05), ("elu", None), ("elu", 0.7), ("selu", None),
             ("sigmoid", None), ("tanh", None), ("relu6", None), ("softplus", None),
             ("gelu", None), ("silu", None), ("mish", None)]


def test_every_fusable_activation_has_a_case():
    fusable = {e.name for e in activations.entries() if e.fused is not None}
    assert fusable == {a for a, _ in LIN_CASES if a is not None}
    # the derivative needs z exactly where the output cannot tell it
    assert {e.name for e in activations.entries()
            if e.fused is not None and e.fused.saves == "z"} == {"gelu", "silu", "mish"}


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
    ep, a = _epilogue(_entry(act), alpha)
    fn = Linear()
    fn.needs_input_grad = (True, True, True) if with_bias else (True, True)
    args = (x, w, b) if with_bias else (x, w)
    y = fn.forward(*args, epilogue=ep, alpha=a)
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
    fn.forward(x, w, b, epilogue=A.RELU_EPILOGUE)
    dx, dw, db = fn.backward(g)
    assert dx is None and db is None and dw.shape == w.shape


UNFUSED = {None: lambda t: t, "linear": lambda t: t, "relu": F.relu, "sigmoid": F.sigmoid,
           "tanh": F.tanh, "selu": F.selu, "relu6": A.relu6, "softplus": A.softplus,
           "gelu": A.gelu, "silu": A.silu, "mish": A.mish}


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
    # with a listener: the pre-activation (for the |f'(z)| saturation rule) unless there is
    # no activation, the output once, the delta at z in backward
    needs_z = act is not None and activations.entry(act).saturation.needs_preactivation
    kinds = (["preactivation"] if needs_z else []) + ["output", "delta"]
    assert [(t, k) for t, k, _ in seen] == [("dense_7", k) for k in kinds]
    np.testing.assert_array_equal(seen[-2][2], y.data)
    if needs_z:
        np.testing.assert_allclose(seen[0][2], z.data, **tol)
    assert seen[-1][2].shape == xshape[:-1] + (4,)
    np.testing.assert_allclose(seen[-1][2], hooked[0], **tol)


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
    with pytest.raises(ValueError, match=r"linear: cannot fuse the activation 'softmax'.*relu"):
        F.linear(x, w, b, "softmax")
    with pytest.raises(ValueError, match=r"linear: cannot fuse the activation 'relu7'"):
        F.linear(x, w, b, "relu7")
    with pytest.raises(ValueError, match=r"linear: the activation 'tanh' takes no alpha"):
        F.linear(x, w, b, "tanh", alpha=0.3)
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
    fusable = [e.name for e in activations.entries() if e.fused is not None]
    with np.errstate(invalid="ignore"):        # numpy's logaddexp flags a NaN input
        for act in fusable:
            y = F.linear(x.T, np.ones((1, 1)), np.zeros(1), act).data     # rows nan, 1, -1
            assert np.isnan(y[0, 0]) and not np.isnan(y[1:]).any(), act
