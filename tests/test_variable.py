"""minigrad.Variable (Keras 3's keras.Variable): construction, assignment and versions, use
in ops, tracking as a layer's weight, training by fit, saving."""
import numpy as np
import pytest
from replays import count_replays

import minigrad as mg
from minigrad.models import load_model


def test_from_values_takes_their_shape_and_dtype_and_copies_them():
    v = mg.Variable([1.0, 2.0])
    assert isinstance(v, mg.Parameter) and isinstance(v, mg.Tensor)
    assert v.shape == (2,) and v.dtype == np.float32 and v.ndim == 1
    assert v.trainable and v.requires_grad and v.value is v
    src = np.array([[1.0, 2.0]], dtype=np.float64)
    w = mg.Variable(src, name="w")
    assert w.dtype == np.float64 and w.name == "w" and w.path == "w"
    src[0, 0] = 9.0
    assert w.data[0, 0] == 1.0                      # a copy, as Keras's tensor conversion
    assert mg.Variable([1, 2], trainable=False).dtype == np.int32      # Keras: ints -> int32
    assert mg.Variable(mg.Tensor([3.0]), dtype="float64").dtype == np.float64
    assert mg.backend.Variable is mg.Variable


def test_default_names_follow_keras():
    mg.backend.clear_session()
    assert [mg.Variable(0.0).name for _ in range(3)] == ["variable", "variable_1", "variable_2"]
    with pytest.raises(ValueError, match="without '/'"):
        mg.Variable(0.0, name="a/b")


def test_from_an_initializer_with_a_shape():
    mg.random.seed(0)
    ones = mg.Variable("ones", shape=(2, 3))
    np.testing.assert_array_equal(ones.data, np.ones((2, 3), np.float32))
    const = mg.Variable(mg.initializers.Constant(3.0), shape=(2,), dtype="float64")
    assert const.dtype == np.float64 and np.all(const.data == 3.0)
    lam = mg.Variable(lambda shape, dtype=None: np.full(shape, 0.5, dtype), shape=[4])
    assert lam.shape == (4,) and np.all(lam.data == 0.5)
    mg.random.seed(0)
    a = mg.Variable("glorot_uniform", shape=(20, 10)).data
    limit = np.sqrt(6 / 30)
    assert np.abs(a).max() <= limit and a.std() > limit / 3


def test_bad_combinations_raise_naming_the_variable():
    with pytest.raises(ValueError, match=r"Variable 'k': an initializer .* needs shape="):
        mg.Variable("zeros", name="k")
    with pytest.raises(ValueError, match=r"Variable 'k': .*fully defined.*None"):
        mg.Variable("zeros", shape=(None, 2), name="k")
    with pytest.raises(ValueError, match=r"Variable 'k': the initial value has shape \(2,\), "
                                         r"but shape=\(3,\)"):
        mg.Variable([1.0, 2.0], shape=(3,), name="k")
    with pytest.raises(ValueError, match=r"Variable 'k': the initializer .* returned shape"):
        mg.Variable(lambda shape, dtype=None: np.zeros(2), shape=(3,), name="k")
    with pytest.raises(ValueError, match=r"Variable 'k': a variable of dtype int32 cannot be "
                                         r"trainable"):
        mg.Variable([1, 2], name="k")
    with pytest.raises(ValueError, match="Variable 'k': aggregation"):
        mg.Variable(1.0, aggregation="max", name="k")
    with pytest.raises(ValueError, match="Unknown initializer|unknown initializer|valid"):
        mg.Variable("no_such_initializer", shape=(2,), name="k")
    with pytest.raises(TypeError, match="Variable 'k'"):
        mg.Variable(object(), name="k")


def test_assign_writes_in_place_bumps_the_version_and_casts():
    v = mg.Variable(np.zeros((2, 2), np.float32), name="v")
    data = v.data
    assert v.version == 0
    assert v.assign(np.arange(4.0).reshape(2, 2)) is v
    assert v.data is data and v.dtype == np.float32 and v.version == 1
    np.testing.assert_array_equal(v.data, [[0, 1], [2, 3]])
    v.assign_add(mg.Tensor(np.ones((2, 2), np.float32)))
    v.assign_sub(0.5)
    assert v.version == 3
    np.testing.assert_array_equal(v.data, [[0.5, 1.5], [2.5, 3.5]])
    with pytest.raises(ValueError, match=r"Variable 'v': cannot assign a value of shape \(3,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Variable 'v'"):
        v.assign_add(np.ones(3))
    snapshot = v.numpy()
    v.assign(np.zeros((2, 2)))
    assert snapshot[0, 0] == 0.5                    # numpy() is a copy, as Keras's


