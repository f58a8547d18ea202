"""Losses against float64 numpy references of Keras's formulas (clipped cross-entropy value
and zero gradient, the fused softmax path equal to the generic one), rank alignment and
errors, reductions and sample weights (Keras 3.15 losses/loss.py), the issue-13 losses with
hand-computed values and float64 gradchecks; Keras 3 as an optional oracle."""
import json

import numpy as np
import pytest
from keras_oracle import run_keras

import minigrad as mg
from minigrad import losses as L
from minigrad.ops.softmax import SoftmaxCrossEntropy

EPS = 1e-7


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def keras_ce(onehot, p):
    """Keras's from_logits=False categorical cross-entropy, batch mean, float64."""
    p = p / p.sum(axis=-1, keepdims=True)
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-np.sum(onehot * np.log(p), axis=-1))


def keras_bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(8, 5))
    y = rng.integers(0, 5, size=8)
    return z, y, np.eye(5)[y]


# ---- cross-entropy ----------------------------------------------------------------------------
def test_softmax_node_runs_the_fused_kernel_and_equals_keras(batch):
    z, y, onehot = batch
    for fn, labels in ((L.sparse_categorical_crossentropy, y),
                       (L.categorical_crossentropy, onehot)):
        logits = mg.Tensor(z, requires_grad=True)
        loss = fn(labels, logits.softmax())
        assert isinstance(loss._ctx, SoftmaxCrossEntropy)
        assert loss._ctx.inputs[0] is logits                # the softmax node is bypassed
        assert loss.item() == pytest.approx(keras_ce(onehot, _softmax(z)), rel=1e-12)
        loss.backward()
        assert np.allclose(logits.grad, (_softmax(z) - onehot) / len(z), rtol=1e-10, atol=0)


def test_fused_path_equals_generic_path_where_nothing_is_clipped(batch):
    z, y, onehot = batch
    for fn, labels in ((L.sparse_categorical_crossentropy, y),
                       (L.categorical_crossentropy, onehot)):
        a = mg.Tensor(z, requires_grad=True)
        fused = fn(labels, a.softmax())
        b = mg.Tensor(z, requires_grad=True)
        generic = fn(labels, b.softmax() * 1.0)            # not a softmax node any more
        assert not isinstance(generic._ctx, SoftmaxCrossEntropy)
        assert fused.item() == pytest.approx(generic.item(), rel=1e-13)
        fused.backward()
        generic.backward()
        assert np.allclose(a.grad, b.grad, rtol=1e-10, atol=1e-15)


def test_clipped_probability_value_and_zero_gradient():
    # row 0: the target's probability is ~2e-9 < 1e-7, so it is clipped
    z = np.array([[0.0, 20.0, 0.0], [0.5, -0.2, 0.1]])
    y = np.array([0, 2])
    onehot = np.eye(3)[y]
    p = _softmax(z)
    assert p[0, 0] < EPS
    expected = keras_ce(onehot, p)
    assert expected == pytest.approx((-np.log(EPS) - np.log(p[1, 2])) / 2, rel=1e-12)
    for make_pred in (lambda t: t.softmax(), lambda t: t.softmax() * 1.0):
        logits = mg.Tensor(z, requires_grad=True)
        loss = L.sparse_categorical_crossentropy(y, make_pred(logits))
        assert loss.item() == pytest.approx(expected, rel=1e-12)
        loss.backward()
        assert np.array_equal(logits.grad[0], np.zeros(3))        # clipped: no gradient
        assert np.allclose(logits.grad[1], (p[1] - onehot[1]) / 2, rtol=1e-10)
    # the same on probabilities given directly (a leaf: the generic graph form)
    probs = mg.Tensor(p, requires_grad=True)
    loss = L.categorical_crossentropy(onehot, probs)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    assert np.array_equal(probs.grad[0], np.zeros(3))


