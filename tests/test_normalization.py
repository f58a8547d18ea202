"""LayerNormalization and UnitNormalization (layers/normalization.py) with their ops
(ops/norm.py: layer_norm's fused kernel and VJP, unit_norm), against float64 numpy written
from the formulas. The op-table rows (tests/test_ops.py) run the generic gradchecks; here:
the values of each formula case, the backward against the explicit Jacobian, dtype and
layout edges, and the errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.norm import layer_norm, unit_norm

L = mg.layers
rng = np.random.default_rng


def ln_ref(x, gamma, beta, axes, eps):
    m = x.mean(axis=axes, keepdims=True)
    v = ((x - m) ** 2).mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * gamma + beta


def ln_jacobian_vjp(x, gamma, g, eps):
    """dx for one row by the explicit Jacobian J[i, j] = d y_i / d x_j (float64)."""
    d = x.size
    m, v = x.mean(), x.var()
    s = 1 / np.sqrt(v + eps)
    xh = (x - m) * s
    jac = gamma[:, None] * s * (np.eye(d) - 1 / d - np.outer(xh, xh) / d)
    return jac.T @ g


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("shape, axis", [((7, 33), -1), ((3, 4, 5), (1, 2)), ((3, 4, 5), 1),
                                         ((2, 3, 4, 5), (0, 3)), ((4, 1), -1)])
def test_layer_normalization_values_match_the_formula(dtype, tol, shape, axis):
    x = rng(0).normal(3.0, 2.0, shape)
    layer = L.LayerNormalization(axis=list(axis) if isinstance(axis, tuple) else axis,
                                 epsilon=0.01, dtype=np.dtype(dtype).name)
    layer.build((None,) + shape[1:]) if 0 not in np.atleast_1d(axis) else layer.build(shape)
    axes = tuple(sorted(a % len(shape) for a in np.atleast_1d(axis)))
    pshape = tuple(shape[a] for a in axes)
    gamma, beta = rng(1).uniform(0.5, 1.5, pshape), rng(2).normal(size=pshape)
    layer.set_weights([gamma, beta])
    y = layer(x.astype(dtype))
    assert y.dtype == dtype and y.shape == shape
    col = [shape[i] if i in axes else 1 for i in range(len(shape))]
    ref = ln_ref(x, gamma.reshape(col), beta.reshape(col), axes, 0.01)
    np.testing.assert_allclose(y.data, ref, rtol=tol, atol=tol)


def test_layer_norm_backward_equals_the_explicit_jacobian():
    x = rng(3).normal(size=(6, 9))
    gamma, beta = rng(4).uniform(0.5, 2, 9), rng(5).normal(size=9)
    g = rng(6).normal(size=(6, 9))
    xt, gt, bt = (mg.Tensor(a, requires_grad=True) for a in (x, gamma, beta))
    layer_norm(xt, gt, bt, epsilon=0.1).backward(g)
    for i in range(6):
        np.testing.assert_allclose(xt.grad[i], ln_jacobian_vjp(x[i], gamma, g[i], 0.1),
                                   rtol=1e-11, atol=1e-12)
    xh = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 0.1)
    np.testing.assert_allclose(gt.grad, (g * xh).sum(0), rtol=1e-12)
    np.testing.assert_allclose(bt.grad, g.sum(0), rtol=1e-12)


def test_layer_norm_float32_large_mean_and_only_parameter_gradients():
    x = (1e4 + rng(7).normal(size=(16, 256))).astype(np.float32)   # |mean| >> std
    y = layer_norm(x, epsilon=1e-3)
    ref = ln_ref(x.astype(np.float64), 1.0, 0.0, (1,), 1e-3)
    np.testing.assert_allclose(y.data, ref, atol=2e-3)               # float32 input rounding
    gamma = mg.Tensor(np.ones(256, np.float32), requires_grad=True)
    layer_norm(mg.Tensor(x), gamma).backward(np.ones((16, 256), np.float32))
    assert gamma.grad.dtype == np.float32 and gamma.grad.shape == (256,)
    np.testing.assert_allclose(gamma.grad, ref.sum(0), atol=1e-2)


def test_layer_norm_non_contiguous_input_and_nan_stays_in_its_row():
    x = rng(8).normal(size=(5, 8)).T                       # (8, 5), Fortran-ordered
    np.testing.assert_allclose(layer_norm(x).data, ln_ref(x, 1.0, 0.0, (1,), 1e-3),
                               rtol=1e-12, atol=1e-12)
    x = rng(9).normal(size=(3, 4))
    x[1, 2] = np.nan
    y = layer_norm(x).data
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()


def test_layer_normalization_same_in_training_and_inference_and_config():
    layer = L.LayerNormalization(axis=[-1], epsilon=1e-5, scale=False, dtype="float64")
    x = rng(10).normal(size=(4, 6))
    np.testing.assert_array_equal(layer(x, training=True).data, layer(x).data)
    assert [w.name.split("/")[1] for w in layer.weights] == ["beta"]
    cfg = layer.get_config()
    assert cfg["axis"] == [-1] and cfg["epsilon"] == 1e-5 and cfg["scale"] is False
    assert L.LayerNormalization().epsilon == 1e-3 and L.LayerNormalization().axis == -1


def test_unit_normalization_values_zero_vector_and_gradient():
    x = rng(11).normal(size=(4, 3, 5))
    y = L.UnitNormalization(axis=[1, 2], dtype="float64")(x).data
    np.testing.assert_allclose(y, x / np.sqrt((x ** 2).sum(axis=(1, 2), keepdims=True)),
                               rtol=1e-13)
    np.testing.assert_allclose((y ** 2).sum(axis=(1, 2)), 1.0, rtol=1e-13)
    # Keras's x * min(1/||x||, 1e12): a zero row stays zero and its gradient is g * 1e12
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    xt = mg.Tensor(x, requires_grad=True)
    y = unit_norm(xt)
    np.testing.assert_allclose(y.data, [[0, 0], [0.6, 0.8]], rtol=1e-15, atol=0)
    y.backward(np.array([[1.0, 2.0], [1.0, 0.0]]))
    # d(x/|x|) = (I - y y^T) / |x|: row 2 with g = e1 gives (1 - 0.36, -0.48) / 5
    np.testing.assert_allclose(xt.grad, [[1e12, 2e12], [0.64 / 5, -0.48 / 5]], rtol=1e-12)


@pytest.mark.parametrize("make, match, exc", [
    (lambda: L.LayerNormalization(axis="1"), r"LayerNormalization .*axis must be an int",
     TypeError),
    (lambda: L.LayerNormalization(axis=[]), r"axis must name at least one axis", ValueError),
    (lambda: L.LayerNormalization(epsilon=0), r"LayerNormalization .*epsilon must be in \(0",
     ValueError),
    (lambda: L.LayerNormalization(center="yes"), r"center must be True or False", TypeError),
    (lambda: L.LayerNormalization(axis=2).build((None, 4)),
     r"LayerNormalization .*axis 2 is out of range for an input of rank 2", ValueError),
    (lambda: L.LayerNormalization(axis=[1, -1]).build((None, 4)), r"repeats an axis",
     ValueError),
    (lambda: L.LayerNormalization(axis=1).build((None, None)), r"axis 1 .* must be known",
     ValueError),
    (lambda: L.UnitNormalization(axis=1.5), r"UnitNormalization .*axis", TypeError),
    (lambda: layer_norm(np.ones((2, 3)), np.ones(4)),
     r"layer_norm: gamma has shape \(4,\), expected \(3,\)", ValueError),
    (lambda: layer_norm(np.ones((2, 3)), axis=2), r"layer_norm: axis 2 is out of range",
     ValueError),
    (lambda: unit_norm(np.float64(1.0)), r"unit_norm: needs a tensor of rank >= 1",
     ValueError),
])
def test_normalization_layer_errors(make, match, exc):
    with pytest.raises(exc, match=match):
        make()
