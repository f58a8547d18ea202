"""Op-level tests of ops/softmax.py, ops/norm.py and ops/dropout.py.

The op-level home of dropout's statistics and of batch norm's in-place moving-statistics
update (the layers' tests check what the layers add: seeds, noise_shape, k steps).

References are independent float64 numpy code (explicit Jacobians, the textbook batch-norm
backward, one Keras update of the moving statistics); gradients are also checked against
central finite differences with a random cotangent C (``fn(x) * C``), so a backward that
ignores its incoming gradient fails.
"""

import numpy as np
import pytest
from keras_oracle import run_keras

import minigrad as mg
from minigrad.ops.dropout import Dropout, dropout
from minigrad.ops.norm import BatchNorm, batch_norm
from minigrad.ops.softmax import (
    LogSoftmax,
    Softmax,
    SoftmaxCrossEntropy,
    log_softmax,
    softmax,
    softmax_cross_entropy,
)

TOL = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-13}}
TOL_BN_FWD = {np.float32: {"rtol": 1e-4, "atol": 1e-5},
              np.float64: {"rtol": 1e-10, "atol": 1e-12}}
DTYPES = [np.float32, np.float64]


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(a):
    return mg.Tensor(np.array(a, dtype=np.float64), requires_grad=True)


# ---- float64 references ------------------------------------------------------------------
def ref_softmax(x, axis):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def ref_log_softmax(x, axis):
    x = np.asarray(x, np.float64)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def ref_softmax_vjp(x, g):
    """Row by row through the explicit Jacobian J = diag(y) - y y^T (rows on the last axis)."""
    out = np.empty(x.shape)
    for i, row in enumerate(np.asarray(x, np.float64)):
        y = ref_softmax(row, 0)
        out[i] = (np.diag(y) - np.outer(y, y)).T @ g[i]
    return out


def ref_clipped_ce(z, y, eps):
    """Keras from_logits=False: -sum y log(clip(p / sum p, eps, 1 - eps)), batch mean."""
    p = ref_softmax(z, -1)
    p = p / p.sum(-1, keepdims=True)
    return float(np.mean(-np.sum(y * np.log(np.clip(p, eps, 1 - eps)), axis=-1)))


def one_hot(ids, k):
    return np.eye(k)[ids]


def fd_grad(f, x, h=1e-6):
    """Central differences of a scalar numpy function."""
    x = np.array(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


# ---- softmax / log_softmax -----------------------------------------------------------------
SHAPES_AXES = [((5, 7), -1), ((5, 7), 0), ((3, 4, 5), 1), ((3, 4, 5), -1), ((6,), 0),
               ((2, 3, 4), 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_softmax_and_log_softmax_values(dtype, shape, axis):
    x = (rng().standard_normal(shape) * 3).astype(dtype)
    y, ly = softmax(x, axis=axis), log_softmax(x, axis=axis)
    assert y.dtype == dtype and ly.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y.data, ref_softmax(x, axis), **TOL[dtype])
    np.testing.assert_allclose(ly.data, ref_log_softmax(x, axis), **TOL[dtype])


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_softmax_and_log_softmax_gradcheck(shape, axis):
    x = leaf(rng(1).standard_normal(shape))
    C = rng(2).standard_normal(shape)
    assert mg.gradcheck(lambda a: softmax(a, axis=axis) * C, x)
    assert mg.gradcheck(lambda a: log_softmax(a, axis=axis) * C, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_vjp_op_level(dtype):
    x = rng(3).standard_normal((6, 5)).astype(dtype)
    g = rng(4).standard_normal((6, 5)).astype(dtype)
    fn = Softmax()
    fn.forward(x)
    dx = fn.backward(g)
    assert dx.dtype == dtype
    np.testing.assert_allclose(dx, ref_softmax_vjp(x, g.astype(np.float64)), **TOL[dtype])
    # log_softmax: d y_i / d x_j = delta_ij - softmax_j, so dx = g - softmax * sum(g)
    fn = LogSoftmax()
    fn.forward(x)
    ref = g - ref_softmax(x, -1) * g.astype(np.float64).sum(-1, keepdims=True)
    np.testing.assert_allclose(fn.backward(g), ref, **TOL[dtype])


def test_softmax_vjp_along_axis0_op_level():
    x, g = rng(5).standard_normal((4, 3)), rng(6).standard_normal((4, 3))
    fn = Softmax()
    fn.forward(x, axis=0)
    np.testing.assert_allclose(fn.backward(g), ref_softmax_vjp(x.T, g.T).T, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_stable_for_huge_logits(dtype):
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -5000.0]], dtype=dtype)
    y, ly = softmax(x).data, log_softmax(x).data
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(ly))
    np.testing.assert_allclose(y, ref_softmax(x, -1), **TOL[dtype])
    np.testing.assert_allclose(ly, ref_log_softmax(x, -1), rtol=1e-6)