def test_from_logits_is_the_exact_log_softmax_form(batch):
    z, y, onehot = batch
    z = z * 20                                                   # would clip if probabilities
    exact = np.mean(-np.sum(onehot * (z - np.log(np.exp(z).sum(-1, keepdims=True))), -1))
    for loss_obj, labels in ((L.SparseCategoricalCrossentropy(from_logits=True), y),
                             (L.CategoricalCrossentropy(from_logits=True), onehot)):
        logits = mg.Tensor(z, requires_grad=True)
        loss = loss_obj(labels, logits)
        assert loss.item() == pytest.approx(exact, rel=1e-12)
        loss.backward()
        assert np.allclose(logits.grad, (_softmax(z) - onehot) / len(z), rtol=1e-9, atol=1e-15)


def test_probabilities_without_graph_and_unnormalised(batch):
    z, y, onehot = batch
    p = _softmax(z)
    with mg.no_grad():
        value = L.sparse_categorical_crossentropy(y, mg.Tensor(z).softmax())
    assert value.item() == pytest.approx(keras_ce(onehot, p), rel=1e-12)
    scaled = p * 3.0                                             # renormalised, as Keras
    assert L.categorical_crossentropy(onehot, scaled).item() == pytest.approx(
        keras_ce(onehot, p), rel=1e-12)
    soft = np.full_like(p, 0.2)                                  # probability labels
    assert L.categorical_crossentropy(soft, p).item() == pytest.approx(keras_ce(soft, p))


def test_sparse_label_shapes_dtypes_and_higher_rank(batch):
    z, y, onehot = batch
    p = _softmax(z)
    ref = keras_ce(onehot, p)
    for labels in (y.reshape(-1, 1), y.astype(np.float32), mg.Tensor(y)):
        assert L.sparse_categorical_crossentropy(labels, p).item() == pytest.approx(ref)
    z3 = z.reshape(2, 4, 5)
    logits = mg.Tensor(z3, requires_grad=True)
    loss = L.sparse_categorical_crossentropy(y.reshape(2, 4), logits.softmax())
    assert loss.item() == pytest.approx(ref, rel=1e-12)        # mean over every position
    loss.backward()
    assert np.allclose(logits.grad.reshape(8, 5), (p - onehot) / 8, rtol=1e-10)


def test_cross_entropy_errors(batch):
    z, y, onehot = batch
    p = _softmax(z)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: label 5 .*\[0, 5\)"):
        L.sparse_categorical_crossentropy(np.where(y == y[0], 5, y), p)
    with pytest.raises(ValueError, match="label -1"):
        L.sparse_categorical_crossentropy(-np.ones(8, int), p)
    with pytest.raises(ValueError, match="integer class ids"):
        L.sparse_categorical_crossentropy(y + 0.5, p)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*\(6,\).*\(8, 5\)"):
        L.sparse_categorical_crossentropy(y[:6], p)
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*\(8,\).*\(8, 5\).*sparse"):
        L.categorical_crossentropy(y, p)
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*\(8, 4\).*\(8, 5\)"):
        L.categorical_crossentropy(onehot[:, :4], p)


# ---- binary cross-entropy, MSE, MAE -----------------------------------------------------------
T = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
P = np.array([0.2, 0.7, 1.0, 0.0, 1e-9, 0.5])          # includes probabilities that clip


def test_binary_crossentropy_clipped_value_and_gradient():
    pred = mg.Tensor(P.reshape(-1, 1), requires_grad=True)
    loss = L.binary_crossentropy(T, pred)                   # (n,) against (n, 1)
    assert loss.item() == pytest.approx(keras_bce(T, P), rel=1e-12)
    loss.backward()
    inside = (P >= EPS) & (P <= 1 - EPS)
    safe = np.where(inside, P, 0.5)
    expected = np.where(inside, (safe - T) / (safe * (1 - safe)) / len(P), 0.0)
    assert np.allclose(pred.grad.ravel(), expected, rtol=1e-10)


