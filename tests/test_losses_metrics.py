"""Losses against float64 numpy references of Keras's formulas (clipped cross-entropy value
and zero gradient, the fused softmax path equal to the generic one), rank alignment and
errors; metrics values, stateful means and the "accuracy" resolution."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import losses as L
from minigrad import metrics as M
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


# ---- metrics ----------------------------------------------------------------------------------
def test_metric_functions():
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4]])
    ids = np.array([1, 1, 2, 0])
    assert np.array_equal(M.sparse_categorical_accuracy(ids, probs), [1, 0, 1, 0])
    assert np.array_equal(M.sparse_categorical_accuracy(ids.reshape(-1, 1), probs), [1, 0, 1, 0])
    assert np.array_equal(M.categorical_accuracy(np.eye(3)[ids], probs), [1, 0, 1, 0])
    assert np.array_equal(M.binary_accuracy([1, 0, 1, 0], [[0.9], [0.5], [0.5], [0.2]]),
                          [1, 1, 0, 1])                          # 0.5 is not > 0.5
    assert np.array_equal(M.binary_accuracy([1, 0], [[0.35], [0.2]], threshold=0.3), [1, 1])
    assert np.array_equal(M.accuracy([1, 2, 3], [[1.0], [2.5], [3.0]]), [1, 0, 1])
    assert np.allclose(M.mae([[1.0, 2.0], [0.0, 0.0]], mg.Tensor([[2.0, 2.0], [1.0, -3.0]])),
                       [0.5, 2.0])
    assert M.accuracy([1, 0], [[1.0], [0.0]]).dtype == np.float32
    with pytest.raises(ValueError, match=r"binary_accuracy.*\(3,\).*\(4, 1\)"):
        M.binary_accuracy([1, 0, 1], np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"sparse_categorical_accuracy.*\(3,\).*\(4, 3\)"):
        M.sparse_categorical_accuracy([1, 0, 1], probs)
    with pytest.raises(ValueError, match=r"categorical_accuracy.*\(4, 2\).*\(4, 3\)"):
        M.categorical_accuracy(np.zeros((4, 2)), probs)


def test_stateful_metrics_accumulate_weight_and_reset():
    m = M.SparseCategoricalAccuracy()
    m.update_state([1, 0], mg.Tensor([[0.2, 0.8], [0.9, 0.1]]))    # 2 of 2
    m.update_state([1, 1, 0], [[0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])  # 1 of 3
    assert m.result() == pytest.approx(3 / 5) and isinstance(m.result(), float)
    m.reset_state()
    assert m.result() == 0.0
    m.update_state([1, 1, 0], [[0.6, 0.4], [0.3, 0.7], [0.2, 0.8]], sample_weight=[1, 3, 0])
    assert m.result() == pytest.approx(3 / 4)
    err = M.MeanAbsoluteError()
    err.update_state([[0.0, 1.0]], [[1.0, 1.0]])
    err.update_state([[0.0, 0.0], [2.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]])
    assert err.result() == pytest.approx((0.5 + 0 + 2) / 3)
    mean = M.Mean()
    mean.update_state(2.0, sample_weight=32)                        # a batch-mean loss
    mean.update_state(5.0, sample_weight=8)
    assert mean.result() == pytest.approx((2 * 32 + 5 * 8) / 40)
    assert M.BinaryAccuracy(threshold=0.9)([1, 1], [[0.95], [0.8]]) == pytest.approx(0.5)


def test_accuracy_counting_equals_the_per_sample_mean():
    """The accuracies count hits without sample weights; the result must be the weighted mean
    of the per-sample values, including several values per sample (sequence labels)."""
    rng = np.random.default_rng(3)
    for cls, fn, one_hot in ((M.SparseCategoricalAccuracy, M.sparse_categorical_accuracy, False),
                             (M.CategoricalAccuracy, M.categorical_accuracy, True)):
        for shape in ((7, 4), (5, 3, 4)):   # one value per sample; 3 values per sample
            counted, weighted, values = cls(), cls(), []
            for _ in range(3):
                probs = rng.random(shape).astype(np.float32)
                ids = rng.integers(0, shape[-1], shape[:-1])
                labels = np.eye(shape[-1])[ids] if one_hot else ids
                counted.update_state(labels, probs)
                weighted.update_state(labels, probs, sample_weight=np.ones(shape[0]))
                values.append(fn(labels, probs))
            expected = np.concatenate(values).astype(np.float64).mean()
            assert counted.result() == weighted.result() == pytest.approx(expected, abs=1e-12)
            assert counted.count == 3 * shape[0]

    class Always(M.SparseCategoricalAccuracy):   # a subclass's own fn is used, not the count
        fn = staticmethod(lambda t, p: np.ones(len(t), dtype=np.float32))
    m = Always()
    m.update_state([0, 1], [[0.0, 1.0], [1.0, 0.0]])
    assert m.result() == 1.0


def test_directions_and_names():
    for name, direction in (("accuracy", "up"), ("sparse_categorical_accuracy", "up"),
                            ("categorical_accuracy", "up"), ("binary_accuracy", "up"),
                            ("mae", "down"), ("mean_absolute_error", "down")):
        m = M.get(name)
        assert m.direction == direction and m.name == name
    assert M.Mean().direction is None
    assert M.SparseCategoricalAccuracy().name == "sparse_categorical_accuracy"


@pytest.mark.parametrize("ident", ["accuracy", "acc"])
def test_accuracy_resolution_from_shapes(ident):
    n = 6
    cases = ((np.zeros(n), np.zeros((n, 1)), M.BinaryAccuracy),
             (np.zeros((n, 1)), np.zeros((n, 1)), M.BinaryAccuracy),
             (np.zeros(n, int), np.zeros((n, 4)), M.SparseCategoricalAccuracy),
             (np.zeros((n, 1), int), np.zeros((n, 4)), M.SparseCategoricalAccuracy),
             (np.zeros((n, 4)), np.zeros((n, 4)), M.CategoricalAccuracy))
    for y_true, y_pred, cls in cases:
        m = M.get(ident, y_true=y_true, y_pred=mg.Tensor(y_pred))
        assert type(m) is cls and m.name == ident and m.direction == "up"
    assert type(M.get(ident)) is M.Accuracy                  # no shapes: exact-match accuracy


def test_metric_registry_custom_functions_and_round_trip():
    def hit_rate(y_true, y_pred):
        return (np.asarray(y_true) == np.asarray(y_pred)).astype(float)

    w = M.get(hit_rate)
    assert isinstance(w, M.MeanMetricWrapper) and w.name == "hit_rate" and w.direction is None
    w.update_state([1, 2, 3], [1, 0, 3])
    assert w.result() == pytest.approx(2 / 3)
    assert M.serialize(w) == {"__custom_object__": "hit_rate"}   # marked as custom
    assert M.deserialize("hit_rate", custom_objects={"hit_rate": hit_rate}).name == "hit_rate"
    assert M.get(M.mae).direction == "down"
    back = M.deserialize(M.serialize(M.BinaryAccuracy(name="bin", threshold=0.25)))
    assert type(back) is M.BinaryAccuracy and back.threshold == 0.25 and back.name == "bin"
    inst = M.CategoricalAccuracy()
    assert M.get(inst) is inst
    with pytest.raises(ValueError) as err:
        M.get("acuracy")
    for name in ("accuracy", "sparse_categorical_accuracy", "binary_accuracy", "mae"):
        assert name in str(err.value)
