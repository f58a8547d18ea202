"""minigrad.models.Model: functional models (issue 11): the lecture model three ways, Wide &
Deep, several inputs and outputs, nesting, shared layers, utilities and the bad-input errors.

References: the Sequential model trained from the same initial weights (bit for bit in
float64), and forward passes written here in float64 numpy from the weights.
"""
import json

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L
from minigrad.models import Model, Sequential


def rng(seed=0):
    return np.random.default_rng(seed)


def relu(z):
    return np.maximum(z, 0.0)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def digits(n=96, seed=0):
    r = rng(seed)
    return r.random((n, 6, 6)), r.integers(0, 10, n)


# ------------------------------------------------------------------ the lecture model
def lecture_sequential():
    return Sequential([L.Input((6, 6)), L.Flatten(), L.Dense(16, activation="relu"),
                       L.Dense(10, activation="softmax")])


def lecture_functional():
    inp = mg.Input((6, 6))
    h = L.Dense(16, activation="relu")(L.Flatten()(inp))
    return Model(inp, L.Dense(10, activation="softmax")(h))


class LectureMLP(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten = L.Flatten()
        self.hidden = L.Dense(16, activation="relu")
        self.out = L.Dense(10, activation="softmax")

    def call(self, inputs, training=None):
        return self.out(self.hidden(self.flatten(inputs)))


def _train(model, x, y, weights):
    model.set_weights(weights)
    model.compile(optimizer=mg.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    mg.random.seed(7)                        # the same shuffles
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    return model.get_weights(), history.history


@pytest.mark.parametrize("make", [lecture_functional, LectureMLP])
def test_lecture_model_trains_to_the_same_weights_bit_for_bit(make):
    mg.config.set_floatx("float64")
    try:
        x, y = digits()
        ref = lecture_sequential()
        start = [0.3 * rng(i).normal(size=w.shape) for i, w in enumerate(ref.weights)]
        want, want_hist = _train(ref, x, y, start)
        model = make()
        if not model.built:
            model.build((None, 6, 6))
        assert [w.shape for w in model.weights] == [w.shape for w in ref.weights]
        got, hist = _train(model, x, y, start)
    finally:
        mg.config.set_floatx("float32")
    assert all(g.dtype == np.float64 for g in got)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert hist == want_hist
    assert not np.array_equal(got[0], start[0])           # it did train


def test_functional_forward_is_the_numpy_forward():
    model = lecture_functional()
    x = rng(1).random((5, 6, 6)).astype(np.float32)
    w1, b1, w2, b2 = [w.astype(np.float64) for w in model.get_weights()]
    want = softmax(relu(x.reshape(5, 36) @ w1 + b1) @ w2 + b2)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-7)
    assert isinstance(model, Model) and isinstance(model, L.Layer)


# ------------------------------------------------------------------ Wide & Deep
def wide_and_deep():
    input_ = mg.Input(shape=(8,), name="input")
    hidden1 = L.Dense(12, activation="relu", name="hidden1")(input_)
    hidden2 = L.Dense(12, activation="relu", name="hidden2")(hidden1)
    concat = L.Concatenate(name="concat")([input_, hidden2])
    output = L.Dense(1, name="output")(concat)
    return Model(inputs=[input_], outputs=[output])


def housing(n=64, seed=2):
    r = rng(seed)
    x = r.normal(size=(n, 8))
    return x, x[:, :1] * 2.0 - x[:, 1:2] + 0.1 * r.normal(size=(n, 1))


def test_wide_and_deep_forward_trains_and_round_trips(tmp_path):
    mg.random.seed(0)
    model = wide_and_deep()
    x, y = housing()
    w1, b1, w2, b2, w3, b3 = [w.astype(np.float64) for w in model.get_weights()]
    h2 = relu(relu(x @ w1 + b1) @ w2 + b2)
    want = np.concatenate([x, h2], axis=1) @ w3 + b3
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-4, atol=1e-4)
    assert w3.shape == (20, 1)
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=5, verbose=0).history["loss"]
    assert hist[-1] < hist[0]
    path = tmp_path / "wd.keras"
    model.save(path)
    loaded = mg.models.load_model(path)
    assert type(loaded) is type(model) and [la.name for la in loaded.layers] == \
        ["input", "hidden1", "hidden2", "concat", "output"]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # training continues identically (optimizer state restored)
    mg.random.seed(3)
    a = model.fit(x, y, epochs=1, verbose=0).history["loss"]
    mg.random.seed(3)
    b = loaded.fit(x, y, epochs=1, verbose=0).history["loss"]
    assert a == b