def test_softmax_nan_stays_in_its_row():
    x = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]], dtype=np.float32)
    y = softmax(x).data
    assert np.all(np.isnan(y[0])) and np.all(np.isfinite(y[1]))


def test_softmax_node_exposes_logits_and_axis():
    x = mg.Tensor(rng().standard_normal((3, 4)), requires_grad=True)
    y = x.softmax()
    assert y._ctx.__class__ is Softmax and y._ctx.inputs[0] is x and y._ctx.axis == 1
    assert x.log_softmax(axis=0)._ctx.axis == 0


def test_softmax_axis_errors():
    with pytest.raises(ValueError, match=r"softmax: axis 2 .*\(3, 4\)"):
        softmax(np.zeros((3, 4)), axis=2)
    with pytest.raises(ValueError, match="log_softmax: needs a tensor of rank >= 1"):
        log_softmax(np.float64(1.0))


# ---- softmax cross-entropy -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_sce_exact_values_sparse_onehot_and_soft(dtype):
    z = (rng(7).standard_normal((8, 5)) * 4).astype(dtype)
    ids = rng(8).integers(0, 5, 8)
    soft = rng(9).random((8, 5))
    soft /= soft.sum(-1, keepdims=True)
    for labels, y in ((ids, one_hot(ids, 5)), (one_hot(ids, 5), one_hot(ids, 5)),
                      (soft, soft)):
        loss = softmax_cross_entropy(z, labels)
        assert loss.shape == () and loss.dtype == dtype
        ref = np.mean(-np.sum(y * ref_log_softmax(z, -1), axis=-1))
        np.testing.assert_allclose(loss.data, ref, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sce_clipped_values_match_keras_formula(dtype):
    z = (rng(10).standard_normal((8, 4)) * 8).astype(dtype)
    z[0] = [0, 30, 1, 2]          # p_0 ~ 1e-13: clipped at eps
    z[1] = [40, 0, 0, 0]          # p_0 ~ 1 - 1e-17: clipped at 1 - eps
    ids = np.array([0, 0, 1, 2, 3, 0, 1, 2])
    for labels in (ids, one_hot(ids, 4)):
        loss = softmax_cross_entropy(z, labels, epsilon=1e-7)
        ref = ref_clipped_ce(z, one_hot(ids, 4), 1e-7)
        np.testing.assert_allclose(loss.data, ref, rtol=1e-5 if dtype == np.float32 else 1e-9)


@pytest.mark.parametrize("epsilon", [None, 1e-7])
@pytest.mark.parametrize("kind", ["sparse", "onehot", "soft", "unnormalised"])
def test_sce_gradcheck(epsilon, kind):
    z = leaf(rng(11).standard_normal((6, 4)) * 2)
    ids = rng(12).integers(0, 4, 6)
    labels = {"sparse": ids, "onehot": one_hot(ids, 4),
              "soft": rng(13).dirichlet(np.ones(4), 6), "unnormalised": rng(13).random((6, 4))
              }[kind]
    assert mg.gradcheck(lambda a: softmax_cross_entropy(a, labels, epsilon=epsilon) * 1.7, z)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sce_vjp_op_level_both_paths(dtype):
    z = rng(14).standard_normal((5, 3)).astype(dtype)
    ids = np.array([0, 2, 1, 1, 0])
    g = np.asarray(2.5, dtype=dtype)
    ref = (ref_softmax(z, -1) - one_hot(ids, 3)) * 2.5 / 5
    fn = SoftmaxCrossEntropy()        # called directly: gradient recomputed in backward
    fn.forward(z, labels=ids)
    np.testing.assert_allclose(fn.backward(g), ref, **TOL[dtype])
    t = mg.Tensor(z, requires_grad=True)   # through apply: gradient made in the forward pass
    (softmax_cross_entropy(t, ids) * 2.5).backward()
    assert t.grad.dtype == dtype
    np.testing.assert_allclose(t.grad, ref, **TOL[dtype])


def test_sce_clipped_gradient_is_zero_where_clipped():
    z = np.array([[0.0, 30.0, 1.0],       # target 0: p ~ 9e-14 < 1e-7, clipped
                  [35.0, 0.0, 0.0],       # target 0: p > 1 - 1e-7, clipped
                  [0.5, -0.2, 0.1]])      # target 2: not clipped
    ids = np.array([0, 0, 2])
    t = leaf(z)
    softmax_cross_entropy(t, ids, epsilon=1e-7).backward()
    assert np.all(t.grad[:2] == 0.0)
    np.testing.assert_allclose(t.grad[2], (ref_softmax(z[2], 0) - one_hot(2, 3)) / 3,
                               rtol=1e-12)
    numeric = fd_grad(lambda a: ref_clipped_ce(a, one_hot(ids, 3), 1e-7), z)
    np.testing.assert_allclose(t.grad, numeric, atol=1e-8)


def test_sce_clipped_gradient_dense_formula_vs_finite_differences():
    # soft labels where one labelled probability is clipped and the others are not: checks
    # dz = p * sum_j(y_j nc_j) - y * nc against differences of the clipped numpy formula
    z = np.array([[0.0, 1.0, -30.0, 0.5], [2.0, -1.0, 0.0, 0.3]])
    y = np.array([[0.5, 0.2, 0.3, 0.0], [0.1, 0.2, 0.3, 0.4]])
    t = leaf(z)
    softmax_cross_entropy(t, y, epsilon=1e-7).backward()
    numeric = fd_grad(lambda a: ref_clipped_ce(a, y, 1e-7), z)
    np.testing.assert_allclose(t.grad, numeric, rtol=1e-6, atol=1e-9)
    p = ref_softmax(z, -1)
    nc = (p >= 1e-7) & (p <= 1 - 1e-7)
    ref = (p * (y * nc).sum(-1, keepdims=True) - y * nc) / 2
    np.testing.assert_allclose(t.grad, ref, rtol=1e-10, atol=1e-15)


def test_sce_label_forms_and_no_label_gradient():
    z = rng(15).standard_normal((4, 3))
    ids = np.array([2, 0, 1, 2])
    base = softmax_cross_entropy(z, ids).item()
    assert softmax_cross_entropy(z, ids.astype(np.float64)).item() == base
    assert softmax_cross_entropy(z, ids.reshape(4, 1)).item() == base
    assert softmax_cross_entropy(z, mg.Tensor(ids)).item() == base
    np.testing.assert_allclose(softmax_cross_entropy(z, one_hot(ids, 3)).item(), base,
                               rtol=1e-14)
    lab = mg.Tensor(one_hot(ids, 3), requires_grad=True)
    t = leaf(z)
    softmax_cross_entropy(t, lab).backward()
    assert lab.grad is None and t.grad is not None


def test_sce_reads_higher_rank_logits_as_rows():
    z = rng(18).standard_normal((2, 3, 4))
    ids = rng(19).integers(0, 4, (2, 3))
    t = leaf(z)
    loss = softmax_cross_entropy(t, ids)
    loss.backward()
    np.testing.assert_allclose(loss.item(), softmax_cross_entropy(z.reshape(6, 4),
                                                                  ids.reshape(6)).item())
    ref = (ref_softmax(z, -1) - one_hot(ids, 4)) / 6
    np.testing.assert_allclose(t.grad, ref, rtol=1e-12)


def test_sce_float32_logits_with_float64_labels_stay_float32():
    z = rng(16).standard_normal((4, 3)).astype(np.float32)
    t = mg.Tensor(z, requires_grad=True)
    loss = softmax_cross_entropy(t, one_hot([0, 1, 2, 0], 3))
    loss.backward()
    assert loss.dtype == np.float32 and t.grad.dtype == np.float32


def test_sce_under_no_grad_matches():
    z = leaf(rng(17).standard_normal((5, 4)))
    ids = np.array([0, 1, 2, 3, 0])
    with mg.no_grad():
        a = softmax_cross_entropy(z, ids)
    assert a._ctx is None
    assert a.item() == softmax_cross_entropy(z, ids).item()


def test_sce_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: labels \[-1, 4\] .*\[0, 4\)"):
        softmax_cross_entropy(z, np.array([0, 4, -1]))
    with pytest.raises(ValueError, match="softmax_cross_entropy: sparse labels .*integer"):
        softmax_cross_entropy(z, np.array([0.0, 1.5, 2.0]))
    with pytest.raises(ValueError, match="softmax_cross_entropy: sparse labels .*inf"):
        softmax_cross_entropy(z, np.array([0.0, np.inf, 2.0]))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: .*\(3, 5\).*\(3, 4\)"):
        softmax_cross_entropy(z, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: logits .*\(4,\)"):
        softmax_cross_entropy(np.zeros(4), np.array([1]))
    with pytest.raises(ValueError, match="softmax_cross_entropy: epsilon"):
        softmax_cross_entropy(z, np.array([0, 1, 2]), epsilon=0.7)


# ---- batch norm ----------------------------------------------------------------------------
def ref_bn_train(x, gamma, beta, axis, eps):
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    shape = [1] * x.ndim
    shape[axis] = -1
    x = np.asarray(x, np.float64)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return xhat * gamma.reshape(shape) + beta.reshape(shape), mean, var


def ref_bn_backward_2d(x, gamma, g, eps):
    """The original paper's chain (Ioffe & Szegedy 2015, Alg. 1 backward), step by step."""
    n = x.shape[0]
    mu, var = x.mean(0), x.var(0)
    std = np.sqrt(var + eps)
    xhat = (x - mu) / std
    dxhat = g * gamma
    dvar = np.sum(dxhat * (x - mu) * -0.5 * std ** -3, axis=0)
    dmu = np.sum(-dxhat / std, axis=0) + dvar * np.mean(-2 * (x - mu), axis=0)
    dx = dxhat / std + dvar * 2 * (x - mu) / n + dmu / n
    return dx, np.sum(g * xhat, axis=0), g.sum(0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", [((16, 5), -1), ((4, 3, 5, 2), 1), ((6, 4, 3), -1),
                                        ((7, 3), 0)])
def test_batch_norm_training_values(dtype, shape, axis):
    r = rng(20)
    x = (r.standard_normal(shape) * 2 + 3).astype(dtype)
    c = shape[axis]
    gamma, beta = r.random(c).astype(dtype) + 0.5, r.standard_normal(c).astype(dtype)
    mm, mv = np.zeros(c, dtype), np.ones(c, dtype)
    y = batch_norm(x, gamma, beta, mm, mv, training=True, axis=axis)
    ref, mean, var = ref_bn_train(x, gamma, beta, axis, 1e-3)
    assert y.dtype == dtype and y.shape == shape
    tol = TOL_BN_FWD[dtype]
    np.testing.assert_allclose(y.data, ref, **tol)
    np.testing.assert_allclose(mm, 0.01 * mean, **tol)
    np.testing.assert_allclose(mv, 0.99 + 0.01 * var, **tol)


def test_batch_norm_updates_moving_statistics_in_place():
    """The op's promise: one Keras update, in place, on a Parameter or a Tensor (the k-step
    agreement with a numpy loop is the layer's, in tests/test_layers.py)."""
    r = rng(21)
    c, momentum = 4, 0.9
    mm_p = mg.Parameter(np.zeros(c), trainable=False)
    mv_t = mg.Tensor(np.ones(c))
    data_ids = (id(mm_p.data), id(mv_t.data))
    x = r.standard_normal((10, c)) * 3 + 1
    batch_norm(x, None, None, mm_p, mv_t, training=True, momentum=momentum)
    assert (id(mm_p.data), id(mv_t.data)) == data_ids     # updated in place
    np.testing.assert_allclose(mm_p.data, x.mean(0) * (1 - momentum), rtol=1e-12)
    np.testing.assert_allclose(mv_t.data, momentum + x.var(0) * (1 - momentum),
                               rtol=1e-12)                 # biased variance, as Keras


def test_batch_norm_inference_uses_moving_stats_and_leaves_them():
    r = rng(22)
    x = r.standard_normal((5, 3, 2))
    gamma, beta = r.random(3) + 0.5, r.standard_normal(3)
    mm, mv = r.standard_normal(3), r.random(3) + 0.5
    before = (mm.copy(), mv.copy())
    y = batch_norm(x, gamma, beta, mm, mv, training=False, axis=1, epsilon=1e-2)
    s = (1, 3, 1)
    ref = (x - mm.reshape(s)) / np.sqrt(mv.reshape(s) + 1e-2) * gamma.reshape(s) + \
        beta.reshape(s)
    np.testing.assert_allclose(y.data, ref, rtol=1e-12)
    np.testing.assert_array_equal(mm, before[0])
    np.testing.assert_array_equal(mv, before[1])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape,axis", [((6, 3), -1), ((3, 2, 4), 1), ((4, 3, 2), 0)])
def test_batch_norm_gradcheck(training, shape, axis):
    r = rng(23)
    c = shape[axis]
    x, gamma, beta = leaf(r.standard_normal(shape)), leaf(r.random(c) + 0.5), \
        leaf(r.standard_normal(c))
    mm, mv = r.standard_normal(c), r.random(c) + 0.5
    C = r.standard_normal(shape)

    def f(a, gm, bt):   # fresh copies: training mode would move the stats on every call
        return batch_norm(a, gm, bt, mm.copy(), mv.copy(), training=training, axis=axis) * C
    assert mg.gradcheck(f, x, gamma, beta)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_vjp_op_level_vs_paper_backward(dtype):
    r = rng(24)
    x = (r.standard_normal((12, 5)) + 2).astype(dtype)
    gamma, beta = (r.random(5) + 0.5).astype(dtype), r.standard_normal(5).astype(dtype)
    g = r.standard_normal((12, 5)).astype(dtype)
    fn = BatchNorm()
    fn.needs_input_grad = (True, True, True)
    fn.forward(x, gamma, beta, moving_mean=np.zeros(5, dtype), moving_var=np.ones(5, dtype),
               training=True)
    dx, dgamma, dbeta = fn.backward(g)
    ref = ref_bn_backward_2d(x.astype(np.float64), gamma.astype(np.float64),
                             g.astype(np.float64), 1e-3)
    tol = {"rtol": 2e-4, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-11}
    for got, want in zip((dx, dgamma, dbeta), ref):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **tol)


