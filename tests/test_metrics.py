"""Metrics: per-sample functions, stateful weighted means (Keras's
reduce_to_samplewise_values), the "accuracy" resolution, and the issue-13 metrics (Precision,
Recall, AUC, F1Score, R2Score, RMSE, top-k, Sum) against hand-computed values; Keras 3 as an
optional oracle."""
import json

import numpy as np
import pytest
from keras_oracle import run_keras

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


# ---- weighting (Keras 3.15 reduce_to_samplewise_values) ---------------------------------------
def test_weighted_means_reduce_values_to_the_weights_rank_first():
    values = np.array([[1.0, 3.0], [5.0, 7.0], [2.0, 2.0]])
    m = M.Mean()
    m.update_state(values, sample_weight=[1.0, 0.0, 3.0])   # per-sample means 2, 6, 2
    assert m.result() == pytest.approx((2 * 1 + 2 * 3) / 4) and m.count == 4
    m.reset_state()
    m.update_state(values, sample_weight=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])   # elementwise
    # weighted values [[1, 0], [0, 7], [2, 2]] -> per-sample means 0.5, 3.5, 2; weights 0.5, 0.5, 1
    assert m.result() == pytest.approx((0.5 + 3.5 + 2.0) / (0.5 + 0.5 + 1.0))
    s = M.Sum()
    s.update_state(values, sample_weight=[1.0, 0.0, 0.5])    # per-sample sums 4, 12, 4
    assert s.result() == pytest.approx(4 + 2)
    with pytest.raises(ValueError, match=r"mean: sample_weight of shape \(2,\).*\(3,\)"):
        M.Mean().update_state(values, sample_weight=[1.0, 2.0])


def test_mean_metric_wrapper_weights_per_sample_values():
    wrapper = M.MeanMetricWrapper(M.mean_squared_error, name="mse_w")
    t, p = np.array([[0.0, 2.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 1.0]])
    wrapper.update_state(t, p, sample_weight=[3.0, 1.0])      # per sample 2.5, 0
    assert wrapper.result() == pytest.approx(7.5 / 4) and wrapper.name == "mse_w"


# ---- regression metrics -----------------------------------------------------------------------
def test_mse_rmse_mape_hand_computed_with_weights():
    t, p, w = np.array([[1.0], [2.0], [-4.0]]), np.array([[2.0], [2.0], [-2.0]]), [1.0, 2.0, 1.0]
    for cls, per in ((M.MeanSquaredError, [1.0, 0.0, 4.0]),
                     (M.MeanAbsolutePercentageError, [100.0, 0.0, 50.0])):
        m = cls()
        m.update_state(t, p, sample_weight=w)
        assert m.result() == pytest.approx(np.dot(per, w) / 4) and m.direction == "down"
    r = M.RootMeanSquaredError()
    r.update_state(t.ravel(), p, sample_weight=w)             # (n,) against (n, 1) aligned
    assert r.result() == pytest.approx(np.sqrt(5 / 4))
    r.update_state([[0.0]], [[3.0]])
    assert r.result() == pytest.approx(np.sqrt((5 + 9) / 5))


def test_r2_score_against_the_closed_form():
    rng = np.random.default_rng(2)
    t, p, w = rng.normal(size=(20, 3)), rng.normal(size=(20, 3)), rng.random(20)
    m = M.R2Score(class_aggregation=None)
    m.update_state(t[:7], p[:7], sample_weight=w[:7])
    m.update_state(t[7:], p[7:], sample_weight=w[7:])
    mean = (w[:, None] * t).sum(0) / w.sum()
    ref = 1 - (w[:, None] * (t - p) ** 2).sum(0) / (w[:, None] * (t - mean) ** 2).sum(0)
    assert np.allclose(m.result(), ref, rtol=1e-10)
    u = M.R2Score()
    u.update_state(t, p)
    plain = 1 - ((t - p) ** 2).sum(0) / ((t - t.mean(0)) ** 2).sum(0)
    assert u.result() == pytest.approx(plain.mean())
    v = M.R2Score(class_aggregation="variance_weighted_average")
    v.update_state(t, p)
    var = ((t - t.mean(0)) ** 2).sum(0)
    assert v.result() == pytest.approx((var * plain).sum() / var.sum())
    adj = M.R2Score(num_regressors=4)
    adj.update_state(t, p)
    n = t.size                                          # Keras counts every element
    assert adj.result() == pytest.approx(1 - (1 - plain.mean()) * (n - 1) / (n - 4 - 1))
    with pytest.raises(ValueError, match="R2Score: class_aggregation must be one of"):
        M.R2Score(class_aggregation="mean")