def test_binary_crossentropy_from_logits():
    x = np.array([-30.0, -1.0, 0.0, 0.0, 2.0, 40.0])
    logits = mg.Tensor(x.reshape(-1, 1), requires_grad=True)
    loss = L.BinaryCrossentropy(from_logits=True)(T.reshape(-1, 1), logits)
    exact = np.mean(np.maximum(x, 0) - x * T + np.log1p(np.exp(-np.abs(x))))
    assert loss.item() == pytest.approx(exact, rel=1e-12)
    loss.backward()
    sig = 1 / (1 + np.exp(-x))
    # atol: the |x| branches cancel to within an ulp of 1/(2n) where sigmoid(x) is tiny
    assert np.allclose(logits.grad.ravel(), (sig - T) / len(x), rtol=1e-10, atol=1e-16)
    assert logits.grad[2, 0] == pytest.approx((0.5 - T[2]) / len(x))   # exact at x = 0


def test_mse_and_mae_values_gradients_and_alignment():
    t = np.array([1.0, 2.0, 3.0, -1.0])
    p = np.array([1.5, 2.0, 1.0, 0.0])
    for true, pred_shape in ((t, (4, 1)), (t.reshape(4, 1), (4,)), (t, (4,))):
        pred = mg.Tensor(p.reshape(pred_shape), requires_grad=True)
        loss = L.mean_squared_error(true, pred)
        assert loss.item() == pytest.approx(np.mean((t - p) ** 2), rel=1e-14)
        loss.backward()
        assert np.allclose(pred.grad.ravel(), 2 * (p - t) / 4, rtol=1e-14)
    pred = mg.Tensor(p.reshape(4, 1), requires_grad=True)
    loss = L.get("mae")(t, pred)
    assert loss.item() == pytest.approx(np.mean(np.abs(t - p)), rel=1e-14)
    loss.backward()
    assert np.array_equal(pred.grad.ravel(), np.sign(p - t) / 4)       # 0 where equal
    multi = np.arange(12.0).reshape(4, 3)
    assert L.mse(multi, multi + 2).item() == pytest.approx(4.0)


def test_alignment_errors_name_the_loss_and_both_shapes():
    with pytest.raises(ValueError, match=r"mean_squared_error.*\(4, 2\).*\(4, 3\)"):
        L.mse(np.zeros((4, 2)), mg.Tensor(np.zeros((4, 3))))
    with pytest.raises(ValueError, match=r"binary_crossentropy: y_true has 5 samples.*\(5,\)"
                                         r".*has 4 \(shape \(4, 1\)\)"):
        L.binary_crossentropy(np.zeros(5), mg.Tensor(np.zeros((4, 1))))
    with pytest.raises(ValueError, match=r"mean_absolute_error.*\(4, 3\).*\(4, 1\)"):
        L.mae(np.zeros((4, 3)), mg.Tensor(np.zeros((4, 1))))


def test_dtypes_follow_y_pred():
    pred32 = mg.Tensor(np.full((3, 1), 0.25, np.float32), requires_grad=True)
    for fn in (L.mse, L.mae, L.binary_crossentropy):
        assert fn(np.array([0.0, 1.0, 1.0]), pred32).dtype == np.float32
    logits = mg.Tensor(np.zeros((3, 4), np.float32), requires_grad=True)
    loss = L.sparse_categorical_crossentropy(np.array([0, 1, 3]), logits.softmax())
    assert loss.dtype == np.float32 and loss.item() == pytest.approx(np.log(4), rel=1e-6)


# ---- registry ---------------------------------------------------------------------------------
LOSS_NAMES = {"sparse_categorical_crossentropy": L.SparseCategoricalCrossentropy,
              "categorical_crossentropy": L.CategoricalCrossentropy,
              "binary_crossentropy": L.BinaryCrossentropy,
              "mse": L.MeanSquaredError, "mean_squared_error": L.MeanSquaredError,
              "mae": L.MeanAbsoluteError, "mean_absolute_error": L.MeanAbsoluteError}


