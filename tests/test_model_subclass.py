"""Subclassed models (issue 11): attribute tracking in assignment order (lists and dicts too),
``call(inputs, training=None)``, build on first call or ``build(shape)``, save/load through
``get_config`` + ``custom_objects`` / ``register_keras_serializable``, and their errors."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L
from minigrad.models import Model


def rng(seed=0):
    return np.random.default_rng(seed)


class Tower(Model):
    """Dense blocks kept in a list filled after assignment, a dict of heads, a direct
    attribute assigned last."""

    def __init__(self, width=4, depth=2, **kwargs):
        super().__init__(**kwargs)
        self.width, self.depth = width, depth
        self.blocks = []
        for i in range(depth):
            self.blocks.append(L.Dense(width, activation="tanh", name=f"block{i}"))
        self.heads = {"a": L.Dense(2, name="head_a"), "b": L.Dense(1, name="head_b")}
        self.first = L.Dense(width, name="first")
        self.seen_training = []

    def call(self, inputs, training=None):
        self.seen_training.append(training)
        x = self.first(inputs)
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](x)

    def get_config(self):
        return dict(super().get_config(), width=self.width, depth=self.depth)


def test_layers_tracked_in_assignment_order_including_lists_and_dicts():
    model = Tower()
    assert [la.name for la in model.layers] == ["block0", "block1", "head_a", "head_b", "first"]
    model.build((None, 3))
    assert model.built and model.get_layer("first").kernel.shape == (3, 4)
    # weights follow the tracked order; head_b was never called, so it has none
    assert [w.name for w in model.weights] == [
        "block0/kernel", "block0/bias", "block1/kernel", "block1/bias", "head_a/kernel",
        "head_a/bias", "first/kernel", "first/bias"]
    # the diagnostics read the execution order recorded by build
    assert [k for k, _ in model.execution_order()] == ["first", "block0", "block1", "head_a",
                                                       "head_b"]
    model.head_b_alias = model.heads["b"]               # the same layer twice: listed once
    assert [la.name for la in model.layers].count("head_b") == 1
    del model.head_b_alias
    model.blocks = []                                   # reassignment drops the old ones
    assert "block0" not in [la.name for la in model.layers]


def test_forward_matches_numpy_and_training_flag_is_passed():
    mg.random.seed(0)
    model = Tower()
    x = rng(1).normal(size=(5, 3)).astype(np.float32)
    y = model(x, training=True)
    wf, bf, w0, b0, w1, b1, wa, ba = [model.get_layer(n).get_weights()[i]
                                      for n in ("first", "block0", "block1", "head_a")
                                      for i in (0, 1)]
    want = np.tanh(np.tanh((x @ wf + bf) @ w0 + b0) @ w1 + b1) @ wa + ba
    np.testing.assert_allclose(y.data, want, rtol=1e-5, atol=1e-6)
    assert model.seen_training[-1] is True
    model.predict(x, verbose=0)
    assert model.seen_training[-1] is False


def test_builds_on_first_call_and_trains():
    mg.random.seed(1)
    model = Tower()
    assert not model.built
    model.compile("adam", "mse")
    x, y = rng(2).normal(size=(32, 3)), rng(3).normal(size=(32, 2))
    hist = model.fit(x, y, epochs=4, verbose=0).history["loss"]
    assert model.built and hist[-1] < hist[0]
    assert len(model.trainable_weights) == 8


def test_save_and_load_with_custom_objects(tmp_path):
    mg.random.seed(2)
    model = Tower(width=5, depth=3, name="tower")
    model.compile("adam", "mse")
    x, y = rng(4).normal(size=(16, 3)), rng(5).normal(size=(16, 2))
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "tower.keras"
    model.save(path)
    with pytest.raises(ValueError, match=r"model class 'Tower' is not known.*custom_objects="
                                         r"\{'Tower': Tower\}.*register_keras_serializable"):
        mg.saving.load_model(path)
    loaded = mg.saving.load_model(path, custom_objects={"Tower": Tower})
    assert isinstance(loaded, Tower) and loaded.width == 5 and loaded.depth == 3
    assert loaded.name == "tower"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    mg.random.seed(9)
    a = model.fit(x, y, epochs=1, verbose=0).history["loss"]
    mg.random.seed(9)
    b = loaded.fit(x, y, epochs=1, verbose=0).history["loss"]
    assert a == b


@mg.saving.register_keras_serializable(package="Tests")
class Residual(Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = L.Dense(units, activation="sigmoid")
        self.add = L.Add()

    def call(self, inputs, training=None):
        return self.add([inputs, self.inner(inputs)])

    def get_config(self):
        return dict(super().get_config(), units=self.units)


def test_registered_class_loads_without_custom_objects(tmp_path):
    assert mg.saving.get_custom_objects()["Tests>Residual"] is Residual
    model = Residual()
    x = rng(6).normal(size=(4, 3)).astype(np.float32)
    y = model(x)
    w, b = model.inner.get_weights()
    np.testing.assert_allclose(y.data, x + 1 / (1 + np.exp(-(x @ w + b))), rtol=1e-6)
    path = tmp_path / "res.keras"
    model.save(path)
    loaded = mg.saving.load_model(path)
    assert type(loaded) is Residual
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    again = mg.models.model_from_json(model.to_json())
    assert type(again) is Residual and again.get_config() == model.get_config()
    # a subclassed model nests in a functional one
    inp = mg.Input((3,))
    outer = Model(inp, L.Dense(1)(model(inp)))
    assert outer.weights[:2] == model.weights


def test_subclassed_model_without_call_raises():
    class NoCall(Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

    with pytest.raises(NotImplementedError, match=r"'no_call' \(NoCall\) has no call\(\)"):
        NoCall()(np.ones((2, 3)))
    with pytest.raises(TypeError, match="inputs/outputs are for functional models"):
        Residual(inputs=1)


def test_a_model_whose_config_lacks_its_constructor_arguments_names_the_fix(tmp_path):
    class Needs(Model):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = L.Dense(units)

        def call(self, x, training=None):
            return self.dense(x)

    model = Needs(2)
    model.build((None, 3))
    model.save(tmp_path / "needs.keras")
    with pytest.raises(TypeError, match=r"cannot rebuild Needs.*units.*get_config\(\)"):
        mg.saving.load_model(tmp_path / "needs.keras", custom_objects={"Needs": Needs})


class WideAndDeep(Model):
    """Géron's subclassed Wide & Deep model: two inputs, two outputs (a tuple or a dict)."""

    def __init__(self, as_dict=False, **kwargs):
        super().__init__(**kwargs)
        self.as_dict = as_dict
        self.hidden = L.Dense(5, activation="relu")
        self.main = L.Dense(1)
        self.aux = L.Dense(1)

    def call(self, inputs):
        wide, deep = inputs
        h = self.hidden(deep)
        main, aux = self.main(L.concatenate([wide, h])), self.aux(h)
        return {"main": main, "aux": aux} if self.as_dict else (main, aux)