def test_two_inputs_as_list_and_dict():
    mg.random.seed(0)
    wide, deep = mg.Input((3,), name="wide"), mg.Input((4,), name="deep")
    h = L.Dense(5, activation="tanh", name="h")(deep)
    out = L.Dense(1, name="out")(L.Concatenate()([wide, h]))
    model = Model([wide, deep], out)
    xw, xd = rng(3).normal(size=(10, 3)), rng(4).normal(size=(10, 4))
    wh, bh, wo, bo = [w.astype(np.float64) for w in model.get_weights()]
    want = np.concatenate([xw, np.tanh(xd @ wh + bh)], axis=1) @ wo + bo
    np.testing.assert_allclose(model.predict([xw, xd], verbose=0), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict({"deep": xd, "wide": xw}, verbose=0),
                                  model.predict([xw, xd], verbose=0))
    model.compile("sgd", "mse")
    y = rng(5).normal(size=(10, 1))
    loss = model.evaluate([xw, xd], y, verbose=0)
    np.testing.assert_allclose(loss, ((want - y) ** 2).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict([xw], verbose=0)
    with pytest.raises(ValueError, match="missing"):
        model.fit({"wide": xw}, y, verbose=0)
    with pytest.raises(ValueError, match="number of samples"):
        model.fit([xw, xd[:5]], y, verbose=0)


# ------------------------------------------------------------------ several outputs
def two_outputs():
    inp = mg.Input((5,), name="x")
    h = L.Dense(8, activation="relu", name="h")(inp)
    main = L.Dense(1, name="main")(h)
    aux = L.Dense(3, activation="softmax", name="aux")(inp)
    return Model(inp, [main, aux])


def test_two_outputs_loss_weights_log_keys_and_round_trip(tmp_path):
    mg.random.seed(1)
    model = two_outputs()
    x = rng(6).normal(size=(32, 5))
    y_main, y_aux = rng(7).normal(size=(32, 1)), rng(8).integers(0, 3, 32)
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"],
                  loss_weights=[0.9, 0.1], metrics=[[], ["accuracy"]])
    p_main, p_aux = model.predict(x, verbose=0)
    mse = ((p_main - y_main) ** 2).mean()
    ce = -np.log(np.clip(p_aux[np.arange(32), y_aux], 1e-7, 1 - 1e-7)).mean()
    logs = model.evaluate(x, [y_main, y_aux], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "main_loss", "aux_loss", "aux_accuracy"}
    np.testing.assert_allclose([logs["main_loss"], logs["aux_loss"], logs["loss"]],
                               [mse, ce, 0.9 * mse + 0.1 * ce], rtol=1e-5)
    np.testing.assert_allclose(logs["aux_accuracy"], (p_aux.argmax(1) == y_aux).mean())
    hist = model.fit(x, [y_main, y_aux], epochs=3, batch_size=8, verbose=0).history
    assert {"loss", "main_loss", "aux_loss", "aux_accuracy"} <= set(hist)
    assert hist["loss"][-1] < hist["loss"][0]
    path = tmp_path / "two.keras"
    model.save(path)
    loaded = mg.models.load_model(path)
    for a, b in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)
    assert loaded.loss_weights == [0.9, 0.1]
    np.testing.assert_allclose(loaded.evaluate(x, [y_main, y_aux], verbose=0),
                               model.evaluate(x, [y_main, y_aux], verbose=0), rtol=1e-6)


def test_outputs_by_dict_with_losses_by_name():
    mg.random.seed(2)
    inp = mg.Input((5,))
    out = {"score": L.Dense(1)(inp), "label": L.Dense(2, activation="softmax")(inp)}
    model = Model(inp, out)
    x, s, c = rng(1).normal(size=(12, 5)), rng(2).normal(size=(12, 1)), rng(3).integers(0, 2, 12)
    model.compile("sgd", loss={"score": "mse", "label": "sparse_categorical_crossentropy"},
                  loss_weights={"score": 2.0})
    logs = model.evaluate(x, {"label": c, "score": s}, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], 2.0 * logs["score_loss"] + logs["label_loss"],
                               rtol=1e-6)
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(logs["score_loss"], ((pred["score"] - s) ** 2).mean(), rtol=1e-5)


def test_fit_with_a_wrong_number_of_targets_raises():
    model = two_outputs()
    model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"])
    x = np.ones((4, 5))
    with pytest.raises(ValueError, match=r"2 outputs \(\['main', 'aux'\]\), but 3 arrays"):
        model.fit(x, [np.ones((4, 1)), np.zeros(4), np.zeros(4)], verbose=0)
    with pytest.raises(ValueError, match="2 outputs"):
        model.fit(x, [np.ones((4, 1))], verbose=0)
    with pytest.raises(ValueError, match="loss has 3 entries"):
        model.compile("sgd", loss=["mse", "mse", "mse"])


