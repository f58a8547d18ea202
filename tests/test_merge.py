"""Merge and structure layers (layers/merge.py, layers/structure.py): values against float64
numpy written from Keras's definitions; gradients are in the layer battery (test_layers)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L


def rng(seed=0):
    return np.random.default_rng(seed)


def _inputs(*shapes):
    return [rng(i).normal(size=s) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("layer, ref", [
    (L.Add, lambda xs: xs[0] + xs[1] + xs[2]),
    (L.Multiply, lambda xs: xs[0] * xs[1] * xs[2]),
    (L.Average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3),
    (L.Maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    (L.Minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
])
def test_elementwise_merges(layer, ref):
    xs = _inputs((4, 3), (4, 3), (4, 1))          # the last one broadcasts
    y = layer(dtype="float64")(xs)
    np.testing.assert_allclose(y.data, ref(xs), rtol=1e-14)


def test_subtract_takes_exactly_two():
    a, b = _inputs((3, 2), (3, 2))
    np.testing.assert_array_equal(L.Subtract(dtype="float64")([a, b]).data, a - b)
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        L.Subtract()([a, b, a])
    with pytest.raises(ValueError, match="expects a list of inputs"):
        L.Add()(a)


def test_maximum_gradient_goes_to_the_larger_input_and_ties_share_it():
    a = mg.Tensor(np.array([[1.0, 2.0, 0.0]]), requires_grad=True)
    b = mg.Tensor(np.array([[1.0, 0.0, 3.0]]), requires_grad=True)
    L.Maximum(dtype="float64")([a, b]).sum().backward()
    np.testing.assert_array_equal(a.grad, [[0.5, 1, 0]])
    np.testing.assert_array_equal(b.grad, [[0.5, 0, 1]])


def test_concatenate_axes():
    a, b = _inputs((2, 3, 4), (2, 3, 1))
    y = L.Concatenate(dtype="float64")([a, b])
    np.testing.assert_array_equal(y.data, np.concatenate([a, b], axis=-1))
    c = _inputs((2, 5, 4))[0]
    np.testing.assert_array_equal(L.Concatenate(axis=1, dtype="float64")([a, c]).data,
                                  np.concatenate([a, c], axis=1))
    with pytest.raises(ValueError, match="batch axis"):
        L.Concatenate(axis=0)([mg.Input((2,)), mg.Input((2,))])


def test_dot_is_a_batched_contraction():
    x, y = _inputs((5, 4), (5, 4))
    np.testing.assert_allclose(L.Dot(axes=1, dtype="float64")([x, y]).data,
                               (x * y).sum(axis=1, keepdims=True), rtol=1e-14)
    a, b = _inputs((5, 2, 3), (5, 3, 4))
    np.testing.assert_allclose(L.Dot(axes=(2, 1), dtype="float64")([a, b]).data,
                               np.einsum("bij,bjk->bik", a, b), rtol=1e-13)
    c, d = _inputs((5, 2, 3), (5, 4, 3))
    np.testing.assert_allclose(L.Dot(axes=2, dtype="float64")([c, d]).data,
                               np.einsum("bij,bkj->bik", c, d), rtol=1e-13)
    cos = L.Dot(axes=1, normalize=True, dtype="float64")([x, y]).data
    want = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(cos[:, 0], want, rtol=1e-13)
    with pytest.raises(ValueError, match="differ in size"):
        L.Dot(axes=1)([mg.Input((3,)), mg.Input((4,))])


def test_reshape_lambda_identity():
    x = _inputs((2, 3, 4))[0]
    np.testing.assert_array_equal(L.Reshape((4, 3), dtype="float64")(x).data,
                                  x.reshape(2, 4, 3))
    assert L.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert L.Reshape((-1,)).compute_output_shape((None, None, 4)) == (None, None)
    with pytest.raises(ValueError, match="cannot reshape inputs of shape"):
        L.Reshape((5,))(mg.Input((3, 4)))
    with pytest.raises(ValueError, match="one -1"):
        L.Reshape((-1, -1))
    np.testing.assert_array_equal(L.Identity(dtype="float64")(x).data, x)
    lam = L.Lambda(lambda t, k: t[:, :, :2] * k, arguments={"k": 3.0}, dtype="float64")
    np.testing.assert_array_equal(lam(x).data, x[:, :, :2] * 3.0)
    assert lam(mg.Input((3, 4))).shape == (None, 3, 2)        # shape by a stand-in call
    with pytest.raises(ValueError, match="cannot save the function"):
        lam.get_config()
    with pytest.raises(TypeError, match="must be callable"):
        L.Lambda(3)


@mg.saving.register_keras_serializable(package="MergeTests")
def _tripled(t):
    return t * 3.0


@mg.saving.register_keras_serializable(package="MergeTests")
def _first_two(shape):
    return shape[:-1] + (2,)


def test_lambda_from_a_config_resolves_saved_names_through_the_registry():
    x = np.arange(6.0).reshape(2, 3)
    cfg = L.Lambda(_tripled, output_shape=_first_two, dtype="float64").get_config()
    assert cfg["function"] == {"__custom_object__": "MergeTests>_tripled"}
    assert cfg["output_shape"] == {"__custom_object__": "MergeTests>_first_two"}
    lam = L.Lambda.from_config(cfg)         # no layers.deserialize: the layer resolves them
    assert lam.function is _tripled and lam.compute_output_shape((None, 3)) == (None, 2)
    np.testing.assert_array_equal(lam(x).data, x * 3.0)
    for key in ("function", "output_shape"):
        bad = dict(cfg, name="lam", **{key: {"__custom_object__": "nowhere"}})
        with pytest.raises(ValueError, match=rf"^Lambda 'lam': the {key} 'nowhere' was saved "
                                             r"as a custom object: pass custom_objects="):
            L.Lambda.from_config(bad)


def test_functional_forms_call_the_merge_layer():
    """Keras's lowercase forms (Géron's ``keras.layers.concatenate([input_A, hidden2])``)."""
    a, b = _inputs((4, 3), (4, 3))
    for fn, ref in [(L.add, a + b), (L.subtract, a - b), (L.multiply, a * b),
                    (L.average, (a + b) / 2), (L.maximum, np.maximum(a, b)),
                    (L.minimum, np.minimum(a, b)), (L.concatenate, np.concatenate([a, b], -1)),
                    (L.dot, (a * b).sum(-1, keepdims=True))]:
        np.testing.assert_allclose(fn([a, b], dtype="float64").data, ref, rtol=1e-14)
    np.testing.assert_array_equal(L.concatenate([a, b], axis=0 + 1, dtype="float64").data,
                                  np.concatenate([a, b], axis=1))
    x = mg.Input((3,))
    y = L.concatenate([x, x], name="joined")
    model = mg.Model(x, y)
    assert model.get_layer("joined").__class__ is L.Concatenate
    assert model.output_shape == (None, 6)