# ---- top-k accuracies -------------------------------------------------------------------------
def test_top_k_accuracies_count_ties_with_the_kth_value():
    p = np.array([[0.1, 0.5, 0.4, 0.0], [0.3, 0.3, 0.3, 0.1], [0.7, 0.2, 0.1, 0.0]])
    ids = np.array([2, 2, 3])                            # in top 2; tied with 2nd; not
    assert np.array_equal(M.sparse_top_k_categorical_accuracy(ids, p, k=2), [1, 1, 0])
    assert np.array_equal(M.top_k_categorical_accuracy(np.eye(4)[ids], p, k=2), [1, 1, 0])
    m = M.SparseTopKCategoricalAccuracy(k=2)
    m.update_state(ids.reshape(-1, 1), p, sample_weight=[1.0, 1.0, 2.0])
    assert m.result() == pytest.approx(2 / 4) and m.name == "sparse_top_k_categorical_accuracy"
    assert M.TopKCategoricalAccuracy(k=1)(np.eye(4)[ids], p) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r"sparse_top_k_categorical_accuracy: label 4 is "
                                         r"outside \[0, 4\)"):
        M.sparse_top_k_categorical_accuracy([4, 0, 1], p)
    with pytest.raises(ValueError, match="k must be an integer in"):
        M.TopKCategoricalAccuracy(k=0)


# ---- confusion-matrix metrics -----------------------------------------------------------------
Y = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=float)
P = np.array([0.9, 0.8, 0.6, 0.3, 0.2, 0.55, 0.7, 0.1])
W = np.array([1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 3.0, 1.0])


def _counts(thr, w=None):
    w = np.ones_like(Y) if w is None else w
    pos = thr < P
    return ((w * (pos & (Y == 1))).sum(), (w * (pos & (Y == 0))).sum(),
            (w * (~pos & (Y == 0))).sum(), (w * (~pos & (Y == 1))).sum())


def test_precision_and_recall_at_thresholds_with_weights():
    tp, fp, _, fn = _counts(0.5)               # tp 3 (0.9, 0.6, 0.7), fp 2 (0.8, 0.55), fn 1
    assert (tp, fp, fn) == (3, 2, 1)
    pr, rc = M.Precision(), M.Recall()
    pr.update_state(Y, P)
    rc.update_state(Y, P)
    assert pr.result() == pytest.approx(3 / 5) and rc.result() == pytest.approx(3 / 4)
    multi = M.Precision(thresholds=[0.25, 0.65])
    multi.update_state(Y[:4], P[:4], sample_weight=W[:4])
    multi.update_state(Y[4:], P[4:], sample_weight=W[4:])
    expect = [_counts(t, W)[0] / (_counts(t, W)[0] + _counts(t, W)[1]) for t in (0.25, 0.65)]
    assert np.allclose(multi.result(), expect)
    empty = M.Recall()
    empty.update_state([0, 0], [0.9, 0.1])
    assert empty.result() == 0.0                                     # divide_no_nan


def test_precision_top_k_and_recall_class_id():
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=float)
    p = np.array([[0.2, 0.5, 0.3], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])
    top1 = M.Precision(top_k=1)                   # the argmax only: hits 1, 0, 1 of 3
    top1.update_state(y, p)
    assert top1.result() == pytest.approx(2 / 3)
    cls0 = M.Recall(class_id=0, thresholds=0.05)  # column 0: label only in row 1, p = 0.1
    cls0.update_state(y, p)
    assert cls0.result() == 1.0


def test_auc_roc_and_pr_against_the_riemann_sums_of_the_counts():
    m = 9
    thr = np.array([-1e-7] + [(i + 1) / (m - 1) for i in range(m - 2)] + [1 + 1e-7])
    c = np.array([_counts(t, W) for t in thr])          # (m, 4): tp fp tn fn
    tp, fp, tn, fn = c.T
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    roc = np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)
    auc = M.AUC(num_thresholds=m)
    auc.update_state(Y, P, sample_weight=W)
    assert auc.result() == pytest.approx(roc, rel=1e-12)
    prec = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), 0.0)
    for method, h in (("minoring", np.minimum(prec[:-1], prec[1:])),
                      ("majoring", np.maximum(prec[:-1], prec[1:]))):
        pr = M.AUC(num_thresholds=m, curve="PR", summation_method=method)
        pr.update_state(Y, P, sample_weight=W)
        assert pr.result() == pytest.approx(np.sum((tpr[:-1] - tpr[1:]) * h), rel=1e-12)
    # PR interpolation (Davis & Goadrich): integrate precision along the line joining steps
    ref = 0.0
    for i in range(m - 1):
        dtp, pos0, pos1 = tp[i] - tp[i + 1], tp[i] + fp[i], tp[i + 1] + fp[i + 1]
        if pos0 - pos1 <= 0 or tp[i + 1] + fn[i + 1] <= 0:
            continue
        slope = dtp / (pos0 - pos1)
        ratio = pos0 / pos1 if pos0 > 0 and pos1 > 0 else 1.0
        ref += slope * (dtp + (tp[i + 1] - slope * pos1) * np.log(ratio)) / (tp[i + 1] + fn[i + 1])
    pr = M.AUC(num_thresholds=m, curve="PR")
    pr.update_state(Y, P, sample_weight=W)
    assert pr.result() == pytest.approx(ref, rel=1e-12)
    logits = M.AUC(num_thresholds=m, from_logits=True)
    logits.update_state(Y, np.log(P / (1 - P)), sample_weight=W)
    assert logits.result() == pytest.approx(roc, rel=1e-9)
    perfect = M.AUC()
    perfect.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect.result() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="AUC: curve must be one of"):
        M.AUC(curve="DET")