def test_batch_norm_without_gamma_beta_and_under_no_grad():
    r = rng(25)
    x = leaf(r.standard_normal((8, 3)))
    mm, mv = np.zeros(3), np.ones(3)
    C = r.standard_normal((8, 3))
    assert mg.gradcheck(lambda a: batch_norm(a, None, None, mm.copy(), mv.copy(),
                                             training=True) * C, x)
    y = batch_norm(x, None, None, mm, mv, training=True)
    np.testing.assert_allclose(y.data, ref_bn_train(x.data, np.ones(3), np.zeros(3), -1,
                                                    1e-3)[0], rtol=1e-12)
    with mg.no_grad():      # Keras updates the moving statistics whenever training=True
        batch_norm(x, None, None, mm, mv, training=True)
    np.testing.assert_allclose(mm, (1 - 0.99 ** 2) * x.data.mean(0), rtol=1e-12)


def test_batch_norm_variance_with_large_mean_float32():
    x = (1e4 + rng(26).standard_normal((256, 3))).astype(np.float32)
    mm, mv = np.zeros(3, np.float32), np.zeros(3, np.float32)
    batch_norm(x, None, None, mm, mv, training=True, momentum=0.0)
    np.testing.assert_allclose(mv, x.astype(np.float64).var(0), rtol=1e-5)
    np.testing.assert_allclose(mm, x.astype(np.float64).mean(0), rtol=1e-6)