def test_loss_registry_and_round_trips():
    for name, cls in LOSS_NAMES.items():
        assert type(L.get(name)) is cls
        assert type(L.get(cls.__name__)) is cls
    obj = L.CategoricalCrossentropy(from_logits=True, name="cce")
    saved = L.serialize(obj)
    assert saved == {"class_name": "CategoricalCrossentropy",
                     "config": {"name": "cce", "reduction": "sum_over_batch_size",
                                "from_logits": True, "label_smoothing": 0.0}}
    back = L.deserialize(saved)
    assert type(back) is L.CategoricalCrossentropy and back.from_logits and back.name == "cce"
    assert L.serialize(L.mse) == "mean_squared_error"
    assert type(L.deserialize("mean_squared_error")) is L.MeanSquaredError
    with pytest.raises(ValueError) as err:
        L.get("categorical_crossentropyy")
    for name in LOSS_NAMES:
        assert name in str(err.value)
    with pytest.raises(ValueError, match="no usable name"):
        L.serialize(lambda a, b: a)


# ---- reductions and sample weights (Keras 3.15 losses/loss.py) --------------------------------
class Elementwise(L.Loss):
    """Per-element squared error: values of y_pred's shape."""

    def call(self, y_true, y_pred):
        return (y_pred - y_true) ** 2


def _np_reduce(values, w, reduction):
    """Keras's reduce_weighted_values written out in float64."""
    v = values if w is None else values * w
    if reduction in (None, "none"):
        return v
    if reduction == "sum":
        return v.sum()
    if reduction == "mean_with_sample_weight" and w is not None:
        return v.sum() / w.sum()
    return v.sum() / v.size


@pytest.mark.parametrize("reduction", L.REDUCTIONS)
def test_reductions_with_and_without_sample_weights(reduction):
    rng = np.random.default_rng(4)
    t, p, w = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.random(6)
    values = (p - t) ** 2
    loss = Elementwise(reduction=reduction)
    assert np.allclose(loss(t, p).data, _np_reduce(values, None, reduction), rtol=1e-12)
    # weights of shape (n,) are expanded to (n, 1) against per-element values (n, 3)
    for ws in (w, w.reshape(-1, 1)):
        got = loss(t, p, sample_weight=ws).data
        assert np.allclose(got, _np_reduce(values, w[:, None], reduction), rtol=1e-12)
    per_sample = L.MeanSquaredError(reduction=reduction)(t, p, sample_weight=w).data
    assert np.allclose(per_sample, _np_reduce(values.mean(-1), w, reduction), rtol=1e-12)


def test_hand_computed_weighted_mse():
    # per-sample mse: [1, 4, 0.25]; weights [2, 0, 4]: sum = 2 + 0 + 1 = 3
    t, p, w = np.array([[1.0], [2.0], [0.0]]), np.array([[0.0], [0.0], [0.5]]), [2, 0, 4]
    assert L.MeanSquaredError()(t, p, sample_weight=w).item() == pytest.approx(3 / 3)
    assert L.MeanSquaredError(reduction="sum")(t, p, sample_weight=w).item() == 3
    assert L.MeanSquaredError(reduction="mean_with_sample_weight")(
        t, p, sample_weight=w).item() == pytest.approx(3 / 6)
    none = L.MeanSquaredError(reduction=None)(t, p, sample_weight=w).data
    assert np.allclose(none, [2.0, 0.0, 1.0])
    zero = L.MeanSquaredError(reduction="mean_with_sample_weight")(t, p, sample_weight=[0, 0, 0])
    assert zero.item() == 0.0                                    # divide_no_nan


def test_scalar_loss_values_scale_with_the_mean_weight():
    """A loss returning a scalar: Keras multiplies it by the weights, then divides by n."""
    scalar = L.LossFunctionWrapper(lambda t, p: ((t - p) ** 2).mean())
    t, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([[0.0], [0.0], [0.0], [0.0]])
    assert scalar(t, p).item() == pytest.approx(7.5)
    assert scalar(t, p, sample_weight=[1, 1, 0, 0]).item() == pytest.approx(7.5 * 0.5)


