"""The training step's glue cut down (issue 17 item 3): labels checked once, data checked once,
1/n folded into the softmax cross-entropy kernel, probes tested for listeners, small dX GEMMs
on a contiguous W^T. Each keeps the eager results."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L
from minigrad.models import data_adapters as da
from minigrad.ops import linear as linear_mod
from minigrad.ops.softmax import softmax_cross_entropy
from minigrad.probe import ProbeRecorder


def _ce_reference(z, ids):
    z = z.astype(np.float64)
    e = np.exp(z - z.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    onehot = np.eye(z.shape[1])[ids]
    loss = -np.log(p[np.arange(len(ids)), ids]).mean()
    return loss, (p - onehot) / len(ids)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed_grad", [None, 2.5])
def test_softmax_ce_gradient_with_folded_mean(dtype, seed_grad):
    r = np.random.default_rng(0)
    z = mg.Tensor(r.normal(size=(7, 5)).astype(dtype), requires_grad=True)
    ids = r.integers(0, 5, 7)
    loss = softmax_cross_entropy(z, ids)
    if seed_grad is None:
        loss.backward()
    else:
        loss.backward(np.asarray(seed_grad, dtype=dtype))
    want_loss, want_dz = _ce_reference(z.data, ids)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    assert loss.data == pytest.approx(want_loss, rel=tol)
    np.testing.assert_allclose(z.grad, want_dz * (seed_grad or 1.0), rtol=tol * 10, atol=tol)


def test_checked_ids_skip_only_the_rescan():
    r = np.random.default_rng(1)
    z = r.normal(size=(6, 4)).astype(np.float32)
    ids = r.integers(0, 4, 6)
    a = softmax_cross_entropy(mg.Tensor(z), ids)
    b = softmax_cross_entropy(mg.Tensor(z), ids.astype(np.int64), ids_checked=True)
    assert a.data == b.data
    # anything but int64 ids of the batch shape is still checked
    with pytest.raises(ValueError, match="outside"):
        softmax_cross_entropy(mg.Tensor(z), np.full(6, 9.0), ids_checked=True)


def test_sparse_loss_checks_its_labels_once(monkeypatch):
    import sys

    import minigrad._labels as lab_mod
    import minigrad.losses as losses_mod
    softmax_mod = sys.modules["minigrad.ops.softmax"]   # minigrad.ops.softmax is the function
    calls = []
    real = lab_mod.class_ids

    def counting(owner, labels, k):
        calls.append(owner)
        return real(owner, labels, k)
    monkeypatch.setattr(losses_mod, "class_ids", counting)
    monkeypatch.setattr(softmax_mod, "class_ids", counting)
    model = mg.models.Sequential([L.Input((4,)), L.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.train_on_batch(np.ones((5, 4), np.float32), np.array([0, 1, 2, 1, 0]))
    assert calls == ["sparse_categorical_crossentropy"]
    with pytest.raises(ValueError, match="outside"):
        model.train_on_batch(np.ones((5, 4), np.float32), np.array([0, 1, 5, 1, 0]))


class _CountingNumpy:
    """numpy, with every isfinite call's row count recorded."""

    def __init__(self):
        self.rows = []

    def isfinite(self, a, *args, **kwargs):
        self.rows.append(len(a) if np.ndim(a) else 0)
        return np.isfinite(a, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(np, name)


def test_validation_split_parts_are_not_scanned_again(monkeypatch):
    spy = _CountingNumpy()
    monkeypatch.setattr(da, "np", spy)
    model = mg.models.Sequential([L.Input((3,)), L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    r = np.random.default_rng(2)
    x, y = r.random((50, 3), dtype=np.float32), r.random((50, 2), dtype=np.float32)
    model.fit(x, y, validation_split=0.2, epochs=1, verbose=0)
    assert sorted(spy.rows) == [50, 50]          # x and y, once each, before the split
    spy.rows.clear()
    model.fit(x, y, validation_split=0.2, epochs=1, verbose=0)   # a new call checks again
    assert sorted(spy.rows) == [50, 50]


def test_nan_is_still_found_with_validation_split():
    model = mg.models.Sequential([L.Input((3,)), L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((10, 3), np.float32)
    x[9, 1] = np.nan                              # in the validation rows
    with pytest.raises(ValueError, match="NaN or inf in 1 of 10 rows"):
        model.fit(x, np.ones((10, 2), np.float32), validation_split=0.2, verbose=0)


def test_train_on_batch_still_checks_every_call():
    model = mg.models.Sequential([L.Input((3,)), L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 3), np.float32)
    model.train_on_batch(x, np.ones((4, 2), np.float32))
    x[0, 0] = np.inf                              # the same array, changed in place
    with pytest.raises(ValueError, match="NaN or inf"):
        model.train_on_batch(x, np.ones((4, 2), np.float32))


@pytest.mark.parametrize("shape", [(64, 64), (2048, 10), (300, 200)])
def test_dx_gemm_with_and_without_the_transposed_copy(shape):
    """dX = dz W^T, whichever side of _COPY_WT_MAX the kernel falls on."""
    r = np.random.default_rng(3)
    i, o = shape
    x = mg.Tensor(r.normal(size=(16, i)), requires_grad=True)
    w = mg.Tensor(r.normal(size=(i, o)), requires_grad=True)
    y = linear_mod.linear(x, w)
    g = r.normal(size=(16, o))
    y.backward(g)
    np.testing.assert_allclose(x.grad, g @ w.data.T, rtol=1e-12)
    assert (w.data.size <= linear_mod._COPY_WT_MAX) == (i * o <= 32768)


def test_probes_still_reach_a_listener():
    model = mg.models.Sequential([L.Input((3,)), L.Dense(4, activation="relu", name="h"),
                                  L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with ProbeRecorder() as rec:
        model.train_on_batch(np.ones((5, 3), np.float32), np.ones((5, 2), np.float32))
    assert rec.outputs["h"].shape == (5, 4) and rec.deltas["h"].shape == (5, 4)