# ------------------------------------------------------------------ nesting and sharing
def test_nested_models_share_weights_with_the_inner_model():
    mg.random.seed(3)
    encoder = Sequential([L.Input((4,)), L.Dense(3, activation="tanh", name="enc")],
                         name="encoder")
    outer = Sequential([encoder, L.Dense(2, name="cls")])
    assert outer.layers == [encoder, outer.layers[1]]
    assert outer.weights[:2] == encoder.weights and len(outer.weights) == 4
    inp = mg.Input((4,))
    functional = Model(inp, L.Dense(1, name="reg")(encoder(inp)))
    assert functional.weights[0] is encoder.weights[0]
    x, y = rng(4).normal(size=(8, 4)), rng(5).integers(0, 2, 8)
    before = encoder.get_weights()
    outer.compile("sgd", mg.losses.SparseCategoricalCrossentropy(from_logits=True))
    outer.fit(x, y, epochs=1, verbose=0)
    after = encoder.get_weights()
    assert not np.array_equal(before[0], after[0])
    np.testing.assert_array_equal(functional.weights[0].data, after[0])   # the same arrays
    we, be = after
    np.testing.assert_allclose(encoder.predict(x, verbose=0), np.tanh(x @ we + be), rtol=1e-5)
    encoder.trainable = False
    assert outer.trainable_weights == outer.weights[2:]


def test_shared_layer_runs_twice_with_one_set_of_weights():
    mg.random.seed(4)
    a, b = mg.Input((3,)), mg.Input((3,))
    shared = L.Dense(2, name="shared")
    out = L.Subtract()([shared(a), shared(b)])
    model = Model([a, b], out)
    assert len(model.weights) == 2 and len(shared._inbound_nodes) == 2
    xa, xb = rng(1).normal(size=(4, 3)), rng(2).normal(size=(4, 3))
    w = model.get_weights()[0].astype(np.float64)
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), (xa - xb) @ w, rtol=1e-5,
                               atol=1e-6)
    cfg = json.loads(model.to_json())
    assert len(cfg["config"]["layers"][2]["inbound_nodes"]) == 2
    clone = mg.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict([xa, xb], verbose=0),
                                  model.predict([xa, xb], verbose=0))