def test_batch_norm_errors():
    x = np.zeros((4, 3))
    ok = np.ones(3)
    with pytest.raises(ValueError, match=r"batch_norm: gamma has shape \(4,\), expected "
                                         r"\(3,\).*\(4, 3\)"):
        batch_norm(x, np.ones(4), ok, ok, ok)
    with pytest.raises(ValueError, match=r"batch_norm: moving_var has shape \(3, 1\)"):
        batch_norm(x, ok, ok, ok, np.ones((3, 1)))
    with pytest.raises(ValueError, match="batch_norm: axis 2 is out of range"):
        batch_norm(x, ok, ok, ok, ok, axis=2)
    with pytest.raises(ValueError, match="batch_norm: training needs a non-empty batch"):
        batch_norm(np.zeros((0, 3)), ok, ok, ok.copy(), ok.copy(), training=True)


# ---- dropout -------------------------------------------------------------------------------
def test_dropout_identity_outside_training_or_rate_zero():
    x = mg.Tensor(np.ones((3, 4)), requires_grad=True)
    assert dropout(x, 0.5) is x
    assert dropout(x, 0.5, training=None) is x
    assert dropout(x, 0.0, training=True) is x
    assert dropout(x, 0.5, training=True) is not x


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_values_scale_and_mask(dtype):
    x = (rng(30).standard_normal((50, 40)) + 5).astype(dtype)
    y = dropout(x, 0.25, training=True, rng=rng(31))
    assert y.dtype == dtype
    kept = y.data != 0
    expected = x * dtype(1 / 0.75)
    np.testing.assert_array_equal(y.data[kept], expected[kept])
    # the mask is [u >= rate] for the generator's next uniform draws in x's dtype
    u = rng(31).random(x.shape, dtype=dtype)
    np.testing.assert_array_equal(kept, u >= 0.25)