def test_f1_score_average_modes_against_the_counts():
    y = np.eye(3)[[0, 1, 2, 2, 1, 0]]
    p = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6],
                  [0.4, 0.3, 0.3], [0.5, 0.1, 0.4]])
    w = np.array([1.0, 2.0, 1.0, 1.0, 0.5, 1.0])
    pred = (p == p.max(1, keepdims=True)).astype(float)
    tp, fp, fn = [((a * w[:, None]).sum(0)) for a in (pred * y, pred * (1 - y), (1 - pred) * y)]
    eps = 1e-7

    def f1(tp, fp, fn):
        pr, rc = tp / (tp + fp + eps), tp / (tp + fn + eps)
        return 2 * pr * rc / (pr + rc + eps)
    per_class = f1(tp, fp, fn)
    support = (y * w[:, None]).sum(0)
    expect = {None: per_class, "macro": per_class.mean(),
              "weighted": (per_class * support / (support.sum() + eps)).sum(),
              "micro": f1(tp.sum(), fp.sum(), fn.sum())}
    for average, ref in expect.items():
        m = M.F1Score(average=average)
        m.update_state(y[:3], p[:3], sample_weight=w[:3])
        m.update_state(y[3:], p[3:], sample_weight=w[3:])
        assert np.allclose(m.result(), ref, rtol=1e-12), average
    thr = M.F1Score(average="micro", threshold=0.45)
    thr.update_state(y, p)
    hard = (p > 0.45).astype(float)
    assert thr.result() == pytest.approx(f1((hard * y).sum(), (hard * (1 - y)).sum(),
                                            ((1 - hard) * y).sum()))
    with pytest.raises(ValueError, match="F1Score: average must be one of"):
        M.F1Score(average="samples")


def test_new_metric_names_configs_and_directions():
    for name, cls in (("precision", M.Precision), ("Recall", M.Recall), ("AUC", M.AUC),
                      ("f1_score", M.F1Score), ("r2_score", M.R2Score),
                      ("root_mean_squared_error", M.RootMeanSquaredError),
                      ("mse", M.MeanSquaredError), ("mape", M.MeanAbsolutePercentageError),
                      ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy),
                      ("SparseTopKCategoricalAccuracy", M.SparseTopKCategoricalAccuracy),
                      ("sum", M.Sum), ("mean", M.Mean)):
        m = M.get(name)
        assert type(m) is cls
        back = M.deserialize(M.serialize(m))
        assert type(back) is cls and back.get_config() == m.get_config()
    for cls in (M.Precision, M.Recall, M.AUC, M.F1Score, M.R2Score):
        assert cls().direction == "up"
    assert M.RootMeanSquaredError().direction == "down"


# ---- optional oracle: Keras 3 on the torch backend --------------------------------------------
_KERAS_METRICS = """
d = np.load(sys.argv[1])
M = keras.metrics
def run(m, t, p, w=None):
    m.update_state(t, p, sample_weight=w)
    return np.asarray(m.result()).tolist()
yb, pb, wb, oh, p, w, t = (d[k] for k in ("yb", "pb", "wb", "oh", "p", "w", "t"))
out = {"precision": run(M.Precision(thresholds=[0.3, 0.6]), yb, pb, wb),
       "recall": run(M.Recall(), yb, pb, wb), "precision_topk": run(M.Precision(top_k=2), oh, p),
       "auc": run(M.AUC(), yb, pb, wb), "auc_pr": run(M.AUC(curve="PR"), yb, pb, wb),
       "auc_pr_minoring": run(M.AUC(curve="PR", summation_method="minoring"), yb, pb),
       "f1_none": run(M.F1Score(), oh, p, w), "f1_weighted": run(M.F1Score("weighted"), oh, p, w),
       "f1_micro": run(M.F1Score("micro", threshold=0.3), oh, p),
       "rmse": run(M.RootMeanSquaredError(), t, p, w), "r2": run(M.R2Score(), t, p, w),
       "topk": run(M.TopKCategoricalAccuracy(k=2), oh, p, w),
       "mape": run(M.MeanAbsolutePercentageError(), t, p, w)}
json.dump(out, open(sys.argv[2], "w"))
"""