def test_function_losses_align_n_against_n1_and_pass_other_shapes():
    seen = []

    def spy(t, p):
        seen.append((t.shape, p.shape))
        return p.mean(axis=-1)

    wrapper = L.get(spy)
    assert isinstance(wrapper, L.LossFunctionWrapper) and wrapper.name == "spy"
    wrapper(np.ones(4), np.ones((4, 1)))
    wrapper(np.ones((4, 1)), np.ones(4))
    wrapper(np.ones(4), np.ones((4, 3)))          # sparse-style labels reach it unchanged
    wrapper(np.ones((4, 2, 1)), np.ones((4, 2)))  # rank > 1: the trailing 1 is squeezed
    assert seen == [((4, 1), (4, 1)), ((4, 1), (4, 1)), ((4,), (4, 3)), ((4, 2), (4, 2))]


def test_loss_subclass_gets_shapes_as_given_a_tensor_y_true_and_its_name():
    got = {}

    class Spy(L.Loss):
        def call(self, y_true, y_pred):
            got["types"] = (type(y_true), y_true.dtype, y_true.shape, y_pred.shape)
            return (y_pred - y_true.reshape(-1, 1)).abs()

    loss = Spy(name="spy", reduction="sum")
    out = loss(np.array([1, 2, 3]), mg.Tensor(np.zeros((3, 1), np.float32)))
    assert out.item() == 6.0 and loss.name == "spy" and Spy().name == "spy"
    assert got["types"] == (mg.Tensor, np.float32, (3,), (3, 1))
    assert loss.get_config() == {"name": "spy", "reduction": "sum"}


def test_a_broadcast_loss_of_the_wrong_rank_raises_naming_it_and_the_shapes():
    class Broadcast(L.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred) ** 2                         # (4,) - (4, 1) -> (4, 4)

    with pytest.raises(ValueError, match=r"loss 'broadcast' returned values of shape \(4, 4\) "
                                         r"for y_true of shape \(4,\) and y_pred of shape "
                                         r"\(4, 1\)"):
        Broadcast()(np.ones(4), np.zeros((4, 1)))


def test_errors_inside_a_user_loss_name_the_loss_and_shapes():
    def bad(t, p):
        return t @ p                                              # (4, 3) @ (4, 3) fails

    with pytest.raises(ValueError, match=r"loss 'bad' failed on y_true of shape \(4, 3\) and "
                                         r"y_pred of shape \(4, 3\)"):
        L.get(bad)(np.ones((4, 3)), np.ones((4, 3)))


def test_sample_weight_of_the_wrong_length_and_bad_reduction():
    with pytest.raises(ValueError, match=r"loss 'mean_squared_error'.*sample_weight of shape "
                                         r"\(3,\).*\(5,\).*one weight per sample \(5\)"):
        L.MeanSquaredError()(np.ones((5, 2)), np.zeros((5, 2)), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.MeanSquaredError(reduction="avg")
    with pytest.raises(TypeError, match="reduction must be one of"):
        L.Huber(reduction=3)


@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("route", ["logits", "softmax"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_weighted_fused_crossentropy_equals_the_per_sample_path(sparse, route, reduction):
    """Weights enter the fused kernel as scaled label rows; value and gradient must equal the
    per-sample values weighted and reduced (reduction "none", then numpy)."""
    rng = np.random.default_rng(5)
    z = rng.normal(size=(7, 4)) * 3
    ids = rng.integers(0, 4, 7)
    labels = ids if sparse else np.eye(4)[ids]
    w = rng.random(7)
    cls = L.SparseCategoricalCrossentropy if sparse else L.CategoricalCrossentropy
    outs = []
    for red in (reduction, None):
        logits = mg.Tensor(z, requires_grad=True)
        pred = logits if route == "logits" else logits.softmax()
        loss = cls(from_logits=route == "logits", reduction=red)(labels, pred, sample_weight=w)
        if red is None:
            assert loss.shape == (7,)
            divisor = {"sum": 1.0, "mean_with_sample_weight": w.sum()}.get(reduction, 7.0)
            loss = loss.sum() * (1.0 / divisor)
        else:
            node = loss.grad_fn                     # the fused kernel ran (then a scaling)
            node = node if reduction == "sum_over_batch_size" else node.inputs[0].grad_fn
            assert isinstance(node, SoftmaxCrossEntropy)
        loss.backward()
        outs.append((loss.item(), logits.grad.copy()))
    assert outs[0][0] == pytest.approx(outs[1][0], rel=1e-12)
    assert np.allclose(outs[0][1], outs[1][1], rtol=1e-10, atol=1e-14)


# ---- the issue-13 losses: hand-computed float64 references -----------------------------------
def _np_bce(t, q):
    q = np.clip(q, EPS, 1 - EPS)
    return -(t * np.log(q) + (1 - t) * np.log(1 - q))


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_unit(x):
    return x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), EPS ** 2))


