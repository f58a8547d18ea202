"""Sequential as a Model (issue 11): it is a Model and a Layer, nests both ways, and shares
the utilities (get_layer, to_json, clone_model) with the other kinds."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L
from minigrad.models import Model, Sequential


def test_sequential_is_a_model_and_a_layer_and_nests_unbuilt():
    inner = Sequential([L.Dense(4, activation="relu", name="i1"), L.Dense(3, name="i2")],
                       name="inner")
    model = Sequential([inner, L.Dense(2, name="head")])
    assert isinstance(model, Model) and isinstance(model, L.Layer) and not model.built
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((5, 2)), verbose=0)          # builds both from the data
    assert model.built and inner.built and inner.get_layer("i1").kernel.shape == (6, 4)
    w1, b1, w2, b2, w3, b3 = model.get_weights()
    want = (np.maximum(x @ w1 + b1, 0) @ w2 + b2) @ w3 + b3
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    assert [k for k, _ in model.execution_order()] == ["inner/i1", "inner/i2", "head"]
    assert model.count_params() == 6 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2


def test_json_and_clone_keep_the_architecture_with_fresh_weights():
    mg.random.seed(0)
    model = Sequential([L.Input((3,)), Sequential([L.Dense(4, name="a")], name="block"),
                        L.Dense(1, name="b")])
    again = mg.models.model_from_json(model.to_json())
    assert again.to_json() == model.to_json()
    clone = mg.models.clone_model(model)
    assert [la.name for la in clone.layers] == ["block", "b"]
    pairs = list(zip(clone.get_weights(), model.get_weights()))
    assert all(a.shape == b.shape for a, b in pairs)
    assert all(not np.array_equal(a, b) for a, b in pairs if a.ndim == 2)   # fresh kernels
    with pytest.raises(TypeError, match="expected a minigrad Model"):
        mg.models.clone_model(L.Dense(2))
    with pytest.raises(ValueError, match="not valid JSON"):
        mg.models.model_from_json("{")


def test_feature_extraction_from_inputs_and_layer_outputs():
    """Keras's guide: Model(inputs=seq.inputs, outputs=[layer.output for layer in
    seq.layers]); Sequential had no inputs and layers no output (AttributeError)."""
    mg.random.seed(0)
    inp = L.Input((3,), dtype="float64")
    seq = Sequential([inp, L.Dense(4, activation="relu", name="h", dtype="float64"),
                      L.Dense(2, name="out", dtype="float64")])
    extractor = mg.Model(inputs=seq.inputs, outputs=[layer.output for layer in seq.layers])
    assert seq.inputs == [inp] and seq.input is inp
    x = np.random.default_rng(1).normal(size=(5, 3))
    k1, b1, k2, b2 = seq.get_weights()
    hidden = np.maximum(x @ k1 + b1, 0)
    got = extractor.predict(x, verbose=0)
    np.testing.assert_allclose(got[0], hidden, rtol=1e-12)
    np.testing.assert_allclose(got[1], hidden @ k2 + b2, rtol=1e-12)
    np.testing.assert_allclose(got[1], seq.predict(x, verbose=0), rtol=1e-12)
    single = mg.Model(inputs=seq.input, outputs=seq.get_layer("h").output)
    assert single.output_shape == (None, 4) and seq.output.shape == (None, 2)
    assert extractor.weights[0] is seq.weights[0]            # the same layers
    with pytest.raises(AttributeError, match="never been called on a symbolic input"):
        _ = L.Dense(2, name="lonely").output
    seq.pop()
    assert seq.output.shape == (None, 4)                       # rebuilt after pop