def test_dropout_preserves_the_mean_and_drops_rate():
    x = np.ones((2000, 500), dtype=np.float32)
    y = dropout(x, 0.3, training=True, rng=rng(32)).data
    # one element is 0 or 1/0.7: the sample mean has std sqrt(0.3/0.7/1e6) ~ 6.5e-4 and the
    # dropped fraction std sqrt(0.21/1e6) ~ 4.6e-4; the tolerances are 6 sigma of each
    assert abs(y.mean(dtype=np.float64) - 1.0) < 6 * np.sqrt(0.3 / 0.7 / y.size)
    assert abs(np.mean(y == 0) - 0.3) < 6 * np.sqrt(0.3 * 0.7 / y.size)


def test_dropout_masks_follow_the_global_seed():
    x = np.ones((20, 30))
    mg.random.seed(123)
    a = dropout(x, 0.5, training=True).data
    b = dropout(x, 0.5, training=True).data
    mg.random.seed(123)
    c = dropout(x, 0.5, training=True).data
    assert not np.array_equal(a, b)      # a new mask per call
    np.testing.assert_array_equal(a, c)  # the generator is looked up at call time


def test_dropout_gradient():
    x0 = rng(33).standard_normal((5, 4)) + 3
    C = rng(34).standard_normal((5, 4))
    x = leaf(x0)
    (dropout(x, 0.4, training=True, rng=rng(35)) * C).sum().backward()
    y = dropout(x0, 0.4, training=True, rng=rng(35)).data
    np.testing.assert_allclose(x.grad, C * y / x0, rtol=1e-12)     # g * mask / (1 - rate)
    assert mg.gradcheck(lambda a: dropout(a, 0.4, training=True, rng=rng(35)) * C, x)
    fn = Dropout()
    y32 = fn.forward(x0.astype(np.float32), rate=0.4, rng=rng(35))   # float32 draws differ
    g = C.astype(np.float32)
    dx = fn.backward(g)
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx, g * (y32 != 0) * np.float32(1 / 0.6))