def _hinge_t(t):
    return 2 * t - 1 if np.isin(t, (0, 1)).all() else t


R = np.random.default_rng(11)
T_REG, P_REG = R.normal(size=(6, 3)), R.normal(size=(6, 3))
T_POS, P_POS = R.random((6, 3)) + 0.1, R.random((6, 3)) + 0.1
T_BIN = (R.random((6, 3)) > 0.5).astype(float)
P_PROB = R.random((6, 3)) * 0.8 + 0.1
ONEHOT = np.eye(3)[[0, 2, 1, 1, 0, 2]]
Z = R.normal(size=(6, 3)) * 2

# (loss object, y_true, y_pred, float64 per-sample reference)
NEW_LOSSES = {
    "huber": (L.Huber(delta=0.7), T_REG, P_REG, lambda t, p: np.mean(np.where(
        np.abs(p - t) <= 0.7, 0.5 * (p - t) ** 2, 0.7 * np.abs(p - t) - 0.5 * 0.49), -1)),
    "log_cosh": (L.LogCosh(), T_REG, P_REG * 4, lambda t, p: np.mean(np.log(np.cosh(p - t)), -1)),
    "kld": (L.KLDivergence(), T_POS / 1.2, P_POS / 1.2, lambda t, p: np.sum(
        t * np.log(t / p), -1)),
    "hinge": (L.Hinge(), T_BIN, Z, lambda t, p: np.mean(np.maximum(1 - (2 * t - 1) * p, 0), -1)),
    "hinge_pm1": (L.Hinge(), 2 * T_BIN - 1, Z, lambda t, p: np.mean(np.maximum(1 - t * p, 0), -1)),
    "squared_hinge": (L.SquaredHinge(), T_BIN, Z, lambda t, p: np.mean(
        np.maximum(1 - (2 * t - 1) * p, 0) ** 2, -1)),
    "categorical_hinge": (L.CategoricalHinge(), ONEHOT, Z, lambda t, p: np.maximum(
        ((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
    "mape": (L.MeanAbsolutePercentageError(), T_REG, P_REG, lambda t, p: 100 * np.mean(
        np.abs(t - p) / np.abs(t), -1)),
    "msle": (L.MeanSquaredLogarithmicError(), T_POS, P_REG, lambda t, p: np.mean(
        (np.log(np.maximum(p, EPS) + 1) - np.log(t + 1)) ** 2, -1)),
    "poisson": (L.Poisson(), T_POS, P_POS, lambda t, p: np.mean(p - t * np.log(p + EPS), -1)),
    "cosine_similarity": (L.CosineSimilarity(), T_REG, P_REG, lambda t, p: -np.sum(
        _np_unit(t) * _np_unit(p), -1)),
    "binary_focal": (L.BinaryFocalCrossentropy(gamma=1.5), T_BIN, P_PROB, lambda t, p: np.mean(
        (1 - (t * p + (1 - t) * (1 - p))) ** 1.5 * _np_bce(t, p), -1)),
    "binary_focal_balanced_logits": (
        L.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, from_logits=True),
        T_BIN, Z, lambda t, p: np.mean((t * 0.3 + (1 - t) * 0.7) * (1 - (
            t * _np_sigmoid(p) + (1 - t) * (1 - _np_sigmoid(p)))) ** 2 * _np_bce(
            t, _np_sigmoid(p)), -1)),
    "categorical_focal": (L.CategoricalFocalCrossentropy(alpha=0.5), ONEHOT, P_PROB,
                          lambda t, p: np.sum(-0.5 * (1 - p / p.sum(-1, keepdims=True)) ** 2
                                              * t * np.log(p / p.sum(-1, keepdims=True)), -1)),
    "categorical_focal_logits_smoothed": (
        L.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.3), ONEHOT, Z,
        lambda t, p: np.sum(-0.25 * (1 - _softmax(p)) ** 2 * (0.7 * t + 0.1)
                            * np.log(_softmax(p)), -1)),
    "bce_smoothed": (L.BinaryCrossentropy(label_smoothing=0.2), T_BIN, P_PROB,
                     lambda t, p: np.mean(_np_bce(0.8 * t + 0.1, p), -1)),
    "cce_smoothed_logits": (L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3),
                            ONEHOT, Z, lambda t, p: -np.sum((0.7 * t + 0.1) * np.log(
                                _softmax(p)), -1)),
}
W6 = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25])


