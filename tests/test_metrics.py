"""Metrics: per-sample functions, stateful weighted means (Keras's
reduce_to_samplewise_values), the "accuracy" resolution, and the issue-13 metrics (Precision,
Recall, AUC, F1Score, R2Score, RMSE, top-k, Sum) against hand-computed values; Keras 3 as an
optional oracle."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import metrics as M


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
