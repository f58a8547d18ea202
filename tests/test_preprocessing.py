"""Normalization (with adapt) and Rescaling (layers/preprocessing.py) against closed forms:
adapt's merged moments equal numpy's on the concatenated data (uneven batches, generators,
(x, y) batches, several kept axes, axis=None), the call's formula with Keras's epsilon
floor, invert, given statistics, gradients and the errors."""
import numpy as np
import pytest

import minigrad as mg

L = mg.layers


def data(shape=(103, 4), seed=0):
    r = np.random.default_rng(seed)
    return r.normal(5.0, 3.0, shape) * r.uniform(0.1, 10.0, shape[1:])


@pytest.mark.parametrize("split", [[103], [1, 50, 2, 50], [30, 0, 73]])
def test_adapt_batches_merge_to_the_moments_of_all_the_data(split):
    x = data()
    layer = L.Normalization(dtype="float64")
    layer.adapt([x[a:b] for a, b in zip(np.cumsum([0] + split[:-1]), np.cumsum(split))])
    np.testing.assert_allclose(layer.mean.data, x.mean(0), rtol=1e-13)
    np.testing.assert_allclose(layer.variance.data, x.var(0), rtol=1e-12)
    assert layer.count.data == 103
    np.testing.assert_allclose(layer(x).data, (x - x.mean(0)) / x.std(0), rtol=1e-11,
                               atol=1e-12)


def test_adapt_array_generator_tuples_and_tensor_agree():
    x = data((60, 3))
    results = []
    for source in (x, mg.Tensor(x), (b for b in np.split(x, 6)),
                   [(b, np.zeros(len(b))) for b in np.split(x, 4)]):
        layer = L.Normalization(dtype="float64")
        layer.adapt(source)
        results.append((layer.mean.data.copy(), layer.variance.data.copy()))
    for mean, var in results[1:]:
        np.testing.assert_allclose(mean, results[0][0], rtol=1e-13)
        np.testing.assert_allclose(var, results[0][1], rtol=1e-12)


@pytest.mark.parametrize("axis, keep", [(-1, (2,)), ((1, 2), (1, 2)), (1, (1,)), (None, ())])
def test_adapt_kept_axes_on_rank3(axis, keep):
    x = data((20, 3, 4), seed=1)
    layer = L.Normalization(axis=axis, dtype="float64")
    layer.adapt(np.split(x, [7, 9]))
    reduce = tuple(d for d in range(3) if d not in keep)
    mean, var = x.mean(axis=reduce, keepdims=True), x.var(axis=reduce, keepdims=True)
    np.testing.assert_allclose(layer.mean.data, mean.squeeze(reduce), rtol=1e-12)
    np.testing.assert_allclose(layer.variance.data, var.squeeze(reduce), rtol=1e-12)
    np.testing.assert_allclose(layer(x).data, (x - mean) / np.sqrt(var), rtol=1e-10,
                               atol=1e-12)


def test_adapt_again_starts_over_and_float32_layers_accumulate_in_float64():
    layer = L.Normalization()
    big = 1e4 + np.random.default_rng(2).normal(size=(1000, 2))
    layer.adapt(np.ones((5, 2)))
    layer.adapt(np.split(big, 10))
    np.testing.assert_allclose(layer.mean.data, big.mean(0), rtol=1e-7)
    np.testing.assert_allclose(layer.variance.data, big.var(0), rtol=1e-5)
    assert layer.mean.dtype == np.float32 and layer.count.data == 1000


def test_call_formula_epsilon_floor_invert_and_gradient():
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    layer = L.Normalization(mean=[2.0, 4.0], variance=[4.0, 0.0], dtype="float64")
    xt = mg.Tensor(x, requires_grad=True)
    y = layer(xt)
    eps = mg.config.epsilon()                         # Keras: max(sqrt(var), 1e-7)
    np.testing.assert_allclose(y.data, [[-0.5, -2.0 / eps], [0.5, 2.0 / eps]], rtol=1e-15)
    y.backward(np.ones((2, 2)))
    np.testing.assert_allclose(xt.grad, [[0.5, 1 / eps], [0.5, 1 / eps]], rtol=1e-15)
    inv = L.Normalization(mean=[2.0, 4.0], variance=[4.0, 9.0], invert=True, dtype="float64")
    fwd = L.Normalization(mean=[2.0, 4.0], variance=[4.0, 9.0], dtype="float64")
    np.testing.assert_allclose(inv(fwd(x)).data, x, rtol=1e-15)
    np.testing.assert_allclose(inv(x).data, [[4.0, 10.0], [8.0, 22.0]], rtol=1e-15)