def test_a_variable_is_a_tensor_in_ops_and_gets_gradients():
    v = mg.Variable([1.0, 2.0, 3.0], name="v")
    y = (v * v).sum() + (2.0 * v).sum() + (v @ np.ones(3, np.float32))
    assert isinstance(y, mg.Tensor)
    y.backward()
    np.testing.assert_allclose(v.grad, 2 * v.data + 3.0)
    out = v - np.ones(3, np.float32)
    assert isinstance(out, mg.Tensor) and not isinstance(out, mg.Variable)
    z = v * v                                       # saves v for backward
    v.assign_add(1.0)
    with pytest.raises(RuntimeError, match=r"'v' was modified in place.*version 1"):
        z.sum().backward()
    v.trainable = False
    assert not v.requires_grad and (v * 2.0).requires_grad is False


class Scale(mg.layers.Layer):
    """y = x * scale + offset with Variables set as attributes, and a bias from add_weight."""

    def __init__(self, frozen_offset=True, **kwargs):
        super().__init__(**kwargs)
        self.frozen_offset = frozen_offset
        self.scale = mg.Variable(np.full((3,), 2.0, np.float32), name="scale")
        self.offset = mg.Variable(np.full((3,), 0.5, np.float32), name="offset",
                                  trainable=not frozen_offset)

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(3,), initializer="zeros", name="bias")

    def call(self, x):
        return x * self.scale + self.offset + self.bias

    def get_config(self):
        return {**super().get_config(), "frozen_offset": self.frozen_offset}


def test_variables_set_as_attributes_are_tracked_in_order():
    layer = Scale()
    assert layer.weights == [layer.scale, layer.offset]
    layer(np.ones((2, 3), np.float32))
    assert [w.name for w in layer.weights] == ["scale", "offset", f"{layer.name}/bias"]
    assert layer.trainable_weights == [layer.scale, layer.bias]
    assert layer.non_trainable_weights == [layer.offset]
    layer.scale = layer.scale             # assigned again: listed once
    assert len(layer.weights) == 3
    layer.extra = [mg.Variable(1.0, name="e0"), {"k": mg.Variable(2.0, name="e1")}]
    assert [w.name for w in layer.weights][3:] == ["e0", "e1"]
    del layer.extra                       # only a direct attribute is untracked by del
    del layer.scale
    assert "scale" not in [w.name for w in layer.weights]
    layer.trainable = False
    assert layer.trainable_weights == [] and not layer.weights[0].requires_grad
    layer.trainable = True
    assert not layer.offset.trainable     # created frozen, stays frozen


def test_freezing_the_layer_freezes_its_trainable_variables():
    layer = Scale(frozen_offset=False)
    layer.trainable = False
    assert not layer.scale.trainable and not layer.offset.trainable
    layer.trainable = True
    assert layer.scale.trainable and layer.offset.trainable


def test_a_variable_before_super_init_raises():
    class Early(mg.layers.Layer):
        def __init__(self):
            self.v = mg.Variable(1.0)
            super().__init__()

    with pytest.raises(RuntimeError, match="Early: a Variable was assigned before Layer"):
        Early()


def test_a_variable_shared_by_two_layers_is_one_weight_of_the_model():
    shared = mg.Variable(np.ones(3, np.float32), name="shared")

    class Uses(mg.layers.Layer):
        def __init__(self, v, **kwargs):
            super().__init__(**kwargs)
            self.v = v

        def call(self, x):
            return x * self.v

    model = mg.Sequential([mg.layers.Input((3,)), Uses(shared), Uses(shared)])
    assert model.weights == [shared]
    assert model.layers[1].weights == [shared]


def _data():
    r = np.random.default_rng(0)
    x = r.normal(size=(64, 3)).astype(np.float32)
    return x, 3.0 * x - 1.0