@pytest.mark.parametrize("name", list(NEW_LOSSES))
def test_new_losses_against_float64_references_with_weights(name):
    loss, t, p, ref = NEW_LOSSES[name]
    per = ref(t, p)
    assert loss(t, p).item() == pytest.approx(per.mean(), rel=1e-9)
    assert loss(t, p, sample_weight=W6).item() == pytest.approx((per * W6).sum() / 6, rel=1e-9)
    none = type(loss).from_config({**loss.get_config(), "reduction": None})
    assert np.allclose(none(t, p).data, per, rtol=1e-9)
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()


@pytest.mark.parametrize("name", list(NEW_LOSSES))
def test_new_losses_gradcheck_float64(name):
    loss, t, p, _ = NEW_LOSSES[name]
    c = float(np.random.default_rng(len(name)).normal())
    assert mg.gradcheck(lambda x: loss(t, x, sample_weight=W6) * c,
                        mg.Tensor(p.copy(), requires_grad=True), atol=1e-6, rtol=1e-5)


def test_loss_functions_return_the_batch_mean_and_float32_stays_float32():
    for fn, cls in ((L.huber, L.Huber), (L.log_cosh, L.LogCosh), (L.kld, L.KLDivergence),
                    (L.poisson, L.Poisson), (L.mape, L.MeanAbsolutePercentageError)):
        t, p = T_POS.astype(np.float32), P_POS.astype(np.float32)
        out = fn(t, p)
        assert out.dtype == np.float32 and out.shape == ()
        assert out.item() == pytest.approx(cls()(t, p).item(), rel=1e-6)


def test_huber_example_from_the_keras_docstring():
    # keras.losses.huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]) = 0.155 (losses.py)
    assert L.huber([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]).item() == \
        pytest.approx(0.155)
    # keras.losses.log_cosh([[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]]) = 0.108
    assert L.log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]).item() == \
        pytest.approx(0.108, abs=5e-4)