def test_custom_layer_output_shape_by_a_stand_in_call():
    class Proj(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight((input_shape[-1], self.units), name="kernel")

        def call(self, x):
            return x @ self.kernel

    model = Sequential([L.Input((8,)), Proj(4), Proj(2)])
    assert [w.shape for w in model.weights] == [(8, 4), (4, 2)]
    assert model.output_shape == (None, 2)
    inp = mg.Input((None, 8))
    out = Proj(3)(inp)
    assert out.shape == (None, None, 3)


# ------------------------------------------------------------------ utilities
def test_get_layer_summary_json_and_clone(capsys):
    mg.random.seed(5)
    model = wide_and_deep()
    assert model.get_layer("hidden2").name == "hidden2"
    assert model.get_layer(index=1) is model.get_layer("hidden1")
    with pytest.raises(ValueError, match="no layer named 'nope'.*hidden1"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="out of range"):
        model.get_layer(index=9)
    with pytest.raises(ValueError, match="exactly one"):
        model.get_layer()
    model.summary()
    text = capsys.readouterr().out
    assert "Connected to" in text and "concat (Concatenate)" in text
    assert "input[0][0]" in text and "hidden2[0][0]" in text and "(None, 20)" in text
    assert "Total params: 285" in text
    rebuilt = mg.models.model_from_json(model.to_json())
    assert rebuilt.to_json() == model.to_json()
    clone = mg.models.clone_model(model)
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    assert clone.get_config() == model.get_config()


# ------------------------------------------------------------------ bad input
def test_incompatible_symbolic_shapes_name_both_layers_at_construction():
    inp = mg.Input((4,))
    h = L.Dense(3, name="first")(inp)
    second = L.Dense(2, name="second")
    second.build((None, 5))
    with pytest.raises(ValueError, match=r"layer 'second' \(Dense\) on the output of 'first' "
                                         r"with shape \(None, 3\).*axis -1 of size 5"):
        second(h)
    with pytest.raises(ValueError, match=r"'add'.*\(None, 3\).*\(None, 4\)"):
        L.Add(name="add")([h, inp])
    with pytest.raises(ValueError, match=r"'cat'.*differ outside axis -1"):
        L.Concatenate(name="cat")([mg.Input((2, 3)), mg.Input((4, 3))])


def test_graph_errors():
    a, b = mg.Input((2,), name="a"), mg.Input((2,), name="b")
    out = L.Dense(1)(b)
    with pytest.raises(ValueError, match=r"depend on the Input 'b'.*not among.*\['a'\]"):
        Model(a, out)
    with pytest.raises(ValueError, match=r"\['a'\] are disconnected"):
        Model([a, b], out)
    x = L.Dense(2, name="twin")(a)
    with pytest.raises(ValueError, match="duplicate layer name 'twin'"):
        Model(a, L.Dense(1, name="twin")(x))
    with pytest.raises(TypeError, match="symbolic tensor"):
        Model(a, np.ones(2))
    with pytest.raises(TypeError, match="no value"):
        bool(a)


def test_functional_inside_functional_with_dict_inputs_and_output_round_trips(tmp_path):
    mg.random.seed(6)
    i1 = mg.Input((4,))
    inner = Model(i1, L.Dense(3, name="d_in")(i1), name="inner_f")
    a, b = mg.Input((4,), name="a"), mg.Input((4,), name="b")
    merged = L.Concatenate()([inner(a), inner(b)])
    outer = Model({"a": a, "b": b}, {"y": L.Dense(1, name="y")(merged)})
    x = {"a": rng(1).normal(size=(5, 4)), "b": rng(2).normal(size=(5, 4))}
    w, c, wy, cy = [v.astype(np.float64) for v in outer.get_weights()]
    want = np.concatenate([x["a"] @ w + c, x["b"] @ w + c], axis=1) @ wy + cy
    pred = outer.predict(x, verbose=0)
    assert set(pred) == {"y"}
    np.testing.assert_allclose(pred["y"], want, rtol=1e-5, atol=1e-6)
    outer.compile("sgd", {"y": "mse"})
    outer.fit(x, {"y": np.ones((5, 1))}, verbose=0)
    keys = [k for k, _ in outer.execution_order()]
    assert keys[:2] == ["a", "b"] and keys[2].startswith("inner_f/input_layer")
    assert keys[3:] == ["inner_f/d_in", keys[4], "y"] and keys[4].startswith("concatenate")
    outer.save(tmp_path / "nested.keras")
    loaded = mg.models.load_model(tmp_path / "nested.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0)["y"],
                                  outer.predict(x, verbose=0)["y"])


def test_a_shared_regularised_layer_adds_its_penalty_once():
    dense = L.Dense(2, kernel_regularizer=mg.regularizers.l2(0.1), name="reg", dtype="float64")
    inner = Sequential([L.Input((2,)), dense], name="inner_seq")
    inp = mg.Input((2,))
    model = Model(inp, L.Add()([inner(inp), dense(inp)]))
    assert model.weights == dense.weights
    (term,) = model.losses
    np.testing.assert_allclose(term.item(), 0.1 * (dense.kernel.data ** 2).sum(), rtol=1e-12)
    inner.trainable = False
    assert model.losses == [] and model.trainable_weights == []


def test_layer_output_and_model_input_give_the_graph_for_feature_extraction():
    """Keras's functional guide: Model(inputs=model.input, outputs=[layer.output ...])."""
    inp = mg.Input((4,), dtype="float64")
    h = L.Dense(3, activation="tanh", name="h", dtype="float64")(inp)
    out = L.Dense(2, name="o", dtype="float64")(h)
    model = mg.Model(inp, out)
    assert model.input is inp and model.output is out
    assert model.get_layer("h").output is h and model.get_layer("o").input is h
    features = mg.Model(inputs=model.input, outputs=[la.output for la in model.layers[1:]])
    x = np.random.default_rng(0).normal(size=(3, 4))
    k1, b1, k2, b2 = model.get_weights()
    got_h, got_o = features.predict(x, verbose=0)
    np.testing.assert_allclose(got_h, np.tanh(x @ k1 + b1), rtol=1e-12)
    np.testing.assert_allclose(got_o, np.tanh(x @ k1 + b1) @ k2 + b2, rtol=1e-12)


class _GuideDense(L.Layer):
    """The Keras functional guide's CustomDense: get_config gives only its units."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")

    def call(self, inputs):
        return mg.ops.matmul(inputs, self.w)

    def get_config(self):
        return {"units": self.units}


def test_model_from_config_of_a_functional_config():
    """keras.Model.from_config(model.get_config(), custom_objects=...) (the functional guide)
    raised "cannot rebuild Model from its config"."""
    inp = mg.Input((4,))
    model = mg.Model(inp, L.Dense(2, name="head")(_GuideDense(3)(inp)))
    new = mg.Model.from_config(model.get_config(), custom_objects={"_GuideDense": _GuideDense})
    assert type(new).__name__ == "Functional" and new.output_shape == (None, 2)
    assert [type(la).__name__ for la in new.layers] == ["InputLayer", "_GuideDense", "Dense"]
    new.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(new.predict(x, verbose=0), model.predict(x, verbose=0))