def test_fit_trains_a_trainable_variable_and_not_a_frozen_one():
    mg.random.seed(0)
    x, y = _data()
    model = mg.Sequential([mg.layers.Input((3,)), Scale()])
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=0.05), loss="mse")
    layer = model.layers[0]
    scale, offset = layer.scale.data.copy(), layer.offset.data.copy()
    hist = model.fit(x, y, batch_size=16, epochs=60, verbose=0)
    assert hist.history["loss"][-1] < 0.01 * hist.history["loss"][0]
    np.testing.assert_allclose(layer.scale.data, 3.0, atol=0.05)     # y = 3x - 1 learned
    np.testing.assert_allclose(layer.bias.data, -1.5, atol=0.05)     # with offset held at 0.5
    assert not np.allclose(scale, 3.0)
    np.testing.assert_array_equal(layer.offset.data, offset)
    assert layer.offset.version == 0 and layer.scale.version > 0


def test_save_and_load_a_model_whose_custom_layer_holds_variables(tmp_path):
    mg.random.seed(1)
    x, y = _data()
    model = mg.Sequential([mg.layers.Input((3,)), Scale()])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    model.layers[0].offset.assign([0.1, 0.2, 0.3])
    path = tmp_path / "m.keras"
    model.save(path)
    back = load_model(path, custom_objects={"Scale": Scale})
    layer = back.layers[0]
    for a, b in zip(back.weights, model.weights):
        np.testing.assert_array_equal(a.data, b.data)
    assert isinstance(layer.scale, mg.Variable) and not layer.offset.trainable
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    # training continues identically
    mg.random.seed(2)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    mg.random.seed(2)
    back.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_array_equal(back.layers[0].scale.data, model.layers[0].scale.data)


def test_a_captured_step_trains_variables_as_the_eager_step(monkeypatch):
    replays = count_replays(monkeypatch)
    x, y = _data()

    def train(jit):
        mg.random.seed(4)
        model = mg.Sequential([mg.layers.Input((3,)), Scale(frozen_offset=True)])
        model.compile(optimizer="adam", loss="mse", jit_compile=jit)
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)       # 16 steps
        return model

    eager = train(False)
    captured = train(True)
    assert replays[0] == 16 - 3
    for a, b in zip(captured.weights, eager.weights):
        np.testing.assert_array_equal(a.data, b.data, err_msg=a.name)
    assert captured.layers[0].offset.version == 0


class _Counter(mg.layers.Layer):
    """Counts its training calls in an integer Variable (assigned in call)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.count = mg.Variable(0, trainable=False, dtype="int32", name="count")

    def call(self, x, training=False):
        if training:
            self.count.assign_add(1)
        return x


def test_an_integer_variable_saves_and_loads(tmp_path):
    inp = mg.Input((4,))
    model = mg.Model(inp, mg.layers.Dense(2)(_Counter()(inp)))
    model.layers[1].count.assign(5)
    model.save(tmp_path / "c.keras")
    back = load_model(tmp_path / "c.keras", custom_objects={"_Counter": _Counter})
    assert back.layers[1].count.numpy() == 5 and back.layers[1].count.dtype == np.int32
    model.save_weights(tmp_path / "c.weights.h5")
    model.layers[1].count.assign(0)
    model.load_weights(tmp_path / "c.weights.h5")
    assert model.layers[1].count.numpy() == 5


def test_building_a_model_changes_no_variable():
    """The stand-in calls that find output shapes skip assigns (Keras's StatelessScope)."""
    layer = _Counter()
    layer(mg.Input((None, 3)), training=True)
    assert layer.count.numpy() == 0


def test_an_assign_in_call_is_never_skipped_by_a_captured_step():
    """jit_compile=True refuses a step that assigns outside the ops (a replay would skip
    it), naming the variable; "auto" runs the user's layer eagerly and counts every step."""
    x = np.random.default_rng(0).normal(size=(64, 5)).astype("float32")
    y = np.random.default_rng(1).normal(size=(64, 1)).astype("float32")
    for jit in ("auto", True):
        inp = mg.Input((5,))
        counter = _Counter()
        model = mg.Model(inp, mg.layers.Dense(1)(counter(inp)))
        model.compile(optimizer="adam", loss="mse", jit_compile=jit)
        if jit is True:
            with pytest.raises(ValueError, match="'count' changed in place .*outside the ops"):
                model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        else:
            model.fit(x, y, batch_size=16, epochs=3, verbose=0)
            assert counter.count.numpy() == 12