def test_dropout_rate_one_gives_zeros_and_zero_gradient():
    x = leaf([[1.0, np.inf], [np.nan, -2.0]])
    y = dropout(x, 1.0, training=True)
    np.testing.assert_array_equal(y.data, 0.0)
    y.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(x.grad, 0.0)


def test_dropout_dropped_inf_does_not_leak():
    x = np.full((200,), np.inf)
    y = dropout(x, 0.5, training=True, rng=rng(36)).data
    assert np.all((y == 0) | np.isinf(y)) and np.any(y == 0)


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan"), "0.5", True])
def test_dropout_rate_errors(rate):
    with pytest.raises(ValueError, match=r"dropout: rate must be a number in \[0, 1\], got"):
        dropout(np.ones(3), rate, training=True)


# ---- optional oracle: Keras 3 on the torch backend (tests/keras_oracle.py's child process) ----
_KERAS_CHILD = """
import torch
inputs = np.load(sys.argv[1])
zt = torch.tensor(inputs["z"], requires_grad=True)
loss = keras.losses.sparse_categorical_crossentropy(torch.tensor(inputs["ids"]),
                                                    torch.softmax(zt, -1)).mean()
loss.backward()
layer = keras.layers.BatchNormalization()
y = layer(inputs["x"], training=True)
out = dict(ce=loss.item(), ce_grad=zt.grad.numpy(), bn=np.asarray(y.detach().cpu()),
           moving_mean=layer.moving_mean.numpy(), moving_variance=layer.moving_variance.numpy())
# LayerNormalization over axes (1, 2) with set gamma/beta: output and VJP for a cotangent
ln = keras.layers.LayerNormalization(axis=[1, 2], epsilon=0.01)
ln.build(inputs["ln_x"].shape)
ln.set_weights([inputs["ln_gamma"], inputs["ln_beta"]])
xt = torch.tensor(inputs["ln_x"], requires_grad=True)
y = ln(xt)
(y * torch.tensor(inputs["ln_c"])).sum().backward()
out.update(ln=y.detach().numpy(), ln_dx=xt.grad.numpy(), ln_dgamma=ln.gamma.value.grad.numpy(),
           ln_dbeta=ln.beta.value.grad.numpy(),
           unit=np.asarray(keras.layers.UnitNormalization(axis=1)(inputs["ln_x"]).cpu()))
norm = keras.layers.Normalization(axis=-1)
norm.adapt(inputs["x"])      # Keras's batch-iterable path needs tensorflow's tf.data
out.update(norm_mean=np.asarray(norm.adapt_mean.numpy()),
           norm_var=np.asarray(norm.adapt_variance.numpy()),
           norm_y=np.asarray(norm(inputs["x"]).cpu()))
np.savez(sys.argv[2], **out)
"""