KERAS_NAMES = {"huber": L.Huber, "huber_loss": L.Huber, "log_cosh": L.LogCosh,
               "logcosh": L.LogCosh, "kld": L.KLDivergence, "kl_divergence": L.KLDivergence,
               "KLD": L.KLDivergence, "hinge": L.Hinge, "squared_hinge": L.SquaredHinge,
               "categorical_hinge": L.CategoricalHinge,
               "mape": L.MeanAbsolutePercentageError, "MAPE": L.MeanAbsolutePercentageError,
               "mean_absolute_percentage_error": L.MeanAbsolutePercentageError,
               "msle": L.MeanSquaredLogarithmicError, "poisson": L.Poisson,
               "mean_squared_logarithmic_error": L.MeanSquaredLogarithmicError,
               "cosine_similarity": L.CosineSimilarity, "bce": L.BinaryCrossentropy,
               "binary_focal_crossentropy": L.BinaryFocalCrossentropy,
               "categorical_focal_crossentropy": L.CategoricalFocalCrossentropy}


def test_keras_string_names_and_functions_resolve_to_the_classes():
    for name, cls in KERAS_NAMES.items():
        assert type(L.get(name)) is cls and type(L.get(cls.__name__)) is cls
    for fn, cls in ((L.huber, L.Huber), (L.mse, L.MeanSquaredError),
                    (L.sparse_categorical_crossentropy, L.SparseCategoricalCrossentropy)):
        assert type(L.get(fn)) is cls                   # per-sample values, so weights apply
    with pytest.raises(ValueError, match="Unknown loss 'hubber'; valid names: .*huber"):
        L.get("hubber")
    with pytest.raises(TypeError, match="Huber: delta must be a real number"):
        L.Huber(delta="1")
    with pytest.raises(ValueError, match="BinaryFocalCrossentropy: label_smoothing must be in"):
        L.BinaryFocalCrossentropy(label_smoothing=1.5)


# ---- optional oracle: Keras 3 on the torch backend --------------------------------------------
_KERAS_LOSSES = """
d = np.load(sys.argv[1])
L = keras.losses
objs = {"huber": L.Huber(delta=0.7), "log_cosh": L.LogCosh(), "kld": L.KLDivergence(),
        "hinge": L.Hinge(), "hinge_pm1": L.Hinge(), "squared_hinge": L.SquaredHinge(),
        "categorical_hinge": L.CategoricalHinge(), "mape": L.MeanAbsolutePercentageError(),
        "msle": L.MeanSquaredLogarithmicError(), "poisson": L.Poisson(),
        "cosine_similarity": L.CosineSimilarity(),
        "binary_focal": L.BinaryFocalCrossentropy(gamma=1.5),
        "binary_focal_balanced_logits": L.BinaryFocalCrossentropy(
            apply_class_balancing=True, alpha=0.3, from_logits=True),
        "categorical_focal": L.CategoricalFocalCrossentropy(alpha=0.5),
        "categorical_focal_logits_smoothed": L.CategoricalFocalCrossentropy(
            from_logits=True, label_smoothing=0.3),
        "bce_smoothed": L.BinaryCrossentropy(label_smoothing=0.2),
        "cce_smoothed_logits": L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3)}
out = {}
for k, obj in objs.items():
    t, p = d[k + "_t"], d[k + "_p"]
    out[k] = [float(obj(t, p)), float(obj(t, p, sample_weight=d["w"]))]
json.dump(out, open(sys.argv[2], "w"))
"""


def test_keras_oracle_new_losses_weighted_and_unweighted(tmp_path):
    arrays = {"w": W6.astype(np.float32)}
    for k, (_, t, p, _) in NEW_LOSSES.items():
        arrays[k + "_t"], arrays[k + "_p"] = t.astype(np.float32), p.astype(np.float32)
    np.savez(tmp_path / "in.npz", **arrays)
    run_keras(_KERAS_LOSSES, str(tmp_path / "in.npz"), str(tmp_path / "out.json"))
    ref = json.loads((tmp_path / "out.json").read_text())
    for k, (loss, t, p, _) in NEW_LOSSES.items():
        t32, p32 = t.astype(np.float32), p.astype(np.float32)
        ours = [loss(t32, p32).item(), loss(t32, p32, sample_weight=W6.astype(np.float32)).item()]
        assert np.allclose(ours, ref[k], rtol=2e-5, atol=1e-6), (k, ours, ref[k])