def test_keras_oracle_metrics(tmp_path):
    rng = np.random.default_rng(8)
    d = {"yb": (rng.random(60) > 0.5), "pb": rng.random(60), "wb": rng.random(60),
         "oh": np.eye(4)[rng.integers(0, 4, 12)], "p": rng.random((12, 4)), "w": rng.random(12),
         "t": rng.random((12, 4))}
    d = {k: v.astype(np.float32) for k, v in d.items()}
    np.savez(tmp_path / "in.npz", **d)
    run_keras(_KERAS_METRICS, str(tmp_path / "in.npz"), str(tmp_path / "out.json"))
    ref = json.loads((tmp_path / "out.json").read_text())

    def run(m, t, p, w=None):
        m.update_state(t, p, sample_weight=w)
        return np.asarray(m.result())
    ours = {"precision": run(M.Precision(thresholds=[0.3, 0.6]), d["yb"], d["pb"], d["wb"]),
            "recall": run(M.Recall(), d["yb"], d["pb"], d["wb"]),
            "precision_topk": run(M.Precision(top_k=2), d["oh"], d["p"]),
            "auc": run(M.AUC(), d["yb"], d["pb"], d["wb"]),
            "auc_pr": run(M.AUC(curve="PR"), d["yb"], d["pb"], d["wb"]),
            "auc_pr_minoring": run(M.AUC(curve="PR", summation_method="minoring"), d["yb"],
                                   d["pb"]),
            "f1_none": run(M.F1Score(), d["oh"], d["p"], d["w"]),
            "f1_weighted": run(M.F1Score("weighted"), d["oh"], d["p"], d["w"]),
            "f1_micro": run(M.F1Score("micro", threshold=0.3), d["oh"], d["p"]),
            "rmse": run(M.RootMeanSquaredError(), d["t"], d["p"], d["w"]),
            "r2": run(M.R2Score(), d["t"], d["p"], d["w"]),
            "topk": run(M.TopKCategoricalAccuracy(k=2), d["oh"], d["p"], d["w"]),
            "mape": run(M.MeanAbsolutePercentageError(), d["t"], d["p"], d["w"])}
    for k, v in ours.items():
        assert np.allclose(v, ref[k], rtol=2e-5, atol=1e-6), (k, v, ref[k])


class _TruePositives(M.Metric):
    """The Keras 3 guide's custom metric: variables made after ``super().__init__`` and a
    ``reset_state`` that needs them."""

    def __init__(self, name="true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = mg.ops.cast(mg.ops.logical_and(mg.ops.equal(mg.ops.cast(y_true, "bool"), True),
                                              mg.ops.greater(y_pred, 0.5)), self.dtype)
        if sample_weight is not None:
            weights = mg.ops.cast(mg.ops.reshape(sample_weight, (-1, 1)), self.dtype)
            hits = mg.ops.multiply(hits, weights)
        self.tp.assign_add(mg.ops.sum(hits))

    def result(self):
        return self.tp.value

    def reset_state(self):
        self.tp.assign(0.0)


def test_a_keras_style_metric_subclass_with_add_variable():
    """It used to fail in Metric.__init__ (reset_state ran before the variable existed) and
    Metric had no add_variable."""
    y = np.array([[1.0], [0.0], [1.0], [1.0]])
    p = np.array([[0.9], [0.8], [0.2], [0.7]])
    m = _TruePositives()
    assert m.dtype == "float32" and m.variables == [m.tp] and not m.tp.trainable
    m.update_state(y, p)
    m.update_state(y, p, sample_weight=np.array([0.5, 1.0, 1.0, 2.0]))
    assert float(m.result()) == 2 + (0.5 + 2.0)
    m.reset_state()
    assert float(m.result()) == 0.0
    v = M.Metric(name="plain").add_variable(shape=(2,), initializer="ones")
    v.assign_sub([1.0, 0.5])
    np.testing.assert_array_equal(v.data, [0.0, 0.5])
    mg.random.seed(0)
    model = mg.Sequential([mg.Input((1,)), mg.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=[_TruePositives()])
    logs = model.evaluate(p, y, verbose=0, return_dict=True)
    want = float(((model.predict(p, verbose=0) > 0.5) & (y == 1)).sum())
    assert logs["true_positives"] == want