def _keras_inputs():
    z = (rng(40).standard_normal((6, 4)) * 6).astype(np.float32)
    z[0, 1] += 40.0                     # a clipped row
    ids = np.array([1, 0, 2, 3, 1, 0])
    x = (rng(41).standard_normal((16, 3)) * 2 + 1).astype(np.float32)
    r = rng(42)
    ln = {"ln_x": (r.standard_normal((5, 3, 4)) * 3 + 2).astype(np.float32),
          "ln_gamma": r.uniform(0.5, 1.5, (3, 4)).astype(np.float32),
          "ln_beta": r.standard_normal((3, 4)).astype(np.float32),
          "ln_c": r.standard_normal((5, 3, 4)).astype(np.float32)}
    return {"z": z, "ids": ids, "x": x, **ln}


@pytest.fixture(scope="module")
def keras_reference(tmp_path_factory):
    work = tmp_path_factory.mktemp("keras")
    np.savez(work / "inputs.npz", **_keras_inputs())
    run_keras(_KERAS_CHILD, work / "inputs.npz", work / "ref.npz")
    with np.load(work / "ref.npz") as ref:
        return dict(ref)


def test_keras_oracle_clipped_sparse_ce_and_its_gradient(keras_reference):
    inputs = _keras_inputs()
    t = mg.Tensor(inputs["z"], requires_grad=True)
    ours = softmax_cross_entropy(t, inputs["ids"], epsilon=1e-7)
    ours.backward()
    np.testing.assert_allclose(ours.item(), keras_reference["ce"], rtol=1e-5)
    np.testing.assert_allclose(t.grad, keras_reference["ce_grad"], rtol=1e-4, atol=1e-7)