def test_given_statistics_broadcast_over_the_kept_axes():
    x = data((5, 3, 2), seed=3)
    layer = L.Normalization(axis=(1, 2), mean=[1.0, 2.0], variance=[4.0, 9.0],
                            dtype="float64")      # a rank-1 mean fills the last kept axis
    np.testing.assert_allclose(layer(x).data, (x - [1.0, 2.0]) / [2.0, 3.0], rtol=1e-14)
    assert layer.weights == []
    scalar = L.Normalization(mean=3.0, variance=16.0, dtype="float64")
    np.testing.assert_allclose(scalar(x).data, (x - 3.0) / 4.0, rtol=1e-15)
    cfg = layer.get_config()
    assert cfg["mean"] == [1.0, 2.0] and cfg["axis"] == [1, 2] and cfg["invert"] is False
    assert L.Normalization.from_config(cfg)(x).data.shape == x.shape


def test_rescaling_closed_forms_and_gradient():
    x = np.arange(12.0).reshape(2, 2, 3) * 25.5
    np.testing.assert_allclose(L.Rescaling(1 / 255, dtype="float64")(x).data, x / 255,
                               rtol=1e-15)
    y = L.Rescaling(1 / 127.5, offset=-1.0, dtype="float64")(np.array([0.0, 127.5, 255.0]))
    np.testing.assert_allclose(y.data, [-1.0, 0.0, 1.0], rtol=1e-15)
    layer = L.Rescaling([1.0, 2.0, 3.0], offset=[0.0, 1.0, -1.0], dtype="float64")
    xt = mg.Tensor(x, requires_grad=True)
    layer(xt).backward(np.ones(x.shape))
    np.testing.assert_allclose(layer(x).data, x * [1, 2, 3] + [0, 1, -1], rtol=1e-15)
    np.testing.assert_array_equal(xt.grad, np.broadcast_to([1.0, 2.0, 3.0], x.shape))
    assert layer.get_config()["scale"] == [1.0, 2.0, 3.0]
    assert L.Rescaling(0.5).get_config()["offset"] == 0.0


@pytest.mark.parametrize("make, exc, match", [
    (lambda: L.Normalization()(np.ones((2, 3))), ValueError,
     r"Normalization .*no statistics: call adapt\(data\) first, or pass mean= and variance="),
    (lambda: L.Normalization(mean=1.0), ValueError, r"mean and variance must be given "
                                                    r"together"),
    (lambda: L.Normalization(mean=[1.0, 2.0], variance=[1.0]), ValueError, r"same shape"),
    (lambda: L.Normalization(mean=[[1.0]], variance=[[1.0]]), ValueError,
     r"more dimensions than axis"),
    (lambda: L.Normalization(mean=0.0, variance=-1.0), ValueError, r"variance must be >= 0"),
    (lambda: L.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0])(np.ones((2, 3))),
     ValueError, r"mean of shape \(2,\) does not broadcast to the kept axes \(3,\)"),
    (lambda: L.Normalization(axis=1.5), TypeError, r"Normalization .*axis must be an integer"),
    (lambda: L.Normalization(invert=2), TypeError, r"invert must be True or False"),
    (lambda: L.Normalization().adapt([]), ValueError, r"adapt\(\) received no batches"),
    (lambda: L.Normalization().adapt(3.0), TypeError, r"adapt\(\) takes an array or an "
                                                      r"iterable of batches, got float"),
    (lambda: L.Normalization().adapt([np.ones((2, 3)), np.ones((2, 4))]), ValueError,
     r"adapt\(\) batch 2 has shape \(2, 4\), expected \(None, 3\)"),
    (lambda: L.Normalization(mean=0.0, variance=1.0).adapt(np.ones((2, 3))), ValueError,
     r"cannot change a mean and variance given"),
    (lambda: L.Rescaling("a"), TypeError, r"Rescaling .*scale must be a real number"),
    (lambda: L.Rescaling(1.0, offset=[np.nan]), ValueError, r"Rescaling .*offset must be "
                                                            r"finite"),
])
def test_preprocessing_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
