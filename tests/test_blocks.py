"""Regularizers (values and graph gradients vs closed forms) and constraints (vs numpy
formulas, Keras's 1e-7 included). The activations module is tested in test_activations.py."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import constraints as C
from minigrad import regularizers as R

W = np.array([[0.5, -1.5, 0.0], [2.0, 0.25, -3.0]])


# ---- regularizers ------------------------------------------------------------------------------
def _grad(reg, w):
    t = mg.Tensor(w.copy(), requires_grad=True)
    value = reg(t)
    value.backward()
    return float(value.item()), t.grad


def test_l1_value_and_gradient():
    value, g = _grad(R.l1(0.3), W)
    assert value == pytest.approx(0.3 * np.abs(W).sum(), rel=1e-12)
    assert np.array_equal(g, 0.3 * np.sign(W))            # 0 at w = 0, as Keras/torch
    assert g[0, 2] == 0.0


def test_l2_value_and_gradient_have_no_half():
    value, g = _grad(R.l2(0.2), W)
    assert value == pytest.approx(0.2 * (W ** 2).sum(), rel=1e-12)
    assert np.allclose(g, 2 * 0.2 * W, rtol=1e-12, atol=0)


def test_l1_l2_value_and_gradient():
    value, g = _grad(R.l1_l2(l1=0.1, l2=0.05), W)
    assert value == pytest.approx(0.1 * np.abs(W).sum() + 0.05 * (W ** 2).sum(), rel=1e-12)
    assert np.allclose(g, 0.1 * np.sign(W) + 0.1 * W, rtol=1e-12, atol=0)
    only_l2, g2 = _grad(R.L1L2(l2=0.05), W)
    assert only_l2 == pytest.approx(0.05 * (W ** 2).sum(), rel=1e-12)
    assert np.allclose(g2, 0.1 * W, rtol=1e-12, atol=0)
    zero = R.L1L2()(mg.Tensor(W.astype(np.float32), requires_grad=True))
    assert zero.item() == 0.0 and zero.dtype == np.float32


def test_regularizer_defaults_dtype_and_arrays():
    assert R.get("l1").l1 == 0.01 and R.get("l2").l2 == 0.01
    assert (R.get("l1_l2").l1, R.get("l1_l2").l2) == (0.0, 0.0)
    w32 = mg.Tensor(W.astype(np.float32), requires_grad=True)
    assert R.l2()(w32).dtype == np.float32
    assert R.l2(0.5)(W).item() == pytest.approx(0.5 * (W ** 2).sum())   # ndarray accepted


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "big"])
def test_regularizer_factors_are_validated(bad):
    for make in (lambda v: R.L1(v), lambda v: R.L2(v), lambda v: R.L1L2(l1=v),
                 lambda v: R.L1L2(l2=v)):
        with pytest.raises(ValueError):
            make(bad)


def test_regularizer_registry_and_round_trip():
    for name, cls in (("l1", R.L1), ("L1", R.L1), ("l2", R.L2), ("l1_l2", R.L1L2),
                      ("L1L2", R.L1L2)):
        assert type(R.get(name)) is cls
    reg = R.L1L2(l1=0.25, l2=0.125)
    saved = R.serialize(reg)
    assert saved == {"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.125}}
    back = R.deserialize(saved)
    assert type(back) is R.L1L2 and back.get_config() == reg.get_config()
    with pytest.raises(ValueError) as err:
        R.get("l3")
    assert "l1_l2" in str(err.value)


# ---- constraints -------------------------------------------------------------------------------
def _np_norms(w, axis):
    return np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=axis, keepdims=True))


def test_max_norm_matches_keras_formula():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 4))
    w[:, 0] *= 0.1                                             # a column under the limit
    w[:, 1] *= 10.0                                            # one far above
    n = _np_norms(w, 0)
    assert n[0, 0] < 2.0 < n[0, 1]
    out = C.max_norm(2.0)(w)
    expected = w * np.clip(n, 0, 2.0) / (1e-7 + n)
    assert out.dtype == np.float64 and isinstance(out, np.ndarray)
    assert np.allclose(out, expected, rtol=1e-14, atol=0)
    # under the limit: multiplied by n/(n + 1e-7), not left exactly as it was
    assert np.allclose(out[:, 0], w[:, 0] * n[0, 0] / (n[0, 0] + 1e-7), rtol=1e-14, atol=0)
    assert not np.array_equal(out[:, 0], w[:, 0])
    assert _np_norms(out, 0)[0, 1] == pytest.approx(2.0, rel=1e-6)
    rows = C.MaxNorm(max_value=1.0, axis=1)(w)
    n1 = _np_norms(w, 1)
    assert np.allclose(rows, w * np.clip(n1, 0, 1.0) / (1e-7 + n1), rtol=1e-14, atol=0)


def test_constraints_keep_kind_and_dtype():
    w32 = (W * 3).astype(np.float32)
    for c in (C.MaxNorm(1.0), C.NonNeg(), C.UnitNorm(), C.MinMaxNorm(0.5, 1.0, rate=0.5)):
        out = c(w32)
        assert isinstance(out, np.ndarray) and out.dtype == np.float32, c
        t = c(mg.Tensor(w32))
        assert isinstance(t, mg.Tensor) and t.dtype == np.float32, c
        assert np.allclose(t.data, out, rtol=1e-6, atol=1e-7), c


def test_non_neg_unit_norm_min_max_norm():
    assert np.array_equal(C.non_neg()(W), np.where(W >= 0, W, 0.0))
    n = _np_norms(W, 0)
    assert np.allclose(C.unit_norm()(W), W / (1e-7 + n), rtol=1e-14, atol=0)
    for rate in (1.0, 0.5):
        out = C.min_max_norm(min_value=1.0, max_value=2.0, rate=rate)(W)
        desired = rate * np.clip(n, 1.0, 2.0) + (1 - rate) * n
        assert np.allclose(out, W * desired / (1e-7 + n), rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match="min_value"):
        C.MinMaxNorm(min_value=2.0, max_value=1.0)
    with pytest.raises(ValueError, match="axis"):
        C.MaxNorm(axis=2)(W)


def test_constraint_on_a_tensor_is_differentiable():
    t = mg.Tensor(W.copy(), requires_grad=True)
    C.UnitNorm(axis=0)(t).sum().backward()
    eps = 1e-6
    num = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        hi, lo = W.copy(), W.copy()
        hi[idx] += eps
        lo[idx] -= eps
        num[idx] = (C.UnitNorm()(hi).sum() - C.UnitNorm()(lo).sum()) / (2 * eps)
    assert np.allclose(t.grad, num, rtol=1e-6, atol=1e-8)


def test_constraint_registry_and_round_trip():
    for name, cls in (("max_norm", C.MaxNorm), ("MaxNorm", C.MaxNorm), ("non_neg", C.NonNeg),
                      ("unit_norm", C.UnitNorm), ("min_max_norm", C.MinMaxNorm)):
        assert type(C.get(name)) is cls
    c = C.MinMaxNorm(min_value=0.5, max_value=3.0, rate=0.25, axis=1)
    back = C.deserialize(C.serialize(c))
    assert type(back) is C.MinMaxNorm and back.get_config() == c.get_config()
    assert C.get("max_norm").get_config() == {"max_value": 2, "axis": 0}
    with pytest.raises(ValueError) as err:
        C.get("maxnorm2")
    assert "max_norm" in str(err.value)
