"""GaussianNoise, GaussianDropout, AlphaDropout and ActivityRegularization (layers/noise.py)
against their closed forms: the noise's moments on large draws, the exact values where the
noise is known (read off a run on constant inputs with the same seed), identity at
inference, seeding, gradients and the errors."""
import math

import numpy as np
import pytest

import minigrad as mg

L = mg.layers
ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


@pytest.mark.parametrize("make", [lambda: L.GaussianNoise(0.5), lambda: L.GaussianDropout(0.3),
                                  lambda: L.AlphaDropout(0.2)])
def test_identity_at_inference_noise_in_training(make):
    layer = make()
    x = mg.Tensor(np.ones((4, 5), np.float32))
    assert layer(x) is x and layer(x, training=False) is x
    y = layer(x, training=True)
    assert y.dtype == np.float32 and y.shape == (4, 5) and not np.array_equal(y.data, x.data)


def test_gaussian_noise_moments_and_gradient():
    mg.random.seed(0)
    x = mg.Tensor(np.full((400, 500), 2.0), requires_grad=True)
    y = L.GaussianNoise(0.3, dtype="float64")(x, training=True)
    n = y.data - 2.0
    # 200 000 draws: the mean's sd is 0.3/447 = 6.7e-4, the variance's 0.09*sqrt(2/2e5)
    assert abs(n.mean()) < 4 * 6.7e-4 and abs(n.var() - 0.09) < 4 * 0.09 * math.sqrt(1e-5)
    y.backward(np.full(y.shape, 3.0))
    np.testing.assert_array_equal(x.grad, 3.0)                 # additive noise: dy/dx = 1


def test_gaussian_dropout_moments_and_gradient_is_the_noise():
    mg.random.seed(1)
    rate = 0.4
    x = mg.Tensor(np.ones((400, 500)), requires_grad=True)
    y = L.GaussianDropout(rate, dtype="float64")(x, training=True)
    var = rate / (1 - rate)                                    # 2/3
    assert abs(y.data.mean() - 1.0) < 4 * math.sqrt(var / 2e5)
    assert abs(y.data.var() - var) < 4 * var * math.sqrt(2 / 2e5)
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad, y.data)              # y = x * n with x = 1


def test_alpha_dropout_exact_values_and_self_normalisation():
    rate = 0.3
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    b = -a * ALPHA_P * rate
    x = np.random.default_rng(2).normal(size=(500, 400))
    layer = L.AlphaDropout(rate, seed=7, dtype="float64")
    y = layer(mg.Tensor(x, requires_grad=True), training=True)
    # the same seed on ones tells which entries were kept: y(1) is a + b there
    kept = np.isclose(L.AlphaDropout(rate, seed=7, dtype="float64")(
        np.ones_like(x), training=True).data, a + b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y.data, np.where(kept, a * x + b, a * ALPHA_P + b),
                               rtol=1e-14, atol=1e-14)
    assert abs(kept.mean() - 0.7) < 4 * math.sqrt(0.21 / 2e5)
    # for standard-normal input the output keeps mean 0 and variance 1 (the point of it)
    assert abs(y.data.mean()) < 0.01 and abs(y.data.var() - 1.0) < 0.015
    y.backward(np.ones(x.shape))
    assert y._ctx is not None


def test_alpha_dropout_gradient_and_noise_shape():
    rate = 0.5
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    x = mg.Tensor(np.random.default_rng(3).normal(size=(6, 4, 3)), requires_grad=True)
    y = L.AlphaDropout(rate, noise_shape=(None, 1, 3), seed=1, dtype="float64")(
        x, training=True)
    y.backward(np.ones(y.shape))
    # one mask per (sample, channel), shared along axis 1; dy/dx = a where kept, else 0
    assert set(np.unique(x.grad).round(12)) <= {0.0, round(a, 12)}
    assert (x.grad == x.grad[:, :1, :]).all() and 0 < (x.grad != 0).mean() < 1
    with pytest.raises(ValueError, match=r"AlphaDropout .*noise_shape \(2, 1\) does not "
                                         r"broadcast to the input shape \(6, 4\)"):
        L.AlphaDropout(0.5, noise_shape=(2, 1))(np.ones((6, 4)), training=True)


@pytest.mark.parametrize("make", [lambda s: L.GaussianNoise(0.5, seed=s),
                                  lambda s: L.GaussianDropout(0.5, seed=s),
                                  lambda s: L.AlphaDropout(0.5, seed=s)])
def test_seed_gives_the_layer_its_own_stream_and_none_follows_the_global_seed(make):
    x = np.ones((3, 4))
    a, b = make(5), make(5)
    first = a(x, training=True).data
    np.testing.assert_array_equal(first, b(x, training=True).data)
    assert not np.array_equal(first, a(x, training=True).data)   # the stream moves on
    c = make(None)
    mg.random.seed(9)
    one = c(x, training=True).data
    mg.random.seed(9)
    np.testing.assert_array_equal(one, c(x, training=True).data)


def test_activity_regularization_penalty_gradient_and_config():
    layer = L.ActivityRegularization(l1=0.1, l2=0.2, dtype="float64")
    x = mg.Tensor(np.array([[1.0, -2.0], [0.5, 0.0], [3.0, -1.0]]), requires_grad=True)
    y = layer(x)
    assert y is x                                  # the values pass through untouched
    (penalty,) = layer.losses
    expected = (0.1 * np.abs(x.data).sum() + 0.2 * (x.data ** 2).sum()) / 3   # / batch size
    np.testing.assert_allclose(penalty.data, expected, rtol=1e-15)
    penalty.backward()
    np.testing.assert_allclose(x.grad, (0.1 * np.sign(x.data) + 0.4 * x.data) / 3,
                               rtol=1e-15)
    layer(x, training=True)
    assert len(layer.losses) == 1                  # on every call, rebuilt, not accumulated
    cfg = layer.get_config()
    assert cfg["l1"] == 0.1 and cfg["l2"] == 0.2 and "activity_regularizer" not in cfg
    clone = L.ActivityRegularization.from_config(cfg)
    assert clone.l1 == 0.1 and clone.activity_regularizer.l2 == 0.2


@pytest.mark.parametrize("make, exc, match", [
    (lambda: L.GaussianNoise(1.5), ValueError,
     r"GaussianNoise .*stddev must be in \[0.0, 1.0\]"),
    (lambda: L.GaussianNoise("a"), TypeError, r"GaussianNoise .*stddev must be a real number"),
    (lambda: L.GaussianDropout(1.0), ValueError,
     r"GaussianDropout .*rate must be in \[0.0, 1.0\)"),
    (lambda: L.GaussianDropout(-0.1), ValueError, r"GaussianDropout .*rate"),
    (lambda: L.AlphaDropout(1.0), ValueError, r"AlphaDropout .*rate must be in \[0.0, 1.0\)"),
    (lambda: L.AlphaDropout(None), TypeError, r"AlphaDropout .*rate must be a real number"),
    (lambda: L.AlphaDropout(0.5, seed=1.5), TypeError, r"AlphaDropout .*seed must be an int"),
    (lambda: L.ActivityRegularization(l1=-1.0), ValueError, r"L1L2.*l1"),
])
def test_noise_layer_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_rate_zero_is_identity_even_in_training():
    x = mg.Tensor(np.ones((2, 3), np.float32))
    assert L.GaussianDropout(0.0)(x, training=True) is x
    assert L.AlphaDropout(0.0)(x, training=True) is x
    assert L.GaussianNoise(0.0)(x, training=True) is x
