"""Flat buffers owned by the optimizer (minigrad._flat): variables become views of one buffer
per dtype, a step is one kernel call per pack, and every result equals the per-variable
update bit for bit."""
import numpy as np
import pytest
from optimizer_zoo import OPTIMIZERS

import minigrad as mg
from minigrad import _flat
from minigrad import layers as L
from minigrad.tensor import Parameter


def _model(dtype="float32"):
    mg.random.seed(0)
    return mg.models.Sequential([L.Input((6,)), L.Dense(5, activation="tanh", dtype=dtype),
                                 L.Dense(3, activation="softmax", dtype=dtype)])


def _data(dtype=np.float32):
    r = np.random.default_rng(0)
    return r.normal(size=(16, 6)).astype(dtype), r.integers(0, 3, 16)


def _train(opt, steps=5, dtype="float32", packed=True, monkeypatch=None, **compile_kw):
    if not packed:
        monkeypatch.setattr(_flat, "packable", lambda var: False)
    model = _model(dtype)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", **compile_kw)
    x, y = _data(np.dtype(dtype))
    for _ in range(steps):
        model.train_on_batch(x, y)
    if not packed:
        monkeypatch.undo()
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_packed_updates_equal_per_variable_updates_bit_for_bit(name, dtype, monkeypatch):
    packed = _train(OPTIMIZERS[name](), dtype=dtype)
    plain = _train(OPTIMIZERS[name](), dtype=dtype, packed=False, monkeypatch=monkeypatch)
    assert packed.optimizer._packs and not plain.optimizer._packs
    for a, b in zip(packed.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(packed.optimizer.variables, plain.optimizer.variables):
        np.testing.assert_array_equal(a, b)


def test_variables_are_views_of_one_buffer_and_a_step_is_one_call(monkeypatch):
    model = _train(mg.optimizers.Adam(1e-2), steps=1)
    opt = model.optimizer
    (pack, members), = opt._packs
    assert len(members) == 4
    for j, w in enumerate(model.trainable_weights):
        assert w.data is pack.pviews[j] and np.shares_memory(w.data, pack.params)
        assert w.grad is pack.gviews[j]                 # dW, db written in place by Linear
    calls = []
    real = type(opt)._update

    def counting(self, w, g, slots, hp):
        calls.append(w.size)
        return real(self, w, g, slots, hp)
    monkeypatch.setattr(type(opt), "_update", counting)
    x, y = _data()
    model.train_on_batch(x, y)
    assert calls == [pack.params.size]                  # one call over all four variables
    assert all(w.version >= 2 for w in model.trainable_weights)   # versions still bump


def test_one_pack_per_dtype():
    w32 = Parameter(np.ones(3, np.float32))
    w64 = Parameter(np.ones(4))
    v32 = Parameter(np.zeros((2, 2), np.float32))
    opt = mg.optimizers.SGD(0.5)
    opt.build([w32, w64, v32])
    dtypes = sorted(str(p.params.dtype) for p, _ in opt._packs)
    assert dtypes == ["float32", "float64"]
    opt.apply_gradients([(np.ones(3, np.float32), w32), (np.ones(4), w64),
                         (np.ones((2, 2), np.float32), v32)])
    np.testing.assert_array_equal(w32.data, [0.5] * 3)
    np.testing.assert_array_equal(w64.data, [0.5] * 4)
    np.testing.assert_array_equal(v32.data, [[-0.5, -0.5]] * 2)


def test_packed_slots_start_at_their_initial_values_and_are_views_of_the_pack():
    w32 = Parameter(np.ones((2, 3), np.float32))
    w64 = Parameter(np.ones(4))
    v32 = Parameter(np.zeros(5, np.float32))
    opt = mg.optimizers.Ftrl(0.1, initial_accumulator_value=0.25)
    opt.build([w32, w64, v32])
    assert len(opt._packs) == 2
    assert dict(opt._slot_specs())["accumulator"] == 0.25
    for pack, members in opt._packs:
        for i in members:
            for k, (_, init) in enumerate(opt._slot_specs()):
                slot = opt._slots[i][k]
                assert np.shares_memory(slot, pack.slots[k])
                assert slot.dtype == pack.params.dtype
                np.testing.assert_array_equal(slot, np.full(opt._vars[i].data.size, init))
    # the layout the state getter reports: accumulator 0.25, linear 0, per variable
    state = opt.variables[1:]
    expected = [np.full(v.data.shape, init) for v in (w32, w64, v32)
                for _, init in opt._slot_specs()]
    assert len(state) == len(expected)
    for a, b in zip(state, expected):
        np.testing.assert_array_equal(a, b)


def test_a_variable_packed_by_another_optimizer_is_not_moved():
    w = Parameter(np.array([1.0, 2.0]))
    first, second = mg.optimizers.SGD(0.1), mg.optimizers.SGD(1.0)
    first.build([w])
    data = w.data
    second.build([w])
    assert w.data is data and not second._packs        # left in first's buffer
    second.apply_gradients([(np.array([1.0, 1.0]), w)])
    first.apply_gradients([(np.array([1.0, 1.0]), w)])
    np.testing.assert_allclose(w.data, [1.0 - 1.0 - 0.1, 2.0 - 1.0 - 0.1])
    assert w.data is data


def test_gradients_are_disjoint_and_a_held_gradient_is_never_overwritten():
    model = _train(mg.optimizers.SGD(0.1), steps=1)
    (pack, _), = model.optimizer._packs
    grads = [w.grad for w in model.trainable_weights]
    for a in range(len(grads)):
        for b in range(a + 1, len(grads)):
            assert not np.shares_memory(grads[a], grads[b])
    held = model.trainable_weights[0].grad               # a user keeps last step's gradient
    copy = held.copy()
    x, y = _data()
    model.train_on_batch(x * 2.0, y)
    np.testing.assert_array_equal(held, copy)            # not reused while someone holds it
    assert model.trainable_weights[0].grad is not held


def test_set_weights_assign_and_load_copy_into_the_views(tmp_path):
    model = _train(mg.optimizers.Adam(1e-2), steps=2)
    (pack, _), = model.optimizer._packs
    views = [w.data for w in model.trainable_weights]
    new = [np.full(w.shape, 0.25, np.float32) for w in model.get_weights()]
    model.set_weights(new)
    assert all(w.data is v for w, v in zip(model.trainable_weights, views))
    np.testing.assert_array_equal(pack.params, 0.25)
    model.trainable_weights[1].assign(np.arange(5, dtype=np.float32))
    np.testing.assert_array_equal(pack.params[30:35], np.arange(5))
    path = tmp_path / "w.weights.h5"
    saved = [a.copy() for a in model.get_weights()]
    model.save_weights(path)
    model.set_weights(new)
    model.load_weights(path)
    assert all(w.data is v for w, v in zip(model.trainable_weights, views))
    for a, b in zip(model.get_weights(), saved):
        np.testing.assert_array_equal(a, b)
    x, y = _data()
    model.train_on_batch(x, y)                           # still trains through the pack
    assert not np.array_equal(model.get_weights()[0], saved[0])


def test_replaced_data_and_partial_steps_fall_back_per_variable(monkeypatch):
    model = _train(mg.optimizers.SGD(0.1), steps=1)
    plain = _train(mg.optimizers.SGD(0.1), steps=1, packed=False, monkeypatch=monkeypatch)
    for m in (model, plain):
        k = m.trainable_weights[0]
        k.data = k.data.copy()                           # no longer the pack's view
        m.layers[1].trainable = False                    # and a step over a subset
    x, y = _data()
    for m in (model, plain):
        m.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mixed_weight_decay_exclusions_match_the_per_variable_update(monkeypatch):
    def make():
        opt = mg.optimizers.AdamW(1e-2, weight_decay=0.2)
        opt.exclude_from_weight_decay(var_names=["bias"])
        return opt
    packed = _train(make())
    plain = _train(make(), packed=False, monkeypatch=monkeypatch)
    for a, b in zip(packed.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_clipped_gradients_are_copied_into_the_views(monkeypatch):
    packed = _train(mg.optimizers.SGD(0.1, clipnorm=0.01))
    plain = _train(mg.optimizers.SGD(0.1, clipnorm=0.01), packed=False, monkeypatch=monkeypatch)
    for a, b in zip(packed.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)