def test_keras_oracle_batch_normalization_training_step(keras_reference):
    x = _keras_inputs()["x"]
    mm, mv = np.zeros(3, np.float32), np.ones(3, np.float32)
    y = batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32), mm, mv, training=True)
    np.testing.assert_allclose(y.data, keras_reference["bn"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mm, keras_reference["moving_mean"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(mv, keras_reference["moving_variance"], rtol=1e-5, atol=1e-7)


def test_keras_oracle_layer_unit_and_normalization_layers(keras_reference):
    inputs = _keras_inputs()
    layer = mg.layers.LayerNormalization(axis=[1, 2], epsilon=0.01)
    layer.build((None, 3, 4))
    layer.set_weights([inputs["ln_gamma"], inputs["ln_beta"]])
    xt = mg.Tensor(inputs["ln_x"], requires_grad=True)
    y = layer(xt)
    (y * inputs["ln_c"]).sum().backward()
    np.testing.assert_allclose(y.data, keras_reference["ln"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad, keras_reference["ln_dx"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.gamma.grad, keras_reference["ln_dgamma"], rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(layer.beta.grad, keras_reference["ln_dbeta"], rtol=1e-5,
                               atol=1e-5)
    unit = mg.layers.UnitNormalization(axis=1)(inputs["ln_x"])
    np.testing.assert_allclose(unit.data, keras_reference["unit"], rtol=1e-5, atol=1e-6)
    norm = mg.layers.Normalization(axis=-1)
    norm.adapt(np.split(inputs["x"], [5, 6]))
    np.testing.assert_allclose(norm.mean.data, keras_reference["norm_mean"], rtol=1e-5)
    np.testing.assert_allclose(norm.variance.data, keras_reference["norm_var"], rtol=1e-5)
    np.testing.assert_allclose(norm(inputs["x"]).data, keras_reference["norm_y"], rtol=1e-5,
                               atol=1e-5)