def _wide_deep_loss(model, xa, xb, y, weights):
    """sum_i w_i * mean((y - y_pred_i)^2) in float64 numpy from the model's weights."""
    k_h, b_h, k_m, b_m, k_a, b_a = model.get_weights()
    h = np.maximum(xb @ k_h + b_h, 0)
    main = np.concatenate([xa, h], axis=1) @ k_m + b_m
    aux = h @ k_a + b_a
    return weights[0] * np.mean((y - main) ** 2) + weights[1] * np.mean((y - aux) ** 2)


@pytest.mark.parametrize("as_dict", [False, True])
def test_several_outputs_compiled_before_the_model_is_built(as_dict):
    """compile(loss=[...], loss_weights=[...]) on an unbuilt subclassed model (Géron ch. 10)
    used to raise "loss_weights has 2 entries, but the model has 1 outputs": the outputs are
    known only once call has run, so the per-output loss is laid out at the build."""
    mg.random.seed(0)
    xa, xb = rng(1).normal(size=(40, 3)), rng(2).normal(size=(40, 4))
    y = rng(3).normal(size=(40, 1))
    model = WideAndDeep(as_dict=as_dict)
    names = ["main", "aux"] if as_dict else ["output_1", "output_2"]
    model.compile(loss=["mse", "mse"] if not as_dict else {"main": "mse", "aux": "mse"},
                  loss_weights=[0.9, 0.1], optimizer="sgd", metrics=[["mae"], ["mae"]])
    assert not model.built and model.metrics_names == ["loss"]
    history = model.fit((xa, xb), (y, y) if not as_dict else {"main": y, "aux": y},
                        epochs=1, batch_size=40, verbose=0)
    assert list(history.history) == [f"{names[0]}_loss", f"{names[1]}_loss", f"{names[0]}_mae",
                                     f"{names[1]}_mae", "loss"]
    assert model.output_names == names
    logs = model.evaluate((xa, xb), [y, y], verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], _wide_deep_loss(model, xa, xb, y, [0.9, 0.1]),
                               rtol=1e-6)     # the Dense layers compute in float32
    with pytest.raises(ValueError, match="has 3 entries, but the model has 2 outputs"):
        model.compile(loss=["mse"] * 3, optimizer="sgd")


class Scale(L.Layer):
    """An unregistered custom layer: y = x * w."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="random_normal",
                                 name="w")

    def call(self, x):
        return x * self.w


def test_clone_model_needs_no_registration_of_the_models_own_classes():
    """Keras 3 clones a subclassed model (and custom layers) from the objects themselves;
    clone_model used to raise "the model class 'Tower' is not known"."""
    mg.random.seed(0)
    model = Tower(width=3, depth=1)
    model(np.zeros((2, 5)))
    clone = mg.models.clone_model(model)
    assert type(clone) is Tower and (clone.width, clone.depth) == (3, 1)
    clone(np.zeros((2, 5)))
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    seq = mg.Sequential([mg.Input((4,)), Scale(name="scale"), L.Dense(2)])
    seq_clone = mg.models.clone_model(seq)
    assert type(seq_clone.get_layer("scale")) is Scale
    assert seq_clone.get_layer("scale").w is not seq.get_layer("scale").w
    with pytest.raises(ValueError, match="'Scale'"):    # loading from text still needs it
        mg.models.model_from_json(seq.to_json())


class CustomStep(Model):
    """Keras's "customize what happens in fit" pattern, which minigrad's loop cannot honour."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.out = L.Dense(1)

    def call(self, inputs):
        return self.out(inputs)

    def train_step(self, data):
        raise AssertionError("never called")


def test_an_overridden_train_step_is_refused_not_silently_skipped():
    model = CustomStep()
    model.compile("sgd", "mse")
    x, y = np.ones((4, 2)), np.ones((4, 1))
    for run in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                lambda: model.predict(x, verbose=0), lambda: model.train_on_batch(x, y)):
        with pytest.raises(NotImplementedError, match=r"defines \['train_step'\]"):
            run()
    assert not model.built        # refused before any work
