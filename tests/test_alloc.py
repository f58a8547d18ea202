"""Staggered buffers (minigrad._alloc): large weights, gradients and optimizer slots start at
different offsets, hold the right values, and gradients are kept without a copy."""
import numpy as np

import minigrad as mg
from minigrad import _alloc
from minigrad import layers as L
from minigrad.ops.linear import linear

BIG = (1024, 1024)   # 4 MiB of float32: at MIN_BYTES


def test_consecutive_large_buffers_differ_modulo_a_page_and_the_l2_window():
    bufs = [_alloc.empty(BIG, np.float32) for _ in range(6)]
    offs = [_alloc.offset(b) for b in bufs]
    assert all(o % 64 == 0 for o in offs)                    # cache-line aligned
    assert len({o % 4096 for o in offs}) == 6                # distinct L1 set offsets
    assert len(set(offs)) == 6                               # distinct within 64 KiB
    for a, b in zip(offs, offs[1:]):
        assert (b - a) % _alloc._WINDOW == _alloc._STEP


def test_values_shapes_and_small_arrays():
    z = _alloc.zeros(BIG, np.float64)
    assert z.shape == BIG and z.dtype == np.float64 and z.flags.c_contiguous and not z.any()
    f = _alloc.full(1_100_000, 2.5, np.float32)
    assert f.shape == (1_100_000,) and (f == 2.5).all()
    small = _alloc.empty((4, 4), np.float32)
    assert small.base is None                                 # plain numpy below MIN_BYTES
    a = np.random.default_rng(0).random(BIG)
    p = _alloc.place(a)
    assert p is not a and np.array_equal(p, a)
    s = np.ones(3)
    assert _alloc.place(s) is s


def test_matmul_matches_numpy():
    r = np.random.default_rng(1)
    a, b = r.random((512, 300)), r.random((300, 1024))
    out = _alloc.matmul(a, b)
    np.testing.assert_array_equal(out, a @ b)
    assert _alloc.owns(out)
    small = _alloc.matmul(a[:2, :3], b[:3, :2])
    np.testing.assert_array_equal(small, a[:2, :3] @ b[:3, :2])


def test_owns_only_when_nothing_else_refers_to_the_buffer():
    a = _alloc.empty(BIG, np.float32)
    assert _alloc.owns(a)
    view = a[1:]
    assert not _alloc.owns(a)
    del view
    assert _alloc.owns(a)
    assert not _alloc.owns(np.ones(BIG)[1:])                # a float base: not ours


def test_backward_keeps_the_staggered_weight_gradient_without_aliasing():
    r = np.random.default_rng(2)
    x = mg.Tensor(r.random((256, 1024), dtype=np.float32))
    w = mg.tensor.Parameter(r.random(BIG, dtype=np.float32) - 0.5)
    y = linear(x, w, activation="relu")
    g = r.random(y.shape, dtype=np.float32)
    y.backward(g)
    dz = np.where(y.data > 0, g, 0)
    np.testing.assert_allclose(w.grad, x.data.T.astype(np.float64) @ dz, rtol=1e-4)
    assert w.grad.ctypes.data % 64 == 0 and _alloc.owns(w.grad)   # kept, not copied
    y2 = linear(x, w, activation="relu")
    y2.backward(g)                                               # accumulates in place
    np.testing.assert_allclose(w.grad, 2 * (x.data.T.astype(np.float64) @ dz), rtol=1e-4)


def test_weights_and_adam_slots_of_a_large_dense_are_staggered():
    model = mg.models.Sequential([L.Input((1024,)), L.Dense(1024)])
    model.compile(optimizer="adam", loss="mse")
    r = np.random.default_rng(3)
    model.train_on_batch(r.random((8, 1024)), r.random((8, 1024)))
    kernel = model.layers[0].kernel
    slots = model.optimizer._slots[0]
    offs = {_alloc.offset(kernel.data) % 4096} | {_alloc.offset(s) % 4096 for s in slots}
    assert len(offs) == 3
    assert kernel.data.shape == BIG and slots[0].shape == (BIG[0] * BIG[1],)
